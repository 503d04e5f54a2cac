#include "routed_chat.h"

#ifndef TANDEM_NO_SERVER
#include <cstdio>
#include <filesystem>

#include "chat_repl.h"
#include "core/error.h"
#include "generate/session.h"
#include "router/config.h"
#include "router/routed_generation.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace tandem::cli {

void run_routed_chat(const RoutedChatOptions& options) {
  router::RouterConfig config = router::load_router_config(options.router_config);
  if (!options.privacy.empty()) config.policy.strictness = router::parse_strictness_setting(options.privacy, "--privacy");
  // The device tier: -m, else the config's device model (absent when not installed).
  std::string path = options.model;
  model::ContextOptions context = options.context;
  if (path.empty() && config.device) {
    path = router::resolve_device_model(*config.device);
    if (context.n_ctx == 0) context.n_ctx = config.device->n_ctx;
    if (context.n_threads == 0) context.n_threads = config.device->n_threads;
  }
  std::shared_ptr<model::Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tok;
  std::optional<tokenizer::ChatFormat> format;
  std::unique_ptr<generate::Session> session;
  if (!path.empty()) {
    model = model::Model::load(path);
    tok = tokenizer::Tokenizer::from_gguf(model->file());
    format = tokenizer::ChatFormat::of(model->file(), *tok, options.chat_template);
    session = std::make_unique<generate::Session>(model, *tok, context);
  } else {
    std::fprintf(stderr, "tandem chat: no device model installed: every turn goes to the cloud or is refused\n");
  }
  router::Router router(std::move(config), session ? session->n_ctx() : 0);
  const router::Device device{session.get(), std::filesystem::path(path).filename().string()};

  ChatEngine engine;
  engine.banner = {"tandem chat --router " + options.router_config + ": device " +
                   (path.empty() ? std::string("none installed") : device.model + ", context " + std::to_string(session->n_ctx()) + " tokens")};
  if (format) engine.banner.push_back("chat template (device): " + format->description());
  if (session) {
    // The device's context decides what is kept: a turn the device cannot hold would
    // be routed away from it only because the history grew.
    engine.prompt_tokens = [&](const std::vector<tokenizer::ChatMessage>& messages) {
      return int(format->prompt(*tok, messages).size());
    };
    engine.prompt_budget = chat_prompt_budget(session->n_ctx(), options.generation.max_tokens);
  }
  engine.reply = [&](const std::vector<tokenizer::ChatMessage>& messages,
                     const std::function<bool(std::string_view)>& on_text) {
    router::RoutedGeneration generation(
        &router, device,
        router::chat_request(messages, options.generation, options.json_schema ? &*options.json_schema : nullptr,
                             session.get(), format ? &*format : nullptr));
    router::RouteNote note = generation.start();
    if (generation.refused()) fail("[", note.header(), "] ", generation.refusal_message());
    if (generation.device_cannot_serve()) fail("[", note.header(), "] the device cannot serve this request");
    ChatReply reply;
    router::RoutedCallbacks callbacks;
    callbacks.on_piece = [&](const router::RoutedPiece& piece) {
      reply.text += piece.text;
      if (!on_text(piece.text)) reply.cancelled = true;
      return !reply.cancelled;
    };
    callbacks.on_route = [&](const router::RouteNote& changed) { note = changed; };
    callbacks.on_wait = [&] {  // Ctrl-C while the cloud has not answered yet
      if (!on_text("")) reply.cancelled = true;
      return !reply.cancelled;
    };
    const router::RoutedOutcome outcome = generation.run(callbacks);
    if (!outcome.error.empty()) fail("[", note.header(), "] ", outcome.error);
    if (outcome.device) reply.context_full = outcome.device->finish == generate::FinishReason::ContextFull;
    reply.note = "[route: " + note.header() + "]";
    return reply;
  };
  run_chat_repl(engine, options.system_prompt);
}

}  // namespace tandem::cli

#else

#include "core/error.h"

namespace tandem::cli {
void run_routed_chat(const RoutedChatOptions&) { fail("this build has no router library, so no --router"); }
}  // namespace tandem::cli

#endif
