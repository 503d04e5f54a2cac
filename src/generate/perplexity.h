// Mean negative log-likelihood of a token sequence under a model: each token is
// scored given all the tokens before it in its window.
#pragma once
#include <cstdint>
#include <vector>

#include "model/context.h"

namespace tandem::generate {

struct PerplexityResult {
  double mean_nll = 0;     // natural log
  double perplexity = 0;   // exp(mean_nll)
  int64_t n_scored = 0;
  int n_windows = 0;
};

// Splits `tokens` into consecutive windows of at most n_ctx tokens. Within a window
// every token after the first is scored given its prefix in that window (the first
// has no prefix there). A sequence that fits one window scores tokens 1..n-1.
PerplexityResult perplexity(std::shared_ptr<const model::Model> model, const std::vector<int32_t>& tokens, int n_ctx,
                            int n_threads, quant::Type kv_type = quant::Type::F32);

}  // namespace tandem::generate
