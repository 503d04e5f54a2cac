// llama.cpp's tokenizer test vectors: every string of every vocabulary in
// shared/tokenizers must encode to exactly the expected ids, and byte-level
// BPE must decode back to the original text.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "gguf/file.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace tandem::tokenizer {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Each test string is followed by "\n__ggml_vocab_test__\n".
std::vector<std::string> read_inputs(const std::string& path) {
  const std::string content = read_file(path);
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<std::string> inputs;
  size_t begin = 0;
  for (size_t at; (at = content.find(separator, begin)) != std::string::npos; begin = at + separator.size()) {
    inputs.push_back(content.substr(begin, at - begin));
  }
  return inputs;
}

// One line per string: each id preceded by a space.
std::vector<std::vector<Token>> read_outputs(const std::string& path) {
  std::istringstream lines(read_file(path));
  std::vector<std::vector<Token>> outputs;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream ids(line);
    auto& tokens = outputs.emplace_back();
    for (Token id; ids >> id;) tokens.push_back(id);
  }
  return outputs;
}

std::string ids_to_string(const std::vector<Token>& ids) {
  std::string s;
  for (Token id : ids) s += " " + std::to_string(id);
  return s;
}

struct Family {
  const char* name;
  bool byte_level;
};

class VocabVectors : public ::testing::TestWithParam<Family> {};

TEST_P(VocabVectors, EncodesEveryStringExactly) {
  const std::string base = std::string("tokenizers/ggml-vocab-") + GetParam().name + ".gguf";
  const auto file = gguf::File::open(test::shared_path(base));
  const auto tokenizer = Tokenizer::from_gguf(file);
  const auto inputs = read_inputs(test::shared_path(base + ".inp"));
  const auto outputs = read_outputs(test::shared_path(base + ".out"));
  ASSERT_FALSE(inputs.empty());
  ASSERT_EQ(inputs.size(), outputs.size());

  size_t matched = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto ids = tokenizer->encode(inputs[i], /*add_special=*/false, /*parse_special=*/false);
    if (ids == outputs[i]) ++matched;
    EXPECT_EQ(ids_to_string(ids), ids_to_string(outputs[i])) << "string " << i << ": '" << inputs[i] << "'";
  }
  std::printf("[ vectors  ] %s: %zu/%zu strings match\n", GetParam().name, matched, inputs.size());
}

TEST_P(VocabVectors, DecodeRoundTrips) {
  const std::string base = std::string("tokenizers/ggml-vocab-") + GetParam().name + ".gguf";
  const auto tokenizer = Tokenizer::from_gguf(gguf::File::open(test::shared_path(base)));
  for (const std::string& input : read_inputs(test::shared_path(base + ".inp"))) {
    // SentencePiece adds its space prefix to non-empty text.
    const std::string expected = GetParam().byte_level || input.empty() ? input : " " + input;
    EXPECT_EQ(tokenizer->decode(tokenizer->encode(input, false, false), true), expected);
  }
}

INSTANTIATE_TEST_SUITE_P(Shared, VocabVectors,
                         ::testing::Values(Family{"llama-spm", false}, Family{"phi-3", false},
                                           Family{"llama-bpe", true}, Family{"qwen2", true}, Family{"gpt-2", true},
                                           Family{"mpt", true}, Family{"starcoder", true}, Family{"refact", true},
                                           Family{"falcon", true}, Family{"deepseek-llm", true},
                                           Family{"deepseek-coder", true}),
                         [](const auto& info) {
                           std::string name = info.param.name;
                           for (char& c : name) if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace tandem::tokenizer
