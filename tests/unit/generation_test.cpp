// The step object (generate::Generation on a generate::Sequence) on the real
// stories260K model: the choose/evaluate split the server's scheduler batches on, the
// one prompt-length rule, logprobs, JSON-schema constraints, and the Session's
// stream over it.
#include "generate/generation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "generate/session.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace tandem::generate {
namespace {

class GenerationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = model::Model::load(test::shared_path("models/stories260K.gguf"));
    tokenizer_ = tokenizer::Tokenizer::from_gguf(model_->file()).release();
    std::ifstream golden_file(test::shared_path("models/stories260K.greedy.json"));
    golden_ids_ = nlohmann::json::parse(golden_file).at("generated_ids").get<std::vector<int32_t>>();
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    model_.reset();
  }
  static model::ContextOptions context(int n_ctx = 0) {
    model::ContextOptions options;
    options.n_ctx = n_ctx;
    options.n_threads = 1;
    return options;
  }
  static GenerateOptions greedy(int max_tokens) {
    GenerateOptions options;
    options.max_tokens = max_tokens;
    options.sampling.temperature = 0;
    options.ignore_eos = true;
    return options;
  }
  static std::vector<int32_t> bos() { return {tokenizer_->bos()}; }

  static inline std::shared_ptr<model::Model> model_;
  static inline tokenizer::Tokenizer* tokenizer_ = nullptr;
  static inline std::vector<int32_t> golden_ids_;
};

TEST_F(GenerationTest, StepsReproduceTheGoldenWhetherTheCallerOrTheGenerationEvaluates) {
  Sequence own(model_, context()), batched(model_, context());
  Generation a(own, *tokenizer_, bos(), greedy(64));
  Generation b(batched, *tokenizer_, bos(), greedy(64));
  std::string text_a, text_b;
  while (!a.finished()) {
    text_a += a.choose().text;
    if (a.waiting_for_evaluation()) a.evaluate();
  }
  while (!b.finished()) {
    text_b += b.choose().text;
    if (!b.waiting_for_evaluation()) continue;
    // As the scheduler does: the caller runs the forward pass, then tells the generation.
    model::Context* contexts[] = {&batched.context()};
    const int32_t tokens[] = {b.next_token()};
    model::Context::eval_step(contexts, tokens);
    b.evaluated();
  }
  EXPECT_EQ(a.tokens(), std::vector<int32_t>(golden_ids_.begin(), golden_ids_.begin() + 64));
  EXPECT_EQ(b.tokens(), a.tokens());
  EXPECT_EQ(text_b, text_a);
  EXPECT_EQ(a.outcome().finish, FinishReason::Length);
  EXPECT_EQ(a.outcome().n_generated, 64);
  // The last chosen token is never evaluated: the cache holds the prompt and 63 tokens.
  EXPECT_EQ(own.context().n_past(), 64);
  EXPECT_THROW(a.choose(), Error);
}

TEST_F(GenerationTest, APromptMustLeaveRoomForOneGeneratedToken) {
  EXPECT_EQ(max_prompt_tokens(16), 15);
  const std::vector<int32_t> fits(golden_ids_.begin(), golden_ids_.begin() + 15);
  const std::vector<int32_t> full(golden_ids_.begin(), golden_ids_.begin() + 16);
  Session session(model_, *tokenizer_, context(16));
  const GenerateResult result = session.generate(fits, greedy(8));
  EXPECT_EQ(result.n_generated, 2);  // the first fills position 15, the second comes from its logits
  EXPECT_EQ(result.finish, FinishReason::ContextFull);
  try {
    session.generate(full, greedy(8));
    FAIL() << "a prompt of n_ctx tokens was accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("16 tokens"), std::string::npos) << error.what();
  }
  Sequence sequence(model_, context(16));
  EXPECT_THROW(Generation(sequence, *tokenizer_, full, greedy(1)), Error);
  EXPECT_NO_THROW(Generation(sequence, *tokenizer_, fits, greedy(1)));
}

TEST_F(GenerationTest, LogprobsDescribeTheChosenTokenAndTheBestAlternatives) {
  Session session(model_, *tokenizer_, context());
  GenerateOptions options = greedy(16);
  options.top_logprobs = 3;
  const GenerateResult result = session.generate(bos(), options);
  ASSERT_EQ(result.logprobs.size(), result.tokens.size());
  for (size_t i = 0; i < result.logprobs.size(); ++i) {
    const TokenLogprob& lp = result.logprobs[i];
    EXPECT_EQ(lp.id, result.tokens[i]);
    ASSERT_EQ(lp.top.size(), 3u);
    EXPECT_EQ(lp.top[0].id, lp.id);  // greedy chose the most likely token
    EXPECT_FLOAT_EQ(lp.top[0].logprob, lp.logprob);
    EXPECT_LT(lp.logprob, 0.0f);
    EXPECT_GE(lp.top[0].logprob, lp.top[1].logprob);
    EXPECT_GE(lp.top[1].logprob, lp.top[2].logprob);
    EXPECT_LE(std::exp(lp.top[0].logprob) + std::exp(lp.top[1].logprob) + std::exp(lp.top[2].logprob), 1.0001);
  }
  // Asking for logprobs does not change the text.
  EXPECT_EQ(result.tokens, session.generate(bos(), greedy(16)).tokens);
  options.top_logprobs = 0;
  const GenerateResult bare = session.generate(bos(), options);
  ASSERT_FALSE(bare.logprobs.empty());
  EXPECT_TRUE(bare.logprobs[0].top.empty());
  EXPECT_FLOAT_EQ(bare.logprobs[0].logprob, result.logprobs[0].logprob);
}

TEST_F(GenerationTest, JsonSchemaOutputParsesAndMatches) {
  Session session(model_, *tokenizer_, context());
  GenerateOptions options = greedy(200);
  options.ignore_eos = false;
  options.constraint = JsonConstraint::from_schema_text(
      R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer"},)"
      R"("pet":{"enum":["cat","dog"]}},"required":["name","age","pet"]})");
  const GenerateResult result = session.generate(bos(), options);
  const auto document = nlohmann::json::parse(result.text, nullptr, false);
  ASSERT_FALSE(document.is_discarded()) << result.text;
  ASSERT_TRUE(document.is_object()) << result.text;
  EXPECT_TRUE(document["name"].is_string()) << result.text;
  EXPECT_TRUE(document["age"].is_number_integer()) << result.text;
  EXPECT_TRUE(document["pet"] == "cat" || document["pet"] == "dog") << result.text;
  EXPECT_EQ(result.finish, FinishReason::Stop);
  EXPECT_THROW(JsonConstraint::from_schema_text("{not json"), Error);
}

TEST_F(GenerationTest, SessionStreamsStepInTheCallersThreadAndANewStreamCancelsTheOld) {
  Session session(model_, *tokenizer_, context());
  auto first = session.start({bos(), greedy(32)});
  std::vector<Piece> pieces;
  ASSERT_FALSE(first->wait(pieces, {}));
  ASSERT_EQ(pieces.size(), 1u);  // one piece per wait: the caller sees every step
  auto second = session.start({bos(), greedy(8)});
  EXPECT_TRUE(first->wait(pieces, {}));
  EXPECT_EQ(first->outcome().finish, FinishReason::Cancelled);
  std::string text;
  pieces.clear();
  while (!second->wait(pieces, {})) {}
  for (const Piece& p : pieces) text += p.text;
  EXPECT_EQ(second->outcome().n_generated, 8);
  EXPECT_EQ(text, session.generate(bos(), greedy(8)).text);
}

}  // namespace
}  // namespace tandem::generate
