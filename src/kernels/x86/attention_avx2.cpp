// AVX2 + FMA + F16C attention tile kernels (see kernels/attention.h). Decode tiles
// (few query rows) process query and output rows up to 8 at a time, so every key or value
// chunk is loaded (and, for F16, converted) once for all of them; prefill tiles convert
// the block once into float buffers first ("Prefill tiles" below).
// Only intrinsics, this file's own functions and those of exp_x86.inc and transpose_x86.inc
// (internal linkage): an inline function from a shared header compiled here with AVX2
// flags could be the copy the linker keeps for all.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/attention.h"

namespace tandem::kernels {
namespace {

#include "kernels/x86/exp_x86.inc"
#include "kernels/x86/transpose_x86.inc"

// 32-byte aligned float storage for the converted blocks, grown on demand.
struct alignas(32) Floats8 {
  float f[8];
};
inline float* aligned_floats(std::vector<Floats8>& buffer, size_t n) {
  if (buffer.size() * 8 < n) buffer.resize((n + 7) / 8);
  return buffer.data()->f;
}

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

// ---- Prefill tiles (many query rows per key block): the block is converted once into
// float buffers in the order the multiply-adds want it (keys transposed: element-major),
// then every FMA takes one row value broadcast from memory against 8 keys (scores) or 8
// columns (accumulate), and 4 rows x 16 keys or columns of sums stay in registers: 6
// loads per 8 FMAs, against 9 loads, a conversion and a horizontal sum per 8 FMAs when
// every group of 8 query rows reads the block's rows itself. pp512 +2% (attention was
// 7.7% of it).
constexpr int kWideRows = 16;  // query rows from which a block is worth converting

// kt[c * stride + j] = key j's element c, for j < n_k rounded up to 16 (zeros past n_k).
template <bool Half>
void transpose_keys(const uint8_t* k, size_t k_row_bytes, int n_k, int d, float* kt, int stride) {
  for (int j0 = 0; j0 < stride; j0 += 8)
    for (int c0 = 0; c0 < d; c0 += 8) {
      __m256 v[8];
      for (int i = 0; i < 8; i++) v[i] = j0 + i < n_k ? load8<Half>(k + (j0 + i) * k_row_bytes, c0) : _mm256_setzero_ps();
      transpose_8x8_ps(v);
      for (int i = 0; i < 8; i++) _mm256_store_ps(kt + (size_t)(c0 + i) * stride + j0, v[i]);
    }
}

// The 4 x 16 sums of both prefill kernels: row i (lo: columns 0-7, hi: 8-15). Named
// members, not arrays: kept in an array, GCC mirrors the sums on the stack and stores all
// eight every step.
struct Sums4x16 {
  __m256 lo0, hi0, lo1, hi1, lo2, hi2, lo3, hi3;
  // row i += x[i * stride] * (v0 | v1)
  void add(const float* x, size_t stride, __m256 v0, __m256 v1) {
    __m256 w = _mm256_broadcast_ss(x);
    lo0 = _mm256_fmadd_ps(w, v0, lo0), hi0 = _mm256_fmadd_ps(w, v1, hi0);
    w = _mm256_broadcast_ss(x + stride);
    lo1 = _mm256_fmadd_ps(w, v0, lo1), hi1 = _mm256_fmadd_ps(w, v1, hi1);
    w = _mm256_broadcast_ss(x + 2 * stride);
    lo2 = _mm256_fmadd_ps(w, v0, lo2), hi2 = _mm256_fmadd_ps(w, v1, hi2);
    w = _mm256_broadcast_ss(x + 3 * stride);
    lo3 = _mm256_fmadd_ps(w, v0, lo3), hi3 = _mm256_fmadd_ps(w, v1, hi3);
  }
  // The first n (<= 16) columns of each row to out + i * stride.
  void store(float* out, size_t stride, int n) const {
    const __m256 rows[4][2] = {{lo0, hi0}, {lo1, hi1}, {lo2, hi2}, {lo3, hi3}};
    for (int i = 0; i < 4; i++) {
      float* row = out + i * stride;
      if (n == 16) {
        _mm256_storeu_ps(row, rows[i][0]);
        _mm256_storeu_ps(row + 8, rows[i][1]);
      } else {
        alignas(32) float tail[16];
        _mm256_store_ps(tail, rows[i][0]);
        _mm256_store_ps(tail + 8, rows[i][1]);
        std::copy(tail, tail + n, row);
      }
    }
  }
};

// Four query rows (d apart) against keys [j, j + 16) of kt: their scores, at out (rows
// n_k apart; n: how many of the 16 keys exist).
void wide_scores_tile(const float* q, int d, const float* kt, int stride, int j, float* out, int n_k, int n) {
  const __m256 zero = _mm256_setzero_ps();
  Sums4x16 sums{zero, zero, zero, zero, zero, zero, zero, zero};
  for (int c = 0; c < d; c++)
    sums.add(q + c, d, _mm256_load_ps(kt + (size_t)c * stride + j), _mm256_load_ps(kt + (size_t)c * stride + j + 8));
  sums.store(out, n_k, n);
}

template <bool Half>
void wide_scores(const float* q, int n_q, const uint8_t* k, size_t k_row_bytes, int n_k, int d, float* out) {
  thread_local std::vector<Floats8> buffer;
  const int stride = (n_k + 15) / 16 * 16;
  float* kt = aligned_floats(buffer, (size_t)d * stride);
  transpose_keys<Half>(k, k_row_bytes, n_k, d, kt, stride);
  const int n4 = n_q / 4 * 4;
  for (int i = 0; i < n4; i += 4)
    for (int j = 0; j < n_k; j += 16)
      wide_scores_tile(q + (size_t)i * d, d, kt, stride, j, out + (size_t)i * n_k + j, n_k, std::min(16, n_k - j));
  for (int i = n4; i < n_q; i++) scores_rows<Half, 1>(q + (size_t)i * d, k, k_row_bytes, n_k, d, out + (size_t)i * n_k);
}

template <bool Half>
void scores(const float* q, int n_q, const void* k, size_t k_row_bytes, int n_k, int d, float* out) {
  const uint8_t* rows = static_cast<const uint8_t*>(k);
  if (n_q >= kWideRows && d % 8 == 0) return wide_scores<Half>(q, n_q, rows, k_row_bytes, n_k, d, out);
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

// Four output rows, columns [c, c + 16), += their probabilities times the value rows
// (floats, d apart).
void wide_accumulate_rows(float* out, const float* p, const float* values, int n_k, int d, int c) {
  float* o = out + c;
  Sums4x16 sums{_mm256_loadu_ps(o),         _mm256_loadu_ps(o + 8),         _mm256_loadu_ps(o + d),
                _mm256_loadu_ps(o + d + 8), _mm256_loadu_ps(o + 2 * d),     _mm256_loadu_ps(o + 2 * d + 8),
                _mm256_loadu_ps(o + 3 * d), _mm256_loadu_ps(o + 3 * d + 8)};
  for (int j = 0; j < n_k; j++)
    sums.add(p + j, n_k, _mm256_loadu_ps(values + (size_t)j * d + c), _mm256_loadu_ps(values + (size_t)j * d + c + 8));
  sums.store(o, d, 16);
}

template <bool Half>
void wide_accumulate(float* out, int n_q, const float* p, const uint8_t* v, size_t v_row_bytes, int n_k, int d) {
  thread_local std::vector<Floats8> buffer;
  const float* values = reinterpret_cast<const float*>(v);
  if (Half || v_row_bytes != d * sizeof(float)) {
    float* converted = aligned_floats(buffer, (size_t)n_k * d);
    for (int j = 0; j < n_k; j++)
      for (int c = 0; c < d; c += 8) _mm256_store_ps(converted + (size_t)j * d + c, load8<Half>(v + j * v_row_bytes, c));
    values = converted;
  }
  const int n4 = n_q / 4 * 4;
  for (int c = 0; c < d; c += 16)
    for (int i = 0; i < n4; i += 4) wide_accumulate_rows(out + (size_t)i * d, p + (size_t)i * n_k, values, n_k, d, c);
  for (int i = n4; i < n_q; i++) accumulate_rows<Half, 1>(out + (size_t)i * d, p + (size_t)i * n_k, v, v_row_bytes, n_k, d);
}

template <bool Half>
void accumulate(float* out, int n_q, const float* p, const void* v, size_t v_row_bytes, int n_k, int d) {
  const uint8_t* rows = static_cast<const uint8_t*>(v);
  if (n_q >= kWideRows && d % 16 == 0) return wide_accumulate<Half>(out, n_q, p, rows, v_row_bytes, n_k, d);
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
