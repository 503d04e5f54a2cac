// Continuous batching: Context::eval_step appends one token to each of several
// sequences in one forward pass. Each sequence must get the logits it would get
// stepping alone with eval(), whatever the others hold.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/context.h"
#include "support/compare.h"
#include "support/test_paths.h"

using namespace tandem;

namespace {

// The same arithmetic per row either way; only the matmul may split a row's sums
// differently when it sees several tokens (gemm) instead of one (gemv), and that
// rounding drift is far below 1e-4 on these logits.
//
// The models are float ones on purpose: with quantized weights the SIMD kernels
// quantize activations to int8, so a last-bit difference between gemv and gemm can
// round one activation to the next step, a jump of ~0.05 in the logits, which says
// nothing about batching. Batching itself (positions, KV cache and attention per
// sequence) is the same code for every weight type.
constexpr float kTolerance = 1e-4f;
constexpr int kSteps = 20;

struct Case {
  const char* name;
  const char* path;  // under /work/shared
};

const Case kCases[] = {
    {"stories260K", "models/stories260K.gguf"},              // llama, MHA
    {"qwen2_gqa_bias", "conformance/qwen2/model-F32.gguf"},  // grouped KV heads, QKV biases
    {"phi3_fused", "conformance/phi3/model-F32.gguf"},       // fused QKV and gate|up
    {"llama3_rope_freqs", "conformance/llama3/model-F32.gguf"},
};

// Three prompts of different lengths, so the sequences sit at different positions.
std::vector<std::vector<int32_t>> prompts(int n_vocab) {
  std::vector<std::vector<int32_t>> out;
  for (int length : {5, 17, 1}) {
    std::vector<int32_t> p;
    for (int i = 0; i < length; i++) p.push_back((7 + 31 * i + 13 * length) % (n_vocab - 1) + 1);
    out.push_back(p);
  }
  return out;
}

int32_t argmax(const float* logits, int n) { return int32_t(std::max_element(logits, logits + n) - logits); }

// Infinite when the batched logits `b` hold a NaN or an infinity.
float max_abs_diff(const std::vector<float>& a, const float* b) { return test::max_abs_error(b, a.data(), a.size()); }

using Trace = std::vector<std::vector<float>>;  // logits after each step

// One sequence alone: its prompt, then greedy steps with eval(); the tokens it chose and its logits.
void run_alone(std::shared_ptr<model::Model> model, const std::vector<int32_t>& prompt, std::vector<int32_t>& tokens,
               Trace& trace) {
  model::Context ctx(model, {.n_ctx = 128, .n_threads = 2});
  ctx.eval(prompt);
  for (int step = 0; step < kSteps; step++) {
    const int32_t next = argmax(ctx.logits(0), ctx.n_vocab());
    tokens.push_back(next);
    ctx.eval(std::span(&next, 1));
    trace.emplace_back(ctx.logits(0), ctx.logits(0) + ctx.n_vocab());
  }
}

class BatchedEval : public ::testing::TestWithParam<Case> {};

TEST_P(BatchedEval, StepsMatchEachSequenceAlone) {
  auto model = model::Model::load(test::shared_path(GetParam().path));
  const int n_vocab = model->hparams().n_vocab;
  const auto seqs = prompts(n_vocab);

  std::vector<std::vector<int32_t>> alone_tokens(seqs.size());
  std::vector<Trace> alone(seqs.size());
  for (size_t i = 0; i < seqs.size(); i++) run_alone(model, seqs[i], alone_tokens[i], alone[i]);

  std::vector<std::unique_ptr<model::Context>> owned;
  std::vector<model::Context*> contexts;
  for (const auto& prompt : seqs) {
    owned.push_back(std::make_unique<model::Context>(model, model::ContextOptions{.n_ctx = 128, .n_threads = 2}));
    owned.back()->eval(prompt);
    contexts.push_back(owned.back().get());
  }
  for (int step = 0; step < kSteps; step++) {
    // Feed the tokens the lone runs chose, so a near-tie cannot send the runs apart.
    std::vector<int32_t> tokens;
    for (size_t i = 0; i < seqs.size(); i++) tokens.push_back(alone_tokens[i][size_t(step)]);
    model::Context::eval_step(contexts, tokens);
    for (size_t i = 0; i < seqs.size(); i++) {
      ASSERT_EQ(contexts[i]->n_past(), int(seqs[i].size()) + step + 1);
      ASSERT_EQ(contexts[i]->n_logits(), 1);
      EXPECT_LE(max_abs_diff(alone[i][size_t(step)], contexts[i]->logits(0)), kTolerance)
          << "sequence " << i << " at step " << step;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, BatchedEval, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

model::ContextOptions small(int n_ctx) { return {.n_ctx = n_ctx, .n_threads = 2}; }

TEST(BatchedEvalErrors, AFullContextIsRefusedAndTheOthersAreUntouched) {
  auto model = model::Model::load(test::shared_path("models/stories260K.gguf"));
  const auto seqs = prompts(model->hparams().n_vocab);
  model::Context a(model, small(64)), full(model, small(5)), b(model, small(64));
  a.eval(seqs[0]);
  full.eval(seqs[0]);  // 5 tokens: no room left
  b.eval(seqs[1]);
  const std::vector<float> a_logits(a.logits(0), a.logits(0) + a.n_vocab());

  std::vector<model::Context*> contexts{&a, &full, &b};
  const std::vector<int32_t> tokens{3, 4, 5};
  EXPECT_THROW(model::Context::eval_step(contexts, tokens), Error);
  EXPECT_EQ(a.n_past(), 5);
  EXPECT_EQ(full.n_past(), 5);
  EXPECT_EQ(b.n_past(), 17);
  EXPECT_EQ(max_abs_diff(a_logits, a.logits(0)), 0.0f);

  // Without the full one the step goes ahead, as if each had been stepped alone.
  model::Context a_alone(model, small(64));
  a_alone.eval(seqs[0]);
  a_alone.eval(std::span(&tokens[0], 1));
  std::vector<model::Context*> rest{&a, &b};
  model::Context::eval_step(rest, std::vector<int32_t>{3, 5});
  EXPECT_EQ(a.n_past(), 6);
  EXPECT_EQ(b.n_past(), 18);
  EXPECT_LE(max_abs_diff(std::vector<float>(a_alone.logits(0), a_alone.logits(0) + a.n_vocab()), a.logits(0)),
            kTolerance);
}

TEST(BatchedEvalErrors, MisuseIsAClearError) {
  auto model = model::Model::load(test::shared_path("models/stories260K.gguf"));
  auto other = model::Model::load(test::shared_path("conformance/llama3/model-Q8_0.gguf"));
  model::Context a(model, small(16)), b(model, small(16)), c(other, small(16));
  for (model::Context* ctx : {&a, &b, &c}) ctx->eval(std::vector<int32_t>{1});

  struct Misuse {
    const char* what;
    std::vector<model::Context*> contexts;
    std::vector<int32_t> tokens;
  };
  const Misuse misuses[] = {
      {"fewer tokens than contexts", {&a, &b}, {3}},
      {"a context twice", {&a, &a}, {3, 4}},
      {"two models", {&a, &c}, {3, 4}},
      {"a token outside the vocabulary", {&a, &b}, {3, 1 << 20}},
  };
  for (const Misuse& m : misuses) {
    EXPECT_THROW(model::Context::eval_step(m.contexts, m.tokens), Error) << m.what;
    EXPECT_EQ(a.n_past(), 1) << m.what;
    EXPECT_EQ(b.n_past(), 1) << m.what;
  }
  model::Context::eval_step(std::vector<model::Context*>{}, std::vector<int32_t>{});  // nothing to do
}

}  // namespace
