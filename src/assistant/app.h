// What the assistant apps (summarize, write) share: the engine they run on (the router
// and the device tier), the caller's routing wishes, the events a surface receives while
// a job runs, its result, and the errors it reports. The apps sit between the router
// and the surfaces (CLI, server, C API): every model call they make is a
// router::RoutedGeneration, so the one generation core and the router's ledger see them.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "assistant/tasks.h"
#include "core/error.h"
#include "generate/generator.h"
#include "router/routed_generation.h"
#include "tokenizer/chat_template.h"

namespace tandem::assistant {

struct Engine {
  router::Router* router = nullptr;        // null: not routed, the device answers ("no_router")
  generate::Generator* device = nullptr;   // null: no device model
  const tokenizer::ChatFormat* format = nullptr;  // the device model's chat format (with a device)
  std::string device_model;                // the name the ledger records
  const Tasks* tasks = nullptr;            // required
};

// The caller's own routing: a preference and app data tags, as for chat.
struct Routing {
  std::optional<router::Preference> preference;
  std::vector<std::string> data_tags;
};

struct Progress {
  std::string phase;  // "map" (chunk notes), "reduce" (combining notes), "final" (the answer)
  int level = 0;      // 0 for map; 1, 2, ... for each reduce level; the final's level is the last + 1
  int done = 0, total = 0;
};

// One model call, for tests and diagnostics: what went in and the limits it kept.
struct CallInfo {
  std::string phase;  // "single", "map", "reduce", "final", "write", "cloud"
  int level = 0, index = 0;
  int input_tokens = 0;  // the chunk's or the joined notes' tokens
  int input_budget = 0;  // what they were allowed
  int prompt_tokens = 0, max_tokens = 0, n_ctx = 0;  // prompt_tokens + max_tokens <= n_ctx on the device
  size_t begin = 0, end = 0;  // map: the chunk's byte range in the document
};

struct Events {
  std::function<void(const router::RouteNote&)> on_route;  // once decided, and after a fallback
  std::function<bool(const Progress&)> on_progress;        // false cancels
  std::function<bool(std::string_view text)> on_text;      // the answer as it comes; false cancels
  std::function<void(const CallInfo&)> on_call;
  // Polled about every 100 ms while a model works (Ctrl-C, a client gone); false cancels.
  std::function<bool()> keep_going;
};

struct Result {
  router::RouteNote note;  // where the answer came from, after any fallback
  generate::FinishReason finish = generate::FinishReason::Stop;
  std::string language;    // of the answer: "zh" or "en"
  std::string text;        // the answer (also given to on_text)
  int chunks = 0, levels = 0, calls = 0;
  int64_t prompt_tokens = 0, completion_tokens = 0;
};

// A job that cannot be done, with what the surfaces need to report it:
//   invalid_value            a bad option (unknown length, task, language; no input where required)
//   bad_document             the document cannot be read (document.h)
//   context_length_exceeded  the device's context cannot hold the request, and no cloud may take it
//   route_refused            the router refused (note says why)
//   cloud_failed             the cloud failed and the device could not take over (failure: "timeout", ...)
//   failed                   a model call broke off
class AppError : public Error {
 public:
  AppError(std::string code, const std::string& message, router::RouteNote note = {}, std::string failure = "")
      : Error(message), code(std::move(code)), note(std::move(note)), failure(std::move(failure)) {}
  std::string code;
  router::RouteNote note;
  std::string failure;
};

// "auto" -> the language of `text`; "zh" / "en" as given; anything else is invalid_value.
std::string output_language(const std::string& lang, std::string_view text);

}  // namespace tandem::assistant

namespace tandem::assistant::detail {

// Runs a started routed generation for an app: collects its text (handing it to
// events.on_text when `stream`), reports route changes, and cancels when `cancelled`
// is set, on_text refuses, or keep_going says stop. Counts the call into `result`.
struct Driven {
  std::string text;
  router::RoutedOutcome outcome;
};
Driven drive(router::RoutedGeneration& generation, const Events& events, bool stream, std::atomic<bool>& cancelled,
             Result& result);

// RoutedGeneration::start(), with a refusal, a failed cloud and a request the device
// cannot serve as AppErrors (what a server's full queue throws passes through).
router::RouteNote start(router::RoutedGeneration& generation);

}  // namespace tandem::assistant::detail
