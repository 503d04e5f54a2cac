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

// Q5_0_R8: Q5_0 blocks are d, qh (bit e: element e's fifth bit), qs (nibbles as Q4_0).
constexpr int kQ5_0Block = 22, kQ5_0Group = kRuns * kQ5_0Block;

// Element of a block held by byte 4i + x of vector j (see repack.h).
int element_of(int j, int x) { return j < 4 ? 4 * j + x : 16 + 4 * (j - 4) + x; }

void q5_0_group(const uint8_t* blocks, uint8_t* group) {
  std::memset(group + 16, 0, 32);
  for (int i = 0; i < kRuns; i++) {
    const uint8_t* block = blocks + i * kQ5_0Block;
    std::memcpy(group + 2 * i, block, 2);
    uint32_t qh;
    std::memcpy(&qh, block + 2, 4);
    for (int m = 0; m < 4; m++) std::memcpy(group + 48 + 32 * m + 4 * i, block + 6 + 4 * m, 4);
    for (int j = 0; j < 8; j++)
      for (int x = 0; x < 4; x++)
        if ((qh >> element_of(j, x)) & 1) group[16 + 4 * i + x] |= (uint8_t)(1u << j);
  }
}

void q5_0_blocks(const uint8_t* group, uint8_t* blocks) {
  for (int i = 0; i < kRuns; i++) {
    uint8_t* block = blocks + i * kQ5_0Block;
    std::memcpy(block, group + 2 * i, 2);
    uint32_t qh = 0;
    for (int j = 0; j < 8; j++)
      for (int x = 0; x < 4; x++)
        if ((group[16 + 4 * i + x] >> j) & 1) qh |= 1u << element_of(j, x);
    std::memcpy(block + 2, &qh, 4);
    for (int m = 0; m < 4; m++) std::memcpy(block + 6 + 4 * m, group + 48 + 32 * m + 4 * i, 4);
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
  if (original_type(type) == type) fail(what, ": ", type_name(type), " is not a repacked layout");
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
  const bool five = layout == Type::Q5_0_R8;
  const int64_t nb = n / 32, groups = nb / kRuns, group_bytes = five ? kQ5_0Group : kQ4_0Group;
  for (int64_t g = 0; g < groups; g++) {
    const uint8_t* in = src + g * group_bytes;
    uint8_t* out = dst + g * group_bytes;
    if (five) to_layout ? q5_0_group(in, out) : q5_0_blocks(in, out);
    else to_layout ? q4_0_group(in, out) : q4_0_blocks(in, out);
  }
  const int64_t done = groups * group_bytes;
  std::memcpy(dst + done, src + done, (nb - groups * kRuns) * (five ? kQ5_0Block : kQ4_0Block));
}

}  // namespace

std::optional<Type> repacked_layout(Type type) {
  if (type == Type::Q4_0) return Type::Q4_0_R8;
  if (type == Type::Q4_K) return Type::Q4_K_R8;
  if (type == Type::Q5_0) return Type::Q5_0_R8;
  return std::nullopt;
}

Type original_type(Type type) {
  if (type == Type::Q4_0_R8) return Type::Q4_0;
  if (type == Type::Q4_K_R8) return Type::Q4_K;
  if (type == Type::Q5_0_R8) return Type::Q5_0;
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
