#include "quant/recipes.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <numeric>

#include "core/error.h"

namespace tandem::quant {
namespace {

constexpr std::array kRecipes = {
    Recipe{"F32", 0, Type::F32},       Recipe{"F16", 1, Type::F16},       Recipe{"BF16", 32, Type::BF16},
    Recipe{"Q4_0", 2, Type::Q4_0},     Recipe{"Q4_1", 3, Type::Q4_1},     Recipe{"Q5_0", 8, Type::Q5_0},
    Recipe{"Q5_1", 9, Type::Q5_1},     Recipe{"Q8_0", 7, Type::Q8_0},     Recipe{"Q2_K", 10, Type::Q2_K},
    Recipe{"Q3_K_S", 11, Type::Q3_K},  Recipe{"Q3_K_M", 12, Type::Q3_K},  Recipe{"Q3_K_L", 13, Type::Q3_K},
    Recipe{"Q4_K_S", 14, Type::Q4_K},  Recipe{"Q4_K_M", 15, Type::Q4_K},  Recipe{"Q5_K_S", 16, Type::Q5_K},
    Recipe{"Q5_K_M", 17, Type::Q5_K},  Recipe{"Q6_K", 18, Type::Q6_K},    Recipe{"IQ4_NL", 25, Type::IQ4_NL},
    Recipe{"IQ4_XS", 30, Type::IQ4_XS},
};

// llama.cpp file types Tandem reads but does not write: asked for one, the error says so.
constexpr std::string_view kNotWritten[] = {
    "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "IQ3_XXS", "IQ3_XS", "IQ3_S", "IQ3_M", "TQ1_0", "TQ2_0", "Q2_K_S",
};

constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kAliases = {
    {{"Q3_K", "Q3_K_M"}, {"Q4_K", "Q4_K_M"}, {"Q5_K", "Q5_K_M"}}};

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper((unsigned char)x) == std::toupper((unsigned char)y);
         });
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// Kept unquantized even though they are 2-D weights (llama.cpp's tensor_allows_quantization).
constexpr std::string_view kNeverQuantized[] = {
    "_norm.weight", "ffn_gate_inp.weight", "altup", "laurel", "per_layer_model_proj", "position_embd",
    "token_types.weight", "ssm_conv1d", "shortconv.conv.weight", "time_mix_first.weight", "time_mix_w0.weight",
    "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight",
    "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
    "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight",
    ".patch_embd", ".patch_merger",
};

enum class Role { TokenEmbd, Output, AttnQKV, AttnV, AttnK, AttnQ, AttnOutput, FfnUp, FfnGate, FfnDown, Other };

// Same tests, same order as llama.cpp's tensor_get_category (a fused qkv must not read as attn_v).
Role role_of(std::string_view name) {
  if (name == "output.weight") return Role::Output;
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") return Role::TokenEmbd;
  if (contains(name, "attn_qkv.weight")) return Role::AttnQKV;
  if (contains(name, "attn_kv_b.weight") || contains(name, "attn_v.weight")) return Role::AttnV;
  if (contains(name, "attn_k.weight")) return Role::AttnK;
  if (contains(name, "attn_q.weight")) return Role::AttnQ;
  if (contains(name, "attn_output.weight")) return Role::AttnOutput;
  if (contains(name, "ffn_up")) return Role::FfnUp;
  if (contains(name, "ffn_gate")) return Role::FfnGate;
  if (contains(name, "ffn_down")) return Role::FfnDown;
  return Role::Other;
}

// When a rule applies, given the tensor's index i among its kind and their count n.
enum class When {
  Always, MoreBits, FirstEighth, FirstSixteenth, FirstTwo, FirstFour, GqaAtLeast4,
  FirstEighthWithoutImatrix, FirstEighthWithImatrix,
};

bool holds(When when, int i, int n, int n_gqa, bool has_imatrix) {
  switch (when) {
    case When::FirstEighthWithoutImatrix: return i < n / 8 && !has_imatrix;
    case When::FirstEighthWithImatrix: return i < n / 8 && has_imatrix;
    case When::Always: return true;
    // The first and last eighth of the layers, and every third one in between.
    case When::MoreBits: return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
    case When::FirstEighth: return i < n / 8;
    case When::FirstSixteenth: return i < n / 16;
    case When::FirstTwo: return i < 2;
    case When::FirstFour: return i < 4;
    case When::GqaAtLeast4: return n_gqa >= 4;
  }
  return false;
}

constexpr Type kKeep = Type(0xffffffffu);  // leave the recipe's base type

// The differences between the mixes: role x recipe -> (condition ? then : otherwise).
struct Rule {
  Role role;
  std::string_view recipe;
  When when;
  Type then;
  Type otherwise = kKeep;
};
constexpr Rule kRules[] = {
    {Role::AttnV, "Q2_K", When::GqaAtLeast4, Type::Q4_K, Type::Q3_K},
    {Role::AttnV, "Q3_K_M", When::FirstTwo, Type::Q5_K, Type::Q4_K},
    {Role::AttnV, "Q3_K_L", When::Always, Type::Q5_K},
    {Role::AttnV, "Q4_K_M", When::MoreBits, Type::Q6_K},
    {Role::AttnV, "Q5_K_M", When::MoreBits, Type::Q6_K},
    {Role::AttnV, "Q4_K_S", When::FirstFour, Type::Q5_K},
    {Role::AttnV, "IQ4_NL", When::GqaAtLeast4, Type::Q5_K},
    {Role::AttnV, "IQ4_XS", When::GqaAtLeast4, Type::Q5_K},
    {Role::FfnDown, "Q2_K", When::Always, Type::Q3_K},
    {Role::FfnDown, "Q3_K_M", When::FirstSixteenth, Type::Q5_K, Type::Q4_K},
    {Role::FfnDown, "Q3_K_L", When::Always, Type::Q5_K},
    {Role::FfnDown, "Q4_K_M", When::MoreBits, Type::Q6_K},
    {Role::FfnDown, "Q5_K_M", When::MoreBits, Type::Q6_K},
    {Role::FfnDown, "Q4_K_S", When::FirstEighth, Type::Q5_K},
    {Role::FfnDown, "IQ4_NL", When::FirstEighthWithoutImatrix, Type::Q5_K},
    {Role::FfnDown, "IQ4_XS", When::FirstEighthWithoutImatrix, Type::Q5_K},
    // With an importance matrix llama.cpp guards the first ffn_down layers of Q4_0 / Q5_0.
    {Role::FfnDown, "Q4_0", When::FirstEighthWithImatrix, Type::Q4_1},
    {Role::FfnDown, "Q5_0", When::FirstEighthWithImatrix, Type::Q5_1},
    {Role::AttnOutput, "Q2_K", When::Always, Type::Q3_K},
    {Role::AttnOutput, "Q3_K_M", When::Always, Type::Q4_K},
    {Role::AttnOutput, "Q3_K_L", When::Always, Type::Q5_K},
    {Role::AttnQKV, "Q3_K_M", When::Always, Type::Q4_K},
    {Role::AttnQKV, "Q3_K_L", When::Always, Type::Q4_K},
    {Role::AttnQKV, "Q4_K_M", When::Always, Type::Q5_K},
    {Role::AttnQKV, "Q5_K_M", When::Always, Type::Q6_K},
};

// A 256-element type cannot split a row that is not a multiple of 256: llama.cpp falls
// back to a 32-element type of about the same size (for Q2_K/Q3_K it now uses Q4_0, for
// IQ4_XS IQ4_NL), and to F16 when even that does not divide the row.
Type fallback_for(Type t) {
  switch (t) {
    case Type::IQ4_XS: return Type::IQ4_NL;
    case Type::Q2_K: case Type::Q3_K: return Type::Q4_0;
    case Type::Q4_K: return Type::Q5_0;
    case Type::Q5_K: return Type::Q5_1;
    case Type::Q6_K: return Type::Q8_0;
    default: return Type::F16;
  }
}

int block_count_of(const std::string& name) {
  int layer = -1;
  std::sscanf(name.c_str(), "blk.%d.", &layer);
  return layer;
}

}  // namespace

const Recipe& find_recipe(std::string_view name) {
  for (const auto& [alias, target] : kAliases)
    if (same_name(name, alias)) name = target;
  for (const Recipe& r : kRecipes)
    if (same_name(name, r.name)) return r;
  for (std::string_view other : kNotWritten)
    if (same_name(name, other))
      fail("Tandem reads ", other, " files but does not write them (its quantizers cover the types listed by "
           "`tandem quantize --help`; llama.cpp's ", other, " quantizer wants an importance matrix and llama-quantize)");
  std::string known;
  for (auto n : recipe_names()) known += (known.empty() ? "" : ", ") + std::string(n);
  fail("unknown quantization type '", name, "' (known: ", known, ")");
}

std::vector<std::string_view> recipe_names() {
  std::vector<std::string_view> names;
  for (const Recipe& r : kRecipes) names.push_back(r.name);
  return names;
}

bool is_quantizable(const TensorDesc& t) {
  int n_dims = 1;  // like ggml_n_dims: trailing dimensions of size 1 do not count
  for (size_t i = 1; i < t.dims.size(); i++)
    if (t.dims[i] > 1) n_dims = int(i) + 1;
  if (n_dims < 2) return false;
  const std::string_view name = t.name;
  if (name.size() < 6 || name.substr(name.size() - 6) != "weight") return false;
  for (std::string_view part : kNeverQuantized)
    if (contains(name, part)) return false;
  return true;
}

std::vector<size_t> llama_cpp_order(const std::vector<TensorDesc>& tensors) {
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<int> layer(tensors.size());
  for (size_t i = 0; i < tensors.size(); i++) layer[i] = block_count_of(tensors[i].name);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (layer[a] != layer[b]) return layer[a] < layer[b];
    return tensors[a].name < tensors[b].name;
  });
  return order;
}

std::vector<TypeChoice> choose_types(const Recipe& recipe, const ModelFacts& model,
                                     const std::vector<TensorDesc>& tensors, bool has_imatrix) {
  bool tied = true;
  int n_attn_v = 0;
  for (const TensorDesc& t : tensors) {
    const Role role = role_of(t.name);
    if (role == Role::Output) tied = false;
    if (role == Role::AttnV || role == Role::AttnQKV) n_attn_v++;
  }
  const int n_gqa = model.n_head_kv > 0 ? model.n_head / model.n_head_kv : 1;
  const bool mixed = traits(recipe.base).block_elems > 1;  // float targets are uniform
  int i_attn_v = 0, i_ffn_down = 0;

  std::vector<TypeChoice> out(tensors.size());
  for (size_t index : llama_cpp_order(tensors)) {
    const TensorDesc& t = tensors[index];
    TypeChoice& choice = out[index];
    if (!is_quantizable(t)) {
      choice = {t.type, false, ""};
      continue;
    }
    Type type = recipe.base;
    if (mixed) {
      const Role role = role_of(t.name);
      if (role == Role::Output || (tied && role == Role::TokenEmbd)) {
        if (t.dims[0] % traits(recipe.base).block_elems != 0) type = Type::Q8_0;
        else if (recipe.base != Type::Q8_0) type = Type::Q6_K;
      } else {
        const int i = role == Role::FfnDown ? i_ffn_down : i_attn_v;
        const int n = role == Role::FfnDown ? model.n_layer : n_attn_v;
        for (const Rule& rule : kRules) {
          if (rule.role != role || rule.recipe != recipe.name) continue;
          const Type picked = holds(rule.when, i, n, n_gqa, has_imatrix) ? rule.then : rule.otherwise;
          if (picked != kKeep) type = picked;
          break;
        }
        if (role == Role::AttnV || role == Role::AttnQKV) i_attn_v++;
        if (role == Role::FfnDown) i_ffn_down++;
      }
    }
    const uint64_t row = t.dims[0];
    if (row % traits(type).block_elems != 0) {
      Type fallback = fallback_for(type);
      if (row % traits(fallback).block_elems != 0) fallback = Type::F16;
      choice.fallback = "row length " + std::to_string(row) + " is not a multiple of " +
                        std::to_string(traits(type).block_elems) + " (" + std::string(type_name(type)) +
                        "): using " + std::string(type_name(fallback));
      type = fallback;
    }
    choice.type = type;
    choice.converted = type != t.type;
  }
  return out;
}

}  // namespace tandem::quant
