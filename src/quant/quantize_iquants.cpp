// IQ4_NL and IQ4_XS quantizers, bit-identical to ggml's quantize_iq4_nl / quantize_iq4_xs:
// what llama-quantize calls for these types, with or without an importance matrix. (ggml's
// quantize_row_iq4_*_ref differ: they skip the scale search. llama-quantize never calls them.)
//
// Each 32-group picks the scale that best fits the non-linear levels (kValuesIq4nl): a first
// guess from the extreme value, refitted by weighted least squares, then 15 more guesses
// around it, keeping the best weighted fit. IQ4_XS then rounds the 8 group scales to 6-bit
// multiples of one fp16 scale per superblock and re-picks each level against its rounded
// scale. Weights: x^2 without an importance matrix; with one, its column weight times
// sqrt(sigma^2 + x^2).
//
// Bit-identity needs ggml's float operations in ggml's order, so no contraction into FMAs.
#pragma GCC optimize("fp-contract=off")

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/iquant_grids.h"
#include "quant/quantize.h"

namespace tandem::quant {
namespace {

constexpr float kGroupMaxEps = 1e-15f;  // ggml's GROUP_MAX_EPS: below it a group is all zeros
constexpr int kTries = 7;               // ggml's ntry for both types
const int8_t* const kLevels = grids::kValuesIq4nl;

// Round half to even, as ggml's nearest_int (its magic-number trick) does.
int nearest_int(float x) { return int(std::nearbyint(x)); }

// The index of the level nearest x (ties to the lower), ggml's best_index_int8 over 16 sorted values.
int best_index(float x) {
  if (x <= kLevels[0]) return 0;
  if (x >= kLevels[15]) return 15;
  int lo = 0, hi = 15;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (x < kLevels[mid]) hi = mid;
    else lo = mid;
  }
  return x - kLevels[hi - 1] < kLevels[hi] - x ? hi - 1 : hi;
}

struct Fit {
  float sumqx = 0, sumq2 = 0;
};

// The weighted fit of the 32 values xb to the levels chosen with inverse scale id.
Fit fit(const float* xb, const float* weight, float id, uint8_t* levels) {
  Fit f;
  for (int j = 0; j < 32; j++) {
    const int l = best_index(id * xb[j]);
    if (levels) levels[j] = uint8_t(l);
    const float q = kLevels[l];
    const float w = weight[j];
    f.sumqx += w * q * xb[j];
    f.sumq2 += w * q * q;
  }
  return f;
}

// The best scale for one 32-group (ggml's per-block search in quantize_row_iq4_nl_impl);
// 0 for an all-zero group. Fills levels with the first guess's choices.
float group_scale(const float* xb, const float* weight, uint8_t* levels) {
  float amax = 0, max = 0;
  for (int j = 0; j < 32; j++) {
    const float ax = std::fabs(xb[j]);
    if (ax > amax) amax = ax, max = xb[j];
  }
  if (amax < kGroupMaxEps) return 0;
  float d = -max / kLevels[0];
  Fit f = fit(xb, weight, 1 / d, levels);
  d = f.sumq2 > 0 ? f.sumqx / f.sumq2 : 0.f;
  float best = d * f.sumqx;
  for (int itry = -kTries; itry <= kTries; itry++) {
    const float id = (itry + kLevels[0]) / max;
    f = fit(xb, weight, id, nullptr);
    if (f.sumq2 > 0 && f.sumqx * f.sumqx > best * f.sumq2) {
      d = f.sumqx / f.sumq2;
      best = d * f.sumqx;
    }
  }
  return d;
}

// The weights of the 32 values xb: importance * sqrt(sigma2 + x^2), or x^2 without importance.
void group_weights(const float* xb, const float* importance, float sigma2, float* weight) {
  for (int j = 0; j < 32; j++) weight[j] = importance ? importance[j] * std::sqrt(sigma2 + xb[j] * xb[j]) : xb[j] * xb[j];
}

float mean_square_times_two(const float* x, int n) {
  float sigma2 = 0;
  for (int j = 0; j < n; j++) sigma2 += x[j] * x[j];
  return sigma2 * (2.f / n);
}

void pack_levels(const uint8_t* levels, uint8_t* qs, int n) {
  for (int i = 0; i < n / 32; i++)
    for (int j = 0; j < 16; j++) qs[16 * i + j] = uint8_t(levels[32 * i + j] | (levels[32 * i + 16 + j] << 4));
}

void encode_iq4_nl(const float* x, const float* importance, BlockIQ4_NL& block) {
  float weight[32];
  uint8_t levels[32] = {};
  group_weights(x, importance, mean_square_times_two(x, 32), weight);
  const float d = group_scale(x, weight, levels);
  block.d = fp32_to_fp16(d);
  const float id = d ? 1 / d : 0;
  for (int j = 0; j < 32; j++) levels[j] = uint8_t(best_index(id * x[j]));
  pack_levels(levels, block.qs, 32);
}

void encode_iq4_xs(const float* x, const float* importance, BlockIQ4_XS& block) {
  const float sigma2 = mean_square_times_two(x, 256);
  float scales[8], weight[32];
  uint8_t levels[256] = {};
  float max_scale = 0, amax_scale = 0;
  for (int g = 0; g < 8; g++) {
    group_weights(x + 32 * g, importance ? importance + 32 * g : nullptr, sigma2, weight);
    scales[g] = group_scale(x + 32 * g, weight, levels + 32 * g);
    if (std::fabs(scales[g]) > amax_scale) amax_scale = std::fabs(scales[g]), max_scale = scales[g];
  }
  const float d = -max_scale / 32;
  block.d = fp32_to_fp16(d);
  block.scales_h = 0;
  const float id = d ? 1 / d : 0.f;
  for (int g = 0; g < 8; g++) {
    int l = nearest_int(id * scales[g]);
    l = std::max(-32, std::min(31, l));
    const float dl = d * l;
    const float idl = dl ? 1 / dl : 0.f;
    for (int j = 0; j < 32; j++) levels[32 * g + j] = uint8_t(best_index(idl * x[32 * g + j]));
    l += 32;
    if (g % 2 == 0) block.scales_l[g / 2] = uint8_t(l & 0xf);
    else block.scales_l[g / 2] |= uint8_t((l & 0xf) << 4);
    block.scales_h |= uint16_t((l >> 4) << (2 * g));
  }
  pack_levels(levels, block.qs, 256);
}

template <class Block, void (*kEncode)(const float*, const float*, Block&)>
void encode_row(const float* src, const float* importance, uint8_t* dst, int64_t n) {
  for (int64_t i = 0; i < n / Block::kElems; i++) {
    Block block;
    kEncode(src + i * Block::kElems, importance ? importance + i * Block::kElems : nullptr, block);
    std::memcpy(dst + i * sizeof(Block), &block, sizeof(Block));
  }
}

}  // namespace

bool has_iquant_quantizer(Type type) { return type == Type::IQ4_NL || type == Type::IQ4_XS; }

void quantize_row_iquant(Type type, const float* src, void* dst, int64_t n, const float* importance) {
  if (!has_iquant_quantizer(type)) fail("quantize_row_iquant: no quantizer for ", type_name(type), " (IQ4_NL, IQ4_XS)");
  const int64_t block = traits(type).block_elems;
  if (n < 0 || n % block != 0)
    fail("quantize_row_iquant: row length ", n, " is not a multiple of the ", type_name(type), " block size ", block);
  auto* out = static_cast<uint8_t*>(dst);
  if (type == Type::IQ4_NL) encode_row<BlockIQ4_NL, encode_iq4_nl>(src, importance, out, n);
  else encode_row<BlockIQ4_XS, encode_iq4_xs>(src, importance, out, n);
}

}  // namespace tandem::quant
