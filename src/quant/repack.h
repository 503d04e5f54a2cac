// Row layouts of our own, made from a GGUF type at load time so a decode kernel can
// read weights as whole vectors (same bytes per row: a repacked tensor replaces the
// original in memory, it is not a second copy; see docs/memory.md).
//
// Both layouts put 8 runs of 32 weights (8 Q4_0 blocks; the 8 chunks of a Q4_K
// superblock) side by side, so that one 32-byte vector holds 4 weights of each run:
// after an 8-bit multiply-add and a 16-bit pairwise add, 32-bit lane i is run i's partial
// sum, and the 8 runs' scales apply as one vector. In a group of 128 nibble bytes,
//   bytes 4i..4i+3 of piece m (m < 4, 32 bytes each) hold run i's elements 4m..4m+3 in
//   their low nibbles and elements 16+4m..16+4m+3 in their high nibbles.
//
// Q4_0_R8: a Q4_0 row taken 8 blocks at a time (144-byte groups): the 8 fp16 scales
// (16 bytes), then the 128 nibble bytes. Blocks past the last whole group stay in Q4_0's
// own 18-byte format at the end of the row.
// Q5_0_R8: a Q5_0 row taken 8 blocks at a time (176-byte groups): the 8 fp16 scales (16
// bytes), the fifth bits (32 bytes: bit j of byte b = the fifth bit of byte b of vector j,
// where vector j < 4 is piece j's low nibbles and vector j >= 4 piece j-4's high ones, so
// one shift and one mask move vector j's bits into place), then the 128 nibble bytes. Tail
// blocks stay in Q5_0's 22-byte format.
// Q4_K_R8: each Q4_K superblock keeps its 16-byte head (d, dmin, 12 bytes of scales and
// mins); its 128 nibble bytes are rearranged as above with run i = chunk i.
#pragma once
#include <cstdint>
#include <optional>

#include "quant/types.h"

namespace tandem::quant {

// The repacked layout of `type`, if there is one.
std::optional<Type> repacked_layout(Type type);
// The GGUF type a repacked layout was made from (itself for any other type).
Type original_type(Type type);

// One row of n elements (a multiple of the block size) from `original_type(to)` into
// `to`, and back.
void repack_row(Type to, const uint8_t* src, uint8_t* dst, int64_t n);
void unpack_row(Type from, const uint8_t* src, uint8_t* dst, int64_t n);

}  // namespace tandem::quant
