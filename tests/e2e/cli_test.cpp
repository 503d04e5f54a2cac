// The tandem CLI end to end on ../shared: acceptance checks and bad-input handling.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "generate/session.h"
#include "gguf/file.h"
#include "model/context.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"

using namespace tandem;
using test::run_cli;
using test::shared_path;

namespace {

const std::string kStories = shared_path("models/stories260K.gguf");

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), (std::streamsize)bytes.size());
}

// Greedy ids from BOS through `tandem logits`, which feeds its own choices back.
std::vector<int> greedy_ids(const std::string& model, int n) {
  auto r = run_cli("logits -m " + model + " -p '' --top 1 -n " + std::to_string(n) + " -t 2");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out)["generated_tokens"].get<std::vector<int>>();
}

TEST(Cli, Stories260KGreedyFromBosReproducesReference) {
  auto golden = read_json(shared_path("models/stories260K.greedy.json"));
  EXPECT_EQ(greedy_ids(kStories, 256), golden["generated_ids"].get<std::vector<int>>());
}

TEST(Cli, RunStreamsTheReferenceStory) {
  auto golden = read_json(shared_path("models/stories260K.greedy.json"));
  auto r = run_cli("run -m " + kStories + " -p '' -n 256 --temp 0 --ignore-eos -t 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // llama2.c's text drops the SentencePiece leading space of the first token.
  std::string text = golden["text"];
  EXPECT_EQ(r.out, " " + text + "\n");
}

TEST(Cli, ConvertedLlama2cCheckpointGivesTheSameGreedyText) {
  std::string out = test::temp_path("stories-converted.gguf");
  auto r = run_cli("convert-llama2c " + shared_path("models/stories260K.bin") + " " + shared_path("models/tok512.bin") +
                   " -o " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto golden = read_json(shared_path("models/stories260K.greedy.json"));
  EXPECT_EQ(greedy_ids(out, 256), golden["generated_ids"].get<std::vector<int>>());
}

TEST(Cli, PerplexityOfReferenceTokens) {
  auto r = run_cli("perplexity -m " + kStories + " --tokens " + shared_path("models/stories260K.ppl.json") + " --json -t 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_NEAR(j["mean_nll"].get<double>(), 1.46934, 0.0005);
  EXPECT_NEAR(j["perplexity"].get<double>(), 4.346, 0.003);
  EXPECT_EQ(j["n_scored"], 511);
}

TEST(Cli, TokenizeJsonIsOneArray) {
  auto r = run_cli("tokenize -m " + kStories + " -p 'Once upon a time' --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::parse("[403, 407, 261, 378]"));
  r = run_cli("tokenize -m " + kStories + " -p 'Once upon a time' --json --add-special");
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::parse("[1, 403, 407, 261, 378]"));
}

TEST(Cli, TokenizeReadsAFileByteForByte) {
  std::string path = test::temp_path("prompt.txt");
  write_bytes(path, {'a', '\n', 'b', '\n'});
  auto from_file = run_cli("tokenize -m " + kStories + " -f " + path + " --json");
  auto from_text = run_cli("tokenize -m " + kStories + " -p 'a\nb\n' --json");  // real newlines inside sh quotes
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  EXPECT_EQ(from_file.out, from_text.out);
}

TEST(Cli, LogitsJsonHasTheDocumentedShape) {
  auto r = run_cli("logits -m " + kStories + " -p 'Once upon a time' --top 3 -n 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["prompt_tokens"], nlohmann::json::parse("[1, 403, 407, 261, 378]"));
  ASSERT_EQ(j["prompt_top"].size(), 5u);
  EXPECT_EQ(j["prompt_top"][0].size(), 3u);
  EXPECT_EQ(j["prompt_top"][0][0][0], 403);  // after BOS the model says " Once"
  EXPECT_EQ(j["generated_tokens"].size(), 2u);
  EXPECT_EQ(j["generated_top"].size(), 2u);
  EXPECT_EQ(j["generated_tokens"][0], j["generated_top"][0][0][0]);
}

TEST(Cli, InfoPrintsMetadataTensorsAndTotals) {
  auto r = run_cli("info " + kStories);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("general.architecture"), std::string::npos);
  EXPECT_NE(r.out.find("token_embd.weight"), std::string::npos);
  EXPECT_NE(r.out.find("64 x 512"), std::string::npos);
  EXPECT_NE(r.out.find("totals:"), std::string::npos);
}

TEST(Cli, SameSeedSameText) {
  std::string args = "run -m " + kStories + " -p 'Once upon a time' -n 40 --temp 1 -t 2 --seed ";
  auto a = run_cli(args + "42"), b = run_cli(args + "42"), c = run_cli(args + "43");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
}

// Bad input: a clear message on stderr, exit status 1 (tools/tandem/main.cpp's for an error),
// no crash. In the sanitizer build a report exits with its own status (kSanitizerExit, set in
// the environment below), so a report after the error message cannot pass as a clean failure.
constexpr int kSanitizerExit = 86;
// The CLI children inherit these (the test binary itself read its options at start); the
// Release build has no sanitizer and ignores them.
const bool kSanitizerOptions = [] {
  const std::string code = std::to_string(kSanitizerExit);
  for (const auto& [name, extra] : {std::pair<const char*, std::string>{"ASAN_OPTIONS", "exitcode=" + code},
                                    {"UBSAN_OPTIONS", "halt_on_error=1:exitcode=" + code}}) {
    const char* old = std::getenv(name);
    setenv(name, ((old && *old ? std::string(old) + ":" : "") + extra).c_str(), 1);
  }
  return true;
}();
void expect_clean_failure(const test::CommandResult& r, const std::string& needle) {
  EXPECT_NE(r.exit_code, kSanitizerExit) << "a sanitizer report: " << r.err;
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Sanitizer"), std::string::npos) << r.err;
}

TEST(CliErrors, MissingFile) { expect_clean_failure(run_cli("run -m /nonexistent.gguf -p hi"), "/nonexistent.gguf"); }

TEST(CliErrors, TruncatedGguf) {
  auto bytes = read_bytes(kStories);
  bytes.resize(bytes.size() / 2);
  std::string path = test::temp_path("truncated.gguf");
  write_bytes(path, bytes);
  expect_clean_failure(run_cli("run -m " + path + " -p hi"), "truncated");
}

TEST(CliErrors, NotAGguf) {
  std::string path = test::temp_path("not.gguf");
  write_bytes(path, {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!'});
  expect_clean_failure(run_cli("info " + path), "magic");
}

// Patches the type id of the first tensor to a value ggml never defined.
TEST(CliErrors, UnknownTensorType) {
  auto f = gguf::File::open(kStories);
  auto bytes = read_bytes(kStories);
  const auto& t = f.tensors()[0];
  // The tensor info ends with u32 type then u64 offset; find it by scanning for the name.
  std::string name = t.name;
  auto it = std::search(bytes.begin(), bytes.end(), name.begin(), name.end());
  ASSERT_NE(it, bytes.end());
  size_t type_at = (it - bytes.begin()) + name.size() + 4 + 8 * t.dims.size();
  uint32_t bad = 77;
  std::memcpy(&bytes[type_at], &bad, 4);
  std::string path = test::temp_path("badtype.gguf");
  write_bytes(path, bytes);
  expect_clean_failure(run_cli("run -m " + path + " -p hi"), "unknown tensor type id 77");
}

TEST(CliErrors, PromptLongerThanContext) {
  expect_clean_failure(run_cli("run -m " + kStories + " -c 8 -p 'Once upon a time there was a little girl named Lily'"),
                       "context");
}

TEST(CliErrors, UnknownArchitecture) {
  auto bytes = read_bytes(kStories);
  // "llama" as the architecture value -> "lla_a"; the key prefixes stay, so the arch lookup fails first.
  std::string key = "general.architecture";
  auto it = std::search(bytes.begin(), bytes.end(), key.begin(), key.end());
  ASSERT_NE(it, bytes.end());
  size_t value_at = (it - bytes.begin()) + key.size() + 4 + 8;
  bytes[value_at + 3] = '_';
  std::string path = test::temp_path("badarch.gguf");
  write_bytes(path, bytes);
  expect_clean_failure(run_cli("run -m " + path + " -p hi"), "unsupported architecture 'lla_a'");
}

TEST(CliErrors, MissingTensorIsListed) {
  auto bytes = read_bytes(kStories);
  std::string name = "blk.0.ffn_gate.weight";
  auto it = std::search(bytes.begin(), bytes.end(), name.begin(), name.end());
  ASSERT_NE(it, bytes.end());
  *(it + 4) = 'X';  // blk.X.ffn_gate.weight
  std::string path = test::temp_path("missing.gguf");
  write_bytes(path, bytes);
  expect_clean_failure(run_cli("run -m " + path + " -p hi"), "missing tensor blk.0.ffn_gate.weight");
}

TEST(CliErrors, MalformedTokensJson) {
  std::string path = test::temp_path("bad.json");
  write_bytes(path, {'{', '"', 't'});
  expect_clean_failure(run_cli("perplexity -m " + kStories + " --tokens " + path), "tokens");
}

}  // namespace

namespace {

// The greedy reply of the library to `rendered` (special tokens parsed), at most 8 tokens.
std::string greedy_reply(const std::string& model_path, const std::string& rendered) {
  auto model = model::Model::load(model_path);
  auto tok = tokenizer::Tokenizer::from_gguf(model->file());
  generate::Session session(model, *tok, {.n_ctx = 512, .n_threads = 2});
  generate::GenerateOptions options;
  options.max_tokens = 8;
  options.sampling.temperature = 0;
  return session.generate(tok->encode(rendered, true, true), options).text;
}

TEST(CliChat, TwoTurnsWithTheModelsTemplate) {
  // qwen2 conformance model: random weights, but a real ChatML template and special tokens.
  const std::string qwen = shared_path("conformance/qwen2/model-Q8_0.gguf");
  auto r = test::run_cli_with_input("chat -m " + qwen + " --system 'Be brief.' -n 8 --temp 0 -t 2",
                                    "Hello there\nAnd again\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Each turn's reply is the greedy reply to the conversation so far in ChatML, written out
  // here by hand (the replies themselves are noise from random weights).
  std::string rendered =
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello there<|im_end|>\n<|im_start|>assistant\n";
  const std::string first = greedy_reply(qwen, rendered);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(r.out.substr(0, first.size() + 1), first + "\n") << r.out;
  rendered += first + "<|im_end|>\n<|im_start|>user\nAnd again<|im_end|>\n<|im_start|>assistant\n";
  const std::string second = greedy_reply(qwen, rendered);
  EXPECT_EQ(r.out, first + "\n" + second + "\n");
}

// A model without a chat template: tests/e2e/cli_chat_test.cpp (chatml, and the chat says so).

}  // namespace
