// The shapes of real models, so synthetic random-weight files exercise exactly the
// tensor sizes, GQA ratios and metadata that the real checkpoints have.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace tandem::synth {

struct ModelShape {
  std::string_view name;  // "tinyllama-1.1b"
  std::string_view arch;  // general.architecture
  int n_vocab;
  int n_embd;
  int n_layer;
  int n_head;
  int n_head_kv;
  int head_dim;  // 0: n_embd / n_head
  int n_ff;
  int n_ctx;
  float rope_base;
  float rms_eps;
  bool tied_output;    // no output.weight: the token embedding doubles as the output matrix
  bool qkv_bias;       // attn_{q,k,v}.bias (Qwen2)
  bool llama3_rope;    // rope_freqs.weight with Llama 3.1-style frequency scaling
  int sliding_window;  // 0: none
  std::string_view vocab;  // ../shared/tokenizers/ggml-vocab-<vocab>.gguf; empty: none shared

  int dim_head() const { return head_dim ? head_dim : n_embd / n_head; }
};

const ModelShape* find_shape(std::string_view name);
const std::vector<ModelShape>& all_shapes();

}  // namespace tandem::synth
