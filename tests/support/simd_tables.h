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

// The SIMD ISAs this CPU runs (for tests that dispatch by ISA).
std::vector<kernels::Isa> simd_isas();

// Every ISA this CPU runs and, on x86 with AVX2, the AVX-512 tier's VNNI and BF16 code with
// vpdpbusd and vdpbf16ps emulated exactly (support/avx512_emulated.cpp): those branches of
// the shared x86 kernels are then checked on every machine, not only on AVX-512 ones.
std::vector<SimdTable> simd_tables();

}  // namespace tandem::test
