// What the CPU we run on can execute, read once (cpuid + xgetbv on x86,
// getauxval on aarch64). The kernel dispatch chooses an ISA from this.
#pragma once

namespace tandem::kernels {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;                // x86 "AVX2 tier"
  bool avx512f = false, avx512bw = false, avx512vl = false;    // x86 "AVX-512 tier"
  bool avx512_vnni = false, avx512_bf16 = false;
  bool neon = false, arm_dotprod = false, arm_i8mm = false;    // aarch64
};

// Detected once; the OS must also have enabled the register state (xgetbv).
const CpuFeatures& cpu_features();

}  // namespace tandem::kernels
