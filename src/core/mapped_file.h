// Read-only bytes of a file, memory-mapped so that tensor data is never copied.
// Tests and fuzzers can also wrap an in-memory buffer with the same interface.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tandem {

// How a model file's bytes become memory. Either way the whole file ends up
// resident once every weight has been read (memory::Plan counts it so).
struct MapOptions {
  bool use_mmap = true;  // false: read into anonymous memory (a file on a filesystem without mmap, or to detach from it)
  bool mlock = false;    // lock the pages in RAM; a warning on stderr (not an error) when RLIMIT_MEMLOCK refuses
  // Bring every page in at open instead of on first use. A run reads nearly all of a
  // model anyway; doing it up front commits the memory the plan counts (including the
  // rows of an untied token embedding that a short run never looks up) at load time,
  // not partway through a conversation.
  bool prefault = false;
  // Called with the fraction loaded (0..1) as the pages are faulted in or read, in chunks.
  std::function<void(double)> progress;
};

class MappedFile {
 public:
  static std::shared_ptr<MappedFile> open(const std::string& path, const MapOptions& options = {});
  static std::shared_ptr<MappedFile> from_bytes(std::vector<uint8_t> bytes, std::string name = "<memory>");
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  bool mapped() const { return mapped_; }  // a view of the file (false: copied into anonymous memory)
  bool locked() const { return locked_; }

  // The caller will not read [begin, begin + size) again (its contents now live elsewhere):
  // the whole pages inside it leave this process's memory. A mapped file would fault them
  // back in from the file if they were read; an anonymous copy would read zeros.
  void discard(const uint8_t* begin, size_t size);

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  bool anonymous_ = false;  // data_ is an anonymous mapping we own
  bool locked_ = false;
  std::vector<uint8_t> owned_;
  std::string path_;
};

// A progress bar on stderr ("loading NAME  42%"), redrawn in place, when stderr is a
// terminal; an empty function (so: no pre-faulting, no output) otherwise.
std::function<void(double)> terminal_progress(const std::string& label);

}  // namespace tandem
