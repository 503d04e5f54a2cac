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

Decision decide(const RouteInput& input, const TierState& tiers, const PolicyOptions& options) {
  const std::string limit = device_limit(input, tiers);
  const bool cloud_usable = tiers.cloud_configured && tiers.cloud_reachable;

  // 1. The user's preference, when it is device-only, is absolute.
  if (input.preference == Preference::DeviceOnly) {
    if (!limit.empty()) return make(Route::Refused, "preference:device-only;device:" + limit);
    return make(Route::Device, "preference:device-only");
  }

  // 2. Privacy: detected PII or an app tag keeps the request on the device.
  std::vector<PiiFinding> findings = find_pii(input.text);
  std::string private_kind = findings.empty() ? "" : findings.front().kind;
  for (const std::string& tag : input.data_tags) {
    if (private_kind.empty() && is_private_tag(tag)) private_kind = "tag_" + tag;
  }
  if (!private_kind.empty()) {
    Decision d;
    if (limit.empty()) {
      d = make(Route::Device, "privacy:" + private_kind);
    } else if (options.redact_to_cloud && !findings.empty() && private_kind.rfind("tag_", 0) != 0 && cloud_usable &&
               tiers.cloud_budget_left) {
      // Only detected values can be replaced; tagged data (a photo, a message
      // thread) has no safe redacted form, so it never leaves.
      d = make(Route::Cloud, "privacy:" + private_kind + ";redacted;device:" + limit);
      d.redact = true;
    } else {
      d = make(Route::Refused, "privacy:" + private_kind + ";device:" + limit);
    }
    d.findings = std::move(findings);
    return d;
  }

  // 3. Network: no cloud means the device.
  if (!cloud_usable) {
    const std::string why = !tiers.cloud_configured ? "no_cloud" : tiers.cloud_down_reason;
    if (!limit.empty()) return make(Route::Refused, "network:" + why + ";device:" + limit);
    return make(Route::Device, "network:" + why);
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
    return d;
  }

  // 5. Cost: past the daily budget the device answers what it can.
  if (!tiers.cloud_budget_left) {
    if (!limit.empty()) return make(Route::Refused, "cost:daily_budget;device:" + limit);
    Decision device = make(Route::Device, "cost:daily_budget");
    device.difficulty = d.difficulty;
    return device;
  }
  return d;
}

}  // namespace tandem::router
