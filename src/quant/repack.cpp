#include "quant/repack.h"

#include <cstring>

#include "core/error.h"

namespace tandem::quant {
namespace {

constexpr int kRuns = 8;

// Q4_0_R8: 4-byte pieces move between 8 blocks' nibbles and the group (a 4 x 8 transpose).
constexpr int kQ4_0Block = 18, kQ4_0Group = kRuns * kQ4_0Block;

void q4_0_group(const uint8_t* blocks, uint8_t* group) {
  for (int i = 0; i < kRuns; i++) {
    std::memcpy(group + 2 * i, blocks + i * kQ4_0Block, 2);
    for (int m = 0; m < 4; m++) std::memcpy(group + 16 + 32 * m + 4 * i, blocks + i * kQ4_0Block + 2 + 4 * m, 4);
  }
}

void q4_0_blocks(const uint8_t* group, uint8_t* blocks) {
  for (int i = 0; i < kRuns; i++) {
    std::memcpy(blocks + i * kQ4_0Block, group + 2 * i, 2);
    for (int m = 0; m < 4; m++) std::memcpy(blocks + i * kQ4_0Block + 2 + 4 * m, group + 16 + 32 * m + 4 * i, 4);
  }
}

// Q4_K_R8: Q4_K keeps chunk 2c in the low and chunk 2c+1 in the high nibbles of qs[32c..32c+32).
constexpr int kQ4_KBlock = 144, kQ4_KHead = 16;

void q4_k_group(const uint8_t* qs, uint8_t* out) {
  for (int c = 0; c < 4; c++)
    for (int m = 0; m < 4; m++)
      for (int x = 0; x < 4; x++) {
        const uint8_t first = qs[32 * c + 4 * m + x], second = qs[32 * c + 16 + 4 * m + x];
        out[32 * m + 8 * c + x] = (uint8_t)((first & 0x0f) | (second << 4));      // chunk 2c
        out[32 * m + 8 * c + 4 + x] = (uint8_t)((first >> 4) | (second & 0xf0));  // chunk 2c + 1
      }
}

void q4_k_qs(const uint8_t* in, uint8_t* qs) {
  for (int c = 0; c < 4; c++)
    for (int m = 0; m < 4; m++)
      for (int x = 0; x < 4; x++) {
        const uint8_t even = in[32 * m + 8 * c + x], odd = in[32 * m + 8 * c + 4 + x];
        qs[32 * c + 4 * m + x] = (uint8_t)((even & 0x0f) | (odd << 4));
        qs[32 * c + 16 + 4 * m + x] = (uint8_t)((even >> 4) | (odd & 0xf0));
      }
}

void check(Type type, int64_t n, const char* what) {
  if (type != Type::Q4_0_R8 && type != Type::Q4_K_R8) fail(what, ": ", type_name(type), " is not a repacked layout");
  if (n % traits(type).block_elems != 0) fail(what, ": row length ", n, " is not a multiple of ", traits(type).block_elems);
}

void convert_row(Type layout, const uint8_t* src, uint8_t* dst, int64_t n, bool to_layout) {
  if (layout == Type::Q4_K_R8) {
    for (int64_t b = 0; b < n / 256; b++) {
      const uint8_t* in = src + b * kQ4_KBlock;
      uint8_t* out = dst + b * kQ4_KBlock;
      std::memcpy(out, in, kQ4_KHead);
      if (to_layout) q4_k_group(in + kQ4_KHead, out + kQ4_KHead);
      else q4_k_qs(in + kQ4_KHead, out + kQ4_KHead);
    }
    return;
  }
  const int64_t nb = n / 32, groups = nb / kRuns;
  for (int64_t g = 0; g < groups; g++) {
    if (to_layout) q4_0_group(src + g * kQ4_0Group, dst + g * kQ4_0Group);
    else q4_0_blocks(src + g * kQ4_0Group, dst + g * kQ4_0Group);
  }
  const int64_t done = groups * kQ4_0Group;
  std::memcpy(dst + done, src + done, (nb - groups * kRuns) * kQ4_0Block);
}

}  // namespace

std::optional<Type> repacked_layout(Type type) {
  if (type == Type::Q4_0) return Type::Q4_0_R8;
  if (type == Type::Q4_K) return Type::Q4_K_R8;
  return std::nullopt;
}

Type original_type(Type type) {
  if (type == Type::Q4_0_R8) return Type::Q4_0;
  if (type == Type::Q4_K_R8) return Type::Q4_K;
  return type;
}

void repack_row(Type to, const uint8_t* src, uint8_t* dst, int64_t n) {
  check(to, n, "repack_row");
  convert_row(to, src, dst, n, true);
}

void unpack_row(Type from, const uint8_t* src, uint8_t* dst, int64_t n) {
  check(from, n, "unpack_row");
  convert_row(from, src, dst, n, false);
}

}  // namespace tandem::quant
