// Reference round-to-nearest quantizers: hand-worked blocks, ggml's rounding
// quirks, and quantize -> dequantize error bounds on random data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "quant/quantize.h"
#include "quant/reference.h"

namespace tandem::quant {
namespace {

std::vector<uint8_t> quantize(Type type, const std::vector<float>& x) {
  std::vector<uint8_t> bytes(row_bytes(traits(type), x.size()));
  quantize_row(type, x.data(), bytes.data(), int64_t(x.size()));
  return bytes;
}

uint16_t half_at(const std::vector<uint8_t>& bytes, size_t offset) { return uint16_t(bytes[offset] | (bytes[offset + 1] << 8)); }

// x = e - 16: the largest magnitude is -16, so d = -16 / -8 = 2 and q = trunc(x/2 + 8.5),
// which rounds halves up (-7.5 -> -7) and clamps the far end (+7.5 -> 15, not 16).
TEST(QuantQuantize, Q4_0HandWorked) {
  std::vector<float> x(32);
  for (int e = 0; e < 32; e++) x[e] = float(e - 16);
  const auto bytes = quantize(Type::Q4_0, x);
  EXPECT_EQ(half_at(bytes, 0), 0x4000);  // d = 2
  for (int e = 0; e < 32; e++) {
    const int expected = std::min(15, (e + 1) / 2);
    const int got = e < 16 ? bytes[2 + e] & 15 : bytes[2 + e - 16] >> 4;
    EXPECT_EQ(got, expected) << e;
  }
}

// x = e / 4 + 1: min 1, max 8.75, d = 7.75 / 31 = 0.25, q = e exactly, all 32 values.
TEST(QuantQuantize, Q5_1HandWorked) {
  std::vector<float> x(32);
  for (int e = 0; e < 32; e++) x[e] = e / 4.0f + 1.0f;
  const auto bytes = quantize(Type::Q5_1, x);
  EXPECT_EQ(half_at(bytes, 0), 0x3400);  // d = 0.25
  EXPECT_EQ(half_at(bytes, 2), 0x3C00);  // m = 1
  const uint32_t qh = bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (uint32_t(bytes[7]) << 24);
  EXPECT_EQ(qh, 0xFFFF0000u);  // elements 16..31 have bit 4 set
  for (int j = 0; j < 16; j++) EXPECT_EQ(bytes[8 + j], j | (j << 4)) << j;
  std::vector<float> back(32);
  dequantize_row(Type::Q5_1, bytes.data(), back.data(), 32);
  EXPECT_EQ(back, x);
}

TEST(QuantQuantize, Q8_0HandWorked) {
  std::vector<float> x(32, 0.0f);
  x[0] = -127.0f;
  x[1] = 0.5f;   // rounds away from zero to 1
  x[2] = -1.5f;  // to -2
  x[3] = 63.4f;
  const auto bytes = quantize(Type::Q8_0, x);
  EXPECT_EQ(half_at(bytes, 0), 0x3C00);  // d = 1
  EXPECT_EQ(int8_t(bytes[2]), -127);
  EXPECT_EQ(int8_t(bytes[3]), 1);
  EXPECT_EQ(int8_t(bytes[4]), -2);
  EXPECT_EQ(int8_t(bytes[5]), 63);
  EXPECT_EQ(int8_t(bytes[6]), 0);
}

TEST(QuantQuantize, ZeroBlockStaysZero) {
  const std::vector<float> zeros(64, 0.0f);
  for (Type type : {Type::Q4_0, Type::Q4_1, Type::Q5_0, Type::Q5_1, Type::Q8_0, Type::F16, Type::BF16}) {
    const auto bytes = quantize(type, zeros);
    std::vector<float> back(64, 1.0f);
    dequantize_row(type, bytes.data(), back.data(), 64);
    for (float v : back) EXPECT_EQ(v, 0.0f) << type_name(type);
  }
}

// Error bounds per block, in units of the block's step:
// Q8_0 step amax/127, Q4_0 amax/8, Q5_0 amax/16, Q4_1 range/15, Q5_1 range/31.
// Round-to-nearest gives half a step; the symmetric formats may clamp the side opposite
// the extreme value by one more half step; the fp16 scale adds up to 2^-11 per level used.
TEST(QuantQuantize, RoundTripWithinHalfAStep) {
  struct Case {
    Type type;
    bool symmetric;
    float levels;  // step = amax / levels (symmetric) or range / levels
    float max_level;  // largest |q| (or q) the scale multiplies
  };
  const Case cases[] = {
      {Type::Q8_0, true, 127, 127}, {Type::Q4_0, true, 8, 8},     {Type::Q5_0, true, 16, 16},
      {Type::Q4_1, false, 15, 15},  {Type::Q5_1, false, 31, 31},
  };
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const Case& c : cases) {
    std::vector<float> x(32 * 64);
    for (size_t i = 0; i < x.size(); i++) x[i] = normal(rng) * (i % 64 < 32 ? 1.0f : 0.01f) + (i % 96 < 32 ? 0.3f : 0.0f);
    const auto bytes = quantize(c.type, x);
    std::vector<float> back(x.size());
    dequantize_row(c.type, bytes.data(), back.data(), int64_t(x.size()));
    for (size_t b = 0; b < x.size(); b += 32) {
      float amax = 0, lo = x[b], hi = x[b];
      for (size_t i = b; i < b + 32; i++) {
        amax = std::max(amax, std::fabs(x[i]));
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
      }
      const float step = c.symmetric ? amax / c.levels : (hi - lo) / c.levels;
      const float fp16_slack = c.max_level * step * std::ldexp(1.0f, -11) + (c.symmetric ? 0 : std::fabs(lo) * std::ldexp(1.0f, -11));
      const float rounding = (c.symmetric && c.type != Type::Q8_0) ? 1.0f : 0.5f;  // clamp at 2^(bits-1) - 1
      for (size_t i = b; i < b + 32; i++)
        ASSERT_LE(std::fabs(back[i] - x[i]), rounding * step + fp16_slack + 1e-6f * amax)
            << type_name(c.type) << " element " << i;
    }
  }
}

TEST(QuantQuantize, FloatTypesConvert) {
  const std::vector<float> x = {1.0f, -2.5f, 65504.0f, 1e-8f};
  EXPECT_EQ(quantize(Type::F32, x).size(), 16u);
  const auto f16 = quantize(Type::F16, x);
  EXPECT_EQ(half_at(f16, 0), 0x3C00);
  EXPECT_EQ(half_at(f16, 4), 0x7BFF);
  const auto bf16 = quantize(Type::BF16, x);
  EXPECT_EQ(half_at(bf16, 0), 0x3F80);
}

TEST(QuantQuantize, UnsupportedTypeIsAnError) {
  std::vector<float> x(256);
  std::vector<uint8_t> out(1024);
  try {
    quantize_row(Type::Q4_K, x.data(), out.data(), 256);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Q4_K"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(has_quantizer(Type::IQ2_XXS));
  EXPECT_THROW(quantize_row(Type::Q8_0, x.data(), out.data(), 31), Error);
}

}  // namespace
}  // namespace tandem::quant
