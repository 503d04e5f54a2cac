// Decoding of the i-quant (IQ1_S .. IQ4_XS) and ternary (TQ1_0, TQ2_0) blocks, with ggml's
// operation order (dequantize_row_iq*), so results are bit-identical to ggml's decoders.
// blocks.h says where element e lives; iquant_grids.h holds the tables.
#include <cstring>
#include <iterator>

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/iquant_grids.h"

namespace tandem::quant {
namespace {

using namespace grids;

// Each index field is exactly as wide as its table: any bits a file holds index inside it.
static_assert(std::size(kValuesIq4nl) == 1 << 4);         // a nibble
static_assert(std::size(kSignsIq2xs) == 1 << 7);          // 7 sign bits (the 8th is parity)
static_assert(std::size(kGridIq2xxs) == 1 << 8);          // a byte
static_assert(std::size(kGridIq2xs) == 1 << 9);           // the low 9 bits of a u16
static_assert(std::size(kGridIq2s) == 1 << 10);           // a byte + 2 bits of qh
static_assert(std::size(kGridIq3xxs) == 1 << 8);          // a byte
static_assert(std::size(kGridIq3s) == 1 << 9);            // a byte + 1 bit of qh
static_assert(std::size(kGridIq1s) == 1 << 11);           // a byte + 3 bits of qh

// Byte j of a grid entry (the little-endian byte order ggml reads them in).
inline uint8_t grid_byte(uint64_t entry, int j) { return uint8_t(entry >> (8 * j)); }
inline float sign_of(uint8_t signs, int j) { return (signs >> j) & 1 ? -1.f : 1.f; }

// 8 elements of an IQ2 grid entry times dl, with the signs of `signs`.
void iq2_run(uint64_t entry, uint8_t signs, float dl, float* y) {
  for (int j = 0; j < 8; j++) y[j] = dl * grid_byte(entry, j) * sign_of(signs, j);
}

float iq2_scale(float d, int s) { return d * (0.5f + s) * 0.25f; }

}  // namespace

void decode(const BlockIQ4_NL& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  for (int j = 0; j < 16; j++) {
    out[j] = d * kValuesIq4nl[block.qs[j] & 0xf];
    out[j + 16] = d * kValuesIq4nl[block.qs[j] >> 4];
  }
}

void decode(const BlockIQ4_XS& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  for (int g = 0; g < 8; g++, out += 32) {
    const float dl = d * (iq4xs_scale(block, g) - 32);
    const uint8_t* qs = block.qs + 16 * g;
    for (int j = 0; j < 16; j++) {
      out[j] = dl * kValuesIq4nl[qs[j] & 0xf];
      out[j + 16] = dl * kValuesIq4nl[qs[j] >> 4];
    }
  }
}

void decode(const BlockIQ2_XXS& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  for (int g = 0; g < 8; g++) {
    uint32_t aux[2];
    std::memcpy(aux, block.qs + 4 * g, 8);
    const float db = iq2_scale(d, int(aux[1] >> 28));
    for (int l = 0; l < 4; l++, out += 8)
      iq2_run(kGridIq2xxs[(aux[0] >> (8 * l)) & 0xff], kSignsIq2xs[(aux[1] >> (7 * l)) & 127], db, out);
  }
}

void decode(const BlockIQ2_XS& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  for (int g = 0; g < 8; g++) {
    const float db[2] = {iq2_scale(d, block.scales[g] & 0xf), iq2_scale(d, block.scales[g] >> 4)};
    for (int l = 0; l < 4; l++, out += 8) {
      const uint16_t q = block.qs[4 * g + l];
      iq2_run(kGridIq2xs[q & 511], kSignsIq2xs[q >> 9], db[l / 2], out);
    }
  }
}

void decode(const BlockIQ2_S& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  for (int g = 0; g < 8; g++) {
    const float db[2] = {iq2_scale(d, block.scales[g] & 0xf), iq2_scale(d, block.scales[g] >> 4)};
    for (int l = 0; l < 4; l++, out += 8) {
      const int index = block.qs[4 * g + l] | ((block.qh[g] << (8 - 2 * l)) & 0x300);
      iq2_run(kGridIq2s[index], block.qs[32 + 4 * g + l], db[l / 2], out);
    }
  }
}

void decode(const BlockIQ3_XXS& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  for (int g = 0; g < 8; g++) {
    uint32_t aux;
    std::memcpy(&aux, block.qs + 64 + 4 * g, 4);
    const float db = d * (0.5f + (aux >> 28)) * 0.5f;
    const uint8_t* qs = block.qs + 8 * g;
    for (int l = 0; l < 4; l++, out += 8) {
      const uint8_t signs = kSignsIq2xs[(aux >> (7 * l)) & 127];
      const uint32_t grid1 = kGridIq3xxs[qs[2 * l]], grid2 = kGridIq3xxs[qs[2 * l + 1]];
      for (int j = 0; j < 4; j++) {
        out[j] = db * grid_byte(grid1, j) * sign_of(signs, j);
        out[j + 4] = db * grid_byte(grid2, j) * sign_of(signs, j + 4);
      }
    }
  }
}

void decode(const BlockIQ3_S& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  for (int g = 0; g < 8; g++) {
    const float db = d * (1 + 2 * ((block.scales[g / 2] >> (4 * (g % 2))) & 0xf));
    const uint8_t* qs = block.qs + 8 * g;
    const int qh = block.qh[g];
    for (int l = 0; l < 4; l++, out += 8) {
      const uint32_t grid1 = kGridIq3s[qs[2 * l] | ((qh << (8 - 2 * l)) & 256)];
      const uint32_t grid2 = kGridIq3s[qs[2 * l + 1] | ((qh << (7 - 2 * l)) & 256)];
      const uint8_t signs = block.signs[4 * g + l];
      for (int j = 0; j < 4; j++) {
        out[j] = db * grid_byte(grid1, j) * sign_of(signs, j);
        out[j + 4] = db * grid_byte(grid2, j) * sign_of(signs, j + 4);
      }
    }
  }
}

void decode(const BlockIQ1_S& block, float* out) {
  constexpr float kDelta = 0.125f;  // IQ1S_DELTA
  const float d = fp16_to_fp32(block.d);
  for (int g = 0; g < 8; g++) {
    const int qh = block.qh[g];
    const float dl = d * (2 * ((qh >> 12) & 7) + 1);
    const float delta = qh & 0x8000 ? -kDelta : kDelta;
    for (int l = 0; l < 4; l++, out += 8) {
      const uint64_t entry = kGridIq1s[block.qs[4 * g + l] | (((qh >> (3 * l)) & 7) << 8)];
      for (int j = 0; j < 8; j++) out[j] = dl * (int8_t(grid_byte(entry, j)) + delta);
    }
  }
}

void decode(const BlockIQ1_M& block, float* out) {
  constexpr float kDelta = 0.125f;  // IQ1M_DELTA
  uint16_t sc[4];
  std::memcpy(sc, block.scales, 8);
  const uint16_t bits = (sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) | ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000);
  const float d = fp16_to_fp32(bits);
  for (int g = 0; g < 8; g++) {
    const float dl[2] = {d * (2 * ((sc[g / 2] >> (6 * (g % 2))) & 7) + 1),
                         d * (2 * ((sc[g / 2] >> (6 * (g % 2) + 3)) & 7) + 1)};
    for (int l = 0; l < 4; l++, out += 8) {
      const int nibble = (block.qh[2 * g + l / 2] >> (4 * (l % 2))) & 0xf;
      const uint64_t entry = kGridIq1s[block.qs[4 * g + l] | ((nibble & 7) << 8)];
      const float delta = nibble & 8 ? -kDelta : kDelta;
      for (int j = 0; j < 8; j++) out[j] = dl[l / 2] * (int8_t(grid_byte(entry, j)) + delta);
    }
  }
}

namespace {

// Trit n (0..4) of a base-3 byte: the byte times 3^n keeps the remaining trits as a
// fraction of 256 (u8 wrap-around); times 3, over 256, the leading one.
inline int trit(uint8_t byte, int n) {
  static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
  const uint8_t q = uint8_t(byte * kPow3[n]);
  return (uint16_t(q) * 3) >> 8;
}

}  // namespace

void decode(const BlockTQ1_0& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  // qs[0..31] give 5 x 32 elements, qs[32..47] 5 x 16, then qh 4 x 4.
  for (int n = 0; n < 5; n++)
    for (int m = 0; m < 32; m++) *out++ = float(trit(block.qs[m], n) - 1) * d;
  for (int n = 0; n < 5; n++)
    for (int m = 32; m < 48; m++) *out++ = float(trit(block.qs[m], n) - 1) * d;
  for (int n = 0; n < 4; n++)
    for (int j = 0; j < 4; j++) *out++ = float(trit(block.qh[j], n) - 1) * d;
}

void decode(const BlockTQ2_0& block, float* out) {
  const float d = fp16_to_fp32(block.d);
  for (int c = 0; c < 2; c++)
    for (int l = 0; l < 4; l++)
      for (int m = 0; m < 32; m++) *out++ = float(((block.qs[32 * c + m] >> (2 * l)) & 3) - 1) * d;
}

}  // namespace tandem::quant
