// The row of differences between model families. One forward pass
// (model/forward.cpp) reads these flags; a new family is a new row here.
#pragma once
#include <string_view>
#include <vector>

namespace tandem::model {

enum class RopeStyle { Adjacent, Halves };  // ggml NORM (pairs 2i,2i+1) / NEOX (pairs i, i+d/2)
enum class Activation { Silu, GeluTanh };
enum class SlidingWindow { None, AllLayers, EvenLayers };

struct Arch {
  std::string_view name;  // general.architecture
  RopeStyle rope = RopeStyle::Adjacent;
  Activation activation = Activation::Silu;
  bool fused_qkv = false;       // one attn_qkv matrix, rows [Q | K | V]
  bool fused_gate_up = false;   // ffn_up rows [gate | up], no ffn_gate
  bool post_norms = false;      // post_attention_norm / post_ffw_norm before each residual add
  bool scale_embeddings = false;  // token embeddings x sqrt(n_embd)
  bool soft_caps = false;       // attention and final logit soft-capping from metadata
  SlidingWindow sliding_window = SlidingWindow::None;
};

// Known families; nullptr for anything else.
const Arch* find_arch(std::string_view name);
std::vector<std::string_view> arch_names();

}  // namespace tandem::model
