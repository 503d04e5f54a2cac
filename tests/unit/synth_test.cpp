// Synthetic models: real tensor names and shapes, loadable, and numerically sane.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "gguf/file.h"
#include "model/context.h"
#include "quant/reference.h"
#include "support/test_paths.h"
#include "synth/random_weights.h"
#include "synth/synth.h"

using namespace tandem;

namespace {

// generated_vocab keeps files small where the vocabulary size is not under test.
std::string synth_file(const std::string& shape, const std::string& type, const std::string& vocab = "",
                       int generated_vocab = 0) {
  synth::SynthOptions o;
  o.shape = synth::find_shape(shape);
  EXPECT_NE(o.shape, nullptr) << shape;
  o.recipe = &synth::find_recipe(type);
  o.layers = 1;
  o.vocab_path = vocab;
  o.generated_vocab = generated_vocab;
  o.threads = 2;
  const std::string path = test::temp_path(shape + "-" + type + ".gguf");
  synth::synthesize(o, path);
  return path;
}

std::vector<uint64_t> dims_of(const gguf::File& f, const std::string& name) {
  const auto* t = f.find_tensor(name);
  return t ? t->dims : std::vector<uint64_t>{};
}

using Dims = std::vector<uint64_t>;

TEST(Synth, TinyLlamaHasTheRealShapesAndTypes) {
  auto f = gguf::File::open(synth_file("tinyllama-1.1b", "Q4_0"));
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_uint("llama.block_count"), 1u);
  EXPECT_EQ(f.get_uint("llama.attention.head_count_kv"), 4u);
  EXPECT_EQ(dims_of(f, "token_embd.weight"), (Dims{2048, 32000}));
  EXPECT_EQ(dims_of(f, "blk.0.attn_q.weight"), (Dims{2048, 2048}));
  EXPECT_EQ(dims_of(f, "blk.0.attn_k.weight"), (Dims{2048, 256}));
  EXPECT_EQ(dims_of(f, "blk.0.ffn_up.weight"), (Dims{2048, 5632}));
  EXPECT_EQ(dims_of(f, "blk.0.ffn_down.weight"), (Dims{5632, 2048}));
  EXPECT_EQ(dims_of(f, "output.weight"), (Dims{2048, 32000}));
  EXPECT_EQ(f.find_tensor("blk.1.attn_q.weight"), nullptr);
  // llama-quantize gives the output matrix Q6_K and leaves norms in F32.
  EXPECT_EQ(f.find_tensor("output.weight")->type, quant::Type::Q6_K);
  EXPECT_EQ(f.find_tensor("blk.0.attn_q.weight")->type, quant::Type::Q4_0);
  EXPECT_EQ(f.find_tensor("blk.0.attn_norm.weight")->type, quant::Type::F32);
  auto model = model::Model::load(f.path());
  EXPECT_EQ(model->hparams().n_vocab, 32000);
}

TEST(Synth, QwenTiesTheOutputAndFallsBackWhereRowsAreNotSuperBlocks) {
  auto f = gguf::File::open(synth_file("qwen2.5-0.5b", "Q4_K_M", "", 1024));
  EXPECT_EQ(f.get_string("general.architecture"), "qwen2");
  EXPECT_NEAR(f.get_float("qwen2.rope.freq_base"), 1e6, 1);
  EXPECT_EQ(f.get_uint("qwen2.attention.head_count"), 14u);
  EXPECT_EQ(f.get_uint("qwen2.attention.head_count_kv"), 2u);
  EXPECT_EQ(dims_of(f, "token_embd.weight"), (Dims{896, 1024}));
  EXPECT_EQ(dims_of(f, "blk.0.attn_q.weight"), (Dims{896, 896}));
  EXPECT_EQ(dims_of(f, "blk.0.attn_k.weight"), (Dims{896, 128}));
  EXPECT_EQ(dims_of(f, "blk.0.attn_k.bias"), (Dims{128}));
  EXPECT_EQ(dims_of(f, "blk.0.ffn_down.weight"), (Dims{4864, 896}));
  EXPECT_EQ(f.find_tensor("output.weight"), nullptr);
  // 896 is not a multiple of 256: Q4_K -> Q5_0 and the tied output Q6_K -> Q8_0, as llama.cpp does.
  EXPECT_EQ(f.find_tensor("blk.0.attn_q.weight")->type, quant::Type::Q5_0);
  EXPECT_EQ(f.find_tensor("token_embd.weight")->type, quant::Type::Q8_0);
  // Layer 0 of ffn_down uses more bits in Q4_K_M; 4864 rows are whole super-blocks.
  EXPECT_EQ(f.find_tensor("blk.0.ffn_down.weight")->type, quant::Type::Q6_K);
  EXPECT_NO_THROW(model::Model::load(f.path()));
}

TEST(Synth, RealVocabularyIsCopied) {
  auto f = gguf::File::open(synth_file("smollm-135m", "Q8_0", test::shared_path("tokenizers/ggml-vocab-llama-spm.gguf")));
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(f.get_strings("tokenizer.ggml.tokens").size(), 32000u);
  EXPECT_EQ(dims_of(f, "token_embd.weight"), (Dims{576, 32000}));
}

TEST(Synth, OneLayerModelsGenerateWithoutNaN) {
  for (const auto& [shape, type] : {std::pair{"tinyllama-1.1b", "Q4_K_M"}, std::pair{"qwen2.5-0.5b", "Q8_0"},
                                    std::pair{"phi-3-mini", "Q4_0"}, std::pair{"gemma-2-2b", "Q6_K"},
                                    std::pair{"llama-3.2-1b", "Q3_K_M"}, std::pair{"smollm-135m", "F16"}}) {
    SCOPED_TRACE(std::string(shape) + " " + type);
    auto model = model::Model::load(synth_file(shape, type, "", 2048));
    model::Context ctx(model, {.n_ctx = 32, .n_threads = 2});
    std::vector<int32_t> prompt = {1, 300, 301, 302};
    ctx.eval(prompt);
    for (int step = 0; step < 4; step++) {
      const float* logits = ctx.logits();
      int best = 0;
      for (int i = 0; i < ctx.n_vocab(); i++) {
        ASSERT_TRUE(std::isfinite(logits[i])) << "logit " << i << " at step " << step;
        if (logits[i] > logits[best]) best = i;
      }
      ctx.eval(std::span(&best, 1));
    }
  }
}

TEST(Synth, RandomBlocksHaveTheRequestedSpread) {
  for (auto type : {quant::Type::Q2_K, quant::Type::Q3_K, quant::Type::Q4_K, quant::Type::Q5_K, quant::Type::Q6_K,
                    quant::Type::Q4_0, quant::Type::F16}) {
    SCOPED_TRACE(quant::type_name(type));
    const uint64_t rows = 16, n = 1024;
    std::vector<uint8_t> bytes(rows * quant::row_bytes(quant::traits(type), n));
    synth::fill_random_rows(type, rows, n, 0.0f, 0.05f, 7, bytes.data());
    std::vector<float> values(rows * n);
    quant::dequantize_row(type, bytes.data(), values.data(), (int64_t)values.size());
    double sum = 0, sum_sq = 0;
    for (float v : values) sum += v, sum_sq += (double)v * v;
    const double mean = sum / values.size(), sd = std::sqrt(sum_sq / values.size() - mean * mean);
    EXPECT_NEAR(mean, 0.0, 0.01);
    EXPECT_NEAR(sd, 0.05, 0.015);
  }
}

TEST(Synth, UnknownNamesAreErrors) {
  EXPECT_EQ(synth::find_shape("llama-9b"), nullptr);
  EXPECT_THROW(synth::find_recipe("Q7_0"), Error);
  EXPECT_EQ(synth::find_recipe("q4_k").recipe, synth::Recipe::Q4_K_M);
}

}  // namespace
