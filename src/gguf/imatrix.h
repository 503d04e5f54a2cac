// Importance matrices as llama.cpp's llama-imatrix writes them, read as untrusted input:
//  - GGUF: per weight matrix NAME, the F32 tensors NAME.in_sum2 (summed squared activations,
//    n_per_row per expert) and NAME.counts (activations seen, one per expert), with the keys
//    imatrix.datasets, imatrix.chunk_count and imatrix.chunk_size (llama-quantize refuses a
//    GGUF imatrix without them);
//  - the legacy binary .dat: int32 entry count, then per entry int32 name length, the name,
//    int32 calls, int32 value count, the float values; optionally int32 chunk count, int32
//    dataset name length and the name.
// Every count and length is checked against the bytes left before anything is allocated,
// so a truncated or corrupt file is a tandem::Error saying what was wrong and where.
// The weights come out normalized as llama-quantize normalizes them (load_imatrix): GGUF sums
// divided by their expert's count (1 where it is 0), legacy values divided by their calls.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"

namespace tandem::gguf {

struct ImportanceMatrix {
  std::map<std::string, std::vector<float>> weights;  // matrix name -> n_per_row (x experts) weights
  std::vector<std::string> datasets;                  // the text(s) it was computed on, if recorded
  uint32_t chunk_count = 0;                            // chunks it was computed on (0: not recorded)
  bool legacy = false;                                 // the .dat format

  // The weights of matrix `name` for rows of n_per_row values, or null when the matrix has
  // none. A size other than n_per_row is a tandem::Error, as in llama-quantize.
  const float* find(const std::string& name, uint64_t n_per_row) const;
};

ImportanceMatrix load_importance_matrix(const std::string& path);
// The same from bytes (a file's contents; `name` for messages): GGUF when they start with its
// magic, else the legacy format.
ImportanceMatrix parse_importance_matrix(std::shared_ptr<MappedFile> bytes);

}  // namespace tandem::gguf
