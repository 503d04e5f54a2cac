// The i-quant (IQ1_S .. IQ4_XS) and ternary (TQ1_0, TQ2_0) decoders: bit-identical to ggml's
// own dequantize_row_* (from the peer's libggml-base, support/ggml_peer.h) on random blocks,
// extreme blocks and every index value; block sizes against the type table; dot_row against
// the decoded sum; a row is the concatenation of its blocks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/reference.h"
#include "support/ggml_peer.h"

namespace tandem::quant {
namespace {

struct Layout {
  Type type;
  size_t block_bytes;              // from blocks.h, checked against the type table
  std::vector<size_t> half_fields;  // byte offsets of the fp16 scales inside a block
};

// IQ1_M keeps its fp16 scale in the top nibbles of its four u16 scale words (set_iq1m_scale).
const std::vector<Layout> kLayouts = {
    {Type::IQ4_NL, sizeof(BlockIQ4_NL), {0}},   {Type::IQ4_XS, sizeof(BlockIQ4_XS), {0}},
    {Type::IQ3_S, sizeof(BlockIQ3_S), {0}},     {Type::IQ3_XXS, sizeof(BlockIQ3_XXS), {0}},
    {Type::IQ2_S, sizeof(BlockIQ2_S), {0}},     {Type::IQ2_XS, sizeof(BlockIQ2_XS), {0}},
    {Type::IQ2_XXS, sizeof(BlockIQ2_XXS), {0}}, {Type::IQ1_M, sizeof(BlockIQ1_M), {}},
    {Type::IQ1_S, sizeof(BlockIQ1_S), {0}},     {Type::TQ2_0, sizeof(BlockTQ2_0), {64}},
    {Type::TQ1_0, sizeof(BlockTQ1_0), {52}},
};

void set_iq1m_scale(uint8_t* block, uint16_t h) {
  for (int i = 0; i < 4; i++) {
    uint8_t& byte = block[offsetof(BlockIQ1_M, scales) + 2 * i + 1];
    byte = uint8_t((byte & 0x0f) | (((h >> (4 * i)) & 0xf) << 4));
  }
}

// Random (or all-`fill`) bytes, then finite, moderate fp16 scales of either sign.
std::vector<uint8_t> make_row(const Layout& layout, int64_t n_blocks, std::mt19937& rng, int fill = -1) {
  std::vector<uint8_t> bytes(n_blocks * layout.block_bytes);
  for (auto& b : bytes) b = fill < 0 ? uint8_t(rng()) : uint8_t(fill);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  for (int64_t i = 0; i < n_blocks; i++) {
    uint8_t* block = bytes.data() + i * layout.block_bytes;
    const uint16_t h = fp32_to_fp16(value(rng) * 0.05f);
    for (size_t offset : layout.half_fields) std::memcpy(block + offset, &h, 2);
    if (layout.type == Type::IQ1_M) set_iq1m_scale(block, h);
  }
  return bytes;
}

int64_t elems(const Layout& layout, int64_t n_blocks) { return n_blocks * traits(layout.type).block_elems; }

// Bit-level equality, so a NaN or a signed zero cannot hide a difference.
void expect_same_bits(const std::vector<float>& ours, const std::vector<float>& theirs, Type type, const char* what) {
  ASSERT_EQ(ours.size(), theirs.size());
  for (size_t i = 0; i < ours.size(); i++)
    ASSERT_EQ(0, std::memcmp(&ours[i], &theirs[i], 4))
        << type_name(type) << " " << what << ": element " << i << " ours " << ours[i] << " ggml " << theirs[i];
}

TEST(QuantIQuants, BlockSizesMatchTypeTable) {
  for (const Layout& layout : kLayouts) {
    const TypeTraits& t = traits(layout.type);
    EXPECT_EQ(t.block_bytes, layout.block_bytes) << t.name;
    EXPECT_TRUE(t.computable) << t.name;
    EXPECT_TRUE(has_reference(layout.type)) << t.name;
  }
}

TEST(QuantIQuants, DecodersAreBitIdenticalToGgmls) {
  const test::GgmlPeer& peer = test::GgmlPeer::get();
  std::mt19937 rng(19);
  for (const Layout& layout : kLayouts) {
    for (int fill : {-1, 0x00, 0xff, 0x55, 0xaa}) {  // random, and every index field at its extremes
      const int64_t n_blocks = fill < 0 ? 64 : 2;
      const auto row = make_row(layout, n_blocks, rng, fill);
      std::vector<float> ours(elems(layout, n_blocks)), theirs(ours.size());
      dequantize_row(layout.type, row.data(), ours.data(), int64_t(ours.size()));
      peer.dequantize_row(layout.type, row.data(), theirs.data(), int64_t(theirs.size()));
      expect_same_bits(ours, theirs, layout.type, fill < 0 ? "random blocks" : "filled blocks");
    }
  }
}

// Every value of every index field, through all of a block's positions: for the grid types,
// block b sets every index byte to b (so the 256 blocks walk each byte through 0..255) and
// the other fields random, which reaches each table entry from each run.
TEST(QuantIQuants, EveryIndexValueDecodesAsGgmlDoes) {
  const test::GgmlPeer& peer = test::GgmlPeer::get();
  std::mt19937 rng(7);
  for (const Layout& layout : kLayouts) {
    auto row = make_row(layout, 256, rng);
    for (int b = 0; b < 256; b++) {
      uint8_t* block = row.data() + b * layout.block_bytes;
      for (size_t i = 0; i < layout.block_bytes; i++) {
        const bool scale = std::find(layout.half_fields.begin(), layout.half_fields.end(), i & ~size_t(1)) !=
                           layout.half_fields.end();
        if (!scale && i % 3 == 0) block[i] = uint8_t(b);
      }
    }
    std::vector<float> ours(elems(layout, 256)), theirs(ours.size());
    dequantize_row(layout.type, row.data(), ours.data(), int64_t(ours.size()));
    peer.dequantize_row(layout.type, row.data(), theirs.data(), int64_t(theirs.size()));
    expect_same_bits(ours, theirs, layout.type, "index sweep");
  }
}

TEST(QuantIQuants, DotRowMatchesDequantizedSum) {
  std::mt19937 rng(42);
  std::normal_distribution<float> activation(0.0f, 1.0f);
  for (const Layout& layout : kLayouts) {
    for (int64_t blocks : {1, 3, 9}) {
      const int64_t n = elems(layout, blocks);
      const auto row = make_row(layout, blocks, rng);
      std::vector<float> x(n), w(n);
      for (auto& v : x) v = activation(rng);
      dequantize_row(layout.type, row.data(), w.data(), n);
      double expected = 0.0, magnitude = 0.0;
      for (int64_t i = 0; i < n; i++) {
        ASSERT_TRUE(std::isfinite(w[i])) << type_name(layout.type);
        expected += double(w[i]) * x[i];
        magnitude += std::fabs(double(w[i]) * x[i]);
      }
      EXPECT_GT(magnitude, 0.0) << type_name(layout.type);
      EXPECT_NEAR(dot_row(layout.type, row.data(), x.data(), n), expected, 1e-5 * magnitude)
          << type_name(layout.type) << " n=" << n;
    }
  }
}

TEST(QuantIQuants, RowIsConcatenationOfBlocks) {
  std::mt19937 rng(3);
  for (const Layout& layout : kLayouts) {
    const int64_t block_elems = traits(layout.type).block_elems, n_blocks = 5;
    const auto row = make_row(layout, n_blocks, rng);
    std::vector<float> whole(n_blocks * block_elems), single(block_elems);
    dequantize_row(layout.type, row.data(), whole.data(), n_blocks * block_elems);
    for (int64_t b = 0; b < n_blocks; b++) {
      dequantize_row(layout.type, row.data() + b * layout.block_bytes, single.data(), block_elems);
      for (int64_t e = 0; e < block_elems; e++)
        ASSERT_EQ(whole[b * block_elems + e], single[e]) << type_name(layout.type) << " block " << b;
    }
  }
}

}  // namespace
}  // namespace tandem::quant
