// Read-only bytes of a file, memory-mapped so that tensor data is never copied.
// Tests and fuzzers can also wrap an in-memory buffer with the same interface.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tandem {

class MappedFile {
 public:
  static std::shared_ptr<MappedFile> open(const std::string& path);
  static std::shared_ptr<MappedFile> from_bytes(std::vector<uint8_t> bytes, std::string name = "<memory>");
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  std::vector<uint8_t> owned_;
  std::string path_;
};

}  // namespace tandem
