// ROUGE-L (Lin, 2004), the summary score bench/summarize uses: the longest common
// subsequence (LCS) of a candidate and a reference, as precision (LCS / candidate
// units), recall (LCS / reference units) and their F1. Units: each Chinese character on
// its own (character-level for Chinese), other text as lowercased words of letters and
// digits (word-level for English); punctuation and spaces are not units.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::assistant {

struct RougeL {
  double precision = 0, recall = 0, f1 = 0;
  size_t lcs = 0, candidate_units = 0, reference_units = 0;
};

std::vector<std::string> rouge_units(std::string_view text);
RougeL rouge_l(const std::vector<std::string>& candidate, const std::vector<std::string>& reference);
RougeL rouge_l(std::string_view candidate, std::string_view reference);

}  // namespace tandem::assistant
