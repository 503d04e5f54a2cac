// tandem logits: the conformance interface. Prints, as one JSON object,
//   {"prompt_tokens": [ids], "prompt_top": [[[id, logit], ...] per prompt position],
//    "generated_tokens": [ids], "generated_top": [[[id, logit], ...] per generated token]}
// generated_top[s] holds the logits that chose generated_tokens[s] (greedy).
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>

#include "commands.h"
#include "model/context.h"
#include "tokenizer/tokenizer.h"

namespace tandem::cli {

namespace {
nlohmann::json top_k(const float* logits, int n_vocab, int k) {
  std::vector<int> ids(n_vocab);
  std::iota(ids.begin(), ids.end(), 0);
  k = std::min(k, n_vocab);
  std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [&](int a, int b) {
    return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
  });
  nlohmann::json out = nlohmann::json::array();
  for (int i = 0; i < k; i++) out.push_back({ids[i], logits[ids[i]]});
  return out;
}
}  // namespace

void add_logits(CLI::App& app) {
  auto* cmd = app.add_subcommand("logits", "Print prompt tokens, top-K logits per position and greedy steps as JSON");
  static std::string model_path, text, file;
  static int top = 20, n_gen = 0, n_ctx = 0, threads = 0;
  static std::string kv_type = "f32";
  static bool json = true;
  cmd->add_option("-m,--model", model_path, "GGUF file");
  cmd->add_option("-p,--prompt", text, "prompt text (BOS is added as the model's metadata says)");
  cmd->add_option("-f,--file", file, "read the prompt from a file");
  cmd->add_option("--top", top, "logits per position")->check(CLI::PositiveNumber);
  cmd->add_option("-n,--n-predict", n_gen, "greedy tokens to generate")->check(CLI::NonNegativeNumber);
  cmd->add_option("-c,--ctx-size", n_ctx, "context size (0: the model's, capped at 4096)");
  cmd->add_option("-t,--threads", threads, "threads (0: all cores)");
  cmd->add_option("--kv-type", kv_type, "KV cache type: f32 (as the reference goldens), f16, q8_0, q4_0");
  cmd->add_flag("--json", json, "JSON output (the only format)");
  cmd->callback([] {
    auto model = model::Model::load(resolve_model_path(model_path));
    auto tok = tokenizer::Tokenizer::from_gguf(model->file());
    auto prompt = tok->encode(read_prompt(text, file), true, false);
    if (prompt.empty()) fail("the prompt is empty and the model adds no BOS: nothing to evaluate");
    model::Context ctx(model, {.n_ctx = check_context_size(n_ctx), .n_threads = check_threads(threads),
                               .kv_type = parse_kv_type(kv_type)});
    if ((int)prompt.size() + n_gen > ctx.n_ctx())
      fail("prompt of ", prompt.size(), " tokens plus ", n_gen, " to generate exceeds the context of ", ctx.n_ctx(), " tokens");
    ctx.eval(prompt, true);
    nlohmann::json out;
    out["prompt_tokens"] = prompt;
    out["prompt_top"] = nlohmann::json::array();
    for (size_t i = 0; i < prompt.size(); i++) out["prompt_top"].push_back(top_k(ctx.logits((int)i), ctx.n_vocab(), top));
    std::vector<float> last(ctx.logits((int)prompt.size() - 1), ctx.logits((int)prompt.size() - 1) + ctx.n_vocab());
    out["generated_tokens"] = nlohmann::json::array();
    out["generated_top"] = nlohmann::json::array();
    for (int s = 0; s < n_gen; s++) {
      int id = (int)(std::max_element(last.begin(), last.end()) - last.begin());
      out["generated_tokens"].push_back(id);
      out["generated_top"].push_back(top_k(last.data(), ctx.n_vocab(), top));
      if (s + 1 < n_gen) {
        ctx.eval(std::vector<int32_t>{id});
        last.assign(ctx.logits(0), ctx.logits(0) + ctx.n_vocab());
      }
    }
    std::printf("%s\n", out.dump().c_str());
  });
}

}  // namespace tandem::cli
