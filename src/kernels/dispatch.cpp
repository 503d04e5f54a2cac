#include "kernels/dispatch.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/half.h"
#include "kernels/cpu_features.h"

namespace tandem::kernels {

// Each ISA's table lives in its own translation unit, compiled with that ISA's flags.
#if defined(__x86_64__)
const KernelTable* avx2_kernel_table();
const KernelTable* avx512_kernel_table();
const KernelTable* avx512_bf16_kernel_table();
#endif
#if defined(__aarch64__)
const KernelTable* neon_kernel_table();  // src/kernels/arm/neon.cpp
#endif

namespace {

struct IsaRow {
  Isa isa;
  std::string_view name;
};
constexpr IsaRow kIsas[] = {{Isa::Ref, "ref"}, {Isa::Avx2, "avx2"}, {Isa::Avx512, "avx512"}, {Isa::Neon, "neon"}};

bool cpu_has(Isa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::Ref: return true;
    case Isa::Avx2: return f.avx2 && f.fma && f.f16c;
    case Isa::Avx512: return f.avx2 && f.fma && f.f16c && f.avx512f && f.avx512bw && f.avx512vl && f.avx512_vnni;
    case Isa::Neon: return f.neon;
  }
  return false;
}

std::atomic<int> g_active{-1};

}  // namespace

std::string_view isa_name(Isa isa) {
  for (const IsaRow& row : kIsas)
    if (row.isa == isa) return row.name;
  return "?";
}

const KernelTable* kernel_table(Isa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case Isa::Avx2: return avx2_kernel_table();
    case Isa::Avx512: return cpu_features().avx512_bf16 ? avx512_bf16_kernel_table() : avx512_kernel_table();
#endif
#if defined(__aarch64__)
    case Isa::Neon: return neon_kernel_table();
#endif
    default: return nullptr;
  }
}

bool isa_supported(Isa isa) { return cpu_has(isa) && (isa == Isa::Ref || kernel_table(isa) != nullptr); }

Isa detect_isa() {
  if (const char* forced = std::getenv("TANDEM_CPU"); forced && *forced) {
    for (const IsaRow& row : kIsas) {
      if (row.name != forced) continue;
      if (!isa_supported(row.isa)) fail("TANDEM_CPU=", forced, ": this CPU or build does not support ", row.name);
      return row.isa;
    }
    fail("TANDEM_CPU=", forced, ": unknown ISA (expected ref, avx2, avx512 or neon)");
  }
  for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Neon})
    if (isa_supported(isa)) return isa;
  return Isa::Ref;
}

Isa active_isa() {
  int current = g_active.load(std::memory_order_relaxed);
  if (current < 0) {
    current = (int)detect_isa();
    g_active.store(current, std::memory_order_relaxed);
  }
  return (Isa)current;
}

void set_isa(Isa isa) {
  if (!isa_supported(isa)) fail("ISA ", isa_name(isa), " is not supported by this CPU or build");
  g_active.store((int)isa, std::memory_order_relaxed);
}

const TypeKernels* KernelTable::find(quant::Type type) const {
  for (int i = 0; i < n_types; i++)
    if (types[i].type == type) return &types[i];
  return nullptr;
}

void quantize_bf16(const float* x, int64_t k, uint8_t* out) {
  uint16_t* h = (uint16_t*)out;
  for (int64_t i = 0; i < k; i++) h[i] = fp32_to_bf16(x[i]);
  for (int64_t i = k; i < (k + 31) / 32 * 32; i++) h[i] = 0;  // whole vectors for the kernels
}

size_t act_row_bytes(ActFormat format, int64_t k) {
  size_t bytes = 0;
  switch (format) {
    case ActFormat::F32: bytes = 4 * k; break;
    case ActFormat::Q8_0: bytes = k + 8 * (k / 32); break;
    case ActFormat::Q8_K: bytes = k + 4 * (k / 256) + 2 * (k / 16); break;
    case ActFormat::BF16: bytes = 2 * ((k + 31) / 32 * 32); break;
  }
  return (bytes + 63) / 64 * 64;
}

void quantize_act_row(const KernelTable& table, ActFormat format, const float* x, int64_t k, uint8_t* out) {
  switch (format) {
    case ActFormat::F32: std::memcpy(out, x, 4 * k); break;
    case ActFormat::Q8_0: table.quantize_q8_0(x, k, out); break;
    case ActFormat::Q8_K: table.quantize_q8_k(x, k, out); break;
    case ActFormat::BF16: quantize_bf16(x, k, out); break;
  }
}

}  // namespace tandem::kernels
