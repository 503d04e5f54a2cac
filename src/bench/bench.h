// llama-bench's two figures for Tandem: prompt processing (pp: P tokens in one
// Context::eval into an empty context) and token generation (tg: N single-token
// decode steps, no sampling), in tokens per second. Model load is excluded and a
// warm-up run of each comes first.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "model/context.h"

namespace tandem::bench {

struct Stats {
  int tokens = 0;
  double min = 0, median = 0, max = 0;  // tokens per second
};

// min, median (the upper one for an even count, as the peer script takes it), max.
Stats summarize(int tokens, std::vector<double> rates);

struct BenchOptions {
  int prompt_tokens = 128;
  int gen_tokens = 64;
  int threads = 1;
  int repetitions = 5;
  // The roofline: the read bandwidth is probed before each repetition's tg (the machine's
  // bandwidth moves with its neighbours; tg is compared with what it had at the time).
  size_t bandwidth_buffer_bytes = 0;  // BandwidthOptions::buffer_bytes
  uint64_t bytes_per_token = 0;       // weight_bytes_per_token; 0: no roofline
};

// What a generated token costs besides the forward pass, per token (medians over the
// repetitions): the calling thread's wait at the thread pool's region ends, and drawing
// the token from the logits with the default sampler (top_k 40, top_p 0.95, min_p 0.05,
// temperature 0.8), which tg itself leaves out as llama-bench does. The logits are the
// output matrix's rows, written in place: there is no copy to count.
struct TokenOverhead {
  double token_us = 0;      // one decode step (1e6 / tg median)
  double sync_wait_us = 0;  // of which waiting for the other threads
  double sampling_us = 0;   // on top of it
  int64_t regions = 0;      // parallel regions per decode step
  // (wait + sampling) / (decode step + sampling), the median of each repetition's own ratio
  // (so a wait is always compared with the step it was part of).
  double fraction = 0;
};

struct BenchResult {
  int threads = 0;
  Stats pp, tg;
  TokenOverhead overhead;
  double bandwidth_gbs = 0;         // median over the repetitions
  double tg_roofline_fraction = 0;  // median of each repetition's tg / (its bandwidth / bytes per token)
};

BenchResult run_bench(const std::shared_ptr<const model::Model>& model, const BenchOptions& options);

// Bytes of weights one decode step reads: every matrix including the output matrix,
// but not the token embedding table, of which only one row is gathered (unless it
// is also the output matrix).
uint64_t weight_bytes_per_token(const model::Model& model);

}  // namespace tandem::bench
