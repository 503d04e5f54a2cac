#include "server/http_server.h"

#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "core/error.h"
#include "server/openai.h"
#include "server/scheduler.h"
#include "tokenizer/chat_template.h"

namespace tandem::server {
namespace {

using Clock = std::chrono::steady_clock;

int64_t unix_time() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * uint64_t(sysconf(_SC_PAGESIZE));
}

void send_json(httplib::Response& res, int status, const ojson& body) {
  res.status = status;
  res.set_content(to_wire(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& error) { send_json(res, error.status, error_json(error)); }

std::string sse(const ojson& value) { return "data: " + to_wire(value) + "\n\n"; }

// Counters behind /metrics.
struct Metrics {
  std::atomic<int64_t> requests{0}, completions{0}, rejected_queue_full{0}, errors{0};
  std::atomic<int64_t> prompt_tokens{0}, cached_tokens{0}, generated_tokens{0};
  std::mutex mutex;
  double generate_seconds = 0, prompt_seconds = 0;
  double last_tokens_per_second = 0;

  void record(const Outcome& outcome) {
    ++completions;
    prompt_tokens += outcome.n_prompt;
    cached_tokens += outcome.n_cached;
    generated_tokens += outcome.n_generated;
    std::lock_guard lock(mutex);
    generate_seconds += outcome.generate_seconds;
    prompt_seconds += outcome.prompt_seconds;
    if (outcome.generate_seconds > 0) last_tokens_per_second = outcome.n_generated / outcome.generate_seconds;
  }
};

}  // namespace

uint64_t parse_byte_size(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    fail("'", text, "' is not a size (examples: 512M, 2G, 1048576)");
  }
  const std::string unit = text.substr(used);
  const std::pair<const char*, double> units[] = {{"", 1}, {"B", 1}, {"K", 1024}, {"KB", 1024}, {"M", 1 << 20},
                                                  {"MB", 1 << 20}, {"G", 1 << 30}, {"GB", 1 << 30}};
  for (const auto& [name, scale] : units) {
    if (unit == name && value >= 0) return uint64_t(value * scale);
  }
  fail("'", text, "' is not a size (examples: 512M, 2G, 1048576)");
}

struct HttpServer::Impl {
  ServerOptions options;
  httplib::Server http;
  std::atomic<bool> ready{false};
  Metrics metrics;
  std::atomic<int64_t> next_id{1};
  Clock::time_point started = Clock::now();

  std::shared_ptr<model::Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  generate::TokenTexts texts;
  ModelInfo info;
  uint64_t model_bytes = 0;
  std::unique_ptr<Scheduler> scheduler;

  explicit Impl(ServerOptions o) : options(std::move(o)) {}

  void require_ready() const {
    if (!ready) throw ApiError(503, "server_error", "the model is still loading; retry shortly", "", "loading");
  }

  void handle(const httplib::Request& req, httplib::Response& res,
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

  void routes();
  void generate(const httplib::Request& req, httplib::Response& res, Endpoint endpoint);
  std::string metrics_text();
};

void HttpServer::Impl::routes() {
  http.set_payload_max_length(options.max_body_bytes);
  // One thread per connection: every slot and queued request, plus health/metrics checks.
  const size_t threads = size_t(options.n_slots + options.queue_capacity + 8);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    ++metrics.requests;
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
      ojson model{{"id", info.id}, {"object", "model"}, {"created", unix_time()}, {"owned_by", "tandem"},
                  {"meta", {{"n_ctx", info.n_ctx}, {"n_vocab", tokenizer->n_vocab()}, {"size_bytes", model_bytes}}}};
      send_json(res, 200, {{"object", "list"}, {"data", ojson::array({model})}});
    });
  });
  http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle(req, res, [this](const httplib::Request& req, httplib::Response& res) { generate(req, res, Endpoint::ChatCompletions); });
  });
  http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle(req, res, [this](const httplib::Request& req, httplib::Response& res) { generate(req, res, Endpoint::Completions); });
  });
}

void HttpServer::Impl::generate(const httplib::Request& req, httplib::Response& res, Endpoint endpoint) {
  require_ready();
  const ojson body = parse_body(req.body);
  ApiRequest request = endpoint == Endpoint::ChatCompletions ? parse_chat_request(body, info)
                                                             : parse_completion_request(body, info);
  std::shared_ptr<Job> job;
  try {
    job = scheduler->submit(std::move(request.generation));
  } catch (const QueueFull& full) {
    ++metrics.rejected_queue_full;
    throw ApiError(429, "rate_limit_error", full.what(), "", "queue_full");
  }
  const std::string id = std::string(endpoint == Endpoint::ChatCompletions ? "chatcmpl-" : "cmpl-") +
                         std::to_string(next_id++);
  auto writer = std::make_shared<ResponseWriter>(request, info, id, unix_time());

  if (!request.stream) {
    std::string text;
    std::vector<TokenLogprob> logprobs;
    std::vector<Piece> pieces;
    for (bool finished = false; !finished;) {
      finished = job->wait(pieces, std::chrono::milliseconds(1000));
      for (Piece& p : pieces) {
        text += p.text;
        if (p.logprob) logprobs.push_back(std::move(*p.logprob));
      }
      pieces.clear();
    }
    metrics.record(job->outcome());
    if (!job->outcome().error.empty()) invalid_request(job->outcome().error);
    send_json(res, 200, writer->complete(text, logprobs, job->outcome()));
    return;
  }

  res.set_header("Cache-Control", "no-cache");
  const bool include_usage = request.include_usage;
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, job, writer, include_usage](size_t, httplib::DataSink& sink) {
        std::vector<Piece> pieces;
        const bool finished = job->wait(pieces, std::chrono::milliseconds(100));
        std::string out;
        for (Piece& p : pieces) {
          std::vector<TokenLogprob> logprobs;
          if (p.logprob) logprobs.push_back(std::move(*p.logprob));
          if (!p.text.empty() || !logprobs.empty()) out += sse(writer->chunk(p.text, logprobs));
        }
        if (finished) {
          const Outcome& outcome = job->outcome();
          metrics.record(outcome);
          if (!outcome.error.empty()) {
            out += sse(error_json(ApiError(400, "invalid_request_error", outcome.error)));
          } else {
            out += sse(writer->final_chunk(outcome));
            if (include_usage) out += sse(writer->usage_chunk(outcome));
          }
          out += "data: [DONE]\n\n";
        }
        // A failed write means the client went away: stop generating at once.
        if (!out.empty() && !sink.write(out.data(), out.size())) {
          job->cancel();
          return false;
        }
        if (finished) sink.done();
        return true;
      },
      [job](bool) { job->cancel(); });  // no-op after a normal end
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
      {"tandem_prompt_seconds_total", "counter", "time spent evaluating prompts", prompt_seconds},
      {"tandem_generate_seconds_total", "counter", "time spent generating", generate_seconds},
      {"tandem_tokens_per_second", "gauge", "generation speed of the last finished request", last_tps},
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
        << l.name << ' ' << l.value << '\n';
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
  const int port = o.port == 0 ? impl_->http.bind_to_any_port(o.host) : (impl_->http.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port <= 0) fail("cannot listen on ", o.host, ":", o.port, " (in use, or not a local address)");
  return port;
}

void HttpServer::listen() { impl_->http.listen_after_bind(); }

void HttpServer::stop() {
  if (impl_->http.is_running()) impl_->http.stop();
}

void HttpServer::load() {
  Impl& s = *impl_;
  const ServerOptions& o = s.options;
  s.model_bytes = std::filesystem::file_size(o.model_path);
  if (o.memory_budget_bytes && s.model_bytes > o.memory_budget_bytes) {
    fail("the model's weights take ", s.model_bytes, " bytes, more than --mem-budget ", o.memory_budget_bytes);
  }
  s.model = model::Model::load(o.model_path);
  s.tokenizer = tokenizer::Tokenizer::from_gguf(s.model->file());
  s.texts = generate::TokenTexts::from(*s.tokenizer);

  ModelInfo& info = s.info;
  info.tokenizer = s.tokenizer.get();
  info.id = std::filesystem::path(o.model_path).filename().string();
  info.template_text = s.model->file().find_string("tokenizer.chat_template").value_or("");
  info.template_name = o.chat_template;
  // Like llama.cpp: a model without a recognised template is prompted with chatml.
  if (info.template_name.empty() && tokenizer::detect_chat_template(info.template_text).empty()) {
    info.template_name = "chatml";
  }
  tokenizer::apply_chat_template(info.template_text, info.template_name, {{"user", "x"}}, true, "", "");  // fail early
  const tokenizer::Tokenizer& tok = *s.tokenizer;
  info.bos_text = tok.bos() >= 0 ? tok.text(tok.bos()) : "";
  info.eos_text = tok.eos() >= 0 ? tok.text(tok.eos()) : "";

  SchedulerOptions scheduler_options;
  scheduler_options.n_slots = o.n_slots;
  scheduler_options.queue_capacity = o.queue_capacity;
  scheduler_options.context = {.n_ctx = o.n_ctx, .n_threads = o.n_threads};
  s.scheduler = std::make_unique<Scheduler>(s.model, tok, s.texts, scheduler_options);
  info.n_ctx = s.scheduler->n_ctx();
  s.ready = true;
}

}  // namespace tandem::server
