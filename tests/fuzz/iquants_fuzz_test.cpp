// An i-quant or ternary block with "out-of-range indices" cannot exist: every index field is
// exactly as wide as the table it indexes (static_asserts in quant/reference_iquants.cpp).
// This checks the claim where it would break: arbitrary bytes (random, all-ones, NaN and
// infinite scales) in a GGUF file's tensors of every new type, parsed, decoded and multiplied
// by the reference path, the int8 reference and every SIMD kernel table. Under ASan
// (scripts/test.sh) a read past any grid table is a failure; elsewhere the results must
// simply come back (finite where the scales are). The golden i-quant models, their tensor data
// overwritten at random, load and run.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include "core/half.h"
#include "core/thread_pool.h"
#include "gguf/file.h"
#include "gguf/writer.h"
#include "kernels/dispatch.h"
#include "kernels/int8_reference.h"
#include "kernels/matmul.h"
#include "model/context.h"
#include "quant/reference.h"
#include "support/simd_tables.h"

namespace tandem {
namespace {

using quant::Type;

const Type kTypes[] = {Type::IQ4_NL, Type::IQ4_XS, Type::IQ3_S, Type::IQ3_XXS, Type::IQ2_S, Type::IQ2_XS,
                       Type::IQ2_XXS, Type::IQ1_S, Type::IQ1_M, Type::TQ1_0, Type::TQ2_0};

enum class Fill { Random, Ones, NonFiniteScales };

// Rows of arbitrary blocks. Fill::Random keeps random scale bits (some are NaN or inf);
// NonFiniteScales forces the scale field (first or last two bytes, by type) to NaN / inf.
std::vector<uint8_t> blocks(Type type, int64_t rows, int64_t k, Fill fill, std::mt19937& rng) {
  const auto& t = quant::traits(type);
  std::vector<uint8_t> data(rows * quant::row_bytes(t, k));
  for (auto& b : data) b = fill == Fill::Ones ? 0xff : uint8_t(rng());
  if (fill == Fill::NonFiniteScales) {
    const bool scale_last = type == Type::TQ1_0 || type == Type::TQ2_0;
    for (size_t b = 0; b < data.size() / t.block_bytes; b++) {
      const uint16_t h = b % 2 ? 0x7c00 : 0x7e00;  // inf, NaN
      std::memcpy(&data[b * t.block_bytes + (scale_last ? t.block_bytes - 2 : 0)], &h, 2);
    }
  }
  return data;
}

TEST(IQuantsFuzz, ArbitraryBlocksInAFileDecodeAndMultiplyOnEveryPath) {
  std::mt19937 rng(1919);
  const int64_t k = 512, rows = 6;
  for (Fill fill : {Fill::Random, Fill::Ones, Fill::NonFiniteScales}) {
    gguf::Writer writer;
    writer.set("general.architecture", gguf::Value::string("fuzz"));
    for (Type type : kTypes)
      writer.add_tensor(std::string(quant::type_name(type)), type, {uint64_t(k), uint64_t(rows)},
                        blocks(type, rows, k, fill, rng));
    const gguf::File file = gguf::File::parse(MappedFile::from_bytes(writer.to_bytes(), "iquants.gguf"));
    ASSERT_EQ(file.tensors().size(), std::size(kTypes));

    std::vector<float> x(k * 2);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (auto& v : x) v = normal(rng);
    ThreadPool pool(2);
    const kernels::Isa saved = kernels::active_isa();
    for (const gguf::TensorInfo& t : file.tensors()) {
      std::vector<float> row(k), y(rows * 2);
      for (int64_t r = 0; r < rows; r++) {
        quant::dequantize_row(t.type, t.data + r * (t.n_bytes / rows), row.data(), k);
        y[r] = quant::dot_row(t.type, t.data + r * (t.n_bytes / rows), x.data(), k);
      }
      std::vector<kernels::Isa> isas = {kernels::Isa::Ref};
      for (kernels::Isa isa : test::simd_isas()) isas.push_back(isa);
      for (kernels::Isa isa : isas) {
        kernels::set_isa(isa);
        for (int n : {1, 2}) kernels::matmul(t, x.data(), n, y.data(), pool);
      }
      // The int8 reference and the SIMD tables directly (the emulated AVX-512 code too).
      std::vector<const kernels::KernelTable*> tables = {&kernels::int8_reference_table()};
      for (const test::SimdTable& simd : test::simd_tables()) tables.push_back(simd.table);
      for (const kernels::KernelTable* table : tables) {
        const kernels::TypeKernels* kernels = table->find(t.type);
        if (!kernels) continue;
        const size_t stride = kernels::act_row_bytes(kernels->act, k);
        std::vector<uint8_t> act(stride * 2 + 64);
        for (int tok = 0; tok < 2; tok++) kernels::quantize_act_row(*table, kernels->act, x.data() + tok * k, k, act.data() + tok * stride);
        if (kernels->gemm_prepare.row) continue;  // prepared rows: covered by matmul above
        kernels->gemm(k, t.data, t.n_bytes / rows, rows, act.data(), stride, 2, y.data(), rows);
        kernels->gemv(k, t.data, t.n_bytes / rows, rows, act.data(), stride, 1, y.data(), rows);
      }
    }
    kernels::set_isa(saved);
  }
}

// With finite scales every decoded weight is finite: any index reaches a real table entry.
TEST(IQuantsFuzz, EveryBlockWithAFiniteScaleDecodesToFiniteWeights) {
  std::mt19937 rng(7);
  for (Type type : kTypes) {
    const auto& t = quant::traits(type);
    for (int round = 0; round < 200; round++) {
      std::vector<uint8_t> block = blocks(type, 1, t.block_elems, round % 2 ? Fill::Random : Fill::Ones, rng);
      // A finite fp16 scale where the format keeps one (IQ1_M spreads it over 4 nibbles).
      const uint16_t h = fp32_to_fp16(0.01f * float(round - 100));
      if (type == Type::TQ1_0 || type == Type::TQ2_0) std::memcpy(&block[t.block_bytes - 2], &h, 2);
      else if (type == Type::IQ1_M)
        for (int i = 0; i < 4; i++) block[48 + 2 * i + 1] = uint8_t((block[48 + 2 * i + 1] & 0x0f) | (((h >> (4 * i)) & 0xf) << 4));
      else std::memcpy(block.data(), &h, 2);
      std::vector<float> out(t.block_elems);
      quant::dequantize_row(type, block.data(), out.data(), t.block_elems);
      for (float v : out) ASSERT_TRUE(std::isfinite(v)) << quant::type_name(type) << " round " << round;
    }
  }
}

// The golden models of every i-quant file type (tests/data/goldens/llama-iquants) with random
// bytes written over their tensor data: they load and evaluate under the float path and the
// fastest ISA (logits may be anything; nothing may read out of bounds or throw).
TEST(IQuantsFuzz, GoldenModelsWithCorruptTensorDataLoadAndRun) {
  namespace fs = std::filesystem;
  const fs::path folder = fs::path(TANDEM_SOURCE_DIR) / "tests/data/goldens/llama-iquants";
  std::vector<fs::path> models;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.path().filename().string().rfind("model-", 0) == 0) models.push_back(entry.path());
  std::sort(models.begin(), models.end());
  ASSERT_GE(models.size(), 11u) << "expected the golden models in " << folder;
  std::mt19937 rng(4242);
  const kernels::Isa saved = kernels::active_isa();
  for (const fs::path& path : models) {
    const auto original = MappedFile::open(path.string());
    std::vector<uint8_t> bytes(original->data(), original->data() + original->size());
    const uint64_t data_at = gguf::File::parse(MappedFile::from_bytes(bytes, path.string())).data_offset();
    for (int i = 0; i < 4000; i++) bytes[data_at + rng() % (bytes.size() - data_at)] = uint8_t(rng());
    auto model = model::Model::from_file(gguf::File::parse(MappedFile::from_bytes(bytes, path.string())));
    for (kernels::Isa isa : {kernels::Isa::Ref, kernels::detect_isa()}) {
      kernels::set_isa(isa);
      model::Context ctx(model, {.n_ctx = 64, .n_threads = 2, .kv_type = quant::Type::F32});
      ctx.eval(std::vector<int32_t>{1, 403, 407, 261});
      ctx.eval(std::vector<int32_t>{378});
      (void)ctx.logits(0)[0];
    }
  }
  kernels::set_isa(saved);
}

}  // namespace
}  // namespace tandem
