#include "router/policy.h"

#include <cstdio>

#include "generate/generation.h"

namespace tandem::router {
namespace {

Decision make(Route route, std::string reason) {
  Decision d;
  d.route = route;
  d.reason = std::move(reason);
  return d;
}

std::string two_decimals(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return buffer;
}

// Why the device cannot take this request, or "" when it can.
std::string device_limit(const RouteInput& input, const TierState& tiers) {
  if (!tiers.device_available) return "no_device_model";
  if (input.prompt_tokens > generate::max_prompt_tokens(tiers.device_n_ctx)) return "context";
  return "";
}

}  // namespace

std::optional<Preference> parse_preference(std::string_view name) {
  if (name == "device-only" || name == "device") return Preference::DeviceOnly;
  if (name == "auto") return Preference::Auto;
  if (name == "cloud-preferred" || name == "cloud") return Preference::CloudPreferred;
  return std::nullopt;
}

const char* preference_name(Preference preference) {
  switch (preference) {
    case Preference::DeviceOnly: return "device-only";
    case Preference::CloudPreferred: return "cloud-preferred";
    default: return "auto";
  }
}

const char* route_name(Route route) {
  switch (route) {
    case Route::Device: return "device";
    case Route::Cloud: return "cloud";
    default: return "refused";
  }
}

std::string Decision::header() const { return std::string(route_name(route)) + "; reason=" + reason; }

Strictness effective_strictness(const RouteInput& input, const PolicyOptions& options) {
  return input.strictness ? stricter(*input.strictness, options.strictness) : options.strictness;
}

Decision decide(const RouteInput& input, const TierState& tiers, const PolicyOptions& options) {
  const std::string limit = device_limit(input, tiers);
  const bool cloud_usable = tiers.cloud_configured && tiers.cloud_reachable;
  // Every request is checked, whatever decides it, and every reason says what the check found.
  PrivacyVerdict verdict = check_privacy(input.text, input.data_tags, effective_strictness(input, options));
  const std::string audit = ";privacy:" + verdict.describe();
  const auto decided = [&](Decision d) {
    if (!verdict.is_private || d.reason.rfind("privacy:", 0) != 0) d.reason += audit;
    d.privacy = std::move(verdict);
    return d;
  };

  // 1. The user's preference, when it is device-only, is absolute.
  if (input.preference == Preference::DeviceOnly) {
    if (!limit.empty()) return decided(make(Route::Refused, "preference:device-only;device:" + limit));
    return decided(make(Route::Device, "preference:device-only"));
  }

  // 2. Privacy: a private request stays on the device unless the device cannot serve it
  // or it needs a cloud service (a booking with a passport number). Then it goes out
  // redacted where the user allowed redaction, or is refused with how to allow it.
  // Data known only by an app tag (a photo, a message thread) has no redacted form.
  if (verdict.is_private) {
    const std::string why = "privacy:" + verdict.describe();
    // Whether it needs a service is a matter of what is asked now, not of the history.
    if (!input.task_text.empty()) verdict.needs_cloud = needs_cloud_service(input.task_text);
    const bool needs_cloud = verdict.needs_cloud || input.wants_tools;
    if (limit.empty() && !needs_cloud) return decided(make(Route::Device, why));
    const std::string need = !limit.empty() ? "device:" + limit : "needs_cloud";
    if (options.redact_to_cloud && !verdict.from_tag && cloud_usable && tiers.cloud_budget_left) {
      Decision d = make(Route::Cloud, why + ";redacted;" + need);
      d.redact = true;
      return decided(std::move(d));
    }
    std::string how;
    if (!verdict.from_tag && !options.redact_to_cloud) how = "enable redact_to_cloud";
    if (limit.empty()) how += how.empty() ? "use device-only" : " or use device-only";
    return decided(make(Route::Refused, why + ";" + need + (how.empty() ? "" : ";" + how)));
  }

  // 3. Network: no cloud means the device.
  if (!cloud_usable) {
    const std::string why = !tiers.cloud_configured ? "no_cloud" : tiers.cloud_down_reason;
    if (!limit.empty()) return decided(make(Route::Refused, "network:" + why + ";device:" + limit));
    return decided(make(Route::Device, "network:" + why));
  }

  // 4. Capability and difficulty (the preference decides ties toward the cloud).
  Decision d;
  d.difficulty = estimate_difficulty(input.text);
  if (!limit.empty()) {
    d.route = Route::Cloud;
    d.reason = "capability:" + limit;
  } else if (input.wants_tools) {
    d.route = Route::Cloud;
    d.reason = "capability:tools";
  } else if (input.preference == Preference::CloudPreferred) {
    d.route = Route::Cloud;
    d.reason = "preference:cloud-preferred";
  } else if (d.difficulty.score >= options.difficulty_threshold) {
    d.route = Route::Cloud;
    d.reason = "difficulty:" + two_decimals(d.difficulty.score) + "(" + d.difficulty.strongest + ")";
  } else {
    d.route = Route::Device;
    d.reason = "difficulty:" + two_decimals(d.difficulty.score);
    return decided(std::move(d));
  }

  // 5. Cost: past the daily budget the device answers what it can.
  if (!tiers.cloud_budget_left) {
    if (!limit.empty()) return decided(make(Route::Refused, "cost:daily_budget;device:" + limit));
    Decision device = make(Route::Device, "cost:daily_budget");
    device.difficulty = d.difficulty;
    return decided(std::move(device));
  }
  return decided(std::move(d));
}

}  // namespace tandem::router
