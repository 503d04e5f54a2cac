// Portable scalar versions of the quantized-activation kernels: the same integer
// sums and the same per-block float formulas as the SIMD kernels (only the order
// of float additions differs), so every ISA's table is tested against this one.
//
// Per weight type, one block's contribution (see dispatch.h for the activation formats):
//   32-blocks: w = dw * q + mm  (q the block's integers: Q4_0 0..15 with mm = -8 dw,
//              Q5_0 0..31 with mm = -16 dw, Q4_1/Q5_1 with mm = m, Q8_0 signed with mm = 0)
//              -> dw * da * sum(q * qa) + mm * s
//   K-quants:  w = d * sc[g] * q - dmin * mn[g] over 16-element groups g
//              (Q4_K/Q5_K: sc, mn the 6-bit scale/min of the 32-group; Q6_K: q = 0..63,
//              sc = the signed scale, mn = 32 sc, dmin = d)
//              -> da * (d * sum_g sc[g] * sum(q * qa) - dmin * sum_g mn[g] * bsums[g])
//   IQ4_NL:    a 32-block with signed q = kValuesIq4nl[nibble], mm = 0 (as Q8_0)
//   IQ4_XS, IQ3_S, IQ2_S: K-quant form with signed q (the level, ±grid value), sc the group's
//              integer multiplier (ls - 32; 2s + 1), no mins; IQ2_S's d is the block's d / 8.
#pragma once
#include <cstdint>

#include "kernels/dispatch.h"

namespace tandem::kernels {

void quantize_q8_0_reference(const float* x, int64_t k, uint8_t* out);
void quantize_q8_k_reference(const float* x, int64_t k, uint8_t* out);

// dot(weight row, activation row) with the activation in the type's format.
float vec_dot_reference(quant::Type type, const uint8_t* w_row, const uint8_t* act_row, int64_t k);
// The same with the activation in `format`: the type's, or BF16 for BF16 weights.
float vec_dot_reference(quant::Type type, ActFormat format, const uint8_t* w_row, const uint8_t* act_row, int64_t k);

// Table form of the above (gemm = vec_dot per (row, token)): what the SIMD tables are tested against.
const KernelTable& int8_reference_table();

}  // namespace tandem::kernels
