#include "assistant/rouge.h"

#include <algorithm>

#include "assistant/text.h"
#include "tokenizer/unicode.h"

namespace tandem::assistant {

std::vector<std::string> rouge_units(std::string_view text) {
  namespace unicode = tokenizer::unicode;
  std::vector<std::string> units;
  std::string word;
  auto end_word = [&] {
    if (!word.empty()) units.push_back(std::move(word)), word.clear();
  };
  for (size_t at = 0, length = 0; at < text.size(); at += length) {
    const uint32_t cp = codepoint_at(text, at, &length);
    if (is_han(cp)) {
      end_word();
      units.emplace_back(text.substr(at, length));
    } else if (unicode::flags(cp) & (unicode::kLetter | unicode::kNumber | unicode::kMark)) {
      if (cp < 0x80) word += char(cp >= 'A' && cp <= 'Z' ? cp - 'A' + 'a' : cp);
      else word.append(text.substr(at, length));
    } else {
      end_word();
    }
  }
  end_word();
  return units;
}

RougeL rouge_l(const std::vector<std::string>& candidate, const std::vector<std::string>& reference) {
  RougeL r;
  r.candidate_units = candidate.size();
  r.reference_units = reference.size();
  if (candidate.empty() || reference.empty()) return r;
  // The LCS by dynamic programming over two rows.
  std::vector<size_t> previous(reference.size() + 1, 0), current(reference.size() + 1, 0);
  for (const std::string& c : candidate) {
    for (size_t j = 1; j <= reference.size(); ++j) {
      current[j] = c == reference[j - 1] ? previous[j - 1] + 1 : std::max(previous[j], current[j - 1]);
    }
    std::swap(previous, current);
  }
  r.lcs = previous[reference.size()];
  r.precision = double(r.lcs) / double(candidate.size());
  r.recall = double(r.lcs) / double(reference.size());
  r.f1 = r.lcs == 0 ? 0 : 2 * r.precision * r.recall / (r.precision + r.recall);
  return r;
}

RougeL rouge_l(std::string_view candidate, std::string_view reference) {
  return rouge_l(rouge_units(candidate), rouge_units(reference));
}

}  // namespace tandem::assistant
