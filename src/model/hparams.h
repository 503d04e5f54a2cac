// Hyper-parameters of a model, read from GGUF metadata (<arch>.* keys).
#pragma once
#include <string>
#include <vector>

#include "model/arch.h"

namespace tandem::gguf {
class File;
}

namespace tandem::model {

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
  float rope_base = 10000.0f;
  float rope_scale = 1.0f;  // linear position scaling (rope.scaling.factor with type linear)
  int rope_dims = 0;
  float query_scale = 0;    // multiplies Q before QK^T
  float attn_softcap = 0;   // 0: off
  float final_softcap = 0;
  int sliding_window = 0;   // 0: off; which layers use it comes from the Arch

  int n_embd_kv() const { return n_head_kv * head_dim; }
  int n_embd_q() const { return n_head * head_dim; }
  bool layer_uses_window(int layer) const;

  static HParams from_gguf(const gguf::File& file);
};

}  // namespace tandem::model
