#include "kernels/matmul.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "kernels/dispatch.h"
#include "quant/reference.h"
#include "quant/repack.h"

namespace tandem::kernels {
namespace {

void matmul_reference(const gguf::TensorInfo& w, const float* x, int n_tokens, float* y, ThreadPool& pool) {
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

// Quantized activations for the calling thread, reused across calls (64-byte aligned).
uint8_t* activation_buffer(size_t bytes) {
  thread_local std::unique_ptr<uint8_t[]> storage;
  thread_local size_t capacity = 0;
  if (bytes + 64 > capacity) {
    capacity = bytes + 64;
    storage.reset(new uint8_t[capacity]);
  }
  const uintptr_t p = (uintptr_t)storage.get();
  return (uint8_t*)((p + 63) & ~(uintptr_t)63);
}

// Rows per work item: a multiple of 16 (whole 64-byte lines of y, no false sharing),
// several items per thread so a thread slowed by a neighbour process is caught up.
int64_t chunk_rows(int64_t rows, int n_threads) {
  if (n_threads == 1) return rows;
  const int64_t target = rows / (8 * n_threads);
  return std::clamp<int64_t>((target + 15) / 16 * 16, 16, 512);
}

}  // namespace

void matmul(const gguf::TensorInfo& w, const float* x, int n_tokens, float* y, ThreadPool& pool) {
  const KernelTable* table = kernel_table(active_isa());
  const TypeKernels* kernels = table ? table->find(w.type) : nullptr;
  if (!kernels) return matmul_reference(w, x, n_tokens, y, pool);

  const int64_t k = (int64_t)w.dims[0];
  const int64_t rows = (int64_t)w.rows();
  const size_t row_bytes = quant::row_bytes(quant::traits(w.type), k);

  const uint8_t* act = (const uint8_t*)x;
  size_t act_stride = (size_t)k * sizeof(float);
  if (kernels->act != ActFormat::F32) {
    act_stride = act_row_bytes(kernels->act, k);
    uint8_t* buffer = activation_buffer(act_stride * n_tokens);
    const ActFormat format = kernels->act;
    auto quantize = [&](int64_t begin, int64_t end, int) {
      for (int64_t t = begin; t < end; t++) quantize_act_row(*table, format, x + t * k, k, buffer + t * act_stride);
    };
    if (n_tokens >= 4) pool.parallel_for(n_tokens, quantize);
    else quantize(0, n_tokens, 0);
    act = buffer;
  }

  const GemmFn gemm = n_tokens == 1 ? kernels->gemv : kernels->gemm;
  const int64_t chunk = chunk_rows(rows, pool.size());
  const int64_t n_chunks = (rows + chunk - 1) / chunk;
  std::atomic<int64_t> next{0};
  pool.parallel_for(pool.size(), [&](int64_t, int64_t, int) {
    for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < n_chunks;) {
      const int64_t r0 = c * chunk;
      gemm(k, w.data + r0 * row_bytes, row_bytes, std::min(chunk, rows - r0), act, act_stride, n_tokens, y + r0,
           (size_t)rows);
    }
  });
}

quant::Type preferred_layout(quant::Type type) {
  const auto repacked = quant::repacked_layout(type);
  const KernelTable* table = kernel_table(active_isa());
  return repacked && table && table->find(*repacked) ? *repacked : type;
}

void get_row(const gguf::TensorInfo& w, int64_t row, float* out) {
  const int64_t k = (int64_t)w.dims[0];
  const size_t row_bytes = quant::row_bytes(quant::traits(w.type), k);
  quant::dequantize_row(w.type, w.data + row * row_bytes, out, k);
}

}  // namespace tandem::kernels
