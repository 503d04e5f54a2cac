// The privacy classifier's view of a request: hashed features that carry over to text
// the model has never seen. Character n-grams (1-3 over Chinese, 2-5 over Latin, which
// need no word segmentation), lowercased words and word bigrams, curated category
// lexicons (conditions, drug names and suffixes, money, kinship, school, faith, ...),
// personal-context markers (my / 我的 / 我妈 / a named person's) and generic-question
// markers ("what is", 一般), and cheap shapes (an amount, a dose, a time, a speaker line).
// Digits are folded to 0 so that a shape, not a value, is learned.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::privacy {

// The text as the features see it: one entry per code point, full-width folded to
// ASCII, lowercased, digits turned into '0', whitespace runs into one space; each
// entry remembers the original bytes it came from, so spans map back.
struct NormalizedText {
  std::u32string chars;
  std::vector<uint32_t> begin, end;  // byte offsets of each character in the original text
  std::vector<uint8_t> capitalized;  // 1 where the original letter was upper case
};
NormalizedText normalize(std::string_view text);

// Character classes of the normalized text.
bool is_han(char32_t c);
bool is_word_char(char32_t c);  // a letter of any script except Han, a digit, '_'

// One feature occurrence: which feature (a 32-bit hash), its value, and the characters
// of the normalized text it was read from ([first, last) , for spans; first == last for
// whole-text features).
struct Feature {
  uint32_t hash;
  float value;
  uint32_t first, last;
};

// Feature families: each gets its own hash namespace, and the n-gram families are
// scaled by 1/sqrt(their count) so that long pasted texts and short commands speak
// on one scale, while a lexicon or shape hit keeps its full weight in any length.
void extract_features(const NormalizedText& text, std::vector<Feature>& out);

// FNV-1a over code points, seeded by a namespace, so that features are stable across
// platforms and builds (the committed model depends on these values).
uint32_t feature_hash(std::string_view name_space, std::u32string_view chars);

// Mixes a feature hash before it is reduced to a weight-table index (murmur3's finalizer).
inline uint32_t bucket_hash(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}

}  // namespace tandem::privacy
