// tandem perplexity: mean negative log-likelihood of a text (or of given token ids),
// and the KL divergence of a model's predictions from a reference's (--kl-divergence).
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "generate/perplexity.h"
#include "sampling_options.h"
#include "tokenizer/tokenizer.h"

namespace tandem::cli {
namespace {

std::vector<int32_t> read_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("cannot read '", path, "'");
  try {
    return nlohmann::json::parse(in).at("tokens").get<std::vector<int32_t>>();
  } catch (const nlohmann::json::exception& e) {
    fail("'", path, "' must be JSON with a \"tokens\" array of integers: ", e.what());
  }
}

void print_kl(const generate::KlResult& r, bool json) {
  if (json) {
    std::printf("%s\n", nlohmann::json{{"n_scored", r.n_scored},
                                       {"mean_kl", r.mean_kl},
                                       {"kl_stderr", r.kl_stderr},
                                       {"max_kl", r.max_kl},
                                       {"top1_agreement", r.top1_agreement},
                                       {"top1_stderr", r.top1_stderr},
                                       {"base_perplexity", r.base_ppl},
                                       {"perplexity", r.ppl},
                                       {"delta_perplexity", r.delta_ppl()}}
                            .dump()
                            .c_str());
    return;
  }
  std::printf("tokens scored: %lld\nmean KL divergence: %.6f ± %.6f nats (max %.6f)\ntop-1 agreement: %.3f ± %.3f %%\n"
              "perplexity: base %.4f, this model %.4f, delta %+.4f (%+.3f %%)\n",
              (long long)r.n_scored, r.mean_kl, r.kl_stderr, r.max_kl, 100 * r.top1_agreement, 100 * r.top1_stderr,
              r.base_ppl, r.ppl, r.delta_ppl(), 100 * r.delta_ppl() / r.base_ppl);
}

}  // namespace

void add_perplexity(CLI::App& app) {
  auto* cmd = app.add_subcommand("perplexity", "Mean negative log-likelihood and perplexity of a text");
  static std::string model_path, file, tokens_file, kl_base;
  static int n_ctx = 0, threads = 0;
  static std::string kv_type = "f32";
  static bool json = false, kl_divergence = false;
  static WeightFlags weights;
  cmd->add_option("-m,--model", model_path, "GGUF file");
  cmd->add_option("-f,--file", file, "text file (tokenized with BOS as the model's metadata says)");
  cmd->add_option("--tokens", tokens_file, "JSON file with a \"tokens\" array of ids, used as is");
  cmd->add_option("-c,--ctx-size", n_ctx, "window size (0: the model's context, capped at 4096)");
  cmd->add_option("-t,--threads", threads, "threads (0: all cores)");
  cmd->add_option("--kv-type", kv_type, "KV cache type: f32 (default), f16, q8_0, q4_0");
  cmd->add_option("--kl-divergence-base", kl_base,
                  "without --kl-divergence: save this (reference) model's distributions to FILE; "
                  "with it: compare against FILE");
  cmd->add_flag("--kl-divergence", kl_divergence,
                "compare with --kl-divergence-base FILE: mean KL divergence, top-1 agreement, both perplexities");
  cmd->add_flag("--json", json, "print the result as JSON");
  weights.add_to(cmd);
  cmd->callback([] {
    const std::string path = resolve_model_path(model_path);
    check_context_size(n_ctx);
    threads = check_threads(threads);
    if (kl_divergence && kl_base.empty()) fail("--kl-divergence needs --kl-divergence-base FILE (written by the reference model)");
    if (kl_divergence) {
      if (!file.empty() || !tokens_file.empty())
        fail("--kl-divergence scores the tokens stored in '", kl_base, "': drop -f/--tokens");
      const auto info = generate::read_kl_base_info(kl_base);  // before loading: a bad base fails fast
      if (n_ctx > 0 && n_ctx != info.n_ctx)
        fail("'", kl_base, "' was written with -c ", info.n_ctx, "; the comparison must use the same windows (drop -c)");
      auto model = model::Model::from_file(weights.open(path));
      print_kl(generate::kl_divergence(model, kl_base, threads, parse_kv_type(kv_type)), json);
      return;
    }
    auto model = model::Model::from_file(weights.open(path));
    std::vector<int32_t> tokens;
    if (!tokens_file.empty() == !file.empty()) fail("give exactly one of -f TEXT_FILE or --tokens FILE.json");
    if (!tokens_file.empty()) {
      tokens = read_token_file(tokens_file);
    } else {
      auto tok = tokenizer::Tokenizer::from_gguf(model->file());
      tokens = tok->encode(read_prompt("", file), true, false);
    }
    const int ctx = n_ctx > 0 ? n_ctx : std::min(model->hparams().n_ctx_train > 0 ? model->hparams().n_ctx_train : 4096, 4096);
    warn_context_above_training(ctx, model->hparams().n_ctx_train);
    const auto r = kl_base.empty() ? generate::perplexity(model, tokens, ctx, threads, parse_kv_type(kv_type))
                                   : generate::write_kl_base(model, tokens, ctx, threads, parse_kv_type(kv_type), kl_base);
    if (json)
      std::printf("%s\n", nlohmann::json{{"mean_nll", r.mean_nll}, {"perplexity", r.perplexity}, {"n_scored", r.n_scored},
                                         {"n_windows", r.n_windows}, {"n_ctx", ctx}}
                              .dump()
                              .c_str());
    else
      std::printf("tokens scored: %lld in %d window(s) of up to %d\nmean NLL: %.6f\nperplexity: %.4f\n",
                  (long long)r.n_scored, r.n_windows, ctx, r.mean_nll, r.perplexity);
    if (!kl_base.empty() && !json) std::printf("reference distributions saved to %s\n", kl_base.c_str());
  });
}

}  // namespace tandem::cli
