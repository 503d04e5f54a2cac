// Writes a started generation (router::RoutedGeneration: the device, the cloud, or
// the device after a cloud failure) out as HTTP: one JSON response, or server-sent
// events. Each response is produced by one call of its content provider, which runs
// the generation and writes its pieces as they come; a failed write means the client
// went away, and the generation is cancelled.
#include <cstdio>

#include "server/server_impl.h"

namespace tandem::server {
namespace {

// Log-probabilities arrive one per piece; the writer takes a list.
std::vector<TokenLogprob> logprobs_of(const router::RoutedPiece& piece) {
  std::vector<TokenLogprob> logprobs;
  if (piece.logprob) logprobs.push_back(*piece.logprob);
  return logprobs;
}

// A stream chunk from the cloud that carries only usage (the router asks for it).
bool usage_only(const ojson& chunk) {
  return chunk.contains("usage") && chunk["usage"].is_object() && chunk.contains("choices") &&
         chunk["choices"].is_array() && chunk["choices"].empty();
}

}  // namespace

ojson route_json(const router::RouteNote& note) {
  ojson json{{"route", note.route}, {"reason", note.reason}};
  if (note.fallback) json["fallback"] = true;
  return json;
}

void HttpServer::Impl::answer(std::shared_ptr<router::RoutedGeneration> generation, const ApiRequest& reply,
                              httplib::Response& res) {
  const bool routed = router != nullptr;
  // An answer that starts on the device begins with the echoed prompt; the cloud echoes by itself.
  const std::string echo = generation->note().route == "device" ? reply.echo : "";
  auto release = [generation](bool) { generation->cancel(); };  // no-op after a normal end

  if (!reply.stream) {
    // The whole answer is one JSON document, but it is sent chunked: while the model
    // works, a space (JSON allows leading whitespace) goes out every 250 ms, so that a
    // client that hung up is noticed by a failed write and its generation cancelled,
    // instead of running to max_tokens for nobody.
    res.set_chunked_content_provider(
        "application/json",
        [this, generation, reply, echo, routed](size_t, httplib::DataSink& sink) {
          ResponseWriter writer(reply, info, next_response_id(reply.endpoint), unix_time());
          std::string text = echo;
          std::vector<TokenLogprob> logprobs;
          ojson cloud_answer;
          Clock::time_point last_write = Clock::now();
          bool client_gone = false;
          auto keep_alive = [&] {
            if (stop_requested) return false;
            if (Clock::now() - last_write < std::chrono::milliseconds(250)) return true;
            last_write = Clock::now();
            client_gone = !sink.write(" ", 1);
            return !client_gone;
          };
          router::RoutedCallbacks callbacks;
          callbacks.on_piece = [&](const router::RoutedPiece& piece) {
            if (piece.cloud_json) cloud_answer = *piece.cloud_json;
            text += piece.text;
            if (piece.logprob) logprobs.push_back(*piece.logprob);
            return keep_alive();
          };
          callbacks.on_wait = keep_alive;
          const router::RoutedOutcome outcome = generation->run(callbacks);
          if (outcome.device) metrics.record(*outcome.device);
          if (client_gone || stop_requested) return false;

          ojson response;
          if (!outcome.error.empty()) {
            response = error_json(ApiError(400, "invalid_request_error", outcome.error));
          } else if (!cloud_answer.is_null()) {
            response = std::move(cloud_answer);
          } else {
            response = writer.complete(text, logprobs, outcome.device.value_or(Outcome{}));
          }
          if (routed) response["tandem"] = route_json(outcome.note);
          const std::string out = to_wire(response);
          if (!sink.write(out.data(), out.size())) return false;
          sink.done();
          return true;
        },
        release);
    return;
  }

  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, generation, reply, echo, routed](size_t, httplib::DataSink& sink) {
        auto writer = std::make_unique<ResponseWriter>(reply, info, next_response_id(reply.endpoint), unix_time());
        router::RouteNote note = generation->note();
        bool client_gone = false;
        auto send = [&](const std::string& out) {
          client_gone = client_gone || !sink.write(out.data(), out.size());
          return !client_gone;
        };
        // Every chunk of a routed answer says where it comes from.
        auto tagged = [&](ojson chunk) {
          if (routed) chunk["tandem"] = route_json(note);
          return chunk;
        };
        if (!echo.empty() && !send(sse(tagged(writer->chunk(echo, {}))))) return false;

        router::RoutedCallbacks callbacks;
        callbacks.on_piece = [&](const router::RoutedPiece& piece) {
          if (piece.cloud_json) {
            // The router asked the cloud for usage; the client sees it only when it asked too.
            if (usage_only(*piece.cloud_json) && !reply.include_usage) return true;
            return send(sse(tagged(*piece.cloud_json)));
          }
          if (piece.text.empty() && !piece.logprob) return true;
          return send(sse(tagged(writer->chunk(piece.text, logprobs_of(piece)))));
        };
        callbacks.on_route = [&](const router::RouteNote& changed) {
          note = changed;
          ++metrics.cloud_fallbacks;
          std::fprintf(stderr, "tandem route: %s (mid-stream)\n", changed.header().c_str());
          // The device's continuation is a response of its own (id, role), without the echo.
          ApiRequest continuation = reply;
          continuation.echo.clear();
          writer = std::make_unique<ResponseWriter>(continuation, info, next_response_id(reply.endpoint), unix_time());
        };
        callbacks.on_wait = [&] { return !stop_requested; };
        const router::RoutedOutcome outcome = generation->run(callbacks);
        if (outcome.device) metrics.record(*outcome.device);
        if (client_gone) return false;

        std::string out;
        if (!outcome.error.empty()) {
          out += sse(outcome.device ? error_json(ApiError(400, "invalid_request_error", outcome.error))
                                    : error_json(ApiError(502, "server_error", outcome.error)));
        } else if (outcome.device) {
          out += sse(tagged(writer->final_chunk(*outcome.device)));
          if (reply.include_usage) out += sse(writer->usage_chunk(*outcome.device));
        }  // else the cloud's own last chunk (with its finish_reason) went out already
        out += "data: [DONE]\n\n";
        if (!send(out)) return false;
        sink.done();
        return true;
      },
      release);
}

}  // namespace tandem::server
