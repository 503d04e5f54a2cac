// The row of differences between model families. One forward pass
// (model/forward.cpp) reads these flags; a new family is a new row here.
#pragma once
#include <string_view>
#include <vector>

namespace tandem::model {

enum class RopeStyle { Adjacent, Halves };  // ggml NORM (pairs 2i,2i+1) / NEOX (pairs i, i+d/2)
enum class Activation { Silu, GeluTanh };
// Which layers attend through the sliding window (when the file sets one): every layer,
// or a repeating pattern where layer il is local unless il % period == period - 1
// (Gemma 2: period 2, even layers local; Gemma 3: period 6, five local then one global).
enum class SlidingWindow { None, AllLayers, Periodic };
// Extra scalings of the residual stream. Mup (MiniCPM): embeddings x embedding_scale,
// each block's output x residual_scale before its residual add, logits / logit_scale,
// each from metadata with MiniCPM's defaults (12, 1.4/sqrt(n_layer), 256/n_embd).
enum class StreamScales { None, SqrtEmbd, Mup };

struct Arch {
  std::string_view name;  // general.architecture
  RopeStyle rope = RopeStyle::Adjacent;
  Activation activation = Activation::Silu;
  bool fused_qkv = false;       // the converter writes one attn_qkv matrix, rows [Q | K | V] (either form loads)
  bool fused_gate_up = false;   // ffn_up rows [gate | up], no ffn_gate
  bool qk_norm = false;         // attn_q_norm / attn_k_norm: RMS norm of each head of Q and K before RoPE
  bool post_norms = false;      // post_attention_norm / post_ffw_norm before each residual add
  StreamScales scales = StreamScales::None;  // SqrtEmbd: token embeddings x sqrt(n_embd) (Gemma)
  bool attn_soft_cap = false;   // attention scores cap * tanh(s / cap), cap from metadata (default 50)
  bool final_soft_cap = false;  // logits likewise, from metadata (final_logit_softcapping)
  float final_soft_cap_default = 0;  // when the file has no final_logit_softcapping (0: off)
  SlidingWindow sliding_window = SlidingWindow::None;
  int swa_period = 0;           // Periodic: default period; attention.sliding_window_pattern overrides
  // Local (sliding-window) layers rotate with their own base, rope.freq_base_swa (default
  // 10000), and no position scaling; global layers use rope.freq_base and the scaling.
  bool local_rope = false;
  int no_rope_every = 0;        // N > 0: layers il with (il + 1) % N == 0 skip RoPE (NoPE)
  // A block count at which Q is scaled by 1/sqrt(n_embd/n_head) instead of 1/sqrt(head_dim)
  // (Gemma 2 27B: 46, Gemma 3 27B: 62; query_pre_attn_scalar in the Hugging Face config).
  int wide_query_scale_layers = 0;
};

// Known families; nullptr for anything else.
const Arch* find_arch(std::string_view name);
std::vector<std::string_view> arch_names();

}  // namespace tandem::model
