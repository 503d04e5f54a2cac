// Matmul microbenchmark on TinyLlama-1.1B shapes: decode (1 token) and prefill
// (128 tokens), per weight type, ISA (TANDEM_CPU) and thread count. Decode reports
// the weight bytes streamed per second (bytes_per_second); prefill GFLOP/s.
// The "TinyLlama" benchmarks run every matmul of one token pass (22 layers + output)
// and report tokens/s of the matmuls alone, an upper bound on end-to-end speed.
//   ./build-simd/kernels_bench --benchmark_filter='Decode|Prefill'
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "core/half.h"
#include "core/thread_pool.h"
#include "gguf/file.h"
#include "kernels/dispatch.h"
#include "kernels/matmul.h"
#include "quant/types.h"

using namespace tandem;
using quant::Type;

namespace {

// Byte offsets of fp16 scales inside a block, so random blocks hold sane (not NaN, not denormal) scales.
std::vector<int> half_offsets(Type type) {
  switch (type) {
    case Type::Q4_1: case Type::Q5_1: case Type::Q4_K: case Type::Q5_K: case Type::Q4_K_R8: return {0, 2};
    case Type::Q4_0_R8: return {0, 2, 4, 6, 8, 10, 12, 14};  // a group of 8 blocks (quant/repack.h)
    case Type::Q6_K: return {208};
    default: return {0};
  }
}

struct Matrix {
  std::vector<uint8_t> bytes;
  gguf::TensorInfo info;
};

const Matrix& matrix(Type type, int64_t rows, int64_t k) {
  static std::map<std::tuple<Type, int64_t, int64_t>, std::unique_ptr<Matrix>> cache;
  auto& slot = cache[{type, rows, k}];
  if (slot) return *slot;
  slot = std::make_unique<Matrix>();
  const auto& traits = quant::traits(type);
  slot->bytes.resize(quant::row_bytes(traits, k) * rows);
  std::mt19937 rng(7);
  for (auto& b : slot->bytes) b = (uint8_t)rng();
  const bool is_float = type == Type::F32 || type == Type::F16 || type == Type::BF16;
  // Q4_0_R8: k is a multiple of 256 here, so every row is whole 8-block groups.
  const size_t unit = is_float ? (type == Type::F32 ? 4 : 2) : type == Type::Q4_0_R8 ? 144 : traits.block_bytes;
  for (size_t at = 0; at < slot->bytes.size(); at += unit) {
    if (type == Type::F32) {
      const float f = float(rng() % 2000) / 1000 - 1;
      std::memcpy(&slot->bytes[at], &f, 4);
      continue;
    }
    const uint16_t h = type == Type::BF16 ? fp32_to_bf16(0.01f * (rng() % 100 + 1)) : fp32_to_fp16(0.0001f * (rng() % 100 + 1));
    for (int offset : is_float ? std::vector<int>{0} : half_offsets(type)) std::memcpy(&slot->bytes[at + offset], &h, 2);
  }
  auto& info = slot->info;
  info.name = "w";
  info.type = type;
  info.dims = {(uint64_t)k, (uint64_t)rows};
  info.n_elements = rows * k;
  info.n_bytes = slot->bytes.size();
  info.data = slot->bytes.data();
  return *slot;
}

ThreadPool& pool(int n_threads) {
  static std::map<int, std::unique_ptr<ThreadPool>> pools;
  auto& p = pools[n_threads];
  if (!p) p = std::make_unique<ThreadPool>(n_threads);
  return *p;
}

// The repacked layouts last (quant/repack.h): the ones models load Q4_0 and Q4_K into.
const Type kTypes[] = {Type::Q4_0, Type::Q8_0, Type::Q4_K, Type::Q6_K, Type::Q5_K, Type::F16, Type::F32, Type::BF16,
                       Type::Q4_0_R8, Type::Q4_K_R8};
constexpr int kTypeCount = sizeof kTypes / sizeof kTypes[0];
const std::pair<int64_t, int64_t> kShapes[] = {{2048, 2048}, {256, 2048}, {5632, 2048}, {2048, 5632}, {32000, 2048}};

// args: type index, shape index, tokens, threads
void BM_Matmul(benchmark::State& state) {
  const Type type = kTypes[state.range(0)];
  const auto [rows, k] = kShapes[state.range(1)];
  const int tokens = (int)state.range(2), threads = (int)state.range(3);
  const Matrix& w = matrix(type, rows, k);
  std::vector<float> x((size_t)k * tokens, 0.5f), y((size_t)rows * tokens);
  for (size_t i = 0; i < x.size(); i++) x[i] = float(i % 17) * 0.1f - 0.8f;
  for (auto _ : state) {
    kernels::matmul(w.info, x.data(), tokens, y.data(), pool(threads));
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(std::string(quant::type_name(type)) + " " + std::to_string(rows) + "x" + std::to_string(k) + " " +
                 std::string(kernels::isa_name(kernels::active_isa())));
  state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)w.bytes.size());
  state.counters["GFLOPs"] =
      benchmark::Counter(2.0 * rows * k * tokens * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

// One token pass of TinyLlama-1.1B's matmuls. mix 0: every matrix `type`; mix 1: Q4_K_M
// (Q4_K, with Q6_K output and Q6_K attn_v / ffn_down in half of the layers, as llama.cpp writes it).
void BM_TinyLlama(benchmark::State& state) {
  const Type type = kTypes[state.range(0)];
  const bool q4_k_m = state.range(1) == 1;
  const int tokens = (int)state.range(2), threads = (int)state.range(3);
  struct Op { const Matrix* w; };
  std::vector<Op> ops;
  // In the layout a model loads the type into (Q4_0 and Q4_K are repacked where the ISA has kernels for it).
  const Type main = kernels::preferred_layout(type), six_bit = kernels::preferred_layout(Type::Q6_K);
  for (int layer = 0; layer < 22; layer++) {
    const bool six = q4_k_m && layer % 2 == 0;
    ops.push_back({&matrix(main, 2048, 2048)});
    ops.push_back({&matrix(main, 256, 2048)});
    ops.push_back({&matrix(six ? six_bit : main, 256, 2048)});
    ops.push_back({&matrix(main, 2048, 2048)});
    ops.push_back({&matrix(main, 5632, 2048)});
    ops.push_back({&matrix(main, 5632, 2048)});
    ops.push_back({&matrix(six ? six_bit : main, 2048, 5632)});
  }
  ops.push_back({&matrix(q4_k_m ? six_bit : main, 32000, 2048)});
  std::vector<float> x((size_t)5632 * tokens, 0.25f), y((size_t)32000 * tokens);
  for (auto _ : state)
    for (const Op& op : ops) {
      kernels::matmul(op.w->info, x.data(), tokens, y.data(), pool(threads));
      benchmark::DoNotOptimize(y.data());
    }
  state.SetLabel(std::string(q4_k_m ? "Q4_K_M" : quant::type_name(type)) + " " +
                 std::string(kernels::isa_name(kernels::active_isa())));
  state.counters["tok/s"] = benchmark::Counter(double(tokens) * state.iterations(), benchmark::Counter::kIsRate);
}

void matmul_args(benchmark::internal::Benchmark* b) {
  for (int type = 0; type < kTypeCount; type++)
    for (int shape = 0; shape < 5; shape++)
      for (int threads : {1, 2}) b->Args({type, shape, 1, threads});
  for (int type = 0; type < kTypeCount; type++)
    for (int shape = 0; shape < 5; shape++)
      for (int threads : {1, 2}) b->Args({type, shape, 128, threads});
}

void model_args(benchmark::internal::Benchmark* b) {
  for (int tokens : {1, 128})
    for (int threads : {1, 2}) {
      for (int type : {0, 1}) b->Args({type, 0, tokens, threads});  // Q4_0, Q8_0
      b->Args({2, 1, tokens, threads});                              // Q4_K_M
    }
}

}  // namespace

BENCHMARK(BM_Matmul)->Apply(matmul_args)->ArgNames({"type", "shape", "tokens", "threads"})->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TinyLlama)->Apply(model_args)->ArgNames({"type", "mix", "tokens", "threads"})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
