// Per-tensor type mixes of llama-quantize's file types ("Q4_K_M" and friends): which
// tensors are quantized at all, which get more bits (output, attn_v and ffn_down in
// some layers, fused qkv), and the fallbacks for rows a block type cannot divide.
// Follows llama.cpp's llama_tensor_get_type (src/llama-quant.cpp), with or without an
// importance matrix, for dense (non-MoE) models.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "quant/types.h"

namespace tandem::quant {

struct Recipe {
  std::string_view name;  // "Q4_K_M"
  uint32_t file_type;     // llama_ftype, stored as general.file_type
  Type base;              // the type most matrices get
};

// Case-insensitive; bare "Q3_K"/"Q4_K"/"Q5_K" mean the _M mix, as in llama-quantize.
// An unknown name is a tandem::Error listing the known ones.
const Recipe& find_recipe(std::string_view name);
std::vector<std::string_view> recipe_names();

// What the mix needs to know about the model beyond tensor names and shapes.
struct ModelFacts {
  std::string arch;  // general.architecture
  int n_layer = 0;
  int n_head = 1;
  int n_head_kv = 1;
};

struct TensorDesc {
  std::string name;
  Type type;                   // in the source file
  std::vector<uint64_t> dims;  // ggml order: dims[0] is the row length
};

// Whether llama-quantize would quantize this tensor at all (2-D+ weights that are not
// norms, position embeddings and the like); the others are copied unchanged.
bool is_quantizable(const TensorDesc& tensor);

// The order llama.cpp visits (and writes) tensors in: the ones outside blocks first,
// then block by block, by name within each. The mix's layer counters depend on it.
std::vector<size_t> llama_cpp_order(const std::vector<TensorDesc>& tensors);

struct TypeChoice {
  Type type;
  bool converted;         // type differs from the source or the data must be re-encoded
  std::string fallback;   // non-empty: why the recipe's type could not be used
};

// The type of every tensor, indexed like `tensors`. Visits them in llama_cpp_order.
// has_imatrix: an importance matrix is given (a few rules differ, as in llama.cpp).
std::vector<TypeChoice> choose_types(const Recipe& recipe, const ModelFacts& model,
                                     const std::vector<TensorDesc>& tensors, bool has_imatrix = false);

}  // namespace tandem::quant
