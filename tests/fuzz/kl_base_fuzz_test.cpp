// KL base files (`tandem perplexity --kl-divergence-base`) are read back from disk: seeded
// truncations and mutations of a real one (header, token list, records) must be read or refused
// with tandem::Error, never crash (ASan/UBSan in scripts/test.sh), throw anything else, or make
// the reader allocate far more than the file could justify.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <cstring>
#include <random>

#include "core/error.h"
#include "generate/perplexity.h"
#include "support/allocation_tracker.h"
#include "support/test_paths.h"

namespace tandem::generate {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kSeed = 20261207;
constexpr size_t kHeaderBytes = 8 + 4 * 4;  // magic, n_vocab, n_ctx, n_windows, n_tokens

std::shared_ptr<const model::Model> stories() {
  static auto model = model::Model::load(test::shared_path("models/stories260K.gguf"));
  return model;
}

// A real base: 40 tokens in windows of 16 (three windows, 37 records of 4 + 4 + 2 x 512 bytes).
const Bytes& original() {
  static const Bytes bytes = [] {
    std::vector<int32_t> tokens;
    for (int i = 0; i < 40; i++) tokens.push_back(1 + (i * 37) % 500);
    const std::string path = test::temp_path("original.kld");
    write_kl_base(stories(), tokens, 16, 1, quant::Type::F32, path);
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }();
  return bytes;
}

int g_read = 0, g_compared = 0;

// Reads the header, then runs the comparison; only tandem::Error may come out.
void survives(const Bytes& bytes, const std::string& context) {
  const std::string path = test::temp_path("mutated.kld");
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  const size_t limit = 16 * bytes.size() + (1 << 20);
  test::reset_largest_allocation();
  try {
    read_kl_base_info(path);
    g_read++;
  } catch (const Error&) {
  } catch (const std::exception& e) {
    ADD_FAILURE() << context << ": read_kl_base_info threw a non-tandem exception: " << e.what();
  }
  EXPECT_LE(test::largest_allocation(), limit) << context << ": the header reader allocated " << test::largest_allocation();
  try {
    const KlResult r = kl_divergence(stories(), path, 1, quant::Type::F32);
    g_compared++;
    (void)r.mean_kl;
  } catch (const Error&) {
  } catch (const std::exception& e) {
    ADD_FAILURE() << context << ": kl_divergence threw a non-tandem exception: " << e.what();
  }
}

TEST(KlBaseFuzz, TheOriginalReadsBackWithZeroDivergence) {
  const std::string path = test::temp_path("same.kld");
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(original().data()), std::streamsize(original().size()));
  EXPECT_EQ(read_kl_base_info(path).tokens.size(), 40u);
  EXPECT_NEAR(kl_divergence(stories(), path, 1, quant::Type::F32).mean_kl, 0.0, 1e-3);
}

TEST(KlBaseFuzz, TruncationsAndMutationsAreReadOrRefused) {
  const Bytes& o = original();
  std::mt19937_64 rng(kSeed);
  g_read = g_compared = 0;
  for (int i = 0; i < 60; i++) {
    const size_t size = i % 2 ? rng() % (kHeaderBytes + 40 * 4) : rng() % o.size();
    survives(Bytes(o.begin(), o.begin() + long(size)), "cut at " + std::to_string(size));
    if (HasFailure()) return;
  }
  // Header fields with the values most likely to overflow or drive a huge allocation.
  const uint32_t interesting[] = {0, 1, 2, 511, 512, 513, 0x7fffffff, 0x80000000, 0xffffffff, 1u << 30};
  for (int i = 0; i < 60; i++) {
    Bytes mutated = o;
    const size_t field = 8 + 4 * (rng() % 4);
    const uint32_t value = interesting[rng() % std::size(interesting)];
    std::memcpy(&mutated[field], &value, 4);
    survives(mutated, "header field at " + std::to_string(field) + " = " + std::to_string(value));
    if (HasFailure()) return;
  }
  // Any byte: tokens outside the vocabulary, NaN log-probabilities, wrong top-1 ids.
  for (int i = 0; i < 120; i++) {
    Bytes mutated = o;
    for (int k = 0; k < 4; k++) mutated[rng() % mutated.size()] ^= uint8_t(1 + rng() % 255);
    survives(mutated, "mutation " + std::to_string(i));
    if (HasFailure()) return;
  }
  std::printf("  240 corrupt files: header read %d, compared %d\n", g_read, g_compared);
  EXPECT_GT(g_compared, 0);
}

}  // namespace
}  // namespace tandem::generate
