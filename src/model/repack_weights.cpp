// Weights::repack_matrices: the load-time half of quant/repack.h.
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "core/error.h"
#include "kernels/matmul.h"
#include "model/weights.h"
#include "quant/repack.h"

namespace tandem::model {

bool repacked_at_load(const std::string& name, quant::Type type, bool tied) {
  if (kernels::preferred_layout(type) == type) return false;
  if (name == "token_embd.weight") return tied;
  if (name == "output.weight") return true;
  for (const std::string_view matrix : {"attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_qkv.weight",
                                        "attn_output.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"})
    if (name.size() > matrix.size() && std::string_view(name).substr(name.size() - matrix.size()) == matrix) return true;
  return false;
}

void Weights::repack_matrices(gguf::File& file) {
  const bool tied = output == token_embd;
  std::vector<Tensor*> slots = {&output};
  for (LayerWeights& l : layers)
    for (Tensor* t : {&l.wq, &l.wk, &l.wv, &l.wqkv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down}) slots.push_back(t);

  // Which matrices move, and where: one region for all of them, each at a 64-byte offset.
  std::unordered_map<Tensor, size_t> offsets;
  std::vector<Tensor> order;
  size_t total = 0;
  for (Tensor* slot : slots) {
    const Tensor t = *slot;
    if (!t || offsets.count(t) || !repacked_at_load(t->name, t->type, tied)) continue;
    offsets[t] = total;
    order.push_back(t);
    total += (t->n_bytes + 63) / 64 * 64;
  }
  if (order.empty()) return;

  // Anonymous memory with transparent huge pages where the kernel allows them: decode
  // streams all of it every token, and 2 MiB pages take the TLB misses out of that stream.
  void* region = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) fail("cannot allocate ", total, " bytes for the repacked weights: ", std::strerror(errno));
#ifdef MADV_HUGEPAGE
  madvise(region, total, MADV_HUGEPAGE);
#endif
  repacked_memory_.reset(static_cast<uint8_t*>(region), [total](uint8_t* p) { munmap(p, total); });
  if (file.bytes()->locked()) mlock(region, total);

  std::unordered_map<Tensor, Tensor> moved;  // original -> repacked (a tied output is also token_embd)
  for (const Tensor t : order) {
    auto info = std::make_unique<gguf::TensorInfo>(*t);
    info->type = kernels::preferred_layout(t->type);
    uint8_t* dst = repacked_memory_.get() + offsets[t];
    const int64_t k = (int64_t)t->dims[0];
    const size_t row = quant::row_bytes(quant::traits(t->type), k);
    for (uint64_t i = 0; i < t->rows(); i++) quant::repack_row(info->type, t->data + i * row, dst + i * row, k);
    file.bytes()->discard(t->data, t->n_bytes);
    info->data = dst;
    moved[t] = info.get();
    repacked_.push_back(std::move(info));
  }
  for (Tensor* slot : slots)
    if (*slot && moved.count(*slot)) *slot = moved[*slot];
  if (moved.count(token_embd)) token_embd = moved[token_embd];
}

}  // namespace tandem::model
