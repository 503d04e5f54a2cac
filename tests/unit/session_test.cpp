// End-to-end generation on the real stories260K model (tokenizer embedded).
#include "generate/session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace tandem::generate {
namespace {

class SessionTest : public ::testing::Test {
 protected:
  // Loaded once for the suite. A model, tokenizer or golden that cannot be read fails
  // every test with the reason (a skip would count as a pass in ctest).
  static void SetUpTestSuite() {
    try {
      model_ = model::Model::load(test::shared_path("models/stories260K.gguf"));
      tokenizer_ = tokenizer::Tokenizer::from_gguf(model_->file()).release();
      const std::string golden_path = test::shared_path("models/stories260K.greedy.json");
      std::ifstream golden_file(golden_path);
      if (!golden_file) throw std::runtime_error("cannot open " + golden_path);
      const nlohmann::json golden = nlohmann::json::parse(golden_file);
      golden_ids_ = golden.at("generated_ids").get<std::vector<int32_t>>();
      golden_text_ = golden.at("text").get<std::string>();
    } catch (const std::exception& error) {
      setup_error_ = error.what();
    }
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    tokenizer_ = nullptr;
    model_.reset();
  }
  void SetUp() override {
    ASSERT_TRUE(setup_error_.empty()) << "cannot load stories260K or its golden from ../shared: " << setup_error_;
  }

  static Session make_session(int n_ctx = 0) {
    model::ContextOptions options;
    options.n_ctx = n_ctx;
    options.n_threads = 1;
    return Session(model_, *tokenizer_, options);
  }
  static std::vector<int32_t> bos() { return {tokenizer_->bos()}; }
  static GenerateOptions greedy(int max_tokens) {
    GenerateOptions options;
    options.max_tokens = max_tokens;
    options.sampling.temperature = 0.0f;
    options.ignore_eos = true;
    return options;
  }
  static std::vector<int32_t> golden_head(size_t n) {
    return std::vector<int32_t>(golden_ids_.begin(), golden_ids_.begin() + ptrdiff_t(n));
  }

  static inline std::shared_ptr<model::Model> model_;
  static inline tokenizer::Tokenizer* tokenizer_ = nullptr;
  static inline std::vector<int32_t> golden_ids_;
  static inline std::string golden_text_;
  static inline std::string setup_error_;
};

TEST_F(SessionTest, GreedyFromBosReproducesTheGolden) {
  Session session = make_session();
  std::string streamed;
  const GenerateResult result = session.generate(bos(), greedy(256), [&](std::string_view text) {
    streamed += text;
    return true;
  });
  EXPECT_EQ(result.tokens, golden_ids_);
  EXPECT_EQ(result.finish, FinishReason::Length);
  EXPECT_EQ(result.n_prompt, 1);
  EXPECT_EQ(streamed, result.text);
  // Pieces keep SentencePiece's leading space on the first word; the golden text
  // is the decoded string without it.
  EXPECT_EQ(result.text, " " + golden_text_);
}

TEST_F(SessionTest, SameSeedSameTextDifferentSeedDifferentText) {
  auto run = [&](uint64_t seed) {
    GenerateOptions options;
    options.max_tokens = 64;
    options.sampling.temperature = 1.0f;
    options.sampling.seed = seed;
    Session session = make_session();
    return session.generate(bos(), options).text;
  };
  const std::string first = run(11);
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(run(11), first);
  EXPECT_NE(run(12), first);
}

TEST_F(SessionTest, StopStringEndsTheTextBeforeIt) {
  Session session = make_session();
  GenerateOptions options = greedy(256);
  options.stop = {"Lily"};
  std::string streamed;
  const GenerateResult result = session.generate(bos(), options, [&](std::string_view text) {
    streamed += text;
    return true;
  });
  EXPECT_EQ(result.finish, FinishReason::Stop);
  EXPECT_EQ(result.text, " Once upon a time, there was a little girl named ");
  EXPECT_EQ(streamed, result.text);
  EXPECT_LT(result.tokens.size(), 20u);
}

TEST_F(SessionTest, MaxTokensIsRespected) {
  Session session = make_session();
  const GenerateResult result = session.generate(bos(), greedy(10));
  EXPECT_EQ(result.finish, FinishReason::Length);
  EXPECT_EQ(result.tokens, golden_head(10));
  EXPECT_EQ(session.generate(bos(), greedy(0)).tokens.size(), 0u);
}

TEST_F(SessionTest, OnTextReturningFalseCancels) {
  Session session = make_session();
  int calls = 0;
  const GenerateResult result = session.generate(bos(), greedy(256), [&](std::string_view) {
    return ++calls < 3;
  });
  EXPECT_EQ(result.finish, FinishReason::Cancelled);
  EXPECT_EQ(calls, 3);
  EXPECT_LE(result.tokens.size(), 3u);
}

TEST_F(SessionTest, PromptLongerThanTheContextIsAnError) {
  Session session = make_session(32);
  const std::vector<int32_t> prompt(40, golden_ids_[0]);
  try {
    session.generate(prompt, greedy(4));
    FAIL() << "no error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("40"), std::string::npos) << message;
    EXPECT_NE(message.find("32"), std::string::npos) << message;
  }
  EXPECT_THROW(session.generate({}, greedy(4)), Error);
  EXPECT_THROW(session.generate({tokenizer_->n_vocab()}, greedy(4)), Error);
}

TEST_F(SessionTest, FullContextEndsGeneration) {
  Session session = make_session(16);
  ASSERT_EQ(session.context().n_ctx(), 16);
  const GenerateResult result = session.generate(bos(), greedy(-1));
  EXPECT_EQ(result.finish, FinishReason::ContextFull);
  // 1 prompt + 15 evaluated tokens fill the context; the 16th is sampled from the last logits.
  EXPECT_EQ(result.tokens, golden_head(16));
}

TEST_F(SessionTest, ExtendingThePromptReusesTheCache) {
  Session session = make_session();
  const GenerateResult first = session.generate(bos(), greedy(20));
  // The last sampled token was never evaluated.
  EXPECT_EQ(session.context().n_past(), 20);

  std::vector<int32_t> extended = bos();
  extended.insert(extended.end(), first.tokens.begin(), first.tokens.end());
  const GenerateResult second = session.generate(extended, greedy(30));
  EXPECT_EQ(second.n_cached, 20);

  Session fresh = make_session();
  const GenerateResult reference = fresh.generate(extended, greedy(30));
  EXPECT_EQ(reference.n_cached, 0);
  EXPECT_EQ(second.tokens, reference.tokens);
  EXPECT_EQ(second.tokens, std::vector<int32_t>(golden_ids_.begin() + 20, golden_ids_.begin() + 50));

  // A prompt that diverges early keeps only the common prefix; repeating a prompt
  // re-evaluates its last token for fresh logits.
  EXPECT_EQ(session.generate(bos(), greedy(5)).n_cached, 0);
  EXPECT_EQ(session.generate(extended, greedy(5)).n_cached, 5);
  EXPECT_EQ(session.generate(extended, greedy(5)).n_cached, int(extended.size()) - 1);
}

// The real tokenizer, except that one chosen token counts as end of generation:
// stories260K separates stories with BOS and never samples EOS, so this is how a
// test reaches the EOS path deterministically.
class EndsOn : public tokenizer::Tokenizer {
 public:
  EndsOn(const tokenizer::Tokenizer& real, tokenizer::Token end) : real_(real), end_(end) {}
  std::vector<tokenizer::Token> encode(std::string_view text, bool add_special, bool parse_special) const override {
    return real_.encode(text, add_special, parse_special);
  }
  std::string token_to_piece(tokenizer::Token id, bool special) const override {
    return real_.token_to_piece(id, special);
  }
  int32_t n_vocab() const override { return real_.n_vocab(); }
  tokenizer::Token bos() const override { return real_.bos(); }
  tokenizer::Token eos() const override { return end_; }
  bool add_bos() const override { return real_.add_bos(); }
  bool add_eos() const override { return real_.add_eos(); }
  bool is_end_of_generation(tokenizer::Token id) const override { return id == end_; }
  tokenizer::TokenKind kind(tokenizer::Token id) const override { return real_.kind(id); }
  const std::string& text(tokenizer::Token id) const override { return real_.text(id); }
  tokenizer::Token find(std::string_view text) const override { return real_.find(text); }

 private:
  const tokenizer::Tokenizer& real_;
  tokenizer::Token end_;
};

TEST_F(SessionTest, EndOfGenerationTokenStopsUnlessIgnored) {
  const size_t first_end = 12;
  const int32_t end = golden_ids_[first_end];
  ASSERT_EQ(std::find(golden_ids_.begin(), golden_ids_.begin() + first_end, end), golden_ids_.begin() + first_end);
  const EndsOn ends_on(*tokenizer_, end);
  model::ContextOptions context_options;
  context_options.n_threads = 1;
  Session session(model_, ends_on, context_options);

  GenerateOptions options = greedy(64);
  options.ignore_eos = false;
  const GenerateResult stopped = session.generate(bos(), options);
  EXPECT_EQ(stopped.finish, FinishReason::Stop);
  EXPECT_EQ(stopped.tokens, golden_head(first_end));  // the end token itself is not part of the result
  Session fresh = make_session();
  EXPECT_EQ(stopped.text, fresh.generate(bos(), greedy(int(first_end))).text);

  options.ignore_eos = true;
  EXPECT_EQ(session.generate(bos(), options).tokens, golden_head(64));
}

}  // namespace
}  // namespace tandem::generate
