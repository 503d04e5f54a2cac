// Rows of blocks with known values, for every type that has a decoder: the values are chosen
// first (small integer quants, power-of-two scales, so every decoded float is exact), then
// written into bytes here, from the GGUF block layouts (ggml-common.h), independently of
// src/quant. A decoder or dot product is then checked against the values, not against
// another use of the same decoder; quantize_peer_test checks these bytes with ggml's own
// decoders, so the layout knowledge here is itself checked.
#pragma once
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "quant/types.h"

namespace tandem::test {

struct KnownRow {
  std::vector<uint8_t> bytes;
  std::vector<float> values;  // what each element must decode to, exactly
};

namespace known_detail {

inline void put_u16(uint8_t* at, uint16_t v) {
  at[0] = uint8_t(v & 0xff);  // little-endian
  at[1] = uint8_t(v >> 8);
}

inline void put_bits(uint8_t& byte, int shift, int width, int value) {
  const int mask = ((1 << width) - 1) << shift;
  byte = uint8_t((byte & ~mask) | ((value << shift) & mask));
}

// A power of two 2^e (e in -10..-1, either sign) as IEEE half bits and as a float.
struct Scale {
  uint16_t half;
  float value;
};
inline Scale random_scale(std::mt19937& rng, bool allow_negative = true) {
  const int e = -1 - int(rng() % 10);
  const bool negative = allow_negative && rng() % 2;
  const uint16_t bits = uint16_t(((e + 15) << 10) | (negative ? 0x8000 : 0));
  const float value = (negative ? -1.0f : 1.0f) * std::ldexp(1.0f, e);
  return {bits, value};
}

// Q4_K / Q5_K: 6-bit scale and min of group j in 12 bytes (ggml's get_scale_min_k4).
inline void pack_k_scales(uint8_t* s, const int (&scale)[8], const int (&min)[8]) {
  for (int j = 0; j < 4; j++) {
    s[j] = uint8_t((scale[j] & 63) | ((scale[j + 4] >> 4) << 6));
    s[j + 4] = uint8_t((min[j] & 63) | ((min[j + 4] >> 4) << 6));
    s[j + 8] = uint8_t((scale[j + 4] & 15) | ((min[j + 4] & 15) << 4));
  }
}

}  // namespace known_detail

// `n_blocks` blocks of `type` with random known values (seeded).
inline KnownRow known_row(quant::Type type, int n_blocks, uint32_t seed) {
  using namespace known_detail;
  using quant::Type;
  std::mt19937 rng(seed);
  const auto& traits = quant::traits(type);
  KnownRow row;
  row.bytes.assign(size_t(n_blocks) * traits.block_bytes, 0);
  row.values.resize(size_t(n_blocks) * traits.block_elems);
  auto q = [&](int levels) { return int(rng() % uint32_t(levels)); };
  for (int b = 0; b < n_blocks; b++) {
    uint8_t* p = row.bytes.data() + size_t(b) * traits.block_bytes;
    float* v = row.values.data() + size_t(b) * traits.block_elems;
    switch (type) {
      case Type::F32: {
        const float x = float(q(2001) - 1000) / 64.0f;
        std::memcpy(p, &x, 4);
        v[0] = x;
        break;
      }
      case Type::F16: {
        const Scale s = random_scale(rng);  // a power of two times an integer below 2^10
        const int m = q(1024);
        // half = sign | exponent | mantissa, value = 2^(e) * (1 + m/1024) for the scale's e
        const int e = int(((s.half >> 10) & 31)) - 15;
        put_u16(p, uint16_t((s.half & 0xfc00) | m));
        v[0] = (s.value < 0 ? -1.0f : 1.0f) * std::ldexp(1.0f + float(m) / 1024.0f, e);
        break;
      }
      case Type::BF16: {
        const uint16_t hi = uint16_t(0x3c00 + q(0x800)) | uint16_t(q(2) << 15);  // exponents around 2^-7..2^8
        put_u16(p, hi);
        const uint32_t bits = uint32_t(hi) << 16;
        std::memcpy(&v[0], &bits, 4);
        break;
      }
      case Type::Q4_0:
      case Type::Q5_0: {
        const Scale d = random_scale(rng);
        put_u16(p, d.half);
        const bool five = type == Type::Q5_0;
        uint8_t* qs = p + (five ? 6 : 2);
        for (int e = 0; e < 32; e++) {
          const int x = q(five ? 32 : 16);
          put_bits(qs[e % 16], e < 16 ? 0 : 4, 4, x & 15);
          if (five) put_bits(p[2 + e / 8], e % 8, 1, x >> 4);
          v[e] = float(x - (five ? 16 : 8)) * d.value;
        }
        break;
      }
      case Type::Q4_1:
      case Type::Q5_1: {
        const Scale d = random_scale(rng), m = random_scale(rng);
        put_u16(p, d.half);
        put_u16(p + 2, m.half);
        const bool five = type == Type::Q5_1;
        uint8_t* qs = p + (five ? 8 : 4);
        for (int e = 0; e < 32; e++) {
          const int x = q(five ? 32 : 16);
          put_bits(qs[e % 16], e < 16 ? 0 : 4, 4, x & 15);
          if (five) put_bits(p[4 + e / 8], e % 8, 1, x >> 4);
          v[e] = float(x) * d.value + m.value;
        }
        break;
      }
      case Type::Q8_0: {
        const Scale d = random_scale(rng);
        put_u16(p, d.half);
        for (int e = 0; e < 32; e++) {
          const int x = q(256) - 128;
          p[2 + e] = uint8_t(int8_t(x));
          v[e] = float(x) * d.value;
        }
        break;
      }
      case Type::Q2_K: {  // scales[16] (4-bit scale | 4-bit min << 4), qs[64], d, dmin
        const Scale d = random_scale(rng), dmin = random_scale(rng);
        put_u16(p + 80, d.half);
        put_u16(p + 82, dmin.half);
        int sc[16], mn[16];
        for (int g = 0; g < 16; g++) sc[g] = q(16), mn[g] = q(16), p[g] = uint8_t(sc[g] | (mn[g] << 4));
        for (int e = 0; e < 256; e++) {
          const int x = q(4);
          put_bits(p[16 + 32 * (e / 128) + e % 32], 2 * ((e % 128) / 32), 2, x);
          v[e] = d.value * float(sc[e / 16]) * float(x) - dmin.value * float(mn[e / 16]);
        }
        break;
      }
      case Type::Q3_K: {  // hmask[32], qs[64], scales[12] (6-bit, offset 32), d
        const Scale d = random_scale(rng);
        put_u16(p + 108, d.half);
        int sc[16];
        for (int i = 0; i < 16; i++) {
          sc[i] = q(64);
          put_bits(p[96 + i % 8], i < 8 ? 0 : 4, 4, sc[i] & 15);
          put_bits(p[96 + 8 + i % 4], 2 * (i / 4), 2, sc[i] >> 4);
        }
        for (int e = 0; e < 256; e++) {
          const int stored = q(8);  // value stored - 4: the high bit set means "no -4"
          put_bits(p[32 + 32 * (e / 128) + e % 32], 2 * ((e % 128) / 32), 2, stored & 3);
          put_bits(p[e % 32], e / 32, 1, stored >> 2);
          v[e] = d.value * float(sc[e / 16] - 32) * float(stored - 4);
        }
        break;
      }
      case Type::Q4_K:
      case Type::Q5_K: {  // d, dmin, scales[12], (Q5_K: qh[32]), qs[128]
        const Scale d = random_scale(rng), dmin = random_scale(rng);
        put_u16(p, d.half);
        put_u16(p + 2, dmin.half);
        int sc[8], mn[8];
        for (int j = 0; j < 8; j++) sc[j] = q(64), mn[j] = q(64);
        pack_k_scales(p + 4, sc, mn);
        const bool five = type == Type::Q5_K;
        uint8_t* qs = p + (five ? 48 : 16);
        for (int e = 0; e < 256; e++) {
          const int x = q(five ? 32 : 16);
          put_bits(qs[32 * (e / 64) + e % 32], (e % 64) < 32 ? 0 : 4, 4, x & 15);
          if (five) put_bits(p[16 + e % 32], e / 32, 1, x >> 4);
          v[e] = d.value * float(sc[e / 32]) * float(x) - dmin.value * float(mn[e / 32]);
        }
        break;
      }
      case Type::Q6_K: {  // ql[128], qh[64], scales[16] (int8), d
        const Scale d = random_scale(rng);
        put_u16(p + 208, d.half);
        int sc[16];
        for (int g = 0; g < 16; g++) sc[g] = q(256) - 128, p[192 + g] = uint8_t(int8_t(sc[g]));
        for (int e = 0; e < 256; e++) {
          const int x = q(64);
          const int chunk = e / 128, group32 = (e % 128) / 32, l = e % 32;
          put_bits(p[64 * chunk + 32 * (group32 & 1) + l], group32 < 2 ? 0 : 4, 4, x & 15);
          put_bits(p[128 + 32 * chunk + l], 2 * group32, 2, x >> 4);
          v[e] = d.value * float(sc[e / 16]) * float(x - 32);
        }
        break;
      }
      default:
        break;  // no decoder: known_row_types() does not list it
    }
  }
  return row;
}

// Every type with a decoder (quant/reference.h's has_reference).
inline std::vector<quant::Type> known_row_types() {
  using quant::Type;
  return {Type::F32,  Type::F16,  Type::BF16, Type::Q4_0, Type::Q4_1, Type::Q5_0, Type::Q5_1,
          Type::Q8_0, Type::Q2_K, Type::Q3_K, Type::Q4_K, Type::Q5_K, Type::Q6_K};
}

}  // namespace tandem::test
