#include "synth/random_weights.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/iquant_grids.h"
#include "quant/quantize.h"

namespace tandem::synth {

float Rng::normal() {
  const uint64_t r = next();
  const double sum = (double)(r & 0xffff) + (double)((r >> 16) & 0xffff) + (double)((r >> 32) & 0xffff) + (double)(r >> 48);
  // Irwin-Hall with n = 4: mean 4 * 32767.5, standard deviation 65536 * sqrt(4 / 12).
  return (float)((sum - 131070.0) / 37837.23);
}

int Rng::uniform_int(int lo, int hi) { return lo + (int)(next() % (uint64_t)(hi - lo + 1)); }

namespace {

using namespace quant;

void random_bytes(Rng& rng, uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t r = rng.next();
    std::memcpy(p + i, &r, std::min<size_t>(8, n - i));
  }
}

// Root mean square of the integers lo..hi: the typical size of a scale drawn from them.
double rms_of_range(int lo, int hi) {
  double s = 0;
  for (int v = lo; v <= hi; v++) s += (double)v * v;
  return std::sqrt(s / (hi - lo + 1));
}

// Standard deviation of a uniform integer over n consecutive values.
double uniform_std(int n) { return std::sqrt((n * (double)n - 1) / 12.0); }

// Packs the 6-bit scales and mins of Q4_K / Q5_K (the inverse of quant::k_scale_min).
void pack_scale_min(const uint8_t sc[8], const uint8_t m[8], uint8_t out[12]) {
  for (int j = 0; j < 4; j++) {
    out[j] = (uint8_t)((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    out[j + 4] = (uint8_t)((m[j] & 63) | ((m[j + 4] >> 4) << 6));
    out[j + 8] = (uint8_t)((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
  }
}

// w = d * s * q - dmin * m with q uniform over 0..levels-1: m = s * (levels-1)/2 and
// dmin = d centre each group. Scales in [lo, hi] keep m within 6 bits.
template <class Block>
void k_scale_min_block(Rng& rng, float sigma, int levels, int lo, int hi, Block& b) {
  uint8_t sc[8], m[8];
  for (int j = 0; j < 8; j++) {
    sc[j] = (uint8_t)rng.uniform_int(lo, hi);
    m[j] = (uint8_t)std::lround(sc[j] * (levels - 1) / 2.0);
  }
  pack_scale_min(sc, m, b.scales);
  const float d = (float)(sigma / (rms_of_range(lo, hi) * uniform_std(levels)));
  b.d = fp32_to_fp16(d);
  b.dmin = b.d;
}

void make_block(Rng& rng, float sigma, BlockQ4_K& b) {
  random_bytes(rng, b.qs, sizeof b.qs);
  k_scale_min_block(rng, sigma, 16, 2, 8, b);
}

void make_block(Rng& rng, float sigma, BlockQ5_K& b) {
  random_bytes(rng, b.qs, sizeof b.qs);
  random_bytes(rng, b.qh, sizeof b.qh);
  k_scale_min_block(rng, sigma, 32, 1, 4, b);
}

// Q2_K: w = d * (sc & 15) * q - dmin * (sc >> 4), q in 0..3; min nibble = scale and dmin = 1.5 d centre it.
void make_block(Rng& rng, float sigma, BlockQ2_K& b) {
  random_bytes(rng, b.qs, sizeof b.qs);
  for (auto& s : b.scales) {
    const int v = rng.uniform_int(4, 15);
    s = (uint8_t)(v | (v << 4));
  }
  const float d = (float)(sigma / (rms_of_range(4, 15) * uniform_std(4)));
  b.d = fp32_to_fp16(d);
  b.dmin = fp32_to_fp16(1.5f * d);
}

// Q3_K: w = d * (s - 32) * q with q in -4..3; random signs on (s - 32) cancel q's -0.5 mean.
void make_block(Rng& rng, float sigma, BlockQ3_K& b) {
  random_bytes(rng, b.qs, sizeof b.qs);
  random_bytes(rng, b.hmask, sizeof b.hmask);
  std::memset(b.scales, 0, sizeof b.scales);
  for (int i = 0; i < 16; i++) {
    const int magnitude = rng.uniform_int(8, 31);
    const int s = 32 + ((rng.next() & 1) ? magnitude : -magnitude);
    b.scales[i % 8] |= (uint8_t)((s & 15) << (i < 8 ? 0 : 4));
    b.scales[8 + i % 4] |= (uint8_t)((s >> 4) << (2 * (i / 4)));
  }
  b.d = fp32_to_fp16((float)(sigma / (rms_of_range(8, 31) * uniform_std(8))));
}

// Q6_K: w = d * scale * (q - 32), q in 0..63, signed 8-bit scales.
void make_block(Rng& rng, float sigma, BlockQ6_K& b) {
  random_bytes(rng, b.ql, sizeof b.ql);
  random_bytes(rng, b.qh, sizeof b.qh);
  for (auto& s : b.scales) s = (int8_t)(rng.uniform_int(4, 16) * ((rng.next() & 1) ? 1 : -1));
  b.d = fp32_to_fp16((float)(sigma / (rms_of_range(4, 16) * uniform_std(64))));
}

// The spread of kValuesIq4nl's 16 levels, each equally likely (random nibbles).
double iq4_levels_rms() {
  double s = 0;
  for (int8_t v : grids::kValuesIq4nl) s += (double)v * v;
  return std::sqrt(s / 16);
}

// IQ4_NL: w = d * level; a random sign on d cancels the levels' small negative mean.
void make_block(Rng& rng, float sigma, BlockIQ4_NL& b) {
  random_bytes(rng, b.qs, sizeof b.qs);
  b.d = fp32_to_fp16((float)((rng.next() & 1 ? 1 : -1) * sigma / iq4_levels_rms()));
}

// IQ4_XS: w = d * (ls - 32) * level, with |ls - 32| in 8..31 and a random sign per 32-group.
void make_block(Rng& rng, float sigma, BlockIQ4_XS& b) {
  random_bytes(rng, b.qs, sizeof b.qs);
  b.scales_h = 0;
  std::memset(b.scales_l, 0, sizeof b.scales_l);
  for (int g = 0; g < 8; g++) {
    const int magnitude = rng.uniform_int(8, 31);
    const int ls = 32 + ((rng.next() & 1) ? magnitude : -magnitude);
    b.scales_l[g / 2] |= (uint8_t)((ls & 15) << (4 * (g % 2)));
    b.scales_h |= (uint16_t)((ls >> 4) << (2 * g));
  }
  b.d = fp32_to_fp16((float)(sigma / (rms_of_range(8, 31) * iq4_levels_rms())));
}

template <class Block>
void fill_blocks(uint64_t n_blocks, float sigma, Rng& rng, uint8_t* dst) {
  Block b;
  for (uint64_t i = 0; i < n_blocks; i++) {
    make_block(rng, sigma, b);
    std::memcpy(dst + i * sizeof(Block), &b, sizeof(Block));
  }
}

}  // namespace

void fill_random_rows(Type type, uint64_t rows, uint64_t row_len, float mean, float sigma, uint64_t seed, uint8_t* dst) {
  Rng rng(seed);
  const TypeTraits& t = traits(type);
  const uint64_t n_blocks = rows * (row_len / t.block_elems);
  if (t.block_elems == kSuperBlockElems && mean != 0.0f)
    fail("synth: a non-zero mean is not supported for ", t.name);
  switch (type) {
    case Type::Q2_K: return fill_blocks<BlockQ2_K>(n_blocks, sigma, rng, dst);
    case Type::Q3_K: return fill_blocks<BlockQ3_K>(n_blocks, sigma, rng, dst);
    case Type::Q4_K: return fill_blocks<BlockQ4_K>(n_blocks, sigma, rng, dst);
    case Type::Q5_K: return fill_blocks<BlockQ5_K>(n_blocks, sigma, rng, dst);
    case Type::Q6_K: return fill_blocks<BlockQ6_K>(n_blocks, sigma, rng, dst);
    case Type::IQ4_XS: return fill_blocks<BlockIQ4_XS>(n_blocks, sigma, rng, dst);
    case Type::IQ4_NL:
      if (mean != 0.0f) fail("synth: a non-zero mean is not supported for ", t.name);
      return fill_blocks<BlockIQ4_NL>(n_blocks, sigma, rng, dst);
    default: break;
  }
  if (!has_quantizer(type)) fail("synth: cannot generate weights of type ", t.name);
  std::vector<float> row(row_len);
  const size_t bytes_per_row = row_bytes(t, row_len);
  for (uint64_t r = 0; r < rows; r++) {
    for (auto& v : row) v = mean + sigma * rng.normal();
    quantize_row(type, row.data(), dst + r * bytes_per_row, (int64_t)row_len);
  }
}

}  // namespace tandem::synth
