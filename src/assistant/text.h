// Small text helpers the apps share: UTF-8 checks, Chinese characters, the language
// of a text, whitespace.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace tandem::assistant {

bool valid_utf8(std::string_view text);
// The codepoint at `at` and its byte length (U+FFFD, 1 for a malformed byte).
uint32_t codepoint_at(std::string_view text, size_t at, size_t* length);
// CJK ideographs (the unified blocks and their extensions, compatibility ideographs).
bool is_han(uint32_t cp);
// "zh" when Chinese characters are at least a fifth of the letters, else "en".
std::string detect_language(std::string_view text);
// ASCII and Unicode whitespace removed from both ends.
std::string_view trim(std::string_view text);
bool is_blank(std::string_view text);

}  // namespace tandem::assistant
