#include "generate/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace tandem::generate {

namespace {
const SamplerSetting kSamplerSettings[] = {
    {"temperature", "--temp", 0, 2, &SamplerOptions::temperature},
    {"top_p", "--top-p", 0, 1, &SamplerOptions::top_p},
    {"min_p", "--min-p", 0, 1, &SamplerOptions::min_p},
    {"presence_penalty", "--presence-penalty", -2, 2, &SamplerOptions::presence_penalty},
    {"frequency_penalty", "--frequency-penalty", -2, 2, &SamplerOptions::frequency_penalty},
    {"repeat_penalty", "--repeat-penalty", 0, 10, &SamplerOptions::repeat_penalty},
};
}  // namespace

std::span<const SamplerSetting> sampler_settings() { return kSamplerSettings; }

void check_sampler_flags(const SamplerOptions& options) {
  for (const SamplerSetting& s : kSamplerSettings) {
    const double value = options.*s.member;
    if (!(value >= s.low && value <= s.high)) fail(s.flag, " must be from ", s.low, " to ", s.high, ", got ", value);
  }
  if (options.top_k < 0) fail("--top-k must be 0 (off) or more, got ", options.top_k);
  if (options.repeat_last_n < -1) fail("--repeat-last-n must be -1 (all), 0 (off) or more, got ", options.repeat_last_n);
}

namespace {

// Total order: higher logit first, then lower id, so equal logits never make the
// result depend on the sort algorithm.
bool ranks_before(const Sampler::Candidate& a, const Sampler::Candidate& b) {
  if (a.logit != b.logit) return a.logit > b.logit;
  return a.id < b.id;
}

uint64_t resolve_seed(uint64_t seed) {
  if (seed != SamplerOptions::kRandomSeed) return seed;
  std::random_device device;
  return (uint64_t(device()) << 32) | device();
}

}  // namespace

Sampler::Sampler(const SamplerOptions& options)
    : options_(options), seed_(resolve_seed(options.seed)), engine_(seed_) {}

void Sampler::accept(int32_t token) {
  history_.push_back(token);
  // Trim in bulk so accept() stays O(1) amortized.
  const int window = options_.repeat_last_n;
  if (window > 0 && history_.size() > 2 * size_t(window)) {
    history_.erase(history_.begin(), history_.end() - window);
  }
}

void Sampler::reset() {
  history_.clear();
  engine_.seed(seed_);
}

void Sampler::set_allowed(const std::vector<bool>* allowed) { allowed_ = allowed; }

bool Sampler::penalties_enabled() const {
  return options_.repeat_last_n != 0 &&
         (options_.repeat_penalty != 1.0f || options_.frequency_penalty != 0.0f ||
          options_.presence_penalty != 0.0f);
}

int32_t Sampler::narrow(const float* logits, int32_t n_vocab) {
  if (n_vocab <= 0) fail("sampler: the vocabulary is empty (n_vocab = ", n_vocab, ")");
  if (allowed_ && allowed_->size() != size_t(n_vocab)) {
    fail("sampler: the allowed-token mask has ", allowed_->size(), " entries but the vocabulary has ",
         n_vocab);
  }
  const float* values = logits;
  if (penalties_enabled()) {
    penalised_.assign(logits, logits + n_vocab);
    apply_penalties();
    values = penalised_.data();
  }
  if (options_.temperature <= 0.0f) return argmax(values, n_vocab);
  if (options_.top_k > 0) {
    select_top_k(values, n_vocab);
  } else {
    const int32_t best = argmax(values, n_vocab);
    collect_head(values, n_vocab, values[best]);
    if (candidates_.empty()) return best;  // NaN logits compare false everywhere
  }
  if (candidates_.empty()) fail("sampler: the allowed-token mask excludes every token");
  apply_top_p();
  apply_min_p();
  return -1;
}

int32_t Sampler::sample(const float* logits, int32_t n_vocab) {
  const int32_t decided = narrow(logits, n_vocab);
  return decided >= 0 ? decided : draw();
}

void Sampler::distribution(const float* logits, int32_t n_vocab, std::vector<TokenProb>& out) {
  out.clear();
  const int32_t decided = narrow(logits, n_vocab);
  if (decided >= 0) {
    out.push_back({decided, 1.0});
    return;
  }
  const double total = draw_weights();
  for (size_t i = 0; i < candidates_.size(); ++i)
    if (weights_[i] > 0) out.push_back({candidates_[i].id, weights_[i] / total});
  std::stable_sort(out.begin(), out.end(), [](const TokenProb& a, const TokenProb& b) { return a.p > b.p; });
}

// The scans below read every logit once and keep only what the chain can still
// choose: a 150k vocabulary made the old copy-and-sort of every candidate cost
// 0.5 ms a token at the default top_k, and 20 ms with top_k off.

bool Sampler::allowed(int32_t id) const { return !allowed_ || (*allowed_)[size_t(id)]; }

// The lowest id holding the highest logit. Without a mask it is two passes: a max in 8
// independent lanes (which the compiler keeps in vector registers), then a search for
// the first id that holds it.
int32_t Sampler::argmax(const float* values, int32_t n_vocab) const {
  if (allowed_) {
    int32_t best = -1;
    for (int32_t id = 0; id < n_vocab; ++id)
      if (allowed(id) && (best < 0 || values[id] > values[best])) best = id;
    if (best < 0) fail("sampler: the allowed-token mask excludes every token");
    return best;
  }
  constexpr int kLanes = 8;
  float lanes[kLanes];
  std::fill(lanes, lanes + kLanes, -std::numeric_limits<float>::infinity());
  int32_t id = 0;
  for (; id + kLanes <= n_vocab; id += kLanes)
    for (int j = 0; j < kLanes; ++j) lanes[j] = values[id + j] > lanes[j] ? values[id + j] : lanes[j];
  float max_logit = lanes[0];
  for (int j = 1; j < kLanes; ++j) max_logit = lanes[j] > max_logit ? lanes[j] : max_logit;
  for (; id < n_vocab; ++id) max_logit = values[id] > max_logit ? values[id] : max_logit;
  for (id = 0; id < n_vocab; ++id)
    if (values[id] == max_logit) return id;
  return 0;  // every logit is NaN
}

// The top_k best by ranks_before, best first: a heap whose front is the worst kept, so
// most logits cost one comparison with it.
void Sampler::select_top_k(const float* values, int32_t n_vocab) {
  const size_t k = size_t(options_.top_k);
  candidates_.clear();
  float worst = -std::numeric_limits<float>::infinity();  // the heap front's logit once it is full
  auto offer = [&](int32_t id) {
    if (candidates_.size() == k && !(values[id] > worst)) return;  // ties go to the lower id, seen first
    if (!allowed(id)) return;
    const Candidate candidate{id, values[id]};
    if (candidates_.size() < k) {
      candidates_.push_back(candidate);
      std::push_heap(candidates_.begin(), candidates_.end(), ranks_before);
    } else {
      std::pop_heap(candidates_.begin(), candidates_.end(), ranks_before);
      candidates_.back() = candidate;
      std::push_heap(candidates_.begin(), candidates_.end(), ranks_before);
    }
    if (candidates_.size() == k) worst = candidates_.front().logit;
  };
  // Once the heap is full almost every block of 8 falls below the worst kept: one
  // vector compare rejects it.
  constexpr int kBlock = 8;
  int32_t id = 0;
  for (; id + kBlock <= n_vocab; id += kBlock) {
    bool above = candidates_.size() < k;
    for (int j = 0; j < kBlock; ++j) above |= values[id + j] > worst;
    if (above)
      for (int j = 0; j < kBlock; ++j) offer(id + j);
  }
  for (; id < n_vocab; ++id) offer(id);
  std::sort_heap(candidates_.begin(), candidates_.end(), ranks_before);
  sorted_ = true;
  rest_weight_ = 0;
}

// With top_k off: the candidates top_p and min_p can keep, which are always a head of
// the ranking (every logit >= some threshold). min_p alone keeps id order, as a filter
// over the whole vocabulary would. For top_p the threshold starts 8 below the top and
// widens until the head holds top_p of the mass (or min_p would cut inside it); the
// mass left outside goes to rest_weight_ so top_p still divides by the whole.
void Sampler::collect_head(const float* values, int32_t n_vocab, float max_logit) {
  const float floor = options_.min_p > 0.0f ? max_logit + std::log(options_.min_p)
                                            : -std::numeric_limits<float>::infinity();
  auto collect = [&](float threshold) {
    candidates_.clear();
    rest_weight_ = 0;
    for (int32_t id = 0; id < n_vocab; ++id) {
      if (!allowed(id)) continue;
      if (values[id] >= threshold) candidates_.push_back({id, values[id]});
      else if (values[id] - max_logit > -100.0f) rest_weight_ += std::exp(values[id] - max_logit);
    }
  };
  sorted_ = false;
  if (options_.top_p >= 1.0f) {
    collect(floor);
    return;
  }
  for (float below = 8.0f;; below *= 2) {
    const bool widest = below > 100.0f;  // exp(-100) no longer moves a double sum
    const float threshold = widest ? floor : std::max(floor, max_logit - below);
    collect(threshold);
    if (widest || threshold == floor) break;
    double head = 0;
    for (const Candidate& c : candidates_) head += std::exp(double(c.logit) - max_logit);
    if (head >= options_.top_p * (head + rest_weight_)) break;
  }
  sort_descending(candidates_.size());
}

// Runs on penalised_, a copy of the logits indexed by id.
void Sampler::apply_penalties() {
  const size_t window = options_.repeat_last_n < 0
                            ? history_.size()
                            : std::min(history_.size(), size_t(options_.repeat_last_n));
  window_scratch_.assign(history_.end() - ptrdiff_t(window), history_.end());
  std::sort(window_scratch_.begin(), window_scratch_.end());
  for (size_t run = 0; run < window_scratch_.size();) {
    const int32_t token = window_scratch_[run];
    size_t end = run;
    while (end < window_scratch_.size() && window_scratch_[end] == token) ++end;
    const float count = float(end - run);
    run = end;
    if (token < 0 || size_t(token) >= penalised_.size()) continue;  // foreign id
    float& logit = penalised_[size_t(token)];
    // Dividing a negative logit would make the token more likely, hence the split.
    logit = logit <= 0.0f ? logit * options_.repeat_penalty : logit / options_.repeat_penalty;
    logit -= count * options_.frequency_penalty + options_.presence_penalty;
  }
}

void Sampler::sort_descending(size_t keep) {
  if (sorted_ && keep >= candidates_.size()) return;
  keep = std::min(keep, candidates_.size());
  std::partial_sort(candidates_.begin(), candidates_.begin() + ptrdiff_t(keep), candidates_.end(),
                    ranks_before);
  candidates_.resize(keep);
  sorted_ = true;
}

// Keeps the smallest head of the ranking whose probability (at temperature 1)
// reaches top_p; the token that crosses the threshold is kept.
void Sampler::apply_top_p() {
  if (options_.top_p >= 1.0f) return;
  sort_descending(candidates_.size());
  const float max_logit = candidates_.front().logit;
  double total = 0;
  weights_.resize(candidates_.size());
  for (size_t i = 0; i < candidates_.size(); ++i) {
    weights_[i] = std::exp(double(candidates_[i].logit) - max_logit);
    total += weights_[i];
  }
  total += rest_weight_;
  double cumulative = 0;
  size_t keep = candidates_.size();
  for (size_t i = 0; i < candidates_.size(); ++i) {
    cumulative += weights_[i] / total;
    if (cumulative >= options_.top_p) {
      keep = i + 1;
      break;
    }
  }
  candidates_.resize(keep);
}

// Keeps tokens whose probability is at least min_p times the top token's, i.e.
// logit >= max_logit + log(min_p).
void Sampler::apply_min_p() {
  if (options_.min_p <= 0.0f) return;
  float max_logit = candidates_.front().logit;
  for (const Candidate& candidate : candidates_) max_logit = std::max(max_logit, candidate.logit);
  const float threshold = max_logit + std::log(options_.min_p);
  std::erase_if(candidates_, [&](const Candidate& c) { return c.logit < threshold; });
}

double Sampler::draw_weights() {
  float max_logit = candidates_.front().logit;
  for (const Candidate& candidate : candidates_) max_logit = std::max(max_logit, candidate.logit);
  const double inverse_temperature = 1.0 / options_.temperature;
  weights_.resize(candidates_.size());
  double total = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    weights_[i] = std::exp((double(candidates_[i].logit) - max_logit) * inverse_temperature);
    total += weights_[i];
  }
  return total;
}

int32_t Sampler::draw() {
  const double total = draw_weights();
  const double target = next_uniform() * total;
  double cumulative = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    cumulative += weights_[i];
    if (target < cumulative) return candidates_[i].id;
  }
  return candidates_.back().id;  // rounding left target at the very end
}

double Sampler::next_uniform() { return double(engine_() >> 11) * 0x1.0p-53; }

}  // namespace tandem::generate
