// The AVX-512 tier's VNNI kernels built for AVX2 with a software vpdpbusd (x86 only; see
// vnni_emulated.cpp).
#pragma once
#include <cstdint>

#include "kernels/dispatch.h"

namespace tandem::kernels {
const KernelTable* vnni_emulated_kernel_table();
}  // namespace tandem::kernels

namespace tandem::test {

// The emulated vpdpbusd on plain arrays, so a test can check it against the instruction's
// definition: out[i] = acc[i] + sum_{j<4} u[4i+j] * s[4i+j].
void emulated_dpbusd_lanes(const int32_t acc[8], const uint8_t u[32], const int8_t s[32], int32_t out[8]);

}  // namespace tandem::test
