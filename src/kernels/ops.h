// Element-wise and row-wise operations of the forward pass, on float rows.
#pragma once
#include <cstdint>

namespace tandem::kernels {

// y = x / sqrt(mean(x^2) + eps) * w   (w may be null: no weight)
void rms_norm(const float* x, const float* w, float* y, int n, float eps);

// How a position becomes rotary angles (ggml's rope with its YaRN extension). Pair i turns
// by theta_i = pos * base^(-2i/dims) / freq_factors[i] (factors may be null: Llama 3.1,
// Phi-3 long/short); linear scaling multiplies theta by freq_scale; YaRN (yarn_ext > 0)
// blends the scaled and unscaled angle per pair by a ramp over pairs [yarn_low, yarn_high]
// and raises mscale by 1 + 0.1 ln(1/freq_scale). cos and sin are multiplied by mscale.
struct RopeAngles {
  int dims = 0;
  float base = 10000.0f;
  float freq_scale = 1.0f;
  const float* freq_factors = nullptr;
  float mscale = 1.0f;
  float yarn_ext = 0.0f, yarn_low = 0.0f, yarn_high = 0.0f;
};

// The dims/2 cosines and sines at position `pos`. One position's angles serve every
// layer that rotates the same way.
void rope_angles(const RopeAngles& r, float pos, float* cos_out, float* sin_out);

// Rotates `n_heads` consecutive heads of `head_dim` floats in place by rope_angles' output.
// adjacent: ggml NORM pairs (2i, 2i+1); otherwise NEOX pairs (i, i + rope_dims/2).
void rope(float* x, int n_heads, int head_dim, int rope_dims, const float* cos, const float* sin, bool adjacent);

void silu_mul(float* gate, const float* up, int n);       // gate = silu(gate) * up (the ISA's vector exp)
void silu_mul_reference(float* gate, const float* up, int n);  // the same with std::exp
void gelu_tanh_mul(float* gate, const float* up, int n);  // gate = gelu_tanh(gate) * up
void soft_cap(float* x, int n, float cap);                // x = cap * tanh(x / cap)
void softmax(float* x, int n);                            // numerically stable, in place
void add(float* y, const float* x, int n);

}  // namespace tandem::kernels
