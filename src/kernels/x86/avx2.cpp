// AVX2 + FMA + F16C kernels (compiled with those flags only; see CMakeLists.txt).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <vector>

#include "kernels/dispatch.h"
#include "quant/iquant_grids.h"

namespace tandem::kernels::avx2 {
#include "kernels/x86/kernels_x86.inc"
}  // namespace tandem::kernels::avx2

namespace tandem::kernels {

const KernelTable* avx2_kernel_table() {
  static const KernelTable table = avx2::table_of(Isa::Avx2);
  return &table;
}

}  // namespace tandem::kernels
