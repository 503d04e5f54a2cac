// tandem run: stream a continuation of a prompt to stdout.
#include <cstdio>

#include "commands.h"
#include "sampling_options.h"
#include "tokenizer/tokenizer.h"

namespace tandem::cli {

void add_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Generate text from a prompt, streamed to stdout");
  static GenerationFlags flags;
  static std::string text, file;
  static bool verbose = false;
  flags.add_to(cmd);
  cmd->add_option("-p,--prompt", text, "prompt text");
  cmd->add_option("-f,--file", file, "read the prompt from a file");
  cmd->add_flag("-v,--verbose", verbose, "print timings to stderr");
  cmd->callback([] {
    model::ContextOptions context_options = flags.context_options();
    auto model = flags.load_within_budget(context_options);
    auto tok = tokenizer::Tokenizer::from_gguf(model->file());
    const std::string prompt_text = read_prompt(text, file);
    auto prompt = tok->encode(prompt_text, true, false);
    if (prompt.empty()) fail("the prompt is empty and the model adds no BOS token: give a prompt with -p");
    generate::Session session(model, *tok, context_options);
    std::fputs(prompt_text.c_str(), stdout);
    std::fflush(stdout);
    auto result = session.generate(prompt, flags.generate_options(), [](std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    std::fputs("\n", stdout);
    if (verbose)
      std::fprintf(stderr, "prompt: %d tokens in %.3f s (%.1f t/s); generated %zu tokens in %.3f s (%.1f t/s); finish: %s\n",
                   result.n_prompt, result.prompt_seconds, result.n_prompt / std::max(result.prompt_seconds, 1e-9),
                   result.tokens.size(), result.generate_seconds,
                   result.tokens.size() / std::max(result.generate_seconds, 1e-9), generate::to_string(result.finish));
  });
}

}  // namespace tandem::cli
