// The server's shared state, seen by the files that implement its parts:
// http_server.cpp (endpoints, metrics, loading, starting each generation) and
// answer.cpp (writing a generation's pieces out). What a request does (route, device,
// cloud, fallback, ledger) is router::RoutedGeneration's; the server only speaks HTTP.
#pragma once
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include "assistant/app.h"
#include "router/routed_generation.h"
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
  std::atomic<int64_t> drafted_tokens{0}, draft_accepted_tokens{0};
  std::atomic<int64_t> routed_device{0}, routed_cloud{0}, routed_refused{0}, cloud_fallbacks{0};
  std::mutex mutex;
  double generate_seconds = 0, prompt_seconds = 0;
  double last_tokens_per_second = 0;

  void record(const Outcome& outcome);
};

// Where a routed request went and why, as responses carry it: "tandem": {...}.
ojson route_json(const router::RouteNote& note);

struct AppJob;  // assistant_http.cpp: a summary or writing job

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
  std::optional<tokenizer::ChatFormat> chat_format;  // the device model's (for the assistant apps)
  std::unique_ptr<assistant::Tasks> tasks;           // the apps' presets (docs/assistant.md)

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

  // assistant_http.cpp: /v1/tandem/summarize, /v1/tandem/write, /v1/tandem/tasks.
  void assistant_routes();
  assistant::Engine assistant_engine() const;
  void run_app(std::unique_ptr<AppJob> app, const ojson& body, httplib::Response& res);

  // answer.cpp: writes a started generation out, as one JSON response or as SSE chunks.
  // `reply` says how (endpoint, stream, usage, echo, logprobs); with a router every
  // response carries the route.
  void answer(std::shared_ptr<router::RoutedGeneration> generation, const ApiRequest& reply, httplib::Response& res);
};

}  // namespace tandem::server
