// The tensor types GGUF files use, numbered exactly as ggml numbers them.
// Every type ggml has ever written is listed so the reader can validate sizes;
// `computable` says whether Tandem can dequantize and multiply with it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tandem::quant {

enum class Type : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
  I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
  // Tandem's own in-memory layouts (quant/repack.h): never read from or written to a file,
  // so traits_of() and type_from_name() do not know them.
  Q4_0_R8 = 0x10000, Q4_K_R8 = 0x10001, Q5_0_R8 = 0x10002,
};

struct TypeTraits {
  Type type;
  std::string_view name;
  uint32_t block_elems;  // elements per block
  uint32_t block_bytes;  // bytes per block
  bool computable;       // reference dequantize + dot exist
};

// nullopt for an id ggml never defined (or removed): the caller reports it.
std::optional<TypeTraits> traits_of(uint32_t type_id);
const TypeTraits& traits(Type t);
std::string_view type_name(Type t);
std::optional<Type> type_from_name(std::string_view name);  // "Q4_K", "f16", ... case-insensitive

// Bytes of a row of n elements; n must be a multiple of the block size.
inline size_t row_bytes(const TypeTraits& t, uint64_t n) { return n / t.block_elems * t.block_bytes; }

}  // namespace tandem::quant
