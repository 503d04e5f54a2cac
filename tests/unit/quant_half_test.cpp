// fp16 / bf16 conversions (core/half.h): known encodings, IEEE special values,
// round-to-nearest-even, and exhaustive round trips.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "core/half.h"

namespace tandem {
namespace {

float bits_to_float(uint32_t bits) { return std::bit_cast<float>(bits); }

TEST(Fp16, KnownEncodings) {
  struct Case {
    float value;
    uint16_t bits;
  };
  const Case cases[] = {
      {1.0f, 0x3C00},          {-2.0f, 0xC000},          {0.5f, 0x3800},  {65504.0f, 0x7BFF},
      {-65504.0f, 0xFBFF},     {0.0f, 0x0000},           {-0.0f, 0x8000}, {std::ldexp(1.0f, -14), 0x0400},
      {std::ldexp(1.0f, -24), 0x0001},  // smallest subnormal
      {std::ldexp(1023.0f, -24), 0x03FF},  // largest subnormal
      {0.333251953125f, 0x3555},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(fp32_to_fp16(c.value), c.bits) << c.value;
    EXPECT_EQ(std::bit_cast<uint32_t>(fp16_to_fp32(c.bits)), std::bit_cast<uint32_t>(c.value)) << c.bits;
  }
}

TEST(Fp16, InfinityNanAndOverflow) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(fp32_to_fp16(inf), 0x7C00);
  EXPECT_EQ(fp32_to_fp16(-inf), 0xFC00);
  EXPECT_EQ(fp16_to_fp32(0x7C00), inf);
  EXPECT_EQ(fp16_to_fp32(0xFC00), -inf);
  const uint16_t nan = fp32_to_fp16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7C00, 0x7C00);
  EXPECT_NE(nan & 0x03FF, 0);
  EXPECT_TRUE(std::isnan(fp16_to_fp32(0x7E00)));
  EXPECT_TRUE(std::isnan(fp16_to_fp32(0xFC01)));
  // 65520 is halfway between 65504 and the next step (65536 = inf); ties go to even (inf).
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);
  EXPECT_EQ(fp32_to_fp16(std::nextafter(65520.0f, 0.0f)), 0x7BFF);
  EXPECT_EQ(fp32_to_fp16(-1e6f), 0xFC00);
}

TEST(Fp16, RoundsToNearestEvenOnTies) {
  EXPECT_EQ(fp32_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);      // tie, keep even 0x3C00
  EXPECT_EQ(fp32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);  // tie, round up to even
  EXPECT_EQ(fp32_to_fp16(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3C01);
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -25)), 0x0000);      // tie between 0 and the smallest subnormal
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0001f, -25)), 0x0001);
  EXPECT_EQ(fp32_to_fp16(std::ldexp(3.0f, -25)), 0x0002);      // subnormal tie 1.5 -> 2
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1023.5f, -24)), 0x0400);   // rounds up into the normal range
  EXPECT_EQ(fp32_to_fp16(-std::ldexp(1.0f, -26)), 0x8000);     // underflow keeps the sign
}

TEST(Fp16, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; h++) {
    const float f = fp16_to_fp32(uint16_t(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(f)))) << h;
      continue;
    }
    ASSERT_EQ(fp32_to_fp16(f), h) << h;
  }
}

// Any finite float converts to the nearer of its two neighbouring halves (even on ties).
TEST(Fp16, RandomFloatsRoundToNearest) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits(0, 0x477FEFFF);  // |f| below the overflow threshold
  for (int i = 0; i < 200000; i++) {
    const float f = bits_to_float(bits(rng)) * (i % 2 ? -1.0f : 1.0f);
    const uint16_t h = fp32_to_fp16(f);
    const double err = std::fabs(double(fp16_to_fp32(h)) - f);
    for (int step : {-1, 1}) {
      const uint16_t magnitude = h & 0x7FFF;
      if ((magnitude == 0 && step < 0) || magnitude == 0x7BFF) continue;
      const uint16_t other = uint16_t((h & 0x8000) | (magnitude + step));
      const double other_err = std::fabs(double(fp16_to_fp32(other)) - f);
      ASSERT_TRUE(err < other_err || (err == other_err && (h & 1) == 0)) << f << " -> " << h;
    }
  }
}

TEST(Bf16, KnownEncodingsAndRounding) {
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(fp32_to_bf16(-2.0f), 0xC000);
  EXPECT_EQ(fp32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(bf16_to_fp32(0x3F80), 1.0f);
  EXPECT_EQ(fp32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);      // tie, keep even
  EXPECT_EQ(fp32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);  // tie, round up to even
  EXPECT_EQ(fp32_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)), 0x3F81);
  EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::max()), 0x7F80);  // rounds up to inf
  EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::denorm_min()), 0x0000);
  // A NaN whose payload sits only in the dropped bits must stay a NaN, not become inf.
  const uint16_t nan = fp32_to_bf16(bits_to_float(0x7F800001));
  EXPECT_TRUE(std::isnan(bf16_to_fp32(nan)));
  EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(bits_to_float(0xFF800001)))));
}

TEST(Bf16, EveryBf16RoundTrips) {
  for (uint32_t b = 0; b < 0x10000; b++) {
    const float f = bf16_to_fp32(uint16_t(b));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(f)))) << b;
      continue;
    }
    ASSERT_EQ(fp32_to_bf16(f), b) << b;
  }
}

}  // namespace
}  // namespace tandem
