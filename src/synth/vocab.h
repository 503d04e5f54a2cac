// The tokenizer part of a synthetic model's metadata.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "gguf/value.h"

namespace tandem::synth {

using Metadata = std::vector<std::pair<std::string, gguf::Value>>;

// Every tokenizer.* key of a GGUF file (a vocab-only file or a real model).
Metadata copy_tokenizer(const std::string& path);

// A SentencePiece-style vocabulary of n_vocab entries: <unk> <s> </s>, the 256 byte
// tokens, then filler pieces. Any text tokenizes (through byte fallback) and both
// Tandem and llama.cpp load it.
Metadata generated_tokenizer(int n_vocab);

// A small slice of a real vocabulary, for test models of a few MB: the first `keep`
// tokens (byte-level BPE and SentencePiece vocabularies list bytes and the most frequent
// pieces first), the merges among them, and `add` appended (chat and tool tokens). A text
// the source already has keeps its type and score; a new one gets `type` (4: user-defined,
// 3: control). Special-token ids follow their text; `special` sets more ("eos" -> text).
struct AddedToken {
  std::string text;
  int type = 4;
};
struct VocabSlice {
  int keep = 0;  // 0: the whole vocabulary, unchanged
  std::vector<AddedToken> add;
  std::vector<std::pair<std::string, std::string>> special;
};
Metadata slice_tokenizer(Metadata tokenizer, const VocabSlice& slice);

// Number of tokens in tokenizer.ggml.tokens; Error if absent.
int vocab_size(const Metadata& tokenizer);

}  // namespace tandem::synth
