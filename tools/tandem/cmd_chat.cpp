// tandem chat: interactive multi-turn chat with the model's own chat template.
// Each turn re-renders the whole conversation; the session reuses the KV cache for
// the unchanged prefix, so a turn only pays for its new tokens.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "commands.h"
#include "routed_chat.h"
#include "sampling_options.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace tandem::cli {

void add_chat(CLI::App& app) {
  auto* cmd = app.add_subcommand("chat", "Chat with a model interactively (one line per message; EOF ends)");
  static GenerationFlags flags;
  static std::string system_prompt, template_name;
  flags.n_predict = -1;
  flags.add_to(cmd);
  cmd->add_option("--system", system_prompt, "system prompt");
  cmd->add_option("--chat-template", template_name, "force a chat template (llama2, llama3, chatml, phi3, gemma, mistral, zephyr, ...)");
  static std::string router_config, privacy;
  cmd->add_option("--router", router_config, "route each turn between device and cloud (docs/routing.md)");
  cmd->add_option("--privacy", privacy, "with --router: privacy check strictness, low, balanced or strict");
  cmd->callback([] {
    if (!privacy.empty() && router_config.empty()) fail("--privacy needs --router");
    if (!router_config.empty()) {
      return run_routed_chat({.router_config = router_config, .model = flags.model, .system_prompt = system_prompt,
                              .chat_template = template_name, .context = flags.context_options(),
                              .generation = flags.generate_options(), .json_schema = flags.json_schema(), .privacy = privacy});
    }
    const generate::GenerateOptions options = flags.generate_options();
    model::ContextOptions context_options = flags.context_options();
    auto model = flags.load_within_budget(context_options);
    auto tok = tokenizer::Tokenizer::from_gguf(model->file());
    // Fails before the first prompt if the template is missing, unknown or not recognised.
    const auto format = tokenizer::ChatFormat::of(model->file(), *tok, template_name, false);
    std::vector<tokenizer::ChatMessage> messages;
    if (!system_prompt.empty()) messages.push_back({"system", system_prompt});

    generate::Session session(model, *tok, context_options);
    const bool interactive = isatty(STDIN_FILENO);
    std::string line;
    for (;;) {
      if (interactive) std::fputs("> ", stdout), std::fflush(stdout);
      if (!std::getline(std::cin, line)) break;
      if (line.empty()) continue;
      messages.push_back({"user", line});
      auto result = session.generate(format.prompt(*tok, messages), options, [](std::string_view piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
        return true;
      });
      std::fputs("\n", stdout);
      messages.push_back({"assistant", result.text});
      if (result.finish == generate::FinishReason::ContextFull) {
        std::fprintf(stderr, "context full (%d tokens): start a new chat or raise -c\n", session.n_ctx());
        break;
      }
    }
  });
}

}  // namespace tandem::cli
