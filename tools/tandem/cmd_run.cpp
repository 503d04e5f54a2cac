// tandem run: stream a continuation of a prompt to stdout.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "sampling_options.h"
#include "tokenizer/tokenizer.h"

namespace tandem::cli {
namespace {

// One line of --logprobs output: the token, its log-probability and the alternatives.
std::string logprob_line(const generate::TokenLogprob& lp, const tokenizer::Tokenizer& tok) {
  using json = nlohmann::ordered_json;
  json top = json::array();
  for (const generate::TopLogprob& t : lp.top) {
    top.push_back({{"id", t.id}, {"token", tok.token_to_piece(t.id, false)}, {"logprob", t.logprob}});
  }
  const json line{{"id", lp.id}, {"token", tok.token_to_piece(lp.id, false)}, {"logprob", lp.logprob}, {"top", top}};
  return line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace

void add_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Generate text from a prompt, streamed to stdout");
  static GenerationFlags flags;
  static SpeculativeFlags speculative;
  static std::string text, file;
  static bool verbose = false;
  static int logprobs = -1;
  flags.add_to(cmd);
  speculative.add_to(cmd);
  cmd->add_option("-p,--prompt", text, "prompt text");
  cmd->add_option("-f,--file", file, "read the prompt from a file (- : standard input); it is not echoed");
  cmd->add_flag("-v,--verbose", verbose, "print timings to stderr, on a line of their own");
  cmd->add_option("--logprobs", logprobs,
                  "print each generated token's log-probability and N alternatives (0-20) to stderr, one JSON "
                  "object per line")
      ->check(CLI::Range(0, 20));
  cmd->callback([] {
    model::ContextOptions context_options = flags.context_options();
    generate::GenerateOptions options = flags.generate_options();
    options.top_logprobs = logprobs;
    options.speculative = speculative.options();
    auto model = flags.load_within_budget(context_options);
    auto tok = tokenizer::Tokenizer::from_gguf(model->file());
    const std::string prompt_text = read_prompt(text, file);
    auto prompt = tok->encode(prompt_text, true, false);
    if (prompt.empty()) fail("the prompt is empty and the model adds no BOS token: give a prompt with -p");
    generate::Session session(model, *tok, context_options);
    if (!speculative.draft.empty()) session.set_draft(model::Model::from_file(flags.weights.open(speculative.draft)));
    // -p TEXT is echoed before its continuation, as llama.cpp does; a -f FILE prompt is not
    // (it may be long, and the user has it).
    if (file.empty()) {
      std::fputs(prompt_text.c_str(), stdout);
      std::fflush(stdout);
    }
    auto result = session.generate(prompt, options, generate::OnPiece([&](const generate::Piece& piece) {
      std::fwrite(piece.text.data(), 1, piece.text.size(), stdout);
      std::fflush(stdout);
      if (piece.logprob) std::fputs(logprob_line(*piece.logprob, *tok).c_str(), stderr);
      return true;
    }));
    std::fputs("\n", stdout);
    std::fflush(stdout);  // the text ends before the timings start, when both go to one terminal or file
    if (verbose)
      std::fprintf(stderr, "prompt: %d tokens in %.3f s (%.1f t/s); generated %zu tokens in %.3f s (%.1f t/s); finish: %s\n",
                   result.n_prompt, result.prompt_seconds, result.n_prompt / std::max(result.prompt_seconds, 1e-9),
                   result.tokens.size(), result.generate_seconds,
                   result.tokens.size() / std::max(result.generate_seconds, 1e-9), generate::to_string(result.finish));
    if (verbose && options.speculative.enabled())
      std::fprintf(stderr, "speculative (%s, k %d): %d verification passes, %d drafted tokens, %d accepted (%.1f%%)\n",
                   generate::to_string(options.speculative.method), options.speculative.k, result.n_verify_passes,
                   result.n_drafted, result.n_draft_accepted,
                   100.0 * result.n_draft_accepted / std::max(result.n_drafted, 1));
  });
}

}  // namespace tandem::cli
