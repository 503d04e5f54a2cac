// `tandem quantize` end to end: llama.cpp's Q4_K_M of the conformance models reproduced
// (types and bytes), the result's logits against llama.cpp's dequantized golden, every
// type reloading and running, and the errors users can cause.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "conformance/golden.h"
#include "gguf/file.h"
#include "model/context.h"
#include "support/compare.h"
#include "support/ggml_peer.h"
#include "support/test_paths.h"

using namespace tandem;
using test::run_cli;
using test::shared_path;

namespace {

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string quantize(const std::string& in, const std::string& type, const std::string& extra = "") {
  const std::string out = test::temp_path("quantized-" + type + ".gguf");
  auto r = run_cli("quantize " + in + " " + out + " " + type + " -t 2 " + extra);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return out;
}

class LlamaCppQ4_K_M : public ::testing::TestWithParam<std::string> {};

// Same tensors, types and data bytes as llama-quantize's file (metadata order may differ).
TEST_P(LlamaCppQ4_K_M, ReproducesLlamaQuantize) {
  const std::string dir = "conformance/" + GetParam() + "/";
  const std::string out = quantize(shared_path(dir + "model-F32.gguf"), "Q4_K_M");
  const auto ours = gguf::File::open(out);
  const auto theirs = gguf::File::open(shared_path(dir + "model-Q4_K_M.gguf"));
  EXPECT_EQ(ours.get_uint("general.file_type"), 15u);
  EXPECT_EQ(ours.get_uint("general.quantization_version"), 2u);
  ASSERT_EQ(ours.tensors().size(), theirs.tensors().size());
  for (size_t i = 0; i < ours.tensors().size(); i++) {
    const auto& a = ours.tensors()[i];
    const auto& b = theirs.tensors()[i];
    EXPECT_EQ(a.name, b.name) << "tensor order at " << i;
    EXPECT_EQ(quant::type_name(a.type), quant::type_name(b.type)) << a.name;
    ASSERT_EQ(a.n_bytes, b.n_bytes) << a.name;
    EXPECT_EQ(std::memcmp(a.data, b.data, a.n_bytes), 0) << a.name << " bytes differ";
  }
  const auto whole_ours = read_bytes(out), whole_theirs = read_bytes(shared_path(dir + "model-Q4_K_M.gguf"));
  std::printf("  %s: whole file %s llama.cpp's\n", GetParam().c_str(),
              whole_ours == whole_theirs ? "identical to" : "differs (metadata) from");
}

INSTANTIATE_TEST_SUITE_P(Conformance, LlamaCppQ4_K_M, ::testing::Values("llama", "llama3", "qwen2", "phi3"));

// Our Q4_K_M file runs exactly like llama.cpp's (its tensor bytes are identical), and
// within the conformance tolerance of llama.cpp's own Q4_K_M logits (0.4 for the
// quantized goldens: llama.cpp quantizes activations on the fly, see the README).
TEST(QuantizeCli, Q4_K_M_LogitsMatchLlamaCpp) {
  const std::string out = quantize(shared_path("conformance/llama/model-F32.gguf"), "Q4_K_M");
  const auto golden = test::Golden::load("conformance/llama", "golden-Q4_K_M-prompt1.json");
  auto logits_of = [&](const std::string& path) {
    model::Context ctx(model::Model::load(path), {.n_ctx = 512, .n_threads = 2, .kv_type = quant::Type::F32});
    ctx.eval(golden.prompt_tokens, true);
    std::vector<float> all;
    for (int i = 0; i < ctx.n_logits(); i++) all.insert(all.end(), ctx.logits(i), ctx.logits(i) + ctx.n_vocab());
    return all;
  };
  const auto ours = logits_of(out);
  EXPECT_EQ(ours, logits_of(shared_path("conformance/llama/model-Q4_K_M.gguf")));
  const size_t n_vocab = ours.size() / golden.prompt_top.size();
  float worst = 0;
  for (size_t i = 0; i < golden.prompt_top.size(); i++)
    for (auto [id, value] : golden.prompt_top[i]) worst = std::max(worst, test::abs_error(ours[i * n_vocab + id], value));
  EXPECT_LT(worst, 0.4f);
  std::printf("  max |logit - llama.cpp Q4_K_M golden| = %.3f\n", worst);
}

// `out` with every quantized tensor's bytes replaced by the peer's (llama.cpp's ggml_quantize_chunk,
// what llama-quantize writes) for the same type from the F32 original: the file llama-quantize
// would have written with our type choices. Returns how many tensors were already identical.
int write_peer_file(const std::string& out, const std::string& f32_path, const std::string& peer_path, int& quantized) {
  std::vector<uint8_t> bytes = read_bytes(out);
  const auto ours = gguf::File::open(out);
  const auto original = gguf::File::open(f32_path);
  int identical = 0;
  quantized = 0;
  for (const auto& t : ours.tensors()) {
    const gguf::TensorInfo* f = original.find_tensor(t.name);
    if (!f || t.type == quant::Type::F32) continue;
    quantized++;
    const auto theirs = test::GgmlPeer::get().quantize(t.type, reinterpret_cast<const float*>(f->data),
                                                      int64_t(f->rows()), int64_t(f->dims[0]));
    EXPECT_EQ(theirs.size(), t.n_bytes) << t.name;
    const size_t offset = size_t(t.data - ours.bytes()->data());
    identical += std::memcmp(theirs.data(), t.data, t.n_bytes) == 0;
    std::memcpy(bytes.data() + offset, theirs.data(), std::min(theirs.size(), size_t(t.n_bytes)));
  }
  std::ofstream(peer_path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  return identical;
}

// Every type: the file reloads and runs, and its last logits are no further from the F32
// model's than those of the same file with llama-quantize's bytes for each tensor (the peer):
// the error bound is llama.cpp's own on the same tensors, not a figure fitted to ours.
TEST(QuantizeCli, EveryTypeIsAsCloseToF32AsLlamaQuantizesOutput) {
  const std::string f32 = shared_path("conformance/llama/model-F32.gguf");
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378, 290, 300};
  auto last_logits = [&](const std::string& path) {
    model::Context ctx(model::Model::load(path), {.n_ctx = 64, .n_threads = 2, .kv_type = quant::Type::F32});
    ctx.eval(prompt);
    return std::vector<float>(ctx.logits(0), ctx.logits(0) + ctx.n_vocab());
  };
  const auto reference = last_logits(f32);
  auto relative_rms = [&](const std::vector<float>& logits) {
    double err = 0, norm = 0;
    for (size_t i = 0; i < logits.size(); i++) {
      err += double(logits[i] - reference[i]) * (logits[i] - reference[i]);
      norm += double(reference[i]) * reference[i];
    }
    return std::isfinite(err) ? std::sqrt(err / norm) : INFINITY;
  };
  for (const std::string type : {"F16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_1", "Q5_0", "Q4_K_M", "Q4_K_S", "Q4_1",
                                 "Q4_0", "Q3_K_M", "Q3_K_S", "Q3_K_L", "Q2_K"}) {
    const std::string ours = quantize(f32, type), peer = test::temp_path("peer-" + type + ".gguf");
    int quantized = 0;
    const int identical = write_peer_file(ours, f32, peer, quantized);
    const double rel = relative_rms(last_logits(ours)), peer_rel = relative_rms(last_logits(peer));
    std::printf("  %-7s logits relative RMS vs F32 %.4f (llama-quantize's bytes: %.4f; %d of %d tensors identical)\n",
                type.c_str(), rel, peer_rel, identical, quantized);
    EXPECT_GT(quantized, 0) << type;
    EXPECT_LE(rel, peer_rel * (1 + 1e-6)) << type;
  }
}

// stories260K has 64-wide rows: K-quants cannot divide them and fall back to legal types.
TEST(QuantizeCli, OddRowsFallBackAndStillRun) {
  const std::string out = test::temp_path("stories-q4km.gguf");
  auto r = run_cli("quantize " + shared_path("models/stories260K.gguf") + " " + out + " Q4_K_M -t 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("not a multiple of 256"), std::string::npos) << r.err;
  const auto f = gguf::File::open(out);
  EXPECT_EQ(f.find_tensor("blk.0.attn_q.weight")->type, quant::Type::Q5_0);
  // The fallback tensors are what llama.cpp writes for Q5_0.
  int quantized = 0;
  EXPECT_EQ(write_peer_file(out, shared_path("models/stories260K.gguf"), test::temp_path("stories-peer.gguf"), quantized),
            quantized);
  EXPECT_GT(quantized, 0);
  auto run = run_cli("run -m " + out + " -p 'Once upon a time' -n 16 --temp 0 --ignore-eos -v -t 2");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.rfind("Once upon a time", 0), 0u) << run.out;
  EXPECT_NE(run.err.find("generated 16 tokens"), std::string::npos) << run.err;
}

TEST(QuantizeCli, Errors) {
  const std::string out = test::temp_path("never.gguf");
  auto unknown = run_cli("quantize " + shared_path("models/stories260K.gguf") + " " + out + " Q7_K");
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("unknown quantization type 'Q7_K'"), std::string::npos) << unknown.err;
  EXPECT_FALSE(std::filesystem::exists(out));

  const std::string q4 = shared_path("conformance/llama/model-Q4_0.gguf");
  auto again = run_cli("quantize " + q4 + " " + out + " Q4_K_M");
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("--allow-requantize"), std::string::npos) << again.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  auto forced = run_cli("quantize " + q4 + " " + out + " Q4_K_M --allow-requantize -t 2");
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NO_THROW(model::Model::load(out));
  EXPECT_EQ(gguf::File::open(out).find_tensor("blk.0.attn_q.weight")->type, quant::Type::Q4_K);

  auto missing = run_cli("quantize /nonexistent.gguf " + out + " Q8_0");
  EXPECT_NE(missing.exit_code, 0);
}

}  // namespace
