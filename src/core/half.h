// IEEE half and bfloat16 conversions used by the F16/BF16 tensors and by the
// scales inside quantized blocks.
#pragma once
#include <bit>
#include <cstdint>
#include <cstring>

namespace tandem {

inline float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        exp--;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000 | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}

// Round to nearest even, as numpy and ggml do.
inline uint16_t fp32_to_fp16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000;
  x &= 0x7fffffff;
  if (x >= 0x7f800000) return sign | 0x7c00 | (x > 0x7f800000 ? 0x200 : 0);  // inf / nan
  if (x >= 0x477ff000) return sign | 0x7c00;                                  // overflow
  if (x < 0x38800000) {  // subnormal or zero in half
    if (x < 0x33000000) return sign;
    uint32_t exp = x >> 23;
    uint32_t mant = (x & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - exp;  // 14 - (exp - 127) + 10 - 23 ... gives mantissa in half units
    uint32_t half_mant = mant >> (shift);
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half_mant & 1))) half_mant++;
    return sign | half_mant;
  }
  uint32_t rounded = x + 0xfff + ((x >> 13) & 1);
  return sign | ((rounded - 0x38000000) >> 13);
}

inline float bf16_to_fp32(uint16_t b) { return std::bit_cast<float>((uint32_t)b << 16); }

inline uint16_t fp32_to_bf16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffff) > 0x7f800000) return (x >> 16) | 64;  // quiet nan
  return (x + (0x7fff + ((x >> 16) & 1))) >> 16;
}

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

}  // namespace tandem
