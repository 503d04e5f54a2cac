// A validated, memory-mapped GGUF file (versions 2 and 3). Opening checks every
// field against the file's real size before anything is allocated, so a truncated
// or corrupt file is a tandem::Error naming the field and its byte offset.
// Tensor data is never copied: TensorInfo::data points into the mapping.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "gguf/value.h"
#include "quant/types.h"

namespace tandem::gguf {

struct TensorInfo {
  std::string name;
  quant::Type type;
  std::vector<uint64_t> dims;  // ggml order: dims[0] is the row length (contiguous)
  uint64_t offset = 0;         // relative to the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;

  uint64_t rows() const { return n_elements / dims[0]; }
  std::string shape_string() const;  // "256 x 512"
};

class File {
 public:
  static File open(const std::string& path);
  static File parse(std::shared_ptr<MappedFile> bytes);

  uint32_t version() const { return version_; }
  const std::string& path() const { return bytes_->path(); }
  uint64_t file_size() const { return bytes_->size(); }
  uint64_t data_offset() const { return data_offset_; }
  uint32_t alignment() const { return alignment_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
  const Value* find(const std::string& key) const;
  bool has(const std::string& key) const { return find(key) != nullptr; }

  // Typed getters: missing key or wrong kind -> Error naming the key.
  // The optional-returning forms return nullopt only when the key is absent.
  std::string get_string(const std::string& key) const;
  std::optional<std::string> find_string(const std::string& key) const;
  uint64_t get_uint(const std::string& key) const;  // any integer type, must be >= 0
  std::optional<uint64_t> find_uint(const std::string& key) const;
  double get_float(const std::string& key) const;  // any float or integer type
  std::optional<double> find_float(const std::string& key) const;
  std::optional<bool> find_bool(const std::string& key) const;
  const std::vector<std::string>& get_strings(const std::string& key) const;
  std::vector<double> get_floats(const std::string& key) const;    // float or integer arrays
  std::vector<int64_t> get_ints(const std::string& key) const;     // integer arrays

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(const std::string& name) const;

  const std::shared_ptr<MappedFile>& bytes() const { return bytes_; }

 private:
  std::shared_ptr<MappedFile> bytes_;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> kv_;
  std::map<std::string, size_t> kv_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
  friend class Parser;
};

}  // namespace tandem::gguf
