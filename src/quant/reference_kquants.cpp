// Decoding of the 256-element K-quant super-blocks (Q2_K .. Q6_K).
// Loops walk the packed bytes in storage order; blocks.h says where element e lives.
#include "core/half.h"
#include "quant/blocks.h"

namespace tandem::quant {

void decode(const BlockQ2_K& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  const float dmin = fp16_to_fp32(block.dmin);
  int group = 0;
  for (int chunk = 0; chunk < 2; chunk++) {  // 128 elements share 32 bytes of qs, 2 bits each
    const uint8_t* q = block.qs + 32 * chunk;
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; half++, group++) {
        const float scale = d * (block.scales[group] & 0x0f);
        const float min = dmin * (block.scales[group] >> 4);
        for (int l = 0; l < 16; l++) *out++ = scale * ((q[16 * half + l] >> shift) & 3) - min;
      }
    }
  }
}

void decode(const BlockQ3_K& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  int group = 0;
  uint8_t high_bit = 1;  // one hmask bit plane per 32 elements
  for (int chunk = 0; chunk < 2; chunk++) {
    const uint8_t* q = block.qs + 32 * chunk;
    for (int shift = 0; shift < 8; shift += 2, high_bit <<= 1) {
      for (int half = 0; half < 2; half++, group++) {
        const float scale = d * (q3k_scale(block.scales, group) - 32);
        for (int l = 16 * half; l < 16 * half + 16; l++) {
          const int low = (q[l] >> shift) & 3;
          *out++ = scale * (low - ((block.hmask[l] & high_bit) ? 0 : 4));
        }
      }
    }
  }
}

void decode(const BlockQ4_K& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  const float dmin = fp16_to_fp32(block.dmin);
  for (int chunk = 0; chunk < 4; chunk++) {  // 64 elements: low nibbles, then high nibbles
    const uint8_t* q = block.qs + 32 * chunk;
    const ScaleMin low = k_scale_min(block.scales, 2 * chunk);
    const ScaleMin high = k_scale_min(block.scales, 2 * chunk + 1);
    const float d_low = d * low.scale, m_low = dmin * low.min;
    const float d_high = d * high.scale, m_high = dmin * high.min;
    for (int l = 0; l < 32; l++) *out++ = d_low * (q[l] & 0x0f) - m_low;
    for (int l = 0; l < 32; l++) *out++ = d_high * (q[l] >> 4) - m_high;
  }
}

void decode(const BlockQ5_K& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  const float dmin = fp16_to_fp32(block.dmin);
  for (int chunk = 0; chunk < 4; chunk++) {
    const uint8_t* q = block.qs + 32 * chunk;
    const uint8_t bit_low = uint8_t(1 << (2 * chunk)), bit_high = uint8_t(2 << (2 * chunk));
    const ScaleMin low = k_scale_min(block.scales, 2 * chunk);
    const ScaleMin high = k_scale_min(block.scales, 2 * chunk + 1);
    const float d_low = d * low.scale, m_low = dmin * low.min;
    const float d_high = d * high.scale, m_high = dmin * high.min;
    for (int l = 0; l < 32; l++) *out++ = d_low * ((q[l] & 0x0f) + ((block.qh[l] & bit_low) ? 16 : 0)) - m_low;
    for (int l = 0; l < 32; l++) *out++ = d_high * ((q[l] >> 4) + ((block.qh[l] & bit_high) ? 16 : 0)) - m_high;
  }
}

void decode(const BlockQ6_K& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  for (int chunk = 0; chunk < 2; chunk++) {
    const uint8_t* ql = block.ql + 64 * chunk;
    const uint8_t* qh = block.qh + 32 * chunk;
    const int8_t* scales = block.scales + 8 * chunk;
    float* y = out + 128 * chunk;
    for (int l = 0; l < 32; l++) {
      const int group = l / 16;
      const int q0 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q1 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q2 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q3 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * scales[group] * q0;
      y[l + 32] = d * scales[group + 2] * q1;
      y[l + 64] = d * scales[group + 4] * q2;
      y[l + 96] = d * scales[group + 6] * q3;
    }
  }
}

}  // namespace tandem::quant
