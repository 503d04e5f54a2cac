// Keys and values of every past position, per layer, in F32, F16, Q8_0 or Q4_0.
// A row holds one position's n_head_kv x head_dim values; quantized rows are
// whole blocks of that row, so any head size works as long as the row length
// is a multiple of the block size.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/attention.h"
#include "quant/types.h"

namespace tandem::model {

class KvCache {
 public:
  KvCache(int n_layer, int n_ctx, int row_elems, quant::Type type);

  quant::Type type() const { return type_; }
  int n_ctx() const { return n_ctx_; }
  size_t bytes() const { return k_.size() * k_[0].size() * 2; }
  static size_t bytes_per_token(int n_layer, int row_elems, quant::Type type);
  static bool supports(quant::Type type, int row_elems);

  // Stores `count` rows of keys and values for positions [pos, pos+count).
  void store(int layer, int pos, int count, const float* k, const float* v);
  // The stored rows of a layer, in the cache's type, as kernels::attention reads them.
  kernels::KvView keys_view(int layer) const { return {type_, k_[layer].data(), row_bytes_}; }
  kernels::KvView values_view(int layer) const { return {type_, v_[layer].data(), row_bytes_}; }

 private:
  quant::Type type_;
  int n_ctx_;
  int row_elems_;
  size_t row_bytes_;
  std::vector<std::vector<uint8_t>> k_, v_;  // per layer: n_ctx rows
};

}  // namespace tandem::model
