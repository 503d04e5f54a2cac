// Element-wise and row-wise operations of the forward pass, on float rows.
#pragma once
#include <cstdint>

namespace tandem::kernels {

// y = x / sqrt(mean(x^2) + eps) * w   (w may be null: no weight)
void rms_norm(const float* x, const float* w, float* y, int n, float eps);

// The cosines and sines of the rotary angles at position `pos`, rope_dims/2 of each:
// pair i turns by pos * base^(-2i/rope_dims), divided by freq_factors[i] when given
// (rope_dims/2 entries, may be null: llama3). One position's angles serve every layer.
void rope_angles(float pos, int rope_dims, float base, const float* freq_factors, float* cos_out, float* sin_out);

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
