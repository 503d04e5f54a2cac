// Coordinates in the ways people write them: decimal pairs ("39.9042, 116.4074"),
// hemisphere letters before or after ("N 22.5431 E 114.0579", "39.9°N 116.4°E"),
// Chinese ("北纬22.5431 东经114.0579"), degrees-minutes-seconds ("22°32'35.2\"N",
// "22度32分35秒"), and named axes ("lat 22.5431 lon 114.0579", "纬度…经度…").
// A pair is a point; ranges and the order of the axes are checked.
#include <cmath>
#include <cstdlib>
#include <string>

#include "router/privacy_scan.h"

namespace tandem::router::scan {
namespace {

constexpr std::string_view kDegree = "\xC2\xB0";  // °

enum Axis { unknown = 0, latitude = 1, longitude = 2 };

struct Component {
  double value = 0;
  Axis axis = unknown;
  size_t begin = 0, end = 0;
  bool named = false;    // a keyword or hemisphere says what it is
  bool sexagesimal = false;
  bool precise = false;  // three or more decimals
  bool ok = false;
};

// "22", "22.5431": returns the end, the value and the number of decimals, or npos.
size_t read_decimal(std::string_view text, size_t pos, size_t max_whole, double& value, size_t& decimals) {
  size_t whole = count_digits(text, pos);
  if (whole == 0 || whole > max_whole) return std::string_view::npos;
  size_t end = pos + whole;
  decimals = 0;
  if (char_at(text, end, '.') && digit_at(text, end + 1)) {
    decimals = count_digits(text, end + 1);
    end += 1 + decimals;
  }
  value = std::strtod(std::string(text.substr(pos, end - pos)).c_str(), nullptr);
  return end;
}

// The hemisphere letter after a value ("22.54 N", "22.54°N"); sets axis and sign.
size_t read_suffix_hemisphere(std::string_view text, size_t pos, Component& c) {
  size_t letter = pos + (char_at(text, pos, ' ') ? 1 : 0);
  if (letter >= text.size() || alnum_at(text, letter + 1)) return pos;
  char h = static_cast<char>(text[letter] & ~0x20);
  if (h != 'N' && h != 'S' && h != 'E' && h != 'W') return pos;
  Axis axis = (h == 'N' || h == 'S') ? latitude : longitude;
  if (c.axis != unknown && c.axis != axis) return pos;
  c.axis = axis;
  if (h == 'S' || h == 'W') c.value = -std::abs(c.value);
  c.named = true;
  return letter + 1;
}

Component read_component(const ScanText& scan, size_t pos) {
  std::string_view text = scan.text;
  Component c;
  c.begin = pos;
  bool negative = false, prefixed = false;
  if (const CueHit* word = scan.cue_at(pos, cue_coordinate)) {
    std::string_view name = text.substr(word->begin, word->end - word->begin);
    c.axis = (matches_at(name, 0, "lat") || name == "纬度") ? latitude : longitude;
    size_t cursor = word->end + (char_at(text, word->end, '.') ? 1 : 0);
    bool connector = false;
    pos = skip_connector(text, cursor, connector);
    c.named = prefixed = true;
  } else {
    struct Prefix {
      std::string_view word;
      Axis axis;
      bool negative;
    };
    constexpr Prefix kPrefixes[] = {{"北纬", latitude, false}, {"南纬", latitude, true}, {"东经", longitude, false},
                                    {"西经", longitude, true},  {"北緯", latitude, false}, {"南緯", latitude, true},
                                    {"東經", longitude, false}, {"西經", longitude, true}};
    for (const Prefix& prefix : kPrefixes) {
      if (text.substr(pos, prefix.word.size()) != prefix.word) continue;
      c.axis = prefix.axis;
      negative = prefix.negative;
      pos = skip_spaces(text, pos + prefix.word.size());
      c.named = prefixed = true;
      break;
    }
    if (!prefixed && pos < text.size() && (pos == 0 || !is_alnum(text[pos - 1]))) {
      char h = text[pos];
      size_t digit = pos + 1 + (char_at(text, pos + 1, ' ') ? 1 : 0);
      if ((h == 'N' || h == 'S' || h == 'E' || h == 'W') && digit_at(text, digit)) {
        c.axis = (h == 'N' || h == 'S') ? latitude : longitude;
        negative = h == 'S' || h == 'W';
        pos = digit;
        c.named = prefixed = true;
      }
    }
  }
  if (char_at(text, pos, '-') && digit_at(text, pos + 1)) {
    negative = true;
    ++pos;
  }
  if (!digit_at(text, pos) || (!prefixed && !number_may_start(text, c.begin))) return c;

  double degrees = 0;
  size_t decimals = 0;
  size_t end = read_decimal(text, pos, 3, degrees, decimals);
  if (end == std::string_view::npos) return c;
  bool degree_sign = false;
  if (text.substr(end, 2) == kDegree) {
    end += 2;
    degree_sign = true;
  } else if (text.substr(end, 3) == "度") {
    end += 3;
    degree_sign = true;
  }
  double value = degrees;
  if (degree_sign && decimals == 0) {
    // Minutes and seconds: 22°32'35.2", 22° 32′ 35″, 22度32分35秒, 22°32.586'.
    size_t cursor = skip_spaces(text, end);
    double minutes = 0, seconds = 0;
    size_t minute_decimals = 0, second_decimals = 0;
    size_t minute_end = read_decimal(text, cursor, 2, minutes, minute_decimals);
    if (minute_end != std::string_view::npos) {
      size_t mark = char_at(text, minute_end, '\'') ? 1 : text.substr(minute_end, 3) == "分" ? 3 : 0;
      if (mark > 0 && minutes < 60) {
        end = minute_end + mark;
        value += minutes / 60;
        c.sexagesimal = true;
        cursor = skip_spaces(text, end);
        size_t second_end = minute_decimals == 0 ? read_decimal(text, cursor, 2, seconds, second_decimals)
                                                 : std::string_view::npos;
        if (second_end != std::string_view::npos) {
          size_t second_mark = char_at(text, second_end, '"')           ? 1
                               : text.substr(second_end, 2) == "''"     ? 2
                               : text.substr(second_end, 3) == "秒"     ? 3
                                                                        : 0;
          if (second_mark > 0 && seconds < 60) {
            end = second_end + second_mark;
            value += seconds / 3600;
          }
        }
      }
    }
  }
  c.value = negative ? -value : value;
  c.precise = decimals >= 3;
  c.end = read_suffix_hemisphere(text, end, c);
  // A bare integer is a count, not a coordinate; a bare decimal needs precision or a name.
  c.ok = (decimals > 0 || c.sexagesimal || degree_sign) && (c.named || c.sexagesimal || c.precise || degree_sign);
  if (c.ok && !c.named && !number_may_end(text, c.end) && !degree_sign) c.ok = false;
  return c;
}

// Between the two halves: a comma, slash, semicolon or "and", with spaces around.
size_t skip_pair_separator(std::string_view text, size_t pos) {
  size_t cursor = skip_spaces(text, pos);
  constexpr std::string_view kSeparators[] = {",", "/", ";", "、", "和", "and", "&"};
  for (std::string_view separator : kSeparators) {
    if (!matches_at(text, cursor, separator)) continue;
    if (is_alpha(separator[0]) && alnum_at(text, cursor + separator.size())) continue;
    cursor += separator.size();
    break;
  }
  return skip_spaces(text, cursor);
}

bool plausible_pair(Component first, Component second, double& lat, double& lon) {
  if (!first.ok || !second.ok) return false;
  bool named_pair = first.named || second.named || first.sexagesimal || second.sexagesimal;
  if (!named_pair && !(first.precise && second.precise)) return false;
  if (first.axis != unknown && first.axis == second.axis) return false;
  bool swapped = first.axis == longitude || second.axis == latitude;
  lat = swapped ? second.value : first.value;
  lon = swapped ? first.value : second.value;
  return std::abs(lat) <= 90 && std::abs(lon) <= 180;
}

}  // namespace

void scan_gps(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    unsigned char byte = static_cast<unsigned char>(text[pos]);
    if ((byte & 0xC0) == 0x80) continue;
    bool may_start = is_digit(text[pos]) || text[pos] == '-' || byte >= 0x80 || is_alpha(text[pos]);
    if (!may_start) continue;
    Component first = read_component(scan, pos);
    if (!first.ok) continue;
    size_t next = skip_pair_separator(text, first.end);
    Component second = next > first.end ? read_component(scan, next) : Component{};
    if (!second.ok && first.named) {
      // "lat 22.5431 and the longitude is 114.0579": look a little further for a named half.
      for (size_t look = first.end; look < text.size() && look < first.end + 32; ++look) {
        if (digit_at(text, look) || scan.sentence_break(look, look + 1)) break;
        if ((static_cast<unsigned char>(text[look]) & 0xC0) == 0x80) continue;
        Component candidate = read_component(scan, look);
        if (candidate.ok && candidate.named) {
          second = candidate;
          break;
        }
      }
    }
    double lat = 0, lon = 0;
    if (!plausible_pair(first, second, lat, lon)) continue;
    float confidence = first.named || first.sexagesimal ? 0.95f : 0.85f;
    out.push_back({Kind::gps, first.begin, second.end, confidence, public_place(lat, lon)});
    pos = second.end - 1;
  }
}

}  // namespace tandem::router::scan
