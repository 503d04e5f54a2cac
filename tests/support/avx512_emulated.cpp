// The x86 kernels as avx512_bf16.cpp compiles them (TANDEM_X86_VNNI: vpdpbusd for the
// u8 x s8 dots and int32 group sums; TANDEM_X86_BF16: vdpbf16ps for BF16 matrices), but
// built with AVX2 flags and exact software versions of the two instructions, so those
// code paths run, and are tested, on CPUs without AVX-512. It checks the source's VNNI and
// BF16 branches; the AVX-512 compile itself (EVEX encodings, 32 registers) only runs where
// the CPU has it.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <vector>

#include "kernels/dispatch.h"
#include "quant/iquant_grids.h"
#include "support/avx512_emulated.h"

namespace tandem::test {

// vpdpbusd: each int32 lane of acc plus the 4 products of its unsigned bytes of u with the
// signed bytes of s, without the int16 saturation of vpmaddubsw. Even and odd bytes are
// widened to int16 apart, so each vpmaddwd adds two exact products (|u * s| <= 255 * 128).
inline __m256i emulated_dpbusd(__m256i acc, __m256i u, __m256i s) {
  const __m256i u_even = _mm256_and_si256(u, _mm256_set1_epi16(0x00ff)), u_odd = _mm256_srli_epi16(u, 8);
  const __m256i s_even = _mm256_srai_epi16(_mm256_slli_epi16(s, 8), 8), s_odd = _mm256_srai_epi16(s, 8);
  return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(u_even, s_even), _mm256_madd_epi16(u_odd, s_odd)));
}

// vdpbf16ps: each float lane of acc plus the products of its two bf16 pairs, the odd
// element's first (Intel's pseudocode). A bf16 holds 8 significant bits, so each product is
// exact in float and the two FMAs round only the sums, as the instruction does. (Its
// flushing of denormals is not modelled: the kernel tests feed none.)
inline __m256 emulated_dpbf16(__m256 acc, __m256bh a, __m256bh b) {
  const __m256i high = _mm256_set1_epi32((int)0xffff0000u);
  const __m256i ai = (__m256i)a, bi = (__m256i)b;
  acc = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(ai, high)),
                        _mm256_castsi256_ps(_mm256_and_si256(bi, high)), acc);
  return _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(ai, 16)), _mm256_castsi256_ps(_mm256_slli_epi32(bi, 16)),
                         acc);
}

void emulated_dpbf16_lanes(const float acc[8], const uint16_t a[16], const uint16_t b[16], float out[8]) {
  _mm256_storeu_ps(out, emulated_dpbf16(_mm256_loadu_ps(acc), (__m256bh)_mm256_loadu_si256((const __m256i*)a),
                                        (__m256bh)_mm256_loadu_si256((const __m256i*)b)));
}

void emulated_dpbusd_lanes(const int32_t acc[8], const uint8_t u[32], const int8_t s[32], int32_t out[8]) {
  const __m256i sum = emulated_dpbusd(_mm256_loadu_si256((const __m256i*)acc), _mm256_loadu_si256((const __m256i*)u),
                                      _mm256_loadu_si256((const __m256i*)s));
  _mm256_storeu_si256((__m256i*)out, sum);
}

}  // namespace tandem::test

#undef _mm256_dpbusd_epi32  // GCC defines it as a macro over the AVX-512 VNNI builtin
#define _mm256_dpbusd_epi32 tandem::test::emulated_dpbusd
#undef _mm256_dpbf16_ps
#define _mm256_dpbf16_ps tandem::test::emulated_dpbf16
#define TANDEM_X86_VNNI 1
#define TANDEM_X86_BF16 1
namespace tandem::kernels::avx512_emulated {
#include "kernels/x86/kernels_x86.inc"
}  // namespace tandem::kernels::avx512_emulated

namespace tandem::kernels {

const KernelTable* avx512_emulated_kernel_table() {
  static const KernelTable table = avx512_emulated::table_of(Isa::Avx512);
  return &table;
}

}  // namespace tandem::kernels
