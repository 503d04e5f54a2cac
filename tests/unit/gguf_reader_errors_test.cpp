// Each corrupt file is a small valid one with one field patched; the reader must
// refuse it with a tandem::Error whose message names that field.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>

#include "core/error.h"
#include "gguf/file.h"
#include "gguf/writer.h"

namespace tandem::gguf {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes valid_file() {
  Writer w;
  w.set("general.alignment", Value::u32(32));
  w.set("k.one", Value::u32(1));
  w.set("k.two", Value::boolean(true));
  w.set("k.name", Value::string("hello"));
  w.set("k.arr", Value::i32s({1, 2, 3}));
  w.add_tensor("a.weight", quant::Type::F32, {4, 2}, Bytes(32, 1));
  w.add_tensor("b.weight", quant::Type::F32, {8}, Bytes(32, 2));
  return w.to_bytes();
}

// Offset just past the first occurrence of `text` (a key or tensor name).
size_t after(const Bytes& bytes, const std::string& text) {
  auto it = std::search(bytes.begin(), bytes.end(), text.begin(), text.end());
  if (it == bytes.end()) throw std::logic_error("test file lacks '" + text + "'");
  return (size_t)(it - bytes.begin()) + text.size();
}

template <class T>
void poke(Bytes& bytes, size_t at, T value) {
  std::memcpy(&bytes[at], &value, sizeof(T));
}

// Field positions inside a tensor info that follows its name.
constexpr size_t kNDims = 0, kFirstDim = 4;
size_t tensor_type_at(const Bytes& b, const std::string& name, uint32_t n_dims) { return after(b, name) + 4 + 8 * n_dims; }
size_t tensor_offset_at(const Bytes& b, const std::string& name, uint32_t n_dims) { return tensor_type_at(b, name, n_dims) + 4; }

struct Case {
  const char* what;
  std::function<void(Bytes&)> corrupt;
  const char* field;  // must appear in the error message
};

const std::vector<Case>& cases() {
  static const std::vector<Case> table = {
      {"bad magic", [](Bytes& b) { std::memcpy(&b[0], "GGML", 4); }, "magic"},
      {"version 1", [](Bytes& b) { poke<uint32_t>(b, 4, 1); }, "version"},
      {"version 99", [](Bytes& b) { poke<uint32_t>(b, 4, 99); }, "version"},
      {"big-endian version", [](Bytes& b) { poke<uint32_t>(b, 4, 0x03000000); }, "version"},
      {"absurd tensor count", [](Bytes& b) { poke<uint64_t>(b, 8, 1ull << 60); }, "tensor_count"},
      {"absurd kv count", [](Bytes& b) { poke<uint64_t>(b, 16, ~0ull); }, "kv_count"},
      {"key length past end", [](Bytes& b) { poke<uint64_t>(b, 24, b.size()); }, "key of metadata entry 0"},
      {"key length 2^64-1", [](Bytes& b) { poke<uint64_t>(b, 24, ~0ull); }, "key of metadata entry 0"},
      {"empty key", [](Bytes& b) { poke<uint64_t>(b, after(b, "k.one") - 5 - 8, 0); }, "metadata entry"},
      {"string value past end", [](Bytes& b) { poke<uint64_t>(b, after(b, "k.name") + 4, b.size()); }, "'k.name'"},
      {"unknown value type", [](Bytes& b) { poke<uint32_t>(b, after(b, "k.one"), 13); }, "'k.one'"},
      {"bool not 0 or 1", [](Bytes& b) { b[after(b, "k.two") + 4] = 2; }, "'k.two'"},
      {"array of unknown type", [](Bytes& b) { poke<uint32_t>(b, after(b, "k.arr") + 4, 13); }, "'k.arr'"},
      {"nested array", [](Bytes& b) { poke<uint32_t>(b, after(b, "k.arr") + 4, 9); }, "'k.arr'"},
      {"array length past end", [](Bytes& b) { poke<uint64_t>(b, after(b, "k.arr") + 8, 1ull << 61); }, "'k.arr'"},
      {"duplicate key", [](Bytes& b) { std::memcpy(&b[after(b, "k.two") - 5], "k.one", 5); }, "k.one"},
      {"alignment 0", [](Bytes& b) { poke<uint32_t>(b, after(b, "general.alignment") + 4, 0); }, "general.alignment"},
      {"alignment 48", [](Bytes& b) { poke<uint32_t>(b, after(b, "general.alignment") + 4, 48); }, "general.alignment"},
      {"alignment a float", [](Bytes& b) { poke<uint32_t>(b, after(b, "general.alignment"), 6); }, "general.alignment"},
      {"tensor name past end", [](Bytes& b) { poke<uint64_t>(b, after(b, "a.weight") - 8 - 8, ~0ull >> 1); }, "tensor 0"},
      {"n_dims 0", [](Bytes& b) { poke<uint32_t>(b, after(b, "a.weight") + kNDims, 0); }, "'a.weight' n_dims"},
      {"n_dims 5", [](Bytes& b) { poke<uint32_t>(b, after(b, "a.weight") + kNDims, 5); }, "'a.weight' n_dims"},
      {"dim 0", [](Bytes& b) { poke<uint64_t>(b, after(b, "a.weight") + kFirstDim, 0); }, "'a.weight' dim"},
      {"element count overflows",
       [](Bytes& b) {
         poke<uint64_t>(b, after(b, "a.weight") + kFirstDim, 1ull << 32);
         poke<uint64_t>(b, after(b, "a.weight") + kFirstDim + 8, 1ull << 32);
       },
       "'a.weight'"},
      {"byte size overflows (2^62 F32 elements is 2^64 bytes)",
       [](Bytes& b) {
         poke<uint64_t>(b, after(b, "a.weight") + kFirstDim, 1ull << 31);
         poke<uint64_t>(b, after(b, "a.weight") + kFirstDim + 8, 1ull << 31);
       },
       "'a.weight'"},
      {"unknown tensor type", [](Bytes& b) { poke<uint32_t>(b, tensor_type_at(b, "a.weight", 2), 31); }, "'a.weight' type"},
      {"row not a whole block", [](Bytes& b) { poke<uint32_t>(b, tensor_type_at(b, "a.weight", 2), 8); }, "'a.weight' type"},
      {"offset not aligned", [](Bytes& b) { poke<uint64_t>(b, tensor_offset_at(b, "b.weight", 1), 36); }, "'b.weight' offset"},
      {"data past end", [](Bytes& b) { poke<uint64_t>(b, tensor_offset_at(b, "b.weight", 1), 1 << 20); }, "'b.weight'"},
      {"file cut in tensor data", [](Bytes& b) { b.resize(b.size() - 1); }, "'b.weight'"},
      {"overlapping tensors", [](Bytes& b) { poke<uint64_t>(b, tensor_offset_at(b, "b.weight", 1), 0); }, "overlaps"},
      {"duplicate tensor name", [](Bytes& b) { b[after(b, "b.weight") - 8] = 'a'; }, "'a.weight'"},
  };
  return table;
}

TEST(GgufReaderErrors, TheUncorruptedFileParses) {
  const File f = File::parse(MappedFile::from_bytes(valid_file()));
  EXPECT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.metadata().size(), 5u);
}

TEST(GgufReaderErrors, EachCorruptFieldIsNamed) {
  for (const auto& c : cases()) {
    Bytes bytes = valid_file();
    c.corrupt(bytes);
    try {
      File::parse(MappedFile::from_bytes(std::move(bytes)));
      ADD_FAILURE() << c.what << ": accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.field), std::string::npos)
          << c.what << ": message does not name " << c.field << ": " << e.what();
    }
  }
}

TEST(GgufReaderErrors, EveryTruncationIsAnError) {
  const Bytes full = valid_file();
  for (size_t size = 0; size < full.size(); size++) {
    EXPECT_THROW(File::parse(MappedFile::from_bytes(Bytes(full.begin(), full.begin() + (long)size))), Error)
        << "cut at " << size;
  }
}

}  // namespace
}  // namespace tandem::gguf
