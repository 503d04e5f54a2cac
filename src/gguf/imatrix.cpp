#include "gguf/imatrix.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "gguf/file.h"

namespace tandem::gguf {
namespace {

// Sequential little-endian reads that never pass the end of the bytes.
class Reader {
 public:
  Reader(const MappedFile& bytes) : bytes_(bytes) {}
  uint64_t offset() const { return at_; }
  uint64_t left() const { return bytes_.size() - at_; }
  bool done() const { return at_ == bytes_.size(); }

  int32_t i32(const char* what) {
    need(4, what);
    int32_t v;
    std::memcpy(&v, bytes_.data() + at_, 4);
    at_ += 4;
    return v;
  }
  // A length or count: non-negative, and with `unit` bytes per item no more than what is left.
  uint64_t count(const char* what, uint64_t unit) {
    const uint64_t start = at_;
    const int32_t n = i32(what);
    if (n < 0) fail(where(start), what, " is negative (", n, ")");
    if (uint64_t(n) * unit > left())
      fail(where(start), what, " is ", n, " but only ", left(), " bytes are left (", unit, " per item)");
    return uint64_t(n);
  }
  std::string text(uint64_t n, const char* what) {
    need(n, what);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + at_), n);
    at_ += n;
    return s;
  }
  void floats(float* out, uint64_t n, const char* what) {
    need(4 * n, what);
    std::memcpy(out, bytes_.data() + at_, 4 * n);
    at_ += 4 * n;
  }
  std::string where(uint64_t offset) const {
    return "importance matrix '" + bytes_.path() + "', byte " + std::to_string(offset) + ": ";
  }

 private:
  void need(uint64_t n, const char* what) {
    if (n > left()) fail(where(at_), "truncated: ", what, " needs ", n, " bytes, ", left(), " are left");
  }
  const MappedFile& bytes_;
  uint64_t at_ = 0;
};

void check_finite(const std::string& file, const std::string& name, const std::vector<float>& values) {
  for (size_t i = 0; i < values.size(); i++)
    if (!std::isfinite(values[i]))
      fail("importance matrix '", file, "': entry '", name, "' value ", i, " is not finite (", values[i], ")");
}

ImportanceMatrix parse_legacy(const MappedFile& bytes) {
  ImportanceMatrix m;
  m.legacy = true;
  Reader in(bytes);
  // Each entry takes at least 12 bytes (name length, calls, value count) plus one value.
  const uint64_t n_entries = in.count("the entry count", 16);
  if (n_entries == 0) fail(in.where(0), "no entries");
  for (uint64_t e = 0; e < n_entries; e++) {
    const uint64_t name_at = in.offset();
    const std::string name = in.text(in.count("a name length", 1), "an entry name");
    if (name.empty()) fail(in.where(name_at), "entry ", e, " has an empty name");
    const int32_t calls = in.i32("the call count");
    const uint64_t n_values = in.count("the value count", 4);
    if (n_values == 0) fail(in.where(in.offset() - 4), "entry '", name, "' has no values");
    std::vector<float> values(n_values);
    in.floats(values.data(), n_values, "the values");
    check_finite(bytes.path(), name, values);
    // llama-quantize: the stored values are (sum / count) * calls, so divide by the calls.
    if (calls > 0)
      for (float& v : values) v = v / float(int64_t(calls));
    m.weights[name] = std::move(values);  // a repeated name replaces the earlier entry, as in llama.cpp
  }
  if (!in.done()) {  // optional trailer: chunk count, dataset name
    const int32_t chunks = in.i32("the chunk count");
    m.chunk_count = chunks > 0 ? uint32_t(chunks) : 0;
    if (!in.done()) {
      const uint64_t n = in.count("the dataset name length", 1);
      if (n > 0) m.datasets.push_back(in.text(n, "the dataset name"));
    }
  }
  return m;
}

ImportanceMatrix parse_gguf(std::shared_ptr<MappedFile> bytes) {
  const std::string path = bytes->path();
  const File file = File::parse(std::move(bytes));
  ImportanceMatrix m;
  const bool has_metadata = file.has("imatrix.datasets") && file.has("imatrix.chunk_count") && file.has("imatrix.chunk_size");
  if (!has_metadata)
    fail("importance matrix '", path, "': a GGUF imatrix needs the keys imatrix.datasets, imatrix.chunk_count and "
         "imatrix.chunk_size (llama-quantize refuses it without them)");
  const uint64_t chunks = file.get_uint("imatrix.chunk_count");
  if (chunks > UINT32_MAX) fail("importance matrix '", path, "': imatrix.chunk_count ", chunks, " is out of range");
  m.chunk_count = uint32_t(chunks);
  const Value* datasets = file.find("imatrix.datasets");
  if (datasets->type == ValueType::ARRAY && datasets->elem_type == ValueType::STRING)
    m.datasets = file.get_strings("imatrix.datasets");

  // Pair NAME.in_sum2 with NAME.counts.
  struct Pair {
    const TensorInfo* sums = nullptr;
    const TensorInfo* counts = nullptr;
  };
  std::map<std::string, Pair> pairs;
  const auto strip = [](const std::string& name, const std::string& suffix, std::string& base) {
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
    base = name.substr(0, name.size() - suffix.size());
    return true;
  };
  for (const TensorInfo& t : file.tensors()) {
    std::string base;
    if (strip(t.name, ".in_sum2", base)) pairs[base].sums = &t;
    else if (strip(t.name, ".counts", base)) pairs[base].counts = &t;
  }
  if (pairs.empty()) fail("importance matrix '", path, "': no NAME.in_sum2 / NAME.counts tensors");
  for (const auto& [name, pair] : pairs) {
    if (!pair.sums || !pair.counts)
      fail("importance matrix '", path, "': '", name, "' has ", pair.sums ? "sums (.in_sum2) but no .counts" : ".counts but no sums (.in_sum2)");
    if (pair.sums->type != quant::Type::F32 || pair.counts->type != quant::Type::F32)
      fail("importance matrix '", path, "': the sums and counts of '", name, "' must be F32");
    const uint64_t n_sums = pair.sums->n_elements, n_counts = pair.counts->n_elements;
    if (n_counts == 0 || n_sums == 0 || n_sums % n_counts != 0)
      fail("importance matrix '", path, "': '", name, "' has ", n_sums, " sums for ", n_counts,
           " counts (need a whole number of sums per count)");
    const float* sums = reinterpret_cast<const float*>(pair.sums->data);
    const float* counts = reinterpret_cast<const float*>(pair.counts->data);
    const uint64_t per_count = n_sums / n_counts;
    std::vector<float> values(n_sums);
    for (uint64_t j = 0; j < n_counts; j++) {
      float c;
      std::memcpy(&c, counts + j, 4);
      if (!std::isfinite(c) || std::fabs(c) > 9.2e18f)
        fail("importance matrix '", path, "': count ", j, " of '", name, "' is not a usable number (", c, ")");
      const float count = float(std::llround(c));  // llama.cpp keeps counts as rounded integers
      for (uint64_t i = 0; i < per_count; i++) {
        float sum;
        std::memcpy(&sum, sums + j * per_count + i, 4);
        values[j * per_count + i] = count > 0.0f ? sum / count : 1.0f;
      }
    }
    check_finite(path, name, values);
    m.weights[name] = std::move(values);
  }
  return m;
}

}  // namespace

const float* ImportanceMatrix::find(const std::string& name, uint64_t n_per_row) const {
  const auto it = weights.find(name);
  if (it == weights.end()) return nullptr;
  if (it->second.size() != n_per_row)
    fail("the importance matrix has ", it->second.size(), " weights for '", name, "', whose rows have ", n_per_row,
         " values (an importance matrix made for another model?)");
  return it->second.data();
}

ImportanceMatrix parse_importance_matrix(std::shared_ptr<MappedFile> bytes) {
  const bool is_gguf = bytes->size() >= 4 && std::memcmp(bytes->data(), "GGUF", 4) == 0;
  return is_gguf ? parse_gguf(std::move(bytes)) : parse_legacy(*bytes);
}

ImportanceMatrix load_importance_matrix(const std::string& path) {
  return parse_importance_matrix(MappedFile::open(path));
}

}  // namespace tandem::gguf
