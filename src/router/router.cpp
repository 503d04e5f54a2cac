#include "router/router.h"

#include <chrono>
#include <filesystem>

namespace tandem::router {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ledger_location(const std::string& configured) {
  const std::string path = configured.empty() ? default_ledger_path() : configured;
  if (path != ":memory:") {
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
  }
  return path;
}

}  // namespace

Router::Router(RouterConfig config, int device_n_ctx)
    : config_(std::move(config)), device_n_ctx_(device_n_ctx), ledger_(std::make_unique<Ledger>(ledger_location(config_.ledger_path))) {
  for (const CloudEndpoint& endpoint : config_.clouds) {
    clouds_.push_back(std::make_unique<CloudClient>(endpoint));
    health_.push_back(std::make_unique<CloudHealth>(*clouds_.back(), config_.health));
  }
}

Routed Router::route(const RouteInput& input) {
  TierState tiers;
  tiers.device_available = has_device();
  tiers.device_n_ctx = device_n_ctx_;
  tiers.cloud_configured = !clouds_.empty();

  Routed routed;
  // Device-only requests never touch the network, not even for a probe.
  if (input.preference != Preference::DeviceOnly) {
    for (size_t i = 0; i < clouds_.size() && !routed.cloud; ++i) {
      std::string why;
      if (health_[i]->reachable(why)) {
        routed.cloud = clouds_[i].get();
      } else if (tiers.cloud_down_reason.empty()) {
        tiers.cloud_down_reason = why;
      }
    }
  }
  tiers.cloud_reachable = routed.cloud != nullptr;
  if (config_.daily_budget_fen > 0 && routed.cloud) {
    const double spent = ledger_->cloud_spend_fen_since(start_of_local_day_ms(now_ms()));
    tiers.cloud_budget_left = spent + routed.cloud->endpoint().price.per_call_fen < config_.daily_budget_fen;
  }
  routed.decision = decide(input, tiers, config_.policy);
  if (routed.decision.route != Route::Cloud) routed.cloud = nullptr;
  return routed;
}

void Router::cloud_succeeded(const CloudClient& cloud) {
  for (size_t i = 0; i < clouds_.size(); ++i) {
    if (clouds_[i].get() == &cloud) health_[i]->record_success();
  }
}

void Router::cloud_failed(const CloudClient& cloud, const std::string& why) {
  for (size_t i = 0; i < clouds_.size(); ++i) {
    if (clouds_[i].get() == &cloud) health_[i]->record_failure(why);
  }
}

double Router::cloud_cost_fen(int64_t tokens_in, int64_t tokens_out) const {
  return config_.clouds.empty() ? 0 : config_.clouds.front().price.cost_fen(tokens_in, tokens_out);
}

void Router::record(const LedgerEntry& entry) { ledger_->record(entry); }

}  // namespace tandem::router
