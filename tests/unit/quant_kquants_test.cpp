// Hand-built K-quant super-blocks (Q2_K .. Q6_K): bytes written here element by
// element from the documented GGUF layout (offsets, 6-bit scale packing, high-bit
// planes), expected values computed by hand. Scales are exact in fp16 and quants
// small integers, so every expected float is exact.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "quant/blocks.h"
#include "quant/reference.h"

namespace tandem::quant {
namespace {

void put_half(std::vector<uint8_t>& bytes, size_t offset, uint16_t bits) {
  bytes[offset] = uint8_t(bits & 0xff);
  bytes[offset + 1] = uint8_t(bits >> 8);
}

void put_bits(uint8_t& byte, int shift, int width, int value) {
  const int mask = ((1 << width) - 1) << shift;
  byte = uint8_t((byte & ~mask) | ((value << shift) & mask));
}

std::vector<float> dequantize(Type type, const std::vector<uint8_t>& bytes) {
  std::vector<float> out(256);
  dequantize_row(type, bytes.data(), out.data(), 256);
  return out;
}

// Q4_K / Q5_K: 8 six-bit scales and mins in 12 bytes. Group j < 4 lives in the low
// 6 bits of bytes j (scale) and j + 4 (min); group j >= 4 has its low nibbles in
// byte j + 4 (scale low, min high) and its top 2 bits in the top bits of bytes j - 4
// (scale) and j (min).
void pack_k_scales(uint8_t* s, const int (&scale)[8], const int (&min)[8]) {
  for (int j = 0; j < 4; j++) {
    s[j] = uint8_t((scale[j] & 63) | ((scale[j + 4] >> 4) << 6));
    s[j + 4] = uint8_t((min[j] & 63) | ((min[j + 4] >> 4) << 6));
    s[j + 8] = uint8_t((scale[j + 4] & 15) | ((min[j + 4] & 15) << 4));
  }
}

// Chosen so groups 4..7 use the top 2 bits, and 0 and 63 both appear.
constexpr int kScales[8] = {1, 63, 17, 0, 48, 5, 63, 33};
constexpr int kMins[8] = {0, 63, 2, 40, 17, 63, 1, 50};

TEST(QuantKQuants, ScaleMinUnpacking) {
  uint8_t packed[12];
  pack_k_scales(packed, kScales, kMins);
  for (int j = 0; j < 8; j++) {
    EXPECT_EQ(k_scale_min(packed, j).scale, kScales[j]) << j;
    EXPECT_EQ(k_scale_min(packed, j).min, kMins[j]) << j;
  }
}

TEST(QuantKQuants, Q2_K) {
  std::vector<uint8_t> bytes(84, 0);
  put_half(bytes, 80, 0x3800);  // d = 0.5
  put_half(bytes, 82, 0xB400);  // dmin = -0.25
  auto scale = [](int g) { return (g * 5 + 15) % 16; };
  auto min = [](int g) { return (g * 3 + 1) % 16; };
  auto quant = [](int e) { return (e + e / 7) % 4; };
  for (int g = 0; g < 16; g++) bytes[g] = uint8_t(scale(g) | (min(g) << 4));
  for (int e = 0; e < 256; e++) put_bits(bytes[16 + 32 * (e / 128) + e % 32], 2 * ((e % 128) / 32), 2, quant(e));
  const auto out = dequantize(Type::Q2_K, bytes);
  EXPECT_EQ(out[0], 0.25f);  // 0.5 * 15 * 0 - (-0.25 * 1)
  for (int e = 0; e < 256; e++)
    EXPECT_EQ(out[e], 0.5f * scale(e / 16) * quant(e) + 0.25f * min(e / 16)) << e;
}

TEST(QuantKQuants, Q3_K) {
  std::vector<uint8_t> bytes(110, 0);
  put_half(bytes, 108, 0xB800);  // d = -0.5
  const int scale6[16] = {0, 63, 32, 31, 16, 47, 1, 62, 15, 48, 33, 30, 8, 56, 40, 24};  // stored value; format uses -32
  for (int i = 0; i < 16; i++) {
    put_bits(bytes[96 + i % 8], i < 8 ? 0 : 4, 4, scale6[i] & 15);
    put_bits(bytes[96 + 8 + i % 4], 2 * (i / 4), 2, scale6[i] >> 4);
  }
  for (int i = 0; i < 16; i++) EXPECT_EQ(q3k_scale(&bytes[96], i), scale6[i]) << i;
  auto quant = [](int e) { return (e * 3 + e / 32) % 8 - 4; };  // -4 .. 3
  for (int e = 0; e < 256; e++) {
    const int stored = quant(e) + 4;  // low 2 bits in qs; bit 2 set in hmask means "no -4"
    put_bits(bytes[32 + 32 * (e / 128) + e % 32], 2 * ((e % 128) / 32), 2, stored & 3);
    put_bits(bytes[e % 32], e / 32, 1, stored >> 2);
  }
  const auto out = dequantize(Type::Q3_K, bytes);
  EXPECT_EQ(out[0], -64.0f);  // -0.5 * (0 - 32) * (0 - 4)
  for (int e = 0; e < 256; e++) EXPECT_EQ(out[e], -0.5f * (scale6[e / 16] - 32) * quant(e)) << e;
}

TEST(QuantKQuants, Q4_K) {
  std::vector<uint8_t> bytes(144, 0);
  put_half(bytes, 0, 0x3800);  // d = 0.5
  put_half(bytes, 2, 0xB400);  // dmin = -0.25
  pack_k_scales(&bytes[4], kScales, kMins);
  auto quant = [](int e) { return (e * 5 + 1) % 16; };
  for (int e = 0; e < 256; e++) put_bits(bytes[16 + 32 * (e / 64) + e % 32], (e % 64) < 32 ? 0 : 4, 4, quant(e));
  const auto out = dequantize(Type::Q4_K, bytes);
  EXPECT_EQ(out[0], 0.5f);           // 0.5 * 1 * 1 - (-0.25 * 0)
  EXPECT_EQ(out[255], 0.5f * 33 * ((255 * 5 + 1) % 16) + 0.25f * 50);
  for (int e = 0; e < 256; e++)
    EXPECT_EQ(out[e], 0.5f * kScales[e / 32] * quant(e) + 0.25f * kMins[e / 32]) << e;
}

TEST(QuantKQuants, Q5_K) {
  std::vector<uint8_t> bytes(176, 0);
  put_half(bytes, 0, 0xB400);  // d = -0.25
  put_half(bytes, 2, 0x3800);  // dmin = 0.5
  pack_k_scales(&bytes[4], kScales, kMins);
  auto quant = [](int e) { return (e * 7 + 3 + e / 32) % 32; };
  for (int e = 0; e < 256; e++) {
    put_bits(bytes[48 + 32 * (e / 64) + e % 32], (e % 64) < 32 ? 0 : 4, 4, quant(e) & 15);
    put_bits(bytes[16 + e % 32], e / 32, 1, quant(e) >> 4);
  }
  const auto out = dequantize(Type::Q5_K, bytes);
  EXPECT_EQ(out[0], -0.75f);  // -0.25 * 1 * 3 - 0
  for (int e = 0; e < 256; e++)
    EXPECT_EQ(out[e], -0.25f * kScales[e / 32] * quant(e) - 0.5f * kMins[e / 32]) << e;
}

TEST(QuantKQuants, Q6_K) {
  std::vector<uint8_t> bytes(210, 0);
  put_half(bytes, 208, 0x3000);  // d = 0.125
  const int scales[16] = {-128, 127, -1, 1, 0, 64, -64, 33, -7, 100, -100, 2, 5, -33, 90, -90};
  for (int g = 0; g < 16; g++) bytes[192 + g] = uint8_t(int8_t(scales[g]));
  auto quant = [](int e) { return (e * 11 + 5 + e / 64) % 64; };  // stored 0..63, value q - 32
  for (int e = 0; e < 256; e++) {
    const int chunk = e / 128, group32 = (e % 128) / 32, l = e % 32;
    put_bits(bytes[64 * chunk + 32 * (group32 & 1) + l], group32 < 2 ? 0 : 4, 4, quant(e) & 15);
    put_bits(bytes[128 + 32 * chunk + l], 2 * group32, 2, quant(e) >> 4);
  }
  const auto out = dequantize(Type::Q6_K, bytes);
  EXPECT_EQ(out[0], 432.0f);  // 0.125 * -128 * (5 - 32)
  for (int e = 0; e < 256; e++) EXPECT_EQ(out[e], 0.125f * scales[e / 16] * (quant(e) - 32)) << e;
}

// Two super-blocks in a row: the second starts at exactly block_bytes.
TEST(QuantKQuants, SecondBlockOffset) {
  for (Type type : {Type::Q2_K, Type::Q3_K, Type::Q4_K, Type::Q5_K, Type::Q6_K}) {
    const size_t size = traits(type).block_bytes;
    std::vector<uint8_t> bytes(2 * size, 0x5a);
    std::vector<float> one(256), two(512);
    dequantize_row(type, bytes.data(), one.data(), 256);
    bytes[0] ^= 0xff;  // changes only the first block
    dequantize_row(type, bytes.data(), two.data(), 512);
    for (int e = 0; e < 256; e++) EXPECT_EQ(two[256 + e], one[e]) << type_name(type) << " " << e;
  }
}

}  // namespace
}  // namespace tandem::quant
