#include "privacy/evaluate.h"

#include <algorithm>
#include <cstdio>

namespace tandem::privacy {

double SplitFigures::worst_category_recall() const {
  double worst = 1.0;
  for (const Figures& f : by_category) {
    if (f.private_total) worst = std::min(worst, f.recall());
  }
  return worst;
}

SplitFigures evaluate(const std::vector<Example>& corpus, Split split,
                      const std::function<bool(const std::string& text)>& is_private) {
  SplitFigures figures;
  for (const Example& e : corpus) {
    if (e.split != split) continue;
    const bool flagged = is_private(e.text);
    if (e.category < 0) {
      figures.everyday.add(false, flagged);
      continue;
    }
    figures.by_category[e.category].add(e.is_private, flagged);
    figures.all.add(e.is_private, flagged);
    (e.lang == "zh" ? figures.zh : figures.en).add(e.is_private, flagged);
  }
  return figures;
}

std::string figures_table(const SplitFigures& figures) {
  std::string out =
      "| category | private | kept off the cloud | public near-misses | kept on the device |\n"
      "|---|---:|---:|---:|---:|\n";
  const auto row = [&](const std::string& name, const Figures& f) {
    char line[256];
    std::snprintf(line, sizeof line, "| %s | %d | %d (%.1f%%) | %d | %d (%.1f%%) |\n", name.c_str(), f.private_total,
                  f.private_kept, 100 * f.recall(), f.public_total, f.public_kept, 100 * f.false_positive_rate());
    out += line;
  };
  for (size_t c = 0; c < kCategories.size(); ++c) row(std::string(kCategories[c]), figures.by_category[c]);
  row("**en**", figures.en);
  row("**zh**", figures.zh);
  row("**all**", figures.all);
  if (figures.everyday.public_total) {
    char line[160];
    std::snprintf(line, sizeof line, "| everyday requests (background set) | - | - | %d | %d (%.1f%%) |\n",
                  figures.everyday.public_total, figures.everyday.public_kept, 100 * figures.everyday.false_positive_rate());
    out += line;
  }
  return out;
}

}  // namespace tandem::privacy
