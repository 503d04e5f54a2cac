// libFuzzer: the tokenizers (SentencePiece and byte-level BPE with several
// pre-tokenizers) on arbitrary text: encode with and without special-token parsing,
// then decode every id. The vocabularies come from ../shared/tokenizers.
// Input: SELECTOR_BYTE TEXT.
#include <memory>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "gguf/file.h"
#include "tokenizer/tokenizer.h"

namespace {

std::vector<std::unique_ptr<tandem::tokenizer::Tokenizer>>& tokenizers() {
  static std::vector<std::unique_ptr<tandem::tokenizer::Tokenizer>> all = [] {
    std::vector<std::unique_ptr<tandem::tokenizer::Tokenizer>> loaded;
    for (const char* name : {"llama-spm", "llama-bpe", "qwen2", "gpt-2", "deepseek-coder", "falcon", "phi-3"}) {
      const std::string path = std::string(TANDEM_SHARED_DIR) + "/tokenizers/ggml-vocab-" + name + ".gguf";
      loaded.push_back(tandem::tokenizer::Tokenizer::from_gguf(tandem::gguf::File::open(path)));
    }
    return loaded;
  }();
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tokenizers();  // loading is not what is fuzzed
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto& all = tokenizers();
  const auto& tok = *all[data[0] % all.size()];
  const bool special = data[0] & 0x80;
  const std::string_view text = tandem::fuzz::as_text(data + 1, size - 1);
  tandem::fuzz::expect_clean([&] {
    const auto ids = tok.encode(text, special, special);
    for (const auto id : ids)
      if (id < 0 || id >= tok.n_vocab()) std::abort();  // an id outside the vocabulary
    (void)tok.decode(ids, special);
  });
  return 0;
}
