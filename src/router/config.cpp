#include "router/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error.h"
#include "generate/speculative.h"
#include "model_store/model_store.h"

namespace tandem::router {
namespace {

using json = nlohmann::json;

// Reads typed fields off one JSON object and refuses unknown ones, so a typo in a
// config file is an error and not a silently ignored setting.
class Fields {
 public:
  Fields(const json& object, std::string where) : object_(object), where_(std::move(where)) {
    if (!object.is_object()) fail(where_, ": must be a JSON object");
  }
  ~Fields() noexcept(false) {
    if (std::uncaught_exceptions()) return;
    for (const auto& [key, value] : object_.items()) {
      if (!used_.count(key)) fail(where_, ": unknown field '", key, "'");
    }
  }
  template <typename T>
  void read(const char* key, T& out) {
    used_.insert(key);
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return;
    try {
      out = it->get<T>();
    } catch (const json::exception&) {
      fail(where_, ".", key, ": has the wrong type (", it->type_name(), ")");
    }
  }
  const json* child(const char* key) {
    used_.insert(key);
    auto it = object_.find(key);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }
  const std::string& where() const { return where_; }

 private:
  const json& object_;
  std::string where_;
  std::set<std::string> used_;
};

CloudPrice parse_price(const json& value, const std::string& where) {
  CloudPrice price;
  Fields f(value, where);
  f.read("per_call_fen", price.per_call_fen);
  f.read("per_1k_input_fen", price.per_1k_input_fen);
  f.read("per_1k_output_fen", price.per_1k_output_fen);
  if (price.per_call_fen < 0 || price.per_1k_input_fen < 0 || price.per_1k_output_fen < 0) {
    fail(where, ": prices cannot be negative");
  }
  return price;
}

CloudEndpoint parse_cloud(const json& value, const std::string& where) {
  CloudEndpoint cloud;
  cloud.name = "cloud";
  Fields f(value, where);
  f.read("name", cloud.name);
  f.read("base_url", cloud.base_url);
  f.read("model", cloud.model);
  f.read("api_key_env", cloud.api_key_env);
  f.read("timeout_s", cloud.timeout_s);
  if (const json* price = f.child("price")) cloud.price = parse_price(*price, where + ".price");
  if (cloud.base_url.rfind("http://", 0) != 0 && cloud.base_url.rfind("https://", 0) != 0) {
    fail(where, ".base_url: must start with http:// or https:// (got '", cloud.base_url, "')");
  }
  if (cloud.model.empty()) fail(where, ".model: is required");
  if (!(cloud.timeout_s > 0)) fail(where, ".timeout_s: must be positive");
  return cloud;
}

}  // namespace

Strictness parse_strictness_setting(const std::string& name, const std::string& where) {
  const auto parsed = privacy::parse_strictness(name);
  if (!parsed) fail(where, ": '", name, "' is not low, balanced or strict");
  return *parsed;
}

std::string CloudEndpoint::api_key() const {
  if (api_key_env.empty()) return "";
  const char* value = std::getenv(api_key_env.c_str());
  return value ? value : "";
}

RouterConfig parse_router_config(const std::string& json_text, const std::string& where) {
  const json root = json::parse(json_text, nullptr, false);
  if (root.is_discarded()) fail(where, ": not valid JSON");
  RouterConfig config;
  Fields f(root, where);
  std::string preference = "auto";
  f.read("preference", preference);
  const auto parsed = parse_preference(preference);
  if (!parsed) fail(where, ".preference: '", preference, "' is not device-only, auto or cloud-preferred");
  config.preference = *parsed;
  f.read("difficulty_threshold", config.policy.difficulty_threshold);
  f.read("redact_to_cloud", config.policy.redact_to_cloud);
  std::string strictness = privacy::strictness_name(config.policy.strictness);
  f.read("privacy", strictness);
  config.policy.strictness = parse_strictness_setting(strictness, where + ".privacy");
  f.read("daily_budget_fen", config.daily_budget_fen);
  f.read("ledger", config.ledger_path);
  if (config.daily_budget_fen < 0) fail(where, ".daily_budget_fen: cannot be negative");
  if (const json* device = f.child("device")) {
    DeviceTier tier;
    Fields d(*device, where + ".device");
    d.read("model", tier.model);
    d.read("ctx", tier.n_ctx);
    d.read("threads", tier.n_threads);
    d.read("parallel", tier.parallel);
    d.read("draft_model", tier.draft_model);
    d.read("draft_k", tier.draft_k);
    if (tier.draft_k < 0 || tier.draft_k > generate::kMaxDraftTokens)
      fail(where, ".device.draft_k: must be from 0 (the default) to ", generate::kMaxDraftTokens, ", got ", tier.draft_k);
    if (tier.model.empty()) fail(where, ".device.model: is required (a GGUF path or installed:NAME)");
    config.device = tier;
  }
  if (const json* clouds = f.child("cloud")) {
    const json list = clouds->is_array() ? *clouds : json::array({*clouds});
    for (size_t i = 0; i < list.size(); ++i) {
      config.clouds.push_back(parse_cloud(list[i], where + ".cloud[" + std::to_string(i) + "]"));
    }
  }
  if (const json* health = f.child("health")) {
    Fields h(*health, where + ".health");
    h.read("probe_timeout_ms", config.health.probe_timeout_ms);
    h.read("probe_cache_s", config.health.probe_cache_s);
    h.read("failures_to_open", config.health.failures_to_open);
    h.read("open_s", config.health.open_s);
  }
  return config;
}

RouterConfig load_router_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("cannot read the router config '", path, "'");
  std::stringstream text;
  text << in.rdbuf();
  RouterConfig config = parse_router_config(text.str(), path);
  // A relative device model path is relative to the config file.
  if (config.device && config.device->model.rfind("installed:", 0) != 0 &&
      std::filesystem::path(config.device->model).is_relative()) {
    config.device->model = (std::filesystem::path(path).parent_path() / config.device->model).lexically_normal().string();
  }
  if (config.device && !config.device->draft_model.empty() && std::filesystem::path(config.device->draft_model).is_relative()) {
    config.device->draft_model =
        (std::filesystem::path(path).parent_path() / config.device->draft_model).lexically_normal().string();
  }
  return config;
}

std::string resolve_device_model(const DeviceTier& device) {
  constexpr std::string_view prefix = "installed:";
  if (device.model.rfind(prefix, 0) != 0) return device.model;
  const auto installed = model_store::ModelStore().find(device.model.substr(prefix.size()));
  return installed ? installed->path : "";
}

}  // namespace tandem::router
