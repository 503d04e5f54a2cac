#include "router/pricing.h"

namespace tandem::router {

double CloudPrice::cost_fen(int64_t input_tokens, int64_t output_tokens) const {
  // long double keeps sums of many small per-token prices from drifting.
  const long double cost = (long double)per_call_fen + (long double)input_tokens * per_1k_input_fen / 1000.0L +
                           (long double)output_tokens * per_1k_output_fen / 1000.0L;
  return double(cost);
}

}  // namespace tandem::router
