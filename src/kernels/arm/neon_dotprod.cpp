// The NEON kernels rebuilt for armv8.2-a+dotprod (sdot), chosen at run time only on CPUs
// whose HWCAP has ASIMDDP (see neon.cpp). The target applies to this file's own code only,
// after the includes: inline library functions instantiated here stay baseline, so the
// linker can never pick a dotprod copy of them for the rest of the program.
#include <arm_neon.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>

#include "kernels/arm/neon.h"
#include "quant/blocks.h"
#include "quant/iquant_grids.h"

#pragma GCC push_options
#pragma GCC target("arch=armv8.2-a+dotprod")
#define TANDEM_NEON_DOTPROD 1
namespace tandem::kernels::neon_dotprod {
#include "kernels/arm/neon_kernels.inc"
}  // namespace tandem::kernels::neon_dotprod
#pragma GCC pop_options

namespace tandem::kernels {

const KernelTable* neon_dotprod_kernel_table() {
  static const KernelTable table = neon_dotprod::table_of(Isa::Neon);
  return &table;
}

}  // namespace tandem::kernels
