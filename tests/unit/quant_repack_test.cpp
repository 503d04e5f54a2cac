// Repacked layouts (quant/repack.h): lossless both ways, the same values through the
// reference decoder, and what Weights::bind and the memory plan do with them.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "kernels/dispatch.h"
#include "kernels/matmul.h"
#include "memory/plan.h"
#include "model/context.h"
#include "model/weights.h"
#include "quant/reference.h"
#include "quant/repack.h"
#include "support/test_paths.h"

namespace tandem {
namespace {

using quant::Type;

std::vector<uint8_t> random_row(Type type, int64_t n, std::mt19937& rng) {
  const auto& t = quant::traits(type);
  std::vector<uint8_t> row(quant::row_bytes(t, n));
  for (auto& b : row) b = (uint8_t)rng();
  const std::vector<int> halves = type == Type::Q4_K ? std::vector<int>{0, 2} : std::vector<int>{0};
  for (size_t block = 0; block < row.size() / t.block_bytes; block++)
    for (int offset : halves) {
      const uint16_t h = fp32_to_fp16(0.001f * (1 + block % 5));
      std::memcpy(&row[block * t.block_bytes + offset], &h, 2);
    }
  return row;
}

struct Case {
  Type layout;
  std::vector<int64_t> lengths;  // Q4_0_R8: with and without Q4_0 blocks after the groups
};

TEST(Repack, RoundTripsAndDecodesToTheSameValues) {
  std::mt19937 rng(5);
  for (const Case& c : {Case{Type::Q4_0_R8, {32, 96, 256, 288, 896, 2048, 5632}}, Case{Type::Q4_K_R8, {256, 512, 2048}},
                        Case{Type::Q5_0_R8, {32, 96, 256, 288, 896, 4864}}}) {
    const Type from = quant::original_type(c.layout);
    ASSERT_EQ(quant::repacked_layout(from), c.layout);
    for (int64_t n : c.lengths) {
      const auto row = random_row(from, n, rng);
      std::vector<uint8_t> packed(row.size()), back(row.size(), 0xaa);
      quant::repack_row(c.layout, row.data(), packed.data(), n);
      quant::unpack_row(c.layout, packed.data(), back.data(), n);
      EXPECT_EQ(back, row) << quant::type_name(c.layout) << " n=" << n;
      if (n >= 256) {
        EXPECT_NE(packed, row) << "a whole group must be rearranged";
      }
      std::vector<float> want(n), got(n);
      quant::dequantize_row(from, row.data(), want.data(), n);
      quant::dequantize_row(c.layout, packed.data(), got.data(), n);
      EXPECT_EQ(got, want) << quant::type_name(c.layout) << " n=" << n;
    }
  }
}

TEST(Repack, OnlyOurLayoutsAreAcceptedAndTheyAreNotFileTypes) {
  std::vector<uint8_t> a(18 * 8), b(18 * 8);
  EXPECT_THROW(quant::repack_row(Type::Q8_0, a.data(), b.data(), 256), Error);
  EXPECT_THROW(quant::repack_row(Type::Q4_K_R8, a.data(), b.data(), 100), Error);
  EXPECT_FALSE(quant::traits_of((uint32_t)Type::Q4_0_R8).has_value());  // a GGUF cannot claim it
  EXPECT_FALSE(quant::type_from_name("Q4_0_R8").has_value());           // nor can --type
  EXPECT_FALSE(quant::repacked_layout(Type::Q6_K).has_value());
  EXPECT_FALSE(quant::repacked_layout(Type::Q8_0).has_value());
}

// The plan's rule is the one Weights::bind applies, under whatever ISA this machine runs.
TEST(Repack, PlanCountsTheMatricesThatBindMoves) {
  const bool q4_0_moves = kernels::preferred_layout(Type::Q4_0) != Type::Q4_0;
  EXPECT_EQ(model::repacked_at_load("blk.3.ffn_down.weight", Type::Q4_0, false), q4_0_moves);
  EXPECT_EQ(model::repacked_at_load("blk.0.attn_qkv.weight", Type::Q4_0, false), q4_0_moves);
  EXPECT_EQ(model::repacked_at_load("output.weight", Type::Q4_K, false),
            kernels::preferred_layout(Type::Q4_K) != Type::Q4_K);
  EXPECT_FALSE(model::repacked_at_load("token_embd.weight", Type::Q4_0, false));  // looked up, not multiplied
  EXPECT_EQ(model::repacked_at_load("token_embd.weight", Type::Q4_0, true), q4_0_moves);  // tied: the output too
  EXPECT_FALSE(model::repacked_at_load("blk.0.attn_norm.weight", Type::Q4_0, false));
  EXPECT_FALSE(model::repacked_at_load("blk.0.ffn_down.weight", Type::Q6_K, false));
}

TEST(Repack, BindMovesExactlyWhatThePlanCounts) {
  const std::string path = test::shared_path("conformance/llama/model-Q4_0.gguf");
  auto model = model::Model::load(path);
  const auto& w = model->weights();
  const Type want = kernels::preferred_layout(Type::Q4_0);
  uint64_t moved = 0;
  for (const auto& l : w.layers)
    for (auto t : {l.wq, l.wk, l.wv, l.wo, l.ffn_gate, l.ffn_up, l.ffn_down})
      if (t && quant::original_type(t->type) == Type::Q4_0) {
        EXPECT_EQ(t->type, want) << t->name;
        if (t->type != Type::Q4_0) moved += t->n_bytes;
      }
  if (w.output != w.token_embd && w.output->type == want && want != Type::Q4_0) moved += w.output->n_bytes;
  if (want != Type::Q4_0) {
    EXPECT_GT(moved, 0u) << "this ISA repacks Q4_0, so the model's matrices must have moved";
  }
  EXPECT_EQ(quant::original_type(w.token_embd->type), w.token_embd->type) << "an untied embedding is not repacked";
  const auto file = gguf::File::open(path);
  EXPECT_EQ(memory::layout_from_gguf(file).repacked_bytes, moved);
}

}  // namespace
}  // namespace tandem
