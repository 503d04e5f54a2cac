#include "kernels/matmul.h"

#include <vector>

#include "quant/reference.h"

namespace tandem::kernels {

void matmul(const gguf::TensorInfo& w, const float* x, int n_tokens, float* y, ThreadPool& pool) {
  const int64_t k = (int64_t)w.dims[0];
  const int64_t rows = (int64_t)w.rows();
  const size_t row_bytes = quant::row_bytes(quant::traits(w.type), k);
  const uint8_t* base = w.data;
  pool.parallel_for(rows, [&](int64_t begin, int64_t end, int) {
    if (n_tokens == 1) {
      for (int64_t r = begin; r < end; r++) y[r] = quant::dot_row(w.type, base + r * row_bytes, x, k);
      return;
    }
    // Batched: decode each weight row once and reuse it for every token.
    std::vector<float> row(k);
    for (int64_t r = begin; r < end; r++) {
      quant::dequantize_row(w.type, base + r * row_bytes, row.data(), k);
      for (int t = 0; t < n_tokens; t++) {
        const float* xt = x + (int64_t)t * k;
        float sum = 0;
        for (int64_t i = 0; i < k; i++) sum += row[i] * xt[i];
        y[(int64_t)t * rows + r] = sum;
      }
    }
  });
}

void get_row(const gguf::TensorInfo& w, int64_t row, float* out) {
  const int64_t k = (int64_t)w.dims[0];
  const size_t row_bytes = quant::row_bytes(quant::traits(w.type), k);
  quant::dequantize_row(w.type, w.data + row * row_bytes, out, k);
}

}  // namespace tandem::kernels
