// The shapes of real models, so synthetic random-weight files exercise exactly the
// tensor sizes, GQA ratios and metadata that the real checkpoints have, and the one
// list of tensors a shape implies (synth writes it, memory::layout_from_shape plans it).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::synth {

struct ModelShape {
  std::string name;  // "tinyllama-1.1b"
  std::string arch;  // general.architecture
  int n_vocab = 0;
  int n_embd = 0;
  int n_layer = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;  // 0: n_embd / n_head
  int n_ff = 0;
  int n_ctx = 0;
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;
  bool tied_output = false;  // no output.weight: the token embedding doubles as the output matrix
  bool qkv_bias = false;     // Q/K/V biases (Qwen2, GLM-4; attn_qkv.bias when fused: ChatGLM)
  bool llama3_rope = false;  // rope_freqs.weight with Llama 3.1-style frequency scaling
  int sliding_window = 0;    // 0: none
  std::string vocab;         // ../shared/tokenizers/ggml-vocab-<vocab>.gguf; empty: none shared
  int rope_dims = 0;         // rotated dimensions per head; 0: all (partial rotary: GLM, Phi-4-mini)
  float rope_scale = 0;      // rope.scaling.factor, linear (Gemma 3 4B: its global layers); 0: none
  int longrope_ctx = 0;      // Phi-3 long context: rope_factors_long/short, this original context

  int dim_head() const { return head_dim ? head_dim : n_embd / n_head; }
  int dim_rope() const { return rope_dims ? rope_dims : dim_head(); }
};

const ModelShape* find_shape(std::string_view name);
const std::vector<ModelShape>& all_shapes();

// What a tensor of a shape is, which decides its type under a recipe and its values.
enum class TensorKind {
  TokenEmbd, Output, AttnQ, AttnK, AttnV, AttnQKV, AttnOutput, FfnGate, FfnUp, FfnDown,  // matrices
  Norm, OutputNorm, Bias, RopeFreqs, RopeFactorsLong, RopeFactorsShort,                   // vectors
};

struct ShapeTensor {
  std::string name;
  TensorKind kind;
  int layer = 0;
  std::vector<uint64_t> dims;  // ggml order
};

// Every tensor a model of this shape has, in llama.cpp's converter order, for its
// architecture's row in model/arch.cpp (fused or separate Q/K/V, Q/K norms, post-norms).
// Error if the architecture is unknown.
std::vector<ShapeTensor> shape_tensors(const ModelShape& shape, int n_layer, int n_vocab);

}  // namespace tandem::synth
