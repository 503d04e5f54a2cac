// The ceiling of this core for the prefill tiles' inner loops: each loop below is one
// tile's instruction sequence per 32 weight x activation products, with every operand in
// a register (no loads, no scales, no edges), so no tile built from it can run faster.
// One more runs the Q8_0 tile's whole step, loads included, from L1.
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

// The other ways to multiply signed bytes without VNNI cost as much: both operands widened
// to int16 (once per row and per token, outside the loop), 16 products per vpmaddwd.
#define INT16_STEP(n)                              \
  "vpmaddwd %%ymm13, %%ymm12, %%ymm15\n\t"        \
  "vpaddd %%ymm15, " ACC(n) ", " ACC(n) "\n\t"    \
  "vpmaddwd %%ymm14, %%ymm12, %%ymm15\n\t"        \
  "vpaddd %%ymm15, " ACC(n) ", " ACC(n) "\n\t"
void int16_pairs(int64_t steps) { PROBE_LOOP(TWELVE_CHAINS(INT16_STEP)); }

// The Q8_0 tile's whole step (legacy_tile<kSigned>, 2 rows x 4 tokens) with its loads: per
// row |w| and the signs (ymm8-11), per token one activation vector (ymm14), then the sign
// trick into 8 int32 sums (ymm0-7; ymm13: int16 ones). Everything is read from one
// L1-resident buffer (step operands at 0-255, row scales at 256, token scales at 320, float
// sums at 448), and there are no edges or panel decodes: no real tile of this shape is
// faster.
alignas(64) int8_t g_l1[1024];
#define TILE_LOOP(BODY)                                                                                  \
  __asm__ volatile(                                                                                      \
      "vpxor %%xmm0, %%xmm0, %%xmm0\n\t"                                                                   \
      "vmovdqa %%ymm0, %%ymm1\n\tvmovdqa %%ymm0, %%ymm2\n\tvmovdqa %%ymm0, %%ymm3\n\t"                      \
      "vmovdqa %%ymm0, %%ymm4\n\tvmovdqa %%ymm0, %%ymm5\n\tvmovdqa %%ymm0, %%ymm6\n\tvmovdqa %%ymm0, %%ymm7\n\t" \
      "vpcmpeqw %%ymm13, %%ymm13, %%ymm13\n\tvpsrlw $15, %%ymm13, %%ymm13\n\t"                              \
      "1:\n\t" BODY "dec %0\n\tjnz 1b\n\tvzeroupper"                                                         \
      : "+r"(steps)                                                                                      \
      : "r"(g_l1)                                                                                        \
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",     \
        "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory")
#define SIGNED_PAIR(w, signs, acc)                                                   \
  "vpsignb %%ymm" #signs ", %%ymm14, %%ymm15\n\tvpmaddubsw %%ymm15, %%ymm" #w ", %%ymm15\n\t" \
  "vpmaddwd %%ymm13, %%ymm15, %%ymm15\n\tvpaddd %%ymm15, %%ymm" #acc ", %%ymm" #acc "\n\t"
#define SIGNED_TOKEN(offset, acc0, acc1) \
  "vmovdqa " #offset "(%1), %%ymm14\n\t" SIGNED_PAIR(8, 9, acc0) SIGNED_PAIR(10, 11, acc1)
#define LOAD_TWO_ROWS \
  "vmovdqa (%1), %%ymm8\n\tvmovdqa 32(%1), %%ymm9\n\tvmovdqa 64(%1), %%ymm10\n\tvmovdqa 96(%1), %%ymm11\n\t"
#define SIGNED_STEP \
  LOAD_TWO_ROWS SIGNED_TOKEN(128, 0, 1) SIGNED_TOKEN(160, 2, 3) SIGNED_TOKEN(192, 4, 5) SIGNED_TOKEN(224, 6, 7)
#define EIGHT(STEP) STEP STEP STEP STEP STEP STEP STEP STEP
constexpr int kTilePairs = 8;
void signed8_tile(int64_t steps) { TILE_LOOP(SIGNED_STEP); }

// The same step 8 times (a group of 8 blocks) and then the group's epilogue, as the tile
// must do it: per row and token the int32 sums converted, scaled by the rows' block scales
// times the token's, and added to float sums. The 8 float sums do not fit in registers next
// to the 8 int32 ones, so they live in L1 between groups (loaded, FMA'd, stored), and the
// int32 sums restart at zero. Scales: ymm8-9 (rows, 8 blocks per vector), ymm14 (a token).
#define GROUP_PAIR(row, token, acc)                                                             \
  "vmovaps " #token "(%1), %%ymm14\n\tvmulps %%ymm" #row ", %%ymm14, %%ymm10\n\t"            \
  "vcvtdq2ps %%ymm" #acc ", %%ymm15\n\tvmovaps 448+32*" #acc "(%1), %%ymm11\n\t"              \
  "vfmadd231ps %%ymm10, %%ymm15, %%ymm11\n\tvmovaps %%ymm11, 448+32*" #acc "(%1)\n\t"        \
  "vpxor %%xmm" #acc ", %%xmm" #acc ", %%xmm" #acc "\n\t"
#define GROUP_EPILOGUE                                                                       \
  "vmovaps 256(%1), %%ymm8\n\tvmovaps 288(%1), %%ymm9\n\t"                                     \
  GROUP_PAIR(8, 320, 0) GROUP_PAIR(9, 320, 1) GROUP_PAIR(8, 352, 2) GROUP_PAIR(9, 352, 3)     \
  GROUP_PAIR(8, 384, 4) GROUP_PAIR(9, 384, 5) GROUP_PAIR(8, 416, 6) GROUP_PAIR(9, 416, 7)
constexpr int kGroupSteps = 8;
void signed8_tile_group(int64_t steps) { TILE_LOOP(EIGHT(SIGNED_STEP) GROUP_EPILOGUE); }

// A 2 x 2 tile fits its float sums in registers (ymm4-7) next to the int32 ones (ymm0-3),
// for 6 loads per 4 products instead of 8 per 8.
#define SIGNED_STEP2X2 LOAD_TWO_ROWS SIGNED_TOKEN(128, 0, 1) SIGNED_TOKEN(160, 2, 3)
#define GROUP_PAIR_IN_REGISTERS(row, token, acc, sum)                                               \
  "vmovaps " #token "(%1), %%ymm14\n\tvmulps " #row "(%1), %%ymm14, %%ymm12\n\t"                 \
  "vcvtdq2ps %%ymm" #acc ", %%ymm15\n\tvfmadd231ps %%ymm12, %%ymm15, %%ymm" #sum "\n\t"          \
  "vpxor %%xmm" #acc ", %%xmm" #acc ", %%xmm" #acc "\n\t"
#define GROUP_EPILOGUE2X2                                                                     \
  GROUP_PAIR_IN_REGISTERS(256, 320, 0, 4) GROUP_PAIR_IN_REGISTERS(288, 320, 1, 5)              \
  GROUP_PAIR_IN_REGISTERS(256, 352, 2, 6) GROUP_PAIR_IN_REGISTERS(288, 352, 3, 7)
constexpr int kTile2x2Pairs = 4;
void signed8_tile2x2_group(int64_t steps) { TILE_LOOP(EIGHT(SIGNED_STEP2X2) GROUP_EPILOGUE2X2); }

// Products per second: 32 per chain (or tile pair) and step.
double run(void (*loop)(int64_t), int chains) {
  const auto start = Clock::now();
  loop(kSteps);
  return 32.0 * chains * double(kSteps) / seconds_since(start);
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
    int chains = kChains;
  };
  const Probe probes[] = {
      {"4-bit (Q4_0, Q4_K)", "vpmaddubsw + vpaddw", unsigned4},
      {"8-bit signed (Q8_0)", "vpsignb + vpmaddubsw + vpmaddwd + vpaddd", signed8},
      {"8-bit as int16 x int16", "2 x (vpmaddwd + vpaddd)", int16_pairs},
      {"Q8_0 tile 2x4, with loads", "8 loads + 8 x the signed sequence", signed8_tile, kTilePairs},
      {"  + per-group scales", "8 such steps + 8 x convert/scale/FMA", signed8_tile_group, kTilePairs * kGroupSteps},
      {"Q8_0 tile 2x2, all of it", "6 loads + 4 x signed, scales per 8", signed8_tile2x2_group, kTile2x2Pairs * kGroupSteps},
      {"6-bit superblock (Q6_K)", "vpmaddubsw + vpmaddwd + vpaddd", super6},
  };
  std::printf("%-26s %-42s %16s %14s\n", "tile", "sequence per 32 products", "products/cycle", "GMAC/s");
  for (const Probe& probe : probes) {
    const double rate = run(probe.loop, probe.chains);
    std::printf("%-26s %-42s %16.1f %14.1f\n", probe.name, probe.sequence, rate / hz, rate / 1e9);
  }
  return 0;
}
