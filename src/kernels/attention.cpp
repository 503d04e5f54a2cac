#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/ops.h"

namespace tandem::kernels {

void attention(const AttentionShape& s, const float* q, int n_tokens, int first_pos, const float* k_cache,
               const float* v_cache, float* out, ThreadPool& pool) {
  const int group = s.n_head / s.n_head_kv;
  const int64_t q_stride = (int64_t)s.n_head * s.head_dim;
  const int64_t kv_stride = (int64_t)s.n_head_kv * s.head_dim;
  pool.parallel_for((int64_t)n_tokens * s.n_head, [&](int64_t begin, int64_t end, int) {
    std::vector<float> scores(first_pos + n_tokens);
    for (int64_t job = begin; job < end; job++) {
      const int t = (int)(job / s.n_head), h = (int)(job % s.n_head);
      const int pos = first_pos + t;
      const int first_key = s.window > 0 ? std::max(0, pos - s.window + 1) : 0;
      const int n_keys = pos - first_key + 1;
      const float* qh = q + t * q_stride + (int64_t)h * s.head_dim;
      const int64_t kv_offset = (int64_t)(h / group) * s.head_dim;
      for (int j = 0; j < n_keys; j++) {
        const float* k = k_cache + (int64_t)(first_key + j) * kv_stride + kv_offset;
        float dot = 0;
        for (int i = 0; i < s.head_dim; i++) dot += qh[i] * k[i];
        scores[j] = dot;
      }
      if (s.softcap > 0) soft_cap(scores.data(), n_keys, s.softcap);
      softmax(scores.data(), n_keys);
      float* o = out + t * q_stride + (int64_t)h * s.head_dim;
      std::fill(o, o + s.head_dim, 0.0f);
      for (int j = 0; j < n_keys; j++) {
        const float* v = v_cache + (int64_t)(first_key + j) * kv_stride + kv_offset;
        const float p = scores[j];
        for (int i = 0; i < s.head_dim; i++) o[i] += p * v[i];
      }
    }
  });
}

}  // namespace tandem::kernels
