// The IQ4_NL and IQ4_XS quantizers write ggml's bytes (ggml_quantize_chunk from the peer's
// libggml-base, what llama-quantize calls per tensor), without and with an importance matrix,
// and so do Q4_K, Q5_K and Q6_K with one, on rows that reach the quantizers' corner cases and
// on every conformance F32 matrix; quantized rows decode back close to their input; the IQ4
// mixes follow llama.cpp's rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/file.h"
#include "quant/quantize.h"
#include "quant/recipes.h"
#include "quant/reference.h"
#include "support/ggml_peer.h"
#include "support/test_paths.h"
#include "synth/type_mix.h"

namespace tandem::quant {
namespace {

// The peer's arm64 libggml-base is built with floating-point contraction (its C compiled for
// an FMA machine), so its quantizers' bytes differ from llama-quantize's on x86, which ours
// reproduce on every platform (checked on aarch64 against x86 llama-quantize's files in
// conformance_iquants_test). Byte comparisons with the peer are meaningful on x86 only.
#if defined(__aarch64__)
#define SKIP_ON_ARM() GTEST_SKIP() << "the arm64 peer contracts a*b+c into FMAs: not llama-quantize's x86 bytes"
#else
#define SKIP_ON_ARM() (void)0
#endif

const Type kTypes[] = {Type::IQ4_NL, Type::IQ4_XS};
// With an importance matrix also the K-quants whose ggml quantizers take one and that the IQ4
// mixes use (output Q6_K, attn_v / ffn_down Q5_K), and Q4_K.
const Type kWeighted[] = {Type::IQ4_NL, Type::IQ4_XS, Type::Q4_K, Type::Q5_K, Type::Q6_K};

std::vector<uint8_t> ours(Type type, const float* x, int64_t rows, int64_t n, const float* importance) {
  const size_t stride = row_bytes(traits(type), uint64_t(n));
  std::vector<uint8_t> out(stride * rows);
  for (int64_t r = 0; r < rows; r++) quantize_row_to(type, x + r * n, out.data() + r * stride, n, importance);
  return out;
}

// "" when identical, else where the first difference is.
std::string first_difference(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, Type type) {
  if (a.size() != b.size()) return "sizes " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
  const size_t block = traits(type).block_bytes;
  for (size_t i = 0; i < a.size(); i++)
    if (a[i] != b[i]) return "block " + std::to_string(i / block) + " byte " + std::to_string(i % block);
  return "";
}

// 512-wide rows: Gaussian, heavy-tailed, all positive, all negative, zero, constant, one huge
// outlier, tiny values, one 32-group alone non-zero (the others below ggml's zero threshold),
// alternating zero and non-zero groups, values on the level grid, and a ramp.
std::vector<float> hard_rows(int64_t n, int64_t& rows) {
  std::mt19937 rng(1919);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::student_t_distribution<float> heavy(2.0f);
  std::vector<float> x;
  auto row = [&](auto make) {
    for (int64_t i = 0; i < n; i++) x.push_back(make(i));
  };
  for (int k = 0; k < 6; k++) row([&](int64_t) { return normal(rng); });
  for (int k = 0; k < 3; k++) row([&](int64_t) { return heavy(rng); });
  row([&](int64_t) { return std::fabs(normal(rng)) + 0.5f; });
  row([&](int64_t) { return -std::fabs(normal(rng)) - 0.1f; });
  row([](int64_t) { return 0.0f; });
  row([](int64_t) { return -0.75f; });
  row([&](int64_t i) { return i == 37 ? 1000.0f : normal(rng); });
  row([&](int64_t) { return 1e-6f * normal(rng); });
  row([&](int64_t i) { return i / 32 == 3 ? normal(rng) : 1e-17f; });
  row([&](int64_t i) { return (i / 32) % 2 ? normal(rng) : 0.0f; });
  row([&](int64_t i) { return 0.01f * float(int(i * 7919 % 241) - 120); });
  row([](int64_t i) { return float(i) - 256.0f; });
  rows = int64_t(x.size()) / n;
  return x;
}

// Importance weights as llama-imatrix makes them (mean squared activations: positive, spread
// over orders of magnitude), with some exact zeros.
std::vector<float> importance(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::lognormal_distribution<float> spread(0.0f, 1.5f);
  std::vector<float> w(n);
  for (int64_t i = 0; i < n; i++) w[i] = i % 53 == 7 ? 0.0f : spread(rng);
  return w;
}

TEST(QuantizeIQuants, WritesGgmlsBytesOnHardRows) {
  SKIP_ON_ARM();
  const test::GgmlPeer& peer = test::GgmlPeer::get();
  int64_t rows = 0;
  const int64_t n = 512;
  const std::vector<float> x = hard_rows(n, rows);
  const std::vector<float> w = importance(n, 5);
  for (Type type : kTypes)
    EXPECT_EQ(first_difference(ours(type, x.data(), rows, n, nullptr), peer.quantize(type, x.data(), rows, n), type), "")
        << type_name(type) << " without an importance matrix";
  for (Type type : kWeighted)
    EXPECT_EQ(first_difference(ours(type, x.data(), rows, n, w.data()), peer.quantize(type, x.data(), rows, n, w.data()),
                               type),
              "")
        << type_name(type) << " with an importance matrix";
}

// Every matrix of the conformance models (256- and 768-wide rows, fused phi3 tensors), its
// first 64 rows (the rows are alike; the row lengths are what differ).
TEST(QuantizeIQuants, WritesGgmlsBytesOnTheConformanceMatrices) {
  SKIP_ON_ARM();
  const test::GgmlPeer& peer = test::GgmlPeer::get();
  for (const char* arch : {"llama", "qwen2", "phi3"}) {
    const auto f32 = gguf::File::open(test::shared_path(std::string("conformance/") + arch + "/model-F32.gguf"));
    int matrices = 0;
    for (const auto& t : f32.tensors()) {
      if (t.dims.size() != 2 || t.type != Type::F32) continue;
      matrices++;
      const auto* x = reinterpret_cast<const float*>(t.data);
      const int64_t n = int64_t(t.dims[0]), rows = std::min<int64_t>(int64_t(t.dims[1]), 64);
      const std::vector<float> w = importance(n, uint32_t(matrices));
      for (Type type : kTypes)
        EXPECT_EQ(first_difference(ours(type, x, rows, n, nullptr), peer.quantize(type, x, rows, n), type), "")
            << arch << " " << t.name << " " << type_name(type);
      for (Type type : kWeighted) {
        if (n % traits(type).block_elems) continue;
        EXPECT_EQ(first_difference(ours(type, x, rows, n, w.data()), peer.quantize(type, x, rows, n, w.data()), type), "")
            << arch << " " << t.name << " " << type_name(type) << " with an importance matrix";
      }
    }
    EXPECT_GE(matrices, 8) << arch;
  }
}

// A Gaussian row comes back within a few percent (RMS) of its spread: the quantizer is a
// quantizer, not only a byte copy of ggml's.
TEST(QuantizeIQuants, RoundTripErrorIsSmall) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t n = 4096;
  std::vector<float> x(n), back(n);
  for (auto& v : x) v = normal(rng);
  for (Type type : kTypes) {
    std::vector<uint8_t> q(row_bytes(traits(type), n));
    quantize_row_to(type, x.data(), q.data(), n);
    dequantize_row(type, q.data(), back.data(), n);
    double err = 0;
    for (int64_t i = 0; i < n; i++) err += (back[i] - x[i]) * (back[i] - x[i]);
    EXPECT_LT(std::sqrt(err / n), 0.12) << type_name(type);  // 4-bit non-linear levels: ~0.1 of sigma
  }
}

TEST(QuantizeIQuants, RowLengthMustBeWholeBlocks) {
  std::vector<float> x(300);
  std::vector<uint8_t> out(1024);
  EXPECT_THROW(quantize_row_to(Type::IQ4_XS, x.data(), out.data(), 288), Error);
  EXPECT_THROW(quantize_row_to(Type::IQ4_NL, x.data(), out.data(), 40), Error);
  EXPECT_TRUE(uses_importance(Type::IQ4_XS));
  EXPECT_TRUE(uses_importance(Type::Q5_K));
  EXPECT_FALSE(uses_importance(Type::Q4_0));
  EXPECT_FALSE(uses_importance(Type::Q3_K));
}

// The IQ4 mixes, by llama.cpp's rules (llama_tensor_get_type): a 16-layer model with 8 query
// heads per KV head, rows of 4096 except one of 2880 (not whole 256-blocks) and one of 40.
std::vector<TensorDesc> model_tensors() {
  std::vector<TensorDesc> t = {{"token_embd.weight", Type::F32, {4096, 1000}},
                               {"output.weight", Type::F32, {4096, 1000}},
                               {"output_norm.weight", Type::F32, {4096}}};
  for (int l = 0; l < 16; l++) {
    const std::string p = "blk." + std::to_string(l) + ".";
    for (const char* name : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up"})
      t.push_back({p + name + ".weight", Type::F32, {4096, 512}});
    t.push_back({p + "ffn_down.weight", Type::F32, {l == 5 ? 2880u : l == 6 ? 40u : 4096u, 4096}});
    t.push_back({p + "attn_norm.weight", Type::F32, {4096}});
  }
  return t;
}

Type chosen(const std::vector<TensorDesc>& t, const std::vector<TypeChoice>& c, const std::string& name) {
  for (size_t i = 0; i < t.size(); i++)
    if (t[i].name == name) return c[i].type;
  ADD_FAILURE() << "no tensor " << name;
  return Type::F32;
}

TEST(QuantizeIQuants, MixesFollowLlamaCppsRules) {
  const auto t = model_tensors();
  const ModelFacts gqa8{"llama", 16, 32, 4}, gqa2{"llama", 16, 8, 4};
  for (const char* recipe : {"IQ4_XS", "IQ4_NL"}) {
    const Type base = find_recipe(recipe).base;
    const auto plain = choose_types(find_recipe(recipe), gqa8, t);
    const auto weighted = choose_types(find_recipe(recipe), gqa8, t, /*has_imatrix=*/true);
    EXPECT_EQ(chosen(t, plain, "output.weight"), Type::Q6_K) << recipe;
    EXPECT_EQ(chosen(t, plain, "token_embd.weight"), base) << recipe;
    EXPECT_EQ(chosen(t, plain, "output_norm.weight"), Type::F32) << recipe;
    EXPECT_EQ(chosen(t, plain, "blk.3.attn_v.weight"), Type::Q5_K) << recipe << ": 8 query heads per KV head";
    EXPECT_EQ(chosen(t, choose_types(find_recipe(recipe), gqa2, t), "blk.3.attn_v.weight"), base) << recipe;
    // The first eighth of the ffn_down layers get Q5_K, unless an importance matrix is given.
    for (int l : {0, 1}) {
      const std::string down = "blk." + std::to_string(l) + ".ffn_down.weight";
      EXPECT_EQ(chosen(t, plain, down), Type::Q5_K) << recipe << " " << down;
      EXPECT_EQ(chosen(t, weighted, down), base) << recipe << " " << down;
    }
    EXPECT_EQ(chosen(t, plain, "blk.2.ffn_down.weight"), base) << recipe;
    // Rows that 256-blocks do not divide: IQ4_XS falls back to IQ4_NL; 40 takes F16.
    EXPECT_EQ(chosen(t, plain, "blk.5.ffn_down.weight"), Type::IQ4_NL) << recipe;
    EXPECT_EQ(chosen(t, plain, "blk.6.ffn_down.weight"), Type::F16) << recipe;
  }
  EXPECT_EQ(find_recipe("iq4_xs").file_type, 30u);
  EXPECT_EQ(find_recipe("IQ4_NL").file_type, 25u);
  // With an importance matrix llama.cpp gives Q4_0's first ffn_down layers Q4_1.
  EXPECT_EQ(chosen(t, choose_types(find_recipe("Q4_0"), gqa8, t, true), "blk.1.ffn_down.weight"), Type::Q4_1);
  EXPECT_EQ(chosen(t, choose_types(find_recipe("Q4_0"), gqa8, t), "blk.1.ffn_down.weight"), Type::Q4_0);
}

// tandem synth's file types are tandem quantize's (synth/type_mix.h keeps its own table of
// names for its enum): same base type and general.file_type, and the IQ4 mixes are there.
TEST(QuantizeIQuants, SynthKnowsTheSameFileTypes) {
  for (std::string_view name : synth::recipe_names()) {
    const synth::RecipeInfo& ours = synth::find_recipe(name);
    const Recipe& theirs = find_recipe(name);
    EXPECT_EQ(ours.base, theirs.base) << name;
    EXPECT_EQ(ours.file_type, theirs.file_type) << name;
  }
  EXPECT_EQ(synth::find_recipe("iq4_xs").base, Type::IQ4_XS);
  synth::TensorSlot down{synth::Role::FfnDown, 0, 16, 4, 4096, true};
  EXPECT_EQ(synth::tensor_type(synth::find_recipe("IQ4_XS"), down), Type::Q5_K);
  down.layer = 5;
  EXPECT_EQ(synth::tensor_type(synth::find_recipe("IQ4_XS"), down), Type::IQ4_XS);
  down.row_len = 2880;
  EXPECT_EQ(synth::tensor_type(synth::find_recipe("IQ4_XS"), down), Type::IQ4_NL);
}

TEST(QuantizeIQuants, TypesTandemDoesNotWriteAreNamedInTheError) {
  for (const char* name : {"IQ2_XXS", "IQ3_M", "TQ1_0"}) {
    try {
      find_recipe(name);
      ADD_FAILURE() << "no error for " << name;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("does not write"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace tandem::quant
