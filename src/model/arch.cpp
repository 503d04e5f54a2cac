#include "model/arch.h"

#include <array>

namespace tandem::model {
namespace {

// Llama covers Llama 2/3/3.x, TinyLlama, Mistral and SmolLM: they differ only in
// metadata (GQA, rope base, rope_freqs), not in the graph. Q/K/V biases, a fused or
// separate Q/K/V, an untied output and rope factors are bound whenever the file has
// them, so they need no flag. Each row follows llama.cpp's graph for the family
// (src/models/<family>.cpp of the reference, tools/goldens/README.md).
constexpr std::array kArchs = {
    Arch{.name = "llama"},
    Arch{.name = "mistral"},
    Arch{.name = "qwen2", .rope = RopeStyle::Halves},
    Arch{.name = "qwen3", .rope = RopeStyle::Halves, .qk_norm = true},
    Arch{.name = "phi3", .rope = RopeStyle::Halves, .fused_qkv = true, .fused_gate_up = true,
         .sliding_window = SlidingWindow::AllLayers},
    Arch{.name = "gemma2", .rope = RopeStyle::Halves, .activation = Activation::GeluTanh, .post_norms = true,
         .scales = StreamScales::SqrtEmbd, .attn_soft_cap = true, .final_soft_cap = true,
         .final_soft_cap_default = 30.0f, .sliding_window = SlidingWindow::Periodic, .swa_period = 2,
         .wide_query_scale_layers = 46},
    Arch{.name = "gemma3", .rope = RopeStyle::Halves, .activation = Activation::GeluTanh, .qk_norm = true,
         .post_norms = true, .scales = StreamScales::SqrtEmbd, .final_soft_cap = true,
         .sliding_window = SlidingWindow::Periodic, .swa_period = 6, .local_rope = true,
         .wide_query_scale_layers = 62},
    Arch{.name = "smollm3", .no_rope_every = 4},
    Arch{.name = "minicpm", .scales = StreamScales::Mup},
    Arch{.name = "glm4", .fused_gate_up = true, .post_norms = true},
    Arch{.name = "chatglm", .fused_qkv = true, .fused_gate_up = true},
};

}  // namespace

const Arch* find_arch(std::string_view name) {
  for (const auto& a : kArchs)
    if (a.name == name) return &a;
  return nullptr;
}

std::vector<std::string_view> arch_names() {
  std::vector<std::string_view> names;
  for (const auto& a : kArchs) names.push_back(a.name);
  return names;
}

}  // namespace tandem::model
