#include "assistant/summarize.h"

#include <algorithm>

#include "assistant/text.h"
#include "router/openai_body.h"
#include "router/privacy.h"
#include "tokenizer/tokenizer.h"

namespace tandem::assistant {
namespace {

// Tokens kept free in every device call besides the answer: joining a template and a
// text may tokenize a little differently from the parts counted apart.
constexpr int kSlack = 8;
// A note is clipped to half a group's budget less this, for the "[k] " labels and the
// blank lines between notes.
constexpr int kJoinMargin = 16;

std::string join_notes(const std::vector<std::string>& notes, size_t begin, size_t end) {
  std::string out;
  int label = 1;
  for (size_t i = begin; i < end; ++i) {
    if (notes[i].empty()) continue;
    if (!out.empty()) out += "\n\n";
    out.append("[").append(std::to_string(label++)).append("] ").append(notes[i]);
  }
  return out;
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

router::Routed decided(router::Route route, const std::string& reason) {
  router::Routed routed;
  routed.decision.route = route;
  routed.decision.reason = reason;
  return routed;
}

}  // namespace

struct SummaryJob::Impl {
  Engine engine;
  std::string document;
  SummaryOptions options;
  Routing routing;
  const SummaryPrompts* prompts = nullptr;
  std::string length_phrase;
  std::string focus;  // the focus fragment, filled ("" : none)
  generate::SamplerOptions sampling;
  int final_max_request = 0;  // the length's (or the caller's) cap, before the device's context clamps it
  std::string language;
  std::atomic<bool> cancelled{false};

  bool started = false;
  router::RouteNote note;
  std::unique_ptr<router::RoutedGeneration> whole;  // the document in one request (the cloud's route)
  Result result;

  const tokenizer::Tokenizer& tok() const { return engine.device->tokenizer(); }
  int count(std::string_view text) const { return int(tok().encode(text, false, false).size()); }
  std::vector<tokenizer::ChatMessage> messages(const std::string& user) const {
    return {{"system", prompts->system}, {"user", user}};
  }
  int prompt_tokens(const std::string& user) const { return int(engine.format->prompt(tok(), messages(user)).size()); }

  std::string single_prompt(std::string_view text) const {
    return fill(prompts->single, {{"length", length_phrase}, {"focus", focus}, {"text", std::string(text)}});
  }
  std::string map_prompt(int part, int parts, std::string_view text) const {
    return fill(prompts->map, {{"part", std::to_string(part)},
                               {"parts", std::to_string(parts)},
                               {"focus", focus},
                               {"text", std::string(text)}});
  }
  std::string reduce_prompt(const std::string& notes) const {
    return fill(prompts->reduce, {{"focus", focus}, {"text", notes}});
  }
  std::string final_prompt(const std::string& notes) const {
    return fill(prompts->final, {{"length", length_phrase}, {"focus", focus}, {"text", notes}});
  }

  SummaryPlan make_plan() const {
    SummaryPlan plan;
    plan.n_ctx = engine.device->n_ctx();
    const int n_ctx = plan.n_ctx;
    plan.final_max_tokens = std::min(final_max_request, std::max(8, n_ctx / 4));
    plan.notes_max_tokens = std::min(engine.tasks->notes_max_tokens(), std::max(8, n_ctx / 8));
    plan.single_budget = n_ctx - prompt_tokens(single_prompt("")) - plan.final_max_tokens - kSlack;
    plan.map_budget = n_ctx - prompt_tokens(map_prompt(999, 999, "")) - plan.notes_max_tokens - kSlack;
    plan.reduce_budget = n_ctx - prompt_tokens(reduce_prompt("")) - plan.notes_max_tokens - kSlack;
    plan.final_budget = n_ctx - prompt_tokens(final_prompt("")) - plan.final_max_tokens - kSlack;
    plan.note_limit = (std::min(plan.reduce_budget, plan.final_budget) - kJoinMargin) / 2;
    plan.document_tokens = count(trim(document));
    plan.single = plan.document_tokens <= plan.single_budget;
    if (plan.single) {
      plan.chunks.push_back({0, document.size(), plan.document_tokens});
      return plan;
    }
    if (plan.map_budget < 16 || plan.note_limit < 8) {
      throw AppError("context_length_exceeded",
                     "the device's context (" + std::to_string(n_ctx) +
                         " tokens) is too small to summarize a document in pieces: the prompts leave " +
                         std::to_string(std::max(0, plan.map_budget)) +
                         " tokens for a piece of the text; use a larger context (-c)");
    }
    plan.chunks = split_into_chunks(document, plan.map_budget, [this](std::string_view text) { return count(text); });
    return plan;
  }

  // A refusal still leaves its ledger row: the refusal goes through a routed generation.
  [[noreturn]] void refuse(const std::string& reason) {
    router::RoutedRequest request;
    request.body = router::chat_body(messages(""), {});
    request.decided = decided(router::Route::Refused, reason);
    router::RoutedGeneration generation(engine.router, {engine.device, engine.device_model}, std::move(request));
    detail::start(generation);
    throw AppError("route_refused", "refused (" + reason + ")", {"refused", reason, false});
  }

  // Device calls carry the job's decision out: the router does not decide again per call.
  detail::Driven call(const Events& events, CallInfo info, const std::string& user, int max_tokens, bool stream) {
    const std::vector<tokenizer::ChatMessage> chat = messages(user);
    std::vector<int32_t> prompt = engine.format->prompt(tok(), chat);
    const int n_ctx = engine.device->n_ctx();
    const int room = n_ctx - int(prompt.size());
    if (room < 1) {
      throw AppError("failed", "internal: a " + info.phase + " prompt of " + std::to_string(prompt.size()) +
                                   " tokens does not fit the context of " + std::to_string(n_ctx));
    }
    generate::GenerateOptions options;
    options.max_tokens = std::min(max_tokens, room);
    options.sampling = sampling;
    info.prompt_tokens = int(prompt.size());
    info.max_tokens = options.max_tokens;
    info.n_ctx = n_ctx;
    if (events.on_call) events.on_call(info);
    router::RoutedRequest request;
    request.body = router::chat_body(chat, options);
    request.device = generate::GenerationRequest{std::move(prompt), options};
    if (engine.router) request.decided = decided(router::Route::Device, note.reason);
    router::RoutedGeneration generation(engine.router, {engine.device, engine.device_model}, std::move(request));
    detail::start(generation);
    return detail::drive(generation, events, stream, cancelled, result);
  }

  // A note of at most `limit` tokens (cut at a token, never inside a character).
  std::string clip(std::string_view note, int limit) const {
    std::string text(trim(note));
    std::vector<int32_t> ids = tok().encode(text, false, false);
    if (int(ids.size()) <= limit) return text;
    ids.resize(size_t(limit));
    for (;;) {
      text = tok().decode(ids, false);
      while (!text.empty() && !valid_utf8(text)) text.pop_back();
      text = std::string(trim(text));
      if (count(text) <= limit || ids.empty()) return text;
      ids.pop_back();
    }
  }

  bool progress(const Events& events, const char* phase, int level, int done, int total) {
    if (events.on_progress && !events.on_progress(Progress{phase, level, done, total})) cancelled = true;
    return !cancelled;
  }

  Result cancelled_result() {
    result.finish = generate::FinishReason::Cancelled;
    return result;
  }

  Result run_device(const Events& events, const SummaryPlan& plan) {
    if (plan.single) {
      result.chunks = 1;
      if (!progress(events, "final", 0, 0, 1)) return cancelled_result();
      CallInfo info{"single", 0, 0, plan.document_tokens, plan.single_budget};
      info.end = document.size();
      detail::Driven d = call(events, info, single_prompt(trim(document)), plan.final_max_tokens, true);
      result.text = d.text;
      result.finish = d.outcome.finish;
      return result;
    }

    const int parts = int(plan.chunks.size());
    result.chunks = parts;
    std::vector<std::string> notes;
    if (!progress(events, "map", 0, 0, parts)) return cancelled_result();
    for (int i = 0; i < parts; ++i) {
      const Chunk& chunk = plan.chunks[size_t(i)];
      CallInfo info{"map", 0, i, chunk.tokens, plan.map_budget};
      info.begin = chunk.begin;
      info.end = chunk.end;
      detail::Driven d = call(events, info, map_prompt(i + 1, parts, chunk_text(document, chunk)), plan.notes_max_tokens, false);
      if (d.outcome.finish == generate::FinishReason::Cancelled) return cancelled_result();
      notes.push_back(clip(d.text, plan.note_limit));
      if (!progress(events, "map", 0, i + 1, parts)) return cancelled_result();
    }

    // Reduce until the notes fit the final prompt. Every note is at most note_limit
    // tokens, so any two fit one reduce call and a group holds two or more: each level
    // leaves at most ceil(n / 2) notes.
    int level = 0;
    while (notes.size() > 1 && count(join_notes(notes, 0, notes.size())) > plan.final_budget) {
      if (++level > kMaxLevels) throw AppError("failed", "internal: the reduce tree did not end");
      std::vector<std::pair<size_t, size_t>> groups;
      for (size_t i = 0; i < notes.size();) {
        size_t j = std::min(i + 2, notes.size());
        while (j < notes.size() && count(join_notes(notes, i, j + 1)) <= plan.reduce_budget) ++j;
        if (count(join_notes(notes, i, j)) > plan.reduce_budget) {
          throw AppError("failed", "internal: two notes exceed the reduce budget");
        }
        groups.emplace_back(i, j);
        i = j;
      }
      const int merges = int(std::count_if(groups.begin(), groups.end(), [](auto g) { return g.second - g.first > 1; }));
      if (!progress(events, "reduce", level, 0, merges)) return cancelled_result();
      std::vector<std::string> merged;
      int done = 0;
      for (const auto& [begin, end] : groups) {
        if (end - begin == 1) {
          merged.push_back(notes[begin]);
          continue;
        }
        const std::string joined = join_notes(notes, begin, end);
        CallInfo info{"reduce", level, done, count(joined), plan.reduce_budget};
        detail::Driven d = call(events, info, reduce_prompt(joined), plan.notes_max_tokens, false);
        if (d.outcome.finish == generate::FinishReason::Cancelled) return cancelled_result();
        merged.push_back(clip(d.text, plan.note_limit));
        if (!progress(events, "reduce", level, ++done, merges)) return cancelled_result();
      }
      if (merged.size() >= notes.size()) throw AppError("failed", "internal: a reduce level did not shrink");
      notes = std::move(merged);
    }

    result.levels = level + 1;
    if (!progress(events, "final", level + 1, 0, 1)) return cancelled_result();
    const std::string joined = join_notes(notes, 0, notes.size());
    CallInfo info{"final", level + 1, 0, count(joined), plan.final_budget};
    detail::Driven d = call(events, info, final_prompt(joined), plan.final_max_tokens, true);
    result.text = d.text;
    result.finish = d.outcome.finish;
    return result;
  }
};

SummaryJob::SummaryJob(const Engine& engine, std::string document, SummaryOptions options, Routing routing)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  if (!engine.tasks) fail("summarize: no tasks");
  if (!engine.device && !engine.router) fail("summarize: neither a device model nor a router");
  if (engine.device && !engine.format) fail("summarize: a device without its chat format");
  s.engine = engine;
  s.document = std::move(document);
  s.options = std::move(options);
  s.routing = std::move(routing);
  if (is_blank(s.document)) throw AppError("bad_document", "the document is empty");
  if (!valid_utf8(s.document)) throw AppError("bad_document", "the document is not UTF-8 text");
  const Tasks& tasks = *engine.tasks;
  const std::string length_name = s.options.length.empty() ? tasks.default_length() : s.options.length;
  const SummaryLength* length = nullptr;
  try {
    length = &tasks.length(length_name);
  } catch (const Error& error) {
    throw AppError("invalid_value", error.what());
  }
  s.language = output_language(s.options.lang, s.document);
  language_ = s.language;
  s.prompts = &tasks.summary_prompts(s.language);
  s.length_phrase = length->phrase.at(s.language);
  if (!s.options.focus.empty()) s.focus = fill(s.prompts->focus, {{"focus", s.options.focus}});
  s.sampling = s.options.sampling.apply(tasks.summary_sampling());
  if (s.options.sampling.max_tokens && *s.options.sampling.max_tokens < 1) {
    throw AppError("invalid_value", "max_tokens must be at least 1");
  }
  s.final_max_request = s.options.sampling.max_tokens.value_or(length->max_tokens);
  s.result.language = s.language;
  if (engine.device) plan_ = s.make_plan();
}

SummaryJob::~SummaryJob() = default;

void SummaryJob::cancel() { impl_->cancelled = true; }

const router::RouteNote& SummaryJob::start() {
  Impl& s = *impl_;
  if (s.started) fail("summarize: start() twice");
  s.started = true;
  router::Router* router = s.engine.router;
  if (!router) {
    s.note = {"device", "no_router", false};
    return s.note;
  }
  const std::optional<router::Preference> preference = s.routing.preference;
  auto input = [&](std::string text, int prompt_tokens) {
    router::RouteInput in;
    in.text = std::move(text);
    in.preference = preference.value_or(router->config().preference);
    in.data_tags = s.routing.data_tags;
    in.prompt_tokens = prompt_tokens;
    return in;
  };

  // Each chunk on its own: one that the policy keeps on the device for privacy keeps the
  // whole job there. Without a device there is no tokenizer: chunks of about 1000
  // tokens by the usual 3 bytes a token.
  std::vector<Chunk> chunks = plan_.chunks;
  if (!s.engine.device) {
    chunks = split_into_chunks(s.document, 1000, [](std::string_view text) { return int(text.size() / 3 + 1); });
  }
  for (size_t i = 0; i < chunks.size(); ++i) {
    const router::Decision d = router->route(input(std::string(chunk_text(s.document, chunks[i])), chunks[i].tokens)).decision;
    if (!starts_with(d.reason, "privacy:")) continue;
    const std::string reason =
        d.reason.substr(0, d.reason.find(';')) + ";chunk:" + std::to_string(i + 1) + "/" + std::to_string(chunks.size());
    if (!s.engine.device) s.refuse(reason + ";device:no_device_model");
    s.note = {"device", reason, false};
    return s.note;
  }

  // The whole job: its size is what one device call would need, so a document the device
  // must summarize in pieces reads as too long for it ("device:context").
  int need = 0;
  if (s.engine.device) {
    const int one_call = plan_.document_tokens + (plan_.n_ctx - plan_.single_budget) - kSlack;
    need = plan_.single ? one_call : std::max(one_call, plan_.n_ctx);
  }
  // As a whole: the pattern scanners over the entire text, for a value a chunk boundary cut
  // in two. The classifier judged each chunk above and does not judge the whole: it is
  // trained on request-sized text, and over a long document its evidence only accumulates.
  const std::vector<router::PiiFinding> whole = router::find_pii(s.document);
  if (!whole.empty()) {
    const std::string reason = "privacy:" + whole.front().kind + ";whole_document";
    if (!s.engine.device) s.refuse(reason + ";device:no_device_model");
    s.note = {"device", reason, false};
    return s.note;
  }
  // The rest of the policy (preference, network, size, difficulty) reads the job: the
  // document's size as prompt_tokens, and the user's own question.
  const router::Routed routed = router->route(input(s.options.focus, need));
  const router::Decision& d = routed.decision;
  if (d.route == router::Route::Device) {
    s.note = {"device", d.reason, false};
    return s.note;
  }
  if (d.route == router::Route::Cloud && !d.redact) {
    // One request with the whole document; the device keeps a copy when it could answer it in one call.
    const std::vector<tokenizer::ChatMessage> chat = s.messages(s.single_prompt(trim(s.document)));
    generate::GenerateOptions options;
    options.sampling = s.sampling;
    options.max_tokens = s.final_max_request;
    router::RoutedRequest request;
    request.body = router::chat_body(chat, options);
    if (s.engine.device && plan_.single) {
      generate::GenerateOptions device_options = options;
      device_options.max_tokens = plan_.final_max_tokens;
      request.device = generate::GenerationRequest{s.engine.format->prompt(s.tok(), chat), device_options};
    }
    request.decided = routed;
    s.whole = std::make_unique<router::RoutedGeneration>(router, router::Device{s.engine.device, s.engine.device_model},
                                                         std::move(request));
    try {
      s.note = detail::start(*s.whole);
    } catch (const AppError& error) {
      // The cloud failed before answering and the device could not take the one request:
      // it takes the job, in pieces.
      if (error.code != "cloud_failed" || !s.engine.device) throw;
      s.whole.reset();
      s.note = {"device", "fallback:cloud_" + error.failure, true};
    }
    return s.note;
  }
  // Refused, or sent redacted, only because the device would need more than one call:
  // map-reduce removes that limit, so the job stays on the device.
  const size_t at = d.reason.find("device:context");
  if (s.engine.device && at != std::string::npos) {
    std::string reason = d.reason.substr(0, at) + "map_reduce" + d.reason.substr(at + std::string("device:context").size());
    if (const size_t r = reason.find(";redacted"); r != std::string::npos) reason.erase(r, std::string(";redacted").size());
    s.note = {"device", reason, false};
    return s.note;
  }
  s.refuse(d.reason);
}

Result SummaryJob::run(const Events& events) {
  Impl& s = *impl_;
  if (!s.started) start();
  s.result.note = s.note;
  if (events.on_route) events.on_route(s.note);
  if (s.whole) {
    // The cloud's one request (or the device's, when the cloud failed first and the device could take it).
    s.result.chunks = 1;
    if (!s.progress(events, "final", 0, 0, 1)) return s.cancelled_result();
    CallInfo info{s.note.route == "cloud" ? "cloud" : "single", 0, 0, plan_.document_tokens, plan_.single_budget};
    info.end = s.document.size();
    if (events.on_call) events.on_call(info);
    detail::Driven d = detail::drive(*s.whole, events, true, s.cancelled, s.result);
    s.result.text = d.text;
    s.result.finish = d.outcome.finish;
    return s.result;
  }
  return s.run_device(events, plan_);
}

}  // namespace tandem::assistant
