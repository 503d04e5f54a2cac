#include "generate/perplexity.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace tandem::generate {

PerplexityResult perplexity(std::shared_ptr<const model::Model> model, const std::vector<int32_t>& tokens, int n_ctx,
                            int n_threads, quant::Type kv_type) {
  if (tokens.size() < 2) fail("perplexity needs at least 2 tokens, got ", tokens.size());
  if (n_ctx < 2) fail("perplexity needs a context of at least 2 tokens, got ", n_ctx);
  model::Context ctx(model, {.n_ctx = n_ctx, .n_threads = n_threads, .kv_type = kv_type});
  const int n_vocab = ctx.n_vocab();
  PerplexityResult r;
  double total = 0;
  for (size_t start = 0; start + 1 < tokens.size(); start += n_ctx) {
    const size_t len = std::min<size_t>(n_ctx, tokens.size() - start);
    if (len < 2) break;
    ctx.truncate(0);
    ctx.eval(std::span<const int32_t>(tokens.data() + start, len), /*all_logits=*/true);
    for (size_t i = 0; i + 1 < len; i++) {
      const float* logits = ctx.logits((int)i);
      const float max = *std::max_element(logits, logits + n_vocab);
      double sum = 0;
      for (int v = 0; v < n_vocab; v++) sum += std::exp((double)logits[v] - max);
      const double log_prob = (double)logits[tokens[start + i + 1]] - max - std::log(sum);
      total -= log_prob;
      r.n_scored++;
    }
    r.n_windows++;
  }
  r.mean_nll = total / (double)r.n_scored;
  r.perplexity = std::exp(r.mean_nll);
  return r;
}

}  // namespace tandem::generate
