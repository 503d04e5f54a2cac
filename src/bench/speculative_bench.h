// The two figures issue 21 asks of speculative decoding, for `tandem bench --draft/--lookup`:
// what verifying k drafted tokens costs against one decode step (the target evaluates
// the pending token and the k drafts in one pass), and the generation speed with the
// drafter beside plain greedy decoding on the same prompt, with the acceptance rate that
// produced it. Random weights make acceptance rates meaningless as a headline: read the
// speed-up against the acceptance rate, and the verification cost, not one number.
#pragma once
#include <memory>
#include <vector>

#include "bench/bench.h"
#include "generate/speculative.h"
#include "model/context.h"

namespace tandem::bench {

struct SpeculativeBenchOptions {
  int prompt_tokens = 128;
  int gen_tokens = 64;
  int threads = 1;
  int repetitions = 5;
  generate::SpeculativeOptions speculative;       // DraftModel or Lookup, with k and ngram
  std::shared_ptr<const model::Model> draft;      // required for DraftModel
  std::vector<int> verify_k = {2, 4, 8};          // drafted tokens per pass to time
};

struct VerifyCost {
  int k = 0;             // drafted tokens: the pass evaluates k + 1 (the pending token first)
  double pass_ms = 0;    // median time of that pass, all logits kept
  double ratio = 0;      // pass_ms / one decode step's median time
};

struct SpeculativeBenchResult {
  int threads = 0;
  double step_ms = 0;  // one decode step (median)
  std::vector<VerifyCost> verify;
  Stats plain, speculative;  // greedy generation, tokens per second (prompt excluded)
  double speedup = 0;        // speculative median / plain median
  int drafted = 0, accepted = 0, verify_passes = 0;  // of the last speculative repetition
  double acceptance = 0;     // accepted / drafted
};

// The prompt is a block of `prompt_tokens / 4` token ids repeated four times (a
// repetitive input, on which prompt lookup has something to find); generation is greedy
// with ignore_eos, so plain and speculative runs produce the same tokens.
SpeculativeBenchResult run_speculative_bench(const std::shared_ptr<const model::Model>& model,
                                             const SpeculativeBenchOptions& options);

}  // namespace tandem::bench
