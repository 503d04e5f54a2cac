// --mem-budget for `tandem serve`: the plan of the whole server (weights once, a KV
// cache and scratch buffers per slot) checked from the GGUF header before loading.
#pragma once
#include <cstdint>
#include <string>

namespace tandem::server {

// Returns the context per slot to use (n_ctx, or the default when 0); a
// tandem::Error saying what would fit (a smaller context, fewer slots) when the
// plan is over the budget. A draft model (speculative decoding, "" : none) counts
// too: its weights once and a draft sequence of the same context per slot.
int check_serve_budget(const std::string& model_path, int n_ctx, int n_slots, uint64_t budget,
                       const std::string& draft_path = "");

}  // namespace tandem::server
