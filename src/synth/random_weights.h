// Random weights with a chosen spread, encoded in any computable tensor type.
//
// Float and legacy types (F32, F16, BF16, Q4_0 .. Q8_0) are drawn as floats and
// converted with the reference quantizers. K-quant types (Q2_K .. Q6_K) have no
// quantizer in Tandem yet, so their blocks are written directly: random quant bits
// under scales and mins chosen so that each block is valid (finite fp16 d, in-range
// 6-bit scales) and its dequantized values are roughly zero-mean with the requested
// standard deviation. They look like noise, not like quantized Gaussians, which is
// all speed and memory work needs.
#pragma once
#include <cstdint>

#include "quant/types.h"

namespace tandem::synth {

// Fast, seedable, and good enough for weights: splitmix64.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Approximately standard normal (sum of four uniforms, bounded at about +-3.5 sigma).
  float normal();
  int uniform_int(int lo, int hi);  // inclusive

 private:
  uint64_t state_;
};

// Fills `rows` rows of `row_len` elements of `type` at dst (rows * row_bytes bytes)
// with values of standard deviation `sigma` around `mean`. Deterministic in seed.
// Non-zero `mean` is only supported for float types (norm weights).
void fill_random_rows(quant::Type type, uint64_t rows, uint64_t row_len, float mean, float sigma, uint64_t seed,
                      uint8_t* dst);

}  // namespace tandem::synth
