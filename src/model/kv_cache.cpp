#include "model/kv_cache.h"

#include <cstring>

#include "core/error.h"
#include "quant/quantize.h"

namespace tandem::model {

bool KvCache::supports(quant::Type type, int row_elems) {
  using quant::Type;
  if (type != Type::F32 && type != Type::F16 && type != Type::Q8_0 && type != Type::Q4_0) return false;
  return row_elems % quant::traits(type).block_elems == 0;
}

size_t KvCache::bytes_per_token(int n_layer, int row_elems, quant::Type type) {
  return 2 * (size_t)n_layer * quant::row_bytes(quant::traits(type), row_elems);
}

KvCache::KvCache(int n_layer, int n_ctx, int row_elems, quant::Type type)
    : type_(type), n_ctx_(n_ctx), row_elems_(row_elems), row_bytes_(quant::row_bytes(quant::traits(type), row_elems)) {
  if (!supports(type, row_elems))
    fail("KV cache type ", quant::type_name(type), " is not supported for rows of ", row_elems,
         " values (supported: f32, f16, q8_0, q4_0 with rows a multiple of their block size)");
  for (int l = 0; l < n_layer; l++) {
    k_.emplace_back((size_t)n_ctx * row_bytes_);
    v_.emplace_back((size_t)n_ctx * row_bytes_);
  }
}

void KvCache::store(int layer, int pos, int count, const float* k, const float* v) {
  for (int i = 0; i < count; i++) {
    uint8_t* kd = k_[layer].data() + (size_t)(pos + i) * row_bytes_;
    uint8_t* vd = v_[layer].data() + (size_t)(pos + i) * row_bytes_;
    quant::quantize_row(type_, k + (size_t)i * row_elems_, kd, row_elems_);
    quant::quantize_row(type_, v + (size_t)i * row_elems_, vd, row_elems_);
  }
}

}  // namespace tandem::model
