// --mem-budget for `tandem serve`: the plan of the whole server (weights once, a KV
// cache and scratch buffers per slot) checked from the GGUF header before loading.
#pragma once
#include <cstdint>
#include <string>

namespace tandem::server {

// Returns the context per slot to use (n_ctx, or the default when 0); a
// tandem::Error saying what would fit (a smaller context, fewer slots) when the
// plan is over the budget.
int check_serve_budget(const std::string& model_path, int n_ctx, int n_slots, uint64_t budget);

}  // namespace tandem::server
