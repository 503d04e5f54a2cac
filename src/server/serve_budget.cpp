#include "server/serve_budget.h"

#include <optional>

#include "core/error.h"
#include "gguf/file.h"
#include "memory/plan.h"

namespace tandem::server {

int check_serve_budget(const std::string& model_path, int n_ctx, int n_slots, uint64_t budget,
                       const std::string& draft_path) {
  const auto header = gguf::File::open(model_path);
  const memory::ModelLayout layout = memory::layout_from_gguf(header);
  std::optional<memory::ModelLayout> draft;
  if (!draft_path.empty()) draft = memory::layout_from_gguf(gguf::File::open(draft_path));
  const int ctx = n_ctx > 0 ? n_ctx : memory::default_context(layout);
  auto planned = [&](int context, int slots) {
    // Every slot is a Context of its own: its KV cache and its scratch buffers.
    auto server = [&](const memory::ModelLayout& model) {
      const memory::Plan plan = memory::make_plan(model, {.n_ctx = context});
      return plan.total_bytes + uint64_t(slots - 1) * (plan.kv_bytes + plan.compute_bytes);
    };
    return server(layout) + (draft ? server(*draft) : 0);
  };
  const uint64_t needed = planned(ctx, n_slots);
  if (needed <= budget) return ctx;

  int fitting_ctx = 0;
  for (int c = 256; c <= ctx && planned(c, n_slots) <= budget; c += 256) fitting_ctx = c;
  int fitting_slots = 0;
  for (int s = 1; s <= n_slots && planned(ctx, s) <= budget; ++s) fitting_slots = s;
  std::string would_fit;
  if (fitting_ctx) would_fit += " -c " + std::to_string(fitting_ctx) + " with --parallel " + std::to_string(n_slots);
  if (fitting_slots) {
    would_fit += std::string(would_fit.empty() ? "" : ", or") + " --parallel " + std::to_string(fitting_slots) +
                 " with -c " + std::to_string(ctx);
  }
  fail("serving ", n_slots, " slot(s) of ", ctx, " tokens needs ", memory::human_bytes(needed), ", more than --mem-budget ",
       memory::human_bytes(budget), would_fit.empty() ? "; not even one slot of 256 tokens fits: use a smaller quantization"
                                                       : "; would fit:" + would_fit);
}

}  // namespace tandem::server
