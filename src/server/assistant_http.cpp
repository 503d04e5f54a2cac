// The assistant apps over HTTP: POST /v1/tandem/summarize, POST /v1/tandem/write (SSE,
// or one JSON object) and GET /v1/tandem/tasks. The jobs are src/assistant's; this file
// parses requests and writes events. Shapes: docs/api.md.
#include <cstdio>

#include "assistant/document.h"
#include "assistant/summarize.h"
#include "assistant/write.h"
#include "server/server_impl.h"

namespace tandem::server {

// The jobs of both apps, behind one interface for the writer below.
struct AppJob {
  virtual ~AppJob() = default;
  virtual router::RouteNote start() = 0;
  virtual assistant::Result run(const assistant::Events& events) = 0;
  virtual void cancel() = 0;
  virtual void add_result(ojson& out, const assistant::Result& result) const = 0;
  virtual const char* object() const = 0;
};

namespace {

ApiError invalid(const std::string& message, const std::string& param = "", const std::string& code = "invalid_value") {
  return ApiError(400, "invalid_request_error", message, param, code);
}

// Standard base64 (RFC 4648), padding optional, whitespace ignored.
std::string base64_decode(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t bits = 0;
  int n = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] != '='; ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    const int v = value(c);
    if (v < 0) throw invalid("document.data is not base64 (a '" + std::string(1, c) + "' at byte " + std::to_string(i) + ")", "document.data");
    bits = (bits << 6) | uint32_t(v);
    if (++n == 4) {
      out += char(bits >> 16);
      out += char(bits >> 8);
      out += char(bits);
      bits = 0, n = 0;
    }
  }
  for (; i < text.size(); ++i) {
    if (text[i] != '=' && text[i] != '\n' && text[i] != '\r') throw invalid("document.data: text after the base64 padding", "document.data");
  }
  if (n == 1) throw invalid("document.data is not base64 (its length is wrong)", "document.data");
  if (n == 2) out += char(bits >> 4);
  if (n == 3) out += char(bits >> 10), out += char(bits >> 2);
  return out;
}

std::optional<double> number_field(const ojson& body, const char* name, double lo, double hi) {
  if (!body.contains(name) || body[name].is_null()) return std::nullopt;
  const ojson& v = body[name];
  if (!v.is_number() || v.get<double>() < lo || v.get<double>() > hi) {
    throw invalid(std::string("'") + name + "' must be a number from " + std::to_string(lo) + " to " + std::to_string(hi), name);
  }
  return v.get<double>();
}

std::string string_field(const ojson& body, const char* name, const std::string& fallback = "") {
  if (!body.contains(name) || body[name].is_null()) return fallback;
  if (!body[name].is_string()) throw invalid(std::string("'") + name + "' must be a string", name);
  return body[name].get<std::string>();
}

assistant::SamplingOverrides sampling_of(const ojson& body) {
  assistant::SamplingOverrides o;
  if (auto v = number_field(body, "temperature", 0, 2)) o.temperature = float(*v);
  if (auto v = number_field(body, "top_p", 0, 1)) o.top_p = float(*v);
  if (auto v = number_field(body, "min_p", 0, 1)) o.min_p = float(*v);
  if (auto v = number_field(body, "repeat_penalty", 0.5, 2)) o.repeat_penalty = float(*v);
  if (auto v = number_field(body, "top_k", 0, 1000)) o.top_k = int(*v);
  if (auto v = number_field(body, "seed", 0, 18446744073709551615.0)) o.seed = uint64_t(*v);
  if (auto v = number_field(body, "max_tokens", 1, 1 << 20)) o.max_tokens = int(*v);
  return o;
}

ApiError to_api_error(const assistant::AppError& error) {
  if (error.code == "route_refused") return ApiError(403, "invalid_request_error", error.what(), "", "route_refused");
  if (error.code == "cloud_failed") {
    return ApiError(error.failure == "timeout" ? 504 : 502, "server_error", error.what(), "", "cloud_failed");
  }
  if (error.code == "failed") return ApiError(500, "server_error", error.what(), "", "failed");
  return ApiError(400, "invalid_request_error", error.what(), "", error.code);
}

const char* finish_name(generate::FinishReason finish) {
  return finish == generate::FinishReason::Cancelled ? "cancelled" : finish_reason(finish);
}

ojson result_fields(const assistant::Result& result) {
  ojson out{{"route", result.note.route},
            {"reason", result.note.reason},
            {"fallback", result.note.fallback},
            {"finish", finish_name(result.finish)},
            {"language", result.language},
            {"usage", {{"prompt_tokens", result.prompt_tokens}, {"completion_tokens", result.completion_tokens},
                       {"calls", result.calls}}}};
  return out;
}

struct SummaryApp : AppJob {
  explicit SummaryApp(std::unique_ptr<assistant::SummaryJob> job) : job(std::move(job)) {}
  router::RouteNote start() override { return job->start(); }
  assistant::Result run(const assistant::Events& events) override { return job->run(events); }
  void cancel() override { job->cancel(); }
  void add_result(ojson& out, const assistant::Result& result) const override {
    out["chunks"] = result.chunks;
    out["levels"] = result.levels;
  }
  const char* object() const override { return "tandem.summary"; }
  std::unique_ptr<assistant::SummaryJob> job;
};

struct WriteApp : AppJob {
  WriteApp(std::unique_ptr<assistant::WriteJob> job, std::string task) : job(std::move(job)), task(std::move(task)) {}
  router::RouteNote start() override { return job->start(); }
  assistant::Result run(const assistant::Events& events) override { return job->run(events); }
  void cancel() override { job->cancel(); }
  void add_result(ojson& out, const assistant::Result&) const override { out["task"] = task; }
  const char* object() const override { return "tandem.write"; }
  std::unique_ptr<assistant::WriteJob> job;
  std::string task;
};

}  // namespace

assistant::Engine HttpServer::Impl::assistant_engine() const {
  return assistant::Engine{router.get(), scheduler.get(), chat_format ? &*chat_format : nullptr, info.id, tasks.get()};
}

void HttpServer::Impl::assistant_routes() {
  http.Post("/v1/tandem/summarize", [this](const httplib::Request& req, httplib::Response& res) {
    handle(req, res, [this](const httplib::Request& req, httplib::Response& res) {
      require_ready();
      const ojson body = parse_body(req.body);
      const bool has_text = body.contains("text") && !body["text"].is_null();
      const bool has_document = body.contains("document") && !body["document"].is_null();
      if (has_text == has_document) throw invalid("give exactly one of 'text' and 'document'", has_text ? "document" : "text");
      assistant::Document document;
      try {
        if (has_text) {
          document = assistant::read_document(string_field(body, "text"), assistant::Format::Text, "text");
        } else {
          const ojson& d = body["document"];
          if (!d.is_object()) throw invalid("'document' must be an object {\"data\": BASE64, \"format\", \"name\"}", "document");
          if (!d.contains("data") || !d["data"].is_string()) throw invalid("'document.data' must be a base64 string", "document.data");
          const std::string format_name = string_field(d, "format", "auto");
          const auto format = assistant::parse_format(format_name);
          if (!format) throw invalid("'document.format' must be auto, text, markdown, html or pdf", "document.format");
          document = assistant::read_document(base64_decode(d["data"].get<std::string>()), *format,
                                              string_field(d, "name", "document"));
        }
      } catch (const ApiError&) {
        throw;
      } catch (const Error& error) {
        throw invalid(error.what(), has_text ? "text" : "document", "bad_document");
      }
      assistant::SummaryOptions options;
      options.length = string_field(body, "length");
      options.lang = string_field(body, "lang", "auto");
      options.focus = string_field(body, "focus");
      options.sampling = sampling_of(body);
      const router::RequestRouting own = router::request_routing(body, req.get_header_value("X-Tandem-Preference"),
                                                                 req.get_header_value("X-Tandem-Data-Tags"));
      std::unique_ptr<AppJob> job;
      try {
        job = std::make_unique<SummaryApp>(std::make_unique<assistant::SummaryJob>(
            assistant_engine(), std::move(document.text), options, assistant::Routing{own.preference, own.data_tags}));
      } catch (const assistant::AppError& error) {
        throw to_api_error(error);
      }
      run_app(std::move(job), body, res);
    });
  });

  http.Post("/v1/tandem/write", [this](const httplib::Request& req, httplib::Response& res) {
    handle(req, res, [this](const httplib::Request& req, httplib::Response& res) {
      require_ready();
      const ojson body = parse_body(req.body);
      assistant::WriteOptions options;
      options.task = string_field(body, "task");
      if (options.task.empty()) throw invalid("'task' is required (GET /v1/tandem/tasks lists them)", "task");
      options.instructions = string_field(body, "instructions");
      options.input = string_field(body, "input");
      options.tone = string_field(body, "tone");
      options.lang = string_field(body, "lang", "auto");
      options.sampling = sampling_of(body);
      const router::RequestRouting own = router::request_routing(body, req.get_header_value("X-Tandem-Preference"),
                                                                 req.get_header_value("X-Tandem-Data-Tags"));
      std::unique_ptr<AppJob> job;
      try {
        job = std::make_unique<WriteApp>(std::make_unique<assistant::WriteJob>(
                                             assistant_engine(), options, assistant::Routing{own.preference, own.data_tags}),
                                         options.task);
      } catch (const assistant::AppError& error) {
        throw to_api_error(error);
      }
      run_app(std::move(job), body, res);
    });
  });

  http.Get("/v1/tandem/tasks", [this](const httplib::Request& req, httplib::Response& res) {
    handle(req, res, [this](const httplib::Request&, httplib::Response& res) {
      require_ready();
      ojson write = ojson::array();
      for (const std::string& name : tasks->task_names()) {
        const assistant::WriteTask& task = tasks->task(name);
        const char* input = task.input == assistant::InputUse::None       ? "none"
                            : task.input == assistant::InputUse::Required ? "required"
                                                                          : "optional";
        write.push_back({{"task", name}, {"description", task.description.at("en")},
                         {"descriptions", task.description}, {"input", input}});
      }
      send_json(res, 200,
                {{"write", write},
                 {"summarize", {{"lengths", tasks->length_names()}, {"default_length", tasks->default_length()}}},
                 {"languages", {"auto", "zh", "en"}}});
    });
  });
}

void HttpServer::Impl::run_app(std::unique_ptr<AppJob> app, const ojson& body, httplib::Response& res) {
  if (body.contains("stream") && !body["stream"].is_boolean()) throw invalid("'stream' must be true or false", "stream");
  const bool stream = body.value("stream", true);
  std::shared_ptr<AppJob> job(std::move(app));
  router::RouteNote note;
  try {
    note = job->start();
  } catch (const assistant::AppError& error) {
    if (router && !error.note.route.empty()) std::fprintf(stderr, "tandem route: %s\n", error.note.header().c_str());
    if (error.code == "route_refused") ++metrics.routed_refused;
    throw to_api_error(error);
  } catch (const QueueFull& full) {
    ++metrics.rejected_queue_full;
    throw ApiError(429, "rate_limit_error", full.what(), "", "queue_full");
  }
  res.set_header("X-Tandem-Route", note.header());
  if (router) {
    std::fprintf(stderr, "tandem route: %s (%s)\n", note.header().c_str(), job->object());
    ++(note.route == "cloud" ? metrics.routed_cloud : metrics.routed_device);
    if (note.fallback) ++metrics.cloud_fallbacks;
  }
  auto release = [job](bool) { job->cancel(); };  // a client that went away cancels the job

  if (!stream) {
    // One JSON object, sent chunked with leading spaces while the job runs (as the
    // chat endpoints do), so that a client that hung up is noticed.
    res.set_chunked_content_provider(
        "application/json",
        [this, job](size_t, httplib::DataSink& sink) {
          Clock::time_point last_write = Clock::now();
          bool client_gone = false;
          assistant::Events events;
          events.keep_going = [&] {
            if (stop_requested) return false;
            if (Clock::now() - last_write >= std::chrono::milliseconds(250)) {
              last_write = Clock::now();
              client_gone = !sink.write(" ", 1);
            }
            return !client_gone;
          };
          events.on_progress = [&](const assistant::Progress&) { return events.keep_going(); };
          ojson out;
          try {
            const assistant::Result result = job->run(events);
            if (client_gone) return false;
            out = {{"object", job->object()}, {"text", result.text}};
            out.update(result_fields(result));
            job->add_result(out, result);
          } catch (const assistant::AppError& error) {
            out = error_json(to_api_error(error));
          } catch (const std::exception& error) {
            out = error_json(ApiError(500, "server_error", error.what()));
          }
          const std::string wire = to_wire(out);
          if (!sink.write(wire.data(), wire.size())) return false;
          sink.done();
          return true;
        },
        release);
    return;
  }

  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, job](size_t, httplib::DataSink& sink) {
        bool client_gone = false;
        Clock::time_point last_write = Clock::now();
        auto send = [&](const std::string& out) {
          client_gone = client_gone || !sink.write(out.data(), out.size());
          last_write = Clock::now();
          return !client_gone;
        };
        assistant::Events events;
        events.on_route = [&](const router::RouteNote& changed) {
          send(sse({{"type", "route"}, {"route", changed.route}, {"reason", changed.reason}, {"fallback", changed.fallback}}));
        };
        events.on_progress = [&](const assistant::Progress& p) {
          return send(sse({{"type", "progress"}, {"phase", p.phase}, {"level", p.level}, {"done", p.done}, {"total", p.total}}));
        };
        events.on_text = [&](std::string_view text) {
          return send(sse({{"type", "delta"}, {"text", std::string(text)}}));
        };
        // While a long call works without output, an SSE comment every second shows
        // whether the client is still there.
        events.keep_going = [&] {
          if (stop_requested) return false;
          if (Clock::now() - last_write >= std::chrono::seconds(1)) send(": keep-alive\n\n");
          return !client_gone;
        };
        std::string out;
        try {
          const assistant::Result result = job->run(events);
          if (client_gone) return false;
          ojson done{{"type", "done"}};
          done.update(result_fields(result));
          job->add_result(done, result);
          out = sse(done);
        } catch (const assistant::AppError& error) {
          const ApiError api = to_api_error(error);
          out = sse({{"type", "error"}, {"error", error_json(api)["error"]}});
        } catch (const std::exception& error) {
          out = sse({{"type", "error"}, {"error", error_json(ApiError(500, "server_error", error.what()))["error"]}});
        }
        if (client_gone) return false;
        out += "data: [DONE]\n\n";
        if (!send(out)) return false;
        sink.done();
        return true;
      },
      release);
}

}  // namespace tandem::server
