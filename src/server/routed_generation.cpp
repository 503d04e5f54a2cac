// Requests behind the device-cloud router: decide (router::Router), then answer on
// the device, relay the cloud's answer (restoring redacted values), or refuse; a
// cloud that fails before or during its answer hands the request to the device.
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <optional>
#include <thread>

#include "router/openai_body.h"
#include "server/server_impl.h"

namespace tandem::server {
namespace {

// A streamed cloud call on its own thread, so the HTTP thread can wait for its
// events with a deadline and walk away (cancelling) when its client does.
struct CloudStream {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<std::string> events;
  bool finished = false;
  router::CloudResult result;
  std::atomic<bool> cancelled{false};

  static std::shared_ptr<CloudStream> start(const router::CloudClient& cloud, std::string path, std::string body) {
    auto stream = std::make_shared<CloudStream>();
    std::thread([stream, &cloud, path = std::move(path), body = std::move(body)] {
      router::CloudResult result = cloud.post_stream(path, body, [&](const std::string& data) {
        if (stream->cancelled) return false;
        std::lock_guard lock(stream->mutex);
        stream->events.push_back(data);
        stream->ready.notify_all();
        return true;
      });
      std::lock_guard lock(stream->mutex);
      stream->result = std::move(result);
      stream->finished = true;
      stream->ready.notify_all();
    }).detach();
    return stream;
  }

  // Moves events out, waiting up to `timeout` for one; true once the call ended and all were taken.
  bool wait(std::vector<std::string>& out, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    ready.wait_for(lock, timeout, [&] { return !events.empty() || finished; });
    while (!events.empty()) out.push_back(std::move(events.front())), events.pop_front();
    return finished;
  }
};

std::string refusal_message(const router::Decision& d) {
  return "the router refused this request (" + d.reason +
         "): private data stays on the device, and the device cannot serve this request or it needs a cloud "
         "service; install a device model, shorten the request, use device-only, or allow redaction "
         "(redact_to_cloud) where that is acceptable";
}

int64_t estimate_tokens(const std::string& text) { return int64_t(text.size() / 4 + 1); }

// The answer text of a non-streamed response, restored in place when redacted.
std::string answer_text(ojson& response, const router::Redactor* redactor) {
  std::string text;
  if (!response.contains("choices") || !response["choices"].is_array()) return text;
  for (auto& choice : response["choices"]) {
    ojson* field = nullptr;
    if (choice.contains("message") && choice["message"].contains("content") && choice["message"]["content"].is_string()) {
      field = &choice["message"]["content"];
    } else if (choice.contains("text") && choice["text"].is_string()) {
      field = &choice["text"];
    }
    if (!field) continue;
    if (redactor) *field = redactor->restore(field->get<std::string>());
    text += field->get<std::string>();
  }
  return text;
}

// The content field of a stream chunk's first choice (delta.content or text), or null.
ojson* chunk_text(ojson& chunk) {
  if (!chunk.contains("choices") || !chunk["choices"].is_array() || chunk["choices"].empty()) return nullptr;
  ojson& choice = chunk["choices"][0];
  if (choice.contains("delta") && choice["delta"].contains("content") && choice["delta"]["content"].is_string()) {
    return &choice["delta"]["content"];
  }
  if (choice.contains("text") && choice["text"].is_string()) return &choice["text"];
  return nullptr;
}

}  // namespace

void HttpServer::Impl::serve_routed(const httplib::Request& req, const ojson& body, Endpoint endpoint,
                                    httplib::Response& res) {
  auto ledger = std::make_shared<LedgerContext>();
  ledger->router = router.get();
  ledger->arrived_ms = unix_time_ms();
  ledger->started = Clock::now();

  const router::RequestRouting own =
      router::request_routing(body, req.get_header_value("X-Tandem-Preference"), req.get_header_value("X-Tandem-Data-Tags"),
                              req.get_header_value("X-Tandem-Privacy"));
  router::RouteInput input;
  input.text = router::request_text(body);
  input.task_text = router::request_task_text(body);
  input.preference = own.preference.value_or(router->config().preference);
  input.data_tags = own.data_tags;
  input.strictness = own.strictness;
  input.wants_tools = router::request_wants_tools(body);

  // The device's view of the request: its prompt length decides whether the device
  // can take it. Tool calls are the cloud's business, so the device may reject them.
  std::optional<ApiRequest> device_request;
  std::optional<ApiError> device_error;
  if (model) {
    try {
      device_request = endpoint == Endpoint::ChatCompletions ? parse_chat_request(body, info)
                                                             : parse_completion_request(body, info);
      input.prompt_tokens = int(device_request->generation.prompt.size());
    } catch (const ApiError& error) {
      if (error.code == "context_length_exceeded") {
        input.prompt_tokens = info.n_ctx;
      } else if (!input.wants_tools) {
        throw;
      }
      device_error = error;
    }
  }

  router::Routed routed = router->route(input);
  router::Decision& decision = routed.decision;
  // Fail closed: a redacted request leaves only if what redaction left passes the privacy check.
  auto redactor = std::make_shared<router::Redactor>();
  std::optional<ojson> redacted;
  if (decision.route == router::Route::Cloud && decision.redact) {
    redacted = router::cloud_body(body, routed.cloud->endpoint().model, redactor.get());
    const router::PrivacyVerdict left = router::check_redacted(
        router::request_text(*redacted), router::effective_strictness(input, router->config().policy));
    if (left.is_private) {
      decision.route = router::Route::Refused;
      decision.redact = false;
      decision.reason += ";redaction_insufficient:" + left.describe();
    }
  }
  ledger->note = {router::route_name(decision.route), decision.reason};
  res.set_header("X-Tandem-Route", decision.header());
  std::fprintf(stderr, "tandem route: %s\n", decision.header().c_str());

  if (decision.route == router::Route::Refused) {
    ++metrics.routed_refused;
    ledger->record("", 0, 0, 0, 0);
    throw ApiError(403, "invalid_request_error", refusal_message(decision), "", "route_refused");
  }
  if (decision.route == router::Route::Device) {
    ++metrics.routed_device;
    if (!device_request) throw *device_error;
    return serve_device(std::move(*device_request), res, ledger);
  }

  ++metrics.routed_cloud;
  const router::CloudClient& cloud = *routed.cloud;
  ojson cloud_request = redacted ? std::move(*redacted) : router::cloud_body(body, cloud.endpoint().model, nullptr);
  const std::string path = endpoint == Endpoint::ChatCompletions ? "/chat/completions" : "/completions";
  const bool stream = body.contains("stream") && body["stream"] == true;
  const bool client_wants_usage = body.contains("stream_options") && body["stream_options"].is_object() &&
                                  body["stream_options"].value("include_usage", false);
  const int64_t prompt_estimate = device_request ? int64_t(device_request->generation.prompt.size())
                                                 : estimate_tokens(input.text);
  const router::Redactor* restorer = decision.redact ? redactor.get() : nullptr;

  // Hands the request to the device after a cloud failure, or fails it when the device cannot.
  auto fall_back = [this, &res, ledger, &device_request, &cloud](const std::string& failure) {
    router->cloud_failed(cloud, failure);
    if (!device_request) {
      throw ApiError(failure == "timeout" ? 504 : 502, "server_error",
                     "the cloud failed (" + failure + ") and the device cannot serve this request", "", "cloud_failed");
    }
    ++metrics.cloud_fallbacks;
    ledger->note = {"device", "fallback:cloud_" + failure, true};
    res.headers.erase("X-Tandem-Route");
    res.set_header("X-Tandem-Route", "device; reason=fallback:cloud_" + failure);
    std::fprintf(stderr, "tandem route: device; reason=fallback:cloud_%s\n", failure.c_str());
    serve_device(std::move(*device_request), res, ledger);
  };

  if (!stream) {
    router::CloudResult result = cloud.post(path, to_wire(cloud_request));
    ojson answer = result.ok ? ojson::parse(result.body, nullptr, false) : ojson();
    if (!result.ok || !answer.is_object()) return fall_back(result.ok ? "bad_answer" : result.failure);
    router->cloud_succeeded(cloud);
    const std::string text = answer_text(answer, restorer);
    const ojson usage = answer.value("usage", ojson::object());
    const int64_t tokens_in = usage.value("prompt_tokens", prompt_estimate);
    const int64_t tokens_out = usage.value("completion_tokens", estimate_tokens(text));
    answer["tandem"] = ledger->note.json();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - ledger->started).count();
    ledger->record(cloud.endpoint().model, tokens_in, tokens_out, ms, cloud.endpoint().price.cost_fen(tokens_in, tokens_out));
    send_json(res, 200, answer);
    return;
  }

  // Streamed: wait for the cloud's first event before committing to it, so a cloud
  // that fails before answering falls back with honest headers.
  cloud_request["stream_options"] = {{"include_usage", true}};
  auto relay = CloudStream::start(cloud, path, to_wire(cloud_request));
  std::vector<std::string> first;
  const auto first_deadline = std::chrono::milliseconds(int64_t(cloud.endpoint().timeout_s * 1000) + 200);
  const bool ended = relay->wait(first, first_deadline);
  if (first.empty()) {
    relay->cancelled = true;
    return fall_back(ended ? relay->result.failure : "timeout");
  }

  struct RelayState {
    std::vector<std::string> pending;
    std::unique_ptr<router::StreamRestorer> restorer;
    std::string cloud_text;  // what the cloud said so far (as sent to the client)
    int64_t tokens_in = 0, tokens_out = 0;
    double ttft_ms = -1;
    bool saw_usage = false;
    // After a failure mid-stream the device continues the answer.
    std::shared_ptr<Job> job;
    std::shared_ptr<ResponseWriter> writer;
  };
  auto state = std::make_shared<RelayState>();
  state->pending = std::move(first);
  state->tokens_in = prompt_estimate;
  if (restorer) state->restorer = std::make_unique<router::StreamRestorer>(*restorer);
  auto device = std::make_shared<std::optional<ApiRequest>>(std::move(device_request));
  const router::CloudClient* cloud_ptr = &cloud;

  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, relay, state, ledger, device, cloud_ptr, client_wants_usage, redactor](size_t, httplib::DataSink& sink) {
        std::string out;
        auto write = [&](bool done) {
          if (!out.empty() && !sink.write(out.data(), out.size())) {
            relay->cancelled = true;
            if (state->job) state->job->cancel();
            return false;
          }
          if (done) sink.done();
          return true;
        };
        auto elapsed_ms = [&] { return std::chrono::duration<double, std::milli>(Clock::now() - ledger->started).count(); };

        if (state->job) {  // the device is finishing the answer
          std::vector<Piece> pieces;
          const bool finished = state->job->wait(pieces, std::chrono::milliseconds(100));
          for (Piece& p : pieces) {
            if (p.text.empty()) continue;
            ojson chunk = state->writer->chunk(p.text, {});
            chunk["tandem"] = ledger->note.json();
            out += sse(chunk);
          }
          if (finished) {
            const Outcome& outcome = state->job->outcome();
            metrics.record(outcome);
            ojson last = state->writer->final_chunk(outcome);
            last["tandem"] = ledger->note.json();
            out += sse(last) + "data: [DONE]\n\n";
            ledger->record(info.id, state->tokens_in, state->tokens_out + outcome.n_generated, state->ttft_ms,
                           cloud_ptr->endpoint().price.cost_fen(state->tokens_in, state->tokens_out));
          }
          return write(finished);
        }

        std::vector<std::string> events;
        events.swap(state->pending);
        const bool ended = relay->wait(events, std::chrono::milliseconds(100));
        bool done = false;
        for (const std::string& data : events) {
          if (data == "[DONE]") {
            if (state->restorer) {
              if (std::string rest = state->restorer->flush(); !rest.empty()) {
                ojson tail{{"object", "chat.completion.chunk"},
                           {"choices", ojson::array({{{"index", 0}, {"delta", {{"content", rest}}}, {"finish_reason", nullptr}}})},
                           {"tandem", ledger->note.json()}};
                out += sse(tail);
              }
            }
            out += "data: [DONE]\n\n";
            done = true;
            break;
          }
          ojson chunk = ojson::parse(data, nullptr, false);
          if (!chunk.is_object()) continue;
          if (chunk.contains("usage") && chunk["usage"].is_object()) {
            state->tokens_in = chunk["usage"].value("prompt_tokens", state->tokens_in);
            state->tokens_out = chunk["usage"].value("completion_tokens", state->tokens_out);
            state->saw_usage = true;
            // The router asked for usage; the client sees it only when it asked too.
            if (!client_wants_usage && chunk.contains("choices") && chunk["choices"].empty()) continue;
          }
          if (ojson* text = chunk_text(chunk)) {
            std::string piece = text->get<std::string>();
            if (state->restorer) piece = state->restorer->feed(piece);
            *text = piece;
            state->cloud_text += piece;
            if (state->ttft_ms < 0 && !piece.empty()) state->ttft_ms = elapsed_ms();
          }
          chunk["tandem"] = ledger->note.json();
          out += sse(chunk);
        }
        if (done) {
          router->cloud_succeeded(*cloud_ptr);
          if (!state->saw_usage) state->tokens_out = estimate_tokens(state->cloud_text);
          ledger->record(cloud_ptr->endpoint().model, state->tokens_in, state->tokens_out,
                         state->ttft_ms < 0 ? elapsed_ms() : state->ttft_ms,
                         cloud_ptr->endpoint().price.cost_fen(state->tokens_in, state->tokens_out));
          return write(true);
        }
        if (ended) {
          // The cloud failed mid-answer: the device continues from what was said.
          const std::string failure = relay->result.failure.empty() ? "stream_cut" : relay->result.failure;
          router->cloud_failed(*cloud_ptr, failure);
          ledger->note = {"device", "fallback:cloud_" + failure, true};
          std::fprintf(stderr, "tandem route: device; reason=fallback:cloud_%s (mid-stream)\n", failure.c_str());
          if (!device->has_value()) {
            out += sse(error_json(ApiError(502, "server_error", "the cloud failed (" + failure +
                                                                    ") mid-answer and the device cannot continue it")));
            out += "data: [DONE]\n\n";
            ledger->record(cloud_ptr->endpoint().model, state->tokens_in, state->tokens_out, state->ttft_ms, 0);
            return write(true);
          }
          ++metrics.cloud_fallbacks;
          ApiRequest continuation = **device;
          if (!state->cloud_text.empty()) {
            const auto said = tokenizer->encode(state->cloud_text, false, false);
            continuation.generation.prompt.insert(continuation.generation.prompt.end(), said.begin(), said.end());
            state->tokens_out = int64_t(said.size());
          }
          if (int(continuation.generation.prompt.size()) >= info.n_ctx) {
            continuation.generation.prompt.resize(size_t(info.n_ctx - 1));
          }
          auto& max_tokens = continuation.generation.options.max_tokens;
          if (max_tokens > 0) max_tokens = std::max(1, max_tokens - int(state->tokens_out));
          continuation.echo.clear();
          state->writer = std::make_shared<ResponseWriter>(continuation, info, next_response_id(continuation.endpoint), unix_time());
          try {
            state->job = submit(std::move(continuation.generation));
          } catch (const ApiError& error) {
            out += sse(error_json(error)) + "data: [DONE]\n\n";
            return write(true);
          }
        }
        return write(false);
      },
      [relay, state](bool) {
        relay->cancelled = true;
        if (state->job) state->job->cancel();
      });
}

}  // namespace tandem::server
