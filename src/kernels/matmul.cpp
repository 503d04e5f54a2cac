#include "kernels/matmul.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "core/error.h"
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

// Quantized activations for the calling thread, reused across calls (64-byte aligned);
// one buffer per activation format and arrangement (as quantized, regrouped for a gemv,
// prepared for a gemm by one of up to kMaxPrepares functions), so several matrices of one
// call can share each without clobbering another's.
constexpr int kMaxPrepares = 2;
enum class Arrangement { Quantized, Regrouped, Prepared };
uint8_t* activation_buffer(ActFormat format, Arrangement arrangement, size_t bytes, int prepare_index = 0) {
  constexpr int kSlots = kActFormats * (2 + kMaxPrepares);
  thread_local std::unique_ptr<uint8_t[]> storage[kSlots];
  thread_local size_t capacity[kSlots] = {};
  const int slot = (int)format + kActFormats * ((int)arrangement + prepare_index);
  if (bytes + 64 > capacity[slot]) {
    capacity[slot] = bytes + 64;
    storage[slot].reset(new uint8_t[capacity[slot]]);
  }
  const uintptr_t p = (uintptr_t)storage[slot].get();
  return (uint8_t*)((p + 63) & ~(uintptr_t)63);
}

// Rows per work item. Prefill hands them out as a region drains (guided scheduling): a
// share of what is left, so the first items are large (fewer calls and tile edges) and
// the last small, and the threads finish together instead of one idling while the other
// ends a large item (with equal items of 1/16 of a matrix that idle was ~3% of a 2-thread
// prefill); multiples of 48 rows, whole 3-row tiles and 64-byte lines of y. Decode reads
// each row once and is bound by memory: every item starts a new stream that the
// prefetchers must pick up, so its items are three quarters of a thread's share of what
// is left (multiples of 16 rows): few and long, with a small tail to even out the end.
// Against the prefill schedule, tg at 2 threads +1-10% (qwen2.5-0.5b the most); one even
// share per thread was as fast but left the thread that started first waiting at each
// region's end (qwen2.5-0.5b's per-token overhead 5.0-5.5%, against 1.3% now).
int64_t claim_rows(int64_t remaining, int n_threads, bool decode) {
  if (n_threads == 1) return remaining;
  if (decode) return (std::max<int64_t>(remaining * 3 / (4 * n_threads), 16) + 15) / 16 * 16;
  const int64_t share = std::clamp<int64_t>(remaining / (4 * n_threads), 48, 512);
  return (share + 47) / 48 * 48;
}

// One matrix of a shared-input matmul, resolved.
struct Job {
  const gguf::TensorInfo* w;
  float* y;
  const TypeKernels* kernels;
  int64_t k, rows, first_row;  // first_row: where its rows start in the call's sequence
  size_t row_bytes;
  const uint8_t* act;
  size_t act_stride;
};

}  // namespace

void matmul(const gguf::TensorInfo& w, const float* x, int n_tokens, float* y, ThreadPool& pool) {
  const MatmulTarget target{&w, y};
  matmul_same_input(std::span(&target, 1), x, n_tokens, pool);
}

void matmul_same_input(std::span<const MatmulTarget> targets, const float* x, int n_tokens, ThreadPool& pool) {
  const KernelTable* table = kernel_table(active_isa());
  std::vector<Job> jobs;
  jobs.reserve(targets.size());
  for (const MatmulTarget& t : targets) {
    const TypeKernels* kernels = table ? table->find(t.w->type) : nullptr;
    if (!kernels) {
      matmul_reference(*t.w, x, n_tokens, t.y, pool);
      continue;
    }
    const int64_t k = (int64_t)t.w->dims[0], rows = (int64_t)t.w->rows();
    jobs.push_back({t.w, t.y, kernels, k, rows, 0,
                    quant::row_bytes(quant::traits(t.w->type), k), nullptr, 0});
  }
  if (jobs.empty()) return;

  // Each activation format the jobs need, quantized once (all jobs read the same x).
  for (size_t j = 0; j < jobs.size(); j++) {
    Job& job = jobs[j];
    const ActFormat format = job.kernels->act;
    for (size_t e = 0; e < j && !job.act; e++)
      if (jobs[e].kernels->act == format) job.act = jobs[e].act, job.act_stride = jobs[e].act_stride;
    if (job.act) continue;
    if (format == ActFormat::F32) {
      job.act = (const uint8_t*)x, job.act_stride = (size_t)job.k * sizeof(float);
      continue;
    }
    const int64_t k = job.k;
    const size_t stride = act_row_bytes(format, k);
    uint8_t* buffer = activation_buffer(format, Arrangement::Quantized, stride * n_tokens);
    auto quantize = [&](int64_t begin, int64_t end, int) {
      for (int64_t t = begin; t < end; t++) quantize_act_row(*table, format, x + t * k, k, buffer + t * stride);
    };
    if (n_tokens >= 4) pool.parallel_for(n_tokens, quantize);
    else quantize(0, n_tokens, 0);
    job.act = buffer, job.act_stride = stride;
  }

  // Gemm kernels that read their rows in a layout of their own get them prepared here, once
  // (a decode step too, where a type's gemv is its gemm).
  // The jobs of one call share k and x, so there is one prepared layout per function.
  {
    struct Prepared {
      RegroupFn fn;
      const uint8_t* rows;
      size_t stride;
    };
    Prepared done[kMaxPrepares];
    int n_done = 0;
    for (Job& job : jobs) {
      const GemmPrepare prepare = job.kernels->gemm_prepare;
      const bool calls_gemm = n_tokens > 1 || job.kernels->gemv == job.kernels->gemm;
      if (!prepare.row || !calls_gemm) continue;
      const Prepared* it = std::find_if(done, done + n_done, [&](const Prepared& p) { return p.fn == prepare.row; });
      if (it == done + n_done) {
        if (n_done == kMaxPrepares) throw Error("matmul: more than 2 prepared activation layouts in one call");
        const size_t stride = prepare.row_bytes(job.k);
        uint8_t* out = activation_buffer(job.kernels->act, Arrangement::Prepared, stride * n_tokens, n_done);
        const uint8_t* src = job.act;
        const size_t src_stride = job.act_stride;
        const int64_t k = job.k;
        auto rows = [&](int64_t begin, int64_t end, int) {
          for (int64_t t = begin; t < end; t++) prepare.row(src + t * src_stride, k, out + t * stride);
        };
        if (n_tokens >= 4) pool.parallel_for(n_tokens, rows);
        else rows(0, n_tokens, 0);
        done[n_done] = {prepare.row, out, stride};
        it = done + n_done++;
      }
      job.act = it->rows, job.act_stride = it->stride;
    }
  }

  // Decode kernels that read their row in another order get it rearranged here, once.
  if (n_tokens == 1) {
    const uint8_t* regrouped = nullptr;
    RegroupFn done = nullptr;
    for (Job& job : jobs) {
      const RegroupFn regroup = job.kernels->gemv_regroup;
      if (!regroup || job.kernels->gemv == job.kernels->gemm) continue;
      if (regroup != done) {  // the jobs of one call share k, so one row per regroup function
        uint8_t* out = activation_buffer(job.kernels->act, Arrangement::Regrouped, job.act_stride);
        regroup(job.act, job.k, out);
        regrouped = out, done = regroup;
      }
      job.act = regrouped;
    }
  }

  // One parallel region: threads claim rows from all the jobs' rows in sequence.
  int64_t total = 0;
  for (Job& job : jobs) {
    job.first_row = total;
    total += job.rows;
  }
  std::atomic<int64_t> next{0};
  pool.parallel_for(pool.size(), [&](int64_t, int64_t, int) {
    size_t j = 0;
    int64_t at = next.load(std::memory_order_relaxed);
    while (at < total) {
      while (j + 1 < jobs.size() && at >= jobs[j + 1].first_row) j++;
      const Job& job = jobs[j];
      const int64_t claim = claim_rows(total - at, pool.size(), n_tokens == 1);
      const int64_t end = std::min(at + claim, job.first_row + job.rows);
      if (!next.compare_exchange_weak(at, end, std::memory_order_relaxed)) continue;  // at: the new cursor
      const int64_t r0 = at - job.first_row;
      const GemmFn gemm = n_tokens == 1 ? job.kernels->gemv : job.kernels->gemm;
      gemm(job.k, job.w->data + r0 * job.row_bytes, job.row_bytes, end - at, job.act, job.act_stride, n_tokens,
           job.y + r0, (size_t)job.rows);
      at = next.load(std::memory_order_relaxed);
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
