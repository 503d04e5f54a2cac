// The device-cloud router: the tiers from a RouterConfig, their live state (cloud
// health, today's cloud spend from the ledger), and the policy over them. It decides;
// the server and the chat command carry the request out (and fall back) and record
// the outcome here.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "router/cloud_client.h"
#include "router/config.h"
#include "router/ledger.h"
#include "router/policy.h"

namespace tandem::router {

struct Routed {
  Decision decision;
  const CloudClient* cloud = nullptr;  // the endpoint to use when decision.route is Cloud
};

class Router {
 public:
  // `device_n_ctx` 0: no device tier (no model configured, or not installed).
  Router(RouterConfig config, int device_n_ctx);

  const RouterConfig& config() const { return config_; }
  bool has_device() const { return device_n_ctx_ > 0; }

  // `input.preference` is the request's own (or the configured default).
  Routed route(const RouteInput& input);

  // Outcome of a cloud call, for the circuit breaker.
  void cloud_succeeded(const CloudClient& cloud);
  void cloud_failed(const CloudClient& cloud, const std::string& why);

  // What a request of this size costs on the first cloud (the all-cloud baseline).
  double cloud_cost_fen(int64_t tokens_in, int64_t tokens_out) const;
  void record(const LedgerEntry& entry);
  Ledger& ledger() { return *ledger_; }

 private:
  RouterConfig config_;
  int device_n_ctx_;
  std::vector<std::unique_ptr<CloudClient>> clouds_;
  std::vector<std::unique_ptr<CloudHealth>> health_;
  std::unique_ptr<Ledger> ledger_;
};

}  // namespace tandem::router
