#include <gtest/gtest.h>

#include "core/error.h"
#include "gguf/file.h"
#include "support/test_paths.h"

using namespace tandem;

TEST(GgufReader, ReadsStories260K) {
  auto f = gguf::File::open(test::shared_path("models/stories260K.gguf"));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_uint("llama.embedding_length"), 64u);
  EXPECT_EQ(f.get_uint("llama.block_count"), 5u);
  EXPECT_EQ(f.get_strings("tokenizer.ggml.tokens").size(), 512u);
  const auto* embd = f.find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->type, quant::Type::F32);
  EXPECT_EQ(embd->dims, (std::vector<uint64_t>{64, 512}));
  EXPECT_EQ(embd->n_bytes, 64u * 512 * 4);
  EXPECT_EQ((embd->data - f.bytes()->data()) % f.alignment(), 0);
}

TEST(GgufReader, ReadsEveryConformanceModel) {
  for (const char* arch : {"llama", "llama3", "qwen2", "phi3", "gemma2"}) {
    for (const char* q : {"F32", "Q8_0", "Q4_0", "Q4_K_M"}) {
      const bool gemma = arch == std::string("gemma2");
      if (gemma && (q == std::string("F32") || q == std::string("Q4_0"))) continue;  // not shipped (size; shared README)
      std::string rel = std::string("conformance/") + arch + "/model-" + q + ".gguf";
      SCOPED_TRACE(rel);
      auto f = gguf::File::open(test::shared_path(rel));
      EXPECT_EQ(f.get_string("general.architecture"), arch == std::string("llama3") ? "llama" : arch);
      EXPECT_GT(f.tensors().size(), 5u);
    }
  }
}

TEST(GgufReader, MissingFileIsAClearError) {
  try {
    gguf::File::open("/nonexistent/model.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos);
  }
}

TEST(GgufReader, TypedGetterNamesTheKey) {
  auto f = gguf::File::open(test::shared_path("models/stories260K.gguf"));
  try {
    f.get_uint("general.architecture");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("general.architecture"), std::string::npos);
  }
  EXPECT_FALSE(f.find_uint("no.such.key").has_value());
}

// GGUF v2 has the same layout as v3 (64-bit counts); only the version differs.
TEST(GgufReader, ReadsVersion2) {
  auto original = MappedFile::open(test::shared_path("models/stories260K.gguf"));
  std::vector<uint8_t> bytes(original->data(), original->data() + original->size());
  bytes[4] = 2;
  auto f = gguf::File::parse(MappedFile::from_bytes(std::move(bytes), "v2.gguf"));
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.tensors().size(), gguf::File::open(test::shared_path("models/stories260K.gguf")).tensors().size());
}
