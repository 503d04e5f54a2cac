#include "synth/vocab.h"

#include <cstdio>

#include "core/error.h"
#include "gguf/file.h"

namespace tandem::synth {

Metadata copy_tokenizer(const std::string& path) {
  auto file = gguf::File::open(path);
  Metadata out;
  for (const auto& [key, value] : file.metadata())
    if (key.rfind("tokenizer.", 0) == 0) out.emplace_back(key, value);
  if (out.empty()) fail("'", path, "' has no tokenizer.* metadata to copy");
  return out;
}

Metadata generated_tokenizer(int n_vocab) {
  constexpr int kSpecial = 3, kBytes = 256;
  if (n_vocab < kSpecial + kBytes) fail("a generated vocabulary needs at least ", kSpecial + kBytes, " tokens, got ", n_vocab);
  enum TokenType : int64_t { Normal = 1, Unknown = 2, Control = 3, Byte = 6 };
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int64_t> types = {Unknown, Control, Control};
  for (int b = 0; b < kBytes; b++) {
    char piece[8];
    std::snprintf(piece, sizeof piece, "<0x%02X>", b);
    tokens.push_back(piece);
    types.push_back(Byte);
  }
  // U+2581 is SentencePiece's word-start marker.
  for (int i = (int)tokens.size(); i < n_vocab; i++) {
    tokens.push_back("\xe2\x96\x81w" + std::to_string(i));
    types.push_back(Normal);
  }
  std::vector<double> scores(tokens.size());
  for (size_t i = 0; i < scores.size(); i++) scores[i] = -(double)i;

  Metadata out;
  out.emplace_back("tokenizer.ggml.model", gguf::Value::string("llama"));
  out.emplace_back("tokenizer.ggml.tokens", gguf::Value::strings(std::move(tokens)));
  out.emplace_back("tokenizer.ggml.scores", gguf::Value::f32s(std::move(scores)));
  out.emplace_back("tokenizer.ggml.token_type", gguf::Value::i32s(std::move(types)));
  out.emplace_back("tokenizer.ggml.bos_token_id", gguf::Value::u32(1));
  out.emplace_back("tokenizer.ggml.eos_token_id", gguf::Value::u32(2));
  out.emplace_back("tokenizer.ggml.unknown_token_id", gguf::Value::u32(0));
  out.emplace_back("tokenizer.ggml.add_bos_token", gguf::Value::boolean(true));
  return out;
}

int vocab_size(const Metadata& tokenizer) {
  for (const auto& [key, value] : tokenizer)
    if (key == "tokenizer.ggml.tokens") return (int)value.array_size();
  fail("tokenizer metadata has no tokenizer.ggml.tokens");
}

}  // namespace tandem::synth
