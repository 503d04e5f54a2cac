// Speculative decoding (generate/speculative.h through generate::Generation):
// - greedy output is plain greedy output, token for token, on stories260K and a
//   conformance model, with an exact draft (the target itself), prompt lookup and a
//   poor draft, and the cache ends as plain decoding leaves it;
// - sampled output follows the target's distribution: the rejection step alone on a
//   small vocabulary, and the joint law of two generated tokens on stories260K, both
//   against the exact distribution by Pearson's chi-square.
#include "generate/speculative.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "core/error.h"
#include "generate/generation.h"
#include "generate/session.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace tandem::generate {
namespace {

// Pearson's statistic; categories with expected counts below 5 are pooled.
double chi_square(const std::vector<int>& counts, const std::vector<double>& p, int draws) {
  double statistic = 0, pooled_expected = 0, pooled_observed = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const double expected = p[i] * draws;
    if (expected < 5) {
      pooled_expected += expected;
      pooled_observed += counts[i];
      continue;
    }
    statistic += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  if (pooled_expected > 0)
    statistic += (pooled_observed - pooled_expected) * (pooled_observed - pooled_expected) / pooled_expected;
  return statistic;
}

// chi-square 99.9th percentiles by degrees of freedom.
double chi_square_999(int dof) {
  static const double table[] = {0, 10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124, 27.877,
                                 29.588, 31.264, 32.909, 34.528, 36.123, 37.697, 39.252};
  return table[std::min(dof, 16)];
}

// ---- lookup -------------------------------------------------------------------------

TEST(LookupDrafter, ContinuesTheLatestEarlierOccurrenceOfTheLongestSuffix) {
  LookupDrafter lookup(3);
  Draft draft;
  // "7 8 9" occurs at 0 (followed by 1 2) and at 5 (followed by 4 4); the latest wins.
  const std::vector<int32_t> history = {7, 8, 9, 1, 2, 7, 8, 9, 4, 4, 6, 7, 8, 9};
  lookup.propose(history, 3, draft);
  EXPECT_EQ(draft.tokens, (std::vector<int32_t>{4, 4, 6}));
  EXPECT_TRUE(draft.q.empty());
  lookup.propose(history, 10, draft);  // up to the end of the history
  EXPECT_EQ(draft.tokens, (std::vector<int32_t>{4, 4, 6, 7, 8, 9}));
}

TEST(LookupDrafter, FallsBackToShorterNgramsAndGivesNothingWithoutAMatch) {
  LookupDrafter lookup(3);
  Draft draft;
  lookup.propose(std::vector<int32_t>{5, 1, 2, 3, 9, 9, 2, 3}, 4, draft);  // "9 2 3" no; "2 3" at 2
  EXPECT_EQ(draft.tokens, (std::vector<int32_t>{9, 9, 2, 3}));
  lookup.propose(std::vector<int32_t>{5, 6, 1, 6}, 4, draft);  // only "6"
  EXPECT_EQ(draft.tokens, (std::vector<int32_t>{1, 6}));
  lookup.propose(std::vector<int32_t>{1, 2, 3, 4}, 4, draft);
  EXPECT_TRUE(draft.tokens.empty());
  lookup.propose(std::vector<int32_t>{1}, 4, draft);
  EXPECT_TRUE(draft.tokens.empty());
  EXPECT_THROW(LookupDrafter(0), Error);
}

// ---- the rejection step alone ---------------------------------------------------------

std::vector<double> dense(const std::vector<TokenProb>& sparse, size_t n) {
  std::vector<double> p(n, 0.0);
  for (const TokenProb& t : sparse) p[size_t(t.id)] = t.p;
  return p;
}

TEST(VerifyDraft, OutputFollowsTheTargetWhateverTheDraftDistribution) {
  // The target: the sampler's own distribution (temperature, top_k) over 8 tokens.
  const std::vector<float> logits = {1.0f, 3.5f, -2.0f, 3.2f, 0.25f, 2.0f, -0.5f, 1.5f};
  SamplerOptions options;
  options.temperature = 0.9f;
  options.top_k = 6;
  options.top_p = 1.0f;
  options.min_p = 0.0f;
  options.seed = 7;
  Sampler target(options);
  std::vector<TokenProb> p;
  target.distribution(logits.data(), 8, p);
  ASSERT_EQ(p.size(), 6u);
  const std::vector<double> p_dense = dense(p, 8);

  // Drafts far from the target: q favours what p dislikes, and even tokens p never gives.
  const std::vector<TokenProb> q = {{0, 0.05}, {1, 0.05}, {2, 0.3}, {3, 0.1}, {4, 0.2}, {5, 0.1}, {6, 0.15}, {7, 0.05}};
  std::mt19937_64 draft_rng(99);
  constexpr int kDraws = 60000;
  std::vector<int> counts(8, 0), counts_point(8, 0);
  int accepted = 0;
  for (int i = 0; i < kDraws; ++i) {
    std::discrete_distribution<int> pick({0.05, 0.05, 0.3, 0.1, 0.2, 0.1, 0.15, 0.05});
    const int32_t d = pick(draft_rng);
    const Verdict v = verify_draft(p, d, &q, [&] { return target.uniform(); });
    counts[size_t(v.token)]++;
    accepted += v.accepted;
    // A deterministic drafter (prompt lookup): always the same token, a point mass.
    counts_point[size_t(verify_draft(p, 2 + (i % 2) * 3, nullptr, [&] { return target.uniform(); }).token)]++;
  }
  EXPECT_LT(chi_square(counts, p_dense, kDraws), chi_square_999(5));
  EXPECT_LT(chi_square(counts_point, p_dense, kDraws), chi_square_999(5));
  // The acceptance rate is sum_x min(p(x), q(x)).
  double expected_rate = 0;
  for (const TokenProb& t : q) expected_rate += std::min(t.p, p_dense[size_t(t.id)]);
  EXPECT_NEAR(double(accepted) / kDraws, expected_rate, 0.01);
}

TEST(VerifyDraft, AnExactDraftIsAlwaysAcceptedAndGreedyKeepsOnlyTheArgmax) {
  const std::vector<TokenProb> p = {{3, 0.5}, {1, 0.3}, {0, 0.2}};
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 1000; ++i) {
    const int32_t d = i % 10 < 5 ? 3 : (i % 10 < 8 ? 1 : 0);
    EXPECT_TRUE(verify_draft(p, d, &p, [&] { return u(rng); }).accepted);
  }
  const std::vector<TokenProb> greedy = {{4, 1.0}};
  EXPECT_EQ(verify_draft(greedy, 4, nullptr, [&] { return u(rng); }), (Verdict{4, true}));
  EXPECT_EQ(verify_draft(greedy, 2, nullptr, [&] { return u(rng); }).token, 4);
  EXPECT_FALSE(verify_draft(greedy, 2, nullptr, [&] { return u(rng); }).accepted);
}

TEST(SamplerDistribution, IsWhatSampleDrawsFrom) {
  std::vector<float> logits(50);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = float((i * 37) % 50) * 0.07f;
  SamplerOptions options;
  options.temperature = 0.7f;
  options.top_k = 12;
  options.top_p = 0.9f;
  options.min_p = 0.05f;
  options.seed = 3;
  Sampler sampler(options);
  std::vector<TokenProb> p;
  sampler.distribution(logits.data(), 50, p);
  double total = 0;
  for (const TokenProb& t : p) total += t.p;
  EXPECT_NEAR(total, 1.0, 1e-9);
  constexpr int kDraws = 40000;
  std::vector<int> counts(50, 0);
  for (int i = 0; i < kDraws; ++i) counts[size_t(sampler.sample(logits.data(), 50))]++;
  const std::vector<double> p_dense = dense(p, 50);
  for (size_t i = 0; i < 50; ++i)
    if (p_dense[i] == 0) {
      EXPECT_EQ(counts[i], 0) << i;
    }
  EXPECT_LT(chi_square(counts, p_dense, kDraws), chi_square_999(int(p.size()) - 1));
}

// ---- through the generation, on real models --------------------------------------------

// Proposes tokens that are rarely right: the poor end of the acceptance curve.
class PoorDrafter : public Drafter {
 public:
  void propose(std::span<const int32_t> history, int max_tokens, Draft& out) override {
    out.clear();
    for (int i = 0; i < max_tokens; ++i) out.tokens.push_back(int32_t((history.size() * 31 + size_t(i) * 7) % 500));
  }
};

struct GenRun {
  std::vector<int32_t> tokens;
  std::string text;
  Outcome outcome;
  int n_past = 0;
};

GenRun generate(Sequence& sequence, const tokenizer::Tokenizer& tokenizer, const std::vector<int32_t>& prompt,
             const GenerateOptions& options, Sequence* draft = nullptr) {
  Generation generation(sequence, tokenizer, prompt, options, nullptr, draft);
  GenRun run;
  while (!generation.finished()) {
    run.text += generation.choose().text;
    if (generation.waiting_for_evaluation()) generation.evaluate();
  }
  run.tokens = generation.tokens();
  run.outcome = generation.outcome();
  run.n_past = sequence.context().n_past();
  return run;
}

class SpeculativeGreedy : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    model_ = model::Model::load(test::shared_path(GetParam()));
    tokenizer_ = tokenizer::Tokenizer::from_gguf(model_->file());
  }
  model::ContextOptions context(int n_ctx = 256) const { return {.n_ctx = n_ctx, .n_threads = 1, .kv_type = quant::Type::F32}; }
  std::vector<int32_t> prompt() const {
    // Repetitive, so that prompt lookup finds drafts.
    return tokenizer_->encode("Once upon a time, there was a little girl. Once upon a time, there was a little", true, false);
  }
  static GenerateOptions greedy(int max_tokens) {
    GenerateOptions o;
    o.max_tokens = max_tokens;
    o.sampling.temperature = 0;
    o.ignore_eos = true;
    return o;
  }
  std::shared_ptr<model::Model> model_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
};

TEST_P(SpeculativeGreedy, EqualsPlainGreedyWithEveryDrafter) {
  Sequence plain_sequence(model_, context());
  const GenRun plain = generate(plain_sequence, *tokenizer_, prompt(), greedy(60));
  ASSERT_EQ(plain.tokens.size(), 60u);

  struct Case {
    const char* name;
    SpeculativeOptions speculative;
    bool needs_draft;
  };
  SpeculativeOptions self, lookup, poor, long_draft;
  self.method = SpeculativeOptions::Method::DraftModel;
  self.k = 4;
  lookup.method = SpeculativeOptions::Method::Lookup;
  lookup.ngram = 3;
  lookup.k = 8;
  poor.custom = std::make_shared<PoorDrafter>();
  poor.k = 3;
  long_draft.method = SpeculativeOptions::Method::DraftModel;
  long_draft.k = 16;
  for (const Case& c : {Case{"self draft", self, true}, Case{"lookup", lookup, false}, Case{"poor", poor, false},
                        Case{"self draft k 16", long_draft, true}}) {
    SCOPED_TRACE(c.name);
    Sequence sequence(model_, context());
    Sequence draft(model_, context());
    GenerateOptions options = greedy(60);
    options.speculative = c.speculative;
    const GenRun run = generate(sequence, *tokenizer_, prompt(), options, c.needs_draft ? &draft : nullptr);
    EXPECT_EQ(run.tokens, plain.tokens);
    EXPECT_EQ(run.text, plain.text);
    EXPECT_EQ(run.outcome.finish, FinishReason::Length);
    EXPECT_EQ(run.n_past, plain.n_past);  // the cache holds what plain decoding leaves
    EXPECT_GT(run.outcome.n_verify_passes, 0);
    EXPECT_LE(run.outcome.n_draft_accepted, run.outcome.n_drafted);
    if (c.needs_draft) {
      // The target drafting for itself: every draft is right (the passes share every
      // arithmetic step with plain decoding but the batch size).
      EXPECT_EQ(run.outcome.n_draft_accepted, run.outcome.n_drafted);
      EXPECT_LT(run.outcome.n_verify_passes, 60 / 2);
    }
    // The same sequence again: the prompt comes from the cache, as after plain decoding.
    const GenRun again = generate(sequence, *tokenizer_, prompt(), options, c.needs_draft ? &draft : nullptr);
    EXPECT_EQ(again.tokens, plain.tokens);
  }
}

TEST_P(SpeculativeGreedy, FinishesWhereAndAsPlainDecodingDoes) {
  // Stop strings, max_tokens and a full context cut a verification pass short.
  GenerateOptions probe = greedy(40);
  Sequence probe_sequence(model_, context());
  const GenRun reference = generate(probe_sequence, *tokenizer_, prompt(), probe);
  // A stop string made of a later piece of the plain output.
  const std::string stop = reference.text.substr(reference.text.size() / 2, 4);
  const int n_prompt = int(prompt().size());
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE(variant);
    GenerateOptions options = greedy(variant == 1 ? 7 : 40);
    if (variant == 0) options.stop = {stop};
    const int n_ctx = variant == 2 ? n_prompt + 13 : 256;
    Sequence plain_sequence(model_, context(n_ctx)), sequence(model_, context(n_ctx)), draft(model_, context(n_ctx));
    const GenRun plain = generate(plain_sequence, *tokenizer_, prompt(), options);
    options.speculative.method = SpeculativeOptions::Method::DraftModel;
    options.speculative.k = 5;
    const GenRun run = generate(sequence, *tokenizer_, prompt(), options, &draft);
    EXPECT_EQ(run.tokens, plain.tokens);
    EXPECT_EQ(run.text, plain.text);
    EXPECT_EQ(run.outcome.finish, plain.outcome.finish);
    EXPECT_EQ(run.n_past, plain.n_past);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, SpeculativeGreedy,
                         ::testing::Values("models/stories260K.gguf", "conformance/llama/model-Q4_0.gguf"),
                         [](const auto& info) { return info.index == 0 ? std::string("stories260K") : std::string("llama_Q4_0"); });

TEST(SpeculativeSession, DraftModelNeedsTheTargetsVocabulary) {
  auto target = model::Model::load(test::shared_path("models/stories260K.gguf"));
  auto other = model::Model::load(test::shared_path("conformance/qwen2/model-Q4_0.gguf"));
  auto tokenizer = tokenizer::Tokenizer::from_gguf(target->file());
  Session session(target, *tokenizer, {.n_ctx = 64, .n_threads = 1});
  try {
    session.set_draft(other);
    FAIL() << "a draft with another vocabulary was taken";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("vocabulary"), std::string::npos) << error.what();
  }
  GenerateOptions options;
  options.speculative.method = SpeculativeOptions::Method::DraftModel;
  EXPECT_THROW(session.generate({tokenizer->bos()}, options), Error);  // no draft loaded
  session.set_draft(target);
  options.speculative.k = 0;
  EXPECT_THROW(session.generate({tokenizer->bos()}, options), Error);
  options.speculative.k = 3;
  options.max_tokens = 5;
  EXPECT_EQ(session.generate({tokenizer->bos()}, options).tokens.size(), 5u);
}

// Draws each draft from a fixed q over a few tokens, with its own generator.
class FixedQDrafter : public Drafter {
 public:
  explicit FixedQDrafter(std::vector<TokenProb> q) : q_(std::move(q)) {}
  void propose(std::span<const int32_t>, int max_tokens, Draft& out) override {
    out.clear();
    std::vector<double> weights;
    for (const TokenProb& t : q_) weights.push_back(t.p);
    std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
    for (int i = 0; i < max_tokens; ++i) {
      out.tokens.push_back(q_[pick(rng_)].id);
      out.q.push_back(q_);
    }
  }

 private:
  std::vector<TokenProb> q_;
  std::mt19937_64 rng_{2024};
};

TEST(SpeculativeSampling, TwoTokensFollowTheTargetsJointDistribution) {
  // The second token is verified against a draft; their joint law must be the target's
  // P(t1) P(t2 | t1), which the test computes with plain forward passes.
  auto model = model::Model::load(test::shared_path("models/stories260K.gguf"));
  auto tokenizer = tokenizer::Tokenizer::from_gguf(model->file());
  const std::vector<int32_t> prompt = {tokenizer->bos()};
  SamplerOptions sampling;
  sampling.temperature = 2.0f;  // flat enough that every cell is visited (from BOS: 9 cells)
  sampling.top_k = 3;
  sampling.top_p = 1.0f;
  sampling.min_p = 0.0f;

  model::Context exact(model, {.n_ctx = 64, .n_threads = 1, .kv_type = quant::Type::F32});
  exact.eval(prompt);
  Sampler chain(sampling);
  std::vector<TokenProb> first, second;
  chain.distribution(exact.logits(0), exact.n_vocab(), first);
  ASSERT_EQ(first.size(), 3u);
  std::map<std::pair<int32_t, int32_t>, double> joint;
  for (const TokenProb& a : first) {
    exact.truncate(int(prompt.size()));
    exact.eval(std::span(&a.id, 1));
    chain.distribution(exact.logits(0), exact.n_vocab(), second);
    for (const TokenProb& b : second) joint[{a.id, b.id}] = a.p * b.p;
  }
  // q: the second token's marginal, flattened, plus one token the target never picks: near
  // the target but wrong for each first token, so acceptance and rejection both happen
  // often. (A q proportional to p on p's support would hide a rejection step that draws
  // from p instead of the residual: both give p then.)
  std::map<int32_t, double> marginal;
  for (const auto& [cell, p] : joint) marginal[cell.second] += p;
  std::vector<TokenProb> q;
  for (const auto& [id, weight] : marginal) q.push_back({id, std::sqrt(weight)});
  q.push_back({7, 0.1});
  double q_total = 0;
  for (const TokenProb& t : q) q_total += t.p;
  for (TokenProb& t : q) t.p /= q_total;

  Sequence sequence(model, {.n_ctx = 64, .n_threads = 1, .kv_type = quant::Type::F32});
  GenerateOptions options;
  options.sampling = sampling;
  options.max_tokens = 3;  // t2 is verified against a draft, t3 is never generated
  options.ignore_eos = true;
  options.speculative.custom = std::make_shared<FixedQDrafter>(q);
  options.speculative.k = 4;
  constexpr int kRuns = 6000;
  std::map<std::pair<int32_t, int32_t>, int> counts;
  int drafted = 0, accepted = 0;
  for (int run = 0; run < kRuns; ++run) {
    options.sampling.seed = uint64_t(run) + 1;
    Generation generation(sequence, *tokenizer, prompt, options);
    while (!generation.finished() && generation.tokens().size() < 2) {
      generation.choose();
      if (generation.waiting_for_evaluation()) generation.evaluate();
    }
    ASSERT_GE(generation.tokens().size(), 2u);
    counts[{generation.tokens()[0], generation.tokens()[1]}]++;
    drafted += generation.outcome().n_drafted;
    accepted += generation.outcome().n_draft_accepted;
  }
  EXPECT_GT(drafted, kRuns / 2);
  EXPECT_GT(accepted, 0);
  std::vector<int> observed;
  std::vector<double> expected;
  int outside = 0;
  for (const auto& [cell, n] : counts)
    if (!joint.count(cell)) outside += n;
  EXPECT_EQ(outside, 0);
  for (const auto& [cell, p] : joint) {
    observed.push_back(counts.count(cell) ? counts[cell] : 0);
    expected.push_back(p);
  }
  EXPECT_LT(chi_square(observed, expected, kRuns), chi_square_999(int(joint.size()) - 1));
}

}  // namespace
}  // namespace tandem::generate
