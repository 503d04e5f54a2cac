#include "kernels/ops.h"

#include <algorithm>
#include <cmath>

#include "kernels/dispatch.h"

namespace tandem::kernels {

void rms_norm(const float* x, const float* w, float* y, int n, float eps) {
  double sum = 0;  // double: the mean of squares of large activations loses digits in float
  for (int i = 0; i < n; i++) sum += (double)x[i] * x[i];
  const float scale = (float)(1.0 / std::sqrt(sum / n + eps));
  for (int i = 0; i < n; i++) y[i] = x[i] * scale * (w ? w[i] : 1.0f);
}

void rope_angles(const RopeAngles& r, float pos, float* cos_out, float* sin_out) {
  float mscale = r.mscale;
  if (r.yarn_ext != 0.0f) mscale *= 1.0f + 0.1f * std::log(1.0f / r.freq_scale);
  for (int i = 0; i < r.dims / 2; i++) {
    double extrap = pos * std::pow((double)r.base, -2.0 * i / r.dims);
    if (r.freq_factors) extrap /= r.freq_factors[i];
    double theta = extrap * r.freq_scale;
    if (r.yarn_ext != 0.0f) {
      const double y = (i - r.yarn_low) / std::max(0.001f, r.yarn_high - r.yarn_low);
      const double ramp = (1.0 - std::min(1.0, std::max(0.0, y))) * r.yarn_ext;
      theta = theta * (1.0 - ramp) + extrap * ramp;
    }
    cos_out[i] = (float)std::cos(theta) * mscale;
    sin_out[i] = (float)std::sin(theta) * mscale;
  }
}

void rope(float* x, int n_heads, int head_dim, int rope_dims, const float* cos, const float* sin, bool adjacent) {
  const int half = rope_dims / 2;
  for (int i = 0; i < half; i++) {
    const float c = cos[i], s = sin[i];
    for (int h = 0; h < n_heads; h++) {
      float* v = x + (int64_t)h * head_dim;
      const int a = adjacent ? 2 * i : i;
      const int b = adjacent ? 2 * i + 1 : i + half;
      const float x0 = v[a], x1 = v[b];
      v[a] = x0 * c - x1 * s;
      v[b] = x0 * s + x1 * c;
    }
  }
}

void silu_mul_reference(float* gate, const float* up, int n) {
  for (int i = 0; i < n; i++) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void silu_mul(float* gate, const float* up, int n) {
  const KernelTable* table = kernel_table(active_isa());
  if (table && table->silu_mul) table->silu_mul(gate, up, n);
  else silu_mul_reference(gate, up, n);
}

void gelu_tanh_mul(float* gate, const float* up, int n) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  for (int i = 0; i < n; i++) {
    const float x = gate[i];
    gate[i] = 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + 0.044715f * x * x))) * up[i];
  }
}

void soft_cap(float* x, int n, float cap) {
  for (int i = 0; i < n; i++) x[i] = cap * std::tanh(x[i] / cap);
}

void softmax(float* x, int n) {
  float max = *std::max_element(x, x + n);
  double sum = 0;
  for (int i = 0; i < n; i++) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = (float)(1.0 / sum);
  for (int i = 0; i < n; i++) x[i] *= inv;
}

void add(float* y, const float* x, int n) {
  for (int i = 0; i < n; i++) y[i] += x[i];
}

}  // namespace tandem::kernels
