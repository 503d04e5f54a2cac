// Reference quantizers for the K-quant super-blocks (Q2_K .. Q6_K), bit-identical to
// ggml's quantize_row_q*_K_ref: what llama-quantize writes without an importance matrix;
// with one, Q4_K, Q5_K and Q6_K are ggml's quantize_row_q{4,5,6}_K_impl.
//
// Bit-identity depends on doing the same float operations in the same order as ggml's
// C code, so expressions below keep ggml's association ((w * x) * l, not w * (x * l))
// and must not be contracted into fused multiply-adds, whatever -march the build uses.
#pragma GCC optimize("fp-contract=off")

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/quantize.h"

namespace tandem::quant {
namespace {

// Below this a group is all zeros (ggml's GROUP_MAX_EPS).
constexpr float kGroupMaxEps = 1e-15f;

// Round half to even, as ggml's nearest_int (its magic-number trick) does.
int nearest_int(float x) { return int(std::nearbyint(x)); }

// Symmetric levels L in [0, 2*nmax) for x ~ scale * (L - nmax), weighted by x^2: a first
// guess from the extreme value, then up to 5 rounds of moving single levels while that
// raises the weighted correlation (ggml's make_q3_quants with do_rmse). Returns the scale.
float symmetric_levels_refined(int n, int nmax, const float* x, int8_t* levels) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; i++)
    if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
  if (amax < kGroupMaxEps) {
    std::fill(levels, levels + n, int8_t(0));
    return 0.0f;
  }
  const float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; i++) {
    const int l = std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1);
    levels[i] = int8_t(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  for (int round = 0; round < 5; round++) {
    int changed = 0;
    for (int i = 0; i < n; i++) {
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * levels[i];
      if (slx <= 0) continue;
      float sl2 = suml2 - w * levels[i] * levels[i];
      const int l = std::clamp(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
      if (l == levels[i]) continue;
      slx += w * x[i] * l;
      sl2 += w * l * l;
      if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
        levels[i] = int8_t(l);
        sumlx = slx;
        suml2 = sl2;
        changed++;
      }
    }
    if (!changed) break;
  }
  for (int i = 0; i < n; i++) levels[i] = int8_t(levels[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// Symmetric levels weighted by x^2 (or by importance weights), trying 19 scales around
// nmax / max and keeping the one with the best weighted fit (ggml's make_qx_quants, rmse_type 1).
float symmetric_levels_searched(int n, int nmax, const float* x, int8_t* levels, const float* importance = nullptr) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; i++)
    if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
  if (amax < kGroupMaxEps) {
    std::fill(levels, levels + n, int8_t(0));
    return 0.0f;
  }
  auto fit = [&](float iscale, float& sumlx, float& suml2) {
    sumlx = suml2 = 0;
    for (int i = 0; i < n; i++) {
      const int l = std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1);
      const float w = importance ? importance[i] : x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
  };
  auto assign = [&](float iscale) {
    for (int i = 0; i < n; i++) levels[i] = int8_t(nmax + std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1));
  };
  float iscale = -nmax / max;
  float sumlx, suml2;
  fit(iscale, sumlx, suml2);
  assign(iscale);
  float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int step = -9; step <= 9; step++) {
    if (step == 0) continue;
    iscale = -(nmax + 0.1f * step) / max;
    fit(iscale, sumlx, suml2);
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      assign(iscale);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Asymmetric levels L in [0, nmax] for x ~ scale * L - min, min >= 0: starts from the
// min/max grid, then tries nstep+1 stretched grids, each refitted by weighted least
// squares, keeping the lowest weighted error (ggml's make_qkx2_quants).
struct ScaleAndMin {
  float scale;
  float min;  // subtracted: x ~ scale * L - min
};
ScaleAndMin asymmetric_levels(int n, int nmax, const float* x, const float* weights, uint8_t* levels, float rmin,
                              float rdelta, int nstep, bool use_mad) {
  float min = x[0], max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; i++) {
    min = std::min(min, x[i]);
    max = std::max(max, x[i]);
    sum_w += weights[i];
    sum_x += weights[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    std::fill(levels, levels + n, uint8_t(0));
    return {0.0f, -min};
  }
  auto error_of = [&](float diff) { return use_mad ? std::fabs(diff) : diff * diff; };
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; i++) {
    levels[i] = uint8_t(std::clamp(nearest_int(iscale * (x[i] - min)), 0, nmax));
    best_error += weights[i] * error_of(scale * levels[i] + min - x[i]);
  }
  uint8_t trial[32];
  for (int step = 0; step <= nstep; step++) {
    iscale = (rmin + rdelta * step + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; i++) {
      const int l = std::clamp(nearest_int(iscale * (x[i] - min)), 0, nmax);
      trial[i] = uint8_t(l);
      const float w = weights[i];
      sum_l += w * l;
      sum_l2 += w * l * l;
      sum_xl += w * l * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (det <= 0) continue;
    float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (this_min > 0) {
      this_min = 0;
      this_scale = sum_xl / sum_l2;
    }
    float error = 0;
    for (int i = 0; i < n; i++) error += weights[i] * error_of(this_scale * trial[i] + this_min - x[i]);
    if (error < best_error) {
      std::copy(trial, trial + n, levels);
      best_error = error;
      scale = this_scale;
      min = this_min;
    }
  }
  return {scale, -min};
}

// Q2_K and Q3_K store 2 low bits of each level: element e at bit 2*((e%128)/32) of qs[32*(e/128) + e%32].
void pack_two_bit_planes(const uint8_t* levels, uint8_t* qs) {
  for (int base = 0; base < 256; base += 128)
    for (int l = 0; l < 32; l++)
      qs[base / 4 + l] = uint8_t(levels[base + l] | (levels[base + l + 32] << 2) | (levels[base + l + 64] << 4) |
                                 (levels[base + l + 96] << 6));
}

// Q4_K / Q5_K: 8 groups of 32 with asymmetric levels, whose scales and mins are quantized
// to 6 bits against the block maxima.
struct GroupFit {
  uint8_t levels[256];
  float scales[8], mins[8];
};
void fit_groups_of_32(const float* x, int nmax, float rmin, float rdelta, int nstep, GroupFit& fit) {
  float weights[32];
  for (int g = 0; g < 8; g++) {
    const float* xg = x + 32 * g;
    float sum_x2 = 0;
    for (int l = 0; l < 32; l++) sum_x2 += xg[l] * xg[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; l++) weights[l] = av_x + std::fabs(xg[l]);
    const ScaleAndMin sm = asymmetric_levels(32, nmax, xg, weights, fit.levels + 32 * g, rmin, rdelta, nstep, false);
    fit.scales[g] = sm.scale;
    fit.mins[g] = sm.min;
  }
}

// With an importance matrix (ggml's quantize_row_q4_K_impl / q5_K_impl): each value weighs
// its importance times sqrt(sigma^2 + x^2), sigma^2 twice the superblock's mean square, and
// each group's fit searches 37 stretched grids. sum_weights[g]: group g's total weight.
void fit_groups_of_32_weighted(const float* x, const float* importance, int nmax, GroupFit& fit, float* sum_weights) {
  float sum_x2 = 0;
  for (int l = 0; l < 256; l++) sum_x2 += x[l] * x[l];
  const float sigma2 = 2 * sum_x2 / 256;
  float weights[32];
  for (int g = 0; g < 8; g++) {
    const float* xg = x + 32 * g;
    for (int l = 0; l < 32; l++) weights[l] = importance[32 * g + l] * std::sqrt(sigma2 + xg[l] * xg[l]);
    float sumw = 0;
    for (int l = 0; l < 32; l++) sumw += weights[l];
    sum_weights[g] = sumw;
    const ScaleAndMin sm = asymmetric_levels(32, nmax, xg, weights, fit.levels + 32 * g, -0.9f, 0.05f, 36, false);
    fit.scales[g] = sm.scale;
    fit.mins[g] = sm.min;
  }
}

// Non-negative levels L in [0, nmax] for x ~ scale * L under weights w: the max-based grid
// and 8 stretched ones, the best by weighted error, then up to 5 rounds of single-level
// moves while they raise the weighted correlation (ggml's make_qp_quants). Returns the scale.
float positive_levels(int n, int nmax, const float* x, uint8_t* levels, const float* w) {
  float max = 0;
  for (int i = 0; i < n; i++) max = std::max(max, x[i]);
  if (max < kGroupMaxEps) {
    std::fill(levels, levels + n, uint8_t(0));
    return 0.f;
  }
  float iscale = nmax / max;
  for (int i = 0; i < n; i++) levels[i] = uint8_t(nearest_int(iscale * x[i]));
  const float scale = 1 / iscale;
  float best_mse = 0;
  for (int i = 0; i < n; i++) {
    const float diff = x[i] - scale * levels[i];
    best_mse += w[i] * diff * diff;
  }
  for (int step = -4; step <= 4; step++) {
    if (step == 0) continue;
    const float iscale_step = (0.1f * step + nmax) / max;
    const float scale_step = 1 / iscale_step;
    float mse = 0;
    for (int i = 0; i < n; i++) {
      const int l = std::min(nmax, nearest_int(iscale_step * x[i]));
      const float diff = x[i] - scale_step * l;
      mse += w[i] * diff * diff;
    }
    if (mse < best_mse) best_mse = mse, iscale = iscale_step;
  }
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; i++) {
    const int l = std::min(nmax, nearest_int(iscale * x[i]));
    levels[i] = uint8_t(l);
    sumlx += w[i] * x[i] * l;
    suml2 += w[i] * l * l;
  }
  for (int round = 0; round < 5; round++) {
    int changed = 0;
    for (int i = 0; i < n; i++) {
      float slx = sumlx - w[i] * x[i] * levels[i];
      float sl2 = suml2 - w[i] * levels[i] * levels[i];
      if (slx > 0 && sl2 > 0) {
        const int l = std::min(nmax, nearest_int(x[i] * sl2 / slx));
        if (l != levels[i]) {
          slx += w[i] * x[i] * l;
          sl2 += w[i] * l * l;
          if (slx * slx * suml2 > sumlx * sumlx * sl2) {
            levels[i] = uint8_t(l);
            sumlx = slx;
            suml2 = sl2;
            changed++;
          }
        }
      }
    }
    if (!changed) break;
  }
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// Packs 8 six-bit group scales and mins (layout in blocks.h, k_scale_min).
void pack_scales_and_mins(const uint8_t* ls, const uint8_t* lm, uint8_t* scales) {
  std::memset(scales, 0, 12);
  for (int g = 0; g < 8; g++) {
    if (g < 4) {
      scales[g] = ls[g];
      scales[g + 4] = lm[g];
    } else {
      scales[g + 4] = uint8_t((ls[g] & 0xF) | ((lm[g] & 0xF) << 4));
      scales[g - 4] |= uint8_t((ls[g] >> 4) << 6);
      scales[g] |= uint8_t((lm[g] >> 4) << 6);
    }
  }
}

// Requantizes every element against the stored scales and mins.
void requantize(const float* x, int nmax, const uint8_t* scales, uint16_t d_bits, uint16_t dmin_bits, GroupFit& fit) {
  for (int g = 0; g < 8; g++) {
    const ScaleMin sm = k_scale_min(scales, g);
    const float d = fp16_to_fp32(d_bits) * sm.scale;
    if (d == 0) continue;
    const float dm = fp16_to_fp32(dmin_bits) * sm.min;
    for (int i = 32 * g; i < 32 * g + 32; i++)
      fit.levels[i] = uint8_t(std::clamp(nearest_int((x[i] + dm) / d), 0, nmax));
  }
}

// The group scales and mins as 6-bit multiples of d / dmin: against the block maxima without
// an importance matrix (ggml's _ref), fitted by weighted least squares with one (clamped to 63
// for Q5_K only, as ggml does); then every element is requantized.
void store_scales_and_requantize(const float* x, int nmax, GroupFit& fit, uint8_t* scales, uint16_t& d_out,
                                 uint16_t& dmin_out, const float* sum_weights = nullptr) {
  uint8_t ls[8], lm[8];
  if (sum_weights) {
    const float d_block = positive_levels(8, 63, fit.scales, ls, sum_weights);
    const float m_block = positive_levels(8, 63, fit.mins, lm, sum_weights);
    if (nmax == 31)
      for (int g = 0; g < 8; g++) ls[g] = std::min<uint8_t>(63, ls[g]), lm[g] = std::min<uint8_t>(63, lm[g]);
    pack_scales_and_mins(ls, lm, scales);
    d_out = fp32_to_fp16(d_block);
    dmin_out = fp32_to_fp16(m_block);
    requantize(x, nmax, scales, d_out, dmin_out, fit);
    return;
  }
  float max_scale = 0, max_min = 0;  // never negative, as in ggml
  for (int g = 0; g < 8; g++) max_scale = std::max(max_scale, fit.scales[g]), max_min = std::max(max_min, fit.mins[g]);
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  for (int g = 0; g < 8; g++) {
    ls[g] = std::min<uint8_t>(63, uint8_t(nearest_int(inv_scale * fit.scales[g])));
    lm[g] = std::min<uint8_t>(63, uint8_t(nearest_int(inv_min * fit.mins[g])));
  }
  pack_scales_and_mins(ls, lm, scales);
  d_out = fp32_to_fp16(max_scale / 63.f);
  dmin_out = fp32_to_fp16(max_min / 63.f);
  requantize(x, nmax, scales, d_out, dmin_out, fit);
}

void encode(const float* x, BlockQ2_K& block) {
  uint8_t levels[256];
  float weights[16], scales[16], mins[16];
  float max_scale = 0, max_min = 0;
  for (int g = 0; g < 16; g++) {
    for (int l = 0; l < 16; l++) weights[l] = std::fabs(x[16 * g + l]);
    const ScaleAndMin sm = asymmetric_levels(16, 3, x + 16 * g, weights, levels + 16 * g, -0.5f, 0.1f, 15, true);
    scales[g] = sm.scale;
    mins[g] = sm.min;
    max_scale = std::max(max_scale, sm.scale);
    max_min = std::max(max_min, sm.min);
  }
  constexpr float kLevels = 15.f;  // 4-bit group scales and mins
  if (max_scale > 0) {
    const float iscale = kLevels / max_scale;
    for (int g = 0; g < 16; g++) block.scales[g] = uint8_t(nearest_int(iscale * scales[g]));
    block.d = fp32_to_fp16(max_scale / kLevels);
  } else {
    std::memset(block.scales, 0, 16);
    block.d = fp32_to_fp16(0.f);
  }
  if (max_min > 0) {
    const float iscale = kLevels / max_min;
    for (int g = 0; g < 16; g++) block.scales[g] |= uint8_t(nearest_int(iscale * mins[g]) << 4);
    block.dmin = fp32_to_fp16(max_min / kLevels);
  } else {
    block.dmin = fp32_to_fp16(0.f);
  }
  for (int g = 0; g < 16; g++) {
    const float d = fp16_to_fp32(block.d) * (block.scales[g] & 0xF);
    if (d == 0) continue;
    const float dm = fp16_to_fp32(block.dmin) * (block.scales[g] >> 4);
    for (int i = 16 * g; i < 16 * g + 16; i++) levels[i] = uint8_t(std::clamp(nearest_int((x[i] + dm) / d), 0, 3));
  }
  pack_two_bit_planes(levels, block.qs);
}

void encode(const float* x, BlockQ3_K& block) {
  int8_t levels[256];
  float scales[16];
  float max_scale = 0, amax = 0;
  for (int g = 0; g < 16; g++) {
    scales[g] = symmetric_levels_refined(16, 4, x + 16 * g, levels + 16 * g);
    if (std::fabs(scales[g]) > amax) amax = std::fabs(scales[g]), max_scale = scales[g];
  }
  std::memset(block.scales, 0, 12);
  if (max_scale != 0) {
    const float iscale = -32.f / max_scale;
    for (int g = 0; g < 16; g++) {
      const int l = std::clamp(int(int8_t(nearest_int(iscale * scales[g]))), -32, 31) + 32;
      if (g < 8) block.scales[g] = uint8_t(l & 0xF);
      else block.scales[g - 8] |= uint8_t((l & 0xF) << 4);
      block.scales[g % 4 + 8] |= uint8_t((l >> 4) << (2 * (g / 4)));
    }
    block.d = fp32_to_fp16(1 / iscale);
  } else {
    block.d = fp32_to_fp16(0.f);
  }
  for (int g = 0; g < 16; g++) {
    const float d = fp16_to_fp32(block.d) * (q3k_scale(block.scales, g) - 32);
    if (d == 0) continue;
    for (int i = 16 * g; i < 16 * g + 16; i++) levels[i] = int8_t(std::clamp(nearest_int(x[i] / d), -4, 3) + 4);
  }
  // The third bit of element e goes to bit e/32 of hmask[e%32].
  std::memset(block.hmask, 0, 32);
  uint8_t low[256];
  for (int e = 0; e < 256; e++) {
    int l = levels[e];
    if (l > 3) {
      block.hmask[e % 32] |= uint8_t(1 << (e / 32));
      l -= 4;
    }
    low[e] = uint8_t(l);
  }
  pack_two_bit_planes(low, block.qs);
}

// Q2_K and Q3_K take no importance matrix here (ggml's weighted versions are other algorithms).
void encode(const float* x, const float*, BlockQ2_K& block) { encode(x, block); }
void encode(const float* x, const float*, BlockQ3_K& block) { encode(x, block); }

// Q4_K / Q5_K groups, fitted without (ggml's _ref) or with an importance matrix.
void fit_and_store(const float* x, const float* importance, int nmax, float rmin, float rdelta, int nstep,
                   GroupFit& fit, uint8_t* scales, uint16_t& d, uint16_t& dmin) {
  if (!importance) {
    fit_groups_of_32(x, nmax, rmin, rdelta, nstep, fit);
    store_scales_and_requantize(x, nmax, fit, scales, d, dmin);
    return;
  }
  float sum_weights[8];
  fit_groups_of_32_weighted(x, importance, nmax, fit, sum_weights);
  store_scales_and_requantize(x, nmax, fit, scales, d, dmin, sum_weights);
}

void encode(const float* x, const float* importance, BlockQ4_K& block) {
  GroupFit fit;
  fit_and_store(x, importance, 15, -1.f, 0.1f, 20, fit, block.scales, block.d, block.dmin);
  for (int chunk = 0; chunk < 4; chunk++)
    for (int l = 0; l < 32; l++)
      block.qs[32 * chunk + l] = uint8_t(fit.levels[64 * chunk + l] | (fit.levels[64 * chunk + l + 32] << 4));
}

void encode(const float* x, const float* importance, BlockQ5_K& block) {
  GroupFit fit;
  fit_and_store(x, importance, 31, -0.5f, 0.1f, 15, fit, block.scales, block.d, block.dmin);
  std::memset(block.qh, 0, 32);
  for (int chunk = 0; chunk < 4; chunk++) {
    for (int l = 0; l < 32; l++) {
      int low = fit.levels[64 * chunk + l], high = fit.levels[64 * chunk + l + 32];
      if (low > 15) low -= 16, block.qh[l] |= uint8_t(1 << (2 * chunk));
      if (high > 15) high -= 16, block.qh[l] |= uint8_t(2 << (2 * chunk));
      block.qs[32 * chunk + l] = uint8_t(low | (high << 4));
    }
  }
}

void encode(const float* x, const float* importance, BlockQ6_K& block) {
  int8_t levels[256];
  float scales[16];
  float max_scale = 0, max_abs_scale = 0;
  for (int g = 0; g < 16; g++) {
    scales[g] = symmetric_levels_searched(16, 32, x + 16 * g, levels + 16 * g, importance ? importance + 16 * g : nullptr);
    if (std::fabs(scales[g]) > max_abs_scale) max_abs_scale = std::fabs(scales[g]), max_scale = scales[g];
  }
  if (max_abs_scale < kGroupMaxEps) {
    std::memset(&block, 0, sizeof block);
    return;
  }
  const float iscale = -128.f / max_scale;
  block.d = fp32_to_fp16(1 / iscale);
  for (int g = 0; g < 16; g++) block.scales[g] = int8_t(std::min(127, nearest_int(iscale * scales[g])));
  for (int g = 0; g < 16; g++) {
    const float d = fp16_to_fp32(block.d) * block.scales[g];
    if (d == 0) continue;
    for (int i = 16 * g; i < 16 * g + 16; i++) levels[i] = int8_t(std::clamp(nearest_int(x[i] / d), -32, 31) + 32);
  }
  for (int half = 0; half < 2; half++) {
    const int8_t* l = levels + 128 * half;
    uint8_t* ql = block.ql + 64 * half;
    uint8_t* qh = block.qh + 32 * half;
    for (int i = 0; i < 32; i++) {
      ql[i] = uint8_t((l[i] & 0xF) | ((l[i + 64] & 0xF) << 4));
      ql[i + 32] = uint8_t((l[i + 32] & 0xF) | ((l[i + 96] & 0xF) << 4));
      qh[i] = uint8_t((l[i] >> 4) | ((l[i + 32] >> 4) << 2) | ((l[i + 64] >> 4) << 4) | ((l[i + 96] >> 4) << 6));
    }
  }
}

template <class Block>
void encode_blocks(const float* src, const float* importance, uint8_t* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; i++) {
    Block block;
    encode(src + i * Block::kElems, importance ? importance + i * Block::kElems : nullptr, block);
    std::memcpy(dst + i * sizeof(Block), &block, sizeof(Block));
  }
}

struct KEncoder {
  Type type;
  void (*encode)(const float* src, const float* importance, uint8_t* dst, int64_t n_blocks);
};

constexpr KEncoder kKEncoders[] = {
    {Type::Q2_K, &encode_blocks<BlockQ2_K>}, {Type::Q3_K, &encode_blocks<BlockQ3_K>},
    {Type::Q4_K, &encode_blocks<BlockQ4_K>}, {Type::Q5_K, &encode_blocks<BlockQ5_K>},
    {Type::Q6_K, &encode_blocks<BlockQ6_K>},
};

const KEncoder* find_k_encoder(Type type) {
  for (const KEncoder& e : kKEncoders)
    if (e.type == type) return &e;
  return nullptr;
}

}  // namespace

bool has_kquant_quantizer(Type type) { return find_k_encoder(type) != nullptr; }

void quantize_row_kquant(Type type, const float* src, void* dst, int64_t n, const float* importance) {
  const KEncoder* encoder = find_k_encoder(type);
  if (!encoder) fail("quantize_row_kquant: ", type_name(type), " is not a K-quant type (Q2_K .. Q6_K)");
  if (n < 0 || n % kSuperBlockElems != 0)
    fail("quantize_row_kquant: row length ", n, " is not a multiple of the ", type_name(type), " block size ",
         kSuperBlockElems);
  encoder->encode(src, importance, static_cast<uint8_t*>(dst), n / kSuperBlockElems);
}

bool can_quantize_to(Type type) { return has_quantizer(type) || has_kquant_quantizer(type) || has_iquant_quantizer(type); }

bool uses_importance(Type type) {
  return has_iquant_quantizer(type) || type == Type::Q4_K || type == Type::Q5_K || type == Type::Q6_K;
}

void quantize_row_to(Type type, const float* src, void* dst, int64_t n, const float* importance) {
  if (!uses_importance(type)) importance = nullptr;
  if (has_iquant_quantizer(type)) quantize_row_iquant(type, src, dst, n, importance);
  else if (has_kquant_quantizer(type)) quantize_row_kquant(type, src, dst, n, importance);
  else quantize_row(type, src, dst, n);
}

}  // namespace tandem::quant
