#include "model/hparams.h"

#include <cmath>

#include "core/error.h"
#include "gguf/file.h"

namespace tandem::model {

bool HParams::layer_uses_window(int layer) const {
  if (sliding_window <= 0) return false;
  switch (arch->sliding_window) {
    case SlidingWindow::None: return false;
    case SlidingWindow::AllLayers: return true;
    case SlidingWindow::EvenLayers: return layer % 2 == 0;
  }
  return false;
}

HParams HParams::from_gguf(const gguf::File& f) {
  HParams h;
  std::string arch_name = f.get_string("general.architecture");
  h.arch = find_arch(arch_name);
  if (!h.arch) {
    std::string known;
    for (auto n : arch_names()) known += (known.empty() ? "" : ", ") + std::string(n);
    fail("unsupported architecture '", arch_name, "' in '", f.path(), "' (supported: ", known, ")");
  }
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
  h.head_dim = find_int("attention.key_length", h.n_embd / h.n_head);
  int value_dim = find_int("attention.value_length", h.head_dim);
  if (value_dim != h.head_dim) fail("'", f.path(), "': key_length ", h.head_dim, " != value_length ", value_dim, " is not supported");
  h.norm_eps = find_float("attention.layer_norm_rms_epsilon", 1e-5f);
  h.rope_base = find_float("rope.freq_base", 10000.0f);
  h.rope_dims = find_int("rope.dimension_count", h.head_dim);
  if (auto type = f.find_string(p + "rope.scaling.type"); type && *type == "linear")
    h.rope_scale = find_float("rope.scaling.factor", 1.0f);
  h.sliding_window = find_int("attention.sliding_window", 0);
  h.query_scale = 1.0f / std::sqrt((float)h.head_dim);
  if (h.arch->soft_caps) {
    h.attn_softcap = find_float("attn_logit_softcapping", 50.0f);
    h.final_softcap = find_float("final_logit_softcapping", 30.0f);
    // Gemma 2 27B scales queries by 1/sqrt(n_embd/n_head) (query_pre_attn_scalar 144), not 1/sqrt(head_dim).
    if (h.n_layer == 46) h.query_scale = 1.0f / std::sqrt((float)h.n_embd / h.n_head);
  }
  if (auto tokens = f.find("tokenizer.ggml.tokens")) h.n_vocab = (int)tokens->array_size();
  if (h.n_embd <= 0 || h.n_layer <= 0 || h.n_ff <= 0 || h.head_dim <= 0 || h.rope_dims > h.head_dim || h.rope_dims % 2)
    fail("'", f.path(), "': inconsistent hyper-parameters (embedding_length ", h.n_embd, ", block_count ", h.n_layer,
         ", feed_forward_length ", h.n_ff, ", head_dim ", h.head_dim, ", rope dims ", h.rope_dims, ")");
  return h;
}

}  // namespace tandem::model
