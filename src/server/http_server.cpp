#include "server/http_server.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <mutex>

#include "core/error.h"
#include "server/serve_budget.h"
#include "server/server_impl.h"
#include "tokenizer/chat_template.h"

namespace tandem::server {
namespace {

uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * uint64_t(sysconf(_SC_PAGESIZE));
}

void send_error(httplib::Response& res, const ApiError& error) { send_json(res, error.status, error_json(error)); }

// httplib's default sets SO_REUSEPORT, which lets a second server bind a port another
// one holds (requests then alternate between them). SO_REUSEADDR alone still allows a
// restart while old connections linger in TIME_WAIT.
void listen_socket_options(int sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

// Why host:port cannot be bound (httplib only says that it failed): one bind of our own.
std::string bind_failure(const std::string& host, int port) {
  addrinfo hints{}, *found = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  if (const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0)
    return std::string("cannot resolve the address: ") + gai_strerror(rc);
  std::string why = "unknown reason";
  for (addrinfo* a = found; a; a = a->ai_next) {
    const int sock = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (sock < 0) continue;
    listen_socket_options(sock);
    const bool bound = ::bind(sock, a->ai_addr, a->ai_addrlen) == 0;
    why = bound ? "unknown reason" : errno == EADDRINUSE ? "the port is in use by another process"
                                   : errno == EADDRNOTAVAIL ? "not an address of this machine"
                                                            : std::strerror(errno);
    close(sock);
    if (!bound) break;
  }
  freeaddrinfo(found);
  return why;
}

constexpr size_t kMaxHeaders = 256, kMaxHeaderBytes = 64 << 10;

// A gauge or counter value: whole numbers (bytes, tokens) as integers, never 1.2e+07.
std::string metric_value(double value) {
  char text[64];
  if (value == std::floor(value) && std::fabs(value) < 9e15) {
    std::snprintf(text, sizeof text, "%lld", (long long)value);
  } else {
    std::snprintf(text, sizeof text, "%.6g", value);
  }
  return text;
}

}  // namespace

int64_t unix_time() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int64_t unix_time_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void send_json(httplib::Response& res, int status, const ojson& body) {
  res.status = status;
  res.set_content(to_wire(body), "application/json");
}

std::string sse(const ojson& value) { return "data: " + to_wire(value) + "\n\n"; }

void Metrics::record(const Outcome& outcome) {
  ++completions;
  prompt_tokens += outcome.n_prompt;
  cached_tokens += outcome.n_cached;
  generated_tokens += outcome.n_generated;
  drafted_tokens += outcome.n_drafted;
  draft_accepted_tokens += outcome.n_draft_accepted;
  std::lock_guard lock(mutex);
  generate_seconds += outcome.generate_seconds;
  prompt_seconds += outcome.prompt_seconds;
  if (outcome.generate_seconds > 0) last_tokens_per_second = outcome.n_generated / outcome.generate_seconds;
}

void HttpServer::Impl::handle(const httplib::Request& req, httplib::Response& res,
                              const std::function<void(const httplib::Request&, httplib::Response&)>& handler) {
  try {
    handler(req, res);
  } catch (const ApiError& error) {
    send_error(res, error);
  } catch (const Error& error) {
    send_error(res, ApiError(400, "invalid_request_error", error.what()));
  } catch (const std::exception& error) {
    send_error(res, ApiError(500, "server_error", error.what()));
  }
}

std::string HttpServer::Impl::next_response_id(Endpoint endpoint) {
  return std::string(endpoint == Endpoint::ChatCompletions ? "chatcmpl-" : "cmpl-") + std::to_string(next_id++);
}

void HttpServer::Impl::routes() {
  http.set_socket_options(listen_socket_options);
  // An idle keep-alive connection holds its thread for this long, and stop() waits for
  // every thread: httplib's 5 s default would make SIGTERM take up to 5 s.
  http.set_keep_alive_timeout(1);
  http.set_payload_max_length(options.max_body_bytes);
  // One thread per connection: every slot and queued request, plus health/metrics checks.
  const size_t threads = size_t(options.n_slots + options.queue_capacity + 8);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    ++metrics.requests;
    // httplib bounds each header line (8 KiB) but not their number: no request needs more.
    size_t header_bytes = 0;
    for (const auto& [name, value] : req.headers) header_bytes += name.size() + value.size() + 4;
    if (req.headers.size() > kMaxHeaders || header_bytes > kMaxHeaderBytes) {
      send_error(res, ApiError(431, "invalid_request_error",
                               "the request has " + std::to_string(req.headers.size()) + " headers of " +
                                   std::to_string(header_bytes) + " bytes; at most " + std::to_string(kMaxHeaders) +
                                   " and " + std::to_string(kMaxHeaderBytes) + " bytes are accepted"));
      return httplib::Server::HandlerResponse::Handled;
    }

    const bool protected_path = req.path.rfind("/v1/", 0) == 0 || req.path == "/metrics";
    if (options.api_key.empty() || !protected_path) return httplib::Server::HandlerResponse::Unhandled;
    if (req.get_header_value("Authorization") == "Bearer " + options.api_key) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    send_error(res, ApiError(401, "invalid_request_error",
                             req.has_header("Authorization") ? "incorrect API key" : "missing API key (Authorization: Bearer KEY)",
                             "", "invalid_api_key"));
    return httplib::Server::HandlerResponse::Handled;
  });
  http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    ++metrics.errors;
    if (!res.body.empty()) return;
    if (res.status == 413) {
      send_error(res, ApiError(413, "invalid_request_error",
                               "the request body is larger than " + std::to_string(options.max_body_bytes) + " bytes"));
    } else if (res.status == 404) {
      send_error(res, ApiError(404, "invalid_request_error", "no endpoint " + req.method + " " + req.path, "", "not_found"));
    } else {
      send_error(res, ApiError(res.status, "invalid_request_error", "request failed with status " + std::to_string(res.status)));
    }
  });

  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    if (ready) {
      send_json(res, 200, {{"status", "ok"}});
    } else {
      send_json(res, 503, {{"status", "loading"}});
    }
  });
  http.Get("/", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(options.chat_page.empty() ? std::string("<!doctype html><title>tandem</title><p>tandem serve is running.")
                                              : options.chat_page,
                    "text/html; charset=utf-8");
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_text(), "text/plain; version=0.0.4");
  });
  http.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
    handle(req, res, [this](const httplib::Request&, httplib::Response& res) {
      require_ready();
      ojson data = ojson::array();
      if (model) {
        data.push_back({{"id", info.id}, {"object", "model"}, {"created", unix_time()}, {"owned_by", "tandem"},
                        {"meta", {{"tier", "device"}, {"n_ctx", info.n_ctx}, {"n_vocab", tokenizer->n_vocab()},
                                  {"size_bytes", model_bytes}}}});
      }
      if (router) {
        for (const auto& cloud : router->config().clouds) {
          data.push_back({{"id", cloud.model}, {"object", "model"}, {"created", unix_time()}, {"owned_by", cloud.name},
                          {"meta", {{"tier", "cloud"}, {"base_url", cloud.base_url}}}});
        }
      }
      send_json(res, 200, {{"object", "list"}, {"data", data}});
    });
  });
  http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle(req, res, [this](const httplib::Request& req, httplib::Response& res) { generate(req, res, Endpoint::ChatCompletions); });
  });
  http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle(req, res, [this](const httplib::Request& req, httplib::Response& res) { generate(req, res, Endpoint::Completions); });
  });
  assistant_routes();
}

namespace {

// How to write the answer when the device cannot parse the request (no device model,
// or a request only the cloud can serve): the endpoint and the streaming fields.
ApiRequest reply_shape(const ojson& body, Endpoint endpoint) {
  ApiRequest reply;
  reply.endpoint = endpoint;
  reply.stream = body.contains("stream") && body["stream"] == true;
  reply.include_usage = body.contains("stream_options") && body["stream_options"].is_object() &&
                        body["stream_options"].value("include_usage", false);
  return reply;
}

}  // namespace

void HttpServer::Impl::generate(const httplib::Request& req, httplib::Response& res, Endpoint endpoint) {
  if (!options.request_log.empty()) {
    // One line per body (JSON bodies hold no raw newlines), for audits and the router tests.
    std::lock_guard lock(request_log_mutex);
    std::ofstream(options.request_log, std::ios::app) << req.path << ' ' << req.body << '\n';
  }
  require_ready();
  const ojson body = parse_body(req.body);

  router::RoutedRequest request;
  request.cloud_path = endpoint == Endpoint::ChatCompletions ? "/chat/completions" : "/completions";
  // The device's view of the request: its prompt length decides whether the device can
  // take it. Tool calls are the cloud's business, so the device may reject them.
  ApiRequest reply;
  std::optional<ApiError> device_error;
  if (model) {
    try {
      reply = endpoint == Endpoint::ChatCompletions ? parse_chat_request(body, info) : parse_completion_request(body, info);
      request.device = reply.generation;
    } catch (const ApiError& error) {
      if (!router) throw;
      if (error.code == "context_length_exceeded") {
        request.device_prompt_tokens = info.n_ctx;
      } else if (!router::request_wants_tools(body)) {
        throw;
      }
      device_error = error;
      reply = reply_shape(body, endpoint);
    }
  } else {
    reply = reply_shape(body, endpoint);
  }
  if (router) {
    const router::RequestRouting own = router::request_routing(body, req.get_header_value("X-Tandem-Preference"),
                                                               req.get_header_value("X-Tandem-Data-Tags"),
                                                               req.get_header_value("X-Tandem-Privacy"));
    request.preference = own.preference;
    request.data_tags = own.data_tags;
    request.strictness = own.strictness;
  }
  request.stream = reply.stream;
  request.body = body;

  auto generation = std::make_shared<router::RoutedGeneration>(
      router.get(), router::Device{scheduler.get(), info.id}, std::move(request));
  router::RouteNote note;
  try {
    note = generation->start();
  } catch (const QueueFull& full) {
    ++metrics.rejected_queue_full;
    throw ApiError(429, "rate_limit_error", full.what(), "", "queue_full");
  } catch (const router::CloudFailed& failed) {
    ++metrics.routed_cloud;
    throw ApiError(failed.failure == "timeout" ? 504 : 502, "server_error", failed.what(), "", "cloud_failed");
  }
  res.set_header("X-Tandem-Route", note.header());  // the header is always there
  if (router) {
    std::fprintf(stderr, "tandem route: %s\n", note.header().c_str());
    const router::Route decided = generation->decision().route;
    ++(decided == router::Route::Device ? metrics.routed_device
                                        : decided == router::Route::Cloud ? metrics.routed_cloud : metrics.routed_refused);
    if (note.fallback) ++metrics.cloud_fallbacks;
  }
  if (generation->refused()) {
    throw ApiError(403, "invalid_request_error", generation->refusal_message(), "", "route_refused");
  }
  if (generation->device_cannot_serve()) {
    throw device_error.value_or(ApiError(400, "invalid_request_error", "the device cannot serve this request"));
  }
  answer(std::move(generation), reply, res);
}

std::string HttpServer::Impl::metrics_text() {
  SchedulerStats s;
  if (scheduler) s = scheduler->stats();
  double generate_seconds, prompt_seconds, last_tps;
  {
    std::lock_guard lock(metrics.mutex);
    generate_seconds = metrics.generate_seconds;
    prompt_seconds = metrics.prompt_seconds;
    last_tps = metrics.last_tokens_per_second;
  }
  struct Line {
    const char *name, *type, *help;
    double value;
  };
  const Line lines[] = {
      {"tandem_up", "gauge", "1 when the model is loaded", ready ? 1.0 : 0.0},
      {"tandem_http_requests_total", "counter", "HTTP requests received", double(metrics.requests)},
      {"tandem_http_errors_total", "counter", "HTTP responses with status >= 400", double(metrics.errors)},
      {"tandem_completions_total", "counter", "generation requests finished", double(metrics.completions)},
      {"tandem_completions_cancelled_total", "counter", "generations cancelled by a client disconnect",
       double(s.cancelled)},
      {"tandem_requests_rejected_queue_full_total", "counter", "requests refused with 429",
       double(metrics.rejected_queue_full)},
      {"tandem_prompt_tokens_total", "counter", "prompt tokens of finished requests", double(metrics.prompt_tokens)},
      {"tandem_prompt_tokens_cached_total", "counter", "prompt tokens reused from a slot's cache",
       double(metrics.cached_tokens)},
      {"tandem_generated_tokens_total", "counter", "tokens generated (finished requests)",
       double(metrics.generated_tokens)},
      {"tandem_decoded_tokens_total", "counter", "tokens generated by all slots so far", double(s.generated_tokens)},
      {"tandem_draft_tokens_total", "counter", "speculative decoding: drafted tokens the model verified",
       double(metrics.drafted_tokens)},
      {"tandem_draft_accepted_tokens_total", "counter", "speculative decoding: drafted tokens it kept",
       double(metrics.draft_accepted_tokens)},
      {"tandem_prompt_seconds_total", "counter", "time spent evaluating prompts", prompt_seconds},
      {"tandem_generate_seconds_total", "counter", "time spent generating", generate_seconds},
      {"tandem_tokens_per_second", "gauge", "generation speed of the last finished request", last_tps},
      {"tandem_routed_device_total", "counter", "routed requests answered on the device", double(metrics.routed_device)},
      {"tandem_routed_cloud_total", "counter", "routed requests sent to the cloud", double(metrics.routed_cloud)},
      {"tandem_routed_refused_total", "counter", "routed requests refused", double(metrics.routed_refused)},
      {"tandem_cloud_fallbacks_total", "counter", "cloud failures answered by the device", double(metrics.cloud_fallbacks)},
      {"tandem_queue_depth", "gauge", "requests waiting for a slot", double(s.queue_depth)},
      {"tandem_slots_busy", "gauge", "slots generating", double(s.slots_busy)},
      {"tandem_slots_total", "gauge", "parallel slots (--parallel)", double(s.slots_total)},
      {"tandem_memory_resident_bytes", "gauge", "resident memory of the process", double(resident_bytes())},
      {"tandem_model_bytes", "gauge", "size of the model file (mapped)", double(model_bytes)},
      {"tandem_memory_budget_bytes", "gauge", "--mem-budget (0: none)", double(options.memory_budget_bytes)},
      {"tandem_uptime_seconds", "gauge", "seconds since start",
       std::chrono::duration<double>(Clock::now() - started).count()},
  };
  std::ostringstream out;
  for (const Line& l : lines) {
    out << "# HELP " << l.name << ' ' << l.help << "\n# TYPE " << l.name << ' ' << l.type << '\n'
        << l.name << ' ' << metric_value(l.value) << '\n';
  }
  return out.str();
}

HttpServer::HttpServer(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) { impl_->routes(); }

HttpServer::~HttpServer() {
  stop();
  impl_->scheduler.reset();
}

int HttpServer::bind() {
  const ServerOptions& o = impl_->options;
  // httplib takes any int and the kernel keeps its low 16 bits: 70000 would bind 4464.
  if (o.port < 0 || o.port > 65535) fail("port ", o.port, " is out of range (0 to 65535; 0 picks a free one)");
  const int port = o.port == 0 ? impl_->http.bind_to_any_port(o.host) : (impl_->http.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port <= 0) fail("cannot listen on ", o.host, ":", o.port, ": ", bind_failure(o.host, o.port));
  return port;
}

void HttpServer::listen() {
  impl_->listen_entered = true;
  if (impl_->stop_requested) return;
  impl_->http.listen_after_bind();
}

void HttpServer::stop() {
  Impl& s = *impl_;
  s.stop_requested = true;
  // A listen() already past its check is about to run: wait for it, then stop it.
  if (s.listen_entered)
    for (int i = 0; i < 2000 && !s.http.is_running(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (s.http.is_running()) s.http.stop();
}

void HttpServer::load() {
  Impl& s = *impl_;
  ServerOptions& o = s.options;
  s.tasks = std::make_unique<assistant::Tasks>(assistant::Tasks::load());
  if (o.routing) {
    // The device tier: -m, else the config's device model (absent when not installed).
    if (o.model_path.empty() && o.routing->device) {
      const router::DeviceTier& device = *o.routing->device;
      o.model_path = router::resolve_device_model(device);
      if (o.n_ctx == 0) o.n_ctx = device.n_ctx;
      if (o.n_threads == 0) o.n_threads = device.n_threads;
      o.n_slots = std::max(o.n_slots, device.parallel);
      if (o.draft_model_path.empty()) o.draft_model_path = device.draft_model;
      if (device.draft_k > 0) o.draft_k = device.draft_k;
    }
    if (o.model_path.empty()) {
      std::fprintf(stderr, "tandem serve: no device model installed: every request goes to the cloud or is refused\n");
      s.router = std::make_unique<router::Router>(*o.routing, 0);
      s.info.id = "tandem-router";
      s.ready = true;
      return;
    }
  }
  s.model_bytes = std::filesystem::file_size(o.model_path);
  if (o.memory_budget_bytes) o.n_ctx = check_serve_budget(o.model_path, o.n_ctx, o.n_slots, o.memory_budget_bytes, o.draft_model_path);
  s.model = model::Model::load(o.model_path);
  s.tokenizer = tokenizer::Tokenizer::from_gguf(s.model->file());
  s.texts = generate::TokenTexts::from(*s.tokenizer);

  const tokenizer::Tokenizer& tok = *s.tokenizer;
  const auto format = tokenizer::ChatFormat::of(s.model->file(), tok, o.chat_template);
  std::fprintf(stderr, "tandem serve: chat template %s\n", format.description().c_str());
  ModelInfo& info = s.info;
  info.tokenizer = s.tokenizer.get();
  info.id = std::filesystem::path(o.model_path).filename().string();
  info.template_text = format.template_text;
  info.template_name = format.template_name;
  info.bos_text = format.bos_text;
  info.eos_text = format.eos_text;
  s.chat_format = format;

  SchedulerOptions scheduler_options;
  scheduler_options.n_slots = o.n_slots;
  scheduler_options.queue_capacity = o.queue_capacity;
  scheduler_options.context = {.n_ctx = o.n_ctx, .n_threads = o.n_threads};
  if (!o.draft_model_path.empty()) {
    scheduler_options.draft = model::Model::load(o.draft_model_path);
    generate::check_draft_model(*s.model, *scheduler_options.draft);
    info.draft_k = o.draft_k;
  }
  s.scheduler = std::make_unique<Scheduler>(s.model, tok, s.texts, scheduler_options);
  info.n_ctx = s.scheduler->n_ctx();
  if (o.routing) s.router = std::make_unique<router::Router>(*o.routing, info.n_ctx);
  s.ready = true;
}

}  // namespace tandem::server
