#include "memory/shape_layout.h"

#include <filesystem>
#include <map>

#include "gguf/file.h"
#include "model/arch.h"
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
  m.arch = s.arch;
  m.n_vocab = s.n_vocab;
  m.n_embd = s.n_embd;
  m.n_layer = s.n_layer;
  m.n_head = s.n_head;
  m.n_head_kv = s.n_head_kv;
  m.head_dim = s.dim_head();
  m.n_ff = s.n_ff;
  m.n_ctx_train = s.n_ctx;
  const model::Arch* arch = model::find_arch(s.arch);
  m.fused_qkv = arch && arch->fused_qkv;
  m.fused_gate_up = arch && arch->fused_gate_up;
  m.local_rope = arch && arch->local_rope;

  std::vector<quant::TensorDesc> t;
  for (const synth::ShapeTensor& st : synth::shape_tensors(s, s.n_layer, s.n_vocab))
    t.push_back({st.name, quant::Type::F32, st.dims});
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
