// Weights::repack_matrices: the load-time half of quant/repack.h.
#include <sys/mman.h>

#include <cstring>

#include "core/error.h"
#include "kernels/matmul.h"
#include "model/weights.h"
#include "quant/repack.h"

namespace tandem::model {

void Weights::repack_matrices(gguf::File& file) {
  std::vector<Tensor*> matrices = {&output};
  for (LayerWeights& l : layers)
    for (Tensor* t : {&l.wq, &l.wk, &l.wv, &l.wqkv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down}) matrices.push_back(t);
  std::unordered_map<Tensor, Tensor> moved;  // original -> repacked (a tied output is also token_embd)
  for (Tensor* slot : matrices) {
    const Tensor t = *slot;
    if (!t) continue;
    if (const auto it = moved.find(t); it != moved.end()) {
      *slot = it->second;
      continue;
    }
    const quant::Type layout = kernels::preferred_layout(t->type);
    if (layout == t->type) continue;
    auto r = std::make_unique<Repacked>();
    r->info = *t;
    r->info.type = layout;
    const size_t size = (t->n_bytes + 63) / 64 * 64;
    r->bytes.reset(static_cast<uint8_t*>(std::aligned_alloc(64, size)));
    if (!r->bytes) fail("cannot allocate ", t->n_bytes, " bytes to repack tensor ", t->name);
    const int64_t k = (int64_t)t->dims[0];
    const size_t row = quant::row_bytes(quant::traits(t->type), k);
    for (uint64_t i = 0; i < t->rows(); i++) quant::repack_row(layout, t->data + i * row, r->bytes.get() + i * row, k);
    if (file.bytes()->locked()) mlock(r->bytes.get(), t->n_bytes);
    file.bytes()->discard(t->data, t->n_bytes);
    r->info.data = r->bytes.get();
    moved[t] = &r->info;
    *slot = &r->info;
    repacked_.push_back(std::move(r));
  }
  if (const auto it = moved.find(token_embd); it != moved.end()) token_embd = it->second;
}

}  // namespace tandem::model
