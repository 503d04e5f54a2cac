// The memory plan: its arithmetic against hand-computed figures for three shapes,
// the budget search, reading a real header, and the plan as an upper bound within 5% of
// the measured peak RSS of `tandem run` (docs/memory.md).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/file.h"
#include "memory/plan.h"
#include "memory/shape_layout.h"
#include "quant/recipes.h"
#include "synth/spec.h"
#include "support/test_paths.h"

namespace tandem::memory {
namespace {

using quant::Type;

ModelLayout shape(int n_layer, int d, int n_head, int n_head_kv, int head_dim, int ff, int vocab, bool fused = false) {
  ModelLayout m;
  m.arch = "llama";
  m.n_layer = n_layer, m.n_embd = d, m.n_head = n_head, m.n_head_kv = n_head_kv, m.head_dim = head_dim;
  m.n_ff = ff, m.n_vocab = vocab, m.n_ctx_train = 4096;
  m.fused_qkv = m.fused_gate_up = fused;
  m.weights = {{Type::Q4_K, 200, 3'000'000'000ull}, {Type::F32, 65, 1'000'000ull}};
  m.header_bytes = 1'000'000;
  return m;
}

constexpr uint64_t kOverheadFixed = 11ull << 20;  // the process baseline in the plan

// Llama-2-7B: 32 layers, 32 KV heads x 128, f16 cache at 4096 tokens:
// K+V per token = 2 x 32 x 4096 x 2 B = 512 KiB, so 2 GiB for 4096 tokens.
// Compute (batch 256): x,h 8 MiB + q,attn 8 MiB + k,v 8 MiB + gate,up 2x256x11008x4
// + logits 32000x4 + activations 256 x 11008 x 9/8 = 51008512 B (attention reads the
// cache in place: no decoded copy of a layer's K/V).
TEST(MemoryPlan, Llama2_7B_F16Cache) {
  const ModelLayout m = shape(32, 4096, 32, 32, 128, 11008, 32000);
  const Plan p = make_plan(m, {.n_ctx = 4096, .kv_type = Type::F16});
  EXPECT_EQ(p.kv_bytes_per_token, 524288u);
  EXPECT_EQ(p.kv_bytes, 2147483648u);
  EXPECT_EQ(p.compute_bytes, 51008512u + 256u * 128 * 4);  // + rope angles: batch x head_dim floats
  EXPECT_EQ(p.weights_bytes, 3'001'000'000u);
  // Header, 152 B per vocabulary entry (tokenizer tables) and 20 (the sampler's candidates,
  // weights and penalised logits), and allocator slack of 3 batch rows of n_embd floats, and
  // 2 threads' kernel scratch of 2 bytes per value of the widest batch row (all fitted to
  // measured RSS, docs/memory.md).
  EXPECT_EQ(p.overhead_bytes,
            kOverheadFixed + 1'000'000 + 32000u * (152 + 20) + 3u * 256 * 4096 * 4 + 4u * 256 * 11008);
  EXPECT_EQ(p.total_bytes, p.weights_bytes + p.kv_bytes + p.compute_bytes + p.overhead_bytes);
}

// TinyLlama-1.1B: 22 layers, GQA 32/4 x 64, q8_0 cache at 2048 tokens: a 256-value row
// is 8 blocks of 34 B = 272 B, so K+V per token = 2 x 22 x 272 = 11968 B.
TEST(MemoryPlan, TinyLlama_Q8_0Cache) {
  const ModelLayout m = shape(22, 2048, 32, 4, 64, 5632, 32000);
  const Plan p = make_plan(m, {.n_ctx = 2048, .kv_type = Type::Q8_0});
  EXPECT_EQ(p.kv_bytes_per_token, 11968u);
  EXPECT_EQ(p.kv_bytes, 24510464u);
  EXPECT_EQ(p.compute_bytes, 22197248u + 256u * 64 * 4);
}

// Phi-3-mini: fused qkv and gate|up, f32 cache at 512 tokens (no decode scratch):
// K+V per token = 2 x 32 x 3072 x 4 = 768 KiB.
TEST(MemoryPlan, Phi3Mini_F32Cache_Fused) {
  const ModelLayout m = shape(32, 3072, 32, 32, 96, 8192, 32064, true);
  const Plan p = make_plan(m, {.n_ctx = 512, .kv_type = Type::F32});
  EXPECT_EQ(p.kv_bytes_per_token, 786432u);
  EXPECT_EQ(p.kv_bytes, 402653184u);
  EXPECT_EQ(p.compute_bytes, 64353536u + 256u * 96 * 4);
}

TEST(MemoryPlan, DefaultContextFollowsTheRun) {
  ModelLayout m = shape(2, 256, 4, 2, 64, 768, 512);
  m.n_ctx_train = 512;
  EXPECT_EQ(make_plan(m, {}).n_ctx, 512);
  m.n_ctx_train = 32768;
  EXPECT_EQ(make_plan(m, {}).n_ctx, 4096);
}

TEST(MemoryPlan, LargestContextFitsAndTheNextStepDoesNot) {
  const ModelLayout m = shape(32, 4096, 32, 32, 128, 11008, 32000);
  const uint64_t budget = parse_size("4GiB");
  for (Type kv : {Type::F32, Type::F16, Type::Q8_0, Type::Q4_0}) {
    const int n = largest_context(m, {.kv_type = kv}, budget, 32768);
    ASSERT_GT(n, 0) << quant::type_name(kv);
    EXPECT_LE(make_plan(m, {.n_ctx = n, .kv_type = kv}).total_bytes, budget);
    EXPECT_GT(make_plan(m, {.n_ctx = n + 256, .kv_type = kv}).total_bytes, budget);
  }
  // Smaller cache types fit longer contexts.
  EXPECT_LT(largest_context(m, {.kv_type = Type::F16}, budget, 32768),
            largest_context(m, {.kv_type = Type::Q4_0}, budget, 32768));
  EXPECT_EQ(largest_context(m, {}, parse_size("1GiB"), 32768), 0);  // weights alone are 3 GB
}

TEST(MemoryPlan, ParseSize) {
  EXPECT_EQ(parse_size("4GiB"), 4ull << 30);
  EXPECT_EQ(parse_size("4G"), 4ull << 30);
  EXPECT_EQ(parse_size("512MiB"), 512ull << 20);
  EXPECT_EQ(parse_size("1.5g"), 3ull << 29);
  EXPECT_EQ(parse_size("1000"), 1000u);
  EXPECT_THROW(parse_size("lots"), Error);
  EXPECT_THROW(parse_size("4XB"), Error);
}

// A shape's plan (no file) and the plan of the file synth writes for it agree, for every newer
// family: the tensor list is one piece of knowledge (synth::shape_tensors).
TEST(MemoryPlan, ShapePlansMatchTheirFiles) {
  for (const char* name : {"qwen3", "gemma3", "smollm3", "minicpm", "glm4", "chatglm", "phi4-mini"}) {
    SCOPED_TRACE(name);
    const std::string folder = std::string(TANDEM_SOURCE_DIR) + "/tests/data/goldens/" + name;
    synth::ModelShape shape;
    synth::SynthOptions options;
    synth::read_spec(folder + "/spec.json", shape, options);
    const auto file = gguf::File::open(folder + "/model-F32.gguf");
    const ModelLayout from_file = layout_from_gguf(file);
    shape.n_vocab = from_file.n_vocab;
    const ModelLayout from_shape = layout_from_shape(shape, quant::find_recipe("F32"));
    ASSERT_EQ(from_shape.weights.size(), 1u);
    EXPECT_EQ(from_shape.weights[0].n_tensors, (int)file.tensors().size());
    EXPECT_EQ(from_shape.weight_bytes(), from_file.weight_bytes());
    EXPECT_EQ(from_shape.fused_qkv, from_file.fused_qkv);
    EXPECT_EQ(from_shape.fused_gate_up, from_file.fused_gate_up);
    EXPECT_EQ(from_shape.local_rope, from_file.local_rope);
  }
}

// Every shape `tandem plan --shape` offers plans without error, the newer families included.
TEST(MemoryPlan, EveryShapePlans) {
  for (const char* name : {"qwen3-0.6b", "qwen3-4b", "qwen3-8b", "gemma3-1b", "gemma3-4b", "minicpm-2b", "smollm3-3b",
                           "glm4-9b", "phi-4-mini"})
    EXPECT_NE(synth::find_shape(name), nullptr) << name;
  for (const auto& s : synth::all_shapes()) {
    SCOPED_TRACE(s.name);
    const ModelLayout m = layout_from_shape(s, quant::find_recipe("Q4_K_M"));
    const Plan p = make_plan(m, {.n_ctx = 4096});
    EXPECT_GT(p.weights_bytes, uint64_t(s.n_embd) * s.n_vocab / 2);
    EXPECT_EQ(p.kv_bytes_per_token, 2ull * s.n_layer * s.n_head_kv * s.dim_head() * 2);  // f16 cache
  }
}

TEST(MemoryPlan, ReadsOnlyTheHeader) {
  const auto f = gguf::File::open(test::shared_path("conformance/llama/model-Q4_K_M.gguf"));
  const ModelLayout m = layout_from_gguf(f);
  EXPECT_EQ(m.n_layer, 2);
  EXPECT_EQ(m.n_embd, 256);
  EXPECT_EQ(m.n_head_kv, 2);
  EXPECT_EQ(m.head_dim, 64);
  EXPECT_EQ(m.n_vocab, 512);
  uint64_t bytes = 0;
  for (const auto& t : f.tensors()) bytes += t.n_bytes;
  EXPECT_EQ(m.weight_bytes(), bytes);
  EXPECT_EQ(m.header_bytes, f.data_offset());
  ASSERT_EQ(m.weights.size(), 3u);  // F32, Q4_K, Q6_K
}

// Peak RSS of a child process, from wait4's rusage (kilobytes on Linux).
uint64_t peak_rss_of(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::fflush(stdout);  // the child must not inherit and re-print buffered output
  const pid_t pid = fork();
  if (pid == 0) {
    if (!std::freopen("/dev/null", "w", stdout)) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  if (wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 0;
  return uint64_t(usage.ru_maxrss) * 1024;
}

// docs/memory.md: the plan is an upper bound of a run's peak RSS, within 5%. Measured as
// bench/memory does: a prompt longer than one batch (the scratch buffers at full size),
// --ignore-eos. On two layers of real shapes (random weights from `tandem synth`): the
// plan's fixed allowances are fitted on such models and are not meant for toy ones, whose
// few MiB are mostly the process itself.
TEST(MemoryPlan, IsAnUpperBoundWithin5PercentOfMeasuredPeakRss) {
  if (std::string(TANDEM_CLI_LAUNCHER).size()) GTEST_SKIP() << "CLI runs under an emulator";
  struct Case {
    std::string shape, type;
    int n_ctx;
    std::string kv;
  };
  const Case cases[] = {{"tinyllama-1.1b", "Q4_0", 512, "f16"},
                        {"tinyllama-1.1b", "Q8_0", 1024, "q8_0"},
                        {"qwen2.5-0.5b", "Q4_K_M", 512, "f16"}};
  // The first 300 characters of a story: 400-430 tokens with these tokenizers, more than a batch.
  std::ifstream story(test::shared_path("text/tinystories_head.txt"), std::ios::binary);
  std::string text(300, '\0');
  ASSERT_TRUE(story.read(text.data(), 300)) << "cannot read ../shared/text/tinystories_head.txt";
  const std::string prompt = test::temp_path("plan-prompt.txt");
  std::ofstream(prompt, std::ios::binary) << text;
  for (const Case& c : cases) {
    const std::string path = test::temp_path(c.shape + "-" + c.type + ".gguf");
    const auto synth = test::run_cli("synth --shape " + c.shape + " --type " + c.type + " --layers 2 -o " + path);
    ASSERT_EQ(synth.exit_code, 0) << synth.err;
    const auto kv = c.kv == "f32" ? Type::F32 : c.kv == "f16" ? Type::F16 : Type::Q8_0;
    const Plan plan = make_plan(layout_from_gguf(gguf::File::open(path)), {.n_ctx = c.n_ctx, .kv_type = kv});
    const uint64_t measured = peak_rss_of({TANDEM_CLI, "run", "-m", path, "-f", prompt, "-n", "16", "--ignore-eos",
                                           "-c", std::to_string(c.n_ctx), "--kv-type", c.kv, "-t", "2"});
    ASSERT_GT(measured, 0u) << "tandem run failed for " << c.shape;
    const double error = 100.0 * (double(plan.total_bytes) - double(measured)) / double(measured);
    std::printf("  %s %-6s ctx %d kv %-4s predicted %s measured %s error %+.2f%%\n", c.shape.c_str(), c.type.c_str(),
                c.n_ctx, c.kv.c_str(), human_bytes(plan.total_bytes).c_str(), human_bytes(measured).c_str(), error);
    EXPECT_GE(plan.total_bytes, measured) << c.shape << " " << c.type;
    EXPECT_LE(error, 5.0) << c.shape << " " << c.type;
  }
}

}  // namespace
}  // namespace tandem::memory
