// Seeded, reproducible corruption of real GGUF files: every truncation and every
// mutated header byte must parse or throw tandem::Error, never crash (ASan in CI),
// throw anything else, or allocate far more than the file could justify. A corrupt
// file that still parses goes on to what a user does with it: Model::load (hparams,
// tensor binding, repacking), the tokenizer built from its metadata, one token
// evaluated, a text encoded and decoded; each step may only throw tandem::Error.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <optional>
#include <random>

#include "core/error.h"
#include "gguf/file.h"
#include "model/context.h"
#include "support/allocation_tracker.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace tandem::gguf {
namespace {

constexpr uint64_t kSeed = 20240611;
// Each file that parses is loaded and run, which under ASan/UBSan costs ~1 s per 10 files on
// 2 busy cores: the sanitizer build (scripts/test.sh) runs 60% of the cases.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kTruncations = 120, kMutations = 300, kFieldOverwrites = 180;
#else
constexpr int kTruncations = 200, kMutations = 500, kFieldOverwrites = 300;
#endif
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

// Runs `step`, which may succeed or throw tandem::Error; anything else fails the test.
template <class Step>
bool survives(const std::string& context, const char* what, Step step) {
  try {
    step();
    return true;
  } catch (const Error&) {
  } catch (const std::exception& e) {
    ADD_FAILURE() << context << ": " << what << " threw a non-tandem exception: " << e.what();
  }
  return false;
}

// The model and the tokenizer from a file that parsed. The allocation bound does not apply:
// the model may repack every matrix (a copy of the file's tensor data) and the KV cache is
// sized by hparams the file states, so the context stays small.
// How far the corrupt files got, so a test can check that the fuzzer reaches each stage.
struct Reached {
  int parsed = 0, loaded = 0, evaluated = 0, tokenized = 0;
};
Reached g_reached;

void use_survives(const File& f, const std::string& context) {
  std::shared_ptr<model::Model> model;
  if (survives(context, "Model::load", [&] { model = model::Model::from_file(f); })) {
    g_reached.loaded++;
    g_reached.evaluated += survives(context, "one token", [&] {
      model::Context ctx(model, {.n_ctx = 8, .n_threads = 1, .kv_type = quant::Type::F16});
      ctx.eval(std::vector<int32_t>{0});
      (void)ctx.logits(0)[ctx.n_vocab() - 1];
    });
  }
  g_reached.tokenized += survives(context, "the tokenizer", [&] {
    const auto tokenizer = tokenizer::Tokenizer::from_gguf(f);
    const auto ids = tokenizer->encode("Once upon a time, 42 caf\xc3\xa9s <|im_end|> \xf0\x9f\x99\x82", true, true);
    (void)tokenizer->decode(ids, true);
  });
}

// Parses or throws tandem::Error, then uses the file; anything else fails the test.
void parse_survives(Bytes bytes, const std::string& context) {
  const size_t limit = kAllocationFactor * bytes.size() + (1 << 20);
  test::reset_largest_allocation();
  std::optional<File> parsed;
  survives(context, "File::parse", [&] {
    parsed.emplace(File::parse(MappedFile::from_bytes(std::move(bytes), context)));
    check_invariants(*parsed, context);
  });
  EXPECT_LE(test::largest_allocation(), limit) << context << ": allocated " << test::largest_allocation() << " bytes at once";
  if (parsed) {
    g_reached.parsed++;
    use_survives(*parsed, context);
  }
}

// Each mutation test must have driven corrupt files through every stage.
class GgufFuzz : public testing::TestWithParam<const char*> {
 protected:
  void SetUp() override { g_reached = {}; }
  void expect_every_stage_reached(const char* what) {
    std::printf("  %s %s: parsed %d, model loaded %d, one token evaluated %d, tokenizer built %d\n", GetParam(), what,
                g_reached.parsed, g_reached.loaded, g_reached.evaluated, g_reached.tokenized);
    EXPECT_GT(g_reached.loaded, 0) << "no corrupt file reached Model::load";
    EXPECT_GT(g_reached.evaluated, 0) << "no corrupt file reached a forward pass";
    EXPECT_GT(g_reached.tokenized, 0) << "no corrupt file reached the tokenizer";
  }
};

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
  expect_every_stage_reached("byte mutations");
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
  expect_every_stage_reached("field overwrites");
}

// Guards the guard: the allocation tracker must see what the parser allocates.
TEST_P(GgufFuzz, AllocationTrackerSeesTheParser) {
  const Original& o = load(GetParam());
  Bytes copy = o.bytes;
  test::reset_largest_allocation();
  const File f = File::parse(MappedFile::from_bytes(std::move(copy)));
  EXPECT_GE(test::largest_allocation(), f.tensors().size() * sizeof(TensorInfo));
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
