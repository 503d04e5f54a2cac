// tandem perplexity: mean negative log-likelihood of a text (or of given token ids).
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "generate/perplexity.h"
#include "tokenizer/tokenizer.h"

namespace tandem::cli {

void add_perplexity(CLI::App& app) {
  auto* cmd = app.add_subcommand("perplexity", "Mean negative log-likelihood and perplexity of a text");
  static std::string model_path, file, tokens_file;
  static int n_ctx = 0, threads = 0;
  static std::string kv_type = "f32";
  static bool json = false;
  cmd->add_option("-m,--model", model_path, "GGUF file");
  cmd->add_option("-f,--file", file, "text file (tokenized with BOS as the model's metadata says)");
  cmd->add_option("--tokens", tokens_file, "JSON file with a \"tokens\" array of ids, used as is");
  cmd->add_option("-c,--ctx-size", n_ctx, "window size (0: the model's context, capped at 4096)");
  cmd->add_option("-t,--threads", threads, "threads (0: all cores)");
  cmd->add_option("--kv-type", kv_type, "KV cache type: f32 (default), f16, q8_0, q4_0");
  cmd->add_flag("--json", json, "print the result as JSON");
  cmd->callback([] {
    auto model = model::Model::load(resolve_model_path(model_path));
    std::vector<int32_t> tokens;
    if (!tokens_file.empty() == !file.empty()) fail("give exactly one of -f TEXT_FILE or --tokens FILE.json");
    if (!tokens_file.empty()) {
      std::ifstream in(tokens_file);
      if (!in) fail("cannot read '", tokens_file, "'");
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(in);
        tokens = j.at("tokens").get<std::vector<int32_t>>();
      } catch (const nlohmann::json::exception& e) {
        fail("'", tokens_file, "' must be JSON with a \"tokens\" array of integers: ", e.what());
      }
    } else {
      auto tok = tokenizer::Tokenizer::from_gguf(model->file());
      tokens = tok->encode(read_prompt("", file), true, false);
    }
    int ctx = n_ctx > 0 ? n_ctx : std::min(model->hparams().n_ctx_train > 0 ? model->hparams().n_ctx_train : 4096, 4096);
    auto r = generate::perplexity(model, tokens, ctx, threads, parse_kv_type(kv_type));
    if (json)
      std::printf("%s\n", nlohmann::json{{"mean_nll", r.mean_nll}, {"perplexity", r.perplexity}, {"n_scored", r.n_scored},
                                         {"n_windows", r.n_windows}, {"n_ctx", ctx}}
                              .dump()
                              .c_str());
    else
      std::printf("tokens scored: %lld in %d window(s) of up to %d\nmean NLL: %.6f\nperplexity: %.4f\n",
                  (long long)r.n_scored, r.n_windows, ctx, r.mean_nll, r.perplexity);
  });
}

}  // namespace tandem::cli
