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

// Number of tokens in tokenizer.ggml.tokens; Error if absent.
int vocab_size(const Metadata& tokenizer);

}  // namespace tandem::synth
