// Shared by the kernel tests: the quantized types with their activation formats,
// random weight blocks with sane fp16 scales, activations (normal or saturated), the
// magnitude that float rounding errors are relative to (the SIMD ISAs and tables this CPU
// runs: support/simd_tables.h).
#pragma once
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/half.h"
#include "kernels/dispatch.h"
#include "quant/reference.h"
#include "quant/repack.h"
#include "support/simd_tables.h"
#include "support/simd_tables.h"

namespace tandem::test {

struct TypeCase {
  quant::Type type;
  kernels::ActFormat act;
  int64_t block;                // elements per weight block
  std::vector<int> half_fields;  // byte offsets of the fp16 scales in a block
  int64_t tail = 0;              // repacked layouts: elements in the GGUF layout after the groups
};
inline const TypeCase kTypes[] = {
    {quant::Type::Q4_0, kernels::ActFormat::Q8_0, 32, {0}},     {quant::Type::Q8_0, kernels::ActFormat::Q8_0, 32, {0}},
    {quant::Type::Q4_1, kernels::ActFormat::Q8_0, 32, {0, 2}},  {quant::Type::Q5_0, kernels::ActFormat::Q8_0, 32, {0}},
    {quant::Type::Q5_1, kernels::ActFormat::Q8_0, 32, {0, 2}},  {quant::Type::Q4_K, kernels::ActFormat::Q8_K, 256, {0, 2}},
    {quant::Type::Q5_K, kernels::ActFormat::Q8_K, 256, {0, 2}}, {quant::Type::Q6_K, kernels::ActFormat::Q8_K, 256, {208}},
    // 8-block groups (quant/repack.h), checked with and without 3 GGUF-layout blocks after them.
    {quant::Type::Q4_0_R8, kernels::ActFormat::Q8_0, 256, {}, 96},
    {quant::Type::Q4_K_R8, kernels::ActFormat::Q8_K, 256, {}},
    {quant::Type::Q5_0_R8, kernels::ActFormat::Q8_0, 256, {}, 96},
    {quant::Type::IQ4_NL, kernels::ActFormat::Q8_0, 32, {0}},   {quant::Type::IQ4_XS, kernels::ActFormat::Q8_K, 256, {0}},
    {quant::Type::IQ3_S, kernels::ActFormat::Q8_K, 256, {0}},   {quant::Type::IQ2_S, kernels::ActFormat::Q8_K, 256, {0}},
};

// A repacked type is tested where a table has it; the others must be in every table.
inline bool optional_in_tables(quant::Type type) { return quant::original_type(type) != type; }

enum class Fill { Random, AllOnes };  // AllOnes: every weight byte 0xff (largest magnitudes)

inline std::vector<uint8_t> make_weights(const TypeCase& c, int64_t rows, int64_t k, Fill fill, std::mt19937& rng) {
  if (optional_in_tables(c.type)) {  // made as the GGUF type, then repacked row by row
    const quant::Type from = quant::original_type(c.type);
    TypeCase original{};
    for (const TypeCase& t : kTypes)
      if (t.type == from) original = t;
    std::vector<uint8_t> data = make_weights(original, rows, k, fill, rng), packed(data.size());
    const size_t bytes = quant::row_bytes(quant::traits(c.type), k);
    for (int64_t r = 0; r < rows; r++) quant::repack_row(c.type, &data[r * bytes], &packed[r * bytes], k);
    return packed;
  }
  const auto& traits = quant::traits(c.type);
  std::vector<uint8_t> data(rows * quant::row_bytes(traits, k));
  for (auto& b : data) b = fill == Fill::AllOnes ? 0xff : (uint8_t)rng();
  std::uniform_real_distribution<float> scale(0.001f, 0.02f);
  for (size_t block = 0; block < data.size() / traits.block_bytes; block++)
    for (int offset : c.half_fields) {
      const uint16_t h = fp32_to_fp16(scale(rng));
      std::memcpy(&data[block * traits.block_bytes + offset], &h, 2);
    }
  return data;
}

enum class Act { Normal, Saturated };  // Saturated: every activation +-amax, so |q| = 127

inline std::vector<float> make_activations(int64_t k, Act kind, std::mt19937& rng) {
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> x(k);
  for (int64_t i = 0; i < k; i++) x[i] = kind == Act::Saturated ? (rng() % 2 ? 3.0f : -3.0f) : normal(rng);
  if (kind == Act::Normal && k > 64)
    for (int64_t i = 32; i < 64; i++) x[i] = 0;  // an all-zero block
  return x;
}

// sum_i |w_i| |x_i| over one row: the scale float rounding errors are relative to.
inline float magnitude(quant::Type type, const uint8_t* row, const float* x, int64_t k) {
  std::vector<float> w(k);
  quant::dequantize_row(type, row, w.data(), k);
  double sum = 0;
  for (int64_t i = 0; i < k; i++) sum += std::fabs(w[i] * x[i]);
  return (float)sum;
}

// The activation rows matmul hands `fn` (kernels.gemv or kernels.gemm) for n_tokens
// quantized rows `act`, act_bytes apart: as they are, regrouped (a distinct gemv with
// gemv_regroup) or prepared (gemm_prepare, also when gemv is gemm). Sets *stride.
inline const uint8_t* arranged_activations(const kernels::TypeKernels& kernels, kernels::GemmFn fn,
                                           const std::vector<uint8_t>& act, size_t act_bytes, int64_t k,
                                           int64_t n_tokens, std::vector<uint8_t>& storage, size_t* stride) {
  *stride = act_bytes;
  if (fn == kernels.gemm && kernels.gemm_prepare.row) {
    *stride = kernels.gemm_prepare.row_bytes(k);
    storage.assign(*stride * n_tokens + 64, 0);
    uint8_t* aligned = (uint8_t*)(((uintptr_t)storage.data() + 63) & ~(uintptr_t)63);  // as matmul's buffers
    for (int64_t t = 0; t < n_tokens; t++) kernels.gemm_prepare.row(act.data() + t * act_bytes, k, aligned + t * *stride);
    return aligned;
  }
  if (fn == kernels.gemv && fn != kernels.gemm && kernels.gemv_regroup) {
    storage.assign(act.size(), 0);
    for (int64_t t = 0; t < n_tokens; t++) kernels.gemv_regroup(act.data() + t * act_bytes, k, storage.data() + t * act_bytes);
    return storage.data();
  }
  return act.data();
}

}  // namespace tandem::test
