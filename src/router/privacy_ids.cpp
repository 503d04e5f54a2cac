// Identity documents and accounts other than the PRC resident ID: US social security
// numbers (area, group and serial rules), IBANs (country length and mod 97), Hong Kong
// and Taiwan IDs (check digits), Macau IDs, passports (CN formats alone; other countries
// after a passport word; machine-readable zones).
#include <string>

#include "router/privacy_scan.h"

namespace tandem::router::scan {
namespace {

constexpr size_t npos = std::string_view::npos;

// "Word" boundaries for codes: no letter, digit or underscore glued on either side.
bool code_may_start(std::string_view text, size_t pos) {
  return pos == 0 || !(is_alnum(text[pos - 1]) || text[pos - 1] == '_');
}
bool code_may_end(std::string_view text, size_t pos) {
  return pos >= text.size() || !(is_alnum(text[pos]) || text[pos] == '_');
}

// Digits of a 9-digit SSN: area 001-899 except 666, group 01-99, serial 0001-9999.
bool is_valid_ssn(std::string_view digits) {
  if (digits.size() != 9) return false;
  std::string_view area = digits.substr(0, 3), group = digits.substr(3, 2), serial = digits.substr(5);
  return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000";
}

void scan_ssns(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (const DigitRun& run : scan.runs) {
    if (run.x_suffix) continue;
    for_each_stretch(text, run, 9, [&](size_t first, size_t last, const std::string& digits) {
      if (!is_valid_ssn(digits)) return;
      size_t begin = run.groups[first].begin, end = stretch_end(run, last);
      bool shaped = last - first == 2 && run.groups[first].end - run.groups[first].begin == 3 &&
                    run.groups[first + 1].end - run.groups[first + 1].begin == 2;
      bool cue = scan.cue_before(begin, 32, cue_ssn) != nullptr || scan.cue_after(end, 16, cue_ssn) != nullptr;
      if (shaped || (cue && first == last))
        out.push_back({Kind::us_ssn, begin, end, cue ? 0.95f : 0.8f, public_ssn(digits)});
    });
  }
}

// ISO 13616 lengths by country (SWIFT IBAN registry).
size_t iban_length(std::string_view country) {
  struct Entry {
    std::string_view country;
    size_t length;
  };
  constexpr Entry kLengths[] = {
      {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22}, {"BH", 22},
      {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DJ", 27},
      {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FK", 18}, {"FO", 18}, {"FR", 27},
      {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22},
      {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32},
      {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19},
      {"MN", 20}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24},
      {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31},
      {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25}, {"SV", 28}, {"TL", 23},
      {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30}};
  for (const Entry& entry : kLengths)
    if (entry.country == country) return entry.length;
  return 0;
}

// Moves the first four characters to the end, reads letters as 10..35, and takes the
// number mod 97, digit by digit.
bool passes_mod97(std::string_view iban) {
  int remainder = 0;
  const auto feed = [&](char c) {
    if (is_digit(c)) {
      remainder = (remainder * 10 + (c - '0')) % 97;
    } else {
      remainder = (remainder * 100 + (c - 'A' + 10)) % 97;
    }
  };
  for (size_t i = 4; i < iban.size(); ++i) feed(iban[i]);
  for (size_t i = 0; i < 4; ++i) feed(iban[i]);
  return remainder == 1;
}

// DE89 3704 0044 0532 0130 00, GB82WEST12345698765432, fr14-2004-1010-0505-0001-3m02-606.
void scan_ibans(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (size_t pos = 0; pos + 4 <= text.size(); ++pos) {
    if (!is_alpha(text[pos]) || !is_alpha(text[pos + 1]) || !digit_at(text, pos + 2) || !digit_at(text, pos + 3) ||
        !code_may_start(text, pos))
      continue;
    std::string iban{static_cast<char>(text[pos] & ~0x20), static_cast<char>(text[pos + 1] & ~0x20)};
    size_t length = iban_length(iban);
    if (length == 0) continue;
    size_t cursor = pos + 2;
    while (cursor < text.size() && iban.size() < length) {
      char c = text[cursor];
      if (is_alnum(c)) {
        iban.push_back(is_alpha(c) ? static_cast<char>(c & ~0x20) : c);
        ++cursor;
      } else if ((c == ' ' || c == '-') && iban.size() >= 4 && alnum_at(text, cursor + 1)) {
        ++cursor;
      } else {
        break;
      }
    }
    if (iban.size() == length && code_may_end(text, cursor) && passes_mod97(iban)) {
      out.push_back({Kind::iban, pos, cursor, 0.95f});
      pos = cursor - 1;
    }
  }
}

// Hong Kong: one or two letters, six digits, a check digit (0-9 or A), usually in brackets.
int hk_check(std::string_view letters, std::string_view digits) {
  int sum = letters.size() == 1 ? 36 * 9 + (letters[0] - 'A' + 10) * 8
                                : (letters[0] - 'A' + 10) * 9 + (letters[1] - 'A' + 10) * 8;
  for (size_t i = 0; i < 6; ++i) sum += (digits[i] - '0') * static_cast<int>(7 - i);
  return (11 - sum % 11) % 11;
}

void scan_hk_ids(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!is_upper(text[pos]) || !code_may_start(text, pos)) continue;
    size_t letters = is_upper(text.size() > pos + 1 ? text[pos + 1] : ' ') ? 2 : 1;
    size_t digits_at = pos + letters;
    if (count_digits(text, digits_at) < 6) continue;
    size_t check_at = digits_at + 6;
    bool bracketed = false;
    size_t after = check_at;
    if (char_at(text, after, ' ') && char_at(text, after + 1, '(')) ++after;
    if (char_at(text, after, '(')) {
      bracketed = true;
      check_at = after + 1;
    }
    if (check_at >= text.size() || !(is_digit(text[check_at]) || text[check_at] == 'A')) continue;
    size_t end = check_at + 1;
    if (bracketed) {
      if (!char_at(text, end, ')')) continue;
      ++end;
    } else if (!code_may_end(text, end)) {
      continue;
    }
    int check = text[check_at] == 'A' ? 10 : text[check_at] - '0';
    if (check != hk_check(text.substr(pos, letters), text.substr(digits_at, 6))) continue;
    bool cue = scan.cue_before(pos, 32, cue_id_card) != nullptr;
    if (bracketed || cue) out.push_back({Kind::hk_id, pos, end, cue ? 0.95f : 0.85f});
  }
}

// Taiwan: a letter (the issuing area), 1/2 (or 8/9 for residents' certificates), seven
// digits and a check digit; the letter counts as two digits.
bool is_valid_tw_id(std::string_view id) {
  constexpr int kLetterCodes[] = {10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21,
                                  22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33};
  int code = kLetterCodes[id[0] - 'A'];
  int sum = code / 10 + (code % 10) * 9;
  for (size_t i = 1; i < 9; ++i) sum += (id[i] - '0') * static_cast<int>(9 - i);
  sum += id[9] - '0';
  return sum % 10 == 0;
}

void scan_tw_ids(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (size_t pos = 0; pos + 10 <= text.size(); ++pos) {
    if (!is_upper(text[pos]) || !code_may_start(text, pos) || count_digits(text, pos + 1) != 9) continue;
    char kind = text[pos + 1];
    if (kind != '1' && kind != '2' && kind != '8' && kind != '9') continue;
    if (!code_may_end(text, pos + 10) || !is_valid_tw_id(text.substr(pos, 10))) continue;
    bool cue = scan.cue_before(pos, 32, cue_id_card) != nullptr;
    // A123456789 is the example every explanation of the format uses.
    const char* example = text.substr(pos, 10) == "A123456789" ? "example_id" : nullptr;
    out.push_back({Kind::tw_id, pos, pos + 10, cue ? 0.95f : 0.8f, example});
  }
}

// Macau: seven digits starting 1, 5 or 7 and a check digit, "1234567(8)"; the format
// is too plain to stand alone, so a Macau word must be near.
void scan_mo_ids(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!digit_at(text, pos) || !number_may_start(text, pos) || count_digits(text, pos) != 7) continue;
    if (text[pos] != '1' && text[pos] != '5' && text[pos] != '7') continue;
    size_t end = pos + 7;
    if (char_at(text, end, '(') && digit_at(text, end + 1) && char_at(text, end + 2, ')')) {
      end += 3;
    } else {
      continue;
    }
    if (scan.cue_before(pos, 48, cue_macau) == nullptr) continue;
    out.push_back({Kind::mo_id, pos, end, 0.85f});
  }
}

// A passport number after a passport word: 6-10 capital letters and digits, at least
// five of them digits ("E12345678", "123456789", "YA1234567", "09AB12345").
size_t passport_token_end(std::string_view text, size_t pos) {
  if (!is_upper_alnum(text.size() > pos ? text[pos] : ' ') || !code_may_start(text, pos)) return npos;
  size_t end = span_while(text, pos, is_upper_alnum);
  size_t digits = 0;
  for (size_t i = pos; i < end; ++i) digits += is_digit(text[i]);
  if (end - pos < 6 || end - pos > 10 || digits < 5 || !code_may_end(text, end)) return npos;
  return end;
}

// The Chinese ordinary passport: E and eight digits, or E, a letter (not I or O) and seven.
bool is_cn_passport(std::string_view token) {
  if (token.size() != 9 || token[0] != 'E') return false;
  if (count_digits(token, 1) == 8) return true;
  return is_upper(token[1]) && token[1] != 'I' && token[1] != 'O' && count_digits(token, 2) == 7;
}

void scan_passports(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    size_t end = passport_token_end(text, pos);
    if (end == npos) continue;
    std::string_view token = text.substr(pos, end - pos);
    const CueHit* cue = scan.cue_before(pos, 40, cue_passport);
    if (cue != nullptr) {
      // The first code after the word is the number ("passport no. G12345678, expires 2030").
      bool first = true;
      for (size_t i = cue->end; i < pos && first; ++i) first = !is_digit(text[i]);
      if (first) {
        out.push_back({Kind::passport, pos, end, 0.95f});
        pos = end;
        continue;
      }
    }
    if (is_cn_passport(token)) out.push_back({Kind::passport, pos, end, 0.7f});
    pos = end;
  }
  // Machine-readable zones: lines of 30-44 capitals, digits and '<' with "<<" inside, the first "P<".
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!(is_upper_alnum(text[pos]) || text[pos] == '<') || !code_may_start(text, pos)) continue;
    size_t end = span_while(text, pos, [](char c) { return is_upper_alnum(c) || c == '<'; });
    std::string_view line = text.substr(pos, end - pos);
    if (line.size() >= 30 && line.size() <= 44 && line.find("<<") != npos && code_may_end(text, end))
      out.push_back({Kind::passport, pos, end, 0.9f});
    pos = end;
  }
}

}  // namespace

void scan_government_ids(const ScanText& scan, Candidates& out) {
  scan_ssns(scan, out);
  scan_ibans(scan, out);
  scan_hk_ids(scan, out);
  scan_tw_ids(scan, out);
  scan_mo_ids(scan, out);
  scan_passports(scan, out);
}

}  // namespace tandem::router::scan
