// The three builds of the AArch64 NEON kernel table. dispatch.cpp asks for
// neon_kernel_table(), which picks one by the CPU; tests check each against the
// int8 reference (dotprod and i8mm only where the CPU has them).
#pragma once
#include "kernels/dispatch.h"

namespace tandem::kernels {

const KernelTable* neon_kernel_table();          // i8mm, else dotprod, else plain, as HWCAP(2) say
const KernelTable* neon_plain_kernel_table();    // armv8-a: smull/sadalp int8 dots
const KernelTable* neon_dotprod_kernel_table();  // armv8.2-a+dotprod: sdot; only call on such CPUs
const KernelTable* neon_i8mm_kernel_table();     // + i8mm: smmla for token pairs; only call on such CPUs

}  // namespace tandem::kernels
