// The chunker: every chunk within its token budget, all text covered in order, cuts on
// paragraphs, then sentences (. ! ? 。！？), then lines, spaces and characters. Checked
// with a character counter, with real tokenizers (stories260K's SentencePiece, the
// qwen2 conformance model's byte-level BPE) and on random texts. Runs under ASan/UBSan.
#include "assistant/chunker.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "assistant/text.h"
#include "core/error.h"
#include "model/context.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace tandem::assistant {
namespace {

// One token per character (a codepoint), so budgets are easy to reason about.
int characters(std::string_view text) {
  int n = 0;
  for (size_t at = 0, length = 0; at < text.size(); at += length) {
    codepoint_at(text, at, &length);
    ++n;
  }
  return n;
}

// The invariants every split must keep.
void check(std::string_view text, int budget, const TokenCounter& count, const std::vector<Chunk>& chunks) {
  if (is_blank(text)) {
    EXPECT_TRUE(chunks.empty());
    return;
  }
  ASSERT_FALSE(chunks.empty());
  EXPECT_EQ(chunks.front().begin, 0u);
  EXPECT_EQ(chunks.back().end, text.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    SCOPED_TRACE(i);
    const Chunk& c = chunks[i];
    EXPECT_LT(c.begin, c.end);
    if (i + 1 < chunks.size()) {
      EXPECT_EQ(c.end, chunks[i + 1].begin);  // covered, in order, no overlap
    }
    EXPECT_EQ(c.tokens, count(chunk_text(text, c)));
    EXPECT_LE(c.tokens, budget);
    EXPECT_TRUE(valid_utf8(text.substr(c.begin, c.end - c.begin)));  // never inside a character
    EXPECT_FALSE(is_blank(chunk_text(text, c)) && i > 0);
  }
}

std::vector<std::string> texts_of(std::string_view text, const std::vector<Chunk>& chunks) {
  std::vector<std::string> out;
  for (const Chunk& c : chunks) out.emplace_back(chunk_text(text, c));
  return out;
}

TEST(Chunker, ParagraphsThatFitArePackedWhole) {
  const std::string text = "aaaa aaaa.\n\nbbbb bbbb.\n\ncccc cccc.\n\ndddd.";
  const auto chunks = split_into_chunks(text, 24, characters);
  check(text, 24, characters, chunks);
  EXPECT_EQ(texts_of(text, chunks), (std::vector<std::string>{"aaaa aaaa.\n\nbbbb bbbb.", "cccc cccc.\n\ndddd."}));
}

TEST(Chunker, ALongParagraphIsCutBetweenSentences) {
  const std::string text = "One two three. Four five six! Seven eight nine? Ten eleven.";
  const auto chunks = split_into_chunks(text, 32, characters);
  check(text, 32, characters, chunks);
  EXPECT_EQ(texts_of(text, chunks), (std::vector<std::string>{"One two three. Four five six!", "Seven eight nine? Ten eleven."}));
}

TEST(Chunker, ChineseSentencesEndAtTheirOwnMarks) {
  const std::string text = "今天天气很好。我们去公园散步吧！你觉得怎么样？“好的。”他说。";
  const auto chunks = split_into_chunks(text, 9, characters);
  check(text, 9, characters, chunks);
  EXPECT_EQ(texts_of(text, chunks), (std::vector<std::string>{"今天天气很好。", "我们去公园散步吧！", "你觉得怎么样？", "“好的。”他说。"}));
}

TEST(Chunker, NumbersAndAbbreviationsDoNotEndSentences) {
  const std::string text = "Pi is 3.14159 and e is 2.71828 in value. Next sentence here.";
  const auto chunks = split_into_chunks(text, 45, characters);
  check(text, 45, characters, chunks);
  EXPECT_EQ(texts_of(text, chunks).front(), "Pi is 3.14159 and e is 2.71828 in value.");
}

TEST(Chunker, ThenLinesSpacesAndCharacters) {
  const std::string lines = "first line without a stop\nsecond line without one";
  EXPECT_EQ(texts_of(lines, split_into_chunks(lines, 30, characters)),
            (std::vector<std::string>{"first line without a stop", "second line without one"}));
  const std::string words = "alpha beta gamma delta";
  EXPECT_EQ(texts_of(words, split_into_chunks(words, 11, characters)),
            (std::vector<std::string>{"alpha beta", "gamma delta"}));
  const std::string han = "一二三四五六七八九十";  // no boundary at all: between characters
  const auto chunks = split_into_chunks(han, 4, characters);
  check(han, 4, characters, chunks);
  EXPECT_EQ(texts_of(han, chunks), (std::vector<std::string>{"一二三四", "五六七八", "九十"}));
}

TEST(Chunker, EdgeCases) {
  EXPECT_TRUE(split_into_chunks("  \n\n ", 10, characters).empty());
  EXPECT_THROW(split_into_chunks("text", 0, characters), Error);
  // A character that alone needs more than the budget: an error, never an oversized chunk.
  EXPECT_THROW(split_into_chunks("中", 2, [](std::string_view t) { return int(t.size()); }), Error);
  const std::string padded = "\n\n  lead and trail  \n\n";
  const auto chunks = split_into_chunks(padded, 100, characters);
  ASSERT_EQ(chunks.size(), 1u);
  check(padded, 100, characters, chunks);
  EXPECT_EQ(chunk_text(padded, chunks[0]), "lead and trail");
}

// Random texts of words, Chinese, punctuation and line breaks, random budgets.
TEST(Chunker, RandomTextsKeepTheInvariants) {
  std::mt19937 rng(42);
  const std::vector<std::string> atoms = {"word", "longerword", " ", " ", " ", ".", "!", "?", "\n", "\n\n", "中文",
                                          "。", "！", "？", "”", "，", "3.14", "x", "\t", "  "};
  for (int round = 0; round < 300; ++round) {
    std::string text;
    const int n = int(rng() % 200);
    for (int i = 0; i < n; ++i) text += atoms[rng() % atoms.size()];
    const int budget = 1 + int(rng() % 40);
    SCOPED_TRACE(text);
    SCOPED_TRACE(budget);
    const auto chunks = split_into_chunks(text, budget, characters);
    check(text, budget, characters, chunks);
  }
}

class ChunkerWithTokenizer : public ::testing::TestWithParam<std::string> {};

// Real tokenizers count a piece differently alone and inside a longer text; every chunk
// is still within budget by its own count, and the text is covered.
TEST_P(ChunkerWithTokenizer, RealTextWithinBudgetAndCovered) {
  const auto model = model::Model::load(test::shared_path(GetParam()));
  const auto tok = tokenizer::Tokenizer::from_gguf(model->file());
  const TokenCounter count = [&](std::string_view t) { return int(tok->encode(t, false, false).size()); };
  std::ifstream in(test::shared_path("text/tinystories_head.txt"));
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str().substr(0, 12000);
  while (!valid_utf8(text)) text.pop_back();
  text += "\n\n中文段落：今天我们讨论分块。每一块都不能超过预算！是这样吗？当然。";
  for (const int budget : {24, 100, 500}) {
    SCOPED_TRACE(budget);
    const auto chunks = split_into_chunks(text, budget, count);
    check(text, budget, count, chunks);
    if (budget == 500) {
      // Most chunks end at a paragraph or a sentence.
      int natural = 0;
      for (const std::string& t : texts_of(text, chunks)) {
        const char last = t.back();
        natural += last == '.' || last == '!' || last == '?' || last == '"' || (t.size() >= 3 && t.substr(t.size() - 3) == "。");
      }
      EXPECT_GE(natural * 10, int(chunks.size()) * 8);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ChunkerWithTokenizer,
                         ::testing::Values("models/stories260K.gguf", "conformance/qwen2/model-F32.gguf"));

}  // namespace
}  // namespace tandem::assistant
