// The two builds of the AArch64 NEON kernel table. dispatch.cpp asks for
// neon_kernel_table(), which picks one by the CPU; tests check both against the
// int8 reference (the dotprod one only where the CPU has it).
#pragma once
#include "kernels/dispatch.h"

namespace tandem::kernels {

const KernelTable* neon_kernel_table();          // dotprod where HWCAP_ASIMDDP says so, else plain
const KernelTable* neon_plain_kernel_table();    // armv8-a: smull/sadalp int8 dots
const KernelTable* neon_dotprod_kernel_table();  // armv8.2-a+dotprod: sdot; only call on such CPUs

}  // namespace tandem::kernels
