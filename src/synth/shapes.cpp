#include "synth/shapes.h"

namespace tandem::synth {

// From each model's config.json (Hugging Face), as llama.cpp's converter maps it.
const std::vector<ModelShape>& all_shapes() {
  static const std::vector<ModelShape> shapes = {
      // name             arch      vocab   embd  layer head kv hdim  ff     ctx     rope_base  eps   tied   bias   l3rope window vocab
      {"smollm-135m",    "llama",  49152,   576, 30,  9,  3,  0,   1536,  2048,   10000.0f,  1e-5f, true,  false, false, 0,    ""},
      {"qwen2.5-0.5b",   "qwen2",  151936,  896, 24,  14, 2,  0,   4864,  32768,  1000000.0f, 1e-6f, true, true,  false, 0,    "qwen2"},
      {"tinyllama-1.1b", "llama",  32000,  2048, 22,  32, 4,  0,   5632,  2048,   10000.0f,  1e-5f, false, false, false, 0,    "llama-spm"},
      {"llama-3.2-1b",   "llama",  128256, 2048, 16,  32, 8,  0,   8192,  131072, 500000.0f, 1e-5f, true,  false, true,  0,    "llama-bpe"},
      {"qwen2.5-1.5b",   "qwen2",  151936, 1536, 28,  12, 2,  0,   8960,  32768,  1000000.0f, 1e-6f, true, true,  false, 0,    "qwen2"},
      {"gemma-2-2b",     "gemma2", 256000, 2304, 26,  8,  4,  256, 9216,  8192,   10000.0f,  1e-6f, true,  false, false, 4096, ""},
      {"llama-3.2-3b",   "llama",  128256, 3072, 28,  24, 8,  0,   8192,  131072, 500000.0f, 1e-5f, true,  false, true,  0,    "llama-bpe"},
      {"phi-3-mini",     "phi3",   32064,  3072, 32,  32, 32, 0,   8192,  4096,   10000.0f,  1e-5f, false, false, false, 2047, "phi-3"},
      {"llama-2-7b",     "llama",  32000,  4096, 32,  32, 32, 0,   11008, 4096,   10000.0f,  1e-5f, false, false, false, 0,    "llama-spm"},
      {"llama-2-13b",    "llama",  32000,  5120, 40,  40, 40, 0,   13824, 4096,   10000.0f,  1e-5f, false, false, false, 0,    "llama-spm"},
  };
  return shapes;
}

const ModelShape* find_shape(std::string_view name) {
  for (const auto& s : all_shapes())
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace tandem::synth
