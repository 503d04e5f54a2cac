// Bad and unusual metadata of the newer families: each refusal is a tandem::Error that
// names what was wrong, and the accepted forms mean what llama.cpp makes of them.
#include <gtest/gtest.h>

#include <functional>

#include "core/error.h"
#include "model/context.h"
#include "support/gguf_rewrite.h"
#include "support/test_paths.h"

namespace tandem::model {
namespace {

std::string golden_model(const std::string& name) {
  return std::string(TANDEM_SOURCE_DIR) + "/tests/data/goldens/" + name + "/model-F32.gguf";
}

// The golden model `name` with `edit` applied, loaded.
std::shared_ptr<Model> load_edited(const std::string& name, const test::GgufEdit& edit) {
  static int counter = 0;
  const std::string path = test::temp_path(name + "-edited-" + std::to_string(counter++) + ".gguf");
  test::rewrite_gguf(gguf::File::open(golden_model(name)), edit, path);
  return Model::load(path);
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ArchMetadata, UnknownRopeScalingTypeIsRefusedByName) {
  const std::string message = error_of([] {
    load_edited("qwen3", {.set = {{"qwen3.rope.scaling.type", gguf::Value::string("dynamic-ntk")}}});
  });
  EXPECT_NE(message.find("unknown rope scaling type"), std::string::npos) << message;
  EXPECT_NE(message.find("'dynamic-ntk'"), std::string::npos) << message;
  EXPECT_NE(message.find("yarn"), std::string::npos) << message;  // the known ones are listed
}

TEST(ArchMetadata, RopeScalingTypesMeanWhatLlamaCppMakesOfThem) {
  // No type: the factor applies as linear scaling; "none" ignores it.
  auto linear = load_edited("qwen3", {.set = {{"qwen3.rope.scaling.factor", gguf::Value::f32(4.0f)}}});
  EXPECT_FLOAT_EQ(linear->hparams().rope.scale, 4.0f);
  EXPECT_FALSE(linear->hparams().rope.yarn);
  auto none = load_edited("qwen3", {.set = {{"qwen3.rope.scaling.type", gguf::Value::string("none")},
                                            {"qwen3.rope.scaling.factor", gguf::Value::f32(4.0f)}}});
  EXPECT_FLOAT_EQ(none->hparams().rope.scale, 1.0f);
  auto yarn = Model::load(std::string(TANDEM_SOURCE_DIR) + "/tests/data/goldens/qwen3-yarn/model-F32.gguf");
  EXPECT_TRUE(yarn->hparams().rope.yarn);
  EXPECT_FLOAT_EQ(yarn->hparams().rope.scale, 4.0f);
  // ggml_rope_yarn_corr_dims(16 dims, original context 64, base 1e6, beta 32 / 1):
  // 16 ln(64 / (2 pi 32)) / (2 ln 1e6) = -0.66 -> floor, at least 0; 16 ln(64 / 2 pi) / (2 ln 1e6) = 1.34 -> ceil.
  EXPECT_FLOAT_EQ(yarn->hparams().rope.yarn_low, 0.0f);
  EXPECT_FLOAT_EQ(yarn->hparams().rope.yarn_high, 2.0f);
}

TEST(ArchMetadata, SlidingWindowPatternOfTheWrongLengthOrKindIsRefused) {
  std::string message = error_of([] {
    load_edited("gemma3", {.set = {{"gemma3.attention.sliding_window_pattern",
                                    gguf::Value{gguf::ValueType::ARRAY, gguf::ValueType::BOOL, std::vector<uint64_t>{1, 1, 0}}}}});
  });
  EXPECT_NE(message.find("sliding_window_pattern has 3 entries, but the model has 6 layers"), std::string::npos) << message;
  message = error_of([] {
    load_edited("gemma3", {.set = {{"gemma3.attention.sliding_window_pattern", gguf::Value::string("5:1")}}});
  });
  EXPECT_NE(message.find("sliding_window_pattern"), std::string::npos) << message;
  message = error_of([] {
    load_edited("gemma3", {.set = {{"gemma3.attention.sliding_window_pattern",
                                    gguf::Value{gguf::ValueType::ARRAY, gguf::ValueType::F32, std::vector<double>(6, 1.0)}}}});
  });
  EXPECT_NE(message.find("sliding_window_pattern"), std::string::npos) << message;
}

TEST(ArchMetadata, SlidingWindowPatternsFollowLlamaCpp) {
  auto layers = [](const HParams& h) {
    std::string out;
    for (int il = 0; il < h.n_layer; il++) out += h.layer_uses_window(il) ? 'L' : 'G';
    return out;
  };
  EXPECT_EQ(layers(Model::load(golden_model("gemma3"))->hparams()), "LLLLLG");  // default period 6
  auto period3 = load_edited("gemma3", {.set = {{"gemma3.attention.sliding_window_pattern", gguf::Value::u32(3)}}});
  EXPECT_EQ(layers(period3->hparams()), "LLGLLG");
  auto flags = load_edited("gemma3", {.set = {{"gemma3.attention.sliding_window_pattern",
                                               gguf::Value{gguf::ValueType::ARRAY, gguf::ValueType::BOOL,
                                                           std::vector<uint64_t>{0, 1, 0, 1, 1, 0}}}}});
  EXPECT_EQ(layers(flags->hparams()), "GLGLLG");
  // Local layers rotate with rope.freq_base_swa (default 10000) and no scaling; global ones with the file's.
  const HParams& h = period3->hparams();
  EXPECT_FLOAT_EQ(h.layer_rope(0).base, 10000.0f);
  EXPECT_FLOAT_EQ(h.layer_rope(0).scale, 1.0f);
  EXPECT_FLOAT_EQ(h.layer_rope(2).base, 1e6f);
  EXPECT_FLOAT_EQ(h.layer_rope(2).scale, 8.0f);
  auto no_window = load_edited("gemma3", {.drop_keys = {"gemma3.attention.sliding_window"}});
  EXPECT_EQ(layers(no_window->hparams()), "GGGGGG");  // no window: every layer global, one rope
  EXPECT_FLOAT_EQ(no_window->hparams().layer_rope(0).base, 1e6f);
}

TEST(ArchMetadata, MissingFamilyTensorsAreListed) {
  std::string message = error_of([] {
    load_edited("qwen3", {.drop_tensors = {"blk.0.attn_q_norm.weight", "blk.1.attn_k_norm.weight"}});
  });
  EXPECT_NE(message.find("not a complete qwen3 model"), std::string::npos) << message;
  EXPECT_NE(message.find("blk.0.attn_q_norm.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("blk.1.attn_k_norm.weight"), std::string::npos) << message;
  message = error_of([] { load_edited("glm4", {.drop_tensors = {"blk.1.post_ffw_norm.weight"}}); });
  EXPECT_NE(message.find("blk.1.post_ffw_norm.weight"), std::string::npos) << message;
  // ChatGLM's converter fuses Q/K/V: without it the fused name is the one reported.
  message = error_of([] { load_edited("chatglm", {.drop_tensors = {"blk.0.attn_qkv.weight"}}); });
  EXPECT_NE(message.find("blk.0.attn_qkv.weight"), std::string::npos) << message;
  // Phi-3's factors must have one entry per rotated pair.
  message = error_of([] {
    load_edited("phi4-mini", {.set = {{"phi3.rope.dimension_count", gguf::Value::u32(8)}}});
  });
  EXPECT_NE(message.find("rope_factors_long.weight"), std::string::npos) << message;
}

TEST(ArchMetadata, OutOfRangeScalesAndBasesAreRefused) {
  std::string message = error_of([] { load_edited("minicpm", {.set = {{"minicpm.logit_scale", gguf::Value::f32(0.0f)}}}); });
  EXPECT_NE(message.find("logit_scale must be positive"), std::string::npos) << message;
  message = error_of([] { load_edited("gemma3", {.set = {{"gemma3.rope.freq_base_swa", gguf::Value::f32(-1.0f)}}}); });
  EXPECT_NE(message.find("rope.freq_base_swa must be a positive number"), std::string::npos) << message;
  message = error_of([] { load_edited("qwen3", {.set = {{"qwen3.rope.freq_base", gguf::Value::f32(0.0f)}}}); });
  EXPECT_NE(message.find("rope.freq_base must be a positive number"), std::string::npos) << message;
  message = error_of([] { load_edited("qwen3", {.set = {{"qwen3.block_count", gguf::Value::u32(1u << 30)}}}); });
  EXPECT_NE(message.find("block_count 1073741824 exceeds"), std::string::npos) << message;
  message = error_of([] { load_edited("qwen3", {.set = {{"qwen3.attention.key_length", gguf::Value::u32(1u << 28)}}}); });
  EXPECT_NE(message.find("key_length"), std::string::npos) << message;
  // No rotated dimension at all (model_metadata_fuzz_test found the empty angle table).
  message = error_of([] { load_edited("qwen3", {.set = {{"qwen3.rope.dimension_count", gguf::Value::u32(0)}}}); });
  EXPECT_NE(message.find("rope dims 0"), std::string::npos) << message;
}

}  // namespace
}  // namespace tandem::model
