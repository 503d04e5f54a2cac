// The SIMD matmul kernels of every ISA this machine runs, against the portable int8
// reference (same integer sums: agreement to float rounding), and the int8 reference
// against the float reference (within the activation-quantization error).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "gguf/file.h"
#include "kernels/dispatch.h"
#include "kernels/int8_reference.h"
#include "kernels/kernel_cases.h"
#include "kernels/matmul.h"
#include "quant/reference.h"
#include "quant/repack.h"

using namespace tandem;
using namespace tandem::kernels;
using quant::Type;
using tandem::test::magnitude;  // sum_i |w_i| |x_i|: the scale float rounding errors are relative to

namespace {

// Byte offsets of the fp16 scale fields of each block type (random bytes elsewhere are valid).
struct HalfFields {
  Type type;
  std::vector<int> offsets;
};
const std::vector<HalfFields> kHalfFields = {
    {Type::Q4_0, {0}}, {Type::Q4_1, {0, 2}}, {Type::Q5_0, {0}},    {Type::Q5_1, {0, 2}},
    {Type::Q8_0, {0}}, {Type::Q4_K, {0, 2}}, {Type::Q5_K, {0, 2}}, {Type::Q6_K, {208}},
    {Type::IQ4_NL, {0}}, {Type::IQ4_XS, {0}}, {Type::IQ3_S, {0}},  {Type::IQ2_S, {0}},
};

std::vector<uint8_t> random_weights(Type type, int64_t rows, int64_t k, std::mt19937& rng) {
  const auto& traits = quant::traits(type);
  const size_t row_bytes = quant::row_bytes(traits, k);
  std::vector<uint8_t> data(rows * row_bytes);
  std::uniform_int_distribution<int> byte(0, 255);
  std::normal_distribution<float> normal(0, 1);
  std::uniform_real_distribution<float> scale(0.001f, 0.02f);
  if (type == Type::F32 || type == Type::F16 || type == Type::BF16) {
    for (int64_t i = 0; i < rows * k; i++) {
      const float f = normal(rng);
      if (type == Type::F32) std::memcpy(&data[4 * i], &f, 4);
      const uint16_t h = type == Type::F16 ? fp32_to_fp16(f) : fp32_to_bf16(f);
      if (type != Type::F32) std::memcpy(&data[2 * i], &h, 2);
    }
    return data;
  }
  for (auto& b : data) b = (uint8_t)byte(rng);
  for (const auto& fields : kHalfFields) {
    if (fields.type != type) continue;
    for (size_t block = 0; block < data.size() / traits.block_bytes; block++)
      for (int offset : fields.offsets) {
        const uint16_t h = fp32_to_fp16(scale(rng));
        std::memcpy(&data[block * traits.block_bytes + offset], &h, 2);
      }
  }
  return data;
}

std::vector<float> random_activations(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> x(n);
  for (auto& v : x) v = normal(rng);
  for (int64_t i = 0; i < std::min<int64_t>(n, 32); i++) x[i] = 0;  // an all-zero first block
  if (n > 40) x[40] = 25;                                            // an outlier
  return x;
}

struct TypeCase {
  Type type;
  ActFormat act;
};
const TypeCase kTypes[] = {
    {Type::Q4_0, ActFormat::Q8_0}, {Type::Q8_0, ActFormat::Q8_0}, {Type::Q4_K, ActFormat::Q8_K},
    {Type::Q6_K, ActFormat::Q8_K}, {Type::Q5_K, ActFormat::Q8_K}, {Type::Q4_1, ActFormat::Q8_0},
    {Type::Q5_0, ActFormat::Q8_0}, {Type::Q5_1, ActFormat::Q8_0}, {Type::F16, ActFormat::F32},
    {Type::F32, ActFormat::F32},   {Type::BF16, ActFormat::F32},
    {Type::IQ4_NL, ActFormat::Q8_0}, {Type::IQ4_XS, ActFormat::Q8_K}, {Type::IQ3_S, ActFormat::Q8_K},
    {Type::IQ2_S, ActFormat::Q8_K},
};

int64_t block_of(ActFormat act) { return act == ActFormat::Q8_K ? 256 : act == ActFormat::Q8_0 ? 32 : 1; }

using tandem::test::simd_isas;

// Quantized activation rows as the reference produces them.
std::vector<uint8_t> quantize_rows(const KernelTable& table, ActFormat act, const std::vector<float>& x, int64_t k,
                                   int64_t n) {
  const size_t stride = act_row_bytes(act, k);
  std::vector<uint8_t> out(stride * n);
  for (int64_t t = 0; t < n; t++) quantize_act_row(table, act, x.data() + t * k, k, out.data() + t * stride);
  return out;
}


TEST(KernelsDispatch, ActiveIsaIsSupportedAndRefAlwaysIs) {
  EXPECT_TRUE(isa_supported(Isa::Ref));
  EXPECT_TRUE(isa_supported(active_isa()));
  EXPECT_EQ(kernel_table(Isa::Ref), nullptr);
  EXPECT_THROW(set_isa((Isa)99), Error);
}

// bf16 rows (the AVX512-BF16 table's format for BF16 weights): nearest-even rounding, as
// llama.cpp's fp32 -> bf16, and zeros after k so kernels can read whole vectors.
TEST(KernelsQuantize, Bf16RowsRoundToNearestEvenAndEndInZeros) {
  const float x[] = {1.0f, std::bit_cast<float>(0x3f808000u), std::bit_cast<float>(0x3f818000u),
                     std::bit_cast<float>(0x3f808001u), -2.5f};
  const uint16_t want[] = {0x3f80, 0x3f80, 0x3f82, 0x3f81, 0xc020};  // ties to even; above the tie up
  const int64_t k = std::size(x);
  ASSERT_EQ(act_row_bytes(ActFormat::BF16, k), 64u);
  std::vector<uint8_t> row(64, 0xaa);
  quantize_act_row(int8_reference_table(), ActFormat::BF16, x, k, row.data());
  for (int64_t i = 0; i < 32; i++) {
    uint16_t got;
    std::memcpy(&got, &row[2 * i], 2);
    EXPECT_EQ(got, i < k ? want[i] : 0) << "element " << i;
  }
}

TEST(KernelsQuantize, EveryIsaQuantizesActivationsToTheReferenceBytes) {
  std::mt19937 rng(1);
  for (const tandem::test::SimdTable& simd : tandem::test::simd_tables()) {
    for (ActFormat act : {ActFormat::Q8_0, ActFormat::Q8_K}) {
      const int64_t k = 256 * 3;
      const auto x = random_activations(k * 2, rng);
      const auto ours = quantize_rows(*simd.table, act, x, k, 2);
      const auto ref = quantize_rows(int8_reference_table(), act, x, k, 2);
      // Compare the meaningful bytes (the row padding is not written).
      const size_t used = act == ActFormat::Q8_0 ? k + 8 * (k / 32) : k + 4 * (k / 256) + 2 * (k / 16);
      for (int t = 0; t < 2; t++) {
        const size_t base = t * act_row_bytes(act, k);
        EXPECT_EQ(0, std::memcmp(&ours[base], &ref[base], used)) << simd.name << " format " << (int)act;
      }
    }
  }
}

TEST(KernelsReference, Int8DotIsWithinActivationQuantizationErrorOfFloatDot) {
  std::mt19937 rng(2);
  for (const TypeCase& c : kTypes) {
    const int64_t k = block_of(c.act) == 256 ? 256 * 3 : 32 * 13;
    const int64_t rows = 5;
    const auto w = random_weights(c.type, rows, k, rng);
    const auto x = random_activations(k, rng);
    const auto act = quantize_rows(int8_reference_table(), c.act, x, k, 1);
    const size_t row_bytes = quant::row_bytes(quant::traits(c.type), k);
    const int64_t block = block_of(c.act);
    for (int64_t r = 0; r < rows; r++) {
      const uint8_t* row = w.data() + r * row_bytes;
      const float exact = quant::dot_row(c.type, row, x.data(), k);
      const float ours = vec_dot_reference(c.type, row, act.data(), k);
      // |x - x_q| <= d / 2 = amax / 254 per activation block, so the dot moves by at most
      // sum_blocks amax / 254 * sum |w| over the block; plus float rounding.
      std::vector<float> wf(k);
      quant::dequantize_row(c.type, row, wf.data(), k);
      double bound = 0;
      if (block > 1) {
        for (int64_t b0 = 0; b0 < k; b0 += block) {
          float amax = 0, wsum = 0;
          for (int64_t i = b0; i < b0 + block; i++) amax = std::max(amax, std::fabs(x[i])), wsum += std::fabs(wf[i]);
          bound += amax / 254 * wsum;
        }
      }
      bound += 1e-5 * magnitude(c.type, row, x.data(), k) + 1e-6;
      EXPECT_LE(std::fabs(ours - exact), bound) << quant::type_name(c.type) << " row " << r;
    }
  }
}

TEST(KernelsSimd, EveryIsaGemmMatchesInt8ReferenceOnOddShapes) {
  std::mt19937 rng(3);
  const auto tables = tandem::test::simd_tables();
  if (tables.empty()) GTEST_SKIP() << "no SIMD ISA on this machine";
  for (const TypeCase& c : kTypes) {
    const int64_t block = block_of(c.act);
    const std::vector<int64_t> ks = block == 256 ? std::vector<int64_t>{256, 768, 1280}
                                    : block == 32 ? std::vector<int64_t>{32, 96, 416, 2080}
                                                  : std::vector<int64_t>{37, 416};
    for (int64_t k : ks) {
      for (int64_t rows : {1, 5, 19}) {
        const auto w = random_weights(c.type, rows, k, rng);
        const size_t row_bytes = quant::row_bytes(quant::traits(c.type), k);
        for (int64_t n : {1, 3, 7}) {
          const auto x = random_activations(k * n, rng);
          std::vector<float> mag(rows * n);
          for (int64_t t = 0; t < n; t++)
            for (int64_t r = 0; r < rows; r++) mag[t * rows + r] = magnitude(c.type, &w[r * row_bytes], &x[t * k], k);
          for (const tandem::test::SimdTable& simd : tables) {
            const TypeKernels* kernels = simd.table->find(c.type);
            ASSERT_NE(kernels, nullptr) << simd.name << " lacks " << quant::type_name(c.type);
            // The type's format, or a table's own: bf16 rows for BF16 weights (AVX512-BF16).
            const ActFormat format = kernels->act;
            ASSERT_TRUE(format == c.act || (c.type == Type::BF16 && format == ActFormat::BF16)) << simd.name;
            const auto act = quantize_rows(int8_reference_table(), format, x, k, n);
            const size_t stride = act_row_bytes(format, k);
            std::vector<float> want(rows * n);
            for (int64_t t = 0; t < n; t++)
              for (int64_t r = 0; r < rows; r++)
                want[t * rows + r] = vec_dot_reference(c.type, format, &w[r * row_bytes], &act[t * stride], k);
            for (GemmFn fn : {kernels->gemm, kernels->gemv}) {
              if (fn == kernels->gemv && n != 1) continue;
              std::vector<float> got(rows * n, NAN);
              std::vector<uint8_t> storage;
              size_t fn_stride;
              const uint8_t* fn_act = tandem::test::arranged_activations(*kernels, fn, act, stride, k, n, storage, &fn_stride);
              fn(k, w.data(), row_bytes, rows, fn_act, fn_stride, n, got.data(), rows);
              for (int64_t i = 0; i < rows * n; i++)
                ASSERT_NEAR(got[i], want[i], 1e-5 * mag[i] + 1e-6)
                    << simd.name << " " << quant::type_name(c.type) << " k=" << k << " rows=" << rows
                    << " tokens=" << n << " index " << i;
            }
          }
        }
      }
    }
  }
}

TEST(KernelsMatmul, ThreadedMatmulUnderEveryIsaMatchesItsKernel) {
  std::mt19937 rng(4);
  ThreadPool pool(2);
  const Isa saved = active_isa();
  for (const TypeCase& c : kTypes) {
    const int64_t k = block_of(c.act) == 256 ? 512 : 96, rows = 83;
    auto w = random_weights(c.type, rows, k, rng);
    gguf::TensorInfo info;
    info.name = "w";
    info.type = c.type;
    info.dims = {(uint64_t)k, (uint64_t)rows};
    info.n_elements = k * rows;
    info.n_bytes = w.size();
    info.data = w.data();
    const size_t row_bytes = quant::row_bytes(quant::traits(c.type), k);
    for (int n : {1, 7}) {
      const auto x = random_activations(k * n, rng);
      std::vector<float> got(rows * n), exact(rows * n);
      set_isa(Isa::Ref);
      matmul(info, x.data(), n, exact.data(), pool);
      for (int64_t t = 0; t < n; t++)
        for (int64_t r = 0; r < rows; r++)
          ASSERT_NEAR(exact[t * rows + r], quant::dot_row(c.type, &w[r * row_bytes], &x[t * k], k),
                      1e-5 * magnitude(c.type, &w[r * row_bytes], &x[t * k], k) + 1e-6);
      for (Isa isa : simd_isas()) {
        set_isa(isa);
        matmul(info, x.data(), n, got.data(), pool);
        const TypeKernels* kernels = kernel_table(isa)->find(c.type);
        const ActFormat format = kernels ? kernels->act : c.act;
        const auto act = quantize_rows(*kernel_table(isa), format, x, k, n);
        const size_t stride = act_row_bytes(format, k);
        for (int64_t t = 0; t < n; t++)
          for (int64_t r = 0; r < rows; r++)
            ASSERT_NEAR(got[t * rows + r], vec_dot_reference(c.type, format, &w[r * row_bytes], &act[t * stride], k),
                        1e-5 * magnitude(c.type, &w[r * row_bytes], &x[t * k], k) + 1e-6)
                << isa_name(isa) << " " << quant::type_name(c.type) << " tokens " << n;
      }
    }
  }
  set_isa(saved);
}

// One call whose matrices read the shared activations in different arrangements: each
// must get what it gets alone.
void expect_shared_input_matches_separate_calls(int64_t k, std::initializer_list<Type> types, uint32_t seed) {
  std::mt19937 rng(seed);
  ThreadPool pool(2);
  const int64_t rows = 37;
  std::vector<std::vector<uint8_t>> data;
  std::vector<gguf::TensorInfo> infos;
  for (Type type : types) {
    const Type stored = quant::original_type(type);
    auto w = random_weights(stored, rows, k, rng);
    if (type != stored) {
      const size_t row_bytes = quant::row_bytes(quant::traits(stored), k);
      std::vector<uint8_t> packed(w.size());
      for (int64_t r = 0; r < rows; r++) quant::repack_row(type, &w[r * row_bytes], &packed[r * row_bytes], k);
      w = packed;
    }
    data.push_back(std::move(w));
    gguf::TensorInfo info;
    info.name = "w";
    info.type = type;
    info.dims = {(uint64_t)k, (uint64_t)rows};
    info.n_elements = k * rows;
    info.n_bytes = data.back().size();
    infos.push_back(info);
  }
  for (size_t i = 0; i < infos.size(); i++) infos[i].data = data[i].data();
  const Isa saved = active_isa();
  for (Isa isa : simd_isas()) {
    set_isa(isa);
    for (int n : {1, 5}) {
      const auto x = random_activations(k * n, rng);
      std::vector<std::vector<float>> alone(infos.size(), std::vector<float>(rows * n));
      std::vector<std::vector<float>> shared(infos.size(), std::vector<float>(rows * n, NAN));
      std::vector<MatmulTarget> targets;
      for (size_t i = 0; i < infos.size(); i++) {
        if (!kernel_table(isa)->find(infos[i].type)) continue;  // a layout this ISA does not repack
        matmul(infos[i], x.data(), n, alone[i].data(), pool);
        targets.push_back({&infos[i], shared[i].data()});
      }
      matmul_same_input(targets, x.data(), n, pool);
      for (size_t i = 0; i < infos.size(); i++) {
        if (!kernel_table(isa)->find(infos[i].type)) continue;
        EXPECT_EQ(shared[i], alone[i]) << isa_name(isa) << " " << quant::type_name(infos[i].type) << " tokens " << n;
      }
    }
  }
  set_isa(saved);
}

TEST(KernelsMatmul, SharedInputOfDifferentLayoutsMatchesSeparateCalls) {
  // Q4_0 (its gemv is its gemm: prepared rows), Q4_0_R8 (a decode kernel of its own: a
  // regrouped row) and Q8_0 (the rows as quantized). k = 416 (13 blocks) so the prepared
  // and the regrouped layouts differ (a partial group).
  expect_shared_input_matches_separate_calls(416, {Type::Q4_0, Type::Q4_0_R8, Type::Q8_0}, 9);
}

TEST(KernelsMatmul, SharedInputOfTwoPreparedLayoutsOfOneFormatMatchesSeparateCalls) {
  // Q8_K rows prepared two ways in one call (Q4_K_R8's grouped rows and Q6_K's lane per
  // sub-block, as a Q4_K_M attention or feed-forward call mixes them), next to Q5_K's
  // rows as quantized: neither prepared layout may overwrite the other.
  expect_shared_input_matches_separate_calls(512, {Type::Q4_K_R8, Type::Q6_K, Type::Q5_K}, 10);
}

}  // namespace
