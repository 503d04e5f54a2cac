// The one forward pass. Every family runs through here; the Arch row and the
// hyper-parameters say what differs (see model/arch.h). Rows are independent
// except in attention, so the only per-sequence steps are RoPE (each row's own
// position) and the KV append and attention (each segment's own cache).
#include "model/forward.h"

#include <cmath>
#include <cstring>

#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "model/weights.h"

namespace tandem::model {
namespace {

// Row-wise work between the matmuls: split over the pool when there are several rows
// (prefill), run inline for one (a decode step would pay a wake-up for microseconds of work).
template <class Fn>
void for_rows(ThreadPool& pool, int n_rows, Fn&& fn) {
  if (n_rows < 4 || pool.size() == 1) {
    fn(0, n_rows);
    return;
  }
  pool.parallel_for(n_rows, [&](int64_t begin, int64_t end, int) { fn((int)begin, (int)end); });
}

void rms_norm_rows(const float* x, const float* weight, float* y, int n_rows, int d, float eps, ThreadPool& pool) {
  for_rows(pool, n_rows, [&](int begin, int end) {
    for (int t = begin; t < end; t++) kernels::rms_norm(x + (size_t)t * d, weight, y + (size_t)t * d, d, eps);
  });
}

// x += h, row by row.
void add_rows(float* x, const float* h, int n_rows, int d, ThreadPool& pool) {
  for_rows(pool, n_rows, [&](int begin, int end) {
    kernels::add(x + (size_t)begin * d, h + (size_t)begin * d, (end - begin) * d);
  });
}

// x += residual_scale * h: a block's output joins the residual stream.
void add_residual(const HParams& hp, Scratch& s, int n_rows, ThreadPool& pool) {
  const int d = hp.n_embd;
  if (hp.residual_scale != 1.0f)
    for (size_t i = 0; i < (size_t)n_rows * d; i++) s.h[i] *= hp.residual_scale;
  add_rows(s.x.data(), s.h.data(), n_rows, d, pool);
}

// The rotary angles of every row, for each rotation kind the model has: global layers,
// then (Arch::local_rope) local ones. Rope factors: rope_freqs when present, else
// Phi-3's long or short factors by the size of the row's context.
void fill_rope_tables(const HParams& hp, const Weights& w, const Batch& batch, Scratch& s) {
  const int n = (int)batch.tokens.size(), half = hp.rope_dims / 2;
  const int kinds = hp.arch->local_rope ? 2 : 1;
  s.rope_cos.resize((size_t)kinds * n * half);
  s.rope_sin.resize((size_t)kinds * n * half);
  for (int kind = 0; kind < kinds; kind++) {
    const RopeParams& rp = kind == 0 ? hp.rope : hp.rope_local;
    kernels::RopeAngles angles{.dims = hp.rope_dims, .base = rp.base, .freq_scale = 1.0f / rp.scale,
                               .mscale = hp.rope_attn_factor};
    if (rp.yarn) {
      angles.yarn_ext = 1.0f;
      angles.yarn_low = rp.yarn_low;
      angles.yarn_high = rp.yarn_high;
    }
    for (const Segment& seg : batch.segments) {
      angles.freq_factors = w.vector(w.rope_freqs);
      if (!angles.freq_factors)
        angles.freq_factors = w.vector(seg.kv->n_ctx() > hp.n_ctx_orig ? w.rope_factors_long : w.rope_factors_short);
      for (int t = seg.first_row; t < seg.first_row + seg.n_rows; t++) {
        const size_t at = ((size_t)kind * n + t) * half;
        kernels::rope_angles(angles, (float)s.positions[t], &s.rope_cos[at], &s.rope_sin[at]);
      }
    }
  }
}

// Copies columns [offset, offset+width) of each `stride`-wide row of `src` into `dst`.
void split_columns(const float* src, int n_rows, int stride, int offset, int width, float* dst) {
  for (int t = 0; t < n_rows; t++)
    std::memcpy(dst + (size_t)t * width, src + (size_t)t * stride + offset, width * sizeof(float));
}

void attention_block(const HParams& hp, const Weights& w, int layer, const Batch& batch, Scratch& s,
                     ThreadPool& pool) {
  const LayerWeights& lw = w.layers[layer];
  const int n = (int)batch.tokens.size();
  const int d = hp.n_embd, dq = hp.n_embd_q(), dkv = hp.n_embd_kv();
  rms_norm_rows(s.x.data(), w.vector(lw.attn_norm), s.h.data(), n, d, hp.norm_eps, pool);

  if (lw.wqkv) {
    const int stride = dq + 2 * dkv;
    s.qkv.resize((size_t)n * stride);
    kernels::matmul(*lw.wqkv, s.h.data(), n, s.qkv.data(), pool);
    if (const float* b = w.vector(lw.bqkv))
      for (int t = 0; t < n; t++) kernels::add(&s.qkv[(size_t)t * stride], b, stride);
    split_columns(s.qkv.data(), n, stride, 0, dq, s.q.data());
    split_columns(s.qkv.data(), n, stride, dq, dkv, s.k.data());
    split_columns(s.qkv.data(), n, stride, dq + dkv, dkv, s.v.data());
  } else {
    const kernels::MatmulTarget qkv[] = {{lw.wq, s.q.data()}, {lw.wk, s.k.data()}, {lw.wv, s.v.data()}};
    kernels::matmul_same_input(qkv, s.h.data(), n, pool);
  }

  const float *bq = w.vector(lw.bq), *bk = w.vector(lw.bk), *bv = w.vector(lw.bv);
  const float *q_norm = w.vector(lw.q_norm), *k_norm = w.vector(lw.k_norm);
  const bool adjacent = hp.arch->rope == RopeStyle::Adjacent;
  const bool rotate = hp.layer_uses_rope(layer);
  const int half = hp.rope_dims / 2;
  // The local layers' angles follow the global ones in the tables (forward() fills them).
  const size_t table = hp.arch->local_rope && hp.layer_uses_window(layer) ? (size_t)n * half : 0;
  for_rows(pool, n, [&](int begin, int end) {
    for (int t = begin; t < end; t++) {
      float* qt = &s.q[(size_t)t * dq];
      float* kt = &s.k[(size_t)t * dkv];
      if (bq) kernels::add(qt, bq, dq);
      if (bk) kernels::add(kt, bk, dkv);
      if (bv) kernels::add(&s.v[(size_t)t * dkv], bv, dkv);
      if (q_norm) {
        for (int hd = 0; hd < hp.n_head; hd++)
          kernels::rms_norm(qt + hd * hp.head_dim, q_norm, qt + hd * hp.head_dim, hp.head_dim, hp.norm_eps);
        for (int hd = 0; hd < hp.n_head_kv; hd++)
          kernels::rms_norm(kt + hd * hp.head_dim, k_norm, kt + hd * hp.head_dim, hp.head_dim, hp.norm_eps);
      }
      if (rotate) {
        const float* cos = &s.rope_cos[table + (size_t)t * half];
        const float* sin = &s.rope_sin[table + (size_t)t * half];
        kernels::rope(qt, hp.n_head, hp.head_dim, hp.rope_dims, cos, sin, adjacent);
        kernels::rope(kt, hp.n_head_kv, hp.head_dim, hp.rope_dims, cos, sin, adjacent);
      }
      for (int i = 0; i < dq; i++) qt[i] *= hp.query_scale;
    }
  });

  kernels::AttentionShape shape{hp.n_head, hp.n_head_kv, hp.head_dim, hp.attn_softcap, 0};
  shape.window = hp.layer_uses_window(layer) ? hp.sliding_window : 0;
  for (const Segment& seg : batch.segments) {
    const size_t q_row = (size_t)seg.first_row * dq, kv_row = (size_t)seg.first_row * dkv;
    seg.kv->store(layer, seg.first_pos, seg.n_rows, &s.k[kv_row], &s.v[kv_row]);
    kernels::attention(shape, &s.q[q_row], seg.n_rows, seg.first_pos, seg.kv->keys_view(layer),
                       seg.kv->values_view(layer), &s.attn[q_row], pool);
  }

  kernels::matmul(*lw.wo, s.attn.data(), n, s.h.data(), pool);
  if (lw.post_attn_norm) rms_norm_rows(s.h.data(), w.vector(lw.post_attn_norm), s.h.data(), n, d, hp.norm_eps, pool);
  add_residual(hp, s, n, pool);
}

void ffn_block(const HParams& hp, const Weights& w, const LayerWeights& lw, int n, Scratch& s, ThreadPool& pool) {
  const int d = hp.n_embd, ff = hp.n_ff;
  rms_norm_rows(s.x.data(), w.vector(lw.ffn_norm), s.h.data(), n, d, hp.norm_eps, pool);
  if (lw.ffn_gate) {
    const kernels::MatmulTarget gate_up[] = {{lw.ffn_gate, s.ffn_a.data()}, {lw.ffn_up, s.ffn_b.data()}};
    kernels::matmul_same_input(gate_up, s.h.data(), n, pool);
  } else {  // fused [gate | up]
    s.ffn_ab.resize((size_t)n * 2 * ff);
    kernels::matmul(*lw.ffn_up, s.h.data(), n, s.ffn_ab.data(), pool);
    split_columns(s.ffn_ab.data(), n, 2 * ff, 0, ff, s.ffn_a.data());
    split_columns(s.ffn_ab.data(), n, 2 * ff, ff, ff, s.ffn_b.data());
  }
  const bool gelu = hp.arch->activation == Activation::GeluTanh;
  for_rows(pool, n, [&](int begin, int end) {
    float* gate = s.ffn_a.data() + (size_t)begin * ff;
    const float* up = s.ffn_b.data() + (size_t)begin * ff;
    if (gelu) kernels::gelu_tanh_mul(gate, up, (end - begin) * ff);
    else kernels::silu_mul(gate, up, (end - begin) * ff);
  });
  kernels::matmul(*lw.ffn_down, s.ffn_a.data(), n, s.h.data(), pool);
  if (lw.post_ffn_norm) rms_norm_rows(s.h.data(), w.vector(lw.post_ffn_norm), s.h.data(), n, d, hp.norm_eps, pool);
  add_residual(hp, s, n, pool);
}

}  // namespace

void forward(const Model& model, const Batch& batch, Scratch& s, ThreadPool& pool, float* logits) {
  const HParams& hp = model.hparams();
  const Weights& w = model.weights();
  const int n = (int)batch.tokens.size();
  const int d = hp.n_embd, dq = hp.n_embd_q(), dkv = hp.n_embd_kv(), ff = hp.n_ff;
  s.positions.resize(n);
  s.x.resize((size_t)n * d);
  s.h.resize((size_t)n * d);
  s.q.resize((size_t)n * dq);
  s.k.resize((size_t)n * dkv);
  s.v.resize((size_t)n * dkv);
  s.attn.resize((size_t)n * dq);
  s.ffn_a.resize((size_t)n * ff);
  s.ffn_b.resize((size_t)n * ff);

  for (const Segment& seg : batch.segments)
    for (int i = 0; i < seg.n_rows; i++) s.positions[seg.first_row + i] = seg.first_pos + i;
  fill_rope_tables(hp, w, batch, s);

  for (int t = 0; t < n; t++) {
    float* xt = s.x.data() + (size_t)t * d;
    kernels::get_row(*w.token_embd, batch.tokens[t], xt);
    if (hp.embed_scale != 1.0f)
      for (int i = 0; i < d; i++) xt[i] *= hp.embed_scale;
  }

  for (int l = 0; l < hp.n_layer; l++) {
    attention_block(hp, w, l, batch, s, pool);
    ffn_block(hp, w, w.layers[l], n, s, pool);
  }

  // The LM head over the wanted rows only, gathered (normed) into the front of h.
  const int n_out = (int)batch.output_rows.size();
  if (n_out == 0) return;
  const float* out_norm = w.vector(w.output_norm);
  for (int i = 0; i < n_out; i++)
    kernels::rms_norm(&s.x[(size_t)batch.output_rows[i] * d], out_norm, &s.h[(size_t)i * d], d, hp.norm_eps);
  kernels::matmul(*w.output, s.h.data(), n_out, logits, pool);
  if (hp.logit_scale != 1.0f)
    for (size_t i = 0; i < (size_t)n_out * hp.n_vocab; i++) logits[i] *= 1.0f / hp.logit_scale;
  if (hp.final_softcap > 0) kernels::soft_cap(logits, n_out * hp.n_vocab, hp.final_softcap);
}

}  // namespace tandem::model
