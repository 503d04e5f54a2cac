// Importance matrix files (gguf/imatrix.h), read as untrusted input: both of llama-imatrix's
// formats, normalized as llama-quantize normalizes them, and every malformed file (truncated,
// negative or oversized counts, non-finite values, unpaired or mistyped GGUF tensors, random
// corruption) a tandem::Error rather than a crash. Runs under ASan/UBSan (scripts/test.sh).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/imatrix.h"
#include "gguf/writer.h"

namespace tandem::gguf {
namespace {

// Little-endian pieces of a legacy .dat file.
struct Legacy {
  std::vector<uint8_t> bytes;
  Legacy& i32(int32_t v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes.insert(bytes.end(), p, p + 4);
    return *this;
  }
  Legacy& text(const std::string& s) {
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  Legacy& floats(const std::vector<float>& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    bytes.insert(bytes.end(), p, p + 4 * v.size());
    return *this;
  }
  Legacy& entry(const std::string& name, int32_t calls, const std::vector<float>& values) {
    return i32(int32_t(name.size())).text(name).i32(calls).i32(int32_t(values.size())).floats(values);
  }
};

ImportanceMatrix parse(std::vector<uint8_t> bytes) { return parse_importance_matrix(MappedFile::from_bytes(std::move(bytes), "test.imatrix")); }

// The error message of parsing `bytes`, or "" when it parses.
std::string error_of(std::vector<uint8_t> bytes) {
  try {
    parse(std::move(bytes));
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

std::vector<uint8_t> valid_legacy() {
  Legacy f;
  f.i32(2).entry("blk.0.attn_q.weight", 4, {4, 8, 12, 16}).entry("output.weight", 0, {0.5f, 2});
  f.i32(10).i32(4).text("wiki");
  return f.bytes;
}

std::vector<uint8_t> gguf_imatrix(bool metadata, const std::vector<float>& sums, const std::vector<float>& counts,
                                  quant::Type counts_type = quant::Type::F32, bool with_counts = true) {
  Writer w;
  if (metadata) {
    w.set("imatrix.datasets", Value::strings({"calibration.txt"}));
    w.set("imatrix.chunk_count", Value::u32(12));
    w.set("imatrix.chunk_size", Value::u32(512));
  }
  const auto as_bytes = [](const std::vector<float>& v) {
    std::vector<uint8_t> b(4 * v.size());
    std::memcpy(b.data(), v.data(), b.size());
    return b;
  };
  w.add_tensor("blk.0.ffn_down.weight.in_sum2", quant::Type::F32, {sums.size() / counts.size(), counts.size()}, as_bytes(sums));
  if (with_counts) {
    if (counts_type == quant::Type::F32) w.add_tensor("blk.0.ffn_down.weight.counts", quant::Type::F32, {1, counts.size()}, as_bytes(counts));
    else w.add_tensor("blk.0.ffn_down.weight.counts", quant::Type::I32, {1, counts.size()}, as_bytes(counts));
  }
  return w.to_bytes();
}

TEST(ImportanceMatrix, LegacyValuesAreDividedByTheirCalls) {
  const ImportanceMatrix m = parse(valid_legacy());
  EXPECT_TRUE(m.legacy);
  ASSERT_EQ(m.weights.size(), 2u);
  EXPECT_EQ(m.weights.at("blk.0.attn_q.weight"), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(m.weights.at("output.weight"), (std::vector<float>{0.5f, 2}));  // 0 calls: as stored
  EXPECT_EQ(m.chunk_count, 10u);
  EXPECT_EQ(m.datasets, std::vector<std::string>{"wiki"});
  // The trailer is optional.
  Legacy bare;
  bare.i32(1).entry("a", 1, {3});
  EXPECT_EQ(parse(bare.bytes).weights.at("a"), std::vector<float>{3});
}

TEST(ImportanceMatrix, GgufSumsAreDividedByTheirExpertsCounts) {
  // Two experts of 3 columns: counts 2 and 0 (no activations: weights 1, as llama-quantize).
  const ImportanceMatrix m = parse(gguf_imatrix(true, {2, 4, 6, 9, 9, 9}, {2, 0}));
  EXPECT_FALSE(m.legacy);
  EXPECT_EQ(m.weights.at("blk.0.ffn_down.weight"), (std::vector<float>{1, 2, 3, 1, 1, 1}));
  EXPECT_EQ(m.chunk_count, 12u);
  EXPECT_EQ(m.datasets, std::vector<std::string>{"calibration.txt"});
}

TEST(ImportanceMatrix, FindChecksTheRowLength) {
  const ImportanceMatrix m = parse(valid_legacy());
  EXPECT_NE(m.find("blk.0.attn_q.weight", 4), nullptr);
  EXPECT_EQ(m.find("blk.1.attn_q.weight", 4), nullptr);
  try {
    m.find("blk.0.attn_q.weight", 256);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blk.0.attn_q.weight"), std::string::npos) << e.what();
  }
}

TEST(ImportanceMatrix, EveryTruncationOfTheEntriesIsAnError) {
  const std::vector<uint8_t> full = valid_legacy();
  const size_t entries_end = full.size() - 12;  // the trailer: chunk count, name length, "wiki"
  for (size_t n = 0; n < entries_end; n++) {
    const std::string err = error_of(std::vector<uint8_t>(full.begin(), full.begin() + n));
    EXPECT_NE(err, "") << "truncated to " << n << " bytes";
  }
  EXPECT_EQ(error_of(full), "");
}

TEST(ImportanceMatrix, MalformedLegacyFilesSayWhatIsWrong) {
  struct Case {
    std::vector<uint8_t> bytes;
    std::string expect;
  };
  std::vector<Case> cases;
  const std::vector<float> padding(4, 0.0f);  // room for the entry count's plausibility check
  cases.push_back({Legacy().i32(0).bytes, "no entries"});
  cases.push_back({Legacy().i32(-3).bytes, "negative"});
  cases.push_back({Legacy().i32(1 << 30).entry("a", 1, {1}).bytes, "entry count"});
  cases.push_back({Legacy().i32(1).i32(-1).floats(padding).bytes, "negative"});
  cases.push_back({Legacy().i32(1).i32(1000).text("ab").floats(padding).bytes, "name length"});
  cases.push_back({Legacy().i32(1).entry("", 1, {1}).bytes, "empty name"});
  cases.push_back({Legacy().i32(1).i32(1).text("a").i32(1).i32(0).floats(padding).bytes, "no values"});
  cases.push_back({Legacy().i32(1).i32(1).text("a").i32(1).i32(0x7fffffff).floats({1}).bytes, "value count"});
  cases.push_back({Legacy().i32(1).entry("a", 1, {1, NAN}).bytes, "not finite"});
  cases.push_back({Legacy().i32(1).entry("a", 1, {INFINITY}).bytes, "not finite"});
  cases.push_back({Legacy().i32(1).entry("a", 1, {1}).i32(3).i32(50).text("x").bytes, "dataset name length"});
  for (const Case& c : cases) {
    const std::string err = error_of(c.bytes);
    EXPECT_NE(err.find(c.expect), std::string::npos) << "expected '" << c.expect << "', got '" << err << "'";
    EXPECT_NE(err.find("test.imatrix"), std::string::npos) << err;
  }
}

TEST(ImportanceMatrix, MalformedGgufFilesSayWhatIsWrong) {
  EXPECT_NE(error_of(gguf_imatrix(false, {1, 2}, {1})).find("imatrix.chunk_count"), std::string::npos);
  EXPECT_NE(error_of(gguf_imatrix(true, {1, 2}, {1}, quant::Type::F32, false)).find("no .counts"), std::string::npos);
  EXPECT_NE(error_of(gguf_imatrix(true, {1, 2}, {1}, quant::Type::I32)).find("must be F32"), std::string::npos);
  EXPECT_NE(error_of(gguf_imatrix(true, {1, 2}, {NAN})).find("count 0"), std::string::npos);
  EXPECT_NE(error_of(gguf_imatrix(true, {1, INFINITY}, {1})).find("not finite"), std::string::npos);
  // A GGUF without any imatrix tensors.
  Writer w;
  w.set("imatrix.datasets", Value::strings({"x"}));
  w.set("imatrix.chunk_count", Value::u32(1));
  w.set("imatrix.chunk_size", Value::u32(1));
  EXPECT_NE(error_of(w.to_bytes()).find("no NAME.in_sum2"), std::string::npos);
}

// Random corruption of valid files in both formats: each parses or is a tandem::Error.
TEST(ImportanceMatrix, CorruptedFilesParseOrFailCleanly) {
  std::mt19937 rng(91);
  const std::vector<std::vector<uint8_t>> seeds = {valid_legacy(), gguf_imatrix(true, {2, 4, 6, 9, 9, 9}, {2, 0})};
  int errors = 0;
  for (const auto& seed : seeds) {
    for (int round = 0; round < 3000; round++) {
      std::vector<uint8_t> bytes = seed;
      const int flips = 1 + int(rng() % 4);
      for (int f = 0; f < flips; f++) bytes[rng() % bytes.size()] = uint8_t(rng());
      if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
      if (error_of(bytes) != "") errors++;  // any other exception, or a crash, fails the test
    }
  }
  EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace tandem::gguf
