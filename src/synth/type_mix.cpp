#include "synth/type_mix.h"

#include <array>
#include <cctype>

#include "core/error.h"

namespace tandem::synth {
namespace {

using quant::Type;

constexpr std::array kRecipes = {
    RecipeInfo{Recipe::F32, "F32", Type::F32, 0},          RecipeInfo{Recipe::F16, "F16", Type::F16, 1},
    RecipeInfo{Recipe::BF16, "BF16", Type::BF16, 32},      RecipeInfo{Recipe::Q4_0, "Q4_0", Type::Q4_0, 2},
    RecipeInfo{Recipe::Q4_1, "Q4_1", Type::Q4_1, 3},       RecipeInfo{Recipe::Q5_0, "Q5_0", Type::Q5_0, 8},
    RecipeInfo{Recipe::Q5_1, "Q5_1", Type::Q5_1, 9},       RecipeInfo{Recipe::Q8_0, "Q8_0", Type::Q8_0, 7},
    RecipeInfo{Recipe::Q2_K, "Q2_K", Type::Q2_K, 10},      RecipeInfo{Recipe::Q3_K_S, "Q3_K_S", Type::Q3_K, 11},
    RecipeInfo{Recipe::Q3_K_M, "Q3_K_M", Type::Q3_K, 12},  RecipeInfo{Recipe::Q3_K_L, "Q3_K_L", Type::Q3_K, 13},
    RecipeInfo{Recipe::Q4_K_S, "Q4_K_S", Type::Q4_K, 14},  RecipeInfo{Recipe::Q4_K_M, "Q4_K_M", Type::Q4_K, 15},
    RecipeInfo{Recipe::Q5_K_S, "Q5_K_S", Type::Q5_K, 16},  RecipeInfo{Recipe::Q5_K_M, "Q5_K_M", Type::Q5_K, 17},
    RecipeInfo{Recipe::Q6_K, "Q6_K", Type::Q6_K, 18},
};

// llama-quantize's aliases: the bare K names pick the _M mix.
constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kAliases = {{
    {"Q3_K", "Q3_K_M"}, {"Q4_K", "Q4_K_M"}, {"Q5_K", "Q5_K_M"}}};

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (std::toupper((unsigned char)a[i]) != std::toupper((unsigned char)b[i])) return false;
  return true;
}

// llama.cpp spends more bits on the first and last eighth of the layers and on every third in between.
bool use_more_bits(int layer, int n_layer) {
  return layer < n_layer / 8 || layer >= 7 * n_layer / 8 || (layer - n_layer / 8) % 3 == 2;
}

// A K-quant needs rows that are whole 256-element super-blocks; llama.cpp falls back to
// a 32-element type of similar size. It uses IQ4_NL for Q2_K/Q3_K, which Tandem cannot
// compute yet, so Q4_0 (same 4.5 bits per weight) stands in for it here.
Type fit_row(Type t, uint64_t row_len) {
  if (row_len % quant::traits(t).block_elems == 0) return t;
  Type fallback = Type::F16;
  switch (t) {
    case Type::Q2_K: case Type::Q3_K: fallback = Type::Q4_0; break;
    case Type::Q4_K: fallback = Type::Q5_0; break;
    case Type::Q5_K: fallback = Type::Q5_1; break;
    case Type::Q6_K: fallback = Type::Q8_0; break;
    default: break;
  }
  return row_len % quant::traits(fallback).block_elems == 0 ? fallback : Type::F16;
}

Type attn_v_type(Recipe r, const TensorSlot& s, Type t) {
  switch (r) {
    case Recipe::Q2_K: return s.n_gqa >= 4 ? Type::Q4_K : Type::Q3_K;
    case Recipe::Q3_K_M: return s.layer < 2 ? Type::Q5_K : Type::Q4_K;
    case Recipe::Q3_K_L: return Type::Q5_K;
    case Recipe::Q4_K_M: case Recipe::Q5_K_M: return use_more_bits(s.layer, s.n_layer) ? Type::Q6_K : t;
    case Recipe::Q4_K_S: return s.layer < 4 ? Type::Q5_K : t;
    default: return t;
  }
}

Type ffn_down_type(Recipe r, const TensorSlot& s, Type t) {
  switch (r) {
    case Recipe::Q2_K: return Type::Q3_K;
    case Recipe::Q3_K_M: return s.layer < s.n_layer / 16 ? Type::Q5_K : Type::Q4_K;
    case Recipe::Q3_K_L: return Type::Q5_K;
    case Recipe::Q4_K_M: case Recipe::Q5_K_M: return use_more_bits(s.layer, s.n_layer) ? Type::Q6_K : t;
    case Recipe::Q4_K_S: return s.layer < s.n_layer / 8 ? Type::Q5_K : t;
    default: return t;
  }
}

Type attn_output_type(Recipe r, Type t) {
  switch (r) {
    case Recipe::Q2_K: return Type::Q3_K;
    case Recipe::Q3_K_M: return Type::Q4_K;
    case Recipe::Q3_K_L: return Type::Q5_K;
    default: return t;
  }
}

Type attn_qkv_type(Recipe r, Type t) {
  switch (r) {
    case Recipe::Q3_K_M: case Recipe::Q3_K_L: return Type::Q4_K;
    case Recipe::Q4_K_M: return Type::Q5_K;
    case Recipe::Q5_K_M: return Type::Q6_K;
    default: return t;
  }
}

}  // namespace

const RecipeInfo& find_recipe(std::string_view name) {
  for (const auto& [alias, target] : kAliases)
    if (same_name(name, alias)) name = target;
  for (const auto& r : kRecipes)
    if (same_name(name, r.name)) return r;
  std::string known;
  for (auto n : recipe_names()) known += (known.empty() ? "" : ", ") + std::string(n);
  fail("unknown model type '", name, "' (known: ", known, ")");
}

std::vector<std::string_view> recipe_names() {
  std::vector<std::string_view> names;
  for (const auto& r : kRecipes) names.push_back(r.name);
  return names;
}

quant::Type tensor_type(const RecipeInfo& recipe, const TensorSlot& slot) {
  const Type base = recipe.base;
  // llama-quantize only re-types when the file type is quantized; float files are uniform.
  if (quant::traits(base).block_elems == 1) return base;
  const bool is_output = slot.role == Role::Output || (slot.role == Role::TokenEmbd && !slot.has_output);
  Type t = base;
  if (is_output) {
    if (slot.row_len % quant::traits(base).block_elems != 0) t = Type::Q8_0;
    else if (base != Type::Q8_0) t = Type::Q6_K;
  } else {
    switch (slot.role) {
      case Role::AttnV: t = attn_v_type(recipe.recipe, slot, base); break;
      case Role::FfnDown: t = ffn_down_type(recipe.recipe, slot, base); break;
      case Role::AttnOutput: t = attn_output_type(recipe.recipe, base); break;
      case Role::AttnQKV: t = attn_qkv_type(recipe.recipe, base); break;
      default: break;
    }
  }
  return fit_row(t, slot.row_len);
}

}  // namespace tandem::synth
