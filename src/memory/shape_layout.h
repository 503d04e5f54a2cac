// A plan for a model that exists only as a shape (synth/shapes.h) and a quantization
// recipe: the tensors it would have, typed by the recipe's mix, without any file.
#pragma once
#include <string>

#include "memory/plan.h"
#include "quant/recipes.h"
#include "synth/shapes.h"

namespace tandem::memory {

// `vocab_header`: a GGUF whose header gives the tokenizer's real size (the shape's
// shared vocab file); empty or unreadable: estimated from the vocabulary size.
ModelLayout layout_from_shape(const synth::ModelShape& shape, const quant::Recipe& recipe,
                              const std::string& vocab_header = "");

}  // namespace tandem::memory
