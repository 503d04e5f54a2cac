// Hyper-parameters of a model, read from GGUF metadata (<arch>.* keys).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/arch.h"

namespace tandem::gguf {
class File;
}

namespace tandem::model {

// How positions turn into rotary angles for one kind of layer.
struct RopeParams {
  float base = 10000.0f;
  float scale = 1.0f;  // position scaling: angles are divided by it (rope.scaling.factor)
  bool yarn = false;   // YaRN: the scaling blends in over pairs [yarn_low, yarn_high]
  float yarn_low = 0, yarn_high = 0;
};

struct HParams {
  const Arch* arch = nullptr;
  std::string name;       // general.name
  int n_vocab = 0;
  int n_embd = 0;
  int n_layer = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;       // key_length (== value_length for every supported family)
  int n_ff = 0;
  int n_ctx_train = 0;
  float norm_eps = 1e-5f;
  RopeParams rope;          // global layers (every layer unless Arch::local_rope)
  RopeParams rope_local;    // local (sliding-window) layers when Arch::local_rope
  int rope_dims = 0;        // rotated leading dimensions of each head (partial rotary when < head_dim)
  float rope_attn_factor = 1.0f;  // multiplies the rotated part of Q and K (rope.scaling.attn_factor)
  int n_ctx_orig = 0;       // contexts longer than this use rope_factors_long (rope.scaling.original_context_length)
  float query_scale = 0;    // multiplies Q before QK^T
  float attn_softcap = 0;   // 0: off
  float final_softcap = 0;
  float embed_scale = 1.0f;     // token embeddings are multiplied by it
  float residual_scale = 1.0f;  // each block's output, before its residual add
  float logit_scale = 1.0f;     // logits are divided by it
  int sliding_window = 0;   // 0: off
  std::vector<uint8_t> local_layers;  // per layer: attends through the window and uses rope_local

  int n_embd_kv() const { return n_head_kv * head_dim; }
  int n_embd_q() const { return n_head * head_dim; }
  bool layer_uses_window(int layer) const { return sliding_window > 0 && local_layers[layer]; }
  bool layer_uses_rope(int layer) const;
  const RopeParams& layer_rope(int layer) const;

  static HParams from_gguf(const gguf::File& file);
};

}  // namespace tandem::model
