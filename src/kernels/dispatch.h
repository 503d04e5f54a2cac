// Run-time choice of the matmul kernels, and the table every ISA fills in.
//
// Isa::Ref is the float reference path (weights dequantized, float dot; what the
// deq_ conformance goldens need). Every other ISA works as ggml does: activations
// are quantized on the fly into an activation format chosen by the weight type,
// and a kernel multiplies integer weights by integer activations.
//
// Activation formats (one row of k values; rows are `act_row_bytes` apart, 64-byte aligned):
//   F32  : float x[k]                                    (F32/F16/BF16 weights)
//   BF16 : bfloat16 x[k], zeros up to a multiple of 32    (BF16 weights where the CPU has
//          a bf16 dot, AVX512-BF16's vdpbf16ps; rounded to nearest-even, as llama.cpp
//          rounds the activations of every BF16 matrix)
//   Q8_0 : int8 qs[k] | float d[k/32] | float s[k/32]    (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0)
//          block b holds values d[b] * qs[32b + i]; s[b] = d[b] * sum_i qs[32b + i].
//   Q8_K : int8 qs[k] | float d[k/256] | int16 bsums[k/16]   (Q4_K, Q5_K, Q6_K)
//          bsums[g] = sum of qs[16g .. 16g+15].
// Quantization: d = amax / 127, q = round-to-nearest-even(x * (1/d)) clamped to +-127
// (0 when amax == 0). Every ISA must produce identical bytes (tests check it), so a
// kernel can be tested against the portable int8 reference on the same inputs.
//
// Kernel contract (TypeKernels::gemm): for r < n_rows, t < n_tokens,
//   y[t * y_stride + r] = dot(weight row r, activation row t)
// for weight rows w + r * w_stride and activation rows act + t * act_stride, k elements.
// gemv is the same contract specialised for n_tokens == 1 (decode); it may equal gemm.
// Kernels are single-threaded; matmul() splits rows across threads.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "quant/types.h"

namespace tandem::kernels {

enum class Isa { Ref, Avx2, Avx512, Neon };
enum class ActFormat { F32, Q8_0, Q8_K, BF16 };
constexpr int kActFormats = 4;

std::string_view isa_name(Isa isa);
bool isa_supported(Isa isa);  // by this build and this CPU
// Best supported ISA, unless env TANDEM_CPU=ref|avx2|avx512|neon names one
// (a tandem::Error if this CPU or build lacks it).
Isa detect_isa();
Isa active_isa();          // detect_isa() until set_isa() is called
void set_isa(Isa isa);     // a tandem::Error if unsupported; for tests and the CLI

using QuantizeRowFn = void (*)(const float* x, int64_t k, uint8_t* out);
using GatedActivationFn = void (*)(float* gate, const float* up, int n);  // gate = act(gate) * up
using GemmFn = void (*)(int64_t k, const uint8_t* w, size_t w_stride, int64_t n_rows, const uint8_t* act,
                        size_t act_stride, int64_t n_tokens, float* y, size_t y_stride);

// Rearranges one activation row (act_row_bytes(format, k) bytes, same size out) into the
// order a gemv reads; matmul applies it once per call, not once per chunk of rows.
using RegroupFn = void (*)(const uint8_t* act, int64_t k, uint8_t* out);
// A gemm that reads its activation rows in a layout of its own: the bytes of one
// prepared row, and the rearrangement of one quantized row (act_row_bytes(format, k))
// into it. matmul prepares each row once per call, not once per chunk of weight rows.
using PreparedBytesFn = size_t (*)(int64_t k);
struct GemmPrepare {
  PreparedBytesFn row_bytes;
  RegroupFn row;
};

struct TypeKernels {
  quant::Type type;
  ActFormat act;
  GemmFn gemv;                        // n_tokens == 1
  GemmFn gemm;                        // any n_tokens
  RegroupFn gemv_regroup = nullptr;   // when set, gemv's activation row has been through it
  // When set, gemm's activation rows have been through it (also in a decode step when
  // gemv is gemm). One call may hold matrices of up to two prepare functions per format.
  GemmPrepare gemm_prepare = {};
};

struct KernelTable {
  Isa isa;
  QuantizeRowFn quantize_q8_0;  // k % 32 == 0
  QuantizeRowFn quantize_q8_k;  // k % 256 == 0
  const TypeKernels* types;
  int n_types;
  GatedActivationFn silu_mul = nullptr;  // nullptr: ops.cpp's portable loop

  const TypeKernels* find(quant::Type type) const;  // nullptr: not accelerated, use Ref
};

// The table for an ISA; nullptr for Ref (and for ISAs this build lacks).
const KernelTable* kernel_table(Isa isa);

size_t act_row_bytes(ActFormat format, int64_t k);
// One row to bf16 (ActFormat::BF16): portable, the same bytes on every ISA.
void quantize_bf16(const float* x, int64_t k, uint8_t* out);
// The quantizer of `table` for `format` (F32 copies).
void quantize_act_row(const KernelTable& table, ActFormat format, const float* x, int64_t k, uint8_t* out);

// Views into one activation row.
struct ActQ8_0 {
  const int8_t* qs;
  const float* d;
  const float* s;
  ActQ8_0(const uint8_t* row, int64_t k)
      : qs((const int8_t*)row), d((const float*)(row + k)), s(d + k / 32) {}
};
struct ActQ8_K {
  const int8_t* qs;
  const float* d;
  const int16_t* bsums;
  ActQ8_K(const uint8_t* row, int64_t k)
      : qs((const int8_t*)row), d((const float*)(row + k)), bsums((const int16_t*)(d + k / 256)) {}
};

}  // namespace tandem::kernels
