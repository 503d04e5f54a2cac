// Converts Andrej Karpathy's llama2.c checkpoints (the "legacy" version-0 export:
// a 7-int32 header followed by float32 weights) and tokenizer.bin into a GGUF that
// llama.cpp and Tandem load as a Llama model. Weights are copied bit for bit: the
// .bin already stores Q and K rows in the order llama.cpp's rope expects.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "gguf/writer.h"

namespace tandem::convert {

struct Llama2cOptions {
  // llama.context_length. By default the checkpoint's seq_len (the trained context);
  // llama.cpp's converter writes a fixed default instead (2048 in the published
  // stories260K.gguf), which this reproduces when set.
  std::optional<uint32_t> context_length;
};

// Throws tandem::Error naming the file and field when either input is truncated,
// has trailing bytes, or describes an impossible shape.
gguf::Writer llama2c_to_gguf(const std::string& model_bin, const std::string& tokenizer_bin,
                             const Llama2cOptions& options = {});

void convert_llama2c(const std::string& model_bin, const std::string& tokenizer_bin, const std::string& out_gguf,
                     const Llama2cOptions& options = {});

}  // namespace tandem::convert
