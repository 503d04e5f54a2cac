// The SIMD kernel tables the kernel tests check against the int8 reference.
#pragma once
#include <string>
#include <vector>

#include "kernels/dispatch.h"

namespace tandem::test {

struct SimdTable {
  std::string name;
  const kernels::KernelTable* table;
};

// Every ISA this CPU runs and, on x86 with AVX2, the AVX-512 tier's VNNI code with its
// vpdpbusd emulated exactly (support/vnni_emulated.cpp): the VNNI branches of the shared
// x86 kernels are then checked on every machine, not only on the AVX-512 ones.
std::vector<SimdTable> simd_tables();

}  // namespace tandem::test
