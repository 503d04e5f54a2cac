// Keeping a run inside a memory budget: refuse before loading, saying what would
// fit, or (with fit) choose the largest context and KV type that fit.
#pragma once
#include <cstdint>
#include <string>

#include "quant/types.h"

namespace tandem::gguf {
class File;
}

namespace tandem::memory {

struct BudgetChoice {
  int n_ctx = 0;
  quant::Type kv_type = quant::Type::F16;
  uint64_t planned_bytes = 0;
  bool adjusted = false;  // fit changed the context or the KV type
  std::string message;    // what was chosen and why (empty when nothing changed)
};

// n_ctx 0 means the run's default context. Without `fit`, a plan over budget is a
// tandem::Error listing the contexts that would fit for each KV type. With `fit`,
// the requested KV type is kept if any context of at least 256 tokens fits, else
// q8_0 then q4_0 are tried; an Error when not even that fits.
BudgetChoice enforce_budget(const gguf::File& file, int n_ctx, quant::Type kv_type, uint64_t budget, bool fit);

}  // namespace tandem::memory
