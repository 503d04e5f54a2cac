// Street addresses. English: house number, capitalized street name, street suffix,
// optional unit ("221B Baker Street", "350 5th Ave, Apt 12B"). Chinese: a road or
// estate name with a numbered unit after it ("建国路88号", "阳光小区5栋2单元301室"), or a
// chain of building, entrance and room numbers after any name ("求是村12幢3单元501",
// numbers in Chinese too: "三单元"), widened to the left over province/city/district
// parts ("北京市朝阳区"). Famous addresses are public (privacy_public.cpp).
#include <algorithm>
#include <string>

#include "router/privacy_scan.h"

namespace tandem::router::scan {
namespace {

constexpr size_t npos = std::string_view::npos;

constexpr std::string_view kStreetSuffixes[] = {
    "street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd", "lane", "ln", "drive", "dr",
    "way", "court", "ct", "place", "pl", "terrace", "parkway", "pkwy", "highway", "hwy", "circle",
    "square", "sq", "trail", "crescent", "close", "alley", "plaza"};
constexpr std::string_view kUnitWords[] = {"apt", "apartment", "flat", "suite", "ste", "unit", "room", "floor", "fl", "#"};

bool is_one_of(std::string_view word, const auto& table) {
  return std::any_of(std::begin(table), std::end(table),
                     [&](std::string_view entry) { return entry.size() == word.size() && matches_at(word, 0, entry); });
}

bool is_capitalized(std::string_view word) {
  return word.size() >= 2 && word[0] >= 'A' && word[0] <= 'Z' &&
         std::all_of(word.begin() + 1, word.end(), [](char c) { return is_alpha(c); });
}

bool is_ordinal(std::string_view word) {  // 5th, 42nd
  size_t digits = count_digits(word, 0);
  if (digits == 0 || word.size() != digits + 2) return false;
  std::string_view ending = word.substr(digits);
  return is_one_of(ending, std::initializer_list<std::string_view>{"st", "nd", "rd", "th"});
}

size_t word_end_at(std::string_view text, size_t pos) {
  while (pos < text.size() && is_alnum(text[pos])) ++pos;
  return pos;
}

// ", Apt 12B", " Suite 200", " #5"
size_t extend_over_unit(std::string_view text, size_t end) {
  size_t cursor = end + (end < text.size() && text[end] == ',' ? 1 : 0);
  if (cursor >= text.size() || text[cursor] != ' ') return end;
  ++cursor;
  size_t unit_end = text.substr(cursor, 1) == "#" ? cursor + 1 : word_end_at(text, cursor);
  if (unit_end == cursor || !is_one_of(text.substr(cursor, unit_end - cursor), kUnitWords)) return end;
  cursor = unit_end + (unit_end < text.size() && text[unit_end] == '.' ? 1 : 0);
  if (cursor < text.size() && text[cursor] == ' ') ++cursor;
  size_t value_end = word_end_at(text, cursor);
  if (value_end == cursor || !std::any_of(text.begin() + cursor, text.begin() + value_end, is_digit)) return end;
  return value_end;
}

void scan_english_addresses(std::string_view text, Candidates& out) {
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!is_digit(text[pos]) || !number_may_start(text, pos)) continue;
    size_t cursor = pos + count_digits(text, pos);
    if (cursor - pos > 6) continue;
    if (cursor < text.size() && is_alpha(text[cursor]) && !alnum_at(text, cursor + 1)) ++cursor;  // 221B
    size_t name_words = 0, end = npos;
    for (int words = 0; words < 5 && cursor < text.size() && text[cursor] == ' '; ++words) {
      size_t word_begin = cursor + 1;
      size_t word_end = word_end_at(text, word_begin);
      std::string_view word = text.substr(word_begin, word_end - word_begin);
      if (name_words > 0 && is_one_of(word, kStreetSuffixes)) {
        end = word_end;
        break;
      }
      if (!is_capitalized(word) && !is_ordinal(word)) break;
      ++name_words;
      cursor = word_end;
    }
    if (end == npos) continue;
    size_t with_unit = extend_over_unit(text, end);
    std::string_view address = text.substr(pos, with_unit - pos);
    out.push_back({Kind::street_address, pos, with_unit, 0.85f, public_address(address)});
  }
}

struct Glyph {
  char32_t value;
  size_t begin, end;
};

bool glyphs_match(const std::vector<Glyph>& glyphs, size_t index, std::u32string_view word) {
  if (index + word.size() > glyphs.size()) return false;
  for (size_t i = 0; i < word.size(); ++i)
    if (glyphs[index + i].value != word[i]) return false;
  return true;
}

// Returns the length of the first entry of `table` found at `index`, or 0.
size_t match_any(const std::vector<Glyph>& glyphs, size_t index, const auto& table) {
  for (std::u32string_view word : table)
    if (glyphs_match(glyphs, index, word)) return word.size();
  return 0;
}

// Longer names first, so "大道" wins over "道" and "号楼" over "号".
constexpr std::u32string_view kRoadMarkers[] = {U"大道", U"大街", U"胡同", U"小区", U"花园", U"公寓", U"大厦",
                                               U"家园", U"路", U"街", U"道", U"巷", U"里", U"苑"};
constexpr std::u32string_view kUnitMarkers[] = {U"号楼", U"号院", U"单元", U"号", U"弄", U"栋", U"幢", U"区", U"期",
                                               U"座", U"楼", U"层", U"室"};
constexpr std::u32string_view kAdminMarkers = U"省市区县镇乡";
// Characters that end a name when walking left: the words around an address, not in it.
constexpr std::u32string_view kStopCharacters = U"我你他她们在住到是往去寄送的址从于至和与给请把帮查找看下近附发收件家地";

// Estate names use some of those ("求是村", "至善苑"): in front of a unit chain, which is
// evidence enough, only these end a name.
constexpr std::u32string_view kChainStopCharacters = U"我你他她们在住到往去寄送的址从给请把帮查找看下近附发收件家地";

bool may_be_in_name(char32_t value, std::u32string_view stops = kStopCharacters) {
  return is_han(value) && stops.find(value) == npos && kAdminMarkers.find(value) == npos;
}

// How far left a name of at most `limit` characters reaches from `index`.
size_t name_start(const std::vector<Glyph>& glyphs, size_t index, size_t limit,
                  std::u32string_view stops = kStopCharacters) {
  size_t start = index;
  while (start > 0 && index - start < limit && may_be_in_name(glyphs[start - 1].value, stops)) --start;
  return start;
}

bool is_number_glyph(char32_t value) {
  return (value >= '0' && value <= '9') || chinese_digit(value) >= 0 || value == U'十';
}

struct Units {
  size_t end = npos;  // glyph index after the units
  size_t count = 0;
  bool dwelling = false;  // a building, entrance or room ("栋", "单元", "室"), not only a house number
};

// After a road or estate: one or more "<number><unit>" parts ("88号", "3栋502室",
// "200弄5号", "三单元"), and a bare room number after a building or entrance ("3单元501").
Units read_units(const std::vector<Glyph>& glyphs, size_t index) {
  Units units;
  const auto number_at = [&](size_t i) { return i < glyphs.size() && is_number_glyph(glyphs[i].value); };
  const auto ascii_digit_at = [&](size_t i) { return i < glyphs.size() && glyphs[i].value >= '0' && glyphs[i].value <= '9'; };
  bool last_was_building = false;
  while (units.count < 8) {  // no address has more parts; the cap keeps "1号1号1号…" linear
    size_t cursor = index;
    while (number_at(cursor) && cursor - index < 6) ++cursor;
    if (cursor == index) break;
    if (cursor < glyphs.size() && glyphs[cursor].value == '-' && ascii_digit_at(cursor + 1)) {
      ++cursor;
      while (ascii_digit_at(cursor)) ++cursor;
    }
    size_t unit = match_any(glyphs, cursor, kUnitMarkers);
    if (unit == 0) {
      // "3单元501": the room number closes the chain.
      bool digits_only = true;
      for (size_t i = index; i < cursor; ++i) digits_only = digits_only && ascii_digit_at(i);
      if (last_was_building && digits_only && cursor - index >= 3 && cursor - index <= 4) {
        index = cursor;
        ++units.count;
        units.dwelling = true;
      }
      break;
    }
    if (glyphs_match(glyphs, cursor, U"号线")) break;  // a metro line, "3号线"
    std::u32string_view marker(&glyphs[cursor].value, 1);
    bool building = glyphs_match(glyphs, cursor, U"号楼") || glyphs_match(glyphs, cursor, U"单元") ||
                    marker == U"栋" || marker == U"幢" || marker == U"座" || marker == U"楼";
    units.dwelling = units.dwelling || building || marker == U"室" || marker == U"层";
    last_was_building = building;
    index = cursor + unit;
    ++units.count;
  }
  if (units.count > 0) units.end = index;
  return units;
}

// Widens an address start to the left over "北京市", "朝阳区", "浦东新区".
size_t widen_over_regions(const std::vector<Glyph>& glyphs, size_t start) {
  while (start > 0 && kAdminMarkers.find(glyphs[start - 1].value) != npos) {
    size_t admin_start = name_start(glyphs, start - 1, 6);
    if (admin_start == start - 1) break;
    start = admin_start;
  }
  return start;
}

void scan_chinese_addresses(std::string_view text, Candidates& out) {
  std::vector<Glyph> glyphs;
  for (size_t pos = 0; pos < text.size();) {
    CodePoint cp = decode_at(text, pos);
    glyphs.push_back({cp.value, pos, pos + cp.length});
    pos += cp.length;
  }
  const auto add = [&](size_t start, size_t end) {
    size_t begin = glyphs[start].begin, finish = glyphs[end - 1].end;
    out.push_back({Kind::street_address, begin, finish, 0.85f, public_address(text.substr(begin, finish - begin))});
  };
  for (size_t index = 0; index < glyphs.size(); ++index) {
    size_t marker = match_any(glyphs, index, kRoadMarkers);
    if (marker > 0) {
      Units units = read_units(glyphs, index + marker);
      size_t start = name_start(glyphs, index, 5);
      if (units.end != npos && index - start >= 2) {
        add(widen_over_regions(glyphs, start), units.end);
        continue;
      }
    }
    // No road word: a chain of two or more parts that names a dwelling ("12幢3单元501")
    // after a name of two or more characters ("求是村").
    if (is_number_glyph(glyphs[index].value) && index > 0 && may_be_in_name(glyphs[index - 1].value, kChainStopCharacters)) {
      Units units = read_units(glyphs, index);
      size_t start = name_start(glyphs, index, 6, kChainStopCharacters);
      if (units.end != npos && units.count >= 2 && units.dwelling && index - start >= 2) {
        add(widen_over_regions(glyphs, start), units.end);
        index = units.end - 1;
      }
    }
  }
}

}  // namespace

void scan_street_addresses(const ScanText& scan, Candidates& out) {
  scan_english_addresses(scan.text, out);
  scan_chinese_addresses(scan.text, out);
}

}  // namespace tandem::router::scan
