#include "gguf/value.h"

#include <sstream>

namespace tandem::gguf {

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::U8: return "u8";
    case ValueType::I8: return "i8";
    case ValueType::U16: return "u16";
    case ValueType::I16: return "i16";
    case ValueType::U32: return "u32";
    case ValueType::I32: return "i32";
    case ValueType::F32: return "f32";
    case ValueType::BOOL: return "bool";
    case ValueType::STRING: return "string";
    case ValueType::ARRAY: return "array";
    case ValueType::U64: return "u64";
    case ValueType::I64: return "i64";
    case ValueType::F64: return "f64";
  }
  return "?";
}

bool is_integer(ValueType t) {
  switch (t) {
    case ValueType::U8: case ValueType::I8: case ValueType::U16: case ValueType::I16:
    case ValueType::U32: case ValueType::I32: case ValueType::U64: case ValueType::I64:
      return true;
    default:
      return false;
  }
}

bool is_float(ValueType t) { return t == ValueType::F32 || t == ValueType::F64; }

size_t Value::array_size() const {
  return std::visit(
      [](const auto& v) -> size_t {
        if constexpr (requires { v.size(); typename std::decay_t<decltype(v)>::value_type; }) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(v)>, std::string>) return v.size();
        }
        return 0;
      },
      data);
}

namespace {

std::string quote(const std::string& s, size_t max_len = 60) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < max_len; i++) {
    char c = s[i];
    if (c == '\n') out += "\\n";
    else if (c == '"') out += "\\\"";
    else out += c;
  }
  if (s.size() > max_len) out += "...";
  return out + "\"";
}

template <class T>
void render_items(std::ostringstream& out, const std::vector<T>& items, size_t max_items, ValueType elem) {
  out << "[";
  for (size_t i = 0; i < items.size() && i < max_items; i++) {
    if (i) out << ", ";
    if constexpr (std::is_same_v<T, std::string>) out << quote(items[i], 24);
    else if (elem == ValueType::BOOL) out << (items[i] ? "true" : "false");
    else out << items[i];
  }
  if (items.size() > max_items) out << ", ... (" << items.size() << " items)";
  out << "]";
}

}  // namespace

std::string Value::to_string(size_t max_items) const {
  std::ostringstream out;
  out.precision(7);
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) out << quote(v);
        else if constexpr (std::is_same_v<T, uint64_t>) {
          if (type == ValueType::BOOL) out << (v ? "true" : "false");
          else out << v;
        } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double>) out << v;
        else render_items(out, v, max_items, elem_type);
      },
      data);
  return out.str();
}

}  // namespace tandem::gguf
