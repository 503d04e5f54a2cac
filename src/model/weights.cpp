#include "model/weights.h"

#include <sstream>

#include "core/error.h"
#include "quant/reference.h"

namespace tandem::model {
namespace {

class Binder {
 public:
  explicit Binder(const gguf::File& f) : f_(f) {}

  // dims in ggml order: {row length, rows}; 0 means "any".
  Tensor require(const std::string& name, std::vector<uint64_t> dims) { return bind(name, std::move(dims), true); }
  Tensor optional(const std::string& name, std::vector<uint64_t> dims) { return bind(name, std::move(dims), false); }

  void throw_if_problems(const std::string& arch) const {
    if (missing_.empty() && misshapen_.empty()) return;
    std::ostringstream msg;
    msg << "'" << f_.path() << "' is not a complete " << arch << " model:";
    if (!missing_.empty()) {
      msg << " missing tensor" << (missing_.size() > 1 ? "s" : "") << " ";
      for (size_t i = 0; i < missing_.size(); i++) msg << (i ? ", " : "") << missing_[i];
      msg << ";";
    }
    for (const auto& m : misshapen_) msg << " " << m << ";";
    fail(msg.str());
  }

 private:
  const gguf::File& f_;
  std::vector<std::string> missing_, misshapen_;

  Tensor bind(const std::string& name, std::vector<uint64_t> dims, bool required) {
    const gguf::TensorInfo* t = f_.find_tensor(name);
    if (!t) {
      if (required) missing_.push_back(name);
      return nullptr;
    }
    bool ok = t->dims.size() <= std::max<size_t>(dims.size(), 1);
    for (size_t i = 0; ok && i < dims.size(); i++) {
      uint64_t have = i < t->dims.size() ? t->dims[i] : 1;
      if (dims[i] != 0 && have != dims[i]) ok = false;
    }
    if (!ok) {
      std::string want;
      for (size_t i = 0; i < dims.size(); i++) want += (i ? " x " : "") + std::to_string(dims[i]);
      misshapen_.push_back("tensor " + name + " has shape " + t->shape_string() + ", expected " + want);
    }
    if (!quant::traits(t->type).computable)
      fail("tensor ", name, " in '", f_.path(), "' has type ", quant::type_name(t->type), ", which Tandem cannot compute with yet");
    return t;
  }
};

}  // namespace

Weights Weights::bind(gguf::File& f, HParams& h) {
  Binder b(f);
  Weights w;
  const Arch& arch = *h.arch;
  const uint64_t d = h.n_embd, dq = h.n_embd_q(), dkv = h.n_embd_kv(), ff = h.n_ff;

  w.token_embd = b.require("token_embd.weight", {d, 0});
  if (w.token_embd) {
    uint64_t vocab = w.token_embd->dims.size() > 1 ? w.token_embd->dims[1] : 1;
    if (h.n_vocab == 0) h.n_vocab = (int)vocab;
    if ((uint64_t)h.n_vocab != vocab) h.n_vocab = (int)vocab;  // the matrix is the truth for logits
  }
  w.output_norm = b.require("output_norm.weight", {d});
  w.output = b.optional("output.weight", {d, (uint64_t)h.n_vocab});
  if (!w.output) w.output = w.token_embd;
  w.rope_freqs = b.optional("rope_freqs.weight", {(uint64_t)h.rope_dims / 2});
  w.rope_factors_long = b.optional("rope_factors_long.weight", {(uint64_t)h.rope_dims / 2});
  w.rope_factors_short = b.optional("rope_factors_short.weight", {(uint64_t)h.rope_dims / 2});

  for (int i = 0; i < h.n_layer; i++) {
    const std::string p = "blk." + std::to_string(i) + ".";
    LayerWeights l;
    l.attn_norm = b.require(p + "attn_norm.weight", {d});
    // Either form loads (llama.cpp's create_tensor_qkv); a missing one is named in the family's form.
    const bool fused = f.find_tensor(p + "attn_qkv.weight") || (arch.fused_qkv && !f.find_tensor(p + "attn_q.weight"));
    if (fused) {
      l.wqkv = b.require(p + "attn_qkv.weight", {d, dq + 2 * dkv});
      l.bqkv = b.optional(p + "attn_qkv.bias", {dq + 2 * dkv});
    } else {
      l.wq = b.require(p + "attn_q.weight", {d, dq});
      l.wk = b.require(p + "attn_k.weight", {d, dkv});
      l.wv = b.require(p + "attn_v.weight", {d, dkv});
      l.bq = b.optional(p + "attn_q.bias", {dq});
      l.bk = b.optional(p + "attn_k.bias", {dkv});
      l.bv = b.optional(p + "attn_v.bias", {dkv});
    }
    if (arch.qk_norm) {
      l.q_norm = b.require(p + "attn_q_norm.weight", {(uint64_t)h.head_dim});
      l.k_norm = b.require(p + "attn_k_norm.weight", {(uint64_t)h.head_dim});
    }
    l.wo = b.require(p + "attn_output.weight", {dq, d});
    l.ffn_norm = b.require(p + "ffn_norm.weight", {d});
    if (arch.fused_gate_up) {
      l.ffn_up = b.require(p + "ffn_up.weight", {d, 2 * ff});
    } else {
      l.ffn_gate = b.require(p + "ffn_gate.weight", {d, ff});
      l.ffn_up = b.require(p + "ffn_up.weight", {d, ff});
    }
    l.ffn_down = b.require(p + "ffn_down.weight", {ff, d});
    if (arch.post_norms) {
      l.post_attn_norm = b.require(p + "post_attention_norm.weight", {d});
      l.post_ffn_norm = b.require(p + "post_ffw_norm.weight", {d});
    }
    w.layers.push_back(l);
  }
  b.throw_if_problems(std::string(arch.name));

  // The forward pass reads 1-D weights as floats; convert the few that are not.
  std::vector<Tensor> vectors = {w.output_norm, w.rope_freqs, w.rope_factors_long, w.rope_factors_short};
  for (const LayerWeights& l : w.layers) {
    vectors.insert(vectors.end(), {l.attn_norm, l.bq, l.bk, l.bv, l.bqkv, l.q_norm, l.k_norm, l.post_attn_norm,
                                   l.ffn_norm, l.post_ffn_norm});
  }
  for (Tensor t : vectors) {
    if (!t || t->type == quant::Type::F32 || w.converted_.count(t)) continue;
    std::vector<float>& floats = w.converted_[t];
    floats.resize(t->n_elements);
    quant::dequantize_row(t->type, t->data, floats.data(), (int64_t)t->n_elements);
  }
  w.repack_matrices(f);
  return w;
}

const float* Weights::vector(Tensor t) const {
  if (!t) return nullptr;
  if (t->type == quant::Type::F32) return reinterpret_cast<const float*>(t->data);
  const auto it = converted_.find(t);
  if (it == converted_.end()) fail("internal: tensor ", t->name, " was not converted at bind");
  return it->second.data();
}

}  // namespace tandem::model
