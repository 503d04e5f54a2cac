// Figures of a privacy verdict on one split of the corpus: per category, how many
// private examples it keeps off the cloud and how many public near-misses it keeps
// on the device (false positives).
#pragma once
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "privacy/corpus.h"

namespace tandem::privacy {

struct Figures {
  int private_total = 0, private_kept = 0;  // private examples, and those the verdict calls private
  int public_total = 0, public_kept = 0;    // public near-misses, and those it calls private
  double recall() const { return private_total ? double(private_kept) / private_total : 1.0; }
  double false_positive_rate() const { return public_total ? double(public_kept) / public_total : 0.0; }
  void add(bool is_private, bool flagged) {
    (is_private ? private_total : public_total)++;
    (is_private ? private_kept : public_kept) += flagged;
  }
};

struct SplitFigures {
  std::array<Figures, kCategories.size()> by_category;
  Figures all, en, zh;       // the corpus (near-misses as the public side)
  Figures everyday;          // the background set's everyday requests (public only)
  double worst_category_recall() const;
};

// `is_private` is the verdict under test (it never sees the labels).
SplitFigures evaluate(const std::vector<Example>& corpus, Split split,
                      const std::function<bool(const std::string& text)>& is_private);

// A Markdown table: one row per category, then en, zh, all and the everyday requests.
std::string figures_table(const SplitFigures& figures);

}  // namespace tandem::privacy
