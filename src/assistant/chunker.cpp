#include "assistant/chunker.h"

#include <string>

#include "assistant/text.h"
#include "core/error.h"
#include "tokenizer/unicode.h"

namespace tandem::assistant {
namespace {

// From the strongest boundary to none at all.
enum class Level { Paragraph, Sentence, Line, Space, Character };

struct Range {
  size_t begin, end;
  int tokens;
};

bool is_space(uint32_t cp) { return tokenizer::unicode::is_whitespace(cp); }

bool ascii_terminator(uint32_t cp) { return cp == '.' || cp == '!' || cp == '?'; }
// 。！？ and the half-width ideographic full stop, the ellipsis and the semicolon's
// Chinese form end a clause without a following space.
bool cjk_terminator(uint32_t cp) {
  return cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F || cp == 0xFF61 || cp == 0xFF1B || cp == 0x2026;
}
bool closer(uint32_t cp) {
  return cp == '"' || cp == '\'' || cp == ')' || cp == ']' || cp == 0x201D || cp == 0x2019 || cp == 0x300D ||
         cp == 0x300F || cp == 0xFF09 || cp == 0x3011 || cp == 0x300B;
}

class Splitter {
 public:
  Splitter(std::string_view text, int budget, const TokenCounter& count) : text_(text), budget_(budget), count_(count) {}

  std::vector<Range> pieces() {
    std::vector<Range> out;
    split(0, text_.size(), Level::Paragraph, out);
    return out;
  }

  int count(size_t begin, size_t end) const { return count_(trim(text_.substr(begin, end - begin))); }

 private:
  uint32_t at(size_t i, size_t* length) const { return codepoint_at(text_, i, length); }

  // End of the whitespace run starting at i (i when there is none), bounded by `end`.
  size_t skip_space(size_t i, size_t end, int* newlines = nullptr) const {
    while (i < end) {
      size_t length = 0;
      const uint32_t cp = at(i, &length);
      if (!is_space(cp)) break;
      if (newlines && cp == '\n') ++*newlines;
      i += length;
    }
    return std::min(i, end);
  }

  // Where the pieces of [begin, end) at `level` start (excluding begin and end).
  std::vector<size_t> cuts(size_t begin, size_t end, Level level) const {
    std::vector<size_t> out;
    auto add = [&](size_t cut) {
      if (cut > begin && cut < end && (out.empty() || out.back() < cut)) out.push_back(cut);
    };
    for (size_t i = begin; i < end;) {
      size_t length = 0;
      const uint32_t cp = at(i, &length);
      const size_t next = i + length;
      switch (level) {
        case Level::Paragraph:
          if (is_space(cp)) {
            int newlines = 0;
            const size_t after = skip_space(i, end, &newlines);
            if (newlines >= 2) add(after);
            i = std::max(after, next);
            continue;
          }
          break;
        case Level::Sentence:
          if (ascii_terminator(cp) || cjk_terminator(cp)) {
            size_t j = next;
            while (j < end) {  // repeated marks ("?!", "……") and closing quotes stay with the sentence
              size_t l = 0;
              const uint32_t c = at(j, &l);
              if (!(ascii_terminator(c) || cjk_terminator(c) || closer(c))) break;
              j += l;
            }
            const size_t after = skip_space(j, end);
            // A full stop ends a sentence only before a space ("3.14" and "e.g.x" do not).
            if (cjk_terminator(cp) || after > j) add(after);
            i = std::max(j, next);
            continue;
          }
          break;
        case Level::Line:
          if (cp == '\n') {
            add(skip_space(next, end));
          }
          break;
        case Level::Space:
          if (is_space(cp)) {
            const size_t after = skip_space(i, end);
            add(after);
            i = std::max(after, next);
            continue;
          }
          break;
        case Level::Character:
          add(next);
          break;
      }
      i = next;
    }
    return out;
  }

  void split(size_t begin, size_t end, Level level, std::vector<Range>& out) {
    const int tokens = count(begin, end);
    if (tokens <= budget_) {
      out.push_back({begin, end, tokens});
      return;
    }
    if (level == Level::Character) {
      split_characters(begin, end, out);
      return;
    }
    const Level finer = Level(int(level) + 1);
    const std::vector<size_t> boundaries = cuts(begin, end, level);
    if (boundaries.empty()) {
      split(begin, end, finer, out);
      return;
    }
    size_t start = begin;
    for (size_t cut : boundaries) {
      split(start, cut, finer, out);
      start = cut;
    }
    split(start, end, finer, out);
  }

  // A run with no boundary at all: the longest prefixes that fit, by binary search
  // over character boundaries.
  void split_characters(size_t begin, size_t end, std::vector<Range>& out) {
    std::vector<size_t> bounds = cuts(begin, end, Level::Character);
    bounds.push_back(end);
    size_t start = begin, first = 0;  // bounds[first..] are the candidate ends after `start`
    while (start < end) {
      size_t lo = first, hi = bounds.size();  // the answer is in [lo, hi): the last fitting end
      if (count(start, bounds[first]) > budget_) {
        fail("the chunk budget of ", budget_, " tokens is smaller than one character of the text");
      }
      while (hi - lo > 1) {
        const size_t mid = lo + (hi - lo) / 2;
        if (count(start, bounds[mid]) <= budget_) lo = mid;
        else hi = mid;
      }
      out.push_back({start, bounds[lo], count(start, bounds[lo])});
      start = bounds[lo];
      first = lo + 1;
    }
  }

  std::string_view text_;
  int budget_;
  const TokenCounter& count_;
};

}  // namespace

std::string_view chunk_text(std::string_view text, const Chunk& chunk) {
  return trim(text.substr(chunk.begin, chunk.end - chunk.begin));
}

std::vector<Chunk> split_into_chunks(std::string_view text, int budget, const TokenCounter& count) {
  if (budget < 1) fail("the chunk budget must be at least 1 token, got ", budget);
  if (is_blank(text)) return {};
  Splitter splitter(text, budget, count);
  const std::vector<Range> pieces = splitter.pieces();

  // Pack consecutive pieces: by the sum of their counts (one token of slack per joint),
  // then exactly: a chunk's own count decides, never the estimate.
  std::vector<Chunk> chunks;
  for (size_t i = 0; i < pieces.size();) {
    size_t j = i + 1;  // the chunk is pieces [i, j)
    long estimate = pieces[i].tokens;
    while (j < pieces.size() && estimate + pieces[j].tokens + 1 <= budget) estimate += pieces[j++].tokens + 1;
    int tokens = splitter.count(pieces[i].begin, pieces[j - 1].end);
    while (tokens > budget && j - i > 1) tokens = splitter.count(pieces[i].begin, pieces[--j - 1].end);
    while (j < pieces.size()) {  // the estimate may have stopped early
      const int more = splitter.count(pieces[i].begin, pieces[j].end);
      if (more > budget) break;
      tokens = more;
      ++j;
    }
    chunks.push_back({pieces[i].begin, pieces[j - 1].end, tokens});
    i = j;
  }
  return chunks;
}

}  // namespace tandem::assistant
