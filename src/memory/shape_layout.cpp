#include "memory/shape_layout.h"

#include <filesystem>
#include <map>

#include "gguf/file.h"
#include "model/weights.h"

namespace tandem::memory {
namespace {

// Per vocabulary entry in a GGUF header: the token string (~7 bytes + 8 length), a float
// score and an int32 type; per tensor-table entry ~ name + dims + type + offset.
constexpr uint64_t kHeaderBytesPerToken = 24;
constexpr uint64_t kHeaderBytesPerTensor = 64;

}  // namespace

ModelLayout layout_from_shape(const synth::ModelShape& s, const quant::Recipe& recipe, const std::string& vocab_header) {
  ModelLayout m;
  m.arch = std::string(s.arch);
  m.n_vocab = s.n_vocab;
  m.n_embd = s.n_embd;
  m.n_layer = s.n_layer;
  m.n_head = s.n_head;
  m.n_head_kv = s.n_head_kv;
  m.head_dim = s.dim_head();
  m.n_ff = s.n_ff;
  m.n_ctx_train = s.n_ctx;
  m.fused_qkv = m.fused_gate_up = s.arch == "phi3";

  const uint64_t d = s.n_embd, dq = uint64_t(m.n_embd_q()), dkv = uint64_t(m.n_embd_kv()), ff = s.n_ff;
  std::vector<quant::TensorDesc> t;
  auto add = [&](std::string name, std::vector<uint64_t> dims) { t.push_back({std::move(name), quant::Type::F32, dims}); };
  add("token_embd.weight", {d, uint64_t(s.n_vocab)});
  if (!s.tied_output) add("output.weight", {d, uint64_t(s.n_vocab)});
  add("output_norm.weight", {d});
  if (s.llama3_rope) add("rope_freqs.weight", {uint64_t(m.head_dim / 2)});
  for (int l = 0; l < s.n_layer; l++) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_norm.weight", {d});
    if (m.fused_qkv) {
      add(p + "attn_qkv.weight", {d, dq + 2 * dkv});
    } else {
      add(p + "attn_q.weight", {d, dq});
      add(p + "attn_k.weight", {d, dkv});
      add(p + "attn_v.weight", {d, dkv});
    }
    if (s.qkv_bias) add(p + "attn_q.bias", {dq}), add(p + "attn_k.bias", {dkv}), add(p + "attn_v.bias", {dkv});
    add(p + "attn_output.weight", {dq, d});
    add(p + "ffn_norm.weight", {d});
    if (m.fused_gate_up) {
      add(p + "ffn_up.weight", {d, 2 * ff});
    } else {
      add(p + "ffn_gate.weight", {d, ff});
      add(p + "ffn_up.weight", {d, ff});
    }
    add(p + "ffn_down.weight", {ff, d});
    if (s.arch == "gemma2") add(p + "post_attention_norm.weight", {d}), add(p + "post_ffw_norm.weight", {d});
  }
  const auto choices = quant::choose_types(recipe, {m.arch, s.n_layer, s.n_head, s.n_head_kv}, t);
  std::map<quant::Type, WeightGroup> groups;
  for (size_t i = 0; i < t.size(); i++) {
    uint64_t n = 1;
    for (uint64_t dim : t[i].dims) n *= dim;
    WeightGroup& g = groups[choices[i].type];
    g.type = choices[i].type;
    g.n_tensors++;
    const uint64_t bytes = n / t[i].dims[0] * quant::row_bytes(quant::traits(g.type), t[i].dims[0]);
    g.bytes += bytes;
    if (model::repacked_at_load(t[i].name, g.type, s.tied_output)) m.repacked_bytes += bytes;
  }
  for (const auto& [type, g] : groups) m.weights.push_back(g);

  m.header_bytes = uint64_t(s.n_vocab) * kHeaderBytesPerToken + t.size() * kHeaderBytesPerTensor;
  std::error_code ec;
  if (!vocab_header.empty() && std::filesystem::exists(vocab_header, ec)) {
    const auto vocab = gguf::File::open(vocab_header);
    m.header_bytes = vocab.data_offset() + t.size() * kHeaderBytesPerTensor;
    if (const auto* merges = vocab.find("tokenizer.ggml.merges")) m.n_merges = merges->array_size();
  }
  return m;
}

}  // namespace tandem::memory
