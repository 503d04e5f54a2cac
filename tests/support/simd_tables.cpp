#include "support/simd_tables.h"

#if defined(__x86_64__)
#include "support/avx512_emulated.h"
#endif

namespace tandem::test {

std::vector<kernels::Isa> simd_isas() {
  using kernels::Isa;
  std::vector<Isa> out;
  for (Isa isa : {Isa::Avx2, Isa::Avx512, Isa::Neon})
    if (kernels::isa_supported(isa)) out.push_back(isa);
  return out;
}

std::vector<SimdTable> simd_tables() {
  using kernels::Isa;
  std::vector<SimdTable> out;
  for (Isa isa : simd_isas()) out.push_back({std::string(kernels::isa_name(isa)), kernels::kernel_table(isa)});
#if defined(__x86_64__)
  if (kernels::isa_supported(Isa::Avx2)) out.push_back({"avx512 vnni+bf16 (emulated)", kernels::avx512_emulated_kernel_table()});
#endif
  return out;
}

}  // namespace tandem::test
