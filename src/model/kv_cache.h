// Keys and values of every past position, per layer, in F32, F16, Q8_0 or Q4_0.
// A row holds one position's n_head_kv x head_dim values; quantized rows are
// whole blocks of that row, so any head size works as long as the row length
// is a multiple of the block size.
#pragma once
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "quant/types.h"

namespace tandem::model {

class KvCache {
 public:
  KvCache(int n_layer, int n_ctx, int row_elems, quant::Type type);

  quant::Type type() const { return type_; }
  size_t bytes() const { return k_.size() * k_[0].size() * 2; }
  static size_t bytes_per_token(int n_layer, int row_elems, quant::Type type);
  static bool supports(quant::Type type, int row_elems);

  // Stores `count` rows of keys and values for positions [pos, pos+count).
  void store(int layer, int pos, int count, const float* k, const float* v);
  // Keys and values of positions [0, n) as floats. For F32 this points into the cache;
  // otherwise the rows are converted into internal scratch (valid until the next call).
  const float* keys(int layer, int n, ThreadPool& pool);
  const float* values(int layer, int n, ThreadPool& pool);

 private:
  const float* as_floats(const std::vector<uint8_t>& rows, std::vector<float>& scratch, int n, ThreadPool& pool);
  quant::Type type_;
  int row_elems_;
  size_t row_bytes_;
  std::vector<std::vector<uint8_t>> k_, v_;  // per layer: n_ctx rows
  std::vector<float> k_scratch_, v_scratch_;
};

}  // namespace tandem::model
