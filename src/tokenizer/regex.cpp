#include "tokenizer/regex.h"

#include <string>
#include <utility>

#include "core/error.h"
#include "tokenizer/unicode.h"

namespace tandem::tokenizer {

struct CharClass {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  uint16_t category_mask = 0;  // unicode::Flag bits
  bool negated = false;

  bool matches(uint32_t cp, uint16_t cp_flags) const {
    bool in = (cp_flags & category_mask) != 0;
    for (size_t i = 0; !in && i < ranges.size(); ++i) in = cp >= ranges[i].first && cp <= ranges[i].second;
    return in != negated;
  }
};

struct SplitRegex::Node {
  enum Kind { Class, Group, Lookahead, NegativeLookahead, End } kind = Class;
  CharClass cls;
  std::vector<Sequence> alternatives;  // Group and lookaheads
  int min = 1, max = 1;                // max < 0: unbounded
};

namespace {

using Node = SplitRegex::Node;
using Sequence = SplitRegex::Sequence;

class Parser {
 public:
  explicit Parser(std::string_view pattern) : pattern_(pattern), cps_(unicode::decode_lenient(pattern)) {}

  std::vector<Sequence> parse() {
    auto result = parse_alternatives();
    if (pos_ != cps_.size()) error("unbalanced ')'");
    return result;
  }

 private:
  std::string_view pattern_;
  std::vector<uint32_t> cps_;
  size_t pos_ = 0;

  [[noreturn]] void error(const char* what) const {
    fail("pre-tokenizer regex '", pattern_, "': ", what, " at codepoint ", pos_);
  }
  bool at_end() const { return pos_ >= cps_.size(); }
  uint32_t peek() const { return cps_[pos_]; }

  std::vector<Sequence> parse_alternatives() {
    std::vector<Sequence> alternatives(1);
    while (!at_end() && peek() != ')') {
      if (peek() == '|') {
        ++pos_;
        alternatives.emplace_back();
        continue;
      }
      alternatives.back().push_back(parse_quantified());
    }
    return alternatives;
  }

  Node parse_quantified() {
    Node node = parse_atom();
    if (at_end()) return node;
    int min = 1, max = 1;
    const uint32_t c = peek();
    if (c == '?') {
      min = 0, max = 1, ++pos_;
    } else if (c == '*') {
      min = 0, max = -1, ++pos_;
    } else if (c == '+') {
      min = 1, max = -1, ++pos_;
    } else if (c == '{') {
      ++pos_;
      min = parse_number();
      max = min;
      if (!at_end() && peek() == ',') {
        ++pos_;
        max = (!at_end() && peek() == '}') ? -1 : parse_number();
      }
      if (at_end() || peek() != '}') error("expected '}'");
      ++pos_;
    } else {
      return node;
    }
    if (!at_end() && (peek() == '?' || peek() == '+')) error("lazy and possessive quantifiers are not supported");
    if (node.kind != Node::Class && node.kind != Node::Group) error("a quantifier must follow a character or a group");
    node.min = min;
    node.max = max;
    return node;
  }

  int parse_number() {
    if (at_end() || peek() < '0' || peek() > '9') error("expected a number");
    int n = 0;
    while (!at_end() && peek() >= '0' && peek() <= '9') n = n * 10 + (int)(cps_[pos_++] - '0');
    return n;
  }

  Node parse_atom() {
    Node node;
    const uint32_t c = cps_[pos_++];
    if (c == '(') {
      node.kind = Node::Group;
      if (!at_end() && peek() == '?') {
        ++pos_;
        const uint32_t k = at_end() ? 0 : cps_[pos_++];
        if (k == '=') node.kind = Node::Lookahead;
        else if (k == '!') node.kind = Node::NegativeLookahead;
        else if (k != ':') error("unsupported group type");
      }
      node.alternatives = parse_alternatives();
      if (at_end()) error("missing ')'");
      ++pos_;
    } else if (c == '[') {
      parse_class(node.cls);
    } else if (c == '\\') {
      parse_escape(node.cls, false);
    } else if (c == '$') {
      node.kind = Node::End;
    } else if (c == '.') {
      node.cls.ranges = {{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}};
      node.cls.negated = true;
    } else if (c == '^' || c == ')' || c == '*' || c == '+' || c == '?' || c == '{') {
      --pos_;
      error("unexpected metacharacter");
    } else {
      node.cls.ranges.push_back({c, c});
    }
    return node;
  }

  void parse_class(CharClass& cls) {
    if (!at_end() && peek() == '^') {
      cls.negated = true;
      ++pos_;
    }
    bool first = true;
    while (true) {
      if (at_end()) error("missing ']'");
      uint32_t c = cps_[pos_++];
      if (c == ']' && !first) return;
      first = false;
      uint32_t lo;
      if (c == '\\') {
        CharClass escaped;
        if (!parse_escape(escaped, true)) {  // a category or \s: not a range endpoint
          cls.category_mask |= escaped.category_mask;
          cls.ranges.insert(cls.ranges.end(), escaped.ranges.begin(), escaped.ranges.end());
          continue;
        }
        lo = escaped.ranges[0].first;
      } else {
        lo = c;
      }
      uint32_t hi = lo;
      if (pos_ + 1 < cps_.size() && peek() == '-' && cps_[pos_ + 1] != ']') {
        ++pos_;
        uint32_t end = cps_[pos_++];
        if (end == '\\') {
          CharClass escaped;
          if (!parse_escape(escaped, true)) error("class range ends in a category");
          end = escaped.ranges[0].first;
        }
        if (end < lo) error("reversed class range");
        hi = end;
      }
      cls.ranges.push_back({lo, hi});
    }
  }

  // Fills `cls`; returns true when the escape is one literal codepoint.
  bool parse_escape(CharClass& cls, bool in_class) {
    if (at_end()) error("trailing backslash");
    const uint32_t c = cps_[pos_++];
    auto literal = [&](uint32_t cp) {
      cls.ranges.push_back({cp, cp});
      return true;
    };
    switch (c) {
      case 'r': return literal('\r');
      case 'n': return literal('\n');
      case 't': return literal('\t');
      case 'f': return literal('\f');
      case 'v': return literal('\v');
      case 's': cls.category_mask |= unicode::kWhitespace; return false;
      case 'd': cls.ranges.push_back({'0', '9'}); return false;
      case 'S':
      case 'D':
        if (in_class) error("negated escapes inside a class are not supported");
        if (c == 'S') cls.category_mask |= unicode::kWhitespace;
        else cls.ranges.push_back({'0', '9'});
        cls.negated = true;
        return false;
      case 'p': cls.category_mask |= parse_category(); return false;
      default:
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) error("unsupported escape");
        return literal(c);
    }
  }

  uint16_t parse_category() {
    if (at_end() || cps_[pos_++] != '{') error("expected '{' after \\p");
    std::string name;
    while (!at_end() && peek() != '}') name.push_back((char)cps_[pos_++]);
    if (at_end()) error("missing '}'");
    ++pos_;
    static const std::pair<const char*, uint16_t> kCategories[] = {
        {"L", unicode::kLetter}, {"N", unicode::kNumber},    {"P", unicode::kPunctuation}, {"S", unicode::kSymbol},
        {"M", unicode::kMark},   {"Z", unicode::kSeparator}, {"C", unicode::kOther},
    };
    for (const auto& [category, flag] : kCategories) {
      if (name == category) return flag;
    }
    error("unsupported unicode category");
  }
};

// What remains to be matched after the current sequence ends: the rest of an
// enclosing sequence, itself with its own continuation. When `repeat` is set, the
// sequence just ended an iteration (number `count`, begun at `start`) of that
// quantified group, which may go round again before sequence[index + 1].
struct Continuation {
  const Sequence* sequence;
  size_t index;
  const Continuation* next;
  const Node* repeat = nullptr;
  int count = 0;
  size_t start = 0;
};

// One match attempt: the text, its per-codepoint flags and the fragment bounds.
class Matcher {
 public:
  Matcher(const std::vector<uint32_t>& text, const std::vector<uint16_t>& flags, size_t end)
      : text_(text), flags_(flags), end_(end) {}

  // Tries the alternatives at `pos`; on success stores the match end.
  bool match_alternatives(const std::vector<Sequence>& alternatives, size_t pos, const Continuation* next,
                          size_t& match_end) const;

 private:
  const std::vector<uint32_t>& text_;
  const std::vector<uint16_t>& flags_;
  size_t end_;

  bool match_sequence(const Sequence& seq, size_t index, size_t pos, const Continuation* next, size_t& match_end) const;
  bool resume(const Continuation* next, size_t pos, size_t& match_end) const;
  // Greedy iterations of the group seq[index] after `done` of them, then the rest of seq.
  bool repeat_group(const Sequence& seq, size_t index, int done, size_t pos, const Continuation* next,
                    size_t& match_end) const;
};

bool Matcher::resume(const Continuation* next, size_t pos, size_t& match_end) const {
  if (!next) {
    match_end = pos;
    return true;
  }
  if (next->repeat) {
    // An iteration that matched nothing ends the repetition (ECMAScript), once min is met.
    if (pos == next->start && next->count > next->repeat->min) return false;
    return repeat_group(*next->sequence, next->index, next->count, pos, next->next, match_end);
  }
  return match_sequence(*next->sequence, next->index, pos, next->next, match_end);
}

bool Matcher::repeat_group(const Sequence& seq, size_t index, int done, size_t pos, const Continuation* next,
                           size_t& match_end) const {
  const Node& node = seq[index];
  if (node.max < 0 || done < node.max) {
    const Continuation again{&seq, index, next, &node, done + 1, pos};
    if (match_alternatives(node.alternatives, pos, &again, match_end)) return true;
  }
  return done >= node.min && match_sequence(seq, index + 1, pos, next, match_end);
}

bool Matcher::match_alternatives(const std::vector<Sequence>& alternatives, size_t pos, const Continuation* next,
                                 size_t& match_end) const {
  for (const auto& alternative : alternatives) {
    if (match_sequence(alternative, 0, pos, next, match_end)) return true;
  }
  return false;
}

bool Matcher::match_sequence(const Sequence& seq, size_t index, size_t pos, const Continuation* next,
                             size_t& match_end) const {
  if (index == seq.size()) return resume(next, pos, match_end);
  const Node& node = seq[index];
  switch (node.kind) {
    case Node::Class: {
      // Greedy: take as many as allowed, then give back one at a time.
      size_t count = 0;
      const size_t limit = node.max < 0 ? end_ - pos : std::min<size_t>((size_t)node.max, end_ - pos);
      while (count < limit && node.cls.matches(text_[pos + count], flags_[pos + count])) ++count;
      for (size_t n = count + 1; n-- > (size_t)node.min;) {
        if (match_sequence(seq, index + 1, pos + n, next, match_end)) return true;
      }
      return false;
    }
    case Node::Group:
      return repeat_group(seq, index, 0, pos, next, match_end);
    case Node::Lookahead:
    case Node::NegativeLookahead: {
      size_t ignored;
      const bool found = match_alternatives(node.alternatives, pos, nullptr, ignored);
      if (found != (node.kind == Node::Lookahead)) return false;
      return match_sequence(seq, index + 1, pos, next, match_end);
    }
    case Node::End:
      return pos == end_ && match_sequence(seq, index + 1, pos, next, match_end);
  }
  return false;
}

}  // namespace

SplitRegex::SplitRegex(std::string_view pattern)
    : alternatives_(std::make_unique<std::vector<Sequence>>(Parser(pattern).parse())) {}
SplitRegex::~SplitRegex() = default;
SplitRegex::SplitRegex(SplitRegex&&) noexcept = default;

void SplitRegex::split(const std::vector<uint32_t>& text, const std::vector<uint16_t>& flags, size_t begin, size_t end,
                       std::vector<size_t>& piece_lengths) const {
  const Matcher matcher(text, flags, end);
  size_t unmatched_from = begin;
  size_t pos = begin;
  while (pos < end) {
    size_t match_end = pos;
    if (matcher.match_alternatives(*alternatives_, pos, nullptr, match_end) && match_end > pos) {
      if (pos > unmatched_from) piece_lengths.push_back(pos - unmatched_from);
      piece_lengths.push_back(match_end - pos);
      pos = unmatched_from = match_end;
    } else {
      ++pos;
    }
  }
  if (end > unmatched_from) piece_lengths.push_back(end - unmatched_from);
}

}  // namespace tandem::tokenizer
