// The NEON kernels rebuilt for armv8.2-a+dotprod+i8mm (sdot, and smmla for prefill's token
// pairs), chosen at run time only on CPUs whose HWCAP2 has I8MM (see neon.cpp). As in
// neon_dotprod.cpp, the target applies to this file's own code only, after the includes.
#include <arm_neon.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>

#include "kernels/arm/neon.h"
#include "quant/blocks.h"
#include "quant/iquant_grids.h"

#pragma GCC push_options
#pragma GCC target("arch=armv8.2-a+dotprod+i8mm")
#define TANDEM_NEON_DOTPROD 1
#define TANDEM_NEON_I8MM 1
namespace tandem::kernels::neon_i8mm {
#include "kernels/arm/neon_kernels.inc"
}  // namespace tandem::kernels::neon_i8mm
#pragma GCC pop_options

namespace tandem::kernels {

const KernelTable* neon_i8mm_kernel_table() {
  static const KernelTable table = neon_i8mm::table_of(Isa::Neon);
  return &table;
}

}  // namespace tandem::kernels
