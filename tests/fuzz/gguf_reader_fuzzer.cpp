// libFuzzer: the GGUF reader on arbitrary bytes. Every field is validated before use
// (docs/architecture.md, "The GGUF reader"): parse or tandem::Error, never a crash.
#include <vector>

#include "core/mapped_file.h"
#include "fuzz_support.h"
#include "gguf/file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tandem::fuzz::expect_clean([&] {
    auto bytes = tandem::MappedFile::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.gguf");
    const tandem::gguf::File file = tandem::gguf::File::parse(bytes);
    // What the engine reads next: every value and every tensor's view of the data.
    size_t touched = 0;
    for (const auto& [key, value] : file.metadata()) touched += key.size() + value.to_string().size();
    for (const auto& t : file.tensors()) {
      touched += t.shape_string().size();
      if (t.n_bytes) touched += static_cast<const uint8_t*>(t.data)[t.n_bytes - 1];
    }
    (void)file.find_string("general.architecture");
    if (touched == 0xFFFFFFFF) std::abort();  // keeps the reads
  });
  return 0;
}
