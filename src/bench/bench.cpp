#include "bench/bench.h"

#include <algorithm>
#include <chrono>

#include "bench/bandwidth.h"
#include "core/error.h"
#include "generate/sampler.h"
#include "model/weights.h"

namespace tandem::bench {

Stats summarize(int tokens, std::vector<double> rates) {
  Stats s;
  s.tokens = tokens;
  if (rates.empty()) return s;
  std::sort(rates.begin(), rates.end());
  s.min = rates.front();
  s.median = rates[rates.size() / 2];
  s.max = rates.back();
  return s;
}

namespace {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Deterministic ids spread over the vocabulary; the values do not affect the work done.
std::vector<int32_t> bench_tokens(int n, int n_vocab) {
  std::vector<int32_t> tokens(n);
  for (int i = 0; i < n; i++) tokens[i] = (int32_t)((1 + (uint64_t)i * 7919) % (uint64_t)n_vocab);
  return tokens;
}

}  // namespace

BenchResult run_bench(const std::shared_ptr<const model::Model>& model, const BenchOptions& o) {
  if (o.prompt_tokens < 0 || o.gen_tokens < 1 || o.repetitions < 1 || o.threads < 1)
    fail("bench: -n, -r and -t must be positive, -p 0 or more (0 skips the prompt test)");
  // A context just big enough: the KV cache of a 13B model at its full 4096 would be 6 GiB.
  model::Context ctx(model, {.n_ctx = std::max(o.prompt_tokens, o.gen_tokens), .n_threads = o.threads});
  // tg decodes these too, so there is at least one even when pp is skipped (-p 0, as llama-bench).
  const auto prompt = bench_tokens(std::max(o.prompt_tokens, 1), ctx.n_vocab());
  generate::SamplerOptions sampling;
  sampling.seed = 1;
  generate::Sampler sampler(sampling);
  std::vector<double> pp, tg, waits, samples, overheads, bandwidths, fractions;
  int64_t regions = 0;
  for (int rep = 0; rep <= o.repetitions; rep++) {  // rep 0 is the warm-up
    ctx.truncate(0);
    auto start = std::chrono::steady_clock::now();
    if (o.prompt_tokens > 0) ctx.eval(prompt);
    const double pp_seconds = seconds_since(start);

    const double bandwidth = o.bytes_per_token == 0 || rep == 0 ? 0
        : read_bandwidth_gbs({.threads = o.threads, .buffer_bytes = o.bandwidth_buffer_bytes, .repetitions = 3});
    ctx.truncate(0);
    ctx.track_thread_waits(true);
    ctx.reset_thread_waits();
    start = std::chrono::steady_clock::now();
    for (int i = 0; i < o.gen_tokens; i++) ctx.eval(std::span(&prompt[i % prompt.size()], 1));
    const double tg_seconds = seconds_since(start);
    ctx.track_thread_waits(false);
    const ThreadPool::WaitStats waited = ctx.thread_waits();

    // Sampling, timed apart so tg stays comparable with llama-bench's.
    start = std::chrono::steady_clock::now();
    int32_t chosen = 0;
    for (int i = 0; i < o.gen_tokens; i++) chosen += sampler.sample(ctx.logits(0), ctx.n_vocab());
    const double sampling_seconds = seconds_since(start);
    if (chosen < 0) fail("bench: the sampler returned a negative id");
    if (rep > 0) {
      if (o.prompt_tokens > 0) pp.push_back(o.prompt_tokens / pp_seconds);
      tg.push_back(o.gen_tokens / tg_seconds);
      waits.push_back(waited.wait_seconds / o.gen_tokens);
      samples.push_back(sampling_seconds / o.gen_tokens);
      overheads.push_back((waited.wait_seconds + sampling_seconds) / (tg_seconds + sampling_seconds));
      regions = waited.regions / o.gen_tokens;
      if (bandwidth > 0) {
        bandwidths.push_back(bandwidth);
        fractions.push_back(tg.back() / (bandwidth * 1e9 / double(o.bytes_per_token)));
      }
    }
  }
  BenchResult result{o.threads, summarize(o.prompt_tokens, pp), summarize(o.gen_tokens, tg), {}};
  result.overhead = {.token_us = 1e6 / result.tg.median,
                     .sync_wait_us = 1e6 * median(waits),
                     .sampling_us = 1e6 * median(samples),
                     .regions = regions,
                     .fraction = median(overheads)};
  result.bandwidth_gbs = median(bandwidths);
  result.tg_roofline_fraction = median(fractions);
  return result;
}

uint64_t weight_bytes_per_token(const model::Model& model) {
  const model::Weights& w = model.weights();
  uint64_t total = 0;
  for (const auto& t : model.file().tensors()) {
    const bool matrix = t.dims.size() >= 2 && t.rows() > 1;
    if (!matrix) continue;
    if (&t == w.token_embd && w.output != w.token_embd) continue;
    total += t.n_bytes;
  }
  return total;
}

}  // namespace tandem::bench
