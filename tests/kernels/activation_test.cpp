// The gated activations of every ISA this machine runs against the portable loop
// (std::exp): the vector exp is Cephes' polynomial, within 2 ulp of expf, so silu agrees
// to a few ulp; the inputs reach both ends of exp's range, where the clamps act.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/ops.h"
#include "support/simd_tables.h"

namespace tandem::kernels {
namespace {

std::vector<float> inputs(int n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 4.0f);
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng);
  const float extremes[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 87.0f, -87.0f, 88.5f, -88.5f, 100.0f, -100.0f,
                            1e6f, -1e6f, 3.4e38f, -3.4e38f};
  for (size_t i = 0; i < std::size(extremes) && i < x.size(); i++) x[i * 3 % x.size()] = extremes[i];
  return x;
}

TEST(Activation, SiluMulMatchesTheReferenceOnEveryIsa) {
  int checked = 0;
  for (Isa isa : test::simd_isas()) {
    const KernelTable* table = kernel_table(isa);
    ASSERT_NE(table, nullptr);
    ASSERT_NE(table->silu_mul, nullptr) << isa_name(isa);
    std::mt19937 rng(11);
    for (int n : {1, 7, 8, 9, 31, 64, 1000}) {  // vector bodies and scalar tails
      const std::vector<float> gate = inputs(n, rng), up = inputs(n, rng);
      std::vector<float> want = gate, got = gate;
      silu_mul_reference(want.data(), up.data(), n);
      table->silu_mul(got.data(), up.data(), n);
      for (int i = 0; i < n; i++) {
        if (got[i] == want[i]) continue;  // includes the same infinity (3.4e38 * 3.4e38)
        // 8 ulp: 2 from exp, 1 each from the add, divide and multiply, and the reference's own.
        // Below x = -88.37 the vector exp is clamped where e^-x leaves float's range; silu is
        // then under 1e-36 * |up| either way, hence the absolute term.
        const float tolerance = 8 * std::numeric_limits<float>::epsilon() * std::fabs(want[i]) + 1e-30f * std::fabs(up[i]);
        ASSERT_NEAR(got[i], want[i], tolerance) << isa_name(isa) << " n=" << n << " i=" << i << " x=" << gate[i]
                                                << " up=" << up[i];
      }
    }
    checked++;
  }
  if (checked == 0) GTEST_SKIP() << "no SIMD ISA on this machine";
}

TEST(Activation, SiluMulDispatchesToTheActiveIsa) {
  // What the forward pass calls: the active table's kernel, or the reference under Ref.
  const std::vector<float> up(16, 2.0f);
  std::vector<float> gate(16, 1.0f);
  silu_mul(gate.data(), up.data(), 16);
  for (float v : gate) EXPECT_NEAR(v, 2.0f / (1.0f + std::exp(-1.0f)), 1e-6f);
}

}  // namespace
}  // namespace tandem::kernels
