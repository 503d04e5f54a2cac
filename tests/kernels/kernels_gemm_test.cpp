// The prefill kernels (TypeKernels::gemm, a block of tokens) of every SIMD ISA this
// machine runs (and of the AVX-512 VNNI + BF16 code, emulated; support/simd_tables.h), against the portable int8 reference: token and row counts around each
// kernel's register tile (1, 2, 3, 5, 17 tokens), the minimum row length and block counts
// that leave a partial block group, extreme integer values (the int16 / int32 headroom
// of the dot products), row panels and token chunks, and no write outside the tokens' rows
// of y.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/half.h"
#include "kernels/dispatch.h"
#include "kernels/int8_reference.h"
#include "kernels/kernel_cases.h"
#include "quant/reference.h"
#if defined(__x86_64__)
#include "support/avx512_emulated.h"
#endif

using namespace tandem;
using namespace tandem::kernels;
using namespace tandem::test;
using quant::Type;

namespace {

// Runs every ISA's gemm on one matrix and n_tokens activation rows; checks every result
// against the reference and that the padding between and after y's rows is untouched.
void check_shape(const TypeCase& c, int64_t rows, int64_t k, int64_t n_tokens, Fill fill, Act act_kind, std::mt19937& rng);

// k as given and, for a repacked layout, with GGUF-layout blocks after its groups.
void check(const TypeCase& c, int64_t rows, int64_t k, int64_t n_tokens, Fill fill, Act act_kind, std::mt19937& rng) {
  check_shape(c, rows, k, n_tokens, fill, act_kind, rng);
  if (c.tail) check_shape(c, rows, k + c.tail, n_tokens, fill, act_kind, rng);
}

void check_shape(const TypeCase& c, int64_t rows, int64_t k, int64_t n_tokens, Fill fill, Act act_kind, std::mt19937& rng) {
  const auto w = make_weights(c, rows, k, fill, rng);
  std::vector<std::vector<float>> x;
  const size_t act_bytes = act_row_bytes(c.act, k);
  std::vector<uint8_t> act(act_bytes * n_tokens);
  for (int64_t t = 0; t < n_tokens; t++) {
    x.push_back(make_activations(k, act_kind, rng));
    quantize_act_row(int8_reference_table(), c.act, x.back().data(), k, act.data() + t * act_bytes);
  }
  const size_t row_bytes = quant::row_bytes(quant::traits(c.type), k);
  constexpr int kGuard = 3;
  const size_t y_stride = rows + kGuard;
  for (const SimdTable& simd : simd_tables()) {
    const TypeKernels* kernels = simd.table->find(c.type);
    if (!kernels && optional_in_tables(c.type)) continue;
    ASSERT_NE(kernels, nullptr) << simd.name << " lacks " << quant::type_name(c.type);
    std::vector<float> y(y_stride * n_tokens, NAN);
    std::vector<uint8_t> storage;
    size_t gemm_stride;
    const uint8_t* gemm_act = arranged_activations(*kernels, kernels->gemm, act, act_bytes, k, n_tokens, storage, &gemm_stride);
    kernels->gemm(k, w.data(), row_bytes, rows, gemm_act, gemm_stride, n_tokens, y.data(), y_stride);
    for (int64_t t = 0; t < n_tokens; t++) {
      for (int64_t r = 0; r < rows; r++) {
        const uint8_t* row = &w[r * row_bytes];
        const float want = vec_dot_reference(c.type, row, act.data() + t * act_bytes, k);
        ASSERT_NEAR(y[t * y_stride + r], want, 1e-5 * magnitude(c.type, row, x[t].data(), k) + 1e-6)
            << simd.name << " " << quant::type_name(c.type) << " k=" << k << " rows=" << rows
            << " tokens=" << n_tokens << " row " << r << " token " << t;
      }
      for (int g = 0; g < kGuard; g++)
        ASSERT_TRUE(std::isnan(y[t * y_stride + rows + g])) << "token " << t << " wrote past row " << rows;
    }
  }
}

class GemmTest : public ::testing::TestWithParam<TypeCase> {};

TEST_P(GemmTest, MatchesInt8ReferenceOnTokenAndRowCountsAroundTheTile) {
  if (simd_tables().empty()) GTEST_SKIP() << "no SIMD ISA on this machine";
  const TypeCase& c = GetParam();
  std::mt19937 rng(13 + (int)c.type);
  for (int64_t n_tokens : {1, 2, 3, 5, 17})
    for (int64_t rows : {1, 2, 3, 4, 5, 7, 13}) check(c, rows, c.block, n_tokens, Fill::Random, Act::Normal, rng);
}

TEST_P(GemmTest, MatchesInt8ReferenceOnBlockCountsLeavingPartialGroups) {
  if (simd_tables().empty()) GTEST_SKIP() << "no SIMD ISA on this machine";
  const TypeCase& c = GetParam();
  std::mt19937 rng(29 + (int)c.type);
  // 1-9 blocks: every remainder of pairs and fours, and the 8-block stride of the min terms.
  for (int64_t blocks : {1, 2, 3, 4, 5, 6, 7, 8, 9})
    for (int64_t n_tokens : {3, 5}) check(c, 7, blocks * c.block, n_tokens, Fill::Random, Act::Normal, rng);
}

TEST_P(GemmTest, MatchesInt8ReferenceOnModelSizedRows) {
  if (simd_tables().empty()) GTEST_SKIP() << "no SIMD ISA on this machine";
  const TypeCase& c = GetParam();
  std::mt19937 rng(31 + (int)c.type);
  for (int64_t k : {2048, 5632}) check(c, 5, k, 9, Fill::Random, Act::Normal, rng);
}

// The x86 tiles decode a panel of rows (24 for 3-row tiles, 16 for 2-row ones) and pass it
// over the tokens in chunks that fit L2 (256 KiB of activation rows: 24 or 28 tokens of an
// 8192-wide row): 29 rows and 29 tokens end both in a partial panel and a partial chunk.
TEST_P(GemmTest, MatchesInt8ReferenceAcrossRowPanelsAndTokenChunks) {
  if (simd_tables().empty()) GTEST_SKIP() << "no SIMD ISA on this machine";
  const TypeCase& c = GetParam();
  std::mt19937 rng(37 + (int)c.type);
  check(c, 29, 8192, 29, Fill::Random, Act::Normal, rng);
}

TEST_P(GemmTest, ExtremeWeightsAndSaturatedActivationsDoNotOverflow) {
  if (simd_tables().empty()) GTEST_SKIP() << "no SIMD ISA on this machine";
  const TypeCase& c = GetParam();
  std::mt19937 rng(41 + (int)c.type);
  for (Fill fill : {Fill::AllOnes, Fill::Random})
    for (int64_t rows : {1, 6}) check(c, rows, 5 * c.block, 5, fill, Act::Saturated, rng);
}

std::string type_label(const ::testing::TestParamInfo<TypeCase>& info) {
  return std::string(quant::type_name(info.param.type));
}

INSTANTIATE_TEST_SUITE_P(EveryQuantType, GemmTest, ::testing::ValuesIn(kTypes), type_label);

#if defined(__x86_64__)
// The tests above run the VNNI kernels here through an emulated vpdpbusd, so it must be
// the instruction: four unsigned x signed byte products per int32 lane, added to the lane
// with no int16 saturation on the way (255 * 127 * 2 is past vpmaddubsw's 32767).
TEST(EmulatedAvx512, DpbusdIsTheInstructionsDefinition) {
  if (!isa_supported(Isa::Avx2)) GTEST_SKIP() << "the emulation is built for AVX2";
  std::mt19937 rng(43);
  for (int round = 0; round < 200; round++) {
    int32_t acc[8], got[8];
    uint8_t u[32];
    int8_t s[32];
    for (int i = 0; i < 8; i++) acc[i] = (int32_t)rng() % 1000000;
    for (int i = 0; i < 32; i++) {
      // Round 0: the extremes (255 x 127 and 255 x -128); then random bytes.
      u[i] = round == 0 ? 255 : (uint8_t)rng();
      s[i] = round == 0 ? (i < 16 ? 127 : -128) : (int8_t)rng();
    }
    emulated_dpbusd_lanes(acc, u, s, got);
    for (int lane = 0; lane < 8; lane++) {
      int32_t want = acc[lane];
      for (int j = 0; j < 4; j++) want += u[4 * lane + j] * s[4 * lane + j];
      ASSERT_EQ(got[lane], want) << "round " << round << " lane " << lane;
    }
  }
}

// And vdpbf16ps: per float lane, the odd pair's product added first, then the even one's,
// each sum rounded once. Values whose sums cancel or round show the order.
TEST(EmulatedAvx512, Dpbf16IsTheInstructionsDefinition) {
  if (!isa_supported(Isa::Avx2)) GTEST_SKIP() << "the emulation is built for AVX2";
  std::mt19937 rng(47);
  std::normal_distribution<float> normal(0, 1);
  auto bf16 = [](float f) { return (uint16_t)(std::bit_cast<uint32_t>(f) >> 16); };
  auto as_float = [](uint16_t h) { return std::bit_cast<float>((uint32_t)h << 16); };
  for (int round = 0; round < 200; round++) {
    float acc[8], got[8];
    uint16_t a[16], b[16];
    for (int i = 0; i < 8; i++) acc[i] = round == 0 ? 1.0f : normal(rng) * 100;
    for (int i = 0; i < 16; i++) a[i] = bf16(normal(rng)), b[i] = bf16(normal(rng));
    if (round == 0) {  // 1 + 2^20 - 2^20: 1 when the odd product comes first, 0 the other way
      for (int i = 0; i < 8; i++) a[2 * i + 1] = bf16(1024.0f), b[2 * i + 1] = bf16(1024.0f);
      for (int i = 0; i < 8; i++) a[2 * i] = bf16(-1024.0f), b[2 * i] = bf16(1024.0f);
    }
    emulated_dpbf16_lanes(acc, a, b, got);
    for (int lane = 0; lane < 8; lane++) {
      float want = acc[lane] + as_float(a[2 * lane + 1]) * as_float(b[2 * lane + 1]);
      want += as_float(a[2 * lane]) * as_float(b[2 * lane]);
      ASSERT_EQ(got[lane], want) << "round " << round << " lane " << lane;
    }
  }
}
#endif

}  // namespace
