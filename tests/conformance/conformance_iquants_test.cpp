// The i-quant and ternary types against llama.cpp, on the conformance llama model quantized by
// the reference's llama-quantize (tests/data/goldens/llama-iquants, made by
// tools/goldens/make_iquant_goldens.sh), teacher-forced as conformance_logits_test does, with
// the conformance README's tolerances for a 2-layer model:
//   golden-deq_<FTYPE>: the same weights dequantized by gguf-py and run by llama.cpp in F32;
//     Tandem's float path (Isa::Ref) must match to 1e-3 (decoding is exact: the decoders are
//     bit-identical to ggml's, quant_iquants_test).
//   golden-<FTYPE>: llama.cpp with activations quantized on the fly; Tandem under the fastest
//     ISA (SIMD kernels for IQ4_NL, IQ4_XS, IQ3_S, IQ2_S; the float path for the others), 0.4.
// Greedy argmax must agree wherever the golden's top1-top2 gap exceeds twice the tolerance.
// Also: `tandem quantize --imatrix` reproduces llama-quantize's file from the same importance
// matrix, in its GGUF and its legacy form (both from llama-imatrix), which read the same.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "conformance/golden.h"
#include "gguf/file.h"
#include "gguf/imatrix.h"
#include "kernels/dispatch.h"
#include "model/context.h"

using namespace tandem;

namespace {

const std::string kFolder = std::string(TANDEM_SOURCE_DIR) + "/tests/data/goldens/llama-iquants";

struct Case {
  std::string golden;  // golden-<FTYPE>-promptN.json or golden-deq_<FTYPE>-promptN.json
  std::string model;   // the quantized file both were computed from
  bool exact;          // deq_: the float path
};

std::vector<Case> cases() {
  std::vector<Case> out;
  namespace fs = std::filesystem;
  if (!fs::exists(kFolder)) return out;
  for (const auto& entry : fs::directory_iterator(kFolder)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind("golden-", 0) != 0 || entry.path().extension() != ".json") continue;
    const bool exact = file.rfind("golden-deq_", 0) == 0;
    const std::string ftype = file.substr(exact ? 11 : 7, file.find("-prompt") - (exact ? 11 : 7));
    out.push_back({file, "model-" + ftype + ".gguf", exact});
  }
  std::sort(out.begin(), out.end(), [](const Case& a, const Case& b) { return a.golden < b.golden; });
  return out;
}

std::shared_ptr<const model::Model> load_cached(const std::string& path) {
  static std::map<std::string, std::shared_ptr<const model::Model>> cache;
  auto& m = cache[path];
  if (!m) m = model::Model::load(path);
  return m;
}

float max_error(const float* logits, const std::vector<std::pair<int32_t, float>>& top) {
  float worst = 0;
  for (auto [id, value] : top) {
    const float e = std::abs(logits[id] - value);
    worst = std::isnan(e) ? INFINITY : std::max(worst, e);
  }
  return worst;
}

int argmax(const float* x, int n) { return (int)(std::max_element(x, x + n) - x); }

class IQuantConformance : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override { kernels::set_isa(GetParam().exact ? kernels::Isa::Ref : kernels::detect_isa()); }
  void TearDown() override { kernels::set_isa(kernels::detect_isa()); }
  float atol() const { return GetParam().exact ? 1e-3f : 0.4f; }
};

TEST(IQuantConformance, EveryTypeHasGoldens) {
  std::map<std::string, int> seen;
  for (const Case& c : cases()) {
    const auto model = gguf::File::open(kFolder + "/" + c.model);
    for (const auto& t : model.tensors()) seen[std::string(quant::type_name(t.type))]++;
  }
  for (const char* type : {"IQ4_NL", "IQ4_XS", "IQ3_S", "IQ3_XXS", "IQ2_S", "IQ2_XS", "IQ2_XXS", "IQ1_S", "IQ1_M", "TQ1_0", "TQ2_0"})
    EXPECT_GT(seen[type], 0) << "no golden model has a tensor of type " << type;
}

TEST_P(IQuantConformance, TeacherForcedLogitsMatchReference) {
  const Case& c = GetParam();
  const auto golden = test::Golden::load_path(kFolder, c.golden);
  const auto model = load_cached(kFolder + "/" + c.model);
  model::Context ctx(model, {.n_ctx = 512, .n_threads = 2, .kv_type = quant::Type::F32});  // the goldens use an F32 KV cache
  const int n_vocab = ctx.n_vocab();
  ctx.eval(golden.prompt_tokens, /*all_logits=*/true);
  float worst_prompt = 0;
  for (size_t i = 0; i < golden.prompt_tokens.size(); i++)
    worst_prompt = std::max(worst_prompt, max_error(ctx.logits((int)i), golden.prompt_top[i]));
  EXPECT_LE(worst_prompt, atol()) << "prompt top-20 logits";

  const float* last = ctx.logits((int)golden.prompt_tokens.size() - 1);
  ASSERT_EQ((int)golden.last_prompt_logits.size(), n_vocab);
  float worst_full = 0;
  for (int i = 0; i < n_vocab; i++) {
    const float e = std::abs(last[i] - golden.last_prompt_logits[i]);
    worst_full = std::isnan(e) ? INFINITY : std::max(worst_full, e);
  }
  EXPECT_LE(worst_full, atol()) << "full logits of the last prompt position";

  std::vector<float> step(last, last + n_vocab);
  float worst_greedy = 0;
  int checked = 0;
  for (size_t s = 0; s < golden.greedy_ids.size(); s++) {
    if (s > 0) {
      ctx.eval(std::vector<int32_t>{golden.greedy_ids[s - 1]});
      step.assign(ctx.logits(0), ctx.logits(0) + n_vocab);
    }
    worst_greedy = std::max(worst_greedy, max_error(step.data(), golden.greedy_top[s]));
    if (golden.greedy_top[s][0].second - golden.greedy_top[s][1].second > 2 * atol()) {
      EXPECT_EQ(argmax(step.data(), n_vocab), golden.greedy_ids[s]) << "greedy step " << s;
      checked++;
    }
  }
  EXPECT_LE(worst_greedy, atol()) << "greedy top-5 logits";
  std::printf("[%s] %s: max abs error prompt %.3g, last row %.3g, greedy %.3g (tolerance %.3g), argmax checked at %d steps\n",
              std::string(kernels::isa_name(kernels::active_isa())).c_str(), c.golden.c_str(), worst_prompt, worst_full,
              worst_greedy, atol(), checked);
}

// Free-running greedy: our own choices fed back, identical to the golden ids up to the first
// step whose golden top1-top2 gap is within twice the tolerance.
TEST_P(IQuantConformance, FreeRunningGreedyAgreesUntilANearTie) {
  const Case& c = GetParam();
  const auto golden = test::Golden::load_path(kFolder, c.golden);
  model::Context ctx(load_cached(kFolder + "/" + c.model), {.n_ctx = 512, .n_threads = 2, .kv_type = quant::Type::F32});
  ctx.eval(golden.prompt_tokens);
  for (size_t s = 0; s < golden.greedy_ids.size(); s++) {
    if (golden.greedy_top[s][0].second - golden.greedy_top[s][1].second <= 2 * atol()) break;
    const int id = argmax(ctx.logits(0), ctx.n_vocab());
    ASSERT_EQ(id, golden.greedy_ids[s]) << "greedy step " << s;
    ctx.eval(std::vector<int32_t>{id});
  }
}

INSTANTIATE_TEST_SUITE_P(LlamaIQuants, IQuantConformance, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<Case>& info) {
                           std::string name = info.param.golden;
                           for (char& ch : name)
                             if (!std::isalnum((unsigned char)ch)) ch = '_';
                           return name;
                         });

// llama-imatrix wrote the same importance matrix in both formats: they read the same.
TEST(IQuantImportance, GgufAndLegacyFilesOfOneRunReadTheSame) {
  const auto a = gguf::load_importance_matrix(kFolder + "/imatrix.gguf");
  const auto b = gguf::load_importance_matrix(kFolder + "/imatrix.dat");
  EXPECT_FALSE(a.legacy);
  EXPECT_TRUE(b.legacy);
  ASSERT_EQ(a.weights.size(), b.weights.size());
  EXPECT_GT(a.weights.size(), 10u);
  for (const auto& [name, w] : a.weights) {
    ASSERT_TRUE(b.weights.count(name)) << name;
    const auto& v = b.weights.at(name);
    ASSERT_EQ(w.size(), v.size()) << name;
    for (size_t i = 0; i < w.size(); i++) ASSERT_NEAR(w[i], v[i], 1e-6f * std::fabs(w[i])) << name << " " << i;
  }
  EXPECT_EQ(a.chunk_count, b.chunk_count);
}

// tandem quantize with llama-imatrix's matrix writes llama-quantize's tensors, byte for byte.
TEST(IQuantImportance, TandemQuantizeWithTheImportanceMatrixIsLlamaQuantize) {
  for (const char* format : {"imatrix.gguf", "imatrix.dat"}) {
    const std::string theirs = kFolder + (format == std::string("imatrix.gguf") ? "/model-IQ4_XS-imatrix.gguf"
                                                                                 : "/model-IQ4_XS-imatrix-dat.gguf");
    const std::string ours = test::temp_path(std::string("iq4xs-") + format + ".gguf");
    const auto r = test::run_cli("quantize --imatrix '" + kFolder + "/" + format + "' '" +
                                 test::shared_path("conformance/llama/model-F32.gguf") + "' '" + ours + "' IQ4_XS -t 2");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto a = gguf::File::open(ours), b = gguf::File::open(theirs);
    ASSERT_EQ(a.tensors().size(), b.tensors().size());
    for (size_t i = 0; i < a.tensors().size(); i++) {
      const auto& x = a.tensors()[i];
      const auto& y = b.tensors()[i];
      EXPECT_EQ(x.name, y.name);
      EXPECT_EQ(x.type, y.type) << x.name;
      ASSERT_EQ(x.n_bytes, y.n_bytes) << x.name;
      EXPECT_EQ(0, std::memcmp(x.data, y.data, x.n_bytes)) << x.name << " (" << format << ")";
    }
    EXPECT_EQ(a.get_uint("quantize.imatrix.entries_count"), b.get_uint("quantize.imatrix.entries_count"));
    EXPECT_EQ(a.get_uint("quantize.imatrix.chunks_count"), b.get_uint("quantize.imatrix.chunks_count"));
  }
}

}  // namespace
