#include "assistant/app.h"

#include "assistant/text.h"

namespace tandem::assistant {

std::string output_language(const std::string& lang, std::string_view text) {
  if (lang.empty() || lang == "auto") return detect_language(text);
  if (lang == "zh" || lang == "en") return lang;
  throw AppError("invalid_value", "unknown language '" + lang + "' (use auto, zh or en)");
}

namespace detail {

Driven drive(router::RoutedGeneration& generation, const Events& events, bool stream, std::atomic<bool>& cancelled,
             Result& result) {
  Driven driven;
  router::RoutedCallbacks callbacks;
  callbacks.on_piece = [&](const router::RoutedPiece& piece) {
    if (cancelled) return false;
    driven.text += piece.text;
    if (stream && !piece.text.empty() && events.on_text && !events.on_text(piece.text)) cancelled = true;
    return !cancelled.load();
  };
  callbacks.on_route = [&](const router::RouteNote& note) {
    result.note = note;
    if (events.on_route) events.on_route(note);
  };
  callbacks.on_wait = [&] {
    if (!cancelled && events.keep_going && !events.keep_going()) cancelled = true;
    return !cancelled.load();
  };
  driven.outcome = generation.run(callbacks);
  ++result.calls;
  result.prompt_tokens += driven.outcome.tokens_in;
  result.completion_tokens += driven.outcome.tokens_out;
  if (cancelled) driven.outcome.finish = generate::FinishReason::Cancelled;
  if (!driven.outcome.error.empty() && driven.outcome.finish != generate::FinishReason::Cancelled) {
    throw AppError(driven.outcome.device ? "failed" : "cloud_failed", driven.outcome.error, driven.outcome.note);
  }
  return driven;
}

router::RouteNote start(router::RoutedGeneration& generation) {
  router::RouteNote note;
  try {
    note = generation.start();
  } catch (const router::CloudFailed& failed) {
    throw AppError("cloud_failed", failed.what(), {"refused", "fallback:cloud_" + failed.failure, true}, failed.failure);
  }
  if (generation.refused()) throw AppError("route_refused", generation.refusal_message(), note);
  if (generation.device_cannot_serve()) {
    throw AppError("context_length_exceeded",
                   "the request does not fit the device's context and the router may not send it to a cloud (" +
                       note.reason + ")",
                   note);
  }
  return note;
}

}  // namespace detail
}  // namespace tandem::assistant
