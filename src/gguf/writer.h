// Writes GGUF v3 files: metadata in insertion order, tensors aligned to
// general.alignment (32 unless set). Used by the converter and the quantizer.
#pragma once
#include <cstdint>
#include <functional>
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
  // Streaming, for files larger than memory (synthetic 7B/13B models): the tensor is
  // declared now and its bytes are produced while write_streaming() runs.
  void declare_tensor(const std::string& name, quant::Type type, std::vector<uint64_t> dims);
  // Receives a declared tensor's bytes in order; the pieces must add up to its size.
  using Sink = std::function<void(const uint8_t* bytes, size_t n)>;
  using Producer = std::function<void(size_t tensor_index, const Sink& sink)>;
  // Like write(); `produce` is called once per declared tensor, in declaration order.
  void write_streaming(const std::string& path, const Producer& produce) const;

  void write(const std::string& path) const;  // atomically: temp file then rename
  std::vector<uint8_t> to_bytes() const;      // Error if a tensor was only declared

 private:
  struct Tensor {
    std::string name;
    quant::Type type;
    std::vector<uint64_t> dims;
    std::vector<uint8_t> bytes;
    uint64_t n_bytes = 0;
    bool streamed = false;  // declared: bytes come from write_streaming's producer
  };
  std::vector<std::pair<std::string, Value>> kv_;
  std::vector<Tensor> tensors_;
  uint32_t alignment() const;
  std::vector<uint8_t> header_bytes() const;  // through the padding before the first tensor
  uint64_t checked_size(const std::string& name, quant::Type type, const std::vector<uint64_t>& dims) const;
};

}  // namespace tandem::gguf
