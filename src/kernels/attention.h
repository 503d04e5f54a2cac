// Causal multi-head attention with grouped KV heads, reading the KV cache rows in
// the type they are stored in (no float copy of the whole cache).
//
// Every call works in tiles: the queries of one KV head (its `group` query heads,
// times a few tokens in prefill) walk the keys in blocks with a running (online)
// softmax, so each K/V row is read once per tile and no tokens x keys score matrix
// exists. F32 and F16 rows are read in place by SIMD kernels; Q8_0/Q4_0 rows are
// dequantized one key block at a time into a small per-thread buffer.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/dispatch.h"
#include "quant/types.h"

namespace tandem::kernels {

struct AttentionShape {
  int n_head = 0, n_head_kv = 0, head_dim = 0;
  float softcap = 0;  // 0: off; else scores = softcap * tanh(scores / softcap)
  int window = 0;     // 0: off; else a query at p sees keys at p - window < k <= p
};

// Rows of a KV cache: position p's n_head_kv x head_dim values (in `type`) start at
// base + p * row_bytes; KV head g is the g-th run of head_dim values in the row.
struct KvView {
  quant::Type type = quant::Type::F32;  // F32, F16, Q8_0 or Q4_0
  const uint8_t* base = nullptr;
  size_t row_bytes = 0;
};

// q: n_tokens x (n_head*head_dim), already scaled; their positions are first_pos ...
// k / v: rows for positions 0 .. first_pos+n_tokens-1.
// out: n_tokens x (n_head*head_dim).
// Uses the SIMD kernels of active_isa() where there are some.
void attention(const AttentionShape& shape, const float* q, int n_tokens, int first_pos, const KvView& k,
               const KvView& v, float* out, ThreadPool& pool);
// The same with an explicit ISA (Isa::Ref: the portable scalar kernels); for tests.
void attention(Isa isa, const AttentionShape& shape, const float* q, int n_tokens, int first_pos, const KvView& k,
               const KvView& v, float* out, ThreadPool& pool);

// The inner kernels every ISA provides, for rows whose elements are `Elem` (float or
// raw fp16 bits). A tile is n_q query rows (contiguous, head_dim apart) against
// n_k key/value rows (row i at rows + i * row_bytes).
struct AttentionTileKernels {
  // scores[i * n_k + j] = dot(q row i, key row j)
  void (*scores_f32)(const float* q, int n_q, const void* k, size_t k_row_bytes, int n_k, int head_dim, float* scores);
  void (*scores_f16)(const float* q, int n_q, const void* k, size_t k_row_bytes, int n_k, int head_dim, float* scores);
  // out row i += sum_j p[i * n_k + j] * value row j
  void (*accumulate_f32)(float* out, int n_q, const float* p, const void* v, size_t v_row_bytes, int n_k, int head_dim);
  void (*accumulate_f16)(float* out, int n_q, const float* p, const void* v, size_t v_row_bytes, int n_k, int head_dim);
  // x[j] = e^(x[j] - max) for j < n; returns their sum (the softmax numerators of a row)
  float (*exp_sum)(float* x, int n, float max);
};

namespace detail {
extern const AttentionTileKernels kAttentionRef;
#if defined(__x86_64__)
extern const AttentionTileKernels kAttentionAvx2;
#endif
#if defined(__aarch64__)
extern const AttentionTileKernels kAttentionNeon;
#endif
}  // namespace detail

}  // namespace tandem::kernels
