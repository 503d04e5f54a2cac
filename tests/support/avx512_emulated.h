// The AVX-512 tier's VNNI and BF16 kernels built for AVX2 with software vpdpbusd and
// vdpbf16ps (x86 only; see avx512_emulated.cpp).
#pragma once
#include <cstdint>

#include "kernels/dispatch.h"

namespace tandem::kernels {
const KernelTable* avx512_emulated_kernel_table();
}  // namespace tandem::kernels

namespace tandem::test {

// The emulated vpdpbusd on plain arrays, so a test can check it against the instruction's
// definition: out[i] = acc[i] + sum_{j<4} u[4i+j] * s[4i+j].
void emulated_dpbusd_lanes(const int32_t acc[8], const uint8_t u[32], const int8_t s[32], int32_t out[8]);
// The emulated vdpbf16ps: out[i] = (acc[i] + a[2i+1] * b[2i+1]) + a[2i] * b[2i], the bf16
// values as floats, each sum rounded to float.
void emulated_dpbf16_lanes(const float acc[8], const uint16_t a[16], const uint16_t b[16], float out[8]);

}  // namespace tandem::test
