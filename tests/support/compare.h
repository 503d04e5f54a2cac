// Error measures for comparing our numbers with a reference. A NaN or an infinity on
// our side is an infinite error: std::max(worst, NaN) keeps `worst`, so a plain running
// maximum would let non-finite logits pass any tolerance.
#pragma once
#include <cmath>
#include <cstddef>
#include <limits>

namespace tandem::test {

inline float abs_error(float ours, float reference) {
  const float d = std::fabs(ours - reference);
  return std::isfinite(d) ? d : std::numeric_limits<float>::infinity();
}

// max_i |ours[i] - reference[i]| over n values, infinite when any is not finite.
inline float max_abs_error(const float* ours, const float* reference, size_t n) {
  float worst = 0;
  for (size_t i = 0; i < n; i++) worst = std::fmax(worst, abs_error(ours[i], reference[i]));
  return worst;
}

}  // namespace tandem::test
