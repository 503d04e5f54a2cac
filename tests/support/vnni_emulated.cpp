// The x86 kernels as avx512.cpp compiles them (TANDEM_X86_VNNI: vpdpbusd for the u8 x s8
// dots and int32 group sums), but built with AVX2 flags and an exact software vpdpbusd, so
// the VNNI code paths run, and are tested, on CPUs without AVX-512. It checks the source's
// VNNI branches; the AVX-512 compile itself (EVEX encodings, 32 registers) only runs where
// the CPU has it.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <vector>

#include "kernels/dispatch.h"
#include "support/vnni_emulated.h"

namespace tandem::test {

// vpdpbusd: each int32 lane of acc plus the 4 products of its unsigned bytes of u with the
// signed bytes of s, without the int16 saturation of vpmaddubsw. Even and odd bytes are
// widened to int16 apart, so each vpmaddwd adds two exact products (|u * s| <= 255 * 128).
inline __m256i emulated_dpbusd(__m256i acc, __m256i u, __m256i s) {
  const __m256i u_even = _mm256_and_si256(u, _mm256_set1_epi16(0x00ff)), u_odd = _mm256_srli_epi16(u, 8);
  const __m256i s_even = _mm256_srai_epi16(_mm256_slli_epi16(s, 8), 8), s_odd = _mm256_srai_epi16(s, 8);
  return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(u_even, s_even), _mm256_madd_epi16(u_odd, s_odd)));
}

void emulated_dpbusd_lanes(const int32_t acc[8], const uint8_t u[32], const int8_t s[32], int32_t out[8]) {
  const __m256i sum = emulated_dpbusd(_mm256_loadu_si256((const __m256i*)acc), _mm256_loadu_si256((const __m256i*)u),
                                      _mm256_loadu_si256((const __m256i*)s));
  _mm256_storeu_si256((__m256i*)out, sum);
}

}  // namespace tandem::test

#undef _mm256_dpbusd_epi32  // GCC defines it as a macro over the AVX-512 VNNI builtin
#define _mm256_dpbusd_epi32 tandem::test::emulated_dpbusd
#define TANDEM_X86_VNNI 1
namespace tandem::kernels::vnni_emulated {
#include "kernels/x86/kernels_x86.inc"
}  // namespace tandem::kernels::vnni_emulated

namespace tandem::kernels {

const KernelTable* vnni_emulated_kernel_table() {
  static const KernelTable table{Isa::Avx512, &vnni_emulated::quantize_q8_0, &vnni_emulated::quantize_q8_k,
                                 vnni_emulated::kTypes, int(std::size(vnni_emulated::kTypes)),
                                 &vnni_emulated::silu_mul};
  return &table;
}

}  // namespace tandem::kernels
