// Y = X W^T for a weight matrix in any computable GGUF type and float activations:
// y[t][r] = dot(W row r, x[t]). This is the portable path; SIMD paths plug in
// behind the same call.
#pragma once
#include <cstdint>

#include "core/thread_pool.h"
#include "gguf/file.h"

namespace tandem::kernels {

// x: n_tokens rows of W's row length; y: n_tokens rows of W's row count.
void matmul(const gguf::TensorInfo& w, const float* x, int n_tokens, float* y, ThreadPool& pool);

// One row of an embedding-style matrix (any type) as floats.
void get_row(const gguf::TensorInfo& w, int64_t row, float* out);

}  // namespace tandem::kernels
