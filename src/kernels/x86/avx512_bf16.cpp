// AVX-512 tier with AVX512-BF16 as well: avx512.cpp's kernels, and BF16 matrices through
// vdpbf16ps against bf16 activations (ActFormat::BF16) instead of FMAs on converted
// weights. Offered only where the CPU has avx512_bf16 (see dispatch.cpp).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <vector>

#include "kernels/dispatch.h"
#include "quant/iquant_grids.h"

#define TANDEM_X86_VNNI 1
#define TANDEM_X86_BF16 1
namespace tandem::kernels::avx512_bf16 {
#include "kernels/x86/kernels_x86.inc"
}  // namespace tandem::kernels::avx512_bf16

namespace tandem::kernels {

const KernelTable* avx512_bf16_kernel_table() {
  static const KernelTable table = avx512_bf16::table_of(Isa::Avx512);
  return &table;
}

}  // namespace tandem::kernels
