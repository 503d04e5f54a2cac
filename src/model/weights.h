// The model's tensors, bound by GGUF name and checked against the shapes the
// hyper-parameters imply. Pointers refer into the mapped file (zero-copy).
#pragma once
#include <memory>
#include <unordered_map>
#include <vector>

#include "gguf/file.h"
#include "model/hparams.h"

namespace tandem::model {

using Tensor = const gguf::TensorInfo*;  // nullptr: absent (optional tensors only)

// Whether Weights::bind moves the tensor `name` into a repacked layout (quant/repack.h)
// under the active ISA: a matrix the forward pass multiplies with, in a type that has
// one. `tied`: the file has no output.weight, so token_embd is also the output matrix.
// memory::Plan counts the same tensors.
bool repacked_at_load(const std::string& name, quant::Type type, bool tied);

struct LayerWeights {
  Tensor attn_norm = nullptr;
  Tensor wq = nullptr, wk = nullptr, wv = nullptr, wqkv = nullptr;  // wqkv: rows [Q | K | V] when the file fuses them
  Tensor bq = nullptr, bk = nullptr, bv = nullptr, bqkv = nullptr;  // optional biases (qwen2, chatglm)
  Tensor q_norm = nullptr, k_norm = nullptr;                        // [head_dim] when Arch::qk_norm
  Tensor wo = nullptr;
  Tensor post_attn_norm = nullptr;
  Tensor ffn_norm = nullptr;
  Tensor ffn_gate = nullptr, ffn_up = nullptr, ffn_down = nullptr;  // ffn_up is [gate|up] when fused
  Tensor post_ffn_norm = nullptr;
};

struct Weights {
  Tensor token_embd = nullptr;
  Tensor output_norm = nullptr;
  Tensor output = nullptr;      // == token_embd when tied
  Tensor rope_freqs = nullptr;  // llama3 rope scaling factors, optional
  // Phi-3 "longrope" factors: long for contexts beyond HParams::n_ctx_orig, else short; optional.
  Tensor rope_factors_long = nullptr, rope_factors_short = nullptr;
  std::vector<LayerWeights> layers;

  // Binds every tensor the architecture needs; a tandem::Error lists all the
  // missing or misshapen ones at once. Matrices whose type has a faster layout under
  // the active ISA (kernels::preferred_layout) are repacked into memory of their own and
  // their pages of the file are discarded: the same bytes, moved (docs/memory.md).
  static Weights bind(gguf::File& file, HParams& hparams);

  // A 1-D weight (norm, bias, rope factors) as floats, nullptr when absent: F32 data
  // is used in place; other types were converted at bind and live as long as this.
  const float* vector(Tensor t) const;

 private:
  void repack_matrices(gguf::File& file);

  std::unordered_map<Tensor, std::vector<float>> converted_;
  std::vector<std::unique_ptr<gguf::TensorInfo>> repacked_;  // data points into repacked_memory_
  std::shared_ptr<uint8_t> repacked_memory_;
};

}  // namespace tandem::model
