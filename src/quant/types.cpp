#include "quant/types.h"

#include <array>
#include <cctype>

#include "core/error.h"

namespace tandem::quant {
namespace {

constexpr std::array kTable = {
    TypeTraits{Type::F32, "F32", 1, 4, true},
    TypeTraits{Type::F16, "F16", 1, 2, true},
    TypeTraits{Type::Q4_0, "Q4_0", 32, 18, true},
    TypeTraits{Type::Q4_1, "Q4_1", 32, 20, true},
    TypeTraits{Type::Q5_0, "Q5_0", 32, 22, true},
    TypeTraits{Type::Q5_1, "Q5_1", 32, 24, true},
    TypeTraits{Type::Q8_0, "Q8_0", 32, 34, true},
    TypeTraits{Type::Q8_1, "Q8_1", 32, 36, false},
    TypeTraits{Type::Q2_K, "Q2_K", 256, 84, true},
    TypeTraits{Type::Q3_K, "Q3_K", 256, 110, true},
    TypeTraits{Type::Q4_K, "Q4_K", 256, 144, true},
    TypeTraits{Type::Q5_K, "Q5_K", 256, 176, true},
    TypeTraits{Type::Q6_K, "Q6_K", 256, 210, true},
    TypeTraits{Type::Q8_K, "Q8_K", 256, 292, false},
    TypeTraits{Type::IQ2_XXS, "IQ2_XXS", 256, 66, true},
    TypeTraits{Type::IQ2_XS, "IQ2_XS", 256, 74, true},
    TypeTraits{Type::IQ3_XXS, "IQ3_XXS", 256, 98, true},
    TypeTraits{Type::IQ1_S, "IQ1_S", 256, 50, true},
    TypeTraits{Type::IQ4_NL, "IQ4_NL", 32, 18, true},
    TypeTraits{Type::IQ3_S, "IQ3_S", 256, 110, true},
    TypeTraits{Type::IQ2_S, "IQ2_S", 256, 82, true},
    TypeTraits{Type::IQ4_XS, "IQ4_XS", 256, 136, true},
    TypeTraits{Type::I8, "I8", 1, 1, false},
    TypeTraits{Type::I16, "I16", 1, 2, false},
    TypeTraits{Type::I32, "I32", 1, 4, false},
    TypeTraits{Type::I64, "I64", 1, 8, false},
    TypeTraits{Type::F64, "F64", 1, 8, false},
    TypeTraits{Type::IQ1_M, "IQ1_M", 256, 56, true},
    TypeTraits{Type::BF16, "BF16", 1, 2, true},
    TypeTraits{Type::TQ1_0, "TQ1_0", 256, 54, true},
    TypeTraits{Type::TQ2_0, "TQ2_0", 256, 66, true},
    TypeTraits{Type::MXFP4, "MXFP4", 32, 17, false},
};

// Same bytes per block as the type they come from; only the order inside a row differs
// (quant/repack.h).
constexpr TypeTraits kRepacked[] = {
    TypeTraits{Type::Q4_0_R8, "Q4_0_R8", 32, 18, true},
    TypeTraits{Type::Q4_K_R8, "Q4_K_R8", 256, 144, true},
    TypeTraits{Type::Q5_0_R8, "Q5_0_R8", 32, 22, true},
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (std::toupper((unsigned char)a[i]) != std::toupper((unsigned char)b[i])) return false;
  return true;
}

}  // namespace

std::optional<TypeTraits> traits_of(uint32_t type_id) {
  for (const auto& t : kTable)
    if ((uint32_t)t.type == type_id) return t;
  return std::nullopt;
}

const TypeTraits& traits(Type type) {
  for (const auto& t : kTable)
    if (t.type == type) return t;
  for (const auto& t : kRepacked)
    if (t.type == type) return t;
  fail("unknown tensor type id ", (uint32_t)type);
}

std::string_view type_name(Type t) { return traits(t).name; }

std::optional<Type> type_from_name(std::string_view name) {
  for (const auto& t : kTable)
    if (iequals(t.name, name)) return t.type;
  return std::nullopt;
}

}  // namespace tandem::quant
