// Hand-built Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 blocks: the bytes are written here
// from the documented GGUF layout, element by element, and must dequantize to
// hand-computed values. Scales are exact in fp16 so every expected float is exact.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/half.h"
#include "quant/reference.h"

namespace tandem::quant {
namespace {

void put_half(std::vector<uint8_t>& bytes, size_t offset, uint16_t bits) {
  bytes[offset] = uint8_t(bits & 0xff);  // little-endian
  bytes[offset + 1] = uint8_t(bits >> 8);
}

std::vector<float> dequantize(Type type, const std::vector<uint8_t>& bytes, int64_t n) {
  std::vector<float> out(n);
  dequantize_row(type, bytes.data(), out.data(), n);
  return out;
}

// Places the 4-bit quant of element e (0..31) of the block whose nibbles start at qs.
void put_nibble(uint8_t* qs, int e, int q) {
  if (e < 16)
    qs[e] = uint8_t((qs[e] & 0xf0) | q);
  else
    qs[e - 16] = uint8_t((qs[e - 16] & 0x0f) | (q << 4));
}

// The 5-bit quant of element e: nibble as in Q4, bit 4 at bit e of the little-endian u32 qh.
void put_five_bits(uint8_t* qh, uint8_t* qs, int e, int q) {
  put_nibble(qs, e, q & 15);
  if (q & 16) qh[e / 8] |= uint8_t(1 << (e % 8));
}

TEST(QuantLegacy, Q4_0AllQuantsTwoBlocks) {
  std::vector<uint8_t> bytes(2 * 18, 0);
  put_half(bytes, 0, 0xB800);   // d = -0.5
  put_half(bytes, 18, 0x3400);  // d = 0.25
  auto quant = [](int block, int e) { return block == 0 ? (e < 16 ? e : 31 - e) : (e * 5 + 3) % 16; };
  for (int block = 0; block < 2; block++)
    for (int e = 0; e < 32; e++) put_nibble(&bytes[18 * block + 2], e, quant(block, e));
  const auto out = dequantize(Type::Q4_0, bytes, 64);
  EXPECT_EQ(out[0], 4.0f);    // (0 - 8) * -0.5
  EXPECT_EQ(out[15], -3.5f);  // (15 - 8) * -0.5
  EXPECT_EQ(out[16], -3.5f);  // high nibble of qs[0] = 15
  EXPECT_EQ(out[31], 4.0f);
  for (int block = 0; block < 2; block++)
    for (int e = 0; e < 32; e++)
      EXPECT_EQ(out[32 * block + e], (quant(block, e) - 8) * (block == 0 ? -0.5f : 0.25f)) << block << "/" << e;
}

TEST(QuantLegacy, Q4_1ScaleAndMin) {
  std::vector<uint8_t> bytes(2 * 20, 0);
  put_half(bytes, 0, 0x3800);   // d = 0.5
  put_half(bytes, 2, 0xC200);   // m = -3
  put_half(bytes, 20, 0xBC00);  // d = -1
  put_half(bytes, 22, 0x4400);  // m = 4
  for (int block = 0; block < 2; block++)
    for (int e = 0; e < 32; e++) put_nibble(&bytes[20 * block + 4], e, (e + block) % 16);
  const auto out = dequantize(Type::Q4_1, bytes, 64);
  EXPECT_EQ(out[0], -3.0f);
  EXPECT_EQ(out[15], 4.5f);  // 15 * 0.5 - 3
  EXPECT_EQ(out[32], 3.0f);  // 1 * -1 + 4
  for (int e = 0; e < 32; e++) {
    EXPECT_EQ(out[e], (e % 16) * 0.5f - 3.0f) << e;
    EXPECT_EQ(out[32 + e], ((e + 1) % 16) * -1.0f + 4.0f) << e;
  }
}

TEST(QuantLegacy, Q5_0HighBitPlane) {
  std::vector<uint8_t> bytes(22, 0);
  put_half(bytes, 0, 0x3400);  // d = 0.25
  auto quant = [](int e) { return (e * 7 + 3) % 32; };  // every value 0..31 once
  for (int e = 0; e < 32; e++) put_five_bits(&bytes[2], &bytes[6], e, quant(e));
  const auto out = dequantize(Type::Q5_0, bytes, 32);
  EXPECT_EQ(out[0], -3.25f);  // q = 3
  EXPECT_EQ(out[4], 3.75f);   // q = 31
  EXPECT_EQ(out[11], 0.0f);   // q = 16, only the high bit set
  for (int e = 0; e < 32; e++) EXPECT_EQ(out[e], (quant(e) - 16) * 0.25f) << e;
}

TEST(QuantLegacy, Q5_1HighBitPlaneWithMin) {
  std::vector<uint8_t> bytes(24, 0);
  put_half(bytes, 0, 0xB400);  // d = -0.25
  put_half(bytes, 2, 0x4000);  // m = 2
  auto quant = [](int e) { return (e * 11 + 30) % 32; };
  for (int e = 0; e < 32; e++) put_five_bits(&bytes[4], &bytes[8], e, quant(e));
  const auto out = dequantize(Type::Q5_1, bytes, 32);
  EXPECT_EQ(out[0], -5.5f);  // q = 30
  for (int e = 0; e < 32; e++) EXPECT_EQ(out[e], quant(e) * -0.25f + 2.0f) << e;
}

TEST(QuantLegacy, Q8_0SignedQuants) {
  std::vector<uint8_t> bytes(2 * 34, 0);
  put_half(bytes, 0, 0xB000);   // d = -0.125
  put_half(bytes, 34, 0x3555);  // d = 0.333251953125, not a power of two
  auto quant = [](int e) { return e == 31 ? 127 : e * 8 - 128; };  // -128 .. 120 and 127
  for (int block = 0; block < 2; block++)
    for (int e = 0; e < 32; e++) bytes[34 * block + 2 + e] = uint8_t(int8_t(quant(e)));
  const auto out = dequantize(Type::Q8_0, bytes, 64);
  EXPECT_EQ(out[0], 16.0f);
  EXPECT_EQ(out[31], -15.875f);
  EXPECT_EQ(out[16], 0.0f);
  for (int e = 0; e < 32; e++) {
    EXPECT_EQ(out[e], quant(e) * -0.125f) << e;
    EXPECT_EQ(out[32 + e], quant(e) * 0.333251953125f) << e;
  }
}

TEST(QuantLegacy, ZeroScaleGivesZerosOrMin) {
  std::vector<uint8_t> q4(18, 0xff), q41(20, 0xff);
  put_half(q4, 0, 0x0000);
  put_half(q41, 0, 0x8000);  // d = -0
  put_half(q41, 2, 0x3C00);  // m = 1
  for (float v : dequantize(Type::Q4_0, q4, 32)) EXPECT_EQ(v, 0.0f);
  for (float v : dequantize(Type::Q4_1, q41, 32)) EXPECT_EQ(v, 1.0f);
}

}  // namespace
}  // namespace tandem::quant
