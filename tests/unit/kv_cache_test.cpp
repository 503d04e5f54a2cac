// KV cache types: F16 and Q8_0 caches must not change what the model says on the
// real stories260K model (greedy), and sizes must be what the types imply.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "model/context.h"
#include "model/kv_cache.h"
#include "support/test_paths.h"

using namespace tandem;

namespace {

std::vector<int32_t> greedy(quant::Type kv_type, int n) {
  static auto model = model::Model::load(test::shared_path("models/stories260K.gguf"));
  model::Context ctx(model, {.n_ctx = 512, .n_threads = 2, .kv_type = kv_type});
  std::vector<int32_t> out;
  std::vector<int32_t> next{1};  // BOS
  for (int i = 0; i < n; i++) {
    ctx.eval(next);
    const float* logits = ctx.logits(0);
    next[0] = (int32_t)(std::max_element(logits, logits + ctx.n_vocab()) - logits);
    out.push_back(next[0]);
  }
  return out;
}

TEST(KvCache, Q8_0KeepsGreedyTokensOver64Steps) { EXPECT_EQ(greedy(quant::Type::Q8_0, 64), greedy(quant::Type::F32, 64)); }

TEST(KvCache, F16KeepsGreedyTokensOver256Steps) { EXPECT_EQ(greedy(quant::Type::F16, 256), greedy(quant::Type::F32, 256)); }

TEST(KvCache, Q4_0RunsAndStaysClose) {
  // 4-bit keys and values are lossy; the first tokens of the story still agree.
  auto q4 = greedy(quant::Type::Q4_0, 16), f32 = greedy(quant::Type::F32, 16);
  EXPECT_TRUE(std::equal(q4.begin(), q4.begin() + 8, f32.begin()));
}

TEST(KvCache, BytesFollowTheType) {
  // 2 (K and V) x layers x row bytes per token.
  EXPECT_EQ(model::KvCache::bytes_per_token(22, 256, quant::Type::F16), 2u * 22 * 512);
  EXPECT_EQ(model::KvCache::bytes_per_token(22, 256, quant::Type::F32), 2u * 22 * 1024);
  EXPECT_EQ(model::KvCache::bytes_per_token(22, 256, quant::Type::Q8_0), 2u * 22 * 8 * 34);
  EXPECT_EQ(model::KvCache::bytes_per_token(22, 256, quant::Type::Q4_0), 2u * 22 * 8 * 18);
  model::KvCache cache(2, 16, 64, quant::Type::Q8_0);
  EXPECT_EQ(cache.bytes(), 2u * 2 * 16 * 2 * 34);
}

TEST(KvCache, UnsupportedTypeOrRowIsAClearError) {
  EXPECT_THROW(model::KvCache(1, 4, 64, quant::Type::Q4_K), Error);
  EXPECT_THROW(model::KvCache(1, 4, 40, quant::Type::Q8_0), Error);  // 40 is not a multiple of 32
}

}  // namespace
