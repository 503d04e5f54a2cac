// NEON attention tile kernels (see kernels/attention.h). Query and output rows are
// processed up to 8 at a time so every key or value chunk is loaded (and, for F16,
// converted with vcvt_f32_f16) once for all of them.
#include <arm_neon.h>

#include <algorithm>
#include <cmath>

#include "kernels/attention.h"

namespace tandem::kernels {
namespace {

#include "kernels/arm/exp_neon.inc"

template <bool Half>
inline float32x4_t load4(const void* row, int c) {
  if constexpr (Half)
    return vcvt_f32_f16(vld1_f16(static_cast<const float16_t*>(row) + c));
  else
    return vld1q_f32(static_cast<const float*>(row) + c);
}

template <bool Half>
inline float load1(const void* row, int c) {
  if constexpr (Half)
    return (float)static_cast<const __fp16*>(row)[c];
  else
    return static_cast<const float*>(row)[c];
}

// R query rows against every key row.
template <bool Half, int R>
void scores_rows(const float* q, const uint8_t* k, size_t k_row_bytes, int n_k, int d, float* scores) {
  const int d4 = d & ~3;
  for (int j = 0; j < n_k; j++) {
    const void* row = k + j * k_row_bytes;
    float32x4_t acc[R];
    for (int r = 0; r < R; r++) acc[r] = vdupq_n_f32(0);
    for (int c = 0; c < d4; c += 4) {
      const float32x4_t kv = load4<Half>(row, c);
      for (int r = 0; r < R; r++) acc[r] = vfmaq_f32(acc[r], vld1q_f32(q + (size_t)r * d + c), kv);
    }
    float dots[R];
    for (int r = 0; r < R; r++) dots[r] = vaddvq_f32(acc[r]);
    for (int c = d4; c < d; c++) {
      const float kc = load1<Half>(row, c);
      for (int r = 0; r < R; r++) dots[r] += q[(size_t)r * d + c] * kc;
    }
    for (int r = 0; r < R; r++) scores[(size_t)r * n_k + j] = dots[r];
  }
}

template <bool Half>
void scores(const float* q, int n_q, const void* k, size_t k_row_bytes, int n_k, int d, float* out) {
  const uint8_t* rows = static_cast<const uint8_t*>(k);
  int i = 0;
  for (; i + 8 <= n_q; i += 8) scores_rows<Half, 8>(q + (size_t)i * d, rows, k_row_bytes, n_k, d, out + (size_t)i * n_k);
  for (; i + 4 <= n_q; i += 4) scores_rows<Half, 4>(q + (size_t)i * d, rows, k_row_bytes, n_k, d, out + (size_t)i * n_k);
  for (; i < n_q; i++) scores_rows<Half, 1>(q + (size_t)i * d, rows, k_row_bytes, n_k, d, out + (size_t)i * n_k);
}

// R output rows += their probabilities times every value row, 4 columns at a time.
template <bool Half, int R>
void accumulate_rows(float* out, const float* p, const uint8_t* v, size_t v_row_bytes, int n_k, int d) {
  const int d4 = d & ~3;
  for (int c = 0; c < d4; c += 4) {
    float32x4_t acc[R];
    for (int r = 0; r < R; r++) acc[r] = vld1q_f32(out + (size_t)r * d + c);
    for (int j = 0; j < n_k; j++) {
      const float32x4_t vv = load4<Half>(v + j * v_row_bytes, c);
      for (int r = 0; r < R; r++) acc[r] = vfmaq_n_f32(acc[r], vv, p[(size_t)r * n_k + j]);
    }
    for (int r = 0; r < R; r++) vst1q_f32(out + (size_t)r * d + c, acc[r]);
  }
  for (int c = d4; c < d; c++)
    for (int j = 0; j < n_k; j++) {
      const float vc = load1<Half>(v + j * v_row_bytes, c);
      for (int r = 0; r < R; r++) out[(size_t)r * d + c] += p[(size_t)r * n_k + j] * vc;
    }
}

template <bool Half>
void accumulate(float* out, int n_q, const float* p, const void* v, size_t v_row_bytes, int n_k, int d) {
  const uint8_t* rows = static_cast<const uint8_t*>(v);
  int i = 0;
  for (; i + 8 <= n_q; i += 8)
    accumulate_rows<Half, 8>(out + (size_t)i * d, p + (size_t)i * n_k, rows, v_row_bytes, n_k, d);
  for (; i + 4 <= n_q; i += 4)
    accumulate_rows<Half, 4>(out + (size_t)i * d, p + (size_t)i * n_k, rows, v_row_bytes, n_k, d);
  for (; i < n_q; i++) accumulate_rows<Half, 1>(out + (size_t)i * d, p + (size_t)i * n_k, rows, v_row_bytes, n_k, d);
}

// The tail goes through the same exp (padded), so no key's weight depends on where its
// block ends.
float exp_sum(float* x, int n, float max) {
  const float32x4_t m = vdupq_n_f32(max);
  float32x4_t acc = vdupq_n_f32(0);
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    const float32x4_t e = exp4(vsubq_f32(vld1q_f32(x + j), m));
    vst1q_f32(x + j, e);
    acc = vaddq_f32(acc, e);
  }
  float sum = vaddvq_f32(acc);
  if (j < n) {
    float tail[4] = {};
    std::copy(x + j, x + n, tail);
    vst1q_f32(tail, exp4(vsubq_f32(vld1q_f32(tail), m)));
    for (int i = 0; i < n - j; i++) sum += (x[j + i] = tail[i]);
  }
  return sum;
}

}  // namespace

namespace detail {
const AttentionTileKernels kAttentionNeon = {scores<false>, scores<true>, accumulate<false>, accumulate<true>, exp_sum};
}  // namespace detail

}  // namespace tandem::kernels
