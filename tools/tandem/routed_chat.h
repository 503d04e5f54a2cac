// `tandem chat --router CONFIG`: each turn is a router::RoutedGeneration, the same
// that `tandem serve --router` runs (decide, device or cloud, fallback, redaction,
// ledger), in this process and without HTTP of its own; the cloud tier is the only
// network use.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "generate/generation.h"
#include "model/context.h"

namespace tandem::cli {

struct RoutedChatOptions {
  std::string router_config;
  std::string model;  // "" : the config's device tier
  std::string system_prompt;
  std::string chat_template;  // "" : the model's own, chatml when it has none that is recognised
  model::ContextOptions context;  // n_ctx / n_threads 0: the config's device tier
  generate::GenerateOptions generation;
  std::optional<nlohmann::ordered_json> json_schema;  // what the cloud gets as response_format
  std::string privacy;  // "" : the config's strictness
};

void run_routed_chat(const RoutedChatOptions& options);

}  // namespace tandem::cli
