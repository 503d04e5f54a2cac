// Every decoder and dot_row against blocks with known values (support/known_blocks.h), for
// every computable type; block sizes against the type table; errors for unsupported types.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/reference.h"
#include "support/known_blocks.h"

namespace tandem::quant {
namespace {

struct Layout {
  Type type;
  size_t block_bytes;              // from blocks.h, checked against the type table
  std::vector<size_t> half_fields;  // byte offsets of fp16 scales inside a block
};

const std::vector<Layout>& layouts() {
  static const std::vector<Layout> table = {
      {Type::F32, 4, {}},
      {Type::F16, 2, {0}},
      {Type::BF16, 2, {}},
      {Type::Q4_0, sizeof(BlockQ4_0), {0}},
      {Type::Q4_1, sizeof(BlockQ4_1), {0, 2}},
      {Type::Q5_0, sizeof(BlockQ5_0), {0}},
      {Type::Q5_1, sizeof(BlockQ5_1), {0, 2}},
      {Type::Q8_0, sizeof(BlockQ8_0), {0}},
      {Type::Q2_K, sizeof(BlockQ2_K), {80, 82}},
      {Type::Q3_K, sizeof(BlockQ3_K), {108}},
      {Type::Q4_K, sizeof(BlockQ4_K), {0, 2}},
      {Type::Q5_K, sizeof(BlockQ5_K), {0, 2}},
      {Type::Q6_K, sizeof(BlockQ6_K), {208}},
  };
  return table;
}

// Random bytes everywhere, then finite, moderate fp16 scales (and floats for F32/BF16),
// so no block decodes to inf or nan.
std::vector<uint8_t> random_row(const Layout& layout, int64_t n_blocks, std::mt19937& rng) {
  std::vector<uint8_t> bytes(n_blocks * layout.block_bytes);
  for (auto& b : bytes) b = uint8_t(rng());
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  for (int64_t i = 0; i < n_blocks; i++) {
    uint8_t* block = bytes.data() + i * layout.block_bytes;
    for (size_t offset : layout.half_fields) {
      const uint16_t h = fp32_to_fp16(value(rng) * 0.05f);
      std::memcpy(block + offset, &h, 2);
    }
    if (layout.type == Type::F32) {
      const float f = value(rng);
      std::memcpy(block, &f, 4);
    } else if (layout.type == Type::BF16) {
      const uint16_t b = fp32_to_bf16(value(rng));
      std::memcpy(block, &b, 2);
    }
  }
  return bytes;
}

TEST(QuantReference, BlockSizesMatchTypeTable) {
  for (const Layout& layout : layouts()) {
    const TypeTraits& t = traits(layout.type);
    EXPECT_EQ(t.block_bytes, layout.block_bytes) << t.name;
    EXPECT_TRUE(t.computable) << t.name;
    EXPECT_TRUE(has_reference(layout.type)) << t.name;
  }
}

// Every decoder against rows whose values are known (support/known_blocks.h writes the bytes
// from the GGUF layouts), exactly: no decoder checks itself.
TEST(QuantReference, DequantizeGivesTheKnownValues) {
  for (Type type : test::known_row_types()) {
    const int64_t block_elems = traits(type).block_elems;
    const int n_blocks = block_elems == 1 ? 256 : 5;
    const test::KnownRow row = test::known_row(type, n_blocks, 17 + uint32_t(type));
    std::vector<float> out(row.values.size(), -12345.0f);
    dequantize_row(type, row.bytes.data(), out.data(), int64_t(out.size()));
    for (size_t i = 0; i < out.size(); i++) ASSERT_EQ(out[i], row.values[i]) << type_name(type) << " element " << i;
  }
}

// dot_row against the known values' sum in double: the dot's own decoding and arithmetic
// are checked, not compared with dequantize_row (which shares its decoder).
TEST(QuantReference, DotRowMatchesTheKnownValuesSum) {
  std::mt19937 rng(42);
  std::normal_distribution<float> activation(0.0f, 1.0f);
  for (Type type : test::known_row_types()) {
    const int64_t block_elems = traits(type).block_elems;
    // Rows of 1, 3 and 8 blocks; the float types get the same element counts as the K-quants.
    for (int64_t blocks : {1, 3, 8}) {
      const int64_t n = block_elems == 1 ? blocks * 256 : blocks * block_elems;
      const test::KnownRow row = test::known_row(type, int(n / block_elems), uint32_t(rng()));
      std::vector<float> x(n);
      for (auto& v : x) v = activation(rng);
      double expected = 0.0, magnitude = 0.0;
      for (int64_t i = 0; i < n; i++) {
        expected += double(row.values[i]) * x[i];
        magnitude += std::fabs(double(row.values[i]) * x[i]);
      }
      const float got = dot_row(type, row.bytes.data(), x.data(), n);
      EXPECT_GT(magnitude, 0.0) << type_name(type);
      EXPECT_NEAR(got, expected, 1e-5 * magnitude + 1e-30) << type_name(type) << " n=" << n;
    }
  }
}

// Decoding a row equals decoding each of its blocks alone (block strides are right).
TEST(QuantReference, RowIsConcatenationOfBlocks) {
  std::mt19937 rng(3);
  for (const Layout& layout : layouts()) {
    const int64_t block_elems = traits(layout.type).block_elems;
    const int64_t n_blocks = 5;
    const auto row = random_row(layout, n_blocks, rng);
    std::vector<float> whole(n_blocks * block_elems), single(block_elems);
    dequantize_row(layout.type, row.data(), whole.data(), n_blocks * block_elems);
    for (int64_t b = 0; b < n_blocks; b++) {
      dequantize_row(layout.type, row.data() + b * layout.block_bytes, single.data(), block_elems);
      for (int64_t e = 0; e < block_elems; e++)
        ASSERT_EQ(whole[b * block_elems + e], single[e]) << type_name(layout.type) << " block " << b;
    }
  }
}

TEST(QuantReference, UnsupportedTypeIsAnErrorNamingIt) {
  std::vector<uint8_t> bytes(1024);
  std::vector<float> out(256), x(256);
  for (Type type : {Type::Q8_K, Type::I32, Type::Q8_1, Type::MXFP4}) {
    EXPECT_FALSE(has_reference(type));
    try {
      dequantize_row(type, bytes.data(), out.data(), 256);
      ADD_FAILURE() << "no error for " << type_name(type);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(type_name(type)), std::string::npos) << e.what();
    }
    EXPECT_THROW(dot_row(type, bytes.data(), x.data(), 256), Error);
  }
  EXPECT_THROW(dequantize_row(Type(99), bytes.data(), out.data(), 32), Error);
}

TEST(QuantReference, RowLengthMustBeWholeBlocks) {
  std::vector<uint8_t> bytes(1024);
  std::vector<float> out(256), x(256);
  try {
    dequantize_row(Type::Q4_K, bytes.data(), out.data(), 128);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Q4_K"), std::string::npos) << e.what();
  }
  EXPECT_THROW(dot_row(Type::Q8_0, bytes.data(), x.data(), 33), Error);
  EXPECT_NO_THROW(dot_row(Type::F16, bytes.data(), x.data(), 3));
  EXPECT_EQ(dot_row(Type::Q8_0, bytes.data(), x.data(), 0), 0.0f);
}

}  // namespace
}  // namespace tandem::quant
