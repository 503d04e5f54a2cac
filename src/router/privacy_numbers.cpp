// Scanners for numbers that identify a person: PRC resident IDs, phone numbers,
// bank cards and GPS coordinates. Checksums (ISO 7064 MOD 11-2, Luhn) and range
// checks keep order totals, years, prices and versions out.
#include <cstdlib>
#include <string>

#include "router/privacy_scan.h"

namespace tandem::router::scan {
namespace {

bool is_separator(char c) { return c == ' ' || c == '-'; }

// The characters of `text` in [begin, end) that are digits or the ID's final X.
std::string digits_only(std::string_view text, size_t begin, size_t end) {
  std::string digits;
  for (size_t i = begin; i < end; ++i)
    if (is_digit(text[i]) || text[i] == 'X' || text[i] == 'x') digits.push_back(text[i]);
  return digits;
}

bool is_leap_year(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

bool is_plausible_birth_date(int year, int month, int day) {
  constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1900 || year > 2030 || month < 1 || month > 12 || day < 1) return false;
  int days = kDaysInMonth[month - 1] + (month == 2 && is_leap_year(year) ? 1 : 0);
  return day <= days;
}

int number_at(const std::string& digits, size_t pos, size_t count) { return std::stoi(digits.substr(pos, count)); }

// 18 characters: 6-digit region (first digit 1-8), birth date YYYYMMDD, 3-digit
// sequence and a MOD 11-2 check character.
bool is_valid_cn_id(const std::string& id) {
  if (id.size() != 18 || id[0] < '1' || id[0] > '8') return false;
  for (size_t i = 0; i < 17; ++i)
    if (!is_digit(id[i])) return false;
  constexpr int kWeights[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) sum += (id[i] - '0') * kWeights[i];
  constexpr std::string_view kCheckCharacters = "10X98765432";
  char check = id[17] == 'x' ? 'X' : id[17];
  if (check != kCheckCharacters[sum % 11]) return false;
  return is_plausible_birth_date(number_at(id, 6, 4), number_at(id, 10, 2), number_at(id, 12, 2));
}

bool passes_luhn(const std::string& digits) {
  int sum = 0;
  bool doubled = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int digit = digits[i] - '0';
    if (doubled) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
    doubled = !doubled;
  }
  return sum % 10 == 0;
}

bool is_cn_mobile(const std::string& digits) {
  return digits.size() == 11 && digits[0] == '1' && digits[1] >= '3' && digits[1] <= '9';
}

// Reads digit groups of the given sizes joined by one separator (or none) used
// consistently; returns the end, or npos when the text does not have that shape.
size_t match_grouped(std::string_view text, size_t pos, std::initializer_list<size_t> groups, char separator) {
  bool first = true;
  for (size_t group : groups) {
    if (!first && separator != 0) {
      if (pos >= text.size() || text[pos] != separator) return std::string_view::npos;
      ++pos;
    }
    first = false;
    for (size_t i = 0; i < group; ++i, ++pos)
      if (!digit_at(text, pos)) return std::string_view::npos;
  }
  return pos;
}

constexpr char kSeparatorChoices[] = {0, ' ', '-'};

}  // namespace

void scan_cn_id_numbers(std::string_view text, Candidates& out) {
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!is_digit(text[pos]) || !number_may_start(text, pos)) continue;
    for (char separator : kSeparatorChoices) {
      // Region, birth date, then the sequence whose last character may be X.
      size_t end = match_grouped(text, pos, {6, 8, 3}, separator);
      if (end == std::string_view::npos || end >= text.size()) continue;
      char check = text[end];
      if (!is_digit(check) && check != 'X' && check != 'x') continue;
      ++end;
      if (number_may_end(text, end) && is_valid_cn_id(digits_only(text, pos, end))) {
        out.push_back({Kind::cn_id_number, pos, end});
        break;
      }
    }
  }
}

namespace {

// 1[3-9]x xxxx xxxx with an optional +86 / 86 / 0086 country prefix.
void scan_cn_mobiles(std::string_view text, Candidates& out) {
  constexpr std::string_view kPrefixes[] = {"+86", "0086", "86", ""};
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!(is_digit(text[pos]) || text[pos] == '+') || !number_may_start(text, pos)) continue;
    for (std::string_view prefix : kPrefixes) {
      if (text.substr(pos, prefix.size()) != prefix) continue;
      size_t body = pos + prefix.size();
      if (!prefix.empty() && body < text.size() && is_separator(text[body])) ++body;
      if (body + 1 >= text.size() || text[body] != '1' || text[body + 1] < '3' || text[body + 1] > '9') continue;
      bool matched = false;
      for (char separator : kSeparatorChoices) {
        size_t end = match_grouped(text, body, {3, 4, 4}, separator);
        if (end != std::string_view::npos && number_may_end(text, end)) {
          out.push_back({Kind::phone, pos, end});
          matched = true;
          break;
        }
      }
      if (matched) break;
    }
  }
}

// 010-12345678, 0755 1234567, (021)12345678: area codes 01x/02x have three
// digits, the others four; local numbers have 7-8 digits and never start with 0.
void scan_cn_landlines(std::string_view text, Candidates& out) {
  for (size_t pos = 0; pos < text.size(); ++pos) {
    bool parenthesized = text[pos] == '(';
    size_t area = pos + (parenthesized ? 1 : 0);
    if (!digit_at(text, area) || text[area] != '0' || !number_may_start(text, pos)) continue;
    size_t area_length = (digit_at(text, area + 1) && (text[area + 1] == '1' || text[area + 1] == '2')) ? 3 : 4;
    if (count_digits(text, area) != area_length) continue;
    size_t local = area + area_length;
    if (parenthesized) {
      if (local >= text.size() || text[local] != ')') continue;
      ++local;
      if (local < text.size() && text[local] == ' ') ++local;
    } else {
      if (local >= text.size() || !is_separator(text[local])) continue;
      ++local;
    }
    size_t local_length = count_digits(text, local);
    if (local_length < 7 || local_length > 8 || text[local] == '0') continue;
    if (number_may_end(text, local + local_length)) out.push_back({Kind::phone, pos, local + local_length});
  }
}

// North American (555) 123-4567, 555-123-4567, 555.123.4567.
void scan_us_phones(std::string_view text, Candidates& out) {
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!number_may_start(text, pos)) continue;
    size_t end = std::string_view::npos;
    if (text[pos] == '(' && match_grouped(text, pos + 1, {3}, 0) == pos + 4 && pos + 4 < text.size() &&
        text[pos + 4] == ')') {
      size_t rest = pos + 5 + (pos + 5 < text.size() && text[pos + 5] == ' ' ? 1 : 0);
      end = match_grouped(text, rest, {3, 4}, '-');
      if (text[pos + 1] < '2') end = std::string_view::npos;
    } else if (is_digit(text[pos]) && text[pos] >= '2') {
      for (char separator : {'-', '.'}) {
        end = match_grouped(text, pos, {3, 3, 4}, separator);
        if (end != std::string_view::npos) break;
      }
    }
    if (end != std::string_view::npos && number_may_end(text, end)) out.push_back({Kind::phone, pos, end});
  }
}

// +CC followed by 7-14 more digits in groups split by single spaces, dashes,
// dots or a parenthesized part: +44 20 7946 0958, +1 (415) 555-0132, +49-30-1234567.
void scan_international_phones(std::string_view text, Candidates& out) {
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (text[pos] != '+' || !digit_at(text, pos + 1) || !number_may_start(text, pos)) continue;
    size_t cursor = pos + 1, end = pos + 1, digits = 0;
    while (cursor < text.size()) {
      size_t next = cursor;
      if (next > pos + 1) {  // a separator between groups
        if (text[next] == ' ' && next + 1 < text.size() && text[next + 1] == '(') ++next;
        if (text[next] == ' ' || text[next] == '-' || text[next] == '.') ++next;
      }
      bool parenthesized = next < text.size() && text[next] == '(';
      size_t group = count_digits(text, next + (parenthesized ? 1 : 0));
      if (group == 0) break;
      size_t group_end = next + (parenthesized ? 1 : 0) + group;
      if (parenthesized) {
        if (group_end >= text.size() || text[group_end] != ')') break;
        ++group_end;
        if (group_end < text.size() && text[group_end] == ' ') {
          // "(415) 555" continues with a group; otherwise the space is not ours.
          if (!digit_at(text, group_end + 1)) break;
          ++group_end;
          size_t more = count_digits(text, group_end);
          digits += more;
          group_end += more;
        }
      }
      digits += group;
      end = cursor = group_end;
    }
    if (digits >= 8 && digits <= 17 && number_may_end(text, end)) out.push_back({Kind::phone, pos, end});
  }
}

}  // namespace

void scan_phones(std::string_view text, Candidates& out) {
  scan_cn_mobiles(text, out);
  scan_cn_landlines(text, out);
  scan_us_phones(text, out);
  scan_international_phones(text, out);
}

// 13-19 digits written together or in groups of 3-6 with one consistent separator
// (4-4-4-4, 4-6-5, 6222 0212 3456 7890 123); Luhn checked, issuer digit 2-6, and
// never a number that is already a valid ID or mobile.
void scan_bank_cards(std::string_view text, Candidates& out) {
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!is_digit(text[pos]) || text[pos] < '2' || text[pos] > '6' || !number_may_start(text, pos)) continue;
    for (char separator : kSeparatorChoices) {
      size_t end = pos, digits = 0, groups = 0, best_end = 0;
      while (true) {
        size_t group_start = end;
        if (groups > 0) {
          if (separator == 0 || group_start >= text.size() || text[group_start] != separator) break;
          ++group_start;
        }
        size_t group = count_digits(text, group_start);
        if (group == 0 || (separator != 0 && (group < 3 || group > 6))) break;
        end = group_start + group;
        digits += group;
        ++groups;
        if (digits > 19) break;
        if (digits >= 13 && number_may_end(text, end)) {
          std::string number = digits_only(text, pos, end);
          if (passes_luhn(number) && !is_valid_cn_id(number) && !is_cn_mobile(number)) best_end = end;
        }
      }
      if (best_end != 0) {
        out.push_back({Kind::bank_card, pos, best_end});
        break;
      }
    }
  }
}

namespace {

struct Coordinate {
  double value = 0;
  char hemisphere = 0;  // N, S, E, W or 0
  size_t end = 0;
  bool ok = false;
};

// -39.9042, 39.9042°, 39.9042°N, 39.9042 N
Coordinate read_coordinate(std::string_view text, size_t pos) {
  Coordinate coordinate;
  size_t cursor = pos + (pos < text.size() && text[pos] == '-' ? 1 : 0);
  size_t whole = count_digits(text, cursor);
  if (whole == 0 || whole > 3 || cursor + whole >= text.size() || text[cursor + whole] != '.') return coordinate;
  size_t fraction = count_digits(text, cursor + whole + 1);
  if (fraction == 0) return coordinate;
  coordinate.end = cursor + whole + 1 + fraction;
  coordinate.value = std::strtod(std::string(text.substr(pos, coordinate.end - pos)).c_str(), nullptr);
  size_t after = coordinate.end;
  if (text.substr(after, 2) == "\xC2\xB0") after += 2;  // the degree sign
  size_t letter = after + (after < text.size() && text[after] == ' ' ? 1 : 0);
  if (letter < text.size() && std::string_view("NSEWnsew").find(text[letter]) != std::string_view::npos &&
      !alnum_at(text, letter + 1)) {
    coordinate.hemisphere = static_cast<char>(text[letter] & ~0x20);
    after = letter + 1;
  }
  coordinate.end = after;
  // Without a hemisphere, only precise fractions look like coordinates rather than prices.
  coordinate.ok = coordinate.hemisphere != 0 || fraction >= 3;
  return coordinate;
}

bool is_latitude_letter(char c) { return c == 'N' || c == 'S'; }

}  // namespace

// A latitude/longitude pair: "39.9042, 116.4074", "39.9042°N 116.4074°E", in either
// order when hemispheres say which is which, inside [-90, 90] x [-180, 180].
void scan_gps(std::string_view text, Candidates& out) {
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!(is_digit(text[pos]) || (text[pos] == '-' && digit_at(text, pos + 1))) || !number_may_start(text, pos))
      continue;
    Coordinate first = read_coordinate(text, pos);
    if (!first.ok) continue;
    size_t next = first.end;
    while (next < text.size() && text[next] == ' ') ++next;
    if (next < text.size() && (text[next] == ',' || text[next] == '/' || text[next] == ';')) ++next;
    while (next < text.size() && text[next] == ' ') ++next;
    if (next == first.end) continue;  // the two numbers need something between them
    Coordinate second = read_coordinate(text, next);
    if (!second.ok || !number_may_end(text, second.end)) continue;
    if ((first.hemisphere == 0) != (second.hemisphere == 0)) continue;
    bool swapped = first.hemisphere != 0 && !is_latitude_letter(first.hemisphere);
    const Coordinate& latitude = swapped ? second : first;
    const Coordinate& longitude = swapped ? first : second;
    if (latitude.hemisphere != 0 && (!is_latitude_letter(latitude.hemisphere) || is_latitude_letter(longitude.hemisphere)))
      continue;
    if (std::abs(latitude.value) > 90 || std::abs(longitude.value) > 180) continue;
    out.push_back({Kind::gps, pos, second.end});
    pos = second.end - 1;
  }
}

}  // namespace tandem::router::scan
