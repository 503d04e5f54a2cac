// Y = X W^T for a weight matrix in any computable GGUF type and float activations:
// y[t][r] = dot(W row r, x[t]).
//
// The ISA comes from kernels::active_isa() (dispatch.h). Under Isa::Ref this is the
// exact float path (weights dequantized, float dot). Under a SIMD ISA the activation
// rows are first quantized once (Q8_0 / Q8_K as the weight type asks, in parallel),
// then rows are handed out to the pool's threads in chunks; types without a SIMD
// kernel (Q2_K, Q3_K) take the float path.
#pragma once
#include <cstdint>
#include <span>

#include "core/thread_pool.h"
#include "gguf/file.h"

namespace tandem::kernels {

// x: n_tokens rows of W's row length; y: n_tokens rows of W's row count.
void matmul(const gguf::TensorInfo& w, const float* x, int n_tokens, float* y, ThreadPool& pool);

// The layout matmul() is fastest with for weights of `type` under the active ISA: a
// repacked layout (quant/repack.h) where that ISA has a kernel for it, else `type`.
quant::Type preferred_layout(quant::Type type);

// Several matrices applied to the same x (q/k/v, gate/up): the activations are quantized
// once per format, and one parallel region hands out the rows of all of them, so a
// decode step pays one synchronisation where it paid one per matrix.
struct MatmulTarget {
  const gguf::TensorInfo* w;
  float* y;  // n_tokens rows of w's row count
};
void matmul_same_input(std::span<const MatmulTarget> targets, const float* x, int n_tokens, ThreadPool& pool);

// One row of an embedding-style matrix (any type) as floats.
void get_row(const gguf::TensorInfo& w, int64_t row, float* out);

}  // namespace tandem::kernels
