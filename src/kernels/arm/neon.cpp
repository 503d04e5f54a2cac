// Baseline AArch64 kernels (NEON is mandatory there), and the choice between them, the
// dotprod build in neon_dotprod.cpp and the i8mm build in neon_i8mm.cpp.
#include "kernels/arm/neon.h"

#include <arm_neon.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>

#include "kernels/cpu_features.h"
#include "quant/blocks.h"
#include "quant/iquant_grids.h"

namespace tandem::kernels::neon_plain {
#include "kernels/arm/neon_kernels.inc"
}  // namespace tandem::kernels::neon_plain

namespace tandem::kernels {

const KernelTable* neon_plain_kernel_table() {
  static const KernelTable table = neon_plain::table_of(Isa::Neon);
  return &table;
}

const KernelTable* neon_kernel_table() {
  const CpuFeatures& f = cpu_features();
  if (f.arm_i8mm && f.arm_dotprod) return neon_i8mm_kernel_table();
  return f.arm_dotprod ? neon_dotprod_kernel_table() : neon_plain_kernel_table();
}

}  // namespace tandem::kernels
