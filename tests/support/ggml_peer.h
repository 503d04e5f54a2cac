// llama.cpp's own quantizers and decoders, as an independent reference: the peer (../shared/peer,
// the node-llama-cpp npm package) ships a prebuilt libggml-base, whose ggml_quantize_chunk is
// what llama-quantize calls for each tensor and whose dequantize_row_* are ggml's decoders.
// The package is installed into the peer cache on first use (../shared/peer/llama-bench does it).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "quant/types.h"

namespace tandem::test {

class GgmlPeer {
 public:
  // The loaded library; throws std::runtime_error saying what is missing when the peer cannot
  // be installed or loaded (CI has the npm registry, so that is a failure, not a skip).
  static const GgmlPeer& get();

  // `rows` rows of `n_per_row` floats in `type`'s blocks, as llama-quantize writes them:
  // without an importance matrix, or with `imatrix` (n_per_row weights, one per column).
  std::vector<uint8_t> quantize(quant::Type type, const float* src, int64_t rows, int64_t n_per_row,
                                const float* imatrix = nullptr) const;
  // ggml's decoder for one row of n values.
  void dequantize_row(quant::Type type, const void* src, float* dst, int64_t n) const;

  // The peer benchmark script (`llama-bench`), for tests that run the peer engine itself.
  static std::string bench_script();
  // Installs the npm package into the peer cache if it is not there (under a lock, so
  // concurrent tests never run npm at once); returns the folder of its prebuilt libraries.
  static std::string library_dir();

 private:
  GgmlPeer();
  void* handle_ = nullptr;
  using QuantizeChunk = size_t (*)(int type, const float* src, void* dst, int64_t start, int64_t nrows,
                                   int64_t n_per_row, const float* imatrix);
  QuantizeChunk quantize_chunk_ = nullptr;
};

}  // namespace tandem::test
