#include "generate/sampler.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace tandem::generate {
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

int32_t Sampler::sample(const float* logits, int32_t n_vocab) {
  if (n_vocab <= 0) fail("sampler: the vocabulary is empty (n_vocab = ", n_vocab, ")");
  load_candidates(logits, n_vocab);
  if (penalties_enabled()) apply_penalties();
  if (allowed_) apply_mask(n_vocab);

  if (options_.temperature <= 0.0f) {
    // Scanning in id order with a strict comparison keeps the lowest id on ties.
    const Candidate* best = &candidates_[0];
    for (const Candidate& candidate : candidates_) {
      if (candidate.logit > best->logit) best = &candidate;
    }
    return best->id;
  }
  apply_top_k();
  apply_top_p();
  apply_min_p();
  return draw();
}

void Sampler::load_candidates(const float* logits, int32_t n_vocab) {
  candidates_.resize(size_t(n_vocab));
  for (int32_t id = 0; id < n_vocab; ++id) candidates_[size_t(id)] = {id, logits[id]};
  sorted_ = false;
}

// Runs while candidates_ is still indexed by id.
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
    if (token < 0 || size_t(token) >= candidates_.size()) continue;  // foreign id
    float& logit = candidates_[size_t(token)].logit;
    // Dividing a negative logit would make the token more likely, hence the split.
    logit = logit <= 0.0f ? logit * options_.repeat_penalty : logit / options_.repeat_penalty;
    logit -= count * options_.frequency_penalty + options_.presence_penalty;
  }
}

void Sampler::apply_mask(int32_t n_vocab) {
  if (allowed_->size() != size_t(n_vocab)) {
    fail("sampler: the allowed-token mask has ", allowed_->size(), " entries but the vocabulary has ",
         n_vocab);
  }
  const std::vector<bool>& allowed = *allowed_;
  std::erase_if(candidates_, [&](const Candidate& c) { return !allowed[size_t(c.id)]; });
  if (candidates_.empty()) fail("sampler: the allowed-token mask excludes every token");
}

void Sampler::sort_descending(size_t keep) {
  if (sorted_ && keep >= candidates_.size()) return;
  keep = std::min(keep, candidates_.size());
  std::partial_sort(candidates_.begin(), candidates_.begin() + ptrdiff_t(keep), candidates_.end(),
                    ranks_before);
  candidates_.resize(keep);
  sorted_ = true;
}

void Sampler::apply_top_k() {
  if (options_.top_k > 0) sort_descending(size_t(options_.top_k));
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

int32_t Sampler::draw() {
  float max_logit = candidates_.front().logit;
  for (const Candidate& candidate : candidates_) max_logit = std::max(max_logit, candidate.logit);
  const double inverse_temperature = 1.0 / options_.temperature;
  weights_.resize(candidates_.size());
  double total = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    weights_[i] = std::exp((double(candidates_[i].logit) - max_logit) * inverse_temperature);
    total += weights_[i];
  }
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
