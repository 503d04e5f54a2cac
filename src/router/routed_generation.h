// Carrying out a routing decision, for every surface (the server, `tandem chat
// --router`, the C API): decide (Router), then answer on the device (any
// generate::Generator), relay the cloud's answer (restoring redacted values), or
// refuse; a cloud that fails before or during its answer hands the request to the
// device. Every routed request ends as one ledger row. Knows no HTTP besides the
// cloud tier's client: the answer comes out as pieces and route events through
// callbacks, and each surface only writes them out.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "generate/generator.h"
#include "router/redaction.h"
#include "router/router.h"
#include "tokenizer/chat_template.h"

namespace tandem::router {

using ojson = nlohmann::ordered_json;

// Where an answer comes from and why (X-Tandem-Route, "tandem" fields, the CLI's
// "[route: ...]", the C API's result).
struct RouteNote {
  std::string route;   // "device", "cloud" or "refused"
  std::string reason;  // the decision's reason, or "fallback:cloud_<failure>"
  bool fallback = false;
  std::string header() const;  // "device; reason=privacy:email"
};

struct RoutedRequest {
  // The request in OpenAI form (messages or a prompt, sampling fields): routing reads
  // its text, the cloud gets it (redacted when the decision says so; "model" and
  // "stream" are set here). router::chat_body builds one from chat messages.
  ojson body;
  std::string cloud_path = "/chat/completions";  // or "/completions"
  bool stream = true;  // false: one cloud call, whose whole answer is one piece
  std::optional<Preference> preference;  // the request's own; absent: the configured default
  // Decided by the caller, who routed a whole job of several requests at once (the
  // assistant's summaries): start() carries this decision out instead of asking the router.
  std::optional<Routed> decided;
  std::vector<std::string> data_tags;
  std::optional<Strictness> strictness;  // the request's own privacy setting (only ever tightens)
  // What the policy reads instead of the body's text: an app's request whose fixed wording
  // (a task template written by the project) must not count as the user's data. The cloud
  // still gets the whole body, redacted when the decision says so.
  std::optional<std::string> route_text;
  // The device's prompt and options; absent when the device cannot serve the request.
  std::optional<generate::GenerationRequest> device;
  int device_prompt_tokens = 0;  // without `device`: how long its prompt would be (0: unknown)
};

// A routed request for surfaces that hold chat messages (the CLI, the C API): the
// OpenAI body for the cloud (router::chat_body; `schema` adds response_format) and,
// with a device, its prompt in the device's chat format, or its length when it does
// not fit (generate::max_prompt_tokens).
RoutedRequest chat_request(const std::vector<tokenizer::ChatMessage>& messages, const generate::GenerateOptions& options,
                           const ojson* schema, const generate::Generator* device, const tokenizer::ChatFormat* format);

// The device tier: where its generations run and the model name the ledger records.
struct Device {
  generate::Generator* generator = nullptr;  // null: no device model
  std::string model;
};

struct RoutedPiece {
  std::string text;  // final text, redacted values restored
  std::optional<generate::TokenLogprob> logprob;  // device pieces, when asked for
  // The cloud's own JSON for this piece (a stream chunk, or the whole answer when not
  // streamed) with its text restored in place, for surfaces that relay it; null for
  // device pieces.
  const ojson* cloud_json = nullptr;
};

struct RoutedCallbacks {
  std::function<bool(const RoutedPiece&)> on_piece;  // false cancels
  std::function<void(const RouteNote&)> on_route;    // a fallback changed the route mid-answer
  // Called about every 100 ms while the answer is in progress; false cancels (a
  // surface checks here whether its client is still there).
  std::function<bool()> on_wait;
};

struct RoutedOutcome {
  RouteNote note;  // where the end of the answer came from
  generate::FinishReason finish = generate::FinishReason::Stop;
  std::optional<generate::Outcome> device;  // when the device generated (all of the answer or its end)
  int64_t tokens_in = 0, tokens_out = 0;    // as the ledger counts them
  std::string error;  // non-empty: the answer broke off (what came before was delivered)
};

// The cloud failed before answering and the device cannot serve the request.
class CloudFailed : public Error {
 public:
  CloudFailed(const std::string& failure, const std::string& message) : Error(message), failure(failure) {}
  std::string failure;  // "timeout", "unreachable", "http_502", ...
};

class RoutedGeneration {
 public:
  // `router` null: not routed; the device answers (reason "no_router") and nothing is
  // recorded. The router and the device's generator must outlive this object.
  RoutedGeneration(Router* router, Device device, RoutedRequest request);
  ~RoutedGeneration();
  RoutedGeneration(const RoutedGeneration&) = delete;
  RoutedGeneration& operator=(const RoutedGeneration&) = delete;

  // Decides the route. For the cloud, opens the call and waits for its first answer
  // (the whole answer when not streamed), falling back to the device when the cloud
  // fails first. A device answer is started here, so a full queue fails now.
  // Throws CloudFailed, and what the device's Generator::start throws.
  const RouteNote& start();
  const Decision& decision() const { return decision_; }  // the router's, before any fallback
  const RouteNote& note() const { return note_; }
  bool refused() const { return note_.route == "refused"; }
  // A device route for a request without a device prompt (the surface reports why).
  bool device_cannot_serve() const;
  std::string refusal_message() const;

  // Streams the answer through the callbacks, in this thread, and records it in the
  // ledger. Returns when it ended, broke off, or was cancelled.
  RoutedOutcome run(const RoutedCallbacks& callbacks);
  void cancel();  // from any thread

  struct CloudStream;

 private:
  enum class State { New, Refused, Device, CloudWhole, CloudStreaming, Done };
  void fall_back(const std::string& failure);
  void start_device(generate::GenerationRequest request);
  generate::Outcome drive_device(const RoutedCallbacks& callbacks);
  RoutedOutcome run_cloud_stream(const RoutedCallbacks& callbacks);
  void record(const std::string& model, int64_t tokens_in, int64_t tokens_out, double ttft_ms, double cost_fen) const;
  double elapsed_ms() const;

  Router* router_;
  Device device_;
  RoutedRequest request_;
  State state_ = State::New;
  Decision decision_;
  RouteNote note_;
  std::atomic<bool> cancelled_{false};
  int64_t arrived_ms_ = 0;
  std::chrono::steady_clock::time_point started_;

  std::shared_ptr<generate::PieceStream> device_stream_;
  const CloudClient* cloud_ = nullptr;
  std::unique_ptr<Redactor> redactor_;  // when the cloud gets placeholders
  std::optional<ojson> redacted_body_;  // built (and checked again) when the decision is made
  ojson cloud_answer_;                  // non-streamed answer
  std::shared_ptr<CloudStream> relay_;
  std::vector<std::string> first_events_;
};

}  // namespace tandem::router
