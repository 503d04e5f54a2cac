// `tandem serve`: an OpenAI-compatible HTTP server over the Scheduler, plus
// /health, /metrics and the chat page. Endpoints and fields: docs/api.md.
#pragma once
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "router/config.h"

namespace tandem::server {

struct ServerOptions {
  std::string model_path;
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (bind() returns it)
  std::string api_key;  // empty: no authentication
  int n_slots = 1;
  int queue_capacity = 16;
  int n_ctx = 0;
  int n_threads = 0;
  // Speculative decoding with a draft model (same vocabulary): requests use it unless
  // they ask otherwise ("speculative" in docs/api.md).
  std::string draft_model_path;
  int draft_k = 4;
  std::string chat_template;  // "" : the model's own, chatml when it has none
  size_t max_body_bytes = size_t(2) << 20;
  uint64_t memory_budget_bytes = 0;  // 0: none; the model's weights must fit in it
  std::string chat_page;  // HTML served at /
  std::string request_log;  // append every POST body here, one per line ("" : no log)
  // With a router config, requests are routed between the device model (model_path,
  // or the config's device tier) and its cloud endpoints (docs/routing.md).
  std::optional<router::RouterConfig> routing;
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();

  int bind();     // binds host:port, returns the port; tandem::Error when it cannot
  void listen();  // serves until stop(); /health answers 503 until load() returns
  void load();    // loads the model; tandem::Error on failure
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem::server
