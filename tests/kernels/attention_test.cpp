// Attention over KV cache rows in their stored type: the SIMD tile kernels against
// the portable reference, and the reference against a naive float64 computation,
// over a table of shapes (GQA, odd head sizes, window, softcap, prefill continuing
// a cache, key counts that are not a multiple of the key block).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/kernel_cases.h"
#include "quant/quantize.h"
#include "quant/reference.h"

namespace tandem::kernels {
namespace {

using quant::Type;

struct Case {
  const char* name;
  int n_head, n_head_kv, head_dim;
  int n_tokens, first_pos;
  int window;
  float softcap;
};
// The key block is 64 keys and a tile at most 32 query rows; the key counts
// (first_pos + n_tokens) below are mostly not multiples of either.
const Case kCases[] = {
    {"decode_gqa_64", 32, 4, 64, 1, 200, 0, 0},
    {"decode_gqa_96_window", 32, 4, 96, 1, 150, 48, 0},
    {"decode_mha_80_softcap", 8, 8, 80, 1, 70, 0, 5.0f},
    {"decode_first_position", 4, 2, 64, 1, 0, 0, 0},
    {"prefill_gqa_64", 32, 4, 64, 37, 0, 0, 0},
    {"prefill_gqa_80_continue", 16, 4, 80, 29, 45, 0, 0},
    {"prefill_mha_64_window_softcap", 6, 6, 64, 70, 13, 20, 7.5f},
    {"prefill_gqa_96_window_continue", 8, 2, 96, 33, 100, 64, 0},
    {"prefill_mqa_72_softcap", 12, 1, 72, 41, 3, 0, 30.0f},  // 72: a tail past the last 8 columns
    {"prefill_gqa_48_odd_rows", 18, 3, 48, 21, 5, 0, 0},      // tiles of 30 rows: not whole 4-row groups
};

struct Inputs {
  std::vector<float> q;                   // n_tokens x n_head x head_dim
  std::vector<uint8_t> k_rows, v_rows;    // stored cache rows
  std::vector<float> k_float, v_float;    // the same rows decoded
  KvView k, v;
};

Inputs make_inputs(const Case& c, Type type, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  const int n_pos = c.first_pos + c.n_tokens, row = c.n_head_kv * c.head_dim;
  const size_t row_bytes = quant::row_bytes(quant::traits(type), row);
  Inputs in;
  // Scores of std ~ 0.5 * sqrt(head_dim): softmaxes from peaked to flat across the rows.
  in.q.resize((size_t)c.n_tokens * c.n_head * c.head_dim);
  for (float& x : in.q) x = 0.5f * normal(rng);
  in.k_rows.resize(n_pos * row_bytes);
  in.v_rows.resize(n_pos * row_bytes);
  in.k_float.resize((size_t)n_pos * row);
  in.v_float.resize((size_t)n_pos * row);
  std::vector<float> x(row);
  for (int p = 0; p < n_pos; p++)
    for (auto [bytes, decoded] : {std::pair{&in.k_rows, &in.k_float}, std::pair{&in.v_rows, &in.v_float}}) {
      for (float& e : x) e = normal(rng);
      quant::quantize_row(type, x.data(), bytes->data() + p * row_bytes, row);
      quant::dequantize_row(type, bytes->data() + p * row_bytes, decoded->data() + (size_t)p * row, row);
    }
  in.k = {type, in.k_rows.data(), row_bytes};
  in.v = {type, in.v_rows.data(), row_bytes};
  return in;
}

AttentionShape shape_of(const Case& c) { return {c.n_head, c.n_head_kv, c.head_dim, c.softcap, c.window}; }

std::vector<float> run(Isa isa, const Case& c, const Inputs& in, int n_threads) {
  ThreadPool pool(n_threads);
  std::vector<float> out(in.q.size(), NAN);
  attention(isa, shape_of(c), in.q.data(), c.n_tokens, c.first_pos, in.k, in.v, out.data(), pool);
  return out;
}

// Textbook attention in float64 over the decoded rows.
std::vector<double> naive(const Case& c, const Inputs& in) {
  const int d = c.head_dim, group = c.n_head / c.n_head_kv, row = c.n_head_kv * d;
  std::vector<double> out(in.q.size());
  for (int t = 0; t < c.n_tokens; t++)
    for (int h = 0; h < c.n_head; h++) {
      const int pos = c.first_pos + t, lo = c.window > 0 ? std::max(0, pos - c.window + 1) : 0;
      const float* q = &in.q[((size_t)t * c.n_head + h) * d];
      const size_t head = (size_t)(h / group) * d;
      std::vector<double> s;
      for (int k = lo; k <= pos; k++) {
        double dot = 0;
        for (int i = 0; i < d; i++) dot += (double)q[i] * in.k_float[(size_t)k * row + head + i];
        s.push_back(c.softcap > 0 ? c.softcap * std::tanh(dot / c.softcap) : dot);
      }
      const double max = *std::max_element(s.begin(), s.end());
      double sum = 0;
      for (double& e : s) sum += (e = std::exp(e - max));
      double* o = &out[((size_t)t * c.n_head + h) * d];
      for (int k = lo; k <= pos; k++)
        for (int i = 0; i < d; i++) o[i] += s[k - lo] / sum * in.v_float[(size_t)k * row + head + i];
    }
  return out;
}

float max_abs(const std::vector<float>& x) {
  float m = 0;
  for (float e : x) m = std::max(m, std::fabs(e));
  return m;
}

template <typename A, typename B>
double max_diff(const A& a, const B& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); i++) {
    const double diff = std::fabs((double)a[i] - (double)b[i]);
    if (!(diff <= worst)) worst = diff;  // a NaN wins
  }
  return worst;
}

const Type kCacheTypes[] = {Type::F32, Type::F16, Type::Q8_0, Type::Q4_0};

bool row_fits(const Case& c, Type type) { return (c.n_head_kv * c.head_dim) % quant::traits(type).block_elems == 0; }

std::string label(const Case& c, Type type) { return std::string(c.name) + "/" + std::string(quant::type_name(type)); }

// The output is a convex combination of value rows, so errors are measured against
// the largest |value|. SIMD and reference differ in float summation order (dots of
// head_dim <= 96 terms, probability sums) and in the exp of the softmax (a polynomial
// within 2 ulp of expf): measured <= 1.7e-6 of max |v| over this table with std::exp
// on both sides, so 2e-5 is a >10x margin, while a wrong or missing key moves outputs
// by ~1e-2 or more.
constexpr double kSimdTolerance = 2e-5;
// Reference (float) vs float64: float rounding alone, measured <= 1.9e-6 of max |v|.
constexpr double kNaiveTolerance = 1e-5;

TEST(Attention, SimdMatchesReference) {
  const auto isas = test::simd_isas();
  if (isas.empty()) GTEST_SKIP() << "no SIMD ISA on this CPU";
  uint32_t seed = 1;
  for (const Case& c : kCases)
    for (Type type : kCacheTypes) {
      if (!row_fits(c, type)) continue;
      const Inputs in = make_inputs(c, type, seed++);
      const auto ref = run(Isa::Ref, c, in, 2);
      const double scale = max_abs(in.v_float);
      for (Isa isa : isas) {
        const auto simd = run(isa, c, in, 2);
        EXPECT_LE(max_diff(simd, ref), kSimdTolerance * scale) << label(c, type) << " on " << isa_name(isa);
      }
    }
}

TEST(Attention, ReferenceMatchesFloat64) {
  uint32_t seed = 100;
  for (const Case& c : kCases)
    for (Type type : {Type::F32, Type::F16, Type::Q8_0}) {
      if (!row_fits(c, type)) continue;
      const Inputs in = make_inputs(c, type, seed++);
      EXPECT_LE(max_diff(run(Isa::Ref, c, in, 2), naive(c, in)), kNaiveTolerance * max_abs(in.v_float))
          << label(c, type);
    }
}

TEST(Attention, ThreadCountDoesNotChangeTheResult) {
  // Thread counts change how a group's heads are split into tiles, not what a row computes
  // (up to the SIMD row-block summation order).
  const Case& c = kCases[0];
  const Inputs in = make_inputs(c, Type::F16, 7);
  const auto one = run(active_isa(), c, in, 1);
  for (int n : {2, 3, 8}) EXPECT_LE(max_diff(run(active_isa(), c, in, n), one), kSimdTolerance * max_abs(in.v_float));
}

TEST(Attention, WindowAndSoftcapChangeTheResult) {
  // Guards the table above against options that silently do nothing.
  const Case base = {"base", 8, 2, 64, 20, 30, 0, 0};
  Case windowed = base, capped = base;
  windowed.window = 8;
  capped.softcap = 2.0f;
  const Inputs in = make_inputs(base, Type::F32, 9);
  const auto plain = run(Isa::Ref, base, in, 2);
  EXPECT_GT(max_diff(run(Isa::Ref, windowed, in, 2), plain), 1e-2);
  EXPECT_GT(max_diff(run(Isa::Ref, capped, in, 2), plain), 1e-2);
}

TEST(Attention, UnevenHeadGroupsAreAnError) {
  const Case c = {"uneven", 6, 4, 64, 1, 0, 0, 0};
  const Inputs in = make_inputs({"even", 4, 4, 64, 1, 0, 0, 0}, Type::F32, 3);
  ThreadPool pool(1);
  std::vector<float> out(6 * 64);
  EXPECT_THROW(attention(Isa::Ref, shape_of(c), out.data(), 1, 0, in.k, in.v, out.data(), pool), Error);
}

}  // namespace
}  // namespace tandem::kernels
