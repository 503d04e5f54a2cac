// tandem chat: interactive multi-turn chat with the model's own chat template (the
// loop itself, commands and line editing: chat_repl.h). Each turn re-renders the whole
// conversation; the session reuses the KV cache for the unchanged prefix, so a turn
// only pays for its new tokens.
#include <filesystem>

#include "chat_repl.h"
#include "commands.h"
#include "routed_chat.h"
#include "sampling_options.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace tandem::cli {

void add_chat(CLI::App& app) {
  auto* cmd = app.add_subcommand("chat", "Chat with a model interactively (one line per message; /help lists the commands)");
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
    // The same rule as serve and the C API: --chat-template, the model's own, else chatml.
    const auto format = tokenizer::ChatFormat::of(model->file(), *tok, template_name);
    auto session = std::make_shared<generate::Session>(model, *tok, context_options);

    ChatEngine engine;
    engine.banner = {"tandem chat: " + std::filesystem::path(resolve_model_path(flags.model)).filename().string() +
                     ", context " + std::to_string(session->n_ctx()) + " tokens",
                     "chat template: " + format.description()};
    engine.prompt_tokens = [&](const std::vector<tokenizer::ChatMessage>& messages) {
      return int(format.prompt(*tok, messages).size());
    };
    engine.prompt_budget = chat_prompt_budget(session->n_ctx(), options.max_tokens);
    engine.reply = [&](const std::vector<tokenizer::ChatMessage>& messages,
                       const std::function<bool(std::string_view)>& on_text) {
      const auto result = session->generate(format.prompt(*tok, messages), options, on_text);
      return ChatReply{.text = result.text,
                       .cancelled = result.finish == generate::FinishReason::Cancelled,
                       .context_full = result.finish == generate::FinishReason::ContextFull,
                       .note = {}};
    };
    run_chat_repl(engine, system_prompt);
  });
}

}  // namespace tandem::cli
