// Byte-exact layouts of ggml's quantized blocks (ggml-common.h), and the
// decoding of one block into floats. fp16 fields hold raw IEEE half bits.
//
// Blocks are read out of mapped files with memcpy into these structs, never by
// casting pointers, so no alignment or aliasing assumptions are made. The
// layouts have no padding (every field is a byte or a half at an even offset),
// which the static_asserts below pin down.
//
// Element numbering inside a block follows ggml exactly; the comment on each
// struct says where element e's bits live.
#pragma once
#include <cstddef>
#include <cstdint>

#include "quant/types.h"

namespace tandem::quant {

inline constexpr int kLegacyBlockElems = 32;  // QK4_0 ... QK8_0
inline constexpr int kSuperBlockElems = 256;  // QK_K

// w[e] = (q[e] - 8) * d; q[e] is the low nibble of qs[e] for e < 16, the high nibble of qs[e-16] otherwise.
struct BlockQ4_0 {
  static constexpr Type kType = Type::Q4_0;
  static constexpr int kElems = 32;
  uint16_t d;
  uint8_t qs[16];
};

// w[e] = q[e] * d + m; q[e] as in Q4_0.
struct BlockQ4_1 {
  static constexpr Type kType = Type::Q4_1;
  static constexpr int kElems = 32;
  uint16_t d;
  uint16_t m;
  uint8_t qs[16];
};

// w[e] = (q[e] - 16) * d; q[e] = nibble as in Q4_0, plus bit e of qh (read as a little-endian u32) as bit 4.
struct BlockQ5_0 {
  static constexpr Type kType = Type::Q5_0;
  static constexpr int kElems = 32;
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[16];
};

// w[e] = q[e] * d + m; q[e] as in Q5_0.
struct BlockQ5_1 {
  static constexpr Type kType = Type::Q5_1;
  static constexpr int kElems = 32;
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[16];
};

// w[e] = qs[e] * d.
struct BlockQ8_0 {
  static constexpr Type kType = Type::Q8_0;
  static constexpr int kElems = 32;
  uint16_t d;
  int8_t qs[32];
};

// 16 groups of 16. w[e] = d * (scales[e/16] & 15) * q[e] - dmin * (scales[e/16] >> 4).
// q[e] is 2 bits of qs[32 * (e/128) + e%32] at bit 2 * ((e%128) / 32).
struct BlockQ2_K {
  static constexpr Type kType = Type::Q2_K;
  static constexpr int kElems = 256;
  uint8_t scales[16];
  uint8_t qs[64];
  uint16_t d;
  uint16_t dmin;
};

// 16 groups of 16. w[e] = d * (s[e/16] - 32) * (q[e] - (hbit ? 0 : 4)), s from q3k_scale().
// q[e]: 2 bits of qs as in Q2_K; hbit: bit e/32 of hmask[e%32].
struct BlockQ3_K {
  static constexpr Type kType = Type::Q3_K;
  static constexpr int kElems = 256;
  uint8_t hmask[32];
  uint8_t qs[64];
  uint8_t scales[12];
  uint16_t d;
};

// 8 groups of 32. w[e] = d * sc[e/32] * q[e] - dmin * m[e/32], (sc, m) from k_scale_min().
// q[e] is the low nibble of qs[32 * (e/64) + e%32] when e%64 < 32, the high nibble otherwise.
struct BlockQ4_K {
  static constexpr Type kType = Type::Q4_K;
  static constexpr int kElems = 256;
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[128];
};

// As Q4_K with a fifth bit: bit e/32 of qh[e%32] adds 16 to q[e].
struct BlockQ5_K {
  static constexpr Type kType = Type::Q5_K;
  static constexpr int kElems = 256;
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};

// 16 groups of 16. w[e] = d * scales[e/16] * (q[e] - 32), with (c = e/128, g = (e%128)/32, l = e%32):
// low 4 bits of q[e]: ql[64c + 32(g&1) + l], low nibble for g < 2, high nibble otherwise;
// high 2 bits: bits 2g, 2g+1 of qh[32c + l].
struct BlockQ6_K {
  static constexpr Type kType = Type::Q6_K;
  static constexpr int kElems = 256;
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;
};

// ---- i-quants and ternary types. Their lookup tables are quant/iquant_grids.h; every
// index field below is exactly as wide as the table it indexes (reference_iquants.cpp
// static_asserts it),
// so no bit pattern in a file can point past a table: there is no "out-of-range index".

// w[e] = d * kValuesIq4nl[q[e]], q[e] the nibble of qs as in Q4_0.
struct BlockIQ4_NL {
  static constexpr Type kType = Type::IQ4_NL;
  static constexpr int kElems = 32;
  uint16_t d;
  uint8_t qs[16];
};

// 8 groups of 32. w[e] = d * (ls[g] - 32) * kValuesIq4nl[q[e]], g = e / 32; ls[g] is 6 bits:
// the low (g even) or high nibble of scales_l[g/2], plus bits 2g, 2g+1 of scales_h as bits 4-5.
// q[e]: the low nibble of qs[16g + e%16] for e%32 < 16, the high nibble otherwise.
struct BlockIQ4_XS {
  static constexpr Type kType = Type::IQ4_XS;
  static constexpr int kElems = 256;
  uint16_t d;
  uint16_t scales_h;
  uint8_t scales_l[4];
  uint8_t qs[128];
};

// 8 groups of 32, each in 4 runs of 8. Group g reads qs[4g..4g+3] as two u32 (a, b): byte l of
// a indexes kGridIq2xxs for run l; bits 7l..7l+6 of b index kSignsIq2xs (bit j set: element j
// negative); b >> 28 is the group scale s. w = d * (0.5 + s) * 0.25 * grid byte * sign.
struct BlockIQ2_XXS {
  static constexpr Type kType = Type::IQ2_XXS;
  static constexpr int kElems = 256;
  uint16_t d;
  uint16_t qs[32];
};

// Run r (of 32, 8 elements each): qs[r] & 511 indexes kGridIq2xs, qs[r] >> 9 kSignsIq2xs;
// scale: the low (runs 4g, 4g+1) or high nibble of scales[g]. w = d * (0.5 + s) * 0.25 * grid * sign.
struct BlockIQ2_XS {
  static constexpr Type kType = Type::IQ2_XS;
  static constexpr int kElems = 256;
  uint16_t d;
  uint16_t qs[32];
  uint8_t scales[8];
};

// Run r = 4g + l: index qs[r] | bits 2l, 2l+1 of qh[g] as bits 8-9 into kGridIq2s; signs: the
// byte qs[32 + r] (bit j: element j negative); scale as IQ2_XS.
struct BlockIQ2_S {
  static constexpr Type kType = Type::IQ2_S;
  static constexpr int kElems = 256;
  uint16_t d;
  uint8_t qs[64];
  uint8_t qh[8];
  uint8_t scales[8];
};

// Group g: 8 bytes qs[8g..] index kGridIq3xxs (4 elements each); the u32 at qs[64 + 4g]
// holds 4 x 7 sign bits (kSignsIq2xs, one per run of 8) and the scale s in its top 4 bits.
// w = d * (0.5 + s) * 0.5 * grid byte * sign.
struct BlockIQ3_XXS {
  static constexpr Type kType = Type::IQ3_XXS;
  static constexpr int kElems = 256;
  uint16_t d;
  uint8_t qs[96];
};

// Group g (of 8): qs[8g + i] | bit i of qh[g] as bit 8 indexes kGridIq3s (4 elements each);
// signs[4g + l]: the signs of run l; scale: nibble g%2 of scales[g/2], w = d * (1 + 2s) * grid * sign.
struct BlockIQ3_S {
  static constexpr Type kType = Type::IQ3_S;
  static constexpr int kElems = 256;
  uint16_t d;
  uint8_t qs[64];
  uint8_t qh[8];
  uint8_t signs[32];
  uint8_t scales[4];
};

// Group g (of 8), run l: qs[4g + l] | bits 3l..3l+2 of qh[g] as bits 8-10 index kGridIq1s;
// qh[g] bits 12-14: scale s, bit 15: the sign of the shift. w = d * (2s + 1) * (grid + -0.125).
struct BlockIQ1_S {
  static constexpr Type kType = Type::IQ1_S;
  static constexpr int kElems = 256;
  uint16_t d;
  uint8_t qs[32];
  uint16_t qh[8];
};

// Group g, run l: qs[4g + l] | 3 bits of qh[2g + l/2] (low nibble for even l, high for odd) as
// bits 8-10; the nibble's bit 3 is the shift's sign. 3-bit scales per 16 elements in the four
// u16 of `scales`; the fp16 super-scale is their top nibbles put together.
struct BlockIQ1_M {
  static constexpr Type kType = Type::IQ1_M;
  static constexpr int kElems = 256;
  uint8_t qs[32];
  uint8_t qh[16];
  uint8_t scales[8];
};

// Ternary, base 3: the first 240 elements are 5 trits per byte of qs (byte value * 3^n, taken
// as u8, times 3 >> 8 gives trit n), the last 16 are 4 trits per byte of qh. w = (trit - 1) * d.
struct BlockTQ1_0 {
  static constexpr Type kType = Type::TQ1_0;
  static constexpr int kElems = 256;
  uint8_t qs[48];
  uint8_t qh[4];
  uint16_t d;
};

// 2 bits per element: element 128c + 32l + m is bits 2l, 2l+1 of qs[32c + m]; w = (q - 1) * d
// (q = 3 is not ternary, but decodes as 2, as ggml does).
struct BlockTQ2_0 {
  static constexpr Type kType = Type::TQ2_0;
  static constexpr int kElems = 256;
  uint8_t qs[64];
  uint16_t d;
};

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockIQ4_NL) == 18 && sizeof(BlockIQ4_XS) == 136 && sizeof(BlockIQ2_XXS) == 66);
static_assert(sizeof(BlockIQ2_XS) == 74 && sizeof(BlockIQ2_S) == 82 && sizeof(BlockIQ3_XXS) == 98);
static_assert(sizeof(BlockIQ3_S) == 110 && sizeof(BlockIQ1_S) == 50 && sizeof(BlockIQ1_M) == 56);
static_assert(sizeof(BlockTQ1_0) == 54 && sizeof(BlockTQ2_0) == 66 && offsetof(BlockTQ1_0, d) == 52);
static_assert(offsetof(BlockQ2_K, d) == 80 && offsetof(BlockQ3_K, d) == 108 && offsetof(BlockQ6_K, d) == 208);

// The 6-bit scale and min of group j (0..7) of a Q4_K / Q5_K block, packed in 12 bytes:
// bytes 0-3 hold sc[0..3] in their low 6 bits and the top 2 bits of sc[4..7];
// bytes 4-7 the same for the mins; bytes 8-11 the low nibbles of sc[4..7] (low) and m[4..7] (high).
struct ScaleMin {
  uint8_t scale;
  uint8_t min;
};
inline ScaleMin k_scale_min(const uint8_t* scales, int j) {
  if (j < 4) return {uint8_t(scales[j] & 63), uint8_t(scales[j + 4] & 63)};
  return {uint8_t((scales[j + 4] & 0x0f) | ((scales[j - 4] >> 6) << 4)),
          uint8_t((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4))};
}

// The 6-bit scale of group i (0..15) of a Q3_K block, 0..63 (the format subtracts 32):
// its low 4 bits are the low (i < 8) or high (i >= 8) nibble of byte i%8, its top 2 bits
// are bits 2*(i/4) of byte 8 + i%4.
inline int q3k_scale(const uint8_t* scales, int i) {
  const int low = i < 8 ? scales[i] & 0x0f : scales[i - 8] >> 4;
  const int high = (scales[8 + i % 4] >> (2 * (i / 4))) & 3;
  return low | (high << 4);
}

// Decode one block into its kElems floats, with ggml's operation order, so results are
// bit-identical to ggml's reference dequantize_row_* functions.
void decode(const BlockQ4_0& block, float* out);
void decode(const BlockQ4_1& block, float* out);
void decode(const BlockQ5_0& block, float* out);
void decode(const BlockQ5_1& block, float* out);
void decode(const BlockQ8_0& block, float* out);
void decode(const BlockQ2_K& block, float* out);
void decode(const BlockQ3_K& block, float* out);
void decode(const BlockQ4_K& block, float* out);
void decode(const BlockQ5_K& block, float* out);
void decode(const BlockQ6_K& block, float* out);
void decode(const BlockIQ4_NL& block, float* out);
void decode(const BlockIQ4_XS& block, float* out);
void decode(const BlockIQ2_XXS& block, float* out);
void decode(const BlockIQ2_XS& block, float* out);
void decode(const BlockIQ2_S& block, float* out);
void decode(const BlockIQ3_XXS& block, float* out);
void decode(const BlockIQ3_S& block, float* out);
void decode(const BlockIQ1_S& block, float* out);
void decode(const BlockIQ1_M& block, float* out);
void decode(const BlockTQ1_0& block, float* out);
void decode(const BlockTQ2_0& block, float* out);

// The 6-bit scale (0..63; the format subtracts 32) of 32-group g of an IQ4_XS block.
inline int iq4xs_scale(const BlockIQ4_XS& block, int g) {
  return ((block.scales_l[g / 2] >> (4 * (g % 2))) & 0xf) | (((block.scales_h >> (2 * g)) & 3) << 4);
}

}  // namespace tandem::quant
