#include "generate/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "core/error.h"

namespace tandem::generate {
namespace {

// Everything off: plain softmax(logits / T) sampling.
SamplerOptions plain(float temperature, uint64_t seed = 1234) {
  SamplerOptions options;
  options.temperature = temperature;
  options.top_k = 0;
  options.top_p = 1.0f;
  options.min_p = 0.0f;
  options.seed = seed;
  return options;
}

std::vector<float> softmax(const std::vector<float>& logits, float temperature) {
  double max_logit = *std::max_element(logits.begin(), logits.end());
  std::vector<float> p(logits.size());
  double total = 0;
  for (size_t i = 0; i < logits.size(); ++i) total += p[i] = std::exp((logits[i] - max_logit) / temperature);
  for (float& v : p) v = float(v / total);
  return p;
}

// The set of ids the sampler can produce, found by drawing until it stabilises.
std::set<int32_t> reachable(const SamplerOptions& options, const std::vector<float>& logits, int draws = 4000) {
  Sampler sampler(options);
  std::set<int32_t> seen;
  for (int i = 0; i < draws; ++i) seen.insert(sampler.sample(logits.data(), int32_t(logits.size())));
  return seen;
}

const std::vector<float> kLogits = {1.0f, 3.5f, -2.0f, 3.5f, 0.25f, 2.0f, -0.5f, 1.5f};

TEST(Sampler, GreedyIsArgmaxWithTiesToLowestId) {
  Sampler sampler(plain(0.0f));
  EXPECT_EQ(sampler.sample(kLogits.data(), int32_t(kLogits.size())), 1);  // 1 and 3 tie
  const std::vector<float> descending = {5, 4, 3};
  EXPECT_EQ(sampler.sample(descending.data(), 3), 0);
  const std::vector<float> last = {-3, -2, -1};
  EXPECT_EQ(sampler.sample(last.data(), 3), 2);
}

TEST(Sampler, TopKOneIsGreedyAtAnyTemperature) {
  std::vector<float> logits(64);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = float((i * 37) % 64) * 0.1f;
  Sampler greedy(plain(0.0f));
  const int32_t expected = greedy.sample(logits.data(), 64);
  for (float temperature : {0.1f, 1.0f, 5.0f, 100.0f}) {
    SamplerOptions options = plain(temperature);
    options.top_k = 1;
    Sampler sampler(options);
    for (int i = 0; i < 50; ++i) ASSERT_EQ(sampler.sample(logits.data(), 64), expected) << temperature;
  }
}

TEST(Sampler, SameSeedSameSequenceDifferentSeedDifferent) {
  const std::vector<float> flat(32, 0.0f);
  auto run = [&](uint64_t seed) {
    Sampler sampler(plain(1.0f, seed));
    std::vector<int32_t> ids;
    for (int i = 0; i < 200; ++i) ids.push_back(sampler.sample(flat.data(), 32));
    return ids;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
  // reset() restarts the random sequence.
  Sampler sampler(plain(1.0f, 42));
  const int32_t first = sampler.sample(flat.data(), 32);
  sampler.sample(flat.data(), 32);
  sampler.reset();
  EXPECT_EQ(sampler.sample(flat.data(), 32), first);
}

TEST(Sampler, RandomSeedIsResolvedAndReported) {
  Sampler a(plain(1.0f, SamplerOptions::kRandomSeed));
  Sampler b(plain(1.0f, a.seed()));
  const std::vector<float> flat(1000, 0.0f);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(a.sample(flat.data(), 1000), b.sample(flat.data(), 1000));
}

// Probabilities (T = 1) of this distribution, in ranking order: 0.5, 0.25, 0.125,
// 0.0625, 0.0625 (ids 2, 0, 4, 1, 3).
const std::vector<float> kHalving = {std::log(0.25f), std::log(0.0625f), std::log(0.5f), std::log(0.0625f),
                                     std::log(0.125f)};

TEST(Sampler, TopPKeepsTheHeadThatReachesP) {
  struct Case {
    float top_p;
    std::set<int32_t> kept;
  };
  const Case cases[] = {
      {0.3f, {2}},             // 0.5 already reaches 0.3
      {0.5f, {2}},             // exactly reaching p stops there
      {0.6f, {2, 0}},          // 0.75
      {0.8f, {2, 0, 4}},       // 0.875
      {0.9f, {2, 0, 4, 1}},    // 0.9375; the tie 1 vs 3 goes to the lower id
      {0.99f, {2, 0, 4, 1, 3}},
  };
  for (const Case& c : cases) {
    SamplerOptions options = plain(1.0f);
    options.top_p = c.top_p;
    EXPECT_EQ(reachable(options, kHalving), c.kept) << "top_p " << c.top_p;
  }
}

TEST(Sampler, MinPKeepsTokensAtLeastPTimesTheTop) {
  struct Case {
    float min_p;
    std::set<int32_t> kept;
  };
  const Case cases[] = {
      {0.9f, {2}},
      {0.5f, {2, 0}},          // 0.25 = 0.5 * 0.5 is kept
      {0.2f, {2, 0, 4}},       // 0.0625 < 0.1
      {0.1f, {2, 0, 4, 1, 3}}, // 0.0625 >= 0.05
  };
  for (const Case& c : cases) {
    SamplerOptions options = plain(1.0f);
    options.min_p = c.min_p;
    EXPECT_EQ(reachable(options, kHalving), c.kept) << "min_p " << c.min_p;
  }
}

TEST(Sampler, TopKKeepsTheKHighest) {
  SamplerOptions options = plain(1.0f);
  options.top_k = 3;
  EXPECT_EQ(reachable(options, kHalving), (std::set<int32_t>{2, 0, 4}));
  options.top_k = 4;  // the 1/3 tie goes to the lower id
  EXPECT_EQ(reachable(options, kHalving), (std::set<int32_t>{2, 0, 4, 1}));
}

// Greedy sampling reads a penalised logit back: the seen token wins exactly when
// its penalised logit beats an unpenalised reference placed just below or above
// the expected value.
struct PenaltyCase {
  const char* name;
  float repeat, frequency, presence;
  float logit;     // logit of the token seen twice in the window
  float expected;  // its logit after the penalties
};

TEST(Sampler, PenaltiesChangeSeenLogitsByTheRightAmounts) {
  const PenaltyCase cases[] = {
      {"repeat divides positive", 2.0f, 0, 0, 3.0f, 1.5f},
      {"repeat multiplies negative", 2.0f, 0, 0, -3.0f, -6.0f},
      {"repeat multiplies zero", 2.0f, 0, 0, 0.0f, 0.0f},
      {"frequency scales with count", 1.0f, 0.5f, 0, 3.0f, 2.0f},
      {"presence once", 1.0f, 0, 0.75f, 3.0f, 2.25f},
      {"all together", 1.5f, 0.25f, 0.5f, 3.0f, 1.0f},  // 3/1.5 - 2*0.25 - 0.5
  };
  for (const PenaltyCase& c : cases) {
    SamplerOptions options = plain(0.0f);
    options.repeat_penalty = c.repeat;
    options.frequency_penalty = c.frequency;
    options.presence_penalty = c.presence;
    options.repeat_last_n = 4;
    // Token 1 is seen twice, token 2 (the reference) never.
    for (float offset : {-1e-3f, 1e-3f}) {
      Sampler sampler(options);
      sampler.accept(1);
      sampler.accept(1);
      sampler.accept(0);
      const std::vector<float> logits = {-100.0f, c.logit, c.expected + offset};
      const int32_t expected_winner = offset < 0 ? 1 : 2;
      EXPECT_EQ(sampler.sample(logits.data(), 3), expected_winner) << c.name << " offset " << offset;
    }
  }
}

TEST(Sampler, PenaltiesOnlySeeTheWindow) {
  SamplerOptions options = plain(0.0f);
  options.repeat_penalty = 10.0f;
  options.repeat_last_n = 2;
  Sampler sampler(options);
  for (int32_t token : {0, 2, 2}) sampler.accept(token);  // 0 fell out of the window
  const std::vector<float> logits = {5.0f, 4.9f, 4.8f};
  EXPECT_EQ(sampler.sample(logits.data(), 3), 0);
  sampler.accept(1);  // window is now {2, 1}
  const std::vector<float> favour_one = {4.0f, 4.9f, 4.8f};
  EXPECT_EQ(sampler.sample(favour_one.data(), 3), 0);
  sampler.reset();  // history gone
  EXPECT_EQ(sampler.sample(favour_one.data(), 3), 1);
}

TEST(Sampler, MaskExcludesTokens) {
  std::vector<bool> allowed = {true, false, true, false, true, true, true, true};
  Sampler greedy(plain(0.0f));
  greedy.set_allowed(&allowed);
  EXPECT_EQ(greedy.sample(kLogits.data(), 8), 5);  // 1 and 3 (3.5) masked, 5 (2.0) next
  std::set<int32_t> seen = reachable(plain(2.0f), kLogits);
  EXPECT_TRUE(seen.count(1));
  Sampler sampler(plain(2.0f));
  sampler.set_allowed(&allowed);
  for (int i = 0; i < 2000; ++i) {
    const int32_t id = sampler.sample(kLogits.data(), 8);
    ASSERT_TRUE(allowed[size_t(id)]) << id;
  }
  std::vector<bool> none(8, false);
  sampler.set_allowed(&none);
  EXPECT_THROW(sampler.sample(kLogits.data(), 8), Error);
  std::vector<bool> wrong_size(3, true);
  sampler.set_allowed(&wrong_size);
  EXPECT_THROW(sampler.sample(kLogits.data(), 8), Error);
  sampler.set_allowed(nullptr);
  EXPECT_NO_THROW(sampler.sample(kLogits.data(), 8));
}

// Pearson's chi-square statistic of observed counts against expected
// probabilities. With k categories it follows chi-square(k - 1) when the sampler
// is right; the bounds below are that distribution's 99.9th percentile, so a
// correct sampler fails with probability 1e-3 per case (and, seeded, never
// flakes). A wrong temperature or a truncation bug moves thousands of draws and
// gives statistics in the hundreds or more.
double chi_square(const std::vector<int>& counts, const std::vector<float>& p, int draws) {
  double statistic = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double expected = double(p[i]) * draws;
    statistic += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  return statistic;
}

TEST(Sampler, FrequenciesMatchSoftmaxOfLogitsOverTemperature) {
  const double kChiSquare999[] = {0, 10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322};  // by df
  const int kDraws = 20000;
  for (float temperature : {0.5f, 1.0f, 1.7f}) {
    Sampler sampler(plain(temperature, 7));
    std::vector<int> counts(kLogits.size(), 0);
    for (int i = 0; i < kDraws; ++i) ++counts[size_t(sampler.sample(kLogits.data(), 8))];
    const std::vector<float> p = softmax(kLogits, temperature);
    // Categories with tiny expected counts make the chi-square approximation poor;
    // pool everything expected below 5 draws into one bin.
    std::vector<int> pooled_counts;
    std::vector<float> pooled_p;
    int rare_count = 0;
    float rare_p = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] * kDraws < 5) {
        rare_count += counts[i];
        rare_p += p[i];
      } else {
        pooled_counts.push_back(counts[i]);
        pooled_p.push_back(p[i]);
      }
    }
    if (rare_p > 0) {
      pooled_counts.push_back(rare_count);
      pooled_p.push_back(rare_p);
    }
    const double statistic = chi_square(pooled_counts, pooled_p, kDraws);
    EXPECT_LT(statistic, kChiSquare999[pooled_p.size() - 1]) << "temperature " << temperature;
    // And the test can fail: the same counts against the temperature-1 softmax.
    if (temperature != 1.0f) {
      EXPECT_GT(chi_square(counts, softmax(kLogits, 1.0f), kDraws), 100.0) << temperature;
    }
  }
}

TEST(Sampler, TruncatedDistributionIsRenormalised) {
  // top_k = 3 then temperature 0.8: the three survivors in proportion softmax(l / T).
  SamplerOptions options = plain(0.8f, 99);
  options.top_k = 3;
  const int kDraws = 20000;
  Sampler sampler(options);
  std::map<int32_t, int> counts;
  for (int i = 0; i < kDraws; ++i) ++counts[sampler.sample(kLogits.data(), 8)];
  ASSERT_EQ(counts.size(), 3u);  // ids 1, 3 (3.5) and 5 (2.0)
  const std::vector<float> p = softmax({3.5f, 3.5f, 2.0f}, 0.8f);
  const double statistic = chi_square({counts[1], counts[3], counts[5]}, p, kDraws);
  EXPECT_LT(statistic, 13.816);  // chi-square(2), 99.9th percentile
}

// The chain written the plain way: every token a candidate, penalties, mask, a full sort
// for top_k and top_p, then min_p and the draw from the same seeded engine. The sampler
// only reads fewer of the 16k logits; it must choose the same tokens.
class ReferenceSampler {
 public:
  explicit ReferenceSampler(const SamplerOptions& options) : options_(options), engine_(options.seed) {}
  int32_t sample(const std::vector<float>& logits, const std::vector<bool>* allowed) {
    std::vector<Sampler::Candidate> c;
    for (int32_t id = 0; id < int32_t(logits.size()); ++id)
      if (!allowed || (*allowed)[size_t(id)]) c.push_back({id, logits[size_t(id)]});
    auto before = [](const Sampler::Candidate& a, const Sampler::Candidate& b) {
      return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
    };
    if (options_.temperature <= 0) return std::min_element(c.begin(), c.end(), before)->id;
    bool sorted = false;
    if (options_.top_k > 0) {
      std::sort(c.begin(), c.end(), before);
      c.resize(std::min(c.size(), size_t(options_.top_k)));
      sorted = true;
    }
    if (options_.top_p < 1) {
      if (!sorted) std::sort(c.begin(), c.end(), before);
      double total = 0, cumulative = 0;
      for (const auto& x : c) total += std::exp(double(x.logit) - c[0].logit);
      for (size_t i = 0; i < c.size(); ++i) {
        cumulative += std::exp(double(c[i].logit) - c[0].logit) / total;
        if (cumulative >= options_.top_p) {
          c.resize(i + 1);
          break;
        }
      }
    }
    float max_logit = c[0].logit;
    for (const auto& x : c) max_logit = std::max(max_logit, x.logit);
    if (options_.min_p > 0) {
      const float threshold = max_logit + std::log(options_.min_p);
      std::erase_if(c, [&](const Sampler::Candidate& x) { return x.logit < threshold; });
    }
    std::vector<double> w;
    double total = 0;
    for (const auto& x : c) total += w.emplace_back(std::exp((double(x.logit) - max_logit) / options_.temperature));
    const double target = double(engine_() >> 11) * 0x1.0p-53 * total;
    double cumulative = 0;
    for (size_t i = 0; i < c.size(); ++i)
      if (target < (cumulative += w[i])) return c[i].id;
    return c.back().id;
  }

 private:
  SamplerOptions options_;
  std::mt19937_64 engine_;
};

TEST(Sampler, LargeVocabularyChoosesWhatTheFullSortChooses) {
  const int kVocab = 16000;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> logits(kVocab);
  for (float& l : logits) l = normal(rng);
  for (int i = 0; i < 40; ++i) logits[size_t(rng() % kVocab)] = 10.0f;  // ties near the top
  std::vector<bool> mask(kVocab);
  for (int i = 0; i < kVocab; ++i) mask[size_t(i)] = rng() % 3 != 0;
  struct Case {
    int top_k;
    float top_p, min_p, temperature;
  };
  const Case cases[] = {{40, 0.95f, 0.05f, 0.8f}, {0, 0.95f, 0.05f, 0.8f}, {0, 0.9f, 0.0f, 1.0f},
                        {0, 0.999f, 0.0f, 1.5f},  {0, 1.0f, 0.01f, 1.0f},  {0, 1.0f, 0.0f, 1.0f},
                        {100, 1.0f, 0.0f, 1.2f},  {1, 0.5f, 0.0f, 1.0f},   {0, 0.95f, 0.05f, 0.0f}};
  for (const Case& c : cases) {
    for (const std::vector<bool>* allowed : {(const std::vector<bool>*)nullptr, (const std::vector<bool>*)&mask}) {
      SamplerOptions options = plain(c.temperature, 11);
      options.top_k = c.top_k, options.top_p = c.top_p, options.min_p = c.min_p;
      Sampler sampler(options);
      sampler.set_allowed(allowed);
      ReferenceSampler reference(options);
      std::set<int32_t> distinct;
      for (int draw = 0; draw < 120; ++draw) {
        logits[size_t(rng() % kVocab)] = normal(rng) + 3.0f;  // a different distribution each step
        const int32_t id = sampler.sample(logits.data(), kVocab);
        ASSERT_EQ(id, reference.sample(logits, allowed))
            << "top_k " << c.top_k << " top_p " << c.top_p << " min_p " << c.min_p << " T " << c.temperature
            << (allowed ? " masked" : "") << " draw " << draw;
        distinct.insert(id);
      }
      // Each case but greedy and top_k 1 draws from many tokens: the comparison is not trivial.
      if (c.temperature > 0 && c.top_k != 1) {
        EXPECT_GT(distinct.size(), 3u) << c.top_k << " " << c.top_p << " " << c.min_p;
      }
    }
  }
}

TEST(Sampler, RejectsEmptyVocabulary) {
  Sampler sampler(plain(1.0f));
  EXPECT_THROW(sampler.sample(nullptr, 0), Error);
}

}  // namespace
}  // namespace tandem::generate
