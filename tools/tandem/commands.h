// Each subcommand of the `tandem` CLI lives in its own file and registers itself here.
#pragma once
#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "quant/types.h"

namespace tandem::cli {

void add_run(CLI::App& app);
void add_chat(CLI::App& app);
void add_info(CLI::App& app);
void add_tokenize(CLI::App& app);
void add_logits(CLI::App& app);
void add_convert(CLI::App& app);
void add_perplexity(CLI::App& app);
void add_serve(CLI::App& app);
void add_quantize(CLI::App& app);
void add_plan(CLI::App& app);
void add_synth(CLI::App& app);
void add_bench(CLI::App& app);
// The device-cloud side (need the server library):
void add_models(CLI::App& app);  // on-device model store
void add_cost(CLI::App& app);    // fleet cost simulation
void add_ledger(CLI::App& app);  // routing ledger report
void add_privacy(CLI::App& app); // privacy classifier: train, eval, check, curve
void add_summarize(CLI::App& app);  // the assistant apps (src/assistant)
void add_write(CLI::App& app);

// The process's exit status when every command returned normally (a command sets it,
// e.g. 130 for a job cancelled with Ctrl-C).
int& exit_code();

// Where the shared data (models/, tokenizers/) is looked for, relative to the binary,
// not the current directory: <checkout>/../shared for a build tree's build/tandem,
// <prefix>/share/tandem for an installed one.
std::vector<std::filesystem::path> shared_dir_candidates();
// <shared>/relative in the first candidate that has it; "" when none does.
std::string shared_file(const std::string& relative);
// -m given, else $TANDEM_MODEL, else models/stories260K.gguf in the shared data; an
// Error explaining how to get a GGUF when none exists.
std::string resolve_model_path(const std::string& given);
// A whole file, byte for byte ("-": standard input); Error naming `what` and the path
// when it is unreadable.
std::string read_text_file(const std::string& path, const std::string& what);
// -p TEXT or -f FILE (read byte for byte, "-" for stdin); Error when both or the file is unreadable.
std::string read_prompt(const std::string& text, const std::string& file);
// --kv-type: f32, f16, q8_0 or q4_0 (case-insensitive).
quant::Type parse_kv_type(const std::string& name);
// -t: an Error below 0; above the core count, a warning and the core count.
int check_threads(int threads);
// -c: an Error below 0.
int check_context_size(int n_ctx);
// A warning on stderr when -c is beyond the model's training context.
void warn_context_above_training(int n_ctx, int n_ctx_train);

}  // namespace tandem::cli
