// Portable reference implementations of dequantization and the weight-row dot
// product, for every computable type (F32, F16, BF16, Q4_0 .. Q8_0, Q2_K .. Q6_K, the
// i-quants IQ1_S .. IQ4_XS and the ternary TQ1_0 / TQ2_0).
// They are the oracle the SIMD kernels are tested against: plain C++, no
// intrinsics, results bit-identical to ggml's dequantize_row_* per element.
#pragma once
#include <cstdint>

#include "quant/types.h"

namespace tandem::quant {

// Whether dequantize_row / dot_row accept `type`.
bool has_reference(Type type);

// n must be a multiple of the type's block size; src points at n/block_elems blocks.
// An unsupported type or a bad n is a tandem::Error naming it.
void dequantize_row(Type type, const void* src, float* dst, int64_t n);

// sum_i w[i] * x[i] for one row of weights in `type` and float activations x.
// Exact float math: weights are dequantized 256 at a time into a stack buffer,
// each chunk's products are summed in float, and the chunk sums are added in order.
float dot_row(Type type, const void* row, const float* x, int64_t n);

}  // namespace tandem::quant
