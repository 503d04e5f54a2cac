#include "memory/budget.h"

#include <sstream>

#include "core/error.h"
#include "gguf/file.h"
#include "memory/plan.h"

namespace tandem::memory {

BudgetChoice enforce_budget(const gguf::File& file, int n_ctx, quant::Type kv_type, uint64_t budget, bool fit) {
  const ModelLayout layout = layout_from_gguf(file);
  const int wanted_ctx = n_ctx > 0 ? n_ctx : default_context(layout);
  PlanOptions options;
  options.n_ctx = wanted_ctx;
  options.kv_type = kv_type;
  const Plan plan = make_plan(layout, options);
  BudgetChoice choice{wanted_ctx, kv_type, plan.total_bytes, false, ""};
  if (plan.total_bytes <= budget) return choice;

  // The candidates, most faithful first: the asked-for KV type, then smaller ones.
  const quant::Type kv_order[] = {kv_type, quant::Type::Q8_0, quant::Type::Q4_0};
  std::ostringstream fits;
  for (quant::Type type : kv_order) {
    PlanOptions o = options;
    o.kv_type = type;
    const int ctx = largest_context(layout, o, budget, wanted_ctx);
    if (ctx > 0) {
      fits << (fits.tellp() > 0 ? "; " : "") << "-c " << ctx << " --kv-type " << quant::type_name(type);
      if (fit && !choice.adjusted) {
        o.n_ctx = ctx;
        choice = {ctx, type, make_plan(layout, o).total_bytes, true, ""};
      }
    }
  }
  const std::string need = human_bytes(plan.total_bytes), have = human_bytes(budget);
  if (choice.adjusted) {
    std::ostringstream msg;
    msg << "--fit: " << need << " at " << wanted_ctx << " tokens with a " << quant::type_name(kv_type)
        << " KV cache exceeds the budget of " << have << "; using " << choice.n_ctx << " tokens with a "
        << quant::type_name(choice.kv_type) << " KV cache (" << human_bytes(choice.planned_bytes) << ")";
    choice.message = msg.str();
    return choice;
  }
  fail("this run needs ", need, " (weights ", human_bytes(plan.weights_bytes), ", KV cache ", human_bytes(plan.kv_bytes),
       " for ", wanted_ctx, " tokens, compute ", human_bytes(plan.compute_bytes), ") but the memory budget is ", have,
       ". ", fits.tellp() > 0 ? "Would fit: " + fits.str() + " (or pass --fit)." : "Not even 256 tokens fit: use a smaller quantization of the model (tandem quantize) or a smaller model.");
}

}  // namespace tandem::memory
