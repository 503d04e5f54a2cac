#include "bench/speculative_bench.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "generate/generation.h"
#include "tokenizer/tokenizer.h"

namespace tandem::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

std::vector<int32_t> repetitive_prompt(int n, int n_vocab) {
  const int block = std::max(1, n / 4);
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) tokens[size_t(i)] = int32_t((1 + uint64_t(i % block) * 7919) % uint64_t(n_vocab));
  return tokens;
}

}  // namespace

SpeculativeBenchResult run_speculative_bench(const std::shared_ptr<const model::Model>& model,
                                             const SpeculativeBenchOptions& o) {
  if (o.prompt_tokens < 4 || o.gen_tokens < 1 || o.repetitions < 1 || o.threads < 1)
    fail("bench: -p must be at least 4 with --draft or --lookup; -n, -r and -t positive");
  if (!o.speculative.enabled()) fail("bench: speculative decoding needs --draft or --lookup");
  int max_k = o.speculative.k;
  for (int k : o.verify_k) max_k = std::max(max_k, k);
  const model::ContextOptions context_options{.n_ctx = o.prompt_tokens + o.gen_tokens + max_k + 1,
                                              .n_threads = o.threads};
  generate::Sequence sequence(model, context_options);
  std::unique_ptr<generate::Sequence> draft;
  if (o.speculative.method == generate::SpeculativeOptions::Method::DraftModel) {
    if (!o.draft) fail("bench: --draft needs a draft model");
    generate::check_draft_model(*model, *o.draft);
    draft = std::make_unique<generate::Sequence>(o.draft, context_options);
  }
  const auto tokenizer = tokenizer::Tokenizer::from_gguf(model->file());
  const std::vector<int32_t> prompt = repetitive_prompt(o.prompt_tokens, sequence.context().n_vocab());

  SpeculativeBenchResult result;
  result.threads = o.threads;

  // Verification cost: from the same cache of prompt_tokens positions, one decode step
  // against one pass over k + 1 tokens with every position's logits.
  model::Context& ctx = sequence.context();
  sequence.truncate(0);
  ctx.eval(prompt);
  const int base = ctx.n_past();
  std::vector<int32_t> verify_tokens(size_t(max_k + 1));
  for (size_t i = 0; i < verify_tokens.size(); i++) verify_tokens[i] = prompt[i % prompt.size()];
  std::vector<double> step;
  std::vector<std::vector<double>> passes(o.verify_k.size());
  for (int rep = 0; rep <= o.repetitions; rep++) {  // rep 0 is the warm-up
    auto start = Clock::now();
    ctx.eval(std::span(&prompt[0], 1));
    if (rep > 0) step.push_back(seconds_since(start));
    ctx.truncate(base);
    for (size_t i = 0; i < o.verify_k.size(); i++) {
      const std::span<const int32_t> batch(verify_tokens.data(), size_t(o.verify_k[i] + 1));
      start = Clock::now();
      ctx.eval(batch, true);
      if (rep > 0) passes[i].push_back(seconds_since(start));
      ctx.truncate(base);
    }
  }
  result.step_ms = 1e3 * median(step);
  for (size_t i = 0; i < o.verify_k.size(); i++) {
    const double pass_ms = 1e3 * median(passes[i]);
    result.verify.push_back({o.verify_k[i], pass_ms, pass_ms / result.step_ms});
  }

  // Greedy generation, plain and speculative, alternating (A B A B: the machine's speed moves).
  generate::GenerateOptions plain;
  plain.max_tokens = o.gen_tokens;
  plain.ignore_eos = true;
  plain.sampling.temperature = 0;
  generate::GenerateOptions speculative = plain;
  speculative.speculative = o.speculative;
  auto generate = [&](const generate::GenerateOptions& options, generate::Outcome& outcome) {
    sequence.truncate(0);
    if (draft) draft->truncate(0);
    generate::Generation generation(sequence, *tokenizer, prompt, options, nullptr, draft.get());
    const auto start = Clock::now();  // the prompt is evaluated: time the generated tokens only
    while (!generation.finished()) {
      generation.choose();
      if (generation.waiting_for_evaluation()) generation.evaluate();
    }
    const double seconds = seconds_since(start);
    outcome = generation.outcome();
    return double(generation.tokens().size()) / seconds;
  };
  std::vector<double> plain_rates, speculative_rates;
  generate::Outcome outcome;
  for (int rep = 0; rep <= o.repetitions; rep++) {
    const double plain_rate = generate(plain, outcome);
    const double speculative_rate = generate(speculative, outcome);
    if (rep == 0) continue;
    plain_rates.push_back(plain_rate);
    speculative_rates.push_back(speculative_rate);
  }
  result.plain = summarize(o.gen_tokens, plain_rates);
  result.speculative = summarize(o.gen_tokens, speculative_rates);
  result.speedup = result.speculative.median / result.plain.median;
  result.drafted = outcome.n_drafted;
  result.accepted = outcome.n_draft_accepted;
  result.verify_passes = outcome.n_verify_passes;
  result.acceptance = outcome.n_drafted > 0 ? double(outcome.n_draft_accepted) / outcome.n_drafted : 0;
  return result;
}

}  // namespace tandem::bench
