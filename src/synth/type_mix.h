// Which tensor type each weight gets under a llama-quantize file type ("Q4_K_M", "IQ4_XS"):
// the mixes of quant/recipes.h (llama.cpp's llama_tensor_get_type without an importance
// matrix), so synthetic files match real downloads.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "quant/types.h"

namespace tandem::synth {

enum class Recipe {
  F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
  Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, IQ4_NL, IQ4_XS,
};

struct RecipeInfo {
  Recipe recipe;
  std::string_view name;
  quant::Type base;      // the type most matrices get
  uint32_t file_type;    // general.file_type (llama_ftype)
};

// Case-insensitive; "Q4_K" etc. mean the _M recipe, as in llama-quantize. Error lists the names.
const RecipeInfo& find_recipe(std::string_view name);
std::vector<std::string_view> recipe_names();

enum class Role { TokenEmbd, Output, AttnQ, AttnK, AttnV, AttnQKV, AttnOutput, FfnGate, FfnUp, FfnDown };

struct TensorSlot {
  Role role;
  int layer = 0;       // for per-layer roles
  int n_layer = 1;
  int n_gqa = 1;       // n_head / n_head_kv
  uint64_t row_len = 0;  // ne[0]
  bool has_output = true;  // false: the token embedding is also the output matrix
};

quant::Type tensor_type(const RecipeInfo& recipe, const TensorSlot& slot);

}  // namespace tandem::synth
