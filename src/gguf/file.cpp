#include "gguf/file.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <sstream>

#include "core/error.h"

namespace tandem::gguf {

namespace {
constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little endian
constexpr uint32_t kMaxDims = 4;
// Nothing legitimate comes close; bounds what a corrupt length can make us allocate.
constexpr uint64_t kMaxStringBytes = 1ull << 30;
}  // namespace

// Reads fields from the mapped bytes, checking each against the bytes left so that
// a corrupt count or length is reported before it can drive an allocation.
class Parser {
 public:
  Parser(File& file) : f_(file), data_(file.bytes_->data()), size_(file.bytes_->size()) {}

  void run() {
    uint32_t magic = read<uint32_t>("magic");
    if (magic != kMagic) {
      char got[5] = {};
      std::memcpy(got, &magic, 4);
      for (char& c : got)
        if (c && (c < 32 || c > 126)) c = '?';
      error(0, "magic", std::string("expected \"GGUF\", found \"") + got + "\" (not a GGUF file)");
    }
    uint64_t at = pos_;
    uint32_t version = read<uint32_t>("version");
    if (version == 1) error(at, "version", "GGUF v1 is not supported (re-convert the model to v3)");
    if (version != 2 && version != 3) {
      uint32_t swapped = __builtin_bswap32(version);
      if (swapped == 2 || swapped == 3) error(at, "version", "big-endian GGUF is not supported");
      error(at, "version", "unsupported version " + std::to_string(version) + " (expected 2 or 3)");
    }
    f_.version_ = version;

    at = pos_;
    uint64_t n_tensors = read<uint64_t>("tensor_count");
    // A tensor info needs at least 8 (name len) + 4 (n_dims) + 4 (type) + 8 (offset) bytes.
    if (n_tensors > remaining() / 24) error(at, "tensor_count", "count " + std::to_string(n_tensors) + " cannot fit in the file");
    at = pos_;
    uint64_t n_kv = read<uint64_t>("kv_count");
    // A key-value pair needs at least 8 (key len) + 4 (type) + 1 byte.
    if (n_kv > remaining() / 13) error(at, "kv_count", "count " + std::to_string(n_kv) + " cannot fit in the file");

    f_.kv_.reserve(n_kv);
    for (uint64_t i = 0; i < n_kv; i++) read_kv(i);

    if (const Value* a = f_.find("general.alignment")) {
      if (!is_integer(a->type) || a->is_array()) error(alignment_at_, "general.alignment", "must be an integer");
      uint64_t align = std::holds_alternative<uint64_t>(a->data) ? std::get<uint64_t>(a->data)
                                                                  : (uint64_t)std::get<int64_t>(a->data);
      if (align == 0 || (align & (align - 1)) != 0 || align > (1u << 20))
        error(alignment_at_, "general.alignment", "must be a power of two, got " + std::to_string(align));
      f_.alignment_ = (uint32_t)align;
    }

    f_.tensors_.reserve(n_tensors);
    for (uint64_t i = 0; i < n_tensors; i++) read_tensor_info(i);

    uint64_t data_start = (pos_ + f_.alignment_ - 1) / f_.alignment_ * f_.alignment_;
    if (n_tensors > 0 && data_start > size_) error(pos_, "data section", "starts past the end of the file");
    f_.data_offset_ = data_start;
    check_tensor_data();
  }

 private:
  File& f_;
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  uint64_t alignment_at_ = 0;  // offset of the general.alignment entry, for its errors

  uint64_t remaining() const { return size_ - pos_; }

  [[noreturn]] void error(uint64_t offset, const std::string& field, const std::string& what) {
    fail("invalid GGUF '", f_.path(), "': ", field, " at offset ", offset, ": ", what);
  }

  void need(uint64_t n, const std::string& field) {
    if (n > remaining()) error(pos_, field, "file truncated (needs " + std::to_string(n) + " bytes, " + std::to_string(remaining()) + " left)");
  }

  template <class T>
  T read(const std::string& field) {
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const std::string& field) {
    uint64_t at = pos_;
    uint64_t len = read<uint64_t>(field + " length");
    if (len > kMaxStringBytes || len > remaining())
      error(at, field, "string length " + std::to_string(len) + " runs past the end of the file");
    std::string s(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return s;
  }

  static uint64_t scalar_size(ValueType t) {
    switch (t) {
      case ValueType::U8: case ValueType::I8: case ValueType::BOOL: return 1;
      case ValueType::U16: case ValueType::I16: return 2;
      case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
      case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
      case ValueType::STRING: return 8;  // at least the length field
      default: return 0;
    }
  }

  ValueType read_type(const std::string& field) {
    uint64_t at = pos_;
    uint32_t t = read<uint32_t>(field);
    if (t > (uint32_t)ValueType::F64) error(at, field, "unknown value type " + std::to_string(t));
    return (ValueType)t;
  }

  // One scalar element into the matching variant kind.
  template <class U, class I, class D>
  void read_scalar(ValueType t, const std::string& field, U&& on_uint, I&& on_int, D&& on_float) {
    switch (t) {
      case ValueType::U8: on_uint(read<uint8_t>(field)); break;
      case ValueType::U16: on_uint(read<uint16_t>(field)); break;
      case ValueType::U32: on_uint(read<uint32_t>(field)); break;
      case ValueType::U64: on_uint(read<uint64_t>(field)); break;
      case ValueType::I8: on_int(read<int8_t>(field)); break;
      case ValueType::I16: on_int(read<int16_t>(field)); break;
      case ValueType::I32: on_int(read<int32_t>(field)); break;
      case ValueType::I64: on_int(read<int64_t>(field)); break;
      case ValueType::F32: on_float(read<float>(field)); break;
      case ValueType::F64: on_float(read<double>(field)); break;
      case ValueType::BOOL: {
        uint64_t at = pos_;
        uint8_t b = read<uint8_t>(field);
        if (b > 1) error(at, field, "bool must be 0 or 1, got " + std::to_string(b));
        on_uint(b);
        break;
      }
      default: error(pos_, field, "not a scalar type");
    }
  }

  Value read_value(ValueType type, const std::string& field) {
    Value v;
    v.type = type;
    v.elem_type = type;
    if (type == ValueType::STRING) {
      v.data = read_string(field);
    } else if (type == ValueType::ARRAY) {
      ValueType elem = read_type(field + " array element type");
      if (elem == ValueType::ARRAY) error(pos_ - 4, field, "nested arrays are not supported");
      uint64_t at = pos_;
      uint64_t n = read<uint64_t>(field + " array length");
      if (n > remaining() / scalar_size(elem))
        error(at, field, "array length " + std::to_string(n) + " runs past the end of the file");
      v.elem_type = elem;
      if (elem == ValueType::STRING) {
        std::vector<std::string> items;
        items.reserve(n);
        for (uint64_t i = 0; i < n; i++) items.push_back(read_string(field + "[" + std::to_string(i) + "]"));
        v.data = std::move(items);
      } else if (is_float(elem)) {
        std::vector<double> items;
        items.reserve(n);
        for (uint64_t i = 0; i < n; i++)
          read_scalar(elem, field, [&](auto x) { items.push_back((double)x); }, [&](auto x) { items.push_back((double)x); },
                      [&](auto x) { items.push_back((double)x); });
        v.data = std::move(items);
      } else if (elem == ValueType::I8 || elem == ValueType::I16 || elem == ValueType::I32 || elem == ValueType::I64) {
        std::vector<int64_t> items;
        items.reserve(n);
        for (uint64_t i = 0; i < n; i++)
          read_scalar(elem, field, [&](auto x) { items.push_back((int64_t)x); }, [&](auto x) { items.push_back((int64_t)x); },
                      [&](auto x) { items.push_back((int64_t)x); });
        v.data = std::move(items);
      } else {
        std::vector<uint64_t> items;
        items.reserve(n);
        for (uint64_t i = 0; i < n; i++)
          read_scalar(elem, field, [&](auto x) { items.push_back((uint64_t)x); }, [&](auto x) { items.push_back((uint64_t)x); },
                      [&](auto x) { items.push_back((uint64_t)x); });
        v.data = std::move(items);
      }
    } else {
      read_scalar(type, field, [&](auto x) { v.data = (uint64_t)x; }, [&](auto x) { v.data = (int64_t)x; },
                  [&](auto x) { v.data = (double)x; });
    }
    return v;
  }

  void read_kv(uint64_t index) {
    uint64_t at = pos_;
    std::string key = read_string("key of metadata entry " + std::to_string(index));
    if (key.empty()) error(at, "metadata entry " + std::to_string(index), "empty key");
    if (f_.kv_index_.count(key)) error(at, "metadata key '" + key + "'", "duplicate key");
    ValueType type = read_type("type of '" + key + "'");
    Value v = read_value(type, "value of '" + key + "'");
    if (key == "general.alignment") alignment_at_ = at;
    f_.kv_index_[key] = f_.kv_.size();
    f_.kv_.emplace_back(std::move(key), std::move(v));
  }

  void read_tensor_info(uint64_t index) {
    uint64_t at = pos_;
    std::string label = "tensor " + std::to_string(index);
    TensorInfo t;
    t.name = read_string(label + " name");
    if (t.name.empty()) error(at, label, "empty name");
    label = "tensor '" + t.name + "'";
    if (f_.tensor_index_.count(t.name)) error(at, label, "duplicate tensor name");
    uint64_t dims_at = pos_;
    uint32_t n_dims = read<uint32_t>(label + " n_dims");
    if (n_dims == 0 || n_dims > kMaxDims) error(dims_at, label + " n_dims", "must be 1.." + std::to_string(kMaxDims) + ", got " + std::to_string(n_dims));
    t.n_elements = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
      uint64_t dim_at = pos_;
      uint64_t dim = read<uint64_t>(label + " dim");
      if (dim == 0 || dim > (uint64_t)std::numeric_limits<int64_t>::max())
        error(dim_at, label + " dim " + std::to_string(d), "invalid size " + std::to_string(dim));
      if (t.n_elements > (uint64_t)std::numeric_limits<int64_t>::max() / dim)
        error(dim_at, label + " dims", "element count overflows");
      t.n_elements *= dim;
      t.dims.push_back(dim);
    }
    uint64_t type_at = pos_;
    uint32_t type_id = read<uint32_t>(label + " type");
    auto traits = quant::traits_of(type_id);
    if (!traits) error(type_at, label + " type", "unknown tensor type id " + std::to_string(type_id));
    t.type = traits->type;
    if (t.dims[0] % traits->block_elems != 0)
      error(type_at, label + " type", "row length " + std::to_string(t.dims[0]) + " is not a multiple of the " +
                                          std::string(traits->name) + " block size " + std::to_string(traits->block_elems));
    const uint64_t n_blocks = t.n_elements / traits->block_elems;
    if (n_blocks > std::numeric_limits<uint64_t>::max() / traits->block_bytes)
      error(type_at, label + " dims", "byte size overflows");
    t.n_bytes = n_blocks * traits->block_bytes;
    uint64_t off_at = pos_;
    t.offset = read<uint64_t>(label + " offset");
    if (t.offset % f_.alignment_ != 0)
      error(off_at, label + " offset", std::to_string(t.offset) + " is not a multiple of the alignment " + std::to_string(f_.alignment_));
    f_.tensor_index_[t.name] = f_.tensors_.size();
    f_.tensors_.push_back(std::move(t));
  }

  void check_tensor_data() {
    uint64_t data_size = size_ - std::min<uint64_t>(f_.data_offset_, size_);
    for (auto& t : f_.tensors_) {
      if (t.offset > data_size || t.n_bytes > data_size - t.offset)
        error(f_.data_offset_ + t.offset, "data of tensor '" + t.name + "'",
              std::to_string(t.n_bytes) + " bytes run past the end of the file (file truncated?)");
      t.data = data_ + f_.data_offset_ + t.offset;
    }
    // Overlapping tensors mean a corrupt offset table.
    std::vector<const TensorInfo*> sorted;
    for (auto& t : f_.tensors_) sorted.push_back(&t);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < sorted.size(); i++)
      if (sorted[i - 1]->offset + sorted[i - 1]->n_bytes > sorted[i]->offset)
        error(f_.data_offset_ + sorted[i]->offset, "data of tensor '" + sorted[i]->name + "'",
              "overlaps tensor '" + sorted[i - 1]->name + "'");
  }
};

File File::open(const std::string& path) { return parse(MappedFile::open(path)); }

File File::parse(std::shared_ptr<MappedFile> bytes) {
  File f;
  f.bytes_ = std::move(bytes);
  Parser(f).run();
  return f;
}

std::string TensorInfo::shape_string() const {
  std::string s;
  for (size_t i = 0; i < dims.size(); i++) s += (i ? " x " : "") + std::to_string(dims[i]);
  return s;
}

const Value* File::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const TensorInfo* File::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {
[[noreturn]] void wrong_kind(const File& f, const std::string& key, const Value& v, const char* want) {
  fail("GGUF '", f.path(), "': metadata '", key, "' is ", value_type_name(v.type),
       v.is_array() ? std::string(" of ") + value_type_name(v.elem_type) : std::string(), ", expected ", want);
}
const Value& require(const File& f, const std::string& key) {
  const Value* v = f.find(key);
  if (!v) fail("GGUF '", f.path(), "': missing metadata '", key, "'");
  return *v;
}
}  // namespace

std::optional<std::string> File::find_string(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != ValueType::STRING) wrong_kind(*this, key, *v, "string");
  return std::get<std::string>(v->data);
}

std::string File::get_string(const std::string& key) const {
  require(*this, key);
  return *find_string(key);
}

std::optional<uint64_t> File::find_uint(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->is_array() || !(is_integer(v->type) || v->type == ValueType::BOOL)) wrong_kind(*this, key, *v, "an integer");
  if (auto* u = std::get_if<uint64_t>(&v->data)) return *u;
  int64_t i = std::get<int64_t>(v->data);
  if (i < 0) fail("GGUF '", path(), "': metadata '", key, "' is negative (", i, ")");
  return (uint64_t)i;
}

uint64_t File::get_uint(const std::string& key) const {
  require(*this, key);
  return *find_uint(key);
}

std::optional<double> File::find_float(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->is_array() || !(is_integer(v->type) || is_float(v->type))) wrong_kind(*this, key, *v, "a number");
  return std::visit(
      [](const auto& x) -> double {
        if constexpr (std::is_arithmetic_v<std::decay_t<decltype(x)>>) return (double)x;
        return 0;
      },
      v->data);
}

double File::get_float(const std::string& key) const {
  require(*this, key);
  return *find_float(key);
}

std::optional<bool> File::find_bool(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != ValueType::BOOL) wrong_kind(*this, key, *v, "bool");
  return std::get<uint64_t>(v->data) != 0;
}

const std::vector<std::string>& File::get_strings(const std::string& key) const {
  const Value& v = require(*this, key);
  if (!v.is_array() || v.elem_type != ValueType::STRING) wrong_kind(*this, key, v, "array of string");
  return std::get<std::vector<std::string>>(v.data);
}

std::vector<double> File::get_floats(const std::string& key) const {
  const Value& v = require(*this, key);
  if (!v.is_array()) wrong_kind(*this, key, v, "numeric array");
  if (auto* d = std::get_if<std::vector<double>>(&v.data)) return *d;
  if (auto* i = std::get_if<std::vector<int64_t>>(&v.data)) return {i->begin(), i->end()};
  if (auto* u = std::get_if<std::vector<uint64_t>>(&v.data)) return {u->begin(), u->end()};
  wrong_kind(*this, key, v, "numeric array");
}

std::vector<int64_t> File::get_ints(const std::string& key) const {
  const Value& v = require(*this, key);
  if (!v.is_array() || !(is_integer(v.elem_type) || v.elem_type == ValueType::BOOL)) wrong_kind(*this, key, v, "integer array");
  if (auto* i = std::get_if<std::vector<int64_t>>(&v.data)) return *i;
  auto& u = std::get<std::vector<uint64_t>>(v.data);
  return {u.begin(), u.end()};
}

}  // namespace tandem::gguf
