#include "router/routed_generation.h"

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "router/openai_body.h"
#include "router/privacy_check.h"

namespace tandem::router {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPoll = std::chrono::milliseconds(100);

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t estimate_tokens(const std::string& text) { return int64_t(text.size() / 4 + 1); }

// The answer text of a non-streamed response, restored in place when redacted.
std::string answer_text(ojson& response, const Redactor* redactor) {
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

// The cloud's finish_reason of a response or chunk, when it gives one.
std::optional<generate::FinishReason> cloud_finish(const ojson& json) {
  if (!json.contains("choices") || !json["choices"].is_array() || json["choices"].empty()) return std::nullopt;
  const ojson& choice = json["choices"][0];
  if (!choice.is_object() || !choice.contains("finish_reason") || !choice["finish_reason"].is_string()) return std::nullopt;
  return choice["finish_reason"] == "length" ? generate::FinishReason::Length : generate::FinishReason::Stop;
}

}  // namespace

std::string RouteNote::header() const { return route + "; reason=" + reason; }

RoutedRequest chat_request(const std::vector<tokenizer::ChatMessage>& messages, const generate::GenerateOptions& options,
                           const ojson* schema, const generate::Generator* device, const tokenizer::ChatFormat* format) {
  RoutedRequest request;
  request.body = chat_body(messages, options, schema);
  if (device && format) {
    std::vector<int32_t> prompt = format->prompt(device->tokenizer(), messages);
    if (prompt.size() <= size_t(generate::max_prompt_tokens(device->n_ctx()))) {
      request.device = generate::GenerationRequest{std::move(prompt), options};
    } else {
      request.device_prompt_tokens = int(prompt.size());
    }
  }
  return request;
}

// A streamed cloud call on its own thread, so that the consumer can wait for its
// events with a deadline and walk away (cancelling) when its own client does. The
// thread owns a copy of the client: it may outlive the router while it winds down.
struct RoutedGeneration::CloudStream {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<std::string> events;
  bool finished = false;
  CloudResult result;
  std::atomic<bool> cancelled{false};

  static std::shared_ptr<CloudStream> start(CloudClient cloud, std::string path, std::string body) {
    auto stream = std::make_shared<CloudStream>();
    std::thread([stream, cloud = std::move(cloud), path = std::move(path), body = std::move(body)] {
      CloudResult result = cloud.post_stream(path, body, [&](const std::string& data) {
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

RoutedGeneration::RoutedGeneration(Router* router, Device device, RoutedRequest request)
    : router_(router), device_(std::move(device)), request_(std::move(request)), arrived_ms_(unix_ms()),
      started_(Clock::now()) {}

RoutedGeneration::~RoutedGeneration() {
  if (relay_) relay_->cancelled = true;
  if (device_stream_) device_stream_->cancel();
}

void RoutedGeneration::cancel() { cancelled_ = true; }

double RoutedGeneration::elapsed_ms() const {
  return std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
}

bool RoutedGeneration::device_cannot_serve() const { return note_.route == "device" && !device_stream_; }

std::string RoutedGeneration::refusal_message() const {
  return "the router refused this request (" + decision_.reason +
         "): private data stays on the device, and the device cannot serve this request or it needs a cloud "
         "service; install a device model, shorten the request, use device-only, or allow redaction "
         "(redact_to_cloud) where that is acceptable";
}

void RoutedGeneration::record(const std::string& model, int64_t tokens_in, int64_t tokens_out, double ttft_ms,
                              double cost_fen) const {
  if (!router_) return;
  LedgerEntry entry;
  entry.unix_ms = arrived_ms_;
  entry.route = note_.route;
  entry.reason = note_.reason;
  entry.model = model;
  entry.tokens_in = tokens_in;
  entry.tokens_out = tokens_out;
  entry.ttft_ms = ttft_ms;
  entry.latency_ms = elapsed_ms();
  entry.cloud_cost_fen = cost_fen;
  // Savings against sending everything to the cloud: what the cloud would have charged.
  entry.saved_fen = note_.route == "refused" ? 0 : router_->cloud_cost_fen(tokens_in, tokens_out) - cost_fen;
  entry.fallback = note_.fallback;
  try {
    router_->record(entry);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "tandem: ledger: %s\n", error.what());  // an answer is never lost to the ledger
  }
}

void RoutedGeneration::start_device(generate::GenerationRequest request) {
  device_stream_ = device_.generator->start(std::move(request));
  state_ = State::Device;
}

const RouteNote& RoutedGeneration::start() {
  if (state_ != State::New) fail("routed generation: start() twice");
  Strictness strictness = router_ ? router_->config().policy.strictness : Strictness::Balanced;
  if (!router_) {
    decision_.route = Route::Device;
    decision_.reason = "no_router";
  } else if (request_.decided) {
    decision_ = request_.decided->decision;
    cloud_ = request_.decided->cloud;
    if (decision_.route == Route::Cloud && !cloud_) fail("routed generation: a cloud decision without a cloud");
  } else {
    RouteInput input;
    input.text = request_.route_text ? *request_.route_text : request_text(request_.body);
    input.task_text = request_.route_text ? *request_.route_text : request_task_text(request_.body);
    input.preference = request_.preference.value_or(router_->config().preference);
    input.data_tags = request_.data_tags;
    input.strictness = request_.strictness;
    input.wants_tools = request_wants_tools(request_.body);
    input.prompt_tokens = request_.device ? int(request_.device->prompt.size()) : request_.device_prompt_tokens;
    const Routed routed = router_->route(input);
    decision_ = routed.decision;
    cloud_ = routed.cloud;
    strictness = effective_strictness(input, router_->config().policy);
  }
  if (decision_.route == Route::Cloud && decision_.redact) {
    // Fail closed: a redacted request leaves only if what redaction left passes the privacy check.
    redactor_ = std::make_unique<Redactor>();
    redacted_body_ = cloud_body(request_.body, cloud_->endpoint().model, redactor_.get(), strictness);
    const PrivacyVerdict left = check_redacted(request_text(*redacted_body_), strictness);
    if (left.is_private) {
      decision_.route = Route::Refused;
      decision_.redact = false;
      decision_.reason += ";redaction_insufficient:" + left.describe();
      redactor_.reset();
      redacted_body_.reset();
    }
  }
  note_ = {route_name(decision_.route), decision_.reason, false};

  if (decision_.route == Route::Refused) {
    state_ = State::Refused;
    record("", 0, 0, 0, 0);
    return note_;
  }
  if (decision_.route == Route::Device) {
    if (request_.device && device_.generator) start_device(*request_.device);
    else state_ = State::Done;  // device_cannot_serve(): the surface says why
    return note_;
  }

  ojson body = redacted_body_ ? std::move(*redacted_body_) : cloud_body(request_.body, cloud_->endpoint().model, nullptr);
  body["stream"] = request_.stream;
  if (!request_.stream) {
    const CloudResult result = cloud_->post(request_.cloud_path, to_wire(body));
    ojson answer = result.ok ? ojson::parse(result.body, nullptr, false) : ojson();
    if (!result.ok || !answer.is_object()) {
      fall_back(result.ok ? "bad_answer" : result.failure);
      return note_;
    }
    router_->cloud_succeeded(*cloud_);
    cloud_answer_ = std::move(answer);
    state_ = State::CloudWhole;
    return note_;
  }

  // Streamed: wait for the cloud's first event before committing to it, so that a
  // cloud failing before it answers falls back with an honest route.
  body["stream_options"] = {{"include_usage", true}};  // the ledger counts the cloud's tokens
  relay_ = CloudStream::start(*cloud_, request_.cloud_path, to_wire(body));
  const auto deadline = std::chrono::milliseconds(int64_t(cloud_->endpoint().timeout_s * 1000) + 200);
  const bool ended = relay_->wait(first_events_, deadline);
  if (first_events_.empty()) {
    relay_->cancelled = true;
    fall_back(ended ? relay_->result.failure : "timeout");
    return note_;
  }
  state_ = State::CloudStreaming;
  return note_;
}

// The cloud failed before answering: the device takes the whole request, if it can.
void RoutedGeneration::fall_back(const std::string& failure) {
  router_->cloud_failed(*cloud_, failure);
  if (!request_.device || !device_.generator) {
    throw CloudFailed(failure, "the cloud failed (" + failure + ") and the device cannot serve this request");
  }
  note_ = {"device", "fallback:cloud_" + failure, true};
  start_device(*request_.device);
}

generate::Outcome RoutedGeneration::drive_device(const RoutedCallbacks& callbacks) {
  generate::PieceStream& stream = *device_stream_;
  std::vector<generate::Piece> pieces;
  bool finished = false;
  while (!finished) {
    if (cancelled_) stream.cancel();
    finished = stream.wait(pieces, kPoll);
    for (generate::Piece& piece : pieces) {
      if (cancelled_) break;
      if (callbacks.on_piece && !callbacks.on_piece(RoutedPiece{std::move(piece.text), std::move(piece.logprob), nullptr})) {
        cancelled_ = true;
      }
    }
    pieces.clear();
    if (!finished && !cancelled_ && callbacks.on_wait && !callbacks.on_wait()) cancelled_ = true;
  }
  return stream.outcome();
}

RoutedOutcome RoutedGeneration::run(const RoutedCallbacks& callbacks) {
  RoutedOutcome outcome;
  outcome.note = note_;
  switch (state_) {
    case State::New: fail("routed generation: run() before start()");
    case State::Refused:
    case State::Done:
      if (device_cannot_serve()) outcome.error = "the device cannot serve this request";
      return outcome;
    case State::Device: {
      state_ = State::Done;
      const generate::Outcome device = drive_device(callbacks);
      outcome.device = device;
      outcome.finish = device.finish;
      outcome.error = device.error;
      outcome.tokens_in = device.n_prompt;
      outcome.tokens_out = device.n_generated;
      record(device_.model, device.n_prompt, device.n_generated, 1000 * (device.queue_seconds + device.prompt_seconds), 0);
      return outcome;
    }
    case State::CloudWhole: {
      state_ = State::Done;
      RoutedPiece piece;
      piece.text = answer_text(cloud_answer_, redactor_.get());
      piece.cloud_json = &cloud_answer_;
      const ojson usage = cloud_answer_.value("usage", ojson::object());
      const int64_t prompt_estimate =
          request_.device ? int64_t(request_.device->prompt.size()) : estimate_tokens(request_text(request_.body));
      outcome.tokens_in = usage.value("prompt_tokens", prompt_estimate);
      outcome.tokens_out = usage.value("completion_tokens", estimate_tokens(piece.text));
      outcome.finish = cloud_finish(cloud_answer_).value_or(generate::FinishReason::Stop);
      record(cloud_->endpoint().model, outcome.tokens_in, outcome.tokens_out, elapsed_ms(),
             cloud_->endpoint().price.cost_fen(outcome.tokens_in, outcome.tokens_out));
      if (callbacks.on_piece && !callbacks.on_piece(piece)) outcome.finish = generate::FinishReason::Cancelled;
      return outcome;
    }
    case State::CloudStreaming:
      state_ = State::Done;
      return run_cloud_stream(callbacks);
  }
  return outcome;
}

RoutedOutcome RoutedGeneration::run_cloud_stream(const RoutedCallbacks& callbacks) {
  RoutedOutcome outcome;
  outcome.note = note_;
  const CloudEndpoint& endpoint = cloud_->endpoint();
  std::unique_ptr<StreamRestorer> restorer;
  if (redactor_) restorer = std::make_unique<StreamRestorer>(*redactor_);
  std::string cloud_text;  // what the cloud said so far (restored)
  outcome.tokens_in = request_.device ? int64_t(request_.device->prompt.size()) : estimate_tokens(request_text(request_.body));
  double ttft_ms = -1;
  bool saw_usage = false;

  std::vector<std::string> events = std::move(first_events_);
  for (;;) {
    if (cancelled_) {
      relay_->cancelled = true;
      outcome.finish = generate::FinishReason::Cancelled;
      if (!saw_usage) outcome.tokens_out = estimate_tokens(cloud_text);
      record(endpoint.model, outcome.tokens_in, outcome.tokens_out, ttft_ms, endpoint.price.cost_fen(outcome.tokens_in, outcome.tokens_out));
      return outcome;
    }
    const bool ended = relay_->wait(events, events.empty() ? kPoll : std::chrono::milliseconds(0));
    bool done = false;
    for (const std::string& data : events) {
      if (cancelled_) break;
      if (data == "[DONE]") {
        if (restorer) {
          if (std::string rest = restorer->flush(); !rest.empty()) {
            cloud_text += rest;
            if (callbacks.on_piece && !callbacks.on_piece(RoutedPiece{rest, std::nullopt, nullptr})) cancelled_ = true;
          }
        }
        done = true;
        break;
      }
      ojson chunk = ojson::parse(data, nullptr, false);
      if (!chunk.is_object()) continue;
      if (chunk.contains("usage") && chunk["usage"].is_object()) {
        outcome.tokens_in = chunk["usage"].value("prompt_tokens", outcome.tokens_in);
        outcome.tokens_out = chunk["usage"].value("completion_tokens", outcome.tokens_out);
        saw_usage = true;
      }
      if (auto finish = cloud_finish(chunk)) outcome.finish = *finish;
      RoutedPiece piece;
      if (ojson* text = chunk_text(chunk)) {
        piece.text = text->get<std::string>();
        if (restorer) piece.text = restorer->feed(piece.text);
        *text = piece.text;
        cloud_text += piece.text;
        if (ttft_ms < 0 && !piece.text.empty()) ttft_ms = elapsed_ms();
      }
      piece.cloud_json = &chunk;
      if (callbacks.on_piece && !callbacks.on_piece(piece)) cancelled_ = true;
    }
    events.clear();
    if (cancelled_) continue;
    if (done) {
      router_->cloud_succeeded(*cloud_);
      if (!saw_usage) outcome.tokens_out = estimate_tokens(cloud_text);
      record(endpoint.model, outcome.tokens_in, outcome.tokens_out, ttft_ms < 0 ? elapsed_ms() : ttft_ms,
             endpoint.price.cost_fen(outcome.tokens_in, outcome.tokens_out));
      return outcome;
    }
    if (ended) break;
    if (callbacks.on_wait && !callbacks.on_wait()) cancelled_ = true;
  }

  // The cloud failed mid-answer: the device continues from what was said.
  const std::string failure = relay_->result.failure.empty() ? "stream_cut" : relay_->result.failure;
  router_->cloud_failed(*cloud_, failure);
  note_ = {"device", "fallback:cloud_" + failure, true};
  outcome.note = note_;
  if (callbacks.on_route) callbacks.on_route(note_);
  if (!request_.device || !device_.generator) {
    outcome.error = "the cloud failed (" + failure + ") mid-answer and the device cannot continue it";
    record(endpoint.model, outcome.tokens_in, outcome.tokens_out, ttft_ms, 0);
    return outcome;
  }
  generate::GenerationRequest continuation = *request_.device;
  int64_t said_tokens = 0;
  if (!cloud_text.empty()) {
    const auto said = device_.generator->tokenizer().encode(cloud_text, false, false);
    continuation.prompt.insert(continuation.prompt.end(), said.begin(), said.end());
    said_tokens = int64_t(said.size());
  }
  // The cloud is paid for what it said before it broke off (the device's tokens for it).
  const double cloud_cost = endpoint.price.cost_fen(outcome.tokens_in, said_tokens);
  const size_t max_prompt = size_t(std::max(1, generate::max_prompt_tokens(device_.generator->n_ctx())));
  if (continuation.prompt.size() > max_prompt) continuation.prompt.resize(max_prompt);
  int& max_tokens = continuation.options.max_tokens;
  if (max_tokens > 0) max_tokens = std::max(1, max_tokens - int(said_tokens));
  try {
    start_device(std::move(continuation));
  } catch (const std::exception& error) {
    outcome.error = error.what();
    record(endpoint.model, outcome.tokens_in, said_tokens, ttft_ms, cloud_cost);
    return outcome;
  }
  state_ = State::Done;
  const generate::Outcome device = drive_device(callbacks);
  outcome.device = device;
  outcome.finish = device.finish;
  outcome.error = device.error;
  outcome.tokens_out = said_tokens + device.n_generated;
  record(device_.model, outcome.tokens_in, outcome.tokens_out, ttft_ms, cloud_cost);
  return outcome;
}

}  // namespace tandem::router
