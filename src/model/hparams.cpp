#include "model/hparams.h"

#include <cmath>

#include "core/error.h"
#include "gguf/file.h"

namespace tandem::model {

bool HParams::layer_uses_rope(int layer) const {
  return arch->no_rope_every <= 0 || (layer + 1) % arch->no_rope_every != 0;
}

const RopeParams& HParams::layer_rope(int layer) const {
  return arch->local_rope && layer_uses_window(layer) ? rope_local : rope;
}

namespace {

// Which layers are local: llama.cpp's set_swa_pattern for a period, or one flag per layer.
std::vector<uint8_t> local_layer_flags(const gguf::File& f, const std::string& prefix, const Arch& arch, int n_layer) {
  std::vector<uint8_t> local(n_layer, 0);
  if (arch.sliding_window == SlidingWindow::AllLayers) local.assign(n_layer, 1);
  if (arch.sliding_window != SlidingWindow::Periodic) return local;
  const std::string key = prefix + "attention.sliding_window_pattern";
  const gguf::Value* pattern = f.find(key);
  if (pattern && pattern->is_array()) {
    const std::vector<int64_t> flags = f.get_ints(key);  // Error unless integers or bools
    if ((int)flags.size() != n_layer)
      fail("'", f.path(), "': ", key, " has ", flags.size(), " entries, but the model has ", n_layer, " layers");
    for (int il = 0; il < n_layer; il++) local[il] = flags[il] != 0;
    return local;
  }
  // A period p makes layer il local unless il % p == p - 1; 0 makes every layer local.
  const uint64_t period = pattern ? f.get_uint(key) : (uint64_t)arch.swa_period;  // Error unless an integer
  for (int il = 0; il < n_layer; il++) local[il] = period == 0 || (uint64_t)il % period < period - 1;
  return local;
}

// YaRN's ramp over rotary pairs (ggml_rope_yarn_corr_dims, beta_fast 32 and beta_slow 1 as llama.cpp).
void yarn_corr_dims(int dims, int n_ctx_orig, float base, float& low, float& high) {
  auto corr_dim = [&](float n_rot) {
    return dims * std::log((float)n_ctx_orig / (n_rot * 2 * (float)M_PI)) / (2 * std::log(base));
  };
  low = std::max(0.0f, std::floor(corr_dim(32.0f)));
  high = std::min((float)dims - 1, std::ceil(corr_dim(1.0f)));
}

}  // namespace

HParams HParams::from_gguf(const gguf::File& f) {
  HParams h;
  std::string arch_name = f.get_string("general.architecture");
  h.arch = find_arch(arch_name);
  if (!h.arch) {
    std::string known;
    for (auto n : arch_names()) known += (known.empty() ? "" : ", ") + std::string(n);
    fail("unsupported architecture '", arch_name, "' in '", f.path(), "' (supported: ", known, ")");
  }
  const Arch& arch = *h.arch;
  const std::string p = arch_name + ".";
  auto get_int = [&](const std::string& key) { return (int)f.get_uint(p + key); };
  auto find_int = [&](const std::string& key, int fallback) {
    auto v = f.find_uint(p + key);
    return v ? (int)*v : fallback;
  };
  auto find_float = [&](const std::string& key, float fallback) {
    auto v = f.find_float(p + key);
    return v ? (float)*v : fallback;
  };

  h.name = f.find_string("general.name").value_or("");
  h.n_embd = get_int("embedding_length");
  h.n_layer = get_int("block_count");
  h.n_head = get_int("attention.head_count");
  h.n_head_kv = find_int("attention.head_count_kv", h.n_head);
  h.n_ff = get_int("feed_forward_length");
  h.n_ctx_train = find_int("context_length", 2048);
  if (h.n_head <= 0 || h.n_head_kv <= 0 || h.n_head % h.n_head_kv != 0)
    fail("'", f.path(), "': head_count ", h.n_head, " must be a positive multiple of head_count_kv ", h.n_head_kv);
  // Widths far beyond any model would overflow the products the forward pass sizes buffers with;
  // more blocks than the file has tensors cannot be bound.
  constexpr int kMaxWidth = 1 << 20, kMaxHeads = 1 << 12;
  if (h.n_embd > kMaxWidth || h.n_ff > kMaxWidth || h.n_head > kMaxHeads)
    fail("'", f.path(), "': hyper-parameters out of range (embedding_length ", h.n_embd, ", feed_forward_length ", h.n_ff,
         ", head_count ", h.n_head, ")");
  if (h.n_layer > (int)f.tensors().size())
    fail("'", f.path(), "': block_count ", h.n_layer, " exceeds the ", f.tensors().size(), " tensors in the file");
  h.head_dim = find_int("attention.key_length", h.n_embd / h.n_head);
  if (h.head_dim > kMaxWidth / kMaxHeads)
    fail("'", f.path(), "': key_length ", h.head_dim, " is out of range (at most ", kMaxWidth / kMaxHeads, ")");
  int value_dim = find_int("attention.value_length", h.head_dim);
  if (value_dim != h.head_dim) fail("'", f.path(), "': key_length ", h.head_dim, " != value_length ", value_dim, " is not supported");
  h.norm_eps = find_float("attention.layer_norm_rms_epsilon", 1e-5f);
  h.rope_dims = find_int("rope.dimension_count", h.head_dim);
  if (h.n_embd <= 0 || h.n_layer <= 0 || h.n_ff <= 0 || h.head_dim <= 0 || h.rope_dims <= 0 || h.rope_dims > h.head_dim ||
      h.rope_dims % 2)
    fail("'", f.path(), "': inconsistent hyper-parameters (embedding_length ", h.n_embd, ", block_count ", h.n_layer,
         ", feed_forward_length ", h.n_ff, ", head_dim ", h.head_dim, ", rope dims ", h.rope_dims, ")");

  // Rotary embeddings, as llama.cpp reads them: the scaling factor applies unless the
  // type is "none"; YaRN also blends per pair; "longrope" is the factor tensors (weights).
  h.rope.base = find_float("rope.freq_base", 10000.0f);
  if (!(h.rope.base > 0.0f) || !std::isfinite(h.rope.base))
    fail("'", f.path(), "': ", p, "rope.freq_base must be a positive number, got ", h.rope.base);
  h.n_ctx_orig = find_int("rope.scaling.original_context_length", h.n_ctx_train);
  const std::string scaling = f.find_string(p + "rope.scaling.type").value_or("linear");
  if (scaling != "none" && scaling != "linear" && scaling != "yarn" && scaling != "longrope")
    fail("'", f.path(), "': unknown rope scaling type ", p, "rope.scaling.type = '", scaling,
         "' (known: none, linear, yarn, longrope)");
  float factor = find_float("rope.scaling.factor", find_float("rope.scale_linear", 0.0f));
  if (!(factor >= 0.0f) || !std::isfinite(factor))
    fail("'", f.path(), "': ", p, "rope.scaling.factor must be a non-negative number, got ", factor);
  if (scaling != "none" && factor > 0.0f) h.rope.scale = factor;
  h.rope_attn_factor = find_float("rope.scaling.attn_factor", 1.0f);
  if (scaling == "yarn") {
    h.rope.yarn = true;
    yarn_corr_dims(h.rope_dims, h.n_ctx_orig, h.rope.base, h.rope.yarn_low, h.rope.yarn_high);
  }

  h.sliding_window = find_int("attention.sliding_window", 0);
  if (h.sliding_window > 0) h.local_layers = local_layer_flags(f, p, arch, h.n_layer);
  else h.local_layers.assign(h.n_layer, 0);
  h.rope_local = h.rope;
  if (arch.local_rope) {
    h.rope_local = RopeParams{.base = find_float("rope.freq_base_swa", 10000.0f)};
    if (!(h.rope_local.base > 0.0f) || !std::isfinite(h.rope_local.base))
      fail("'", f.path(), "': ", p, "rope.freq_base_swa must be a positive number, got ", h.rope_local.base);
  }

  h.query_scale = 1.0f / std::sqrt((float)h.head_dim);
  if (arch.wide_query_scale_layers && h.n_layer == arch.wide_query_scale_layers)
    h.query_scale = 1.0f / std::sqrt((float)h.n_embd / h.n_head);
  if (arch.attn_soft_cap) h.attn_softcap = find_float("attn_logit_softcapping", 50.0f);
  if (arch.final_soft_cap) h.final_softcap = find_float("final_logit_softcapping", arch.final_soft_cap_default);

  switch (arch.scales) {
    case StreamScales::None: break;
    case StreamScales::SqrtEmbd: h.embed_scale = std::sqrt((float)h.n_embd); break;
    case StreamScales::Mup:
      h.embed_scale = find_float("embedding_scale", 12.0f);
      h.residual_scale = find_float("residual_scale", 1.4f / std::sqrt((float)h.n_layer));
      h.logit_scale = find_float("logit_scale", 256.0f / (float)h.n_embd);
      if (!(h.logit_scale > 0.0f)) fail("'", f.path(), "': ", p, "logit_scale must be positive, got ", h.logit_scale);
      break;
  }
  if (auto tokens = f.find("tokenizer.ggml.tokens")) h.n_vocab = (int)tokens->array_size();
  return h;
}

}  // namespace tandem::model
