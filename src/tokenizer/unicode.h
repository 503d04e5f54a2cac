// Codepoint-level helpers shared by the tokenizers. Categories come from
// utf8proc; the decoding rules copy llama.cpp's so that malformed input is
// tokenized the same way (each undecodable byte becomes U+FFFD).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::tokenizer::unicode {

enum Flag : uint16_t {
  kLetter = 1 << 0,       // \p{L}
  kNumber = 1 << 1,       // \p{N}
  kPunctuation = 1 << 2,  // \p{P}
  kSymbol = 1 << 3,       // \p{S}
  kMark = 1 << 4,         // \p{M}
  kSeparator = 1 << 5,    // \p{Z}
  kOther = 1 << 6,        // \p{C}, including unassigned
  kWhitespace = 1 << 7,   // \s: the Unicode White_Space property
};

uint16_t flags(uint32_t cp);
inline bool is_whitespace(uint32_t cp) { return flags(cp) & kWhitespace; }

// Length of the UTF-8 sequence that `lead` starts, judged by its high bits only.
size_t sequence_length(unsigned char lead);

// Lenient decoding: a malformed sequence yields U+FFFD and skips one byte.
std::vector<uint32_t> decode_lenient(std::string_view utf8);
void append_utf8(std::string& out, uint32_t cp);  // cp > U+10FFFF is written as U+FFFD

// GPT-2's reversible byte <-> printable-codepoint map used by byte-level BPE.
const std::string& byte_to_unicode(uint8_t byte);
int unicode_to_byte(uint32_t cp);  // -1 when cp is not in the map

// Strict incremental UTF-8 validation, used for streaming output.
struct Utf8Step {
  enum Kind { Complete, Incomplete, Invalid } kind;
  size_t length;  // bytes consumed (Complete / Invalid)
};
Utf8Step next_utf8(std::string_view bytes);

}  // namespace tandem::tokenizer::unicode
