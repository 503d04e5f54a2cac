// The server's shared state, seen by the files that implement its parts:
// http_server.cpp (endpoints, metrics, loading), device_generation.cpp (answers
// from the in-process model) and routed_generation.cpp (the device-cloud router).
#pragma once
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include "router/router.h"
#include "server/http_server.h"
#include "server/openai.h"
#include "server/scheduler.h"

namespace tandem::server {

using Clock = std::chrono::steady_clock;

int64_t unix_time();
int64_t unix_time_ms();
void send_json(httplib::Response& res, int status, const ojson& body);
std::string sse(const ojson& value);

// Counters behind /metrics.
struct Metrics {
  std::atomic<int64_t> requests{0}, completions{0}, rejected_queue_full{0}, errors{0};
  std::atomic<int64_t> prompt_tokens{0}, cached_tokens{0}, generated_tokens{0};
  std::atomic<int64_t> routed_device{0}, routed_cloud{0}, routed_refused{0}, cloud_fallbacks{0};
  std::mutex mutex;
  double generate_seconds = 0, prompt_seconds = 0;
  double last_tokens_per_second = 0;

  void record(const Outcome& outcome);
};

// Where a routed request went and why; added to responses as "tandem": {...}.
struct RouteNote {
  std::string route, reason;
  bool fallback = false;
  ojson json() const;
};

// What the ledger needs once a routed request ends.
struct LedgerContext {
  router::Router* router = nullptr;
  int64_t arrived_ms = 0;
  Clock::time_point started;
  RouteNote note;
  void record(const std::string& model, int64_t tokens_in, int64_t tokens_out, double ttft_ms, double cloud_cost_fen) const;
};

struct HttpServer::Impl {
  ServerOptions options;
  httplib::Server http;
  // httplib's stop() does nothing before listen() is running; these close that window
  // (a load that fails at once stops a server whose listener thread has not started yet).
  std::atomic<bool> listen_entered{false}, stop_requested{false};
  std::atomic<bool> ready{false};
  Metrics metrics;
  std::atomic<int64_t> next_id{1};
  Clock::time_point started = Clock::now();
  std::mutex request_log_mutex;

  std::shared_ptr<model::Model> model;  // null when routing without a device tier
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  generate::TokenTexts texts;
  ModelInfo info;
  uint64_t model_bytes = 0;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<router::Router> router;

  explicit Impl(ServerOptions o) : options(std::move(o)) {}

  void require_ready() const {
    if (!ready) throw ApiError(503, "server_error", "the model is still loading; retry shortly", "", "loading");
  }
  void handle(const httplib::Request& req, httplib::Response& res,
              const std::function<void(const httplib::Request&, httplib::Response&)>& handler);
  void routes();
  void generate(const httplib::Request& req, httplib::Response& res, Endpoint endpoint);
  std::string metrics_text();
  std::string next_response_id(Endpoint endpoint);

  // device_generation.cpp: answers `request` from the in-process model. With a note,
  // responses carry it and the ledger records the request when it ends.
  std::shared_ptr<Job> submit(GenerationRequest generation);
  void serve_device(ApiRequest request, httplib::Response& res, std::shared_ptr<LedgerContext> ledger);

  // routed_generation.cpp
  void serve_routed(const httplib::Request& req, const ojson& body, Endpoint endpoint, httplib::Response& res);
};

}  // namespace tandem::server
