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
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "conformance/golden.h"
#include "support/compare.h"
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
        if (gemma && q == "Q4_0") continue;  // gemma2's F32 and Q4_0 files are not shipped (size; shared README)
        std::string model = "model-" + q + ".gguf";
        out.push_back({arch, "golden-deq_" + q + suffix, model, gemma ? 3e-2f : 1e-3f});
        out.push_back({arch, "golden-" + q + suffix, model, gemma ? 2.0f : 0.4f});
      }
    }
  }
  // The real stories260K weights: llama.cpp's F32 goldens from BOS alone and after a prompt.
  for (std::string golden : {"golden-F32-bos.json", "golden-F32-once.json"})
    out.push_back({"stories260K", golden, "stories260K.gguf", 1e-3f});
  return out;
}

std::string folder_of(const Case& c) { return c.folder.empty() ? test::shared_path("conformance/" + c.arch) : c.folder; }

std::shared_ptr<const model::Model> load_cached(const std::string& path) {
  static std::map<std::string, std::shared_ptr<const model::Model>> cache;
  auto& m = cache[path];
  if (!m) m = model::Model::load(path);
  return m;
}

// Max |ours - golden| over the golden's (id, logit) pairs; infinite when ours is not finite.
float max_error(const float* logits, const std::vector<std::pair<int32_t, float>>& top) {
  float worst = 0;
  for (auto [id, value] : top) worst = std::max(worst, test::abs_error(logits[id], value));
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
  int non_finite = 0;  // anywhere in a row, not only at the golden's top ids
  for (size_t i = 0; i < golden.prompt_tokens.size(); i++) {
    worst_prompt = std::max(worst_prompt, max_error(ctx.logits((int)i), golden.prompt_top[i]));
    non_finite += (int)std::count_if(ctx.logits((int)i), ctx.logits((int)i) + n_vocab, [](float x) { return !std::isfinite(x); });
  }
  EXPECT_LE(worst_prompt, c.atol) << "prompt top-20 logits";

  const float* last = ctx.logits((int)golden.prompt_tokens.size() - 1);
  ASSERT_EQ((int)golden.last_prompt_logits.size(), n_vocab);
  const float worst_full = test::max_abs_error(last, golden.last_prompt_logits.data(), size_t(n_vocab));
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
    non_finite += (int)std::count_if(step.begin(), step.end(), [](float x) { return !std::isfinite(x); });
    const float gap = golden.greedy_top[s][0].second - golden.greedy_top[s][1].second;
    if (gap > 2 * c.atol) {
      EXPECT_EQ(argmax(step.data(), n_vocab), golden.greedy_ids[s]) << "greedy step " << s;
      checked_argmax++;
    }
  }
  EXPECT_LE(worst_greedy, c.atol) << "greedy top-5 logits";
  EXPECT_EQ(non_finite, 0) << "logits that are NaN or infinite";
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

// The quantized path, checked where the tolerance above cannot see it (a wrong Q4_K scale
// moves logits by ~0.05, far inside 0.4, and the argmax checks stop at the first near-tie).
// The SIMD kernels differ from the reference path on the same file only by rounding the
// activations to 8 bits (Q8_0 / Q8_K blocks, the rounding llama.cpp does). That effect is
// measured by llama.cpp itself: its quantized golden minus its deq_ golden (same weights,
// activations rounded vs float). So the RMS of (ours SIMD - ours reference) over every prompt
// position's top-20 ids (those in both goldens' lists) must match the RMS of (golden -
// deq_ golden) there: the same rounding of nearly the same activations. Measured ratio on the
// 42 cases: 0.91-1.08 (avx512 and avx2); with one Q4_K chunk scale decoded one too large in the
// x86 kernels, 1.49-1.88 on every Q4_K_M case; a path that did not round its activations
// would give ~0. Bounds: 0.75-1.25.
class QuantizedPath : public testing::TestWithParam<Case> {
 protected:
  void TearDown() override { kernels::set_isa(kernels::detect_isa()); }
};

TEST_P(QuantizedPath, DiffersFromTheReferenceOnlyByActivationRounding) {
  const Case& c = GetParam();
  const std::string dir = "conformance/" + c.arch;
  const auto golden = test::Golden::load(dir, c.golden);
  std::string deq_name = c.golden;
  deq_name.insert(deq_name.find("golden-") + 7, "deq_");
  const auto deq = test::Golden::load(dir, deq_name);
  ASSERT_EQ(golden.prompt_tokens, deq.prompt_tokens);
  auto model = load_cached(test::shared_path(dir + "/" + c.model));
  auto logits = [&](kernels::Isa isa) {
    kernels::set_isa(isa);
    model::Context ctx(model, {.n_ctx = 512, .n_threads = 2, .kv_type = quant::Type::F32});
    ctx.eval(golden.prompt_tokens, /*all_logits=*/true);
    std::vector<float> all;
    for (int i = 0; i < ctx.n_logits(); i++) all.insert(all.end(), ctx.logits(i), ctx.logits(i) + ctx.n_vocab());
    return all;
  };
  const kernels::Isa simd_isa = kernels::detect_isa();
  ASSERT_NE(simd_isa, kernels::Isa::Ref) << "no SIMD path on this CPU";
  const std::vector<float> simd = logits(simd_isa), ref = logits(kernels::Isa::Ref);
  const size_t n_vocab = simd.size() / golden.prompt_tokens.size();
  double ours = 0, theirs = 0;
  int n = 0;
  for (size_t pos = 0; pos < golden.prompt_tokens.size(); pos++) {
    for (auto [id, value] : golden.prompt_top[pos]) {
      for (auto [deq_id, deq_value] : deq.prompt_top[pos]) {
        if (deq_id != id) continue;
        const double d = double(simd[pos * n_vocab + id]) - ref[pos * n_vocab + id];
        ours += std::isfinite(d) ? d * d : INFINITY;
        theirs += double(value - deq_value) * (value - deq_value);
        n++;
      }
    }
  }
  ASSERT_GT(n, 0);
  const double ratio = std::sqrt(ours / theirs);
  std::printf("[%s] %s/%s: activation rounding RMS ours %.4f, llama.cpp %.4f (ratio %.3f over %d logits)\n",
              std::string(kernels::isa_name(simd_isa)).c_str(), c.arch.c_str(), c.golden.c_str(), std::sqrt(ours / n),
              std::sqrt(theirs / n), ratio, n);
  EXPECT_GE(ratio, 0.75) << "the SIMD path does not round its activations as llama.cpp does";
  EXPECT_LE(ratio, 1.25) << "the SIMD path differs from the reference by more than activation rounding";
}

// ../shared/models/stories260K.greedy.json's logits_first4: the whole logit vectors of BOS and
// the first three greedy tokens, recomputed in float64 from the same fp32 weights (an engine
// other than llama.cpp). Float32 arithmetic against it: 1e-3, as for the F32 goldens.
TEST(Stories260K, FirstFourPositionsMatchTheFloat64Reference) {
  std::ifstream in(test::shared_path("models/stories260K.greedy.json"));
  const auto golden = nlohmann::json::parse(in);
  const auto expected = golden.at("logits_first4").get<std::vector<std::vector<float>>>();
  const auto ids = golden.at("generated_ids").get<std::vector<int32_t>>();
  const std::vector<int32_t> tokens = {golden.at("bos").get<int32_t>(), ids[0], ids[1], ids[2]};
  auto model = load_cached(test::shared_path("models/stories260K.gguf"));
  for (kernels::Isa isa : {kernels::Isa::Ref, kernels::detect_isa()}) {
    kernels::set_isa(isa);
    model::Context ctx(model, {.n_ctx = 64, .n_threads = 2, .kv_type = quant::Type::F32});
    ctx.eval(tokens, /*all_logits=*/true);
    ASSERT_EQ(expected.size(), 4u);
    for (size_t p = 0; p < 4; p++) {
      ASSERT_EQ(expected[p].size(), size_t(ctx.n_vocab()));
      EXPECT_LE(test::max_abs_error(ctx.logits(int(p)), expected[p].data(), expected[p].size()), 1e-3f)
          << kernels::isa_name(isa) << " position " << p;
    }
  }
  kernels::set_isa(kernels::detect_isa());
}

std::vector<Case> quantized_cases() {
  std::vector<Case> out;
  for (const Case& c : cases())
    if (c.golden.find("deq_") == std::string::npos && c.golden.find("F32") == std::string::npos) out.push_back(c);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Golden, QuantizedPath, testing::ValuesIn(quantized_cases()), case_name);

}  // namespace
