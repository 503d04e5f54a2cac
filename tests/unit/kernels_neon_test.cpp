// The AArch64 NEON kernel tables (plain, dotprod, i8mm) against the portable int8 reference:
// activation quantizers byte for byte, gemm/gemv on random blocks and edge shapes.
// Built only for aarch64 (tests/CMakeLists.txt); runs under qemu-user in CI.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/half.h"
#include "kernels/arm/neon.h"
#include "kernels/cpu_features.h"
#include "kernels/dispatch.h"
#include "kernels/int8_reference.h"
#include "quant/repack.h"
#include "quant/reference.h"

namespace tandem::kernels {
namespace {

using quant::Type;

struct Variant {
  const char* name;
  const KernelTable* (*table)();
  bool available;
};

std::vector<Variant> variants() {
  return {{"plain", &neon_plain_kernel_table, true},
          {"dotprod", &neon_dotprod_kernel_table, cpu_features().arm_dotprod},
          {"i8mm", &neon_i8mm_kernel_table, cpu_features().arm_dotprod && cpu_features().arm_i8mm}};
}

// Byte offsets of a block's fp16 fields (d, m, dmin), which random bytes must not fill
// with NaN or huge values; every other byte of every block type is any bit pattern.
struct HalfFields {
  Type type;
  std::vector<int> offsets;
};
const HalfFields kHalfFields[] = {
    {Type::Q4_0, {0}},    {Type::Q4_1, {0, 2}}, {Type::Q5_0, {0}}, {Type::Q5_1, {0, 2}}, {Type::Q8_0, {0}},
    {Type::Q4_K, {0, 2}}, {Type::Q5_K, {0, 2}}, {Type::Q6_K, {208}},
    {Type::IQ4_NL, {0}},  {Type::IQ4_XS, {0}},  {Type::IQ3_S, {0}},  {Type::IQ2_S, {0}},
};

std::vector<uint8_t> random_row(Type type, int64_t k, std::mt19937& rng) {
  const quant::TypeTraits& traits = quant::traits(type);
  std::vector<uint8_t> row(quant::row_bytes(traits, k));
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  if (type == Type::F32) {
    for (int64_t i = 0; i < k; i++) {
      const float f = value(rng);
      std::memcpy(row.data() + 4 * i, &f, 4);
    }
    return row;
  }
  if (type == Type::F16 || type == Type::BF16) {
    for (int64_t i = 0; i < k; i++) {
      const uint16_t h = type == Type::F16 ? fp32_to_fp16(value(rng)) : fp32_to_bf16(value(rng));
      std::memcpy(row.data() + 2 * i, &h, 2);
    }
    return row;
  }
  for (uint8_t& byte : row) byte = (uint8_t)rng();
  for (const HalfFields& fields : kHalfFields) {
    if (fields.type != type) continue;
    for (size_t b = 0; b < row.size() / traits.block_bytes; b++)
      for (int offset : fields.offsets) {
        const uint16_t h = fp32_to_fp16(0.05f * value(rng));
        std::memcpy(row.data() + b * traits.block_bytes + offset, &h, 2);
      }
  }
  return row;
}

std::vector<float> random_floats(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> value(0.0f, 2.0f);
  std::vector<float> x(n);
  for (float& v : x) v = value(rng);
  return x;
}

TEST(NeonKernels, DispatchOffersTheNeonTable) {
  EXPECT_TRUE(isa_supported(Isa::Neon));
  EXPECT_EQ(kernel_table(Isa::Neon), neon_kernel_table());
  const CpuFeatures& f = cpu_features();
  EXPECT_EQ(neon_kernel_table(), f.arm_i8mm && f.arm_dotprod ? neon_i8mm_kernel_table()
                                 : f.arm_dotprod            ? neon_dotprod_kernel_table()
                                                            : neon_plain_kernel_table());
}

TEST(NeonKernels, ActivationQuantizersMatchTheReferenceByteForByte) {
  std::mt19937 rng(1);
  const int64_t k = 256 * 3;
  std::vector<float> x = random_floats(k, rng);
  std::fill_n(x.begin() + 256, 256, 0.0f);  // an all-zero block: d = 0, q = 0
  x[5] = 1e6f;                              // one huge value: the rest of its block rounds to 0
  x[600] = -x[600] * 40;
  for (const Variant& v : variants()) {
    if (!v.available) continue;
    for (ActFormat format : {ActFormat::Q8_0, ActFormat::Q8_K}) {
      const size_t bytes = act_row_bytes(format, k);
      std::vector<uint8_t> expected(bytes, 0xcd), got(bytes, 0xcd);
      quantize_act_row(int8_reference_table(), format, x.data(), k, expected.data());
      quantize_act_row(*v.table(), format, x.data(), k, got.data());
      EXPECT_EQ(expected, got) << v.name << " format " << int(format);
    }
  }
}

struct Shape {
  int64_t k, rows, tokens;
};

// Rows not a multiple of the row tile, tokens 1 (gemv) and several, k not a multiple of 8 blocks or of 16 floats.
std::vector<Shape> shapes(Type type) {
  const int64_t block = quant::traits(type).block_elems;
  if (block == 256) return {{256, 1, 1}, {256 * 3, 5, 1}, {256 * 3, 7, 3}};
  if (block == 32) return {{32, 1, 1}, {32 * 11, 7, 1}, {32 * 19, 6, 5}};
  return {{37, 3, 1}, {64 + 7, 6, 4}, {512, 5, 2}};
}

TEST(NeonKernels, GemmMatchesTheInt8ReferenceOnRandomBlocks) {
  const KernelTable& reference = int8_reference_table();
  std::mt19937 rng(7);
  for (const Variant& v : variants()) {
    if (!v.available) {
      std::printf("[ note ] %s kernels not tested: this CPU lacks them\n", v.name);
      continue;
    }
    const KernelTable& table = *v.table();
    ASSERT_EQ(table.isa, Isa::Neon);
    for (int i = 0; i < reference.n_types; i++) {
      const TypeKernels& ref = reference.types[i];
      const TypeKernels* neon = table.find(ref.type);
      // Repacked layouts (quant/repack.h) are optional: without a kernel, nothing is repacked.
      if (!neon && quant::original_type(ref.type) != ref.type) continue;
      ASSERT_NE(neon, nullptr) << v.name << " lacks " << quant::traits(ref.type).name;
      ASSERT_EQ(neon->act, ref.act);
      for (const Shape& s : shapes(ref.type)) {
        const std::string where = std::string(v.name) + " " + std::string(quant::traits(ref.type).name) + " k=" +
                                  std::to_string(s.k) + " rows=" + std::to_string(s.rows) +
                                  " tokens=" + std::to_string(s.tokens);
        // Weight rows a few bytes apart from their natural size: unaligned loads on purpose.
        const size_t row_bytes = quant::row_bytes(quant::traits(ref.type), s.k), w_stride = row_bytes + 3;
        std::vector<uint8_t> w(w_stride * s.rows);
        std::vector<float> w_float(s.k * s.rows);
        for (int64_t r = 0; r < s.rows; r++) {
          std::vector<uint8_t> row = random_row(ref.type, s.k, rng);
          std::memcpy(w.data() + r * w_stride, row.data(), row_bytes);
          quant::dequantize_row(ref.type, row.data(), w_float.data() + r * s.k, s.k);
        }
        const std::vector<float> x = random_floats(s.k * s.tokens, rng);
        const size_t act_stride = act_row_bytes(ref.act, s.k);
        std::vector<uint8_t> act(act_stride * s.tokens);
        for (int64_t t = 0; t < s.tokens; t++)
          quantize_act_row(reference, ref.act, x.data() + t * s.k, s.k, act.data() + t * act_stride);

        const size_t y_stride = s.rows + 2;
        std::vector<float> expected(y_stride * s.tokens, -1.0f);
        ref.gemm(s.k, w.data(), w_stride, s.rows, act.data(), act_stride, s.tokens, expected.data(), y_stride);
        const GemmFn fn = s.tokens == 1 ? neon->gemv : neon->gemm;
        std::vector<float> got(y_stride * s.tokens, -1.0f);
        fn(s.k, w.data(), w_stride, s.rows, act.data(), act_stride, s.tokens, got.data(), y_stride);

        for (int64_t t = 0; t < s.tokens; t++)
          for (size_t r = 0; r < y_stride; r++) {
            const size_t at = t * y_stride + r;
            if ((int64_t)r >= s.rows) {  // between rows of y: untouched
              EXPECT_EQ(got[at], -1.0f) << where;
              continue;
            }
            // Only the order of float additions differs: tolerance relative to sum |w| |x|.
            double magnitude = 0;
            for (int64_t e = 0; e < s.k; e++) magnitude += std::fabs(w_float[r * s.k + e] * x[t * s.k + e]);
            EXPECT_NEAR(got[at], expected[at], 2e-5 * magnitude + 1e-6) << where << " row " << r << " token " << t;
          }
      }
    }
  }
}

}  // namespace
}  // namespace tandem::kernels
