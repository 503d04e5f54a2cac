#include "assistant/text.h"

#include "tokenizer/unicode.h"

namespace tandem::assistant {

namespace unicode = tokenizer::unicode;

bool valid_utf8(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    const unicode::Utf8Step step = unicode::next_utf8(text.substr(at));
    if (step.kind != unicode::Utf8Step::Complete) return false;
    at += step.length;
  }
  return true;
}

uint32_t codepoint_at(std::string_view text, size_t at, size_t* length) {
  const unicode::Utf8Step step = unicode::next_utf8(text.substr(at));
  if (step.kind != unicode::Utf8Step::Complete) {
    *length = 1;
    return 0xFFFD;
  }
  *length = step.length;
  const auto b = [&](size_t i) { return uint32_t(static_cast<unsigned char>(text[at + i])); };
  switch (step.length) {
    case 1: return b(0);
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

bool is_han(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0x20000 && cp <= 0x3134F);
}

std::string detect_language(std::string_view text) {
  size_t han = 0, letters = 0;
  for (size_t at = 0, length = 0; at < text.size(); at += length) {
    const uint32_t cp = codepoint_at(text, at, &length);
    if (is_han(cp)) {
      ++han, ++letters;
    } else if (unicode::flags(cp) & unicode::kLetter) {
      ++letters;
    }
  }
  // A Chinese sentence carries about as much as five English words' letters.
  return letters > 0 && han * 5 >= letters ? "zh" : "en";
}

std::string_view trim(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end) {
    size_t length = 0;
    if (!unicode::is_whitespace(codepoint_at(text, begin, &length))) break;
    begin += length;
  }
  while (end > begin) {
    size_t start = end - 1;  // back to the start of the last character
    while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    size_t length = 0;
    if (!unicode::is_whitespace(codepoint_at(text, start, &length)) || start + length != end) break;
    end = start;
  }
  return text.substr(begin, end - begin);
}

bool is_blank(std::string_view text) { return trim(text).empty(); }

}  // namespace tandem::assistant
