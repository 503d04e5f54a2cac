// The per-tensor type mixes against what llama-quantize chose for the conformance
// models, and against llama.cpp's rules on shapes the conformance set does not cover.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/file.h"
#include "quant/recipes.h"
#include "support/test_paths.h"

namespace tandem::quant {
namespace {

std::vector<TensorDesc> descs_of(const gguf::File& f) {
  std::vector<TensorDesc> out;
  for (const auto& t : f.tensors()) out.push_back({t.name, t.type, t.dims});
  return out;
}

ModelFacts facts_of(const gguf::File& f) {
  ModelFacts m;
  m.arch = f.get_string("general.architecture");
  m.n_layer = int(f.get_uint(m.arch + ".block_count"));
  m.n_head = int(f.get_uint(m.arch + ".attention.head_count"));
  m.n_head_kv = int(f.find_uint(m.arch + ".attention.head_count_kv").value_or(m.n_head));
  return m;
}

class LlamaCppMix : public ::testing::TestWithParam<std::string> {};

TEST_P(LlamaCppMix, SameTypesAsLlamaQuantize) {
  const std::string arch = GetParam();
  const auto f32 = gguf::File::open(test::shared_path("conformance/" + arch + "/model-F32.gguf"));
  for (std::string recipe : {"Q4_K_M", "Q4_0", "Q8_0"}) {
    const auto theirs = gguf::File::open(test::shared_path("conformance/" + arch + "/model-" + recipe + ".gguf"));
    const auto descs = descs_of(f32);
    const auto choices = choose_types(find_recipe(recipe), facts_of(f32), descs);
    for (size_t i = 0; i < descs.size(); i++) {
      const gguf::TensorInfo* t = theirs.find_tensor(descs[i].name);
      ASSERT_NE(t, nullptr) << descs[i].name;
      EXPECT_EQ(type_name(choices[i].type), type_name(t->type)) << recipe << " " << descs[i].name;
      EXPECT_TRUE(choices[i].fallback.empty());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Conformance, LlamaCppMix, ::testing::Values("llama", "llama3", "qwen2", "phi3"));

// llama.cpp writes tensors outside blocks first, then block 0, 1, ..., 10 (numerically).
TEST(Recipes, OrderIsByLayerNumberThenName) {
  std::vector<TensorDesc> t = {{"blk.10.attn_q.weight", Type::F32, {256, 256}},
                               {"token_embd.weight", Type::F32, {256, 10}},
                               {"blk.2.ffn_up.weight", Type::F32, {256, 256}},
                               {"blk.2.attn_k.weight", Type::F32, {256, 256}},
                               {"output.weight", Type::F32, {256, 10}}};
  const auto order = llama_cpp_order(t);
  std::vector<std::string> names;
  for (size_t i : order) names.push_back(t[i].name);
  EXPECT_EQ(names, (std::vector<std::string>{"output.weight", "token_embd.weight", "blk.2.attn_k.weight",
                                             "blk.2.ffn_up.weight", "blk.10.attn_q.weight"}));
}

// A 32-layer untied model: Q4_K_M gives attn_v/ffn_down Q6_K in layers 0-3, 28-31 and
// every third in between (use_more_bits), Q3_K_M gives attn_v Q5_K in layers 0-1 and
// ffn_down Q5_K in layers 0-1 (n/16), and norms stay F32.
std::vector<TensorDesc> llama_like(int n_layer, uint64_t row = 4096) {
  std::vector<TensorDesc> t = {{"token_embd.weight", Type::F16, {row, 32000}},
                               {"output.weight", Type::F16, {row, 32000}},
                               {"output_norm.weight", Type::F32, {row}}};
  for (int l = 0; l < n_layer; l++) {
    const std::string p = "blk." + std::to_string(l) + ".";
    for (std::string name : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up"})
      t.push_back({p + name + ".weight", Type::F16, {row, row}});
    t.push_back({p + "ffn_down.weight", Type::F16, {11008, row}});
    t.push_back({p + "attn_norm.weight", Type::F32, {row}});
  }
  return t;
}

Type type_of(const std::vector<TensorDesc>& t, const std::vector<TypeChoice>& c, const std::string& name) {
  for (size_t i = 0; i < t.size(); i++)
    if (t[i].name == name) return c[i].type;
  ADD_FAILURE() << "no tensor " << name;
  return Type::F32;
}

TEST(Recipes, Q4_K_M_MoreBitsLayers) {
  const auto t = llama_like(32);
  const auto c = choose_types(find_recipe("q4_k_m"), {"llama", 32, 32, 32}, t);
  const std::vector<int> more = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
  for (int l = 0; l < 32; l++) {
    const bool expect_more = std::find(more.begin(), more.end(), l) != more.end();
    const std::string p = "blk." + std::to_string(l) + ".";
    EXPECT_EQ(type_of(t, c, p + "attn_v.weight"), expect_more ? Type::Q6_K : Type::Q4_K) << l;
    EXPECT_EQ(type_of(t, c, p + "ffn_down.weight"), expect_more ? Type::Q6_K : Type::Q4_K) << l;
    EXPECT_EQ(type_of(t, c, p + "attn_q.weight"), Type::Q4_K);
    EXPECT_EQ(type_of(t, c, p + "attn_norm.weight"), Type::F32);
  }
  EXPECT_EQ(type_of(t, c, "output.weight"), Type::Q6_K);
  EXPECT_EQ(type_of(t, c, "token_embd.weight"), Type::Q4_K);
  EXPECT_EQ(type_of(t, c, "output_norm.weight"), Type::F32);
}

TEST(Recipes, Q3_K_M_And_Q2_K) {
  const auto t = llama_like(32);
  const auto q3 = choose_types(find_recipe("Q3_K_M"), {"llama", 32, 32, 32}, t);
  EXPECT_EQ(type_of(t, q3, "blk.0.attn_v.weight"), Type::Q5_K);
  EXPECT_EQ(type_of(t, q3, "blk.1.attn_v.weight"), Type::Q5_K);
  EXPECT_EQ(type_of(t, q3, "blk.2.attn_v.weight"), Type::Q4_K);
  EXPECT_EQ(type_of(t, q3, "blk.1.ffn_down.weight"), Type::Q5_K);
  EXPECT_EQ(type_of(t, q3, "blk.2.ffn_down.weight"), Type::Q4_K);
  EXPECT_EQ(type_of(t, q3, "blk.5.attn_output.weight"), Type::Q4_K);
  EXPECT_EQ(type_of(t, q3, "blk.5.ffn_up.weight"), Type::Q3_K);
  const auto q2 = choose_types(find_recipe("Q2_K"), {"llama", 32, 32, 8}, t);  // GQA 4
  EXPECT_EQ(type_of(t, q2, "blk.7.attn_v.weight"), Type::Q4_K);
  EXPECT_EQ(type_of(t, q2, "blk.7.ffn_down.weight"), Type::Q3_K);
  EXPECT_EQ(type_of(t, q2, "blk.7.attn_output.weight"), Type::Q3_K);
  EXPECT_EQ(type_of(t, q2, "blk.7.attn_q.weight"), Type::Q2_K);
}

// Rows that a 256-element block cannot divide fall back as llama.cpp does.
TEST(Recipes, FallbacksForOddRows) {
  const auto t = llama_like(2, 64);  // stories260K-like: n_embd 64
  const auto c = choose_types(find_recipe("Q4_K_M"), {"llama", 2, 8, 4}, t);
  EXPECT_EQ(type_of(t, c, "blk.0.attn_q.weight"), Type::Q5_0);
  EXPECT_EQ(type_of(t, c, "blk.1.attn_v.weight"), Type::Q8_0);  // Q6_K -> Q8_0
  EXPECT_EQ(type_of(t, c, "output.weight"), Type::Q8_0);         // row % 256 != 0
  const auto q2 = choose_types(find_recipe("Q2_K"), {"llama", 2, 8, 4}, t);
  EXPECT_EQ(type_of(t, q2, "blk.0.attn_q.weight"), Type::Q4_0);
  std::vector<TensorDesc> odd = {{"blk.0.attn_q.weight", Type::F32, {100, 100}}};
  const auto f = choose_types(find_recipe("Q4_K_M"), {"llama", 1, 1, 1}, odd);
  EXPECT_EQ(f[0].type, Type::F16);
  EXPECT_FALSE(f[0].fallback.empty());
}

TEST(Recipes, NamesAndFileTypes) {
  EXPECT_EQ(find_recipe("Q4_K").name, "Q4_K_M");
  EXPECT_EQ(find_recipe("q4_k_m").file_type, 15u);
  EXPECT_EQ(find_recipe("Q8_0").file_type, 7u);
  EXPECT_EQ(find_recipe("Q6_K").file_type, 18u);
  EXPECT_THROW(find_recipe("Q7_K"), Error);
}

}  // namespace
}  // namespace tandem::quant
