// Internals of find_pii shared by its scanners. Every scanner reads the folded text
// (full-width ASCII such as "１３８" or "：" turned into plain ASCII) and proposes
// candidates; find_pii keeps the longest, most specific ones and maps them back to
// byte offsets of the original text.
#pragma once
#include <cstddef>
#include <string_view>
#include <vector>

namespace tandem::router::scan {

// Lower rank wins a tie between candidates of equal length.
enum class Kind { api_key, cn_id_number, bank_card, email, phone, password, gps, street_address };

struct Candidate {
  Kind kind;
  size_t begin, end;  // into the folded text
};
using Candidates = std::vector<Candidate>;

void scan_cn_id_numbers(std::string_view text, Candidates& out);
void scan_phones(std::string_view text, Candidates& out);
void scan_bank_cards(std::string_view text, Candidates& out);
void scan_gps(std::string_view text, Candidates& out);
void scan_emails(std::string_view text, Candidates& out);
void scan_api_keys(std::string_view text, Candidates& out);
void scan_passwords(std::string_view text, Candidates& out);
void scan_street_addresses(std::string_view text, Candidates& out);

// The predicates below are shared by the number and the text scanners.
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

inline bool alnum_at(std::string_view text, size_t pos) { return pos < text.size() && is_alnum(text[pos]); }
inline bool digit_at(std::string_view text, size_t pos) { return pos < text.size() && is_digit(text[pos]); }
inline size_t count_digits(std::string_view text, size_t pos) {
  size_t end = pos;
  while (end < text.size() && is_digit(text[end])) ++end;
  return end - pos;
}

// "1,412,000": a comma between a 1-3 digit group and exactly three digits.
inline bool is_thousands_comma(std::string_view text, size_t comma) {
  if (comma >= text.size() || text[comma] != ',' || count_digits(text, comma + 1) != 3) return false;
  size_t before = 0;
  while (before < comma && is_digit(text[comma - 1 - before])) ++before;
  return before >= 1 && before <= 3;
}

// A number may start at `pos` only where it is not the tail of a word, a longer
// number or a decimal fraction ("v2", "CA1234", "3.14159...", "1,412,000").
inline bool number_may_start(std::string_view text, size_t pos) {
  if (pos == 0) return true;
  char before = text[pos - 1];
  if (is_alnum(before) || before == '_') return false;
  if (before == '.' && pos >= 2 && is_digit(text[pos - 2])) return false;
  return !is_thousands_comma(text, pos - 1);
}
// ... and may end at `pos` only where no letter, digit or fraction follows.
inline bool number_may_end(std::string_view text, size_t pos) {
  if (pos >= text.size()) return true;
  char after = text[pos];
  if (is_alnum(after) || after == '_') return false;
  if (after == '.' && digit_at(text, pos + 1)) return false;
  return !is_thousands_comma(text, pos);
}

// Case-insensitive ASCII comparison of `word` with the text at `pos`.
inline bool matches_at(std::string_view text, size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (size_t i = 0; i < word.size(); ++i)
    if (lower(text[pos + i]) != lower(word[i])) return false;
  return true;
}

// One UTF-8 code point at `pos`; malformed bytes decode as U+FFFD of length 1.
struct CodePoint {
  char32_t value;
  size_t length;
};
CodePoint decode_at(std::string_view text, size_t pos);
inline bool is_han(char32_t cp) { return cp >= 0x4E00 && cp <= 0x9FFF; }

}  // namespace tandem::router::scan
