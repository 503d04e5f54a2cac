// Byte-level BPE pre-tokenization: the text is cut into words by a list of
// regexes, each applied to the pieces the previous one produced, as
// llama.cpp does for each tokenizer.ggml.pre value.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/regex.h"

namespace tandem::tokenizer {

class Pretokenizer {
 public:
  // Error naming `pre` and listing the supported names when it is unknown.
  static Pretokenizer for_name(std::string_view pre);
  static std::string supported_names();

  // Words as UTF-8 (malformed input already replaced by U+FFFD), before byte encoding.
  std::vector<std::string> split(std::string_view text) const;

  const std::string& name() const { return name_; }
  // The whole word is looked up in the vocabulary before any merge (Llama 3).
  bool ignore_merges() const { return ignore_merges_; }
  bool adds_bos_by_default() const { return add_bos_; }

 private:
  std::string name_;
  std::vector<SplitRegex> regexes_;
  bool ignore_merges_ = false;
  bool add_bos_ = false;
};

}  // namespace tandem::tokenizer
