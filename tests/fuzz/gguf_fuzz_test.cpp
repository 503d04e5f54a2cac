// Seeded, reproducible corruption of real GGUF files: every truncation and every
// mutated header byte must parse or throw tandem::Error, never crash (ASan in CI),
// throw anything else, or allocate far more than the file could justify.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <random>

#include "core/error.h"
#include "gguf/file.h"
#include "support/test_paths.h"

// Records the largest single allocation so a test can bound what a corrupt count
// or length made the parser request.
namespace {
std::atomic<size_t> g_largest_allocation{0};

void* tracked_allocate(size_t size) {
  size_t seen = g_largest_allocation.load(std::memory_order_relaxed);
  while (size > seen && !g_largest_allocation.compare_exchange_weak(seen, size, std::memory_order_relaxed)) {
  }
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(size_t size) { return tracked_allocate(size); }
void* operator new[](size_t size) { return tracked_allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace tandem::gguf {
namespace {

constexpr uint64_t kSeed = 20240611;
constexpr int kTruncations = 200;
constexpr int kMutations = 500;
constexpr int kFieldOverwrites = 300;
// The parser may reserve a few times the file size for entries it has already
// bounded by the bytes left; anything beyond this came from an unchecked field.
constexpr size_t kAllocationFactor = 16;

using Bytes = std::vector<uint8_t>;

struct Original {
  Bytes bytes;
  uint64_t header_end;  // start of tensor data: everything before it is metadata and tensor infos
};

const Original& load(const std::string& relative) {
  static std::map<std::string, Original> cache;
  auto it = cache.find(relative);
  if (it != cache.end()) return it->second;
  // "tests/..." names a file of the repository (the golden models), anything else one of ../shared.
  const std::string path = relative.rfind("tests/", 0) == 0 ? std::string(TANDEM_SOURCE_DIR) + "/" + relative
                                                            : test::shared_path(relative);
  const auto mapped = MappedFile::open(path);
  Original o{Bytes(mapped->data(), mapped->data() + mapped->size()), 0};
  o.header_end = File::parse(MappedFile::from_bytes(o.bytes)).data_offset();
  return cache.emplace(relative, std::move(o)).first->second;
}

// What a successful parse promises its users.
void check_invariants(const File& f, const std::string& context) {
  const uint8_t* begin = f.bytes()->data();
  const uint8_t* end = begin + f.file_size();
  for (const auto& [key, value] : f.metadata()) (void)value.to_string();
  for (const auto& t : f.tensors()) {
    const auto& traits = quant::traits(t.type);
    unsigned __int128 elements = 1;
    for (uint64_t d : t.dims) elements *= d;
    ASSERT_EQ(elements, t.n_elements) << context << ": " << t.name;
    ASSERT_EQ((unsigned __int128)t.n_elements / traits.block_elems * traits.block_bytes, t.n_bytes) << context << ": " << t.name;
    ASSERT_TRUE(t.data >= begin && t.n_bytes <= (uint64_t)(end - t.data)) << context << ": " << t.name << " data outside the file";
    if (t.n_bytes) {
      volatile uint8_t first = t.data[0], last = t.data[t.n_bytes - 1];  // ASan checks both ends
      (void)first;
      (void)last;
    }
  }
}

// Parses or throws tandem::Error; anything else fails the test.
void parse_survives(Bytes bytes, const std::string& context) {
  const size_t limit = kAllocationFactor * bytes.size() + (1 << 20);
  g_largest_allocation = 0;
  try {
    const File f = File::parse(MappedFile::from_bytes(std::move(bytes), context));
    check_invariants(f, context);
  } catch (const Error&) {
  } catch (const std::exception& e) {
    ADD_FAILURE() << context << ": threw a non-tandem exception: " << e.what();
  }
  EXPECT_LE(g_largest_allocation.load(), limit) << context << ": allocated " << g_largest_allocation.load() << " bytes at once";
}

class GgufFuzz : public testing::TestWithParam<const char*> {};

TEST_P(GgufFuzz, TruncationAnywhere) {
  const Original& o = load(GetParam());
  std::mt19937_64 rng(kSeed);
  // Half the cuts land in the header, where the parser does its work; half anywhere.
  std::uniform_int_distribution<uint64_t> in_header(0, o.header_end - 1), anywhere(0, o.bytes.size() - 1);
  for (int i = 0; i < kTruncations; i++) {
    const uint64_t size = i % 2 ? in_header(rng) : anywhere(rng);
    parse_survives(Bytes(o.bytes.begin(), o.bytes.begin() + (long)size), std::string(GetParam()) + " cut at " + std::to_string(size));
    if (HasFailure()) return;
  }
}

TEST_P(GgufFuzz, HeaderByteMutations) {
  const Original& o = load(GetParam());
  std::mt19937_64 rng(kSeed + 1);
  std::uniform_int_distribution<uint64_t> position(0, o.header_end - 1);
  std::uniform_int_distribution<int> flip(1, 255);
  Bytes mutated = o.bytes;
  for (int i = 0; i < kMutations; i++) {
    const uint64_t at = position(rng);
    const uint8_t was = mutated[at];
    mutated[at] ^= (uint8_t)flip(rng);
    parse_survives(mutated, std::string(GetParam()) + " mutation " + std::to_string(i) + ": byte " + std::to_string(at) +
                                " " + std::to_string(was) + " -> " + std::to_string(mutated[at]));
    mutated[at] = was;
    if (HasFailure()) return;
  }
}

// Counts, lengths and dims are 4- or 8-byte fields: overwrite random header spans
// with the values most likely to overflow arithmetic or drive a huge allocation.
TEST_P(GgufFuzz, HeaderFieldOverwrites) {
  const Original& o = load(GetParam());
  const uint64_t interesting[] = {0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 1ull << 32, 1ull << 62, 1ull << 63, ~0ull};
  std::mt19937_64 rng(kSeed + 2);
  std::uniform_int_distribution<uint64_t> position(0, o.header_end - 8);
  std::uniform_int_distribution<size_t> pick(0, std::size(interesting) - 1);
  Bytes mutated = o.bytes;
  for (int i = 0; i < kFieldOverwrites; i++) {
    const uint64_t at = position(rng);
    const size_t width = i % 2 ? 8 : 4;
    const uint64_t value = interesting[pick(rng)];
    std::memcpy(&mutated[at], &value, width);
    parse_survives(mutated, std::string(GetParam()) + " overwrite " + std::to_string(i) + ": " + std::to_string(width) +
                                " bytes at " + std::to_string(at) + " = " + std::to_string(value));
    std::memcpy(&mutated[at], &o.bytes[at], width);
    if (HasFailure()) return;
  }
}

// Guards the guard: the allocation tracker must see what the parser allocates.
TEST_P(GgufFuzz, AllocationTrackerSeesTheParser) {
  const Original& o = load(GetParam());
  Bytes copy = o.bytes;
  g_largest_allocation = 0;
  const File f = File::parse(MappedFile::from_bytes(std::move(copy)));
  EXPECT_GE(g_largest_allocation.load(), f.tensors().size() * sizeof(TensorInfo));
}

std::string corpus_name(const testing::TestParamInfo<const char*>& info) {
  const char* names[] = {"stories260K", "qwen2_Q4_0", "gemma3_Q8_0", "phi4_mini_F32"};
  return names[info.index];
}

INSTANTIATE_TEST_SUITE_P(RealFiles, GgufFuzz,
                         testing::Values("models/stories260K.gguf", "conformance/qwen2/model-Q4_0.gguf",
                                         "tests/data/goldens/gemma3/model-Q8_0.gguf",
                                         "tests/data/goldens/phi4-mini/model-F32.gguf"),
                         corpus_name);

}  // namespace
}  // namespace tandem::gguf
