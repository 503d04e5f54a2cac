// Causal multi-head attention with grouped KV heads over a float KV cache.
#pragma once
#include <cstdint>

#include "core/thread_pool.h"

namespace tandem::kernels {

struct AttentionShape {
  int n_head = 0, n_head_kv = 0, head_dim = 0;
  float softcap = 0;  // 0: off; else scores = softcap * tanh(scores / softcap)
  int window = 0;     // 0: off; else a query at p sees keys at p - window < k <= p
};

// q: n_tokens x (n_head*head_dim), already scaled; their positions are first_pos ...
// k_cache / v_cache: rows of n_head_kv*head_dim for positions 0 .. first_pos+n_tokens-1.
// out: n_tokens x (n_head*head_dim).
void attention(const AttentionShape& shape, const float* q, int n_tokens, int first_pos, const float* k_cache,
               const float* v_cache, float* out, ThreadPool& pool);

}  // namespace tandem::kernels
