// What one call to a cloud endpoint costs, in fen (1 yuan = 100 fen): a flat
// per-call price plus optional per-token prices, as cloud price lists quote them.
#pragma once
#include <cstdint>

namespace tandem::router {

struct CloudPrice {
  double per_call_fen = 0, per_1k_input_fen = 0, per_1k_output_fen = 0;
  double cost_fen(int64_t input_tokens, int64_t output_tokens) const;
};

}  // namespace tandem::router
