// Reference round-to-nearest quantizers, bit-identical to ggml's
// quantize_row_*_ref for the legacy formats (what llama-quantize writes when no
// importance matrix is given), plus plain conversion for F32, F16 and BF16.
// Used by the model quantizer and the KV cache.
#pragma once
#include <cstdint>

#include "quant/types.h"

namespace tandem::quant {

// Whether quantize_row accepts `type`: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
bool has_quantizer(Type type);

// n must be a multiple of the type's block size; dst receives n/block_elems blocks.
// An unsupported type or a bad n is a tandem::Error naming it.
void quantize_row(Type type, const float* src, void* dst, int64_t n);

// K-quant reference quantizers (quantize_kquants.cpp), bit-identical to ggml's
// quantize_row_q{2..6}_K_ref: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K; n a multiple of 256. With
// `importance` (n weights, see below), Q4_K / Q5_K / Q6_K are ggml's weighted quantizers
// (quantize_q{4,5,6}_K with quant_weights); Q2_K and Q3_K ignore it.
bool has_kquant_quantizer(Type type);
void quantize_row_kquant(Type type, const float* src, void* dst, int64_t n, const float* importance = nullptr);

// I-quant quantizers (quantize_iquants.cpp), bit-identical to ggml's quantize_iq4_nl /
// quantize_iq4_xs, which llama-quantize calls for every IQ4 tensor: IQ4_NL, IQ4_XS.
// `importance` is null or one weight per element of the row (an importance matrix's entry
// for the tensor: its values repeat for every row).
bool has_iquant_quantizer(Type type);
void quantize_row_iquant(Type type, const float* src, void* dst, int64_t n, const float* importance);

// Any of the above: every type a model file can be quantized to. An importance matrix is
// used where the type's quantizer takes one (uses_importance) and ignored elsewhere.
bool can_quantize_to(Type type);
bool uses_importance(Type type);
void quantize_row_to(Type type, const float* src, void* dst, int64_t n, const float* importance = nullptr);

}  // namespace tandem::quant
