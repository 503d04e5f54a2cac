// GGUF metadata values. Scalars keep their exact GGUF type; arrays keep their
// element type and store elements in the widest C++ type of their kind.
#pragma once
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace tandem::gguf {

enum class ValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};

const char* value_type_name(ValueType t);
bool is_integer(ValueType t);
bool is_float(ValueType t);

struct Value {
  ValueType type = ValueType::U32;
  ValueType elem_type = ValueType::U32;  // only for ARRAY
  // scalar: uint64_t (unsigned ints, bool), int64_t (signed ints), double (floats), std::string
  // array: std::vector<...> of the same four kinds
  std::variant<uint64_t, int64_t, double, std::string, std::vector<uint64_t>, std::vector<int64_t>,
               std::vector<double>, std::vector<std::string>>
      data;

  static Value u32(uint32_t v) { return {ValueType::U32, ValueType::U32, uint64_t{v}}; }
  static Value i32(int32_t v) { return {ValueType::I32, ValueType::I32, int64_t{v}}; }
  static Value u64(uint64_t v) { return {ValueType::U64, ValueType::U64, v}; }
  static Value f32(float v) { return {ValueType::F32, ValueType::F32, double{v}}; }
  static Value boolean(bool v) { return {ValueType::BOOL, ValueType::BOOL, uint64_t{v}}; }
  static Value string(std::string v) { return {ValueType::STRING, ValueType::STRING, std::move(v)}; }
  static Value strings(std::vector<std::string> v) { return {ValueType::ARRAY, ValueType::STRING, std::move(v)}; }
  static Value f32s(std::vector<double> v) { return {ValueType::ARRAY, ValueType::F32, std::move(v)}; }
  static Value i32s(std::vector<int64_t> v) { return {ValueType::ARRAY, ValueType::I32, std::move(v)}; }

  bool is_array() const { return type == ValueType::ARRAY; }
  size_t array_size() const;
  // Human-readable rendering for `tandem info` (arrays are abbreviated).
  std::string to_string(size_t max_items = 8) const;
};

}  // namespace tandem::gguf
