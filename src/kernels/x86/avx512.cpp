// AVX-512 tier: the x86 kernels recompiled with AVX-512 VL/BW (and VNNI's vpdpbusd
// for the u8 x s8 dots of the 32-block types when the compiler can target it).
// Chosen only on CPUs with avx512f/bw/vl; VNNI is required by this build's flags,
// so the table is offered only where avx512_vnni is present too (see dispatch.cpp).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <vector>

#include "kernels/dispatch.h"
#include "quant/iquant_grids.h"

#define TANDEM_X86_VNNI 1
namespace tandem::kernels::avx512 {
#include "kernels/x86/kernels_x86.inc"
}  // namespace tandem::kernels::avx512

namespace tandem::kernels {

const KernelTable* avx512_kernel_table() {
  static const KernelTable table = avx512::table_of(Isa::Avx512);
  return &table;
}

}  // namespace tandem::kernels
