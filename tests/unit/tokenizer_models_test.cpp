// Tokenization of the real models in shared/: stories260K's perplexity tokens
// and the prompt tokens that llama.cpp recorded in the conformance goldens.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gguf/file.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace tandem::tokenizer {
namespace {

nlohmann::json read_json(const std::string& relative) {
  std::ifstream in(test::shared_path(relative));
  return nlohmann::json::parse(in);
}

std::unique_ptr<Tokenizer> load(const std::string& relative) {
  return Tokenizer::from_gguf(gguf::File::open(test::shared_path(relative)));
}

TEST(Stories260K, PromptWithBos) {
  const auto tokenizer = load("models/stories260K.gguf");
  EXPECT_EQ(tokenizer->encode("Once upon a time, there was a little robot", true, false),
            (std::vector<Token>{1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 352, 414, 430, 309}));
  EXPECT_EQ(tokenizer->bos(), 1);
  EXPECT_EQ(tokenizer->eos(), 2);
  EXPECT_TRUE(tokenizer->is_end_of_generation(2));
  EXPECT_FALSE(tokenizer->is_end_of_generation(1));
}

TEST(Stories260K, PerplexityTokens) {
  const auto tokenizer = load("models/stories260K.gguf");
  const auto reference = read_json("models/stories260K.ppl.json");
  std::ifstream in(test::shared_path("text/tinystories_head.txt"), std::ios::binary);
  std::string text(1500, '\0');  // the first 1500 characters are ASCII
  in.read(text.data(), (std::streamsize)text.size());

  auto ids = tokenizer->encode(text, true, false);
  ASSERT_GE(ids.size(), 512u);
  ids.resize(512);
  EXPECT_EQ(ids, reference["tokens"].get<std::vector<Token>>());
}

TEST(Stories260K, DecodeUndoesSpacePrefixAndBytes) {
  const auto tokenizer = load("models/stories260K.gguf");
  const std::string text = "Lily said: \"Hi!\"\nThe end.";
  const auto ids = tokenizer->encode(text, true, false);
  EXPECT_EQ(tokenizer->decode(ids, false), " " + text);  // BOS renders as nothing, the prefix as a space
  EXPECT_EQ(tokenizer->token_to_piece(1, true), "<s>");
}

TEST(SpecialTokens, Qwen2ChatMarkupAndUserDefined) {
  const auto tokenizer = load("tokenizers/ggml-vocab-qwen2.gguf");
  const Token im_start = tokenizer->find("<|im_start|>");
  const Token im_end = tokenizer->find("<|im_end|>");
  const Token tool_call = tokenizer->find("<tool_call>");
  ASSERT_GE(im_start, 0);
  ASSERT_GE(tool_call, 0);
  const auto parsed = tokenizer->encode("<|im_start|>user\nHi<|im_end|>", false, true);
  ASSERT_GE(parsed.size(), 3u);
  EXPECT_EQ(parsed.front(), im_start);
  EXPECT_EQ(parsed.back(), im_end);
  EXPECT_EQ(tokenizer->decode(parsed, true), "<|im_start|>user\nHi<|im_end|>");
  EXPECT_EQ(tokenizer->decode(parsed, false), "user\nHi");
  const auto plain = tokenizer->encode("<|im_start|>", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), im_start), 0);
  const auto tool = tokenizer->encode("x<tool_call>", false, false);
  EXPECT_EQ(tool.back(), tool_call);
  EXPECT_TRUE(tokenizer->is_end_of_generation(im_end));
  EXPECT_TRUE(tokenizer->is_end_of_generation(tokenizer->find("<|endoftext|>")));
}

TEST(SpecialTokens, SentencePiecePrefixesTextAfterSpecialToken) {
  const auto tokenizer = load("tokenizers/ggml-vocab-llama-spm.gguf");
  const auto parsed = tokenizer->encode("Hi</s>Hi", true, true);
  const auto hi = tokenizer->encode("Hi", false, false);
  std::vector<Token> expected = {1};
  expected.insert(expected.end(), hi.begin(), hi.end());
  expected.push_back(2);
  expected.insert(expected.end(), hi.begin(), hi.end());
  EXPECT_EQ(parsed, expected);
}

struct Golden {
  const char* model;
  const char* golden_prefix;
};

class ConformancePrompts : public ::testing::TestWithParam<Golden> {};

TEST_P(ConformancePrompts, MatchLlamaCpp) {
  const std::string dir = std::string("conformance/") + GetParam().model + "/";
  const auto tokenizer = load(dir + GetParam().golden_prefix + ".gguf");
  const std::string golden_prefix = GetParam().golden_prefix;
  const std::string quant = golden_prefix.substr(golden_prefix.find('-') + 1);
  for (int prompt = 1; prompt <= 3; ++prompt) {
    const auto golden = read_json(dir + "golden-" + quant + "-prompt" + std::to_string(prompt) + ".json");
    const auto expected = golden["prompt_tokens"].get<std::vector<Token>>();
    EXPECT_EQ(tokenizer->encode(golden["prompt"].get<std::string>(), true, false), expected) << "prompt " << prompt;
  }
}

INSTANTIATE_TEST_SUITE_P(Shared, ConformancePrompts,
                         ::testing::Values(Golden{"llama", "model-F32"}, Golden{"llama3", "model-F32"},
                                           Golden{"qwen2", "model-F32"}, Golden{"phi3", "model-F32"},
                                           Golden{"gemma2", "model-Q8_0"}),
                         [](const auto& info) { return std::string(info.param.model); });

}  // namespace
}  // namespace tandem::tokenizer
