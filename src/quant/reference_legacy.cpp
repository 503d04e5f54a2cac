// Decoding of the 32-element block formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0).
#include <cstring>

#include "core/half.h"
#include "quant/blocks.h"

namespace tandem::quant {
namespace {

uint32_t high_bits(const uint8_t (&qh)[4]) {
  uint32_t bits;
  std::memcpy(&bits, qh, 4);  // GGUF is little-endian, as is every host Tandem targets
  return bits;
}

// The 5-bit quant of element j and j + 16 from its nibble and its bit in qh.
int q5_low(const uint8_t* qs, uint32_t qh, int j) { return (qs[j] & 0x0f) | (((qh >> j) & 1) << 4); }
int q5_high(const uint8_t* qs, uint32_t qh, int j) { return (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4); }

}  // namespace

void decode(const BlockQ4_0& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  for (int j = 0; j < 16; j++) {
    out[j] = ((block.qs[j] & 0x0f) - 8) * d;
    out[j + 16] = ((block.qs[j] >> 4) - 8) * d;
  }
}

void decode(const BlockQ4_1& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  const float m = fp16_to_fp32(block.m);
  for (int j = 0; j < 16; j++) {
    out[j] = (block.qs[j] & 0x0f) * d + m;
    out[j + 16] = (block.qs[j] >> 4) * d + m;
  }
}

void decode(const BlockQ5_0& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  const uint32_t qh = high_bits(block.qh);
  for (int j = 0; j < 16; j++) {
    out[j] = (q5_low(block.qs, qh, j) - 16) * d;
    out[j + 16] = (q5_high(block.qs, qh, j) - 16) * d;
  }
}

void decode(const BlockQ5_1& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  const float m = fp16_to_fp32(block.m);
  const uint32_t qh = high_bits(block.qh);
  for (int j = 0; j < 16; j++) {
    out[j] = q5_low(block.qs, qh, j) * d + m;
    out[j + 16] = q5_high(block.qs, qh, j) * d + m;
  }
}

void decode(const BlockQ8_0& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  for (int j = 0; j < 32; j++) out[j] = block.qs[j] * d;
}

}  // namespace tandem::quant
