// The router's configuration: tiers (device models and cloud endpoints) and the
// policy knobs, read from a JSON file (format: docs/routing.md) or built from
// `tandem serve --cloud-url ...` flags.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "router/policy.h"
#include "router/pricing.h"

namespace tandem::router {

struct CloudEndpoint {
  std::string name;         // for logs and the ledger ("cloud" by default)
  std::string base_url;     // OpenAI-compatible base, e.g. http://10.0.0.2:8000/v1
  std::string model;        // sent as "model"
  std::string api_key_env;  // environment variable holding the key ("" : none)
  double timeout_s = 30;    // connect, and each read while waiting for the answer
  CloudPrice price;
  std::string api_key() const;  // "" when unset
};

struct DeviceTier {
  std::string model;  // a GGUF path, or "installed:NAME" from `tandem models`
  int n_ctx = 0, n_threads = 0, parallel = 1;
  std::string draft_model;  // "" : none; a smaller GGUF with the same vocabulary (speculative decoding)
  int draft_k = 0;          // tokens drafted per pass (0: the server's default)
};

struct HealthOptions {
  int probe_timeout_ms = 800;  // GET {base_url}/models
  double probe_cache_s = 5;    // a probe result stands this long
  int failures_to_open = 3;    // consecutive failures that open the circuit
  double open_s = 30;          // how long an open circuit keeps the cloud off
};

struct RouterConfig {
  Preference preference = Preference::Auto;
  PolicyOptions policy;
  double daily_budget_fen = 0;  // 0: no budget
  std::string ledger_path;      // "" : default_ledger_path(); ":memory:" keeps none on disk
  std::optional<DeviceTier> device;
  std::vector<CloudEndpoint> clouds;
  HealthOptions health;
};

// tandem::Error naming the file and the field when something is wrong.
RouterConfig load_router_config(const std::string& path);
RouterConfig parse_router_config(const std::string& json_text, const std::string& where);

// "low", "balanced" or "strict"; tandem::Error naming `where` otherwise.
Strictness parse_strictness_setting(const std::string& name, const std::string& where);

// The GGUF path of the device tier: the path itself, or the installed model's path;
// "" when the model named "installed:NAME" is not installed (the device tier is absent).
std::string resolve_device_model(const DeviceTier& device);

}  // namespace tandem::router
