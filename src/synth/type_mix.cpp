#include "synth/type_mix.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "core/error.h"
#include "quant/recipes.h"

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
    RecipeInfo{Recipe::Q6_K, "Q6_K", Type::Q6_K, 18},      RecipeInfo{Recipe::IQ4_NL, "IQ4_NL", Type::IQ4_NL, 25},
    RecipeInfo{Recipe::IQ4_XS, "IQ4_XS", Type::IQ4_XS, 30},
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

// The tensor name llama.cpp's mix rules recognise each role by (quant/recipes.cpp).
std::string_view role_name(Role role) {
  switch (role) {
    case Role::TokenEmbd: return "token_embd";
    case Role::Output: return "output";
    case Role::AttnQ: return "attn_q";
    case Role::AttnK: return "attn_k";
    case Role::AttnV: return "attn_v";
    case Role::AttnQKV: return "attn_qkv";
    case Role::AttnOutput: return "attn_output";
    case Role::FfnGate: return "ffn_gate";
    case Role::FfnUp: return "ffn_up";
    case Role::FfnDown: return "ffn_down";
  }
  return "";
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

// The mix is quant::choose_types' (one set of llama.cpp's rules): the slot's tensor is put in
// a model of its own kind, one per layer (the rules count a role's tensors in layer order),
// with an output matrix unless the embedding is tied.
quant::Type tensor_type(const RecipeInfo& recipe, const TensorSlot& slot) {
  const bool per_layer = slot.role != Role::TokenEmbd && slot.role != Role::Output;
  std::vector<quant::TensorDesc> tensors;
  size_t index = 0;
  const std::vector<uint64_t> dims = {slot.row_len, 2};
  if (per_layer) {
    for (int layer = 0; layer < std::max(slot.n_layer, slot.layer + 1); layer++) {
      if (layer == slot.layer) index = tensors.size();
      tensors.push_back({"blk." + std::to_string(layer) + "." + std::string(role_name(slot.role)) + ".weight", Type::F32, dims});
    }
  } else {
    index = tensors.size();
    tensors.push_back({std::string(role_name(slot.role)) + ".weight", Type::F32, dims});
  }
  if (slot.has_output && slot.role != Role::Output) tensors.push_back({"output.weight", Type::F32, dims});
  const quant::ModelFacts facts{"", slot.n_layer, std::max(slot.n_gqa, 1), 1};
  return quant::choose_types(quant::find_recipe(recipe.name), facts, tensors)[index].type;
}

}  // namespace tandem::synth
