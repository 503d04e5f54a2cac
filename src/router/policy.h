// The routing policy: one function from what a request is (RouteInput) and what the
// tiers can do right now (TierState) to where it goes and why (Decision); its only
// input besides those is the embedded privacy model. The rules apply in order, hard
// before soft (docs/routing.md):
//   1. user preference  2. privacy  3. network  4. capability and difficulty  5. cost
// Privacy fails closed: every request is checked, every reason records the verdict,
// and a private request reaches the cloud only redacted, and only when the user allowed it.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "router/difficulty.h"
#include "router/privacy_check.h"

namespace tandem::router {

enum class Preference { DeviceOnly, Auto, CloudPreferred };
enum class Route { Device, Cloud, Refused };

// "device-only", "auto", "cloud-preferred"; nullopt for anything else.
std::optional<Preference> parse_preference(std::string_view name);
const char* preference_name(Preference preference);
const char* route_name(Route route);

struct RouteInput {
  std::string text;                    // everything the model would read (all message contents)
  std::string task_text;               // what is asked now (the last user message); "" : the whole text
  Preference preference = Preference::Auto;
  std::vector<std::string> data_tags;  // app-declared data kinds ("photos", "messages", ...)
  bool wants_tools = false;            // tools / functions / tool_choice in the request
  int prompt_tokens = 0;               // with the device tokenizer; 0 when there is no device model
  // The request's own privacy setting; it applies only where it is stricter than the configured one.
  std::optional<Strictness> strictness;
};

struct TierState {
  bool device_available = false;
  int device_n_ctx = 0;
  bool cloud_configured = false;
  bool cloud_reachable = false;
  std::string cloud_down_reason;    // "offline", "circuit_open", ... when not reachable
  bool cloud_budget_left = true;    // the daily cloud budget still covers one call
};

struct PolicyOptions {
  double difficulty_threshold = 0.5;  // score >= threshold: the cloud when allowed
  bool redact_to_cloud = false;       // private requests the device cannot serve, or that need the cloud, may go redacted
  Strictness strictness = Strictness::Balanced;  // the privacy classifier's operating point
};

struct Decision {
  Route route = Route::Device;
  // The rule that decided, then the privacy verdict when it was not the rule:
  // "privacy:cn_id_number(score=0.98)", "difficulty:0.72(booking);privacy:none_found(score=0.07)".
  std::string reason;
  bool redact = false;     // send to the cloud with private spans replaced by placeholders
  PrivacyVerdict privacy;
  Difficulty difficulty;
  // X-Tandem-Route value: "device; reason=privacy:email"
  std::string header() const;
};

Decision decide(const RouteInput& input, const TierState& tiers, const PolicyOptions& options);

// The strictness that applies: the request's own only where it is stricter.
Strictness effective_strictness(const RouteInput& input, const PolicyOptions& options);

}  // namespace tandem::router
