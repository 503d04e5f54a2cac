// The ceiling of this core for the prefill tiles' inner loops: each loop below is one
// tile's instruction sequence per 32 weight x activation products, with every operand in
// a register (no loads, no scales, no edges), so no tile built from it can run faster.
// `bench/isa_probe` prints products per cycle and per second for each, next to the clock
// measured with a chain of dependent adds. docs/performance.md turns them into bounds on
// prefill tokens/s.
//
// x86-64 with AVX2 only; built with -mavx2 -mfma whatever the project's flags.
#include <immintrin.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A chain of dependent adds runs at one per cycle on any core: its rate is the clock
// while the probe runs (this machine is virtual, so no frequency is printed elsewhere).
// 20 of them per loop iteration keep the loop's own dec and jump out of the count.
#define ADD4 "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
#define ADD20 ADD4 ADD4 ADD4 ADD4 ADD4
double clock_hz() {
  const int64_t n = 50'000'000;
  int64_t x = 0, left = n;
  const auto start = Clock::now();
  __asm__ volatile(
      "1:\n\t" ADD20
      "dec %1\n\tjnz 1b"
      : "+r"(x), "+r"(left)
      :
      : "cc");
  return 20.0 * double(n) / seconds_since(start);
}

// Each probe runs 12 independent chains (more than latency x width needs), written in
// assembly so the compiler can neither hoist the multiply-adds (their inputs never change)
// nor keep the accumulators in memory. ymm0-11: accumulators, ymm12: weights, ymm13:
// activations, ymm14: signs or scales, ymm15: the product.
constexpr int kChains = 12;
constexpr int64_t kSteps = 20'000'000;

#define PROBE_LOOP(BODY)                                                     \
  __asm__ volatile(                                                          \
      "vpxor %%xmm0, %%xmm0, %%xmm0\n\t"                                       \
      "vmovdqa %%ymm0, %%ymm1\n\tvmovdqa %%ymm0, %%ymm2\n\tvmovdqa %%ymm0, %%ymm3\n\t" \
      "vmovdqa %%ymm0, %%ymm4\n\tvmovdqa %%ymm0, %%ymm5\n\tvmovdqa %%ymm0, %%ymm6\n\t" \
      "vmovdqa %%ymm0, %%ymm7\n\tvmovdqa %%ymm0, %%ymm8\n\tvmovdqa %%ymm0, %%ymm9\n\t" \
      "vmovdqa %%ymm0, %%ymm10\n\tvmovdqa %%ymm0, %%ymm11\n\t"                    \
      "vpcmpeqb %%ymm12, %%ymm12, %%ymm12\n\t"                                   \
      "vpabsb %%ymm12, %%ymm12\n\t"                                              \
      "vmovdqa %%ymm12, %%ymm13\n\tvmovdqa %%ymm12, %%ymm14\n\t"                  \
      "1:\n\t" BODY "dec %0\n\tjnz 1b\n\tvzeroupper"                              \
      : "+r"(steps)                                                          \
      :                                                                      \
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", \
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc")

// One step of the 12 chains: STEP(n) is the sequence on accumulator ymm<n>.
#define ACC(n) "%%ymm" #n
#define TWELVE_CHAINS(STEP) \
  STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5) STEP(6) STEP(7) STEP(8) STEP(9) STEP(10) STEP(11)

// 4-bit weights (Q4_0, Q4_K as 32-blocks): a u8 x s8 multiply-add and an int16 add.
#define UNSIGNED4_STEP(n)                     \
  "vpmaddubsw %%ymm13, %%ymm12, %%ymm15\n\t" \
  "vpaddw %%ymm15, " ACC(n) ", " ACC(n) "\n\t"
void unsigned4(int64_t steps) { PROBE_LOOP(TWELVE_CHAINS(UNSIGNED4_STEP)); }

// Q8_0: the sign moves onto the activations, then multiply-add, widen, add.
#define SIGNED8_STEP(n)                       \
  "vpsignb %%ymm14, %%ymm13, %%ymm15\n\t"    \
  "vpmaddubsw %%ymm15, %%ymm12, %%ymm15\n\t" \
  "vpmaddwd %%ymm14, %%ymm15, %%ymm15\n\t"   \
  "vpaddd %%ymm15, " ACC(n) ", " ACC(n) "\n\t"
void signed8(int64_t steps) { PROBE_LOOP(TWELVE_CHAINS(SIGNED8_STEP)); }

// Q6_K (and the superblock tile): multiply-add, then a widening multiply by the scales.
#define SUPER6_STEP(n)                        \
  "vpmaddubsw %%ymm13, %%ymm12, %%ymm15\n\t" \
  "vpmaddwd %%ymm14, %%ymm15, %%ymm15\n\t"   \
  "vpaddd %%ymm15, " ACC(n) ", " ACC(n) "\n\t"
void super6(int64_t steps) { PROBE_LOOP(TWELVE_CHAINS(SUPER6_STEP)); }

// Products per second: 32 per chain and step.
double run(void (*loop)(int64_t)) {
  const auto start = Clock::now();
  loop(kSteps);
  return 32.0 * kChains * double(kSteps) / seconds_since(start);
}

}  // namespace

int main() {
  clock_hz();  // wakes the core up to its running clock
  const double hz = clock_hz();
  std::printf("clock (dependent adds): %.2f GHz\n", hz / 1e9);
  struct Probe {
    const char* name;
    const char* sequence;
    void (*loop)(int64_t);
  };
  const Probe probes[] = {
      {"4-bit (Q4_0, Q4_K)", "vpmaddubsw + vpaddw", unsigned4},
      {"8-bit signed (Q8_0)", "vpsignb + vpmaddubsw + vpmaddwd + vpaddd", signed8},
      {"6-bit superblock (Q6_K)", "vpmaddubsw + vpmaddwd + vpaddd", super6},
  };
  std::printf("%-26s %-42s %16s %14s\n", "tile", "sequence per 32 products", "products/cycle", "GMAC/s");
  for (const Probe& probe : probes) {
    const double rate = run(probe.loop);
    std::printf("%-26s %-42s %16.1f %14.1f\n", probe.name, probe.sequence, rate / hz, rate / 1e9);
  }
  return 0;
}
