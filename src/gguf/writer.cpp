#include "gguf/writer.h"

#include <unistd.h>

#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace tandem::gguf {

static_assert(std::endian::native == std::endian::little, "the GGUF writer emits host-order bytes");

namespace {

constexpr uint32_t kVersion = 3;
constexpr uint32_t kDefaultAlignment = 32;
constexpr size_t kMaxDims = 4;
// llama.cpp keeps tensor names in a 64-byte buffer including the terminator.
constexpr size_t kMaxTensorName = 63;
const std::string kAlignmentKey = "general.alignment";

struct IntRange {
  ValueType type;
  uint32_t bytes;
  bool is_signed;
};
constexpr std::array kIntTypes = {
    IntRange{ValueType::U8, 1, false},  IntRange{ValueType::I8, 1, true},  IntRange{ValueType::U16, 2, false},
    IntRange{ValueType::I16, 2, true},  IntRange{ValueType::U32, 4, false}, IntRange{ValueType::I32, 4, true},
    IntRange{ValueType::U64, 8, false}, IntRange{ValueType::I64, 8, true},  IntRange{ValueType::BOOL, 1, false},
};

const IntRange* int_range(ValueType t) {
  for (const auto& r : kIntTypes)
    if (r.type == t) return &r;
  return nullptr;
}

class Bytes {
 public:
  explicit Bytes(std::vector<uint8_t>& out) : out_(out) {}
  template <class T>
  void put(T v) {
    const size_t at = out_.size();
    out_.resize(at + sizeof(T));
    std::memcpy(out_.data() + at, &v, sizeof(T));
  }
  void put_low_bytes(uint64_t v, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) out_.push_back((uint8_t)(v >> (8 * i)));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
  }
  void pad_to(uint64_t alignment) {
    while (out_.size() % alignment != 0) out_.push_back(0);
  }

 private:
  std::vector<uint8_t>& out_;
};

// Integers may arrive as either variant kind (a caller's Value{U32, ..., int64_t{5}} is fine);
// what matters is that the number fits the declared GGUF type.
template <class Source>
void put_int(Bytes& out, const IntRange& range, Source v, const std::string& key) {
  const uint32_t bits = range.bytes * 8;
  const uint64_t max = range.is_signed ? (bits == 64 ? (uint64_t)std::numeric_limits<int64_t>::max() : (1ull << (bits - 1)) - 1)
                                       : (bits == 64 ? std::numeric_limits<uint64_t>::max() : (1ull << bits) - 1);
  const uint64_t effective_max = range.type == ValueType::BOOL ? 1 : max;
  bool fits;
  if constexpr (std::is_signed_v<Source>) {
    if (v < 0) {
      const int64_t min = bits == 64 ? std::numeric_limits<int64_t>::min() : -(int64_t)(1ull << (bits - 1));
      fits = range.is_signed && v >= min;
    } else {
      fits = (uint64_t)v <= effective_max;
    }
  } else {
    fits = v <= effective_max;
  }
  if (!fits) fail("GGUF writer: metadata '", key, "' value ", v, " does not fit ", value_type_name(range.type));
  out.put_low_bytes((uint64_t)v, range.bytes);
}

void put_float(Bytes& out, ValueType type, double v) {
  if (type == ValueType::F32) out.put<float>((float)v);
  else out.put<double>(v);
}

[[noreturn]] void wrong_storage(const std::string& key, const Value& v) {
  fail("GGUF writer: metadata '", key, "' declared ", value_type_name(v.type),
       v.is_array() ? std::string(" of ") + value_type_name(v.elem_type) : std::string(),
       " but holds data of another kind");
}

void put_scalar(Bytes& out, const std::string& key, const Value& v) {
  if (const IntRange* range = int_range(v.type)) {
    if (auto* u = std::get_if<uint64_t>(&v.data)) return put_int(out, *range, *u, key);
    if (auto* i = std::get_if<int64_t>(&v.data)) return put_int(out, *range, *i, key);
  } else if (is_float(v.type)) {
    if (auto* d = std::get_if<double>(&v.data)) return put_float(out, v.type, *d);
  } else if (v.type == ValueType::STRING) {
    if (auto* s = std::get_if<std::string>(&v.data)) return out.put_string(*s);
  } else {
    fail("GGUF writer: metadata '", key, "' has unknown value type ", (uint32_t)v.type);
  }
  wrong_storage(key, v);
}

void put_array(Bytes& out, const std::string& key, const Value& v) {
  const ValueType elem = v.elem_type;
  if (elem == ValueType::ARRAY) fail("GGUF writer: metadata '", key, "': nested arrays are not supported");
  out.put<uint32_t>((uint32_t)elem);
  out.put<uint64_t>(v.array_size());
  if (const IntRange* range = int_range(elem)) {
    if (auto* u = std::get_if<std::vector<uint64_t>>(&v.data)) {
      for (uint64_t x : *u) put_int(out, *range, x, key);
      return;
    }
    if (auto* i = std::get_if<std::vector<int64_t>>(&v.data)) {
      for (int64_t x : *i) put_int(out, *range, x, key);
      return;
    }
  } else if (is_float(elem)) {
    if (auto* d = std::get_if<std::vector<double>>(&v.data)) {
      for (double x : *d) put_float(out, elem, x);
      return;
    }
  } else if (elem == ValueType::STRING) {
    if (auto* s = std::get_if<std::vector<std::string>>(&v.data)) {
      for (const auto& x : *s) out.put_string(x);
      return;
    }
  } else {
    fail("GGUF writer: metadata '", key, "' has unknown array element type ", (uint32_t)elem);
  }
  wrong_storage(key, v);
}

uint64_t padded(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

}  // namespace

void Writer::set(const std::string& key, Value value) {
  if (key.empty()) fail("GGUF writer: empty metadata key");
  if (key == kAlignmentKey) {
    const auto* a = std::get_if<uint64_t>(&value.data);
    if (value.type != ValueType::U32 || !a || *a == 0 || (*a & (*a - 1)) != 0 || *a > std::numeric_limits<uint32_t>::max())
      fail("GGUF writer: ", kAlignmentKey, " must be a u32 power of two");
  }
  // Serialise once so that a bad value is reported by set(), not by a later write().
  std::vector<uint8_t> scratch;
  Bytes probe(scratch);
  if (value.is_array()) put_array(probe, key, value);
  else put_scalar(probe, key, value);

  for (auto& [existing, v] : kv_)
    if (existing == key) {
      v = std::move(value);
      return;
    }
  kv_.emplace_back(key, std::move(value));
}

uint64_t Writer::checked_size(const std::string& name, quant::Type type, const std::vector<uint64_t>& dims) const {
  if (name.empty() || name.size() > kMaxTensorName)
    fail("GGUF writer: tensor name '", name, "' must be 1..", kMaxTensorName, " bytes");
  for (const auto& t : tensors_)
    if (t.name == name) fail("GGUF writer: duplicate tensor '", name, "'");
  const auto traits = quant::traits_of((uint32_t)type);
  if (!traits) fail("GGUF writer: tensor '", name, "' has unknown type id ", (uint32_t)type);
  if (dims.empty() || dims.size() > kMaxDims)
    fail("GGUF writer: tensor '", name, "' must have 1..", kMaxDims, " dimensions, got ", dims.size());
  uint64_t elements = 1;
  for (uint64_t d : dims) {
    if (d == 0) fail("GGUF writer: tensor '", name, "' has a zero dimension");
    if (elements > (uint64_t)std::numeric_limits<int64_t>::max() / d)
      fail("GGUF writer: tensor '", name, "' element count overflows");
    elements *= d;
  }
  if (dims[0] % traits->block_elems != 0)
    fail("GGUF writer: tensor '", name, "' row length ", dims[0], " is not a multiple of the ", traits->name,
         " block size ", traits->block_elems);
  const uint64_t blocks = elements / traits->block_elems;
  if (blocks > std::numeric_limits<uint64_t>::max() / traits->block_bytes)
    fail("GGUF writer: tensor '", name, "' byte size overflows");
  return blocks * traits->block_bytes;
}

void Writer::add_tensor(const std::string& name, quant::Type type, std::vector<uint64_t> dims,
                        std::vector<uint8_t> bytes) {
  const uint64_t expected = checked_size(name, type, dims);
  if (bytes.size() != expected)
    fail("GGUF writer: tensor '", name, "' (", quant::type_name(type), ") needs ", expected, " bytes, got ", bytes.size());
  tensors_.push_back({name, type, std::move(dims), std::move(bytes), expected, false});
}

void Writer::declare_tensor(const std::string& name, quant::Type type, std::vector<uint64_t> dims) {
  const uint64_t size = checked_size(name, type, dims);
  tensors_.push_back({name, type, std::move(dims), {}, size, true});
}

uint32_t Writer::alignment() const {
  for (const auto& [key, v] : kv_)
    if (key == kAlignmentKey) return (uint32_t)std::get<uint64_t>(v.data);
  return kDefaultAlignment;
}

// Everything before the first tensor's data, already padded to the alignment.
std::vector<uint8_t> Writer::header_bytes() const {
  std::vector<uint8_t> buffer;
  Bytes out(buffer);
  out.put<uint32_t>(0x46554747);  // "GGUF"
  out.put<uint32_t>(kVersion);
  out.put<uint64_t>(tensors_.size());
  out.put<uint64_t>(kv_.size());
  for (const auto& [key, v] : kv_) {
    out.put_string(key);
    out.put<uint32_t>((uint32_t)v.type);
    if (v.is_array()) put_array(out, key, v);
    else put_scalar(out, key, v);
  }
  const uint32_t align = alignment();
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    out.put_string(t.name);
    out.put<uint32_t>((uint32_t)t.dims.size());
    for (uint64_t d : t.dims) out.put<uint64_t>(d);
    out.put<uint32_t>((uint32_t)t.type);
    out.put<uint64_t>(offset);
    offset += padded(t.n_bytes, align);
  }
  out.pad_to(align);
  return buffer;
}

std::vector<uint8_t> Writer::to_bytes() const {
  for (const auto& t : tensors_)
    if (t.streamed) fail("GGUF writer: tensor '", t.name, "' was only declared; use write_streaming");
  std::vector<uint8_t> buffer = header_bytes();
  const uint32_t align = alignment();
  for (const auto& t : tensors_) {
    buffer.insert(buffer.end(), t.bytes.begin(), t.bytes.end());
    buffer.resize(padded(buffer.size(), align), 0);
  }
  return buffer;
}

void Writer::write(const std::string& path) const {
  write_streaming(path, [this](size_t index, const Sink&) {
    fail("GGUF writer: tensor '", tensors_[index].name, "' was only declared; use write_streaming");
  });
}

void Writer::write_streaming(const std::string& path, const Producer& produce) const {
  const std::vector<uint8_t> header = header_bytes();
  const uint32_t align = alignment();
  const std::string temp = path + ".tmp-" + std::to_string(::getpid());
  FILE* f = std::fopen(temp.c_str(), "wb");
  if (!f) fail("cannot create '", temp, "': ", std::strerror(errno));

  const std::vector<uint8_t> zeros(align, 0);
  bool ok = std::fwrite(header.data(), 1, header.size(), f) == header.size();
  try {
    for (size_t i = 0; i < tensors_.size() && ok; i++) {
      const Tensor& t = tensors_[i];
      if (t.streamed) {
        uint64_t received = 0;
        produce(i, [&](const uint8_t* bytes, size_t n) {
          received += n;
          if (received > t.n_bytes) fail("GGUF writer: producer gave tensor '", t.name, "' more than its ", t.n_bytes, " bytes");
          if (ok) ok = std::fwrite(bytes, 1, n, f) == n;
        });
        if (received != t.n_bytes)
          fail("GGUF writer: producer gave tensor '", t.name, "' ", received, " of its ", t.n_bytes, " bytes");
      } else {
        ok = std::fwrite(t.bytes.data(), 1, t.bytes.size(), f) == t.bytes.size();
      }
      const size_t pad = padded(t.n_bytes, align) - t.n_bytes;
      if (ok && pad) ok = std::fwrite(zeros.data(), 1, pad, f) == pad;
    }
  } catch (...) {
    std::fclose(f);
    std::remove(temp.c_str());
    throw;
  }
  // The rename must never expose a file whose bytes are still in flight.
  ok = ok && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const int write_errno = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(temp.c_str());
    fail("cannot write '", path, "': ", std::strerror(write_errno ? write_errno : errno));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(temp.c_str());
    fail("cannot rename '", temp, "' to '", path, "': ", std::strerror(err));
  }
}

}  // namespace tandem::gguf
