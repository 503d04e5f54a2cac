#include "model/arch.h"

#include <array>

namespace tandem::model {
namespace {

// Llama covers Llama 2/3/3.x, TinyLlama, Mistral and SmolLM: they differ only in
// metadata (GQA, rope base, rope_freqs), not in the graph. Q/K/V biases and an
// untied output are bound whenever the file has them, so they need no flag.
constexpr std::array kArchs = {
    Arch{.name = "llama"},
    Arch{.name = "mistral"},
    Arch{.name = "qwen2", .rope = RopeStyle::Halves},
    Arch{.name = "phi3", .rope = RopeStyle::Halves, .fused_qkv = true, .fused_gate_up = true,
         .sliding_window = SlidingWindow::AllLayers},
    Arch{.name = "gemma2", .rope = RopeStyle::Halves, .activation = Activation::GeluTanh, .post_norms = true,
         .scale_embeddings = true, .soft_caps = true, .sliding_window = SlidingWindow::EvenLayers},
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
