// Synthetic models: real tensor names and shapes, loadable, and numerically sane.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "core/error.h"
#include "gguf/file.h"
#include "model/context.h"
#include "quant/reference.h"
#include "support/test_paths.h"
#include "synth/random_weights.h"
#include "synth/spec.h"
#include "synth/synth.h"
#include "synth/vocab.h"

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
                                    std::pair{"llama-3.2-1b", "Q3_K_M"}, std::pair{"smollm-135m", "F16"},
                                    std::pair{"qwen3-0.6b", "Q8_0"}, std::pair{"gemma3-1b", "Q4_K_M"},
                                    std::pair{"smollm3-3b", "Q4_0"}, std::pair{"minicpm-2b", "Q8_0"},
                                    std::pair{"glm4-9b", "Q4_0"}, std::pair{"phi-4-mini", "Q4_K_M"}}) {
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

// Each newer family's shape carries the tensors and metadata its row of the table needs.
TEST(Synth, NewerFamiliesHaveTheirTensorsAndMetadata) {
  {
    auto f = gguf::File::open(synth_file("qwen3-4b", "Q4_K_M", "", 1024));
    EXPECT_EQ(dims_of(f, "blk.0.attn_q.weight"), (Dims{2560, 4096}));  // 32 heads x 128 > n_embd
    EXPECT_EQ(dims_of(f, "blk.0.attn_q_norm.weight"), (Dims{128}));
    EXPECT_EQ(dims_of(f, "blk.0.attn_k_norm.weight"), (Dims{128}));
    EXPECT_EQ(f.find_tensor("blk.0.attn_q.bias"), nullptr);
  }
  {
    auto f = gguf::File::open(synth_file("gemma3-4b", "Q4_0", "", 1024));
    EXPECT_EQ(f.get_uint("gemma3.attention.sliding_window"), 1024u);
    EXPECT_EQ(f.get_string("gemma3.rope.scaling.type"), "linear");
    EXPECT_NEAR(f.get_float("gemma3.rope.scaling.factor"), 8.0, 1e-6);
    EXPECT_NE(f.find_tensor("blk.0.post_ffw_norm.weight"), nullptr);
    EXPECT_NE(f.find_tensor("blk.0.attn_k_norm.weight"), nullptr);
  }
  {
    auto f = gguf::File::open(synth_file("glm4-9b", "Q4_0", "", 1024));
    EXPECT_EQ(f.get_uint("glm4.rope.dimension_count"), 64u);
    EXPECT_EQ(dims_of(f, "blk.0.ffn_up.weight"), (Dims{4096, 2 * 13696}));  // [gate | up]
    EXPECT_EQ(f.find_tensor("blk.0.ffn_gate.weight"), nullptr);
    EXPECT_EQ(dims_of(f, "blk.0.attn_k.bias"), (Dims{256}));
    EXPECT_NE(f.find_tensor("blk.0.post_attention_norm.weight"), nullptr);
  }
  {
    auto f = gguf::File::open(synth_file("phi-4-mini", "Q4_0", "", 1024));
    EXPECT_EQ(f.get_uint("phi3.rope.dimension_count"), 96u);
    EXPECT_EQ(dims_of(f, "rope_factors_long.weight"), (Dims{48}));
    EXPECT_EQ(dims_of(f, "rope_factors_short.weight"), (Dims{48}));
    EXPECT_EQ(f.get_uint("phi3.rope.scaling.original_context_length"), 4096u);
    EXPECT_NEAR(f.get_float("phi3.rope.scaling.attn_factor"), std::sqrt(1 + std::log(32.0) / std::log(4096.0)), 1e-6);
    auto model = model::Model::load(f.path());
    EXPECT_EQ(model->hparams().rope_dims, 96);
  }
  {
    auto f = gguf::File::open(synth_file("minicpm-2b", "Q8_0", "", 1024));
    auto model = model::Model::load(f.path());
    EXPECT_NEAR(model->hparams().embed_scale, 12.0f, 1e-6);
    EXPECT_NEAR(model->hparams().residual_scale, 1.4f / std::sqrt(40.0f), 1e-6);
    EXPECT_NEAR(model->hparams().logit_scale, 2304.0f / 256.0f, 1e-6);
  }
}

// A slice of a real vocabulary keeps only merges among kept tokens and moves special ids with their text.
TEST(Synth, VocabularySliceKeepsMergesAndSpecialTokensConsistent) {
  synth::VocabSlice slice;
  slice.keep = 300;
  slice.add = {{"<|im_start|>", 3}, {"<think>", 4}};
  slice.special = {{"eos", "<|im_start|>"}};
  const auto sliced = synth::slice_tokenizer(synth::copy_tokenizer(test::shared_path("tokenizers/ggml-vocab-qwen2.gguf")), slice);
  std::vector<std::string> tokens, merges;
  std::vector<int64_t> types;
  std::map<std::string, uint64_t> ids;
  for (const auto& [key, value] : sliced) {
    if (key == "tokenizer.ggml.tokens") tokens = std::get<std::vector<std::string>>(value.data);
    if (key == "tokenizer.ggml.merges") merges = std::get<std::vector<std::string>>(value.data);
    if (key == "tokenizer.ggml.token_type") types = std::get<std::vector<int64_t>>(value.data);
    if (key.size() > 9 && key.substr(key.size() - 9) == "_token_id") ids[key] = std::get<uint64_t>(value.data);
  }
  ASSERT_EQ(tokens.size(), 302u);
  EXPECT_EQ(tokens[300], "<|im_start|>");
  EXPECT_EQ(types[300], 3);  // the source's type (control)
  EXPECT_EQ(types[301], 4);  // a new token gets the given type
  EXPECT_EQ(merges.size(), 44u);  // the first 44 merges make tokens 256..299 (Qwen2's vocabulary is in merge order)
  for (const std::string& merge : merges) {
    const size_t space = merge.find(' ', 1);
    const std::string joined = merge.substr(0, space) + merge.substr(space + 1);
    EXPECT_NE(std::find(tokens.begin(), tokens.end(), joined), tokens.end()) << merge;
  }
  EXPECT_EQ(ids["tokenizer.ggml.eos_token_id"], 300u);
  EXPECT_EQ(ids.count("tokenizer.ggml.bos_token_id"), 0u);  // <|endoftext|> was cut: its id is dropped
  slice.special = {{"eos", "<|im_end|>"}};
  EXPECT_THROW(synth::slice_tokenizer(synth::copy_tokenizer(test::shared_path("tokenizers/ggml-vocab-qwen2.gguf")), slice),
               Error);
}

// Every golden-test spec in the repository reads back as its model's shape.
TEST(Synth, GoldenSpecsDescribeTheirModels) {
  for (const char* name : {"qwen3", "gemma3", "smollm3", "minicpm", "glm4", "chatglm", "phi4-mini"}) {
    SCOPED_TRACE(name);
    const std::string folder = std::string(TANDEM_SOURCE_DIR) + "/tests/data/goldens/" + name;
    synth::ModelShape shape;
    synth::SynthOptions options;
    synth::read_spec(folder + "/spec.json", shape, options);
    EXPECT_EQ(options.shape, &shape);
    const auto model = model::Model::load(folder + "/model-F32.gguf");
    EXPECT_EQ(model->hparams().arch->name, shape.arch);
    EXPECT_EQ(model->hparams().n_layer, shape.n_layer);
    EXPECT_EQ(model->hparams().head_dim, shape.dim_head());
    EXPECT_EQ(model->hparams().rope_dims, shape.dim_rope());
  }
  synth::ModelShape shape;
  synth::SynthOptions options;
  EXPECT_THROW(synth::read_spec("/nonexistent/spec.json", shape, options), Error);
  const std::string bad = test::temp_path("bad-spec.json");
  std::ofstream(bad) << R"({"shape": {"name": "x", "arch": "qwen3"}})";
  try {
    synth::read_spec(bad, shape, options);
    ADD_FAILURE() << "a spec without n_embd was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("n_embd"), std::string::npos) << e.what();
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
