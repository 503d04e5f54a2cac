// `tandem chat --router CONFIG`: the chat loop as a client of an in-process,
// loopback-only `tandem serve --router`, so chat routes, falls back and records to
// the ledger exactly as the server does.
#pragma once
#include <string>

namespace tandem::cli {

struct RoutedChatOptions {
  std::string router_config;
  std::string model;  // "" : the config's device tier
  std::string system_prompt;
  int n_ctx = 0, n_threads = 0, max_tokens = -1;
  float temperature = 0.8f;
  std::string privacy;  // "" : the config's strictness
};

void run_routed_chat(const RoutedChatOptions& options);

}  // namespace tandem::cli
