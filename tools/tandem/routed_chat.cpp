#include "routed_chat.h"

#ifndef TANDEM_NO_SERVER
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

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
    format = tokenizer::ChatFormat::of(model->file(), *tok, options.chat_template, true);
    session = std::make_unique<generate::Session>(model, *tok, context);
  } else {
    std::fprintf(stderr, "tandem chat: no device model installed: every turn goes to the cloud or is refused\n");
  }
  router::Router router(std::move(config), session ? session->n_ctx() : 0);
  const router::Device device{session.get(), std::filesystem::path(path).filename().string()};

  std::vector<tokenizer::ChatMessage> messages;
  if (!options.system_prompt.empty()) messages.push_back({"system", options.system_prompt});
  const bool interactive = isatty(STDIN_FILENO);
  std::string line;
  for (;;) {
    if (interactive) std::fputs("> ", stdout), std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    messages.push_back({"user", line});
    router::RouteNote note;
    try {
      router::RoutedGeneration generation(
          &router, device,
          router::chat_request(messages, options.generation, options.json_schema ? &*options.json_schema : nullptr,
                               session.get(), format ? &*format : nullptr));
      note = generation.start();
      if (generation.refused()) fail("[", note.header(), "] ", generation.refusal_message());
      if (generation.device_cannot_serve()) fail("[", note.header(), "] the device cannot serve this request");
      std::string answer;
      router::RoutedCallbacks callbacks;
      callbacks.on_piece = [&](const router::RoutedPiece& piece) {
        answer += piece.text;
        std::fwrite(piece.text.data(), 1, piece.text.size(), stdout);
        std::fflush(stdout);
        return true;
      };
      callbacks.on_route = [&](const router::RouteNote& changed) { note = changed; };
      const router::RoutedOutcome outcome = generation.run(callbacks);
      std::fputs("\n", stdout);
      if (!outcome.error.empty()) fail("[", note.header(), "] ", outcome.error);
      std::fprintf(stderr, "[route: %s]\n", note.header().c_str());
      messages.push_back({"assistant", answer});
    } catch (const Error& error) {
      // One refused or failed turn does not end the chat; it is not kept in the history.
      std::fprintf(stderr, "error: %s\n", error.what());
      messages.pop_back();
    }
  }
}

}  // namespace tandem::cli

#else

#include "core/error.h"

namespace tandem::cli {
void run_routed_chat(const RoutedChatOptions&) { fail("this build has no router library, so no --router"); }
}  // namespace tandem::cli

#endif
