#include "gguf/writer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/error.h"
#include "core/half.h"
#include "gguf/file.h"
#include "support/test_paths.h"

namespace tandem::gguf {
namespace {

using quant::Type;

File reparse(const Writer& w) { return File::parse(MappedFile::from_bytes(w.to_bytes())); }

bool same_value(const Value& a, const Value& b) {
  return a.type == b.type && (!a.is_array() || a.elem_type == b.elem_type) && a.data == b.data;
}

void expect_same_metadata(const std::vector<std::pair<std::string, Value>>& expected, const File& actual) {
  ASSERT_EQ(actual.metadata().size(), expected.size());
  for (size_t i = 0; i < expected.size(); i++) {
    const auto& [key, value] = expected[i];
    EXPECT_EQ(actual.metadata()[i].first, key) << "entry " << i;
    EXPECT_TRUE(same_value(actual.metadata()[i].second, value))
        << key << ": wrote " << value.to_string() << ", read " << actual.metadata()[i].second.to_string();
  }
}

std::vector<uint8_t> iota_bytes(size_t n, uint8_t start) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; i++) bytes[i] = (uint8_t)(start + i * 7);
  return bytes;
}

// Every GGUF value type, at the edges of its range where it has one.
std::vector<std::pair<std::string, Value>> every_value_type() {
  using VT = ValueType;
  return {
      {"t.u8", {VT::U8, VT::U8, uint64_t{255}}},
      {"t.i8", {VT::I8, VT::I8, int64_t{-128}}},
      {"t.u16", {VT::U16, VT::U16, uint64_t{65535}}},
      {"t.i16", {VT::I16, VT::I16, int64_t{-32768}}},
      {"t.u32", Value::u32(4294967295u)},
      {"t.i32", Value::i32(std::numeric_limits<int32_t>::min())},
      {"t.f32", Value::f32(-1.5e-5f)},
      {"t.bool", Value::boolean(true)},
      {"t.string", Value::string("h\xc3\xa9llo\nworld")},
      {"t.empty_string", Value::string("")},
      {"t.u64", Value::u64(std::numeric_limits<uint64_t>::max())},
      {"t.i64", {VT::I64, VT::I64, std::numeric_limits<int64_t>::min()}},
      {"t.f64", {VT::F64, VT::F64, 3.141592653589793}},
      {"a.u8", {VT::ARRAY, VT::U8, std::vector<uint64_t>{0, 1, 255}}},
      {"a.i8", {VT::ARRAY, VT::I8, std::vector<int64_t>{-128, 0, 127}}},
      {"a.u16", {VT::ARRAY, VT::U16, std::vector<uint64_t>{65535}}},
      {"a.i16", {VT::ARRAY, VT::I16, std::vector<int64_t>{-1, 2}}},
      {"a.u32", {VT::ARRAY, VT::U32, std::vector<uint64_t>{7, 4294967295u}}},
      {"a.i32", Value::i32s({-2147483648ll, 5, 2147483647})},
      {"a.f32", Value::f32s({0.5, -0.25, (double)1e30f})},
      {"a.bool", {VT::ARRAY, VT::BOOL, std::vector<uint64_t>{1, 0, 1}}},
      {"a.string", Value::strings({"a", "", "\xe2\x96\x81the"})},
      {"a.u64", {VT::ARRAY, VT::U64, std::vector<uint64_t>{std::numeric_limits<uint64_t>::max()}}},
      {"a.i64", {VT::ARRAY, VT::I64, std::vector<int64_t>{std::numeric_limits<int64_t>::min(), 9}}},
      {"a.f64", {VT::ARRAY, VT::F64, std::vector<double>{1.0 / 3.0}}},
      {"a.empty", Value::strings({})},
  };
}

struct TensorSpec {
  std::string name;
  Type type;
  std::vector<uint64_t> dims;
  std::vector<uint8_t> bytes;
};

std::vector<TensorSpec> a_few_tensors() {
  std::vector<uint8_t> f16(8 * 2);
  for (int i = 0; i < 8; i++) {
    uint16_t h = fp32_to_fp16(0.5f * (float)i - 1.0f);
    std::memcpy(&f16[i * 2], &h, 2);
  }
  return {
      {"f32.weight", Type::F32, {3, 4}, iota_bytes(3 * 4 * 4, 1)},  // 48 bytes: next one needs padding
      {"f16.weight", Type::F16, {8}, f16},
      {"q8_0.weight", Type::Q8_0, {64, 2, 1}, iota_bytes(2 * 2 * 34, 3)},
  };
}

Writer writer_with(const std::vector<std::pair<std::string, Value>>& kv, const std::vector<TensorSpec>& tensors) {
  Writer w;
  for (const auto& [key, value] : kv) w.set(key, value);
  for (const auto& t : tensors) w.add_tensor(t.name, t.type, t.dims, t.bytes);
  return w;
}

void expect_same_tensors(const std::vector<TensorSpec>& expected, const File& file) {
  ASSERT_EQ(file.tensors().size(), expected.size());
  for (size_t i = 0; i < expected.size(); i++) {
    const TensorInfo& t = file.tensors()[i];
    EXPECT_EQ(t.name, expected[i].name);
    EXPECT_EQ(t.type, expected[i].type);
    EXPECT_EQ(t.dims, expected[i].dims);
    EXPECT_EQ(t.offset % file.alignment(), 0u) << t.name;
    ASSERT_EQ(t.n_bytes, expected[i].bytes.size()) << t.name;
    EXPECT_EQ(std::vector<uint8_t>(t.data, t.data + t.n_bytes), expected[i].bytes) << t.name;
  }
}

TEST(GgufWriter, EveryValueTypeAndTensorTypeRoundTrips) {
  const auto kv = every_value_type();
  const auto tensors = a_few_tensors();
  const File file = reparse(writer_with(kv, tensors));
  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(file.alignment(), 32u);
  EXPECT_EQ(file.data_offset() % 32, 0u);
  expect_same_metadata(kv, file);
  expect_same_tensors(tensors, file);
}

TEST(GgufWriter, HonoursCustomAlignment) {
  auto kv = every_value_type();
  kv.insert(kv.begin(), {"general.alignment", Value::u32(256)});
  const auto tensors = a_few_tensors();
  const File file = reparse(writer_with(kv, tensors));
  EXPECT_EQ(file.alignment(), 256u);
  EXPECT_EQ(file.data_offset() % 256, 0u);
  EXPECT_EQ(file.tensors()[1].offset, 256u);  // the 48-byte F32 tensor is padded to a whole unit
  expect_same_metadata(kv, file);
  expect_same_tensors(tensors, file);
}

TEST(GgufWriter, SetReplacesInPlace) {
  Writer w;
  w.set("first", Value::u32(1));
  w.set("second", Value::string("x"));
  w.set("first", Value::string("replaced"));
  const File file = reparse(w);
  ASSERT_EQ(file.metadata().size(), 2u);
  EXPECT_EQ(file.metadata()[0].first, "first");
  EXPECT_EQ(file.get_string("first"), "replaced");
  EXPECT_EQ(file.metadata()[1].first, "second");
}

TEST(GgufWriter, WriteMatchesToBytesAndLeavesNoTempFile) {
  const Writer w = writer_with(every_value_type(), a_few_tensors());
  const std::string path = test::temp_path("writer_roundtrip.gguf");
  w.write(path);
  const File file = File::open(path);
  const std::vector<uint8_t> expected = w.to_bytes();
  ASSERT_EQ(file.file_size(), expected.size());
  EXPECT_EQ(std::memcmp(file.bytes()->data(), expected.data(), expected.size()), 0);
  const auto dir = std::filesystem::path(path).parent_path();
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename().string().find("writer_roundtrip.gguf.tmp"), std::string::npos) << entry.path();
  std::filesystem::remove(path);
}

TEST(GgufWriter, WriteToMissingDirectoryIsAnError) {
  const Writer w = writer_with({}, a_few_tensors());
  EXPECT_THROW(w.write("/nonexistent-dir/for/tandem/out.gguf"), Error);
}

TEST(GgufWriter, RejectsTensorsThatDoNotMatchTheirShape) {
  struct Case {
    const char* what;
    TensorSpec tensor;
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {"too few bytes", {"t", Type::F32, {4, 2}, std::vector<uint8_t>(31)}, "needs 32 bytes"},
      {"too many bytes", {"t", Type::F16, {4}, std::vector<uint8_t>(9)}, "needs 8 bytes"},
      {"row not a whole block", {"t", Type::Q8_0, {48}, std::vector<uint8_t>(51)}, "block size 32"},
      {"zero dimension", {"t", Type::F32, {4, 0}, {}}, "zero dimension"},
      {"no dimensions", {"t", Type::F32, {}, {}}, "dimensions"},
      {"five dimensions", {"t", Type::F32, {1, 1, 1, 1, 1}, std::vector<uint8_t>(4)}, "dimensions"},
      {"overflowing shape", {"t", Type::F32, {1ull << 32, 1ull << 32}, {}}, "overflows"},
      {"overflowing bytes", {"t", Type::F32, {1ull << 31, 1ull << 31}, {}}, "overflows"},
      {"unknown type", {"t", (Type)31, {4}, std::vector<uint8_t>(4)}, "unknown type"},
      {"empty name", {"", Type::F32, {1}, std::vector<uint8_t>(4)}, "name"},
      {"name too long", {std::string(64, 'n'), Type::F32, {1}, std::vector<uint8_t>(4)}, "name"},
  };
  for (const auto& c : cases) {
    Writer w;
    try {
      w.add_tensor(c.tensor.name, c.tensor.type, c.tensor.dims, c.tensor.bytes);
      ADD_FAILURE() << c.what << ": accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.message_part), std::string::npos) << c.what << ": " << e.what();
    }
  }
}

TEST(GgufWriter, RejectsDuplicateTensorNames) {
  Writer w;
  w.add_tensor("t", Type::F32, {1}, std::vector<uint8_t>(4));
  EXPECT_THROW(w.add_tensor("t", Type::F32, {1}, std::vector<uint8_t>(4)), Error);
}

TEST(GgufWriter, RejectsValuesThatDoNotFitTheirType) {
  using VT = ValueType;
  const std::vector<std::pair<std::string, Value>> cases = {
      {"u8 too big", {VT::U8, VT::U8, uint64_t{256}}},
      {"i8 too small", {VT::I8, VT::I8, int64_t{-129}}},
      {"u32 negative", {VT::U32, VT::U32, int64_t{-1}}},
      {"i64 too big", {VT::I64, VT::I64, uint64_t{1} << 63}},
      {"bool 2", {VT::BOOL, VT::BOOL, uint64_t{2}}},
      {"string holding a number", {VT::STRING, VT::STRING, uint64_t{1}}},
      {"f32 holding a string", {VT::F32, VT::F32, std::string("1")}},
      {"array element out of range", {VT::ARRAY, VT::U16, std::vector<uint64_t>{70000}}},
      {"array of the wrong kind", {VT::ARRAY, VT::STRING, std::vector<double>{1}}},
      {"nested array", {VT::ARRAY, VT::ARRAY, std::vector<uint64_t>{}}},
      {"unknown type", {(VT)13, (VT)13, uint64_t{0}}},
  };
  for (const auto& [what, value] : cases) {
    Writer w;
    try {
      w.set("bad.key", value);
      ADD_FAILURE() << what << ": accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("bad.key"), std::string::npos) << what << ": " << e.what();
    }
  }
}

TEST(GgufWriter, RejectsBadAlignment) {
  for (const Value& bad : {Value::u32(0), Value::u32(48), Value::u64(64), Value::string("32")}) {
    Writer w;
    EXPECT_THROW(w.set("general.alignment", bad), Error) << bad.to_string();
  }
}

TEST(GgufWriter, RewritingStories260KReproducesTheFile) {
  const File original = File::open(test::shared_path("models/stories260K.gguf"));
  Writer w;
  for (const auto& [key, value] : original.metadata()) w.set(key, value);
  std::vector<TensorSpec> tensors;
  for (const auto& t : original.tensors()) {
    tensors.push_back({t.name, t.type, t.dims, std::vector<uint8_t>(t.data, t.data + t.n_bytes)});
    w.add_tensor(t.name, t.type, t.dims, tensors.back().bytes);
  }
  const std::vector<uint8_t> bytes = w.to_bytes();
  const File reread = File::parse(MappedFile::from_bytes(bytes));
  expect_same_metadata(original.metadata(), reread);
  expect_same_tensors(tensors, reread);
  // ggml lays files out the same way, so the rewrite is byte-identical.
  ASSERT_EQ(bytes.size(), original.file_size());
  EXPECT_EQ(std::memcmp(bytes.data(), original.bytes()->data(), bytes.size()), 0);
}

}  // namespace
}  // namespace tandem::gguf
