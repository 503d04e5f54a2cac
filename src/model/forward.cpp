// The one forward pass. Every family runs through here; the Arch row and the
// hyper-parameters say what differs (see model/arch.h).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "model/context.h"
#include "model/kv_cache.h"
#include "model/weights.h"

namespace tandem::model {
namespace {
constexpr int kMaxBatch = 256;  // prompt tokens per pass: bounds scratch memory
}

struct Context::State {
  ThreadPool pool;
  KvCache kv;
  // Scratch for one batch.
  std::vector<float> x, h, q, k, v, qkv, attn, ffn_a, ffn_b, ffn_ab, out;
  std::vector<float> logits;

  State(int n_threads, const HParams& hp, int n_ctx, quant::Type kv_type)
      : pool(n_threads), kv(hp.n_layer, n_ctx, hp.n_embd_kv(), kv_type) {}
};

Context::Context(std::shared_ptr<const Model> model, const ContextOptions& options) : model_(std::move(model)) {
  const HParams& hp = model_->hparams();
  n_ctx_ = options.n_ctx > 0 ? options.n_ctx : std::min(hp.n_ctx_train > 0 ? hp.n_ctx_train : 4096, 4096);
  state_ = std::make_unique<State>(options.n_threads, hp, n_ctx_, options.kv_type);
}

size_t Context::kv_cache_bytes() const { return state_->kv.bytes(); }

Context::~Context() = default;

int Context::n_vocab() const { return model_->hparams().n_vocab; }

const float* Context::logits(int i) const {
  if (i < 0 || i >= n_logits_) fail("logits index ", i, " out of range (", n_logits_, " available)");
  return state_->logits.data() + (size_t)i * n_vocab();
}

void Context::truncate(int n_past) {
  if (n_past < 0 || n_past > n_past_) fail("cannot truncate context to ", n_past, " (has ", n_past_, ")");
  n_past_ = n_past;
}

void Context::eval(std::span<const int32_t> tokens, bool all_logits) {
  const HParams& hp = model_->hparams();
  const Weights& w = model_->weights();
  const int n = (int)tokens.size();
  if (n == 0) fail("eval needs at least one token");
  if (n_past_ + n > n_ctx_)
    fail("context full: ", n_past_, " cached + ", n, " new tokens exceed the context of ", n_ctx_, " tokens");
  for (int32_t t : tokens)
    if (t < 0 || t >= hp.n_vocab) fail("token id ", t, " out of range (vocabulary ", hp.n_vocab, ")");

  State& s = *state_;
  n_logits_ = all_logits ? n : 1;
  s.logits.resize((size_t)n_logits_ * hp.n_vocab);
  for (int start = 0; start < n; start += kMaxBatch) {
    const int count = std::min(kMaxBatch, n - start);
    const bool last_chunk = start + count == n;
    const int d = hp.n_embd, dq = hp.n_embd_q(), dkv = hp.n_embd_kv(), ff = hp.n_ff;
    const int pos0 = n_past_;
    s.x.resize((size_t)count * d);
    s.h.resize((size_t)count * d);
    s.q.resize((size_t)count * dq);
    s.k.resize((size_t)count * dkv);
    s.v.resize((size_t)count * dkv);
    s.attn.resize((size_t)count * dq);
    s.ffn_a.resize((size_t)count * ff);
    s.ffn_b.resize((size_t)count * ff);

    for (int t = 0; t < count; t++) {
      float* xt = s.x.data() + (size_t)t * d;
      kernels::get_row(*w.token_embd, tokens[start + t], xt);
      if (hp.arch->scale_embeddings)
        for (int i = 0; i < d; i++) xt[i] *= std::sqrt((float)d);
    }

    kernels::AttentionShape shape{hp.n_head, hp.n_head_kv, hp.head_dim, hp.attn_softcap, 0};
    const float* rope_factors = vector_data(w.rope_freqs);
    for (int l = 0; l < hp.n_layer; l++) {
      const LayerWeights& lw = w.layers[l];
      const float* attn_norm = vector_data(lw.attn_norm);
      for (int t = 0; t < count; t++) kernels::rms_norm(&s.x[(size_t)t * d], attn_norm, &s.h[(size_t)t * d], d, hp.norm_eps);

      if (lw.wqkv) {
        s.qkv.resize((size_t)count * (dq + 2 * dkv));
        kernels::matmul(*lw.wqkv, s.h.data(), count, s.qkv.data(), s.pool);
        for (int t = 0; t < count; t++) {
          const float* row = &s.qkv[(size_t)t * (dq + 2 * dkv)];
          std::memcpy(&s.q[(size_t)t * dq], row, dq * sizeof(float));
          std::memcpy(&s.k[(size_t)t * dkv], row + dq, dkv * sizeof(float));
          std::memcpy(&s.v[(size_t)t * dkv], row + dq + dkv, dkv * sizeof(float));
        }
      } else {
        kernels::matmul(*lw.wq, s.h.data(), count, s.q.data(), s.pool);
        kernels::matmul(*lw.wk, s.h.data(), count, s.k.data(), s.pool);
        kernels::matmul(*lw.wv, s.h.data(), count, s.v.data(), s.pool);
      }
      const float *bq = vector_data(lw.bq), *bk = vector_data(lw.bk), *bv = vector_data(lw.bv);
      for (int t = 0; t < count; t++) {
        float* qt = &s.q[(size_t)t * dq];
        float* kt = &s.k[(size_t)t * dkv];
        if (bq) kernels::add(qt, bq, dq);
        if (bk) kernels::add(kt, bk, dkv);
        if (bv) kernels::add(&s.v[(size_t)t * dkv], bv, dkv);
        const float pos = (float)(pos0 + t) / hp.rope_scale;
        const bool adjacent = hp.arch->rope == RopeStyle::Adjacent;
        kernels::rope(qt, hp.n_head, hp.head_dim, hp.rope_dims, pos, hp.rope_base, rope_factors, adjacent);
        kernels::rope(kt, hp.n_head_kv, hp.head_dim, hp.rope_dims, pos, hp.rope_base, rope_factors, adjacent);
        for (int i = 0; i < dq; i++) qt[i] *= hp.query_scale;
      }
      s.kv.store(l, pos0, count, s.k.data(), s.v.data());

      shape.window = hp.layer_uses_window(l) ? hp.sliding_window : 0;
      const float* keys = s.kv.keys(l, pos0 + count, s.pool);
      const float* values = s.kv.values(l, pos0 + count, s.pool);
      kernels::attention(shape, s.q.data(), count, pos0, keys, values, s.attn.data(), s.pool);
      kernels::matmul(*lw.wo, s.attn.data(), count, s.h.data(), s.pool);
      if (lw.post_attn_norm) {
        const float* pn = vector_data(lw.post_attn_norm);
        for (int t = 0; t < count; t++) kernels::rms_norm(&s.h[(size_t)t * d], pn, &s.h[(size_t)t * d], d, hp.norm_eps);
      }
      kernels::add(s.x.data(), s.h.data(), count * d);

      const float* ffn_norm = vector_data(lw.ffn_norm);
      for (int t = 0; t < count; t++) kernels::rms_norm(&s.x[(size_t)t * d], ffn_norm, &s.h[(size_t)t * d], d, hp.norm_eps);
      if (lw.ffn_gate) {
        kernels::matmul(*lw.ffn_gate, s.h.data(), count, s.ffn_a.data(), s.pool);
        kernels::matmul(*lw.ffn_up, s.h.data(), count, s.ffn_b.data(), s.pool);
      } else {  // fused [gate | up]
        s.ffn_ab.resize((size_t)count * 2 * ff);
        kernels::matmul(*lw.ffn_up, s.h.data(), count, s.ffn_ab.data(), s.pool);
        for (int t = 0; t < count; t++) {
          std::memcpy(&s.ffn_a[(size_t)t * ff], &s.ffn_ab[(size_t)t * 2 * ff], ff * sizeof(float));
          std::memcpy(&s.ffn_b[(size_t)t * ff], &s.ffn_ab[(size_t)t * 2 * ff + ff], ff * sizeof(float));
        }
      }
      if (hp.arch->activation == Activation::GeluTanh)
        kernels::gelu_tanh_mul(s.ffn_a.data(), s.ffn_b.data(), count * ff);
      else
        kernels::silu_mul(s.ffn_a.data(), s.ffn_b.data(), count * ff);
      kernels::matmul(*lw.ffn_down, s.ffn_a.data(), count, s.h.data(), s.pool);
      if (lw.post_ffn_norm) {
        const float* pn = vector_data(lw.post_ffn_norm);
        for (int t = 0; t < count; t++) kernels::rms_norm(&s.h[(size_t)t * d], pn, &s.h[(size_t)t * d], d, hp.norm_eps);
      }
      kernels::add(s.x.data(), s.h.data(), count * d);
    }

    // Logits: every row of this chunk, or only the very last token.
    const int first_out = all_logits ? 0 : (last_chunk ? count - 1 : count);
    const int n_out = count - first_out;
    if (n_out > 0) {
      const float* out_norm = vector_data(w.output_norm);
      for (int t = first_out; t < count; t++)
        kernels::rms_norm(&s.x[(size_t)t * d], out_norm, &s.h[(size_t)(t - first_out) * d], d, hp.norm_eps);
      float* dst = s.logits.data() + (size_t)(all_logits ? start : 0) * hp.n_vocab;
      kernels::matmul(*w.output, s.h.data(), n_out, dst, s.pool);
      if (hp.final_softcap > 0) kernels::soft_cap(dst, n_out * hp.n_vocab, hp.final_softcap);
    }
    n_past_ += count;
  }
}

}  // namespace tandem::model
