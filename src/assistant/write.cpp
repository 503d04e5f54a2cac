#include "assistant/write.h"

#include "assistant/text.h"
#include "router/openai_body.h"

namespace tandem::assistant {

WriteJob::WriteJob(const Engine& engine, WriteOptions o, Routing routing) : engine_(engine), routing_(std::move(routing)) {
  if (!engine.tasks) fail("write: no tasks");
  if (!engine.device && !engine.router) fail("write: neither a device model nor a router");
  if (engine.device && !engine.format) fail("write: a device without its chat format");
  const WriteTask* task = nullptr;
  try {
    task = &engine.tasks->task(o.task);
  } catch (const Error& error) {
    throw AppError("invalid_value", error.what());
  }
  const std::string instructions(trim(o.instructions));
  const std::string input(trim(o.input));
  const std::string tone(trim(o.tone));
  if (!valid_utf8(instructions) || !valid_utf8(input) || !valid_utf8(tone)) {
    throw AppError("invalid_value", "the instructions, input and tone must be UTF-8 text");
  }
  if (task->input == InputUse::Required && input.empty()) {
    throw AppError("invalid_value", "the task '" + task->name + "' needs input text to work on");
  }
  if (task->input == InputUse::None && !input.empty()) {
    throw AppError("invalid_value", "the task '" + task->name + "' takes no input text, only instructions");
  }
  if (instructions.empty() && input.empty()) {
    throw AppError("invalid_value", "nothing to write about: give instructions or input text");
  }
  if (task->other_language && (o.lang.empty() || o.lang == "auto")) {
    language_ = detect_language(input.empty() ? instructions : input) == "zh" ? "en" : "zh";
  } else {
    language_ = output_language(o.lang, instructions + "\n" + input);
  }
  const WriteTemplates& t = task->templates.at(language_);
  const std::string user =
      fill(t.prompt, {{"instructions", instructions.empty() ? "" : fill(t.instructions, {{"instructions", instructions}})},
                      {"tone", tone.empty() ? "" : fill(t.tone, {{"tone", tone}})},
                      {"input", input.empty() ? "" : fill(t.input, {{"input", input}})}});
  messages_ = {{"system", t.system}, {"user", user}};
  // The router judges the user's words, not the task's template around them.
  for (const std::string* part : {&instructions, &tone, &input}) {
    if (part->empty()) continue;
    if (!user_text_.empty()) user_text_ += "\n\n";
    user_text_ += *part;
  }
  if (o.sampling.max_tokens && *o.sampling.max_tokens < 1) throw AppError("invalid_value", "max_tokens must be at least 1");
  options_.max_tokens = o.sampling.max_tokens.value_or(task->max_tokens);
  options_.sampling = o.sampling.apply(task->sampling);
  result_.language = language_;
}

WriteJob::~WriteJob() = default;

void WriteJob::cancel() {
  cancelled_ = true;
  if (generation_) generation_->cancel();
}

const router::RouteNote& WriteJob::start() {
  if (generation_) fail("write: start() twice");
  router::RoutedRequest request = router::chat_request(messages_, options_, nullptr, engine_.device, engine_.format);
  request.preference = routing_.preference;
  request.data_tags = routing_.data_tags;
  request.route_text = user_text_;
  generation_ = std::make_unique<router::RoutedGeneration>(
      engine_.router, router::Device{engine_.device, engine_.device_model}, std::move(request));
  note_ = detail::start(*generation_);
  return note_;
}

Result WriteJob::run(const Events& events) {
  if (!generation_) start();
  result_.note = note_;
  if (events.on_route) events.on_route(note_);
  CallInfo info{"write"};
  if (events.on_call) events.on_call(info);
  detail::Driven d = detail::drive(*generation_, events, true, cancelled_, result_);
  result_.chunks = 1;
  result_.text = d.text;
  result_.finish = d.outcome.finish;
  return result_;
}

}  // namespace tandem::assistant
