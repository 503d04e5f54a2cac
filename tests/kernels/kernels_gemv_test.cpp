// The decode kernels (TypeKernels::gemv, one token) of every SIMD ISA this machine runs,
// against the portable int8 reference: random blocks, row counts around each kernel's
// row tile, the minimum row length and odd block counts, extreme integer values (the
// int16 / int32 headroom of the dot products) and no write past the last row.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/half.h"
#include "kernels/dispatch.h"
#include "kernels/int8_reference.h"
#include "kernels/kernel_cases.h"
#include "quant/reference.h"

using namespace tandem;
using namespace tandem::kernels;
using namespace tandem::test;
using quant::Type;

namespace {

// Runs every ISA's gemv on one matrix and checks each row against the reference.
void check_shape(const TypeCase& c, int64_t rows, int64_t k, Fill fill, Act act_kind, std::mt19937& rng);

// k as given and, for a repacked layout, with GGUF-layout blocks after its groups.
void check(const TypeCase& c, int64_t rows, int64_t k, Fill fill, Act act_kind, std::mt19937& rng) {
  check_shape(c, rows, k, fill, act_kind, rng);
  if (c.tail) check_shape(c, rows, k + c.tail, fill, act_kind, rng);
}

void check_shape(const TypeCase& c, int64_t rows, int64_t k, Fill fill, Act act_kind, std::mt19937& rng) {
  const auto w = make_weights(c, rows, k, fill, rng);
  const auto x = make_activations(k, act_kind, rng);
  const size_t row_bytes = quant::row_bytes(quant::traits(c.type), k);
  std::vector<uint8_t> act(act_row_bytes(c.act, k));
  quantize_act_row(int8_reference_table(), c.act, x.data(), k, act.data());
  for (const SimdTable& simd : simd_tables()) {
    const TypeKernels* kernels = simd.table->find(c.type);
    if (!kernels && optional_in_tables(c.type)) continue;
    ASSERT_NE(kernels, nullptr) << simd.name << " lacks " << quant::type_name(c.type);
    std::vector<uint8_t> storage;
    size_t gemv_stride;
    const uint8_t* gemv_act = arranged_activations(*kernels, kernels->gemv, act, act.size(), k, 1, storage, &gemv_stride);
    constexpr int kGuard = 8;
    std::vector<float> y(rows + kGuard, NAN);
    kernels->gemv(k, w.data(), row_bytes, rows, gemv_act, gemv_stride, 1, y.data(), rows);
    for (int64_t r = 0; r < rows; r++) {
      const uint8_t* row = &w[r * row_bytes];
      const float want = vec_dot_reference(c.type, row, act.data(), k);
      ASSERT_NEAR(y[r], want, 1e-5 * magnitude(c.type, row, x.data(), k) + 1e-6)
          << simd.name << " " << quant::type_name(c.type) << " k=" << k << " rows=" << rows << " row " << r;
    }
    for (int g = 0; g < kGuard; g++) ASSERT_TRUE(std::isnan(y[rows + g])) << "wrote past row " << rows;
  }
}

class GemvTest : public ::testing::TestWithParam<TypeCase> {};

TEST_P(GemvTest, MatchesInt8ReferenceOnRowCountsAroundTheTileAndOddBlockCounts) {
  if (simd_tables().empty()) GTEST_SKIP() << "no SIMD ISA on this machine";
  const TypeCase& c = GetParam();
  std::mt19937 rng(11 + (int)c.type);
  // 1, 2, 3, 5 and 7 blocks: the minimum, pairs and an odd block left over.
  for (int64_t blocks : {1, 2, 3, 5, 7})
    for (int64_t rows : {1, 2, 3, 4, 5, 6, 7, 9, 13}) check(c, rows, blocks * c.block, Fill::Random, Act::Normal, rng);
}

TEST_P(GemvTest, MatchesInt8ReferenceOnModelSizedRows) {
  if (simd_tables().empty()) GTEST_SKIP() << "no SIMD ISA on this machine";
  const TypeCase& c = GetParam();
  std::mt19937 rng(23 + (int)c.type);
  for (int64_t k : {2048, 5632}) check(c, 11, k, Fill::Random, Act::Normal, rng);
}

TEST_P(GemvTest, ExtremeWeightsAndSaturatedActivationsDoNotOverflow) {
  if (simd_tables().empty()) GTEST_SKIP() << "no SIMD ISA on this machine";
  const TypeCase& c = GetParam();
  std::mt19937 rng(37 + (int)c.type);
  for (Fill fill : {Fill::AllOnes, Fill::Random})
    for (int64_t rows : {1, 6}) check(c, rows, 3 * c.block, fill, Act::Saturated, rng);
}

std::string type_label(const ::testing::TestParamInfo<TypeCase>& info) {
  return std::string(quant::type_name(info.param.type));
}

INSTANTIATE_TEST_SUITE_P(EveryQuantType, GemvTest, ::testing::ValuesIn(kTypes), type_label);

}  // namespace
