// ROUGE-L as bench/summarize scores it: words for English, characters for Chinese, the
// LCS by hand-checked examples (including Lin's 2004 paper's).
#include "assistant/rouge.h"

#include <gtest/gtest.h>

namespace tandem::assistant {
namespace {

TEST(Rouge, UnitsAreWordsAndChineseCharacters) {
  EXPECT_EQ(rouge_units("The cat, the HAT! 3.5 km"), (std::vector<std::string>{"the", "cat", "the", "hat", "3", "5", "km"}));
  EXPECT_EQ(rouge_units("我爱北京。Big city"), (std::vector<std::string>{"我", "爱", "北", "京", "big", "city"}));
  EXPECT_TRUE(rouge_units(" ，。!? ").empty());
}

TEST(Rouge, LinsExample) {
  // Lin (2004): reference "police killed the gunman"; "police kill the gunman" has LCS 3
  // ("police the gunman"), "the gunman kill police" has LCS 2.
  const RougeL a = rouge_l("police kill the gunman", "police killed the gunman");
  EXPECT_EQ(a.lcs, 3u);
  EXPECT_DOUBLE_EQ(a.precision, 0.75);
  EXPECT_DOUBLE_EQ(a.recall, 0.75);
  EXPECT_DOUBLE_EQ(a.f1, 0.75);
  EXPECT_EQ(rouge_l("the gunman kill police", "police killed the gunman").lcs, 2u);
}

TEST(Rouge, ChineseByCharacterAndEdgeCases) {
  const RougeL r = rouge_l("今天天气好", "今天的天气很好");
  EXPECT_EQ(r.lcs, 5u);  // 今天 天气 好
  EXPECT_DOUBLE_EQ(r.precision, 1.0);
  EXPECT_DOUBLE_EQ(r.recall, 5.0 / 7.0);
  EXPECT_DOUBLE_EQ(rouge_l("same words here", "Same, words: here.").f1, 1.0);
  EXPECT_DOUBLE_EQ(rouge_l("", "reference").f1, 0.0);
  EXPECT_DOUBLE_EQ(rouge_l("nothing shared", "完全不同").f1, 0.0);
}

}  // namespace
}  // namespace tandem::assistant
