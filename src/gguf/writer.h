// Writes GGUF v3 files: metadata in insertion order, tensors aligned to
// general.alignment (32 unless set). Used by the converter and the quantizer.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "gguf/value.h"
#include "quant/types.h"

namespace tandem::gguf {

class Writer {
 public:
  void set(const std::string& key, Value value);  // replaces an existing key in place
  // `bytes` must hold exactly the row-major data of `dims` in `type`.
  void add_tensor(const std::string& name, quant::Type type, std::vector<uint64_t> dims,
                  std::vector<uint8_t> bytes);
  void write(const std::string& path) const;  // atomically: temp file then rename
  std::vector<uint8_t> to_bytes() const;

 private:
  struct Tensor {
    std::string name;
    quant::Type type;
    std::vector<uint64_t> dims;
    std::vector<uint8_t> bytes;
  };
  std::vector<std::pair<std::string, Value>> kv_;
  std::vector<Tensor> tensors_;
  uint32_t alignment() const;
  std::vector<uint8_t> header_bytes() const;  // through the padding before the first tensor
};

}  // namespace tandem::gguf
