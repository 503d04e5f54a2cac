// The newer families' model metadata fuzzed key by key (GGUF files of tests/data/goldens):
// whatever a file says, loading the model and evaluating tokens either works or is a
// tandem::Error, never a crash (ASan/UBSan in scripts/test.sh), another exception or a hang.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/file.h"
#include "model/context.h"
#include "support/gguf_rewrite.h"
#include "support/test_paths.h"

namespace tandem::gguf {
namespace {

// The newer families' metadata, one key at a time set to a value of the wrong kind or an
// extreme one (and the keys they may carry but these files lack): loading the model and
// evaluating a few tokens either works or is a tandem::Error, never a crash (ASan/UBSan in CI),
// another exception or a hang.
TEST(ModelMetadataFuzz, EveryKeyWithAnyValueLoadsOrIsRefused) {
  using gguf::Value, gguf::ValueType;
  const std::vector<Value> values = {
      Value::u32(0), Value::u32(1), Value::u32(3), Value::u32(0xffffffffu), Value::i32(-2), Value::f32(0.0f),
      Value::f32(-1.0f), Value::f32(std::nanf("")), Value::f32(1e30f), Value::string("yarn"), Value::string("bogus"),
      Value::boolean(true), Value{ValueType::ARRAY, ValueType::BOOL, std::vector<uint64_t>{1, 0, 1}},
      Value{ValueType::ARRAY, ValueType::I32, std::vector<int64_t>(6, 1)}};
  const std::vector<std::string> extra = {"attention.sliding_window_pattern", "attention.sliding_window", "rope.scaling.type",
                                          "rope.scaling.factor", "rope.freq_base_swa", "rope.scaling.attn_factor",
                                          "rope.scaling.original_context_length", "embedding_scale", "residual_scale",
                                          "logit_scale", "final_logit_softcapping", "attn_logit_softcapping"};
  int loaded = 0, refused = 0;
  for (const std::string name : {"gemma3", "phi4-mini", "minicpm", "qwen3-yarn"}) {
    const std::string source_path = std::string(TANDEM_SOURCE_DIR) + "/tests/data/goldens/" + name + "/model-F32.gguf";
    const File source = File::open(source_path);
    const std::string arch = source.get_string("general.architecture");
    std::vector<std::string> keys;
    for (const auto& [key, value] : source.metadata())
      if (key.rfind(arch + ".", 0) == 0) keys.push_back(key);
    for (const std::string& key : extra) keys.push_back(arch + "." + key);
    for (const std::string& key : keys) {
      for (const Value& value : values) {
        const std::string context = name + ": " + key + " = " + value.to_string();
        const std::string path = test::temp_path("metadata-fuzz.gguf");
        test::rewrite_gguf(source, {.set = {{key, value}}}, path);
        try {
          auto model = model::Model::load(path);
          model::Context ctx(model, {.n_ctx = 16, .n_threads = 1, .kv_type = quant::Type::F32});
          const std::vector<int32_t> tokens = {1, 2, 3};
          ctx.eval(tokens);
          ctx.eval(std::vector<int32_t>{4});
          loaded++;
        } catch (const Error&) {
          refused++;
        } catch (const std::exception& e) {
          ADD_FAILURE() << context << ": threw a non-tandem exception: " << e.what();
        }
        if (HasFailure()) return;
      }
    }
  }
  std::printf("[ metadata ] %d variants loaded and ran, %d refused with an error\n", loaded, refused);
  EXPECT_GT(loaded, 0);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace tandem::gguf
