#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "quant/reference.h"

namespace tandem::kernels {
namespace {

// Query rows per tile: enough that a key row read from memory serves many queries,
// few enough that the tile's queries, scores and outputs stay in L1.
constexpr int kMaxTileRows = 32;
// Keys per block of the online softmax.
constexpr int kKeyBlock = 64;

// ---- Portable reference kernels: plain float loops, in order. ----

// A key or value row as floats: F32 rows in place, F16 rows converted once into
// `buffer` so every query row of the tile reuses the conversion.
template <typename Elem>
const float* row_floats(const void* row, int head_dim, std::vector<float>& buffer) {
  if constexpr (sizeof(Elem) == 2) {
    buffer.resize(head_dim);
    for (int c = 0; c < head_dim; c++) buffer[c] = fp16_to_fp32(static_cast<const uint16_t*>(row)[c]);
    return buffer.data();
  } else {
    return static_cast<const float*>(row);
  }
}

template <typename Elem>
void scores_ref(const float* q, int n_q, const void* k, size_t k_row_bytes, int n_k, int head_dim, float* scores) {
  thread_local std::vector<float> converted;
  for (int j = 0; j < n_k; j++) {
    const float* key = row_floats<Elem>(static_cast<const uint8_t*>(k) + j * k_row_bytes, head_dim, converted);
    for (int i = 0; i < n_q; i++) {
      const float* qi = q + (size_t)i * head_dim;
      float dot = 0;
      for (int c = 0; c < head_dim; c++) dot += qi[c] * key[c];
      scores[(size_t)i * n_k + j] = dot;
    }
  }
}

template <typename Elem>
void accumulate_ref(float* out, int n_q, const float* p, const void* v, size_t v_row_bytes, int n_k, int head_dim) {
  thread_local std::vector<float> converted;
  for (int j = 0; j < n_k; j++) {
    const float* value = row_floats<Elem>(static_cast<const uint8_t*>(v) + j * v_row_bytes, head_dim, converted);
    for (int i = 0; i < n_q; i++) {
      const float w = p[(size_t)i * n_k + j];
      float* oi = out + (size_t)i * head_dim;
      for (int c = 0; c < head_dim; c++) oi[c] += w * value[c];
    }
  }
}

const AttentionTileKernels& tile_kernels(Isa isa) {
#if defined(__x86_64__)
  if (isa == Isa::Avx2 || isa == Isa::Avx512) return detail::kAttentionAvx2;
#endif
#if defined(__aarch64__)
  if (isa == Isa::Neon) return detail::kAttentionNeon;
#endif
  (void)isa;
  return detail::kAttentionRef;
}

// One key block of one KV head as the tile kernels read it: rows in place for
// F32/F16, otherwise dequantized into `buffer` (head_dim floats a row).
struct RowBlock {
  const void* rows;
  size_t row_bytes;
  bool half;
};

RowBlock key_block(const KvView& view, int kv_head, int head_dim, int first, int count, std::vector<float>& buffer,
                   std::vector<float>& whole_row) {
  const size_t head_offset = (size_t)kv_head * head_dim;
  if (view.type == quant::Type::F32)
    return {view.base + first * view.row_bytes + head_offset * sizeof(float), view.row_bytes, false};
  if (view.type == quant::Type::F16)
    return {view.base + first * view.row_bytes + head_offset * sizeof(uint16_t), view.row_bytes, true};
  const auto& traits = quant::traits(view.type);
  buffer.resize((size_t)count * head_dim);
  for (int i = 0; i < count; i++) {
    const uint8_t* row = view.base + (size_t)(first + i) * view.row_bytes;
    float* dst = buffer.data() + (size_t)i * head_dim;
    if (head_dim % traits.block_elems == 0) {  // the head is whole blocks: decode just those
      quant::dequantize_row(view.type, row + head_offset / traits.block_elems * traits.block_bytes, dst, head_dim);
    } else {
      const int64_t row_elems = (int64_t)(view.row_bytes / traits.block_bytes) * traits.block_elems;
      whole_row.resize(row_elems);
      quant::dequantize_row(view.type, row, whole_row.data(), row_elems);
      std::copy_n(whole_row.data() + head_offset, head_dim, dst);
    }
  }
  return {buffer.data(), head_dim * sizeof(float), false};
}

float exp_sum_ref(float* x, int n, float max) {
  float sum = 0;
  for (int j = 0; j < n; j++) {
    x[j] = std::exp(x[j] - max);
    sum += x[j];
  }
  return sum;
}

// Per-thread buffers, reused across calls so a decode step allocates nothing.
struct TileBuffers {
  std::vector<float> q, out, scores, keys, values, whole_row;
  std::vector<float> max, sum;
  std::vector<int> first_key, last_key;
};

struct TileJob {
  int first_token, n_tokens;  // tokens of the tile
  int first_head, n_heads;    // query heads of the tile, all sharing kv_head
  int kv_head;
};

// Online softmax over key blocks for one tile: rows are (token, head) pairs,
// token-major, so row r is token first_token + r / n_heads, head first_head + r % n_heads.
void run_tile(const AttentionTileKernels& kern, const AttentionShape& s, const float* q, int first_pos,
              const KvView& kv_k, const KvView& kv_v, float* out, const TileJob& job, TileBuffers& b) {
  const int d = s.head_dim, n_rows = job.n_tokens * job.n_heads;
  const size_t q_stride = (size_t)s.n_head * d;
  b.q.resize((size_t)n_rows * d);
  b.out.assign((size_t)n_rows * d, 0.0f);
  b.scores.resize((size_t)n_rows * kKeyBlock);
  b.max.assign(n_rows, -std::numeric_limits<float>::infinity());
  b.sum.assign(n_rows, 0.0f);
  b.first_key.resize(n_rows);
  b.last_key.resize(n_rows);
  for (int r = 0; r < n_rows; r++) {
    const int t = job.first_token + r / job.n_heads, h = job.first_head + r % job.n_heads;
    std::copy_n(q + t * q_stride + (size_t)h * d, d, b.q.data() + (size_t)r * d);
    const int pos = first_pos + t;
    b.first_key[r] = s.window > 0 ? std::max(0, pos - s.window + 1) : 0;
    b.last_key[r] = pos;
  }
  const int tile_first = b.first_key[0], tile_last = b.last_key[n_rows - 1];

  for (int k0 = tile_first; k0 <= tile_last; k0 += kKeyBlock) {
    const int nk = std::min(kKeyBlock, tile_last + 1 - k0);
    const RowBlock keys = key_block(kv_k, job.kv_head, d, k0, nk, b.keys, b.whole_row);
    (keys.half ? kern.scores_f16 : kern.scores_f32)(b.q.data(), n_rows, keys.rows, keys.row_bytes, nk, d,
                                                    b.scores.data());
    for (int r = 0; r < n_rows; r++) {
      float* sr = b.scores.data() + (size_t)r * nk;
      // Keys of the block this row sees: [lo, hi) relative to k0.
      const int lo = std::clamp(b.first_key[r] - k0, 0, nk), hi = std::clamp(b.last_key[r] + 1 - k0, lo, nk);
      if (s.softcap > 0)
        for (int j = lo; j < hi; j++) sr[j] = s.softcap * std::tanh(sr[j] / s.softcap);
      float block_max = -std::numeric_limits<float>::infinity();
      for (int j = lo; j < hi; j++) block_max = std::max(block_max, sr[j]);
      const float new_max = std::max(b.max[r], block_max);
      if (lo == hi || new_max == -std::numeric_limits<float>::infinity()) {
        std::fill(sr, sr + nk, 0.0f);
        continue;
      }
      if (new_max > b.max[r]) {  // rescale what was accumulated against the old maximum
        const float correction = std::exp(b.max[r] - new_max);
        b.sum[r] *= correction;
        float* o = b.out.data() + (size_t)r * d;
        for (int c = 0; c < d; c++) o[c] *= correction;
        b.max[r] = new_max;
      }
      std::fill(sr, sr + lo, 0.0f);
      const float sum = kern.exp_sum(sr + lo, hi - lo, new_max);
      std::fill(sr + hi, sr + nk, 0.0f);
      b.sum[r] += sum;
    }
    const RowBlock values = key_block(kv_v, job.kv_head, d, k0, nk, b.values, b.whole_row);
    (values.half ? kern.accumulate_f16 : kern.accumulate_f32)(b.out.data(), n_rows, b.scores.data(), values.rows,
                                                              values.row_bytes, nk, d);
  }

  for (int r = 0; r < n_rows; r++) {
    const int t = job.first_token + r / job.n_heads, h = job.first_head + r % job.n_heads;
    const float inv = 1.0f / b.sum[r];  // every row sees at least its own position
    const float* o = b.out.data() + (size_t)r * d;
    float* dst = out + t * q_stride + (size_t)h * d;
    for (int c = 0; c < d; c++) dst[c] = o[c] * inv;
  }
}

void check_view(const KvView& view, const char* what) {
  if (view.type != quant::Type::F32 && view.type != quant::Type::F16 && !quant::has_reference(view.type))
    fail("attention: ", what, " rows of type ", quant::type_name(view.type), " cannot be read");
}

}  // namespace

namespace detail {
const AttentionTileKernels kAttentionRef = {scores_ref<float>, scores_ref<uint16_t>, accumulate_ref<float>,
                                            accumulate_ref<uint16_t>, exp_sum_ref};
}  // namespace detail

void attention(Isa isa, const AttentionShape& s, const float* q, int n_tokens, int first_pos, const KvView& k,
               const KvView& v, float* out, ThreadPool& pool) {
  if (n_tokens <= 0) return;
  if (s.n_head_kv <= 0 || s.n_head % s.n_head_kv != 0)
    fail("attention: ", s.n_head, " query heads do not split evenly over ", s.n_head_kv, " KV heads");
  check_view(k, "key");
  check_view(v, "value");
  const AttentionTileKernels& kern = tile_kernels(isa);
  const int group = s.n_head / s.n_head_kv;

  // A tile is some tokens times the query heads of one KV head; with few KV heads and
  // few tiles (decode), the group is split so every thread still gets work.
  const int tokens_per_tile = std::clamp(kMaxTileRows / group, 1, n_tokens);
  const int n_tiles = (n_tokens + tokens_per_tile - 1) / tokens_per_tile;
  int heads_per_tile = group;
  while ((int64_t)s.n_head_kv * (group / heads_per_tile) * n_tiles < pool.size() && heads_per_tile % 2 == 0)
    heads_per_tile /= 2;
  const int subgroups = group / heads_per_tile;
  const int64_t jobs_per_tile = (int64_t)s.n_head_kv * subgroups;

  pool.parallel_for(jobs_per_tile * n_tiles, [&](int64_t begin, int64_t end, int) {
    thread_local TileBuffers buffers;
    for (int64_t i = begin; i < end; i++) {
      // Later tiles see more keys (causal); interleaving first and last tiles gives
      // each thread's contiguous range a similar amount of work.
      const int slot = (int)(i / jobs_per_tile);
      const int tile = slot % 2 == 0 ? slot / 2 : n_tiles - 1 - slot / 2;
      const int within = (int)(i % jobs_per_tile);
      TileJob job;
      job.first_token = tile * tokens_per_tile;
      job.n_tokens = std::min(tokens_per_tile, n_tokens - job.first_token);
      job.kv_head = within / subgroups;
      job.n_heads = heads_per_tile;
      job.first_head = job.kv_head * group + (within % subgroups) * heads_per_tile;
      run_tile(kern, s, q, first_pos, k, v, out, job, buffers);
    }
  });
}

void attention(const AttentionShape& shape, const float* q, int n_tokens, int first_pos, const KvView& k,
               const KvView& v, float* out, ThreadPool& pool) {
  attention(active_isa(), shape, q, n_tokens, first_pos, k, v, out, pool);
}

}  // namespace tandem::kernels
