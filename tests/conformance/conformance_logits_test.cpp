// Our logits against llama.cpp's on the conformance models, teacher-forced: the
// golden prompt and the golden greedy ids are fed, and every golden logit must be
// matched within the tolerance the conformance README derives from its measured
// reference noise:
//   F32 and deq_* goldens (weights decoded to float, float arithmetic; what Tandem's
//   reference path computes): 1e-3 for the 2-layer models, 100x the float64 numpy
//   reference error and 28x below the smallest bug signal (0.028, rope_freqs ignored);
//   3e-2 for gemma2, whose goldens carry llama.cpp's F16-table GELU (we use the exact
//   tanh GELU; float64 exact-GELU reference vs golden: 1.1e-2).
//   Quantized goldens (llama.cpp quantizes activations to Q8 on the fly, as our SIMD
//   kernels do; these cases run under the fastest ISA, the F32/deq_ ones under Isa::Ref):
//   0.4 (2-layer) / 2.0 (gemma2), ~20-28% of the logit std and above the largest single
//   llama.cpp variant (0.21 / 1.21), still far below broken-Q4 effects (1.4-9.5).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "conformance/golden.h"
#include "kernels/dispatch.h"
#include "model/context.h"
#include "conformance/repo_goldens.h"  // the repository's own goldens (RepoGolden below)

using namespace tandem;

namespace {

struct Case {
  std::string arch, golden, model;
  float atol;
  std::string folder = {};  // of the golden files; empty: ../shared/conformance/<arch>
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (std::string arch : {"llama", "llama3", "qwen2", "phi3", "gemma2"}) {
    const bool gemma = arch == "gemma2";
    for (int p = 1; p <= 3; p++) {
      std::string suffix = "-prompt" + std::to_string(p) + ".json";
      if (!gemma) out.push_back({arch, "golden-F32" + suffix, "model-F32.gguf", 1e-3f});
      for (std::string q : {"Q8_0", "Q4_0", "Q4_K_M"}) {
        std::string model = "model-" + q + ".gguf";
        if (!test::shared_exists("conformance/" + arch + "/" + model)) continue;
        out.push_back({arch, "golden-deq_" + q + suffix, model, gemma ? 3e-2f : 1e-3f});
        out.push_back({arch, "golden-" + q + suffix, model, gemma ? 2.0f : 0.4f});
      }
    }
  }
  return out;
}

std::string folder_of(const Case& c) { return c.folder.empty() ? test::shared_path("conformance/" + c.arch) : c.folder; }

std::shared_ptr<const model::Model> load_cached(const std::string& path) {
  static std::map<std::string, std::shared_ptr<const model::Model>> cache;
  auto& m = cache[path];
  if (!m) m = model::Model::load(path);
  return m;
}

// Max |ours - golden| over the golden's (id, logit) pairs.
float max_error(const float* logits, const std::vector<std::pair<int32_t, float>>& top) {
  float worst = 0;
  for (auto [id, value] : top) worst = std::max(worst, std::abs(logits[id] - value));
  return worst;
}

int argmax(const float* x, int n) { return (int)(std::max_element(x, x + n) - x); }

// Float goldens need the exact float path; quantized ones the kernels users get.
class Conformance : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    const std::string& golden = GetParam().golden;
    const bool exact = golden.find("deq_") != std::string::npos || golden.find("F32") != std::string::npos;
    kernels::set_isa(exact ? kernels::Isa::Ref : kernels::detect_isa());
  }
  void TearDown() override { kernels::set_isa(kernels::detect_isa()); }
};

TEST_P(Conformance, TeacherForcedLogitsMatchReference) {
  const Case& c = GetParam();
  const std::string dir = folder_of(c);
  auto golden = test::Golden::load_path(dir, c.golden);
  auto model = load_cached(dir + "/" + c.model);
  model::Context ctx(model, {.n_ctx = 512, .n_threads = 2, .kv_type = quant::Type::F32});  // the goldens use an F32 KV cache
  const int n_vocab = ctx.n_vocab();

  ctx.eval(golden.prompt_tokens, /*all_logits=*/true);
  float worst_prompt = 0;
  for (size_t i = 0; i < golden.prompt_tokens.size(); i++)
    worst_prompt = std::max(worst_prompt, max_error(ctx.logits((int)i), golden.prompt_top[i]));
  EXPECT_LE(worst_prompt, c.atol) << "prompt top-20 logits";

  const float* last = ctx.logits((int)golden.prompt_tokens.size() - 1);
  ASSERT_EQ((int)golden.last_prompt_logits.size(), n_vocab);
  float worst_full = 0;
  for (int i = 0; i < n_vocab; i++) worst_full = std::max(worst_full, std::abs(last[i] - golden.last_prompt_logits[i]));
  EXPECT_LE(worst_full, c.atol) << "full logits of the last prompt position";

  // Greedy steps, teacher-forced. The argmax must agree wherever the golden's own
  // top1-top2 gap exceeds twice the tolerance (below that a flip is legitimate).
  std::vector<float> step(last, last + n_vocab);
  float worst_greedy = 0;
  int checked_argmax = 0;
  for (size_t s = 0; s < golden.greedy_ids.size(); s++) {
    if (s > 0) {
      ctx.eval(std::vector<int32_t>{golden.greedy_ids[s - 1]});
      step.assign(ctx.logits(0), ctx.logits(0) + n_vocab);
    }
    worst_greedy = std::max(worst_greedy, max_error(step.data(), golden.greedy_top[s]));
    const float gap = golden.greedy_top[s][0].second - golden.greedy_top[s][1].second;
    if (gap > 2 * c.atol) {
      EXPECT_EQ(argmax(step.data(), n_vocab), golden.greedy_ids[s]) << "greedy step " << s;
      checked_argmax++;
    }
  }
  EXPECT_LE(worst_greedy, c.atol) << "greedy top-5 logits";
  RecordProperty("max_abs_error", std::to_string(std::max({worst_prompt, worst_full, worst_greedy})));
  std::printf("[%s] %s/%s: max abs error prompt %.3g, last row %.3g, greedy %.3g (tolerance %.3g), argmax checked at %d steps\n",
              std::string(kernels::isa_name(kernels::active_isa())).c_str(), c.arch.c_str(), c.golden.c_str(), worst_prompt, worst_full, worst_greedy, c.atol, checked_argmax);
}

// Free-running greedy: our own choices fed back, identical to the golden ids up to
// the first step whose golden top1-top2 gap is within twice the tolerance.
TEST_P(Conformance, FreeRunningGreedyAgreesUntilANearTie) {
  const Case& c = GetParam();
  const std::string dir = folder_of(c);
  auto golden = test::Golden::load_path(dir, c.golden);
  auto model = load_cached(dir + "/" + c.model);
  model::Context ctx(model, {.n_ctx = 512, .n_threads = 2, .kv_type = quant::Type::F32});  // the goldens use an F32 KV cache
  ctx.eval(golden.prompt_tokens);
  for (size_t s = 0; s < golden.greedy_ids.size(); s++) {
    const float gap = golden.greedy_top[s][0].second - golden.greedy_top[s][1].second;
    if (gap <= 2 * c.atol) break;
    int id = argmax(ctx.logits(0), ctx.n_vocab());
    ASSERT_EQ(id, golden.greedy_ids[s]) << "greedy step " << s;
    ctx.eval(std::vector<int32_t>{id});
  }
}

std::string case_name(const testing::TestParamInfo<Case>& info) {
  std::string name = info.param.arch + "_" + info.param.golden;
  for (char& ch : name)
    if (!std::isalnum((unsigned char)ch)) ch = '_';
  return name;
}

// The repository's goldens of the newer families (tests/data/goldens; tolerances in each spec.json).
std::vector<Case> repo_cases() {
  std::vector<Case> out;
  for (const auto& g : test::repo_goldens()) out.push_back({g.name, g.golden, g.model, g.atol, g.folder});
  return out;
}
INSTANTIATE_TEST_SUITE_P(RepoGolden, Conformance, testing::ValuesIn(repo_cases()), case_name);

INSTANTIATE_TEST_SUITE_P(Golden, Conformance, testing::ValuesIn(cases()), case_name);

}  // namespace
