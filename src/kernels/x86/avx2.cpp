// AVX2 + FMA + F16C kernels (compiled with those flags only; see CMakeLists.txt).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <vector>

#include "kernels/dispatch.h"

namespace tandem::kernels::avx2 {
#include "kernels/x86/kernels_x86.inc"
}  // namespace tandem::kernels::avx2

namespace tandem::kernels {

const KernelTable* avx2_kernel_table() {
  static const KernelTable table{Isa::Avx2, &avx2::quantize_q8_0, &avx2::quantize_q8_k, avx2::kTypes,
                                 int(std::size(avx2::kTypes)), &avx2::silu_mul};
  return &table;
}

}  // namespace tandem::kernels
