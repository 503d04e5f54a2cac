// A small backtracking regex matcher over codepoints, for the pre-tokenizer
// split patterns that tokenizer.json files use. It follows ECMAScript
// semantics (leftmost match, alternatives tried in order, greedy quantifiers),
// which is what llama.cpp's std::regex-based splitter does, and adds Unicode
// categories: \p{L} \p{N} \p{P} \p{S} \p{M} \p{Z} \p{C}. Supported syntax:
// literals, escapes (\r \n \t \f \v \s \S \d \D and escaped punctuation),
// classes with ranges and negation, (?: ) ( ) (?= ) (?! ), alternation,
// ? * + {n} {n,} {n,m} on single-character atoms and on groups, and $.
#pragma once
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace tandem::tokenizer {

class SplitRegex {
 public:
  explicit SplitRegex(std::string_view pattern);  // Error on unsupported syntax
  ~SplitRegex();
  SplitRegex(SplitRegex&&) noexcept;

  // Splits the codepoints text[begin, end) the way std::regex_iterator walks it:
  // every match is one piece and every run of text between matches is one piece.
  // `text` holds codepoints with non-ASCII whitespace folded to U+000B (as llama.cpp
  // does before running std::regex); `flags` holds unicode::flags of the originals.
  void split(const std::vector<uint32_t>& text, const std::vector<uint16_t>& flags, size_t begin, size_t end,
             std::vector<size_t>& piece_lengths) const;

  struct Node;
  using Sequence = std::vector<Node>;

 private:
  std::unique_ptr<std::vector<Sequence>> alternatives_;
};

}  // namespace tandem::tokenizer
