#include "privacy/features.h"

#include <utf8proc.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <unordered_map>

#include "privacy/lexicons.h"

namespace tandem::privacy {
namespace {

char32_t decode(std::string_view text, size_t pos, size_t& length) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(pos);
  length = 1;
  if (lead < 0x80) return lead;
  size_t n = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  if (n == 0 || pos + n > text.size()) return 0xFFFD;
  char32_t value = lead & (0xFF >> (n + 1));
  for (size_t i = 1; i < n; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) return 0xFFFD;
    value = (value << 6) | (byte(pos + i) & 0x3F);
  }
  length = n;
  return value;
}

bool is_space(char32_t c) { return c == ' ' || c == '\t' || c == '\r' || c == 0x3000 || c == 0xA0; }
bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }
bool is_latin_letter(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Sentence ends: where personal or generic context stops applying.
bool ends_sentence(char32_t c) {
  return c == '.' || c == '!' || c == '?' || c == ';' || c == '\n' || c == 0x3002 || c == 0xFF01 || c == 0xFF1F ||
         c == 0xFF1B;
}

char32_t fold(char32_t c) {
  if (c >= 0xFF01 && c <= 0xFF5E) c -= 0xFEE0;  // full-width ASCII
  if (c == 0x3000 || c == 0xA0 || c == '\t' || c == '\r') return ' ';
  if (c == 0xFFE5) return 0xA5;  // full-width yen sign
  if (c == 0x2018 || c == 0x2019) return '\'';
  if (c < 0x80) {
    if (c >= 'A' && c <= 'Z') return c - 'A' + 'a';
    if (is_digit(c)) return '0';
    return c;
  }
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
}

constexpr uint32_t kFnvOffset = 2166136261u, kFnvPrime = 16777619u;

uint32_t fnv_bytes(uint32_t h, std::string_view bytes) {
  for (unsigned char b : bytes) h = (h ^ b) * kFnvPrime;
  return h;
}
uint32_t fnv_char(uint32_t h, char32_t c) {
  for (int shift = 0; shift < 32; shift += 8) h = (h ^ ((c >> shift) & 0xFF)) * kFnvPrime;
  return h;
}

// ---- lexicon matching: one trie over the normalized terms of every list

struct Term {
  uint16_t lexicon;
  bool prefix = false, suffix = false, han = false;
};

class LexiconIndex {
 public:
  LexiconIndex() {
    nodes_.emplace_back();
    const auto& lists = lexicons();
    for (size_t l = 0; l < lists.size(); ++l) {
      names_.push_back(std::string(lists[l].name));
      for (std::string_view term : lists[l].terms) add(static_cast<uint16_t>(l), term);
    }
  }

  // Every match starting at `first`: calls found(lexicon, last).
  template <class Found>
  void match_at(const std::u32string& chars, size_t first, Found&& found) const {
    const bool at_word_start = first == 0 || !is_word_char(chars[first - 1]);
    size_t node = 0;
    for (size_t pos = first; pos < chars.size(); ++pos) {
      auto it = edges_.find(key(node, chars[pos]));
      if (it == edges_.end()) break;
      node = it->second;
      for (const Term& term : nodes_[node].terms) {
        const bool at_word_end = pos + 1 >= chars.size() || !is_word_char(chars[pos + 1]);
        if (term.han) {
          found(term.lexicon, pos + 1);
        } else if (term.suffix) {
          // "*pril": the word ends here and is long enough to be a drug name, not "april".
          size_t word_start = first;
          while (word_start > 0 && is_word_char(chars[word_start - 1])) --word_start;
          if (at_word_end && first - word_start >= 3) found(term.lexicon, pos + 1);
        } else if (at_word_start && (term.prefix || at_word_end)) {
          found(term.lexicon, pos + 1);
        }
      }
    }
  }
  const std::string& name(size_t lexicon) const { return names_[lexicon]; }
  size_t size() const { return names_.size(); }

 private:
  struct Node {
    std::vector<Term> terms;
  };
  static uint64_t key(size_t node, char32_t c) { return (uint64_t(node) << 32) | c; }

  void add(uint16_t lexicon, std::string_view raw) {
    Term term;
    term.lexicon = lexicon;
    if (!raw.empty() && raw.back() == '*') {
      term.prefix = true;
      raw.remove_suffix(1);
    }
    if (!raw.empty() && raw.front() == '*') {
      term.suffix = true;
      raw.remove_prefix(1);
    }
    NormalizedText normalized = normalize(raw);
    if (normalized.chars.empty()) return;
    term.han = std::any_of(normalized.chars.begin(), normalized.chars.end(), is_han);
    size_t node = 0;
    for (char32_t c : normalized.chars) {
      auto [it, inserted] = edges_.emplace(key(node, c), nodes_.size());
      if (inserted) nodes_.emplace_back();
      node = it->second;
    }
    nodes_[node].terms.push_back(term);
  }

  std::vector<Node> nodes_;
  std::unordered_map<uint64_t, size_t> edges_;
  std::vector<std::string> names_;
};

const LexiconIndex& lexicon_index() {
  static const LexiconIndex index;
  return index;
}

// Chinese surnames, for "王医生" / "李老师" style mentions of a named person.
bool is_common_surname(char32_t c) {
  static const std::u32string surnames =
      U"王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
      U"姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤小老";
  return surnames.find(c) != std::u32string::npos;
}

const std::vector<std::u32string>& zh_titles() {
  static const std::vector<std::u32string> titles = {U"老师", U"医生", U"大夫", U"总", U"经理", U"先生", U"女士",
                                                     U"小姐", U"阿姨", U"叔叔", U"律师", U"主任", U"同学", U"师傅",
                                                     U"姐", U"哥", U"老板", U"太太", U"工", U"院长", U"护士"};
  return titles;
}

bool starts_with(const std::u32string& chars, size_t pos, std::u32string_view word) {
  return pos + word.size() <= chars.size() && chars.compare(pos, word.size(), word) == 0;
}

class Emitter {
 public:
  explicit Emitter(std::vector<Feature>& out) : out_(out) {}
  void emit(uint32_t hash, float value, size_t first, size_t last) {
    out_.push_back({hash, value, uint32_t(first), uint32_t(last)});
  }
  void emit(std::string_view name, float value, size_t first = 0, size_t last = 0) {
    emit(fnv_bytes(kFnvOffset, name), value, first, last);
  }

 private:
  std::vector<Feature>& out_;
};

// ---- shapes: numbers, amounts, doses, times, handles, speakers

struct DigitRun {
  size_t first, last, digits;
};

// Digits with single separators (space, '-', '.') between groups read as one number.
std::vector<DigitRun> digit_runs(const std::u32string& chars) {
  std::vector<DigitRun> runs;
  for (size_t pos = 0; pos < chars.size();) {
    if (!is_digit(chars[pos])) {
      ++pos;
      continue;
    }
    DigitRun run{pos, pos, 0};
    size_t at = pos;
    while (at < chars.size()) {
      if (is_digit(chars[at])) {
        ++run.digits;
        run.last = ++at;
      } else if ((chars[at] == ' ' || chars[at] == '-' || chars[at] == '.') && at + 1 < chars.size() &&
                 is_digit(chars[at + 1])) {
        ++at;
      } else {
        break;
      }
    }
    runs.push_back(run);
    pos = run.last;
  }
  return runs;
}

const char* digit_bucket(size_t digits) {
  if (digits <= 2) return "S:dig1-2";
  if (digits <= 4) return "S:dig3-4";
  if (digits <= 6) return "S:dig5-6";
  if (digits <= 9) return "S:dig7-9";
  if (digits <= 12) return "S:dig10-12";
  if (digits <= 16) return "S:dig13-16";
  if (digits <= 19) return "S:dig17-19";
  return "S:dig20+";
}

bool followed_by(const std::u32string& chars, size_t pos, std::initializer_list<std::u32string_view> words,
                 bool whole_word) {
  while (pos < chars.size() && chars[pos] == ' ') ++pos;
  for (std::u32string_view word : words) {
    if (!starts_with(chars, pos, word)) continue;
    if (!whole_word || pos + word.size() >= chars.size() || !is_latin_letter(chars[pos + word.size()])) return true;
  }
  return false;
}

bool preceded_by(const std::u32string& chars, size_t pos, std::initializer_list<std::u32string_view> words) {
  while (pos > 0 && chars[pos - 1] == ' ') --pos;
  for (std::u32string_view word : words) {
    if (pos >= word.size() && chars.compare(pos - word.size(), word.size(), word) == 0) return true;
  }
  return false;
}

void shape_features(const NormalizedText& text, Emitter& emit) {
  const std::u32string& c = text.chars;
  for (const DigitRun& run : digit_runs(c)) {
    emit.emit(digit_bucket(run.digits), 1, run.first, run.last);
    if (followed_by(c, run.last, {U"元", U"块", U"万", U"千", U"k", U"w", U"美元", U"dollars", U"bucks", U"yuan", U"usd",
                                  U"rmb", U"eur", U"gbp", U"grand", U"刀", U"磅", U"欧"},
                    true) ||
        preceded_by(c, run.first, {U"$", U"\u00a5", U"\u20ac", U"\u00a3", U"usd", U"rmb", U"cny", U"hk$", U"¥"})) {
      emit.emit("S:amount", 1, run.first, run.last);
    }
    if (followed_by(c, run.last, {U"mg", U"mcg", U"ml", U"iu", U"毫克", U"微克", U"毫升", U"片", U"粒", U"颗", U"支",
                                  U"单位", U"units", U"tablets", U"pills", U"puffs"},
                    true)) {
      emit.emit("S:dose", 1, run.first, run.last);
    }
    if (followed_by(c, run.last, {U"am", U"pm", U"a.m", U"p.m", U"点", U"时", U"o'clock"}, true) ||
        (run.last < c.size() && c[run.last] == ':' && run.last + 2 < c.size() && is_digit(c[run.last + 1]) &&
         is_digit(c[run.last + 2]))) {
      emit.emit("S:time", 1, run.first, run.last);
    }
    if (followed_by(c, run.last, {U"月", U"号", U"日", U"年"}, false) ||
        (run.last < c.size() && c[run.last] == '/' && run.last + 1 < c.size() && is_digit(c[run.last + 1]))) {
      emit.emit("S:date", 1, run.first, run.last);
    }
    if (followed_by(c, run.last, {U"分", U"points", U"pts", U"/100", U"/150", U"/4.0"}, false)) {
      emit.emit("S:score", 1, run.first, run.last);
    }
  }

  // Words mixing letters and digits (passport E12345678, wxid_ab12cd, plate 粤B·D12345).
  for (size_t pos = 0; pos < c.size();) {
    if (!is_word_char(c[pos])) {
      ++pos;
      continue;
    }
    size_t end = pos, digits = 0, letters = 0;
    while (end < c.size() && (is_word_char(c[end]) || c[end] == '_')) {
      digits += is_digit(c[end]);
      letters += is_latin_letter(c[end]);
      ++end;
    }
    if (digits >= 4 && letters >= 1) emit.emit("S:alnum_id", 1, pos, end);
    if (end < c.size() && c[end] == '@' && end + 1 < c.size() && is_word_char(c[end + 1])) {
      emit.emit("S:email", 1, pos, end);
    }
    if (pos > 0 && c[pos - 1] == '@' && (pos < 2 || !is_word_char(c[pos - 2]))) emit.emit("S:at_handle", 1, pos - 1, end);
    pos = end;
  }

  // A login given as a pair without a keyword: "anna.kowal / Sunflower88!", "admin / Qw3rty!Stg".
  for (size_t slash = c.find(U" / "); slash != std::u32string::npos; slash = c.find(U" / ", slash + 1)) {
    size_t end = slash + 3, letters = 0, others = 0;
    while (end < c.size() && c[end] != ' ' && c[end] != ',' && c[end] != '\n') {
      (is_latin_letter(c[end]) ? letters : others)++;
      ++end;
    }
    const bool before_word = slash > 0 && is_word_char(c[slash - 1]);
    if (before_word && letters >= 2 && others >= 1 && end - slash - 3 >= 6) emit.emit("S:login_pair", 1, slash, end);
  }

  // Licence plates: UK "FY15 OAE", Chinese "粤B·D12345" / "京A12345", US "7ABC123" / "ABC 1234".
  for (size_t pos = 0; pos + 5 <= c.size(); ++pos) {
    if (pos > 0 && (is_word_char(c[pos - 1]) || is_han(c[pos - 1]))) continue;
    size_t at = pos;
    const auto run = [&](auto&& ok) {
      size_t k = at;
      while (k < c.size() && ok(c[k])) ++k;
      const size_t length = k - at;
      at = k;
      return length;
    };
    if (is_han(c[pos])) {  // province character, letter, optional separator, 5-6 letters or digits
      at = pos + 1;
      if (at < c.size() && is_latin_letter(c[at])) {
        ++at;
        if (at < c.size() && (c[at] == 0xB7 || c[at] == '.' || c[at] == ' ' || c[at] == '-')) ++at;
        const size_t tail = run([](char32_t x) { return is_digit(x) || is_latin_letter(x); });
        if ((tail == 5 || tail == 6) && (at >= c.size() || !is_word_char(c[at]))) emit.emit("S:plate_like", 1, pos, at);
      }
      continue;
    }
    const size_t letters = run(is_latin_letter);
    const size_t digits = run(is_digit);
    if (letters == 2 && digits == 2 && at < c.size() && c[at] == ' ') {
      ++at;
      if (run(is_latin_letter) == 3 && (at >= c.size() || !is_word_char(c[at]))) emit.emit("S:plate_like", 1, pos, at);
    }
  }

  // Speaker lines ("张伟：明天..." / "Mom: call me") and line count.
  size_t speakers = 0, lines = 1;
  for (size_t line_start = 0; line_start < c.size();) {
    size_t line_end = c.find(U'\n', line_start);
    if (line_end == std::u32string::npos) line_end = c.size();
    size_t pos = line_start;
    while (pos < line_end && c[pos] == ' ') ++pos;
    if (pos < line_end && c[pos] == '[') {  // "[10:32] Anna: ..."
      size_t close = c.find(U']', pos);
      if (close != std::u32string::npos && close < line_end && close - pos < 24) pos = close + 1;
      while (pos < line_end && c[pos] == ' ') ++pos;
    }
    size_t colon = pos;
    while (colon < line_end && colon - pos <= 16 && c[colon] != ':' && !ends_sentence(c[colon]) && c[colon] != ',' &&
           c[colon] != 0xFF0C) {
      ++colon;
    }
    if (colon < line_end && c[colon] == ':' && colon > pos && !is_digit(c[colon - 1]) &&
        !(colon + 1 < line_end && is_digit(c[colon + 1]))) {
      ++speakers;
      emit.emit("S:speaker", 1, pos, colon + 1);
    }
    if (line_end < c.size()) ++lines;
    line_start = line_end + 1;
  }
  if (speakers >= 2) emit.emit("S:speakers2", 1);
  if (lines >= 3) emit.emit("S:multiline", 1);

  // A named person: "王医生", "李老师", "Dr. Patel", "Anna's".
  for (const std::u32string& title : zh_titles()) {
    for (size_t at = c.find(title, 1); at != std::u32string::npos; at = c.find(title, at + 1)) {
      if (is_common_surname(c[at - 1]) || (at >= 2 && is_common_surname(c[at - 2]) && is_han(c[at - 1]))) {
        const size_t first = is_common_surname(c[at - 1]) ? at - 1 : at - 2;
        emit.emit("S:zh_named", 1, first, at + title.size());
      }
    }
  }
  bool sentence_start = true;
  for (size_t pos = 0; pos < c.size(); ++pos) {
    if (ends_sentence(c[pos])) sentence_start = true;
    if (!is_latin_letter(c[pos]) || (pos > 0 && is_word_char(c[pos - 1]))) continue;
    size_t end = pos;
    while (end < c.size() && is_word_char(c[end])) ++end;
    if (text.capitalized[pos] && !sentence_start) {
      emit.emit("S:capword", 0.5f, pos, end);
      if (end + 1 < c.size() && c[end] == '\'' && c[end + 1] == 's') emit.emit("S:name_poss", 1, pos, end + 2);
    }
    if (text.capitalized[pos] && end + 1 < c.size() && (c[end] == ' ' || c[end] == '.')) {
      std::u32string_view word(c.data() + pos, end - pos);
      if (word == U"mr" || word == U"mrs" || word == U"ms" || word == U"dr" || word == U"miss") {
        emit.emit("S:en_named", 1, pos, end);
      }
    }
    sentence_start = false;
    pos = end - 1;
  }
  if (c.find(U"http") != std::u32string::npos || c.find(U"www.") != std::u32string::npos) emit.emit("S:url", 1);
}

}  // namespace

bool is_han(char32_t c) { return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF); }

bool is_word_char(char32_t c) {
  if (c < 0x80) return is_digit(c) || is_latin_letter(c) || c == '_';
  if (is_han(c)) return false;
  const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO;
}

NormalizedText normalize(std::string_view text) {
  NormalizedText out;
  out.chars.reserve(text.size());
  bool last_space = true;  // drops leading spaces
  for (size_t pos = 0; pos < text.size();) {
    size_t length = 1;
    char32_t original = decode(text, pos, length);
    char32_t c = fold(original);
    const bool capitalized = (original >= 'A' && original <= 'Z') || (original >= 0xFF21 && original <= 0xFF3A);
    if (is_space(c)) {
      if (!last_space) {
        out.chars.push_back(' ');
        out.begin.push_back(uint32_t(pos));
        out.end.push_back(uint32_t(pos + length));
        out.capitalized.push_back(0);
      }
      last_space = true;
    } else {
      out.chars.push_back(c);
      out.begin.push_back(uint32_t(pos));
      out.end.push_back(uint32_t(pos + length));
      out.capitalized.push_back(capitalized);
      last_space = c == '\n';
    }
    pos += length;
  }
  return out;
}

uint32_t feature_hash(std::string_view name_space, std::u32string_view chars) {
  uint32_t h = fnv_bytes(kFnvOffset, name_space);
  for (char32_t c : chars) h = fnv_char(h, c);
  return h;
}

void extract_features(const NormalizedText& text, std::vector<Feature>& out) {
  const std::u32string& c = text.chars;
  const size_t n = c.size();
  Emitter emit(out);
  const size_t start = out.size();

  // Character n-grams: 1-3 where a Chinese character is involved, 2-5 over other text.
  const uint32_t char_seed = fnv_bytes(kFnvOffset, "c");
  size_t ngram_begin = out.size();
  for (size_t i = 0; i < n; ++i) {
    if (c[i] == ' ' || c[i] == '\n') continue;
    uint32_t h = char_seed;
    bool han = false;
    for (size_t len = 1; len <= 5 && i + len <= n; ++len) {
      const char32_t next = c[i + len - 1];
      if (next == '\n') break;
      han = han || is_han(next);
      h = fnv_char(h, next);
      if (han ? len <= 3 : len >= 2) emit.emit(h, 1, i, i + len);
      if (han && len >= 3) break;
    }
  }
  const size_t ngram_count = out.size() - ngram_begin;
  for (size_t k = ngram_begin; k < out.size(); ++k) out[k].value = float(1.0 / std::sqrt(double(ngram_count)));

  // Words and word bigrams (Latin and other non-Han scripts).
  const uint32_t bigram_seed = fnv_bytes(kFnvOffset, "b");
  size_t word_begin = out.size();
  size_t previous_first = 0, previous_last = 0;
  bool has_previous = false;
  for (size_t i = 0; i < n;) {
    if (!is_word_char(c[i])) {
      // Punctuation other than spaces breaks bigrams.
      if (c[i] != ' ') has_previous = false;
      ++i;
      continue;
    }
    size_t end = i;
    while (end < n && (is_word_char(c[end]) || (c[end] == '\'' && end + 1 < n && is_word_char(c[end + 1])))) ++end;
    std::u32string_view word(c.data() + i, end - i);
    emit.emit(feature_hash("w", word), 1, i, end);
    if (has_previous) {
      uint32_t h = bigram_seed;
      for (size_t k = previous_first; k < previous_last; ++k) h = fnv_char(h, c[k]);
      h = fnv_char(h, ' ');
      for (char32_t ch : word) h = fnv_char(h, ch);
      emit.emit(h, 1, previous_first, end);
    }
    previous_first = i;
    previous_last = end;
    has_previous = true;
    i = end;
  }
  const size_t word_count = out.size() - word_begin;
  for (size_t k = word_begin; k < out.size(); ++k) out[k].value = float(1.0 / std::sqrt(double(word_count)));

  // Lexicons, with the context of their sentence.
  const LexiconIndex& index = lexicon_index();
  struct Match {
    uint16_t lexicon;
    size_t first, last;
  };
  std::vector<Match> matches;
  for (size_t i = 0; i < n; ++i) {
    index.match_at(c, i, [&](uint16_t lexicon, size_t last) { matches.push_back({lexicon, i, last}); });
  }
  std::vector<size_t> sentence_of(n + 1, 0);
  size_t sentences = 0;
  for (size_t i = 0; i < n; ++i) {
    sentence_of[i] = sentences;
    if (ends_sentence(c[i])) ++sentences;
  }
  sentence_of[n] = sentences;
  size_t personal_id = index.size(), generic_id = index.size(), public_id = index.size(), kin_id = index.size();
  for (size_t l = 0; l < index.size(); ++l) {
    if (index.name(l) == kPersonalLexicon) personal_id = l;
    if (index.name(l) == kGenericLexicon) generic_id = l;
    if (index.name(l) == kPublicLexicon) public_id = l;
    if (index.name(l) == "kin") kin_id = l;
  }
  std::vector<uint8_t> sentence_personal(sentences + 1, 0), sentence_generic(sentences + 1, 0);
  bool any_personal = false, any_generic = false, any_public = false, any_kin = false;
  for (const Match& m : matches) {
    const size_t s = sentence_of[m.first];
    if (m.lexicon == personal_id || m.lexicon == kin_id) sentence_personal[s] = 1;
    if (m.lexicon == generic_id) sentence_generic[s] = 1;
    any_personal = any_personal || m.lexicon == personal_id;
    any_kin = any_kin || m.lexicon == kin_id;
    any_generic = any_generic || m.lexicon == generic_id;
    any_public = any_public || m.lexicon == public_id;
  }
  std::vector<int> hits(index.size(), 0);
  for (const Match& m : matches) {
    if (++hits[m.lexicon] > 4) continue;  // a long text repeating one word is not four times the evidence
    const std::string& name = index.name(m.lexicon);
    const size_t s = sentence_of[m.first];
    emit.emit("L:" + name, 1, m.first, m.last);
    if (sentence_personal[s]) emit.emit("LP:" + name, 1, m.first, m.last);
    if (sentence_generic[s]) emit.emit("LG:" + name, 1, m.first, m.last);
    if (any_public) emit.emit("LU:" + name, 1, m.first, m.last);
  }
  if (any_personal) emit.emit("T:personal", 1);
  if (any_kin) emit.emit("T:kin", 1);
  if (any_generic) emit.emit("T:generic", 1);
  if (any_public) emit.emit("T:public", 1);
  if (any_personal && any_generic) emit.emit("T:personal&generic", 1);
  if (!any_personal && !any_kin) emit.emit("T:impersonal", 1);

  shape_features(text, emit);

  // Length, in doublings of characters.
  size_t bucket = 0;
  while ((size_t(8) << bucket) < n && bucket < 10) ++bucket;
  emit.emit("len:" + std::to_string(bucket), 1);
  (void)start;
}

}  // namespace tandem::privacy
