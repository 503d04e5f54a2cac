// AVX2 + FMA + F16C attention tile kernels (see kernels/attention.h). Query and
// output rows are processed up to 8 at a time so every key or value chunk is
// loaded (and, for F16, converted) once for all of them.
// Only intrinsics, this file's own functions and exp_x86.inc's (internal linkage): an
// inline function from a shared header compiled here with AVX2 flags could be the copy the
// linker keeps for all.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/attention.h"

namespace tandem::kernels {
namespace {

#include "kernels/x86/exp_x86.inc"

template <bool Half>
inline __m256 load8(const void* row, int c) {
  if constexpr (Half)
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(row) + c)));
  else
    return _mm256_loadu_ps(static_cast<const float*>(row) + c);
}

template <bool Half>
inline float load1(const void* row, int c) {
  if constexpr (Half)
    return _cvtsh_ss(static_cast<const uint16_t*>(row)[c]);
  else
    return static_cast<const float*>(row)[c];
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The 8 horizontal sums of a[0..7], as one vector.
inline __m256 hsum8(const __m256* a) {
  const __m256 t0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
  const __m256 t1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
  return _mm256_add_ps(_mm256_permute2f128_ps(t0, t1, 0x20), _mm256_permute2f128_ps(t0, t1, 0x31));
}

// R query rows against every key row.
template <bool Half, int R>
void scores_rows(const float* q, const uint8_t* k, size_t k_row_bytes, int n_k, int d, float* scores) {
  const int d8 = d & ~7;
  for (int j = 0; j < n_k; j++) {
    const void* row = k + j * k_row_bytes;
    __m256 acc[R];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    for (int c = 0; c < d8; c += 8) {
      const __m256 kv = load8<Half>(row, c);
      for (int r = 0; r < R; r++) acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(q + (size_t)r * d + c), kv, acc[r]);
    }
    float dots[8];
    if constexpr (R == 8) {
      _mm256_storeu_ps(dots, hsum8(acc));
    } else {
      for (int r = 0; r < R; r++) dots[r] = hsum(acc[r]);
    }
    for (int c = d8; c < d; c++) {
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

// R output rows += their probabilities times every value row, 8 columns at a time.
template <bool Half, int R>
void accumulate_rows(float* out, const float* p, const uint8_t* v, size_t v_row_bytes, int n_k, int d) {
  const int d8 = d & ~7;
  for (int c = 0; c < d8; c += 8) {
    __m256 acc[R];
    for (int r = 0; r < R; r++) acc[r] = _mm256_loadu_ps(out + (size_t)r * d + c);
    for (int j = 0; j < n_k; j++) {
      const __m256 vv = load8<Half>(v + j * v_row_bytes, c);
      for (int r = 0; r < R; r++) acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(p + (size_t)r * n_k + j), vv, acc[r]);
    }
    for (int r = 0; r < R; r++) _mm256_storeu_ps(out + (size_t)r * d + c, acc[r]);
  }
  for (int c = d8; c < d; c++)
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
  const __m256 m = _mm256_set1_ps(max);
  __m256 acc = _mm256_setzero_ps();
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + j), m));
    _mm256_storeu_ps(x + j, e);
    acc = _mm256_add_ps(acc, e);
  }
  float sum = hsum(acc);
  if (j < n) {
    float tail[8] = {};
    std::copy(x + j, x + n, tail);
    _mm256_storeu_ps(tail, exp8(_mm256_sub_ps(_mm256_loadu_ps(tail), m)));
    for (int i = 0; i < n - j; i++) sum += (x[j + i] = tail[i]);
  }
  return sum;
}

}  // namespace

namespace detail {
const AttentionTileKernels kAttentionAvx2 = {scores<false>, scores<true>, accumulate<false>, accumulate<true>, exp_sum};
}  // namespace detail

}  // namespace tandem::kernels
