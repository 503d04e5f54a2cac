// Normalization before scanning. Phone users type full-width "１３８", smart quotes,
// Unicode dashes and zero-width spaces, and write numbers in Chinese ("一三八零…", "幺",
// "两万三"); the scanners only read ASCII digits and punctuation. Every output byte keeps
// the span of the original character it came from, so findings map back exactly.
#include <cstdint>

#include "router/privacy_scan.h"

namespace tandem::router::scan {
namespace {

struct Glyph {
  char32_t value;  // after folding
  size_t begin, end;
};

// Full-width ASCII, odd spaces, dashes, quotes, degree and middle-dot look-alikes; 0 drops
// the character (zero-width spaces someone put between digits).
char32_t fold(char32_t cp) {
  if (cp >= 0xFF01 && cp <= 0xFF5E) return cp - 0xFEE0;
  switch (cp) {
    case 0x3000: case 0x00A0: case 0x202F: case 0x205F: return ' ';
    case 0x200B: case 0x200C: case 0x200D: case 0x2060: case 0xFEFF: return 0;
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015:
    case 0x2212: case 0xFE58: case 0xFE63: return '-';
    case 0x2018: case 0x2019: case 0x2032: case 0x02B9: return '\'';
    case 0x201C: case 0x201D: case 0x2033: case 0x02BA: return '"';
    case 0x00BA: case 0x02DA: return 0x00B0;  // º and ˚ written for the degree sign
    case 0x2022: case 0x2027: case 0x30FB: case 0xFF65: case 0x22C5: case 0x2219: return 0x00B7;
    default: break;
  }
  if (cp >= 0x2000 && cp <= 0x200A) return ' ';
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// 十 百 千 万 亿 (and their financial and traditional forms) as multipliers, or 0.
uint64_t chinese_unit(char32_t cp) {
  switch (cp) {
    case U'十': case U'拾': return 10;
    case U'百': case U'佰': return 100;
    case U'千': case U'仟': return 1000;
    case U'万': case U'萬': return 10000;
    case U'亿': case U'億': return 100000000;
    default: return 0;
  }
}

bool is_ascii_digit(char32_t cp) { return cp >= '0' && cp <= '9'; }

// A positional numeral ("三十", "两万三", "一百零五", "十二"), parsed by the usual grammar:
// units descend inside a section, 万 and 亿 close sections, 零 marks a skipped unit, a
// digit after 百/千/万/亿 with no unit of its own is the next unit down (三百五 = 350).
// Returns false for what is not one number ("千万" as in "千万不要", "十一五", "万一").
bool parse_positional(const Glyph* glyphs, size_t count, uint64_t& value) {
  uint64_t total = 0, wan = 0, section = 0, small_limit = 10000, unit_before_pending = 0;
  int pending = -1;
  bool wan_done = false, yi_done = false, section_started = false, any_unit = false;
  uint64_t previous_unit = 0;  // the unit right before the current glyph, 0 after a digit
  for (size_t i = 0; i < count; ++i) {
    char32_t cp = glyphs[i].value;
    int digit = chinese_digit(cp);
    if (digit >= 0) {
      if (pending >= 0) return false;  // two digits in a row: not positional
      if (digit > 0) {
        pending = digit;
        unit_before_pending = previous_unit;
      }
      section_started = true;
      previous_unit = 0;
      continue;
    }
    uint64_t unit = chinese_unit(cp);
    any_unit = true;
    if (unit < 10000) {
      if (unit >= small_limit) return false;  // 百 after 十, 千 after 百 ...
      if (pending < 0) {
        if (unit != 10 || section_started) return false;  // only 十 may stand alone, first
        pending = 1;
      }
      section += static_cast<uint64_t>(pending) * unit;
      small_limit = unit;
    } else if (unit == 10000) {
      if (pending >= 0) section += static_cast<uint64_t>(pending);
      if (section == 0 || wan_done) return false;
      wan = section * 10000;
      section = 0;
      small_limit = 10000;
      wan_done = true;
    } else {
      uint64_t part = wan + section + (pending >= 0 ? static_cast<uint64_t>(pending) : 0);
      if (part == 0 || yi_done) return false;
      total = part * 100000000;
      wan = section = 0;
      small_limit = 10000;
      wan_done = false;
      yi_done = true;
    }
    pending = -1;
    section_started = true;
    previous_unit = unit;
  }
  if (!any_unit) return false;
  if (pending >= 0) section += static_cast<uint64_t>(pending) * (unit_before_pending >= 100 ? unit_before_pending / 10 : 1);
  value = total + wan + section;
  return true;
}

}  // namespace

int chinese_digit(char32_t cp) {
  switch (cp) {
    case U'零': case U'〇': return 0;
    case U'一': case U'壹': case U'幺': return 1;
    case U'二': case U'贰': case U'两': case U'兩': return 2;
    case U'三': case U'叁': return 3;
    case U'四': case U'肆': return 4;
    case U'五': case U'伍': return 5;
    case U'六': case U'陆': return 6;
    case U'七': case U'柒': return 7;
    case U'八': case U'捌': return 8;
    case U'九': case U'玖': return 9;
    default: return -1;
  }
}

NormalizedText normalize(std::string_view original) {
  std::vector<Glyph> glyphs;
  glyphs.reserve(original.size());
  for (size_t pos = 0; pos < original.size();) {
    CodePoint cp = decode_at(original, pos);
    char32_t folded = fold(cp.value);
    // Malformed bytes pass through one by one, so the scanners see what the caller sent.
    if (cp.value == 0xFFFD && cp.length == 1 && static_cast<unsigned char>(original[pos]) >= 0x80) folded = 0xFFFD;
    if (folded != 0) glyphs.push_back({folded, pos, pos + cp.length});
    pos += cp.length;
  }

  NormalizedText out;
  out.text.reserve(original.size());
  out.source_begin.reserve(original.size());
  out.source_end.reserve(original.size());
  const auto emit = [&](char32_t value, size_t begin, size_t end, bool raw) {
    size_t before = out.text.size();
    if (raw) {
      out.text.append(original.substr(begin, end - begin));
    } else {
      append_utf8(out.text, value);
    }
    for (size_t i = before; i < out.text.size(); ++i) {
      out.source_begin.push_back(raw ? begin + (i - before) : begin);
      out.source_end.push_back(raw ? begin + (i - before) + 1 : end);
    }
  };
  // A glyph unchanged by folding keeps its bytes one for one (also malformed ones).
  const auto emit_glyph = [&](const Glyph& glyph) {
    bool unchanged = glyph.value == 0xFFFD || decode_at(original, glyph.begin).value == glyph.value;
    emit(glyph.value, glyph.begin, glyph.end, unchanged);
  };
  const auto is_separator = [](char32_t cp) { return cp == ' ' || cp == '-' || cp == '.'; };

  const size_t n = glyphs.size();
  for (size_t i = 0; i < n;) {
    bool chinese = chinese_digit(glyphs[i].value) >= 0 || chinese_unit(glyphs[i].value) != 0;
    if (!chinese && !is_ascii_digit(glyphs[i].value)) {
      emit_glyph(glyphs[i++]);
      continue;
    }
    // A positional numeral: Chinese digits and units only.
    if (chinese) {
      size_t end = i;
      bool has_unit = false;
      while (end < n && end - i < 24 && (chinese_digit(glyphs[end].value) >= 0 || chinese_unit(glyphs[end].value) != 0)) {
        has_unit = has_unit || chinese_unit(glyphs[end].value) != 0;
        ++end;
      }
      if (has_unit) {
        uint64_t value = 0;
        if (end - i >= 2 && parse_positional(&glyphs[i], end - i, value)) {
          std::string digits = std::to_string(value);
          for (char c : digits) emit(static_cast<char32_t>(c), glyphs[i].begin, glyphs[end - 1].end, false);
        } else {
          for (size_t k = i; k < end; ++k) emit_glyph(glyphs[k]);
        }
        i = end;
        continue;
      }
    }
    // A digit sequence: Chinese and ASCII digits, single separators between them
    // ("一三八 一二三四 五六七八", "138一二三四5678"). Short ones ("一一", "两个") stay prose.
    size_t end = i, digits = 0, chinese_digits = 0;
    while (end < n) {
      char32_t cp = glyphs[end].value;
      if (chinese_digit(cp) >= 0 || is_ascii_digit(cp)) {
        ++digits;
        chinese_digits += chinese_digit(cp) >= 0;
        ++end;
      } else if (is_separator(cp) && end + 1 < n && end > i &&
                 (chinese_digit(glyphs[end + 1].value) >= 0 || is_ascii_digit(glyphs[end + 1].value))) {
        ++end;
      } else {
        break;
      }
    }
    bool before_unit = end < n && chinese_unit(glyphs[end].value) != 0;
    bool convert = chinese_digits > 0 && digits >= 3 && !before_unit;
    for (size_t k = i; k < end; ++k) {
      int digit = chinese_digit(glyphs[k].value);
      if (convert && digit >= 0) {
        emit(static_cast<char32_t>('0' + digit), glyphs[k].begin, glyphs[k].end, false);
      } else {
        emit_glyph(glyphs[k]);
      }
    }
    i = end;
  }
  return out;
}

}  // namespace tandem::router::scan
