#include "convert/llama2c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "gguf/file.h"
#include "support/test_paths.h"

namespace tandem::convert {
namespace {

using gguf::File;

const std::string kBin = "models/stories260K.bin";
const std::string kTokenizer = "models/tok512.bin";
const std::string kReference = "models/stories260K.gguf";

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string write_temp(const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string path = test::temp_path(name);
  std::ofstream(path, std::ios::binary).write((const char*)bytes.data(), (std::streamsize)bytes.size());
  return path;
}

File parse(const gguf::Writer& w) { return File::parse(MappedFile::from_bytes(w.to_bytes())); }

void expect_same_tensors(const File& expected, const File& actual) {
  ASSERT_EQ(actual.tensors().size(), expected.tensors().size());
  for (size_t i = 0; i < expected.tensors().size(); i++) {
    const auto& e = expected.tensors()[i];
    const auto& a = actual.tensors()[i];
    EXPECT_EQ(a.name, e.name);
    EXPECT_EQ(a.type, e.type) << e.name;
    EXPECT_EQ(a.dims, e.dims) << e.name;
    ASSERT_EQ(a.n_bytes, e.n_bytes) << e.name;
    EXPECT_EQ(std::memcmp(a.data, e.data, e.n_bytes), 0) << e.name << " differs";
  }
}

void expect_same_metadata(const File& expected, const File& actual, const std::string& except_key = "") {
  ASSERT_EQ(actual.metadata().size(), expected.metadata().size());
  for (size_t i = 0; i < expected.metadata().size(); i++) {
    const auto& [key, e] = expected.metadata()[i];
    const auto& [actual_key, a] = actual.metadata()[i];
    EXPECT_EQ(actual_key, key);
    if (key == except_key) continue;
    EXPECT_TRUE(a.type == e.type && a.elem_type == e.elem_type && a.data == e.data)
        << key << ": expected " << e.to_string() << ", got " << a.to_string();
  }
}

TEST(ConvertLlama2c, Stories260KMatchesTheReferenceGgufByteForByte) {
  Llama2cOptions options;
  options.context_length = 2048;  // what llama.cpp's converter wrote into the reference
  const gguf::Writer w = llama2c_to_gguf(test::shared_path(kBin), test::shared_path(kTokenizer), options);
  const File reference = File::open(test::shared_path(kReference));
  const File converted = parse(w);
  expect_same_tensors(reference, converted);
  expect_same_metadata(reference, converted);
  const auto bytes = w.to_bytes();
  ASSERT_EQ(bytes.size(), reference.file_size());
  EXPECT_EQ(std::memcmp(bytes.data(), reference.bytes()->data(), bytes.size()), 0);
}

TEST(ConvertLlama2c, DefaultContextLengthIsTheTrainedSequenceLength) {
  const std::string out = test::temp_path("stories260K.converted.gguf");
  convert_llama2c(test::shared_path(kBin), test::shared_path(kTokenizer), out);
  const File converted = File::open(out);
  const File reference = File::open(test::shared_path(kReference));
  EXPECT_EQ(converted.get_uint("llama.context_length"), 512u);
  expect_same_metadata(reference, converted, "llama.context_length");
  expect_same_tensors(reference, converted);
  EXPECT_EQ(converted.get_strings("tokenizer.ggml.tokens")[259], reference.get_strings("tokenizer.ggml.tokens")[259]);
  std::filesystem::remove(out);
}

TEST(ConvertLlama2c, DamagedCheckpointIsAnError) {
  const auto bin = read_all(test::shared_path(kBin));
  ASSERT_GT(bin.size(), 1000u);
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
  };
  auto with_header_field = [&](int field, int32_t value) {
    auto bytes = bin;
    std::memcpy(&bytes[field * 4], &value, 4);
    return bytes;
  };
  auto plus_byte = bin;
  plus_byte.push_back(0);
  const std::vector<Case> cases = {
      {"empty", {}},
      {"half a header", std::vector<uint8_t>(bin.begin(), bin.begin() + 14)},
      {"header only", std::vector<uint8_t>(bin.begin(), bin.begin() + 28)},
      {"cut in the weights", std::vector<uint8_t>(bin.begin(), bin.begin() + (long)bin.size() / 2)},
      {"one byte short", std::vector<uint8_t>(bin.begin(), bin.end() - 1)},
      {"one byte extra", plus_byte},
      {"negative vocab without classifier", with_header_field(5, -512)},
      {"zero dim", with_header_field(0, 0)},
      {"heads do not divide dim", with_header_field(3, 7)},
      {"kv heads do not divide heads", with_header_field(4, 3)},
      {"huge layer count", with_header_field(2, 0x7fffffff)},
  };
  for (const auto& c : cases) {
    const std::string path = write_temp("damaged.bin", c.bytes);
    try {
      llama2c_to_gguf(path, test::shared_path(kTokenizer));
      ADD_FAILURE() << c.what << ": accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("llama2.c checkpoint"), std::string::npos) << c.what << ": " << e.what();
    }
    std::filesystem::remove(path);
  }
}

TEST(ConvertLlama2c, DamagedTokenizerIsAnError) {
  const auto tok = read_all(test::shared_path(kTokenizer));
  auto with_trailing = tok;
  with_trailing.insert(with_trailing.end(), {0, 0, 0, 0, 0, 0, 0, 0});
  auto negative_length = tok;
  const int32_t minus_one = -1;
  std::memcpy(&negative_length[4 + 4], &minus_one, 4);  // token 0's length
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
  };
  const std::vector<Case> cases = {
      {"empty", {}},
      {"cut mid-vocabulary", std::vector<uint8_t>(tok.begin(), tok.begin() + (long)tok.size() / 2)},
      {"last byte missing", std::vector<uint8_t>(tok.begin(), tok.end() - 1)},
      {"a token too many", with_trailing},
      {"negative token length", negative_length},
  };
  for (const auto& c : cases) {
    const std::string path = write_temp("damaged_tok.bin", c.bytes);
    try {
      llama2c_to_gguf(test::shared_path(kBin), path);
      ADD_FAILURE() << c.what << ": accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("llama2.c tokenizer"), std::string::npos) << c.what << ": " << e.what();
    }
    std::filesystem::remove(path);
  }
}

// A hand-made checkpoint with a separate classifier (negative vocab_size) and
// grouped-query attention, whose floats count up so each tensor's slice is recognisable.
TEST(ConvertLlama2c, SeparateClassifierAndTokenTypes) {
  const int32_t dim = 4, hidden = 6, layers = 2, heads = 2, kv_heads = 1, vocab = 6, seq_len = 3;
  std::vector<uint8_t> bin;
  auto put_i32 = [&](int32_t v) { bin.insert(bin.end(), (uint8_t*)&v, (uint8_t*)&v + 4); };
  for (int32_t v : {dim, hidden, layers, heads, kv_heads, -vocab, seq_len}) put_i32(v);
  const int kv_dim = dim / heads * kv_heads;
  const int floats = vocab * dim + layers * (dim + dim * dim + 2 * kv_dim * dim + dim * dim + dim + 3 * hidden * dim) + dim +
                     seq_len * dim / heads + vocab * dim;
  for (int i = 0; i < floats; i++) {
    const float f = (float)i;
    bin.insert(bin.end(), (const uint8_t*)&f, (const uint8_t*)&f + 4);
  }

  std::vector<uint8_t> tok;
  auto put_tok_i32 = [&](int32_t v) { tok.insert(tok.end(), (uint8_t*)&v, (uint8_t*)&v + 4); };
  put_tok_i32(8);
  const std::vector<std::string> texts = {"<unk>", "\n<s>\n", "\n</s>\n", "<0x0A>", " the", ""};
  for (size_t i = 0; i < texts.size(); i++) {
    const float score = -(float)i;
    tok.insert(tok.end(), (const uint8_t*)&score, (const uint8_t*)&score + 4);
    put_tok_i32((int32_t)texts[i].size());
    tok.insert(tok.end(), texts[i].begin(), texts[i].end());
  }

  const std::string bin_path = write_temp("tiny.bin", bin), tok_path = write_temp("tiny_tok.bin", tok);
  const File f = parse(llama2c_to_gguf(bin_path, tok_path));
  std::filesystem::remove(bin_path);
  std::filesystem::remove(tok_path);
  EXPECT_EQ(f.get_strings("tokenizer.ggml.tokens"),
            (std::vector<std::string>{"<unk>", "<s>", "</s>", "<0x0A>", "\xe2\x96\x81the", ""}));
  EXPECT_EQ(f.get_ints("tokenizer.ggml.token_type"), (std::vector<int64_t>{2, 3, 3, 6, 1, 3}));
  EXPECT_EQ(f.get_floats("tokenizer.ggml.scores"), (std::vector<double>{0, -1, -2, -3, -4, -5}));
  EXPECT_EQ(f.get_uint("llama.attention.head_count_kv"), 1u);
  EXPECT_EQ(f.get_uint("llama.rope.dimension_count"), 2u);
  EXPECT_EQ(f.get_uint("llama.context_length"), 3u);

  auto first_float = [&](const std::string& name) {
    const auto* t = f.find_tensor(name);
    EXPECT_NE(t, nullptr) << name;
    float v = -1;
    if (t) std::memcpy(&v, t->data, 4);
    return v;
  };
  EXPECT_EQ(first_float("token_embd.weight"), 0.0f);
  EXPECT_EQ(first_float("blk.0.attn_norm.weight"), (float)(vocab * dim));
  EXPECT_EQ(first_float("blk.1.attn_norm.weight"), (float)(vocab * dim + dim));
  EXPECT_EQ(first_float("blk.1.attn_k.weight"), (float)(vocab * dim + layers * dim + layers * dim * dim + kv_dim * dim));
  EXPECT_EQ(first_float("output.weight"), (float)(floats - vocab * dim));
  EXPECT_EQ(first_float("output_norm.weight"), (float)(floats - vocab * dim - seq_len * dim / heads - dim));
  EXPECT_EQ(f.find_tensor("blk.0.attn_k.weight")->dims, (std::vector<uint64_t>{(uint64_t)dim, (uint64_t)kv_dim}));
  EXPECT_EQ(f.find_tensor("blk.0.ffn_down.weight")->dims, (std::vector<uint64_t>{(uint64_t)hidden, (uint64_t)dim}));
  EXPECT_EQ(f.find_tensor("output_norm.weight")->dims, (std::vector<uint64_t>{(uint64_t)dim}));
}

}  // namespace
}  // namespace tandem::convert
