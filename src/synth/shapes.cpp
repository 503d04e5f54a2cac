#include "synth/shapes.h"

#include "core/error.h"
#include "model/arch.h"

namespace tandem::synth {

// From each model's config.json (Hugging Face), as llama.cpp's converter maps it.
// Layer counts and widths agree with the type switches of the reference's loaders
// (src/models/<arch>.cpp: e.g. qwen3 28 layers x 1024 = 0.6B, gemma3 26 = 1B).
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
      // Issue 19's families. Gemma 3: five local layers (window 512 / 1024, rope base 10000)
      // per global one (base 1e6; the 4B scales global positions by 8). GLM-4 and Phi-4-mini
      // rotate part of each head (64 of 128, 96 of 128). The qwen2 vocab file shares Qwen3's
      // byte-level BPE (Qwen3 adds a few special tokens).
      //                                                                                                                           rope  rope  long
      // name             arch      vocab   embd  layer head kv hdim  ff     ctx     rope_base  eps   tied   bias   l3rope window vocab  dims  scale ctx
      {"qwen3-0.6b",     "qwen3",  151936, 1024, 28,  16, 8,  128, 3072,  40960,  1000000.0f, 1e-6f, true,  false, false, 0,    "qwen2"},
      {"qwen3-4b",       "qwen3",  151936, 2560, 36,  32, 8,  128, 9728,  40960,  1000000.0f, 1e-6f, true,  false, false, 0,    "qwen2"},
      {"qwen3-8b",       "qwen3",  151936, 4096, 36,  32, 8,  128, 12288, 40960,  1000000.0f, 1e-6f, false, false, false, 0,    "qwen2"},
      {"gemma3-1b",      "gemma3", 262144, 1152, 26,  4,  1,  256, 6912,  32768,  1000000.0f, 1e-6f, true,  false, false, 512,  ""},
      {"gemma3-4b",      "gemma3", 262208, 2560, 34,  8,  4,  256, 10240, 131072, 1000000.0f, 1e-6f, true,  false, false, 1024, "",    0,    8.0f},
      {"minicpm-2b",     "minicpm", 122753, 2304, 40, 36, 36, 0,   5760,  4096,   10000.0f,  1e-5f, true,  false, false, 0,    ""},
      {"smollm3-3b",     "smollm3", 128256, 2048, 36, 16, 4,  0,   11008, 65536,  5000000.0f, 1e-6f, true, false, false, 0,    "llama-bpe"},
      {"glm4-9b",        "glm4",   151552, 4096, 40,  32, 2,  128, 13696, 32768,  10000.0f,  1e-5f, false, true,  false, 0,    "",    64},
      {"phi-4-mini",     "phi3",   200064, 3072, 32,  24, 8,  128, 8192,  131072, 10000.0f,  1e-5f, true,  false, false, 0,    "",    96,   0,    4096},
  };
  return shapes;
}

const ModelShape* find_shape(std::string_view name) {
  for (const auto& s : all_shapes())
    if (s.name == name) return &s;
  return nullptr;
}

std::vector<ShapeTensor> shape_tensors(const ModelShape& s, int n_layer, int n_vocab) {
  const model::Arch* arch = model::find_arch(s.arch);
  if (!arch) fail("shape '", s.name, "' uses architecture '", s.arch, "', which Tandem does not know");
  const uint64_t d = s.n_embd, dq = (uint64_t)s.n_head * s.dim_head(), dkv = (uint64_t)s.n_head_kv * s.dim_head(),
                 ff = s.n_ff, hd = s.dim_head(), vocab = n_vocab;
  std::vector<ShapeTensor> t;
  auto add = [&](std::string name, TensorKind kind, int layer, std::vector<uint64_t> dims) {
    t.push_back({std::move(name), kind, layer, std::move(dims)});
  };
  add("token_embd.weight", TensorKind::TokenEmbd, 0, {d, vocab});
  if (s.llama3_rope) add("rope_freqs.weight", TensorKind::RopeFreqs, 0, {(uint64_t)s.dim_rope() / 2});
  if (s.longrope_ctx) {
    add("rope_factors_long.weight", TensorKind::RopeFactorsLong, 0, {(uint64_t)s.dim_rope() / 2});
    add("rope_factors_short.weight", TensorKind::RopeFactorsShort, 0, {(uint64_t)s.dim_rope() / 2});
  }
  for (int i = 0; i < n_layer; i++) {
    const std::string p = "blk." + std::to_string(i) + ".";
    add(p + "attn_norm.weight", TensorKind::Norm, i, {d});
    if (arch->fused_qkv) {
      add(p + "attn_qkv.weight", TensorKind::AttnQKV, i, {d, dq + 2 * dkv});
      if (s.qkv_bias) add(p + "attn_qkv.bias", TensorKind::Bias, i, {dq + 2 * dkv});
    } else {
      add(p + "attn_q.weight", TensorKind::AttnQ, i, {d, dq});
      add(p + "attn_k.weight", TensorKind::AttnK, i, {d, dkv});
      add(p + "attn_v.weight", TensorKind::AttnV, i, {d, dkv});
      if (s.qkv_bias) {
        add(p + "attn_q.bias", TensorKind::Bias, i, {dq});
        add(p + "attn_k.bias", TensorKind::Bias, i, {dkv});
        add(p + "attn_v.bias", TensorKind::Bias, i, {dkv});
      }
    }
    if (arch->qk_norm) {
      add(p + "attn_q_norm.weight", TensorKind::Norm, i, {hd});
      add(p + "attn_k_norm.weight", TensorKind::Norm, i, {hd});
    }
    add(p + "attn_output.weight", TensorKind::AttnOutput, i, {dq, d});
    if (arch->post_norms) add(p + "post_attention_norm.weight", TensorKind::Norm, i, {d});
    add(p + "ffn_norm.weight", TensorKind::Norm, i, {d});
    if (arch->fused_gate_up) {
      add(p + "ffn_up.weight", TensorKind::FfnUp, i, {d, 2 * ff});
    } else {
      add(p + "ffn_gate.weight", TensorKind::FfnGate, i, {d, ff});
      add(p + "ffn_up.weight", TensorKind::FfnUp, i, {d, ff});
    }
    add(p + "ffn_down.weight", TensorKind::FfnDown, i, {ff, d});
    if (arch->post_norms) add(p + "post_ffw_norm.weight", TensorKind::Norm, i, {d});
  }
  add("output_norm.weight", TensorKind::OutputNorm, 0, {d});
  if (!s.tied_output) add("output.weight", TensorKind::Output, 0, {d, vocab});
  return t;
}

}  // namespace tandem::synth
