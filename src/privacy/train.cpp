#include "privacy/train.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "core/error.h"
#include "core/half.h"

namespace tandem::privacy {
namespace {

// splitmix64: the shuffles' only source of randomness.
uint64_t next_random(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Sparse {
  std::vector<uint32_t> index;
  std::vector<double> value;
};

// Sums the values of features that land in the same bucket, in index order.
Sparse to_sparse(const std::vector<std::pair<uint32_t, double>>& raw, uint32_t mask) {
  std::vector<std::pair<uint32_t, double>> items;
  items.reserve(raw.size());
  for (const auto& [hash, value] : raw) items.emplace_back(hash & mask, value);
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Sparse s;
  for (const auto& [index, value] : items) {
    if (!s.index.empty() && s.index.back() == index) {
      s.value.back() += value;
    } else {
      s.index.push_back(index);
      s.value.push_back(value);
    }
  }
  return s;
}

// AdaGrad on one weight vector.
struct Weights {
  explicit Weights(size_t n) : w(n, 0.0), g2(n, 0.0) {}
  double dot(const Sparse& x) const {
    double s = 0;
    for (size_t k = 0; k < x.index.size(); ++k) s += w[x.index[k]] * x.value[k];
    return s;
  }
  void step(size_t i, double gradient, double rate, double l2) {
    const double g = gradient + l2 * w[i];
    g2[i] += g * g;
    w[i] -= rate * g / (std::sqrt(g2[i]) + 1e-8);
  }
  std::vector<double> w, g2;
};

std::vector<uint16_t> to_f16(const std::vector<double>& w) {
  std::vector<uint16_t> out(w.size());
  for (size_t i = 0; i < w.size(); ++i) out[i] = fp32_to_fp16(float(w[i]));
  return out;
}

std::string format(const char* pattern, auto... values) {
  char buffer[512];
  std::snprintf(buffer, sizeof buffer, pattern, values...);
  return buffer;
}

}  // namespace

bool is_hidden(std::string_view text, size_t begin, size_t size, const std::vector<SemanticSpan>& spans) {
  const NormalizedText chars = normalize(text);
  for (size_t i = 0; i < chars.chars.size(); ++i) {
    if (chars.begin[i] < begin || chars.end[i] > begin + size) continue;
    if (!is_word_char(chars.chars[i]) && !is_han(chars.chars[i])) continue;  // punctuation may stay
    const size_t at = chars.begin[i];
    if (!std::any_of(spans.begin(), spans.end(), [&](const SemanticSpan& s) { return s.begin <= at && at < s.end; })) {
      return false;
    }
  }
  return true;
}

double choose_threshold(const std::vector<double>& scores, const std::vector<const Example*>& examples,
                        TrainOptions::Target target) {
  std::vector<double> candidates;
  for (size_t i = 0; i < examples.size(); ++i) {
    if (examples[i]->is_private) candidates.push_back(scores[i]);
  }
  if (candidates.empty()) return 0.5;
  std::sort(candidates.begin(), candidates.end(), std::greater<>());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  const auto meets = [&](double t) {
    std::vector<int> total(kCategories.size(), 0), kept(kCategories.size(), 0);
    int all = 0, all_kept = 0;
    for (size_t i = 0; i < examples.size(); ++i) {
      if (!examples[i]->is_private) continue;
      ++all;
      ++total[examples[i]->category];
      const bool flagged = scores[i] >= t;
      all_kept += flagged;
      kept[examples[i]->category] += flagged;
    }
    if (all_kept < target.recall * all) return false;
    for (size_t c = 0; c < total.size(); ++c) {
      if (total[c] && kept[c] < target.category_recall * total[c]) return false;
    }
    return true;
  };
  for (double c : candidates) {
    if (!meets(c)) continue;
    // Halfway down to the next lower score of any example: a margin for unseen text.
    double below = 0;
    for (double s : scores) {
      if (s < c) below = std::max(below, s);
    }
    return (c + below) / 2;
  }
  return candidates.back() / 2;
}

double threshold_for_false_positives(const std::vector<double>& scores, const std::vector<const Example*>& examples,
                                     double share) {
  std::vector<double> public_scores;
  for (size_t i = 0; i < examples.size(); ++i) {
    if (!examples[i]->is_private) public_scores.push_back(scores[i]);
  }
  if (public_scores.empty()) return 0.5;
  std::sort(public_scores.begin(), public_scores.end(), std::greater<>());
  const size_t allowed = size_t(share * double(public_scores.size()));
  if (allowed >= public_scores.size()) return 0;
  // Just above the first public score that would be one too many.
  const double over = public_scores[allowed];
  double above = 1.0;
  for (double s : public_scores) {
    if (s > over) above = std::min(above, s);
  }
  return (over + above) / 2;
}

double span_coverage(const Classifier& classifier, const std::vector<const Example*>& examples) {
  size_t secrets = 0, covered = 0;
  for (const Example* e : examples) {
    if (!e->is_private) continue;
    const auto spans = classifier.spans(e->text);
    for (const std::string& secret : e->secrets) {
      ++secrets;
      covered += is_hidden(e->text, e->text.find(secret), secret.size(), spans);
    }
  }
  return secrets ? double(covered) / double(secrets) : 1.0;
}

Classifier train(const std::vector<Example>& corpus, const TrainOptions& options, const TrainLog& log) {
  const auto say = [&](const std::string& line) {
    if (log) log(line);
  };
  std::vector<const Example*> train_set, dev_set;
  for (const Example& e : corpus) {
    if (e.split == Split::Train) train_set.push_back(&e);
    if (e.split == Split::Dev) dev_set.push_back(&e);
  }
  if (train_set.empty()) fail("privacy train: the corpus has no examples in the train split");

  // Features of every training example; a feature is learned only when several
  // groups (scenarios) share it, so that no single sentence is memorized.
  std::vector<std::vector<std::pair<uint32_t, double>>> raw(train_set.size());
  std::unordered_map<uint32_t, std::pair<size_t, int>> groups_of;  // hash -> (last group seen, groups)
  std::map<std::string, size_t> group_ids;
  std::vector<Feature> features;
  for (size_t i = 0; i < train_set.size(); ++i) {
    const size_t group = group_ids.emplace(train_set[i]->group, group_ids.size()).first->second;
    features.clear();
    extract_features(normalize(train_set[i]->text), features);
    for (const Feature& f : features) {
      const uint32_t h = bucket_hash(f.hash);
      raw[i].emplace_back(h, f.value);
      auto [it, inserted] = groups_of.try_emplace(h, group, 1);
      if (!inserted && it->second.first != group) {
        it->second.first = group;
        ++it->second.second;
      }
    }
  }
  size_t kept_features = 0;
  for (const auto& [hash, seen] : groups_of) kept_features += seen.second >= options.min_groups;
  say(format("features: %zu distinct in the train split, %zu in at least %d groups", groups_of.size(), kept_features,
             options.min_groups));

  const uint32_t private_mask = (1u << options.private_bits) - 1, topic_mask = (1u << options.topic_bits) - 1;
  std::vector<Sparse> x_private(train_set.size()), x_topic(train_set.size());
  for (size_t i = 0; i < train_set.size(); ++i) {
    std::vector<std::pair<uint32_t, double>> kept;
    for (const auto& [h, v] : raw[i]) {
      if (groups_of[h].second >= options.min_groups) kept.emplace_back(h, v);
    }
    x_private[i] = to_sparse(kept, private_mask);
    x_topic[i] = to_sparse(kept, topic_mask);
  }

  const size_t categories = kCategories.size();
  Weights w_private(size_t(1) << options.private_bits), w_needs(size_t(1) << options.topic_bits);
  Weights w_topic((size_t(1) << options.topic_bits) * categories);
  Weights bias_private(1), bias_needs(1), bias_topic(categories);

  uint64_t random = options.seed;
  std::vector<size_t> order(train_set.size());
  std::vector<double> logits(categories);
  const double rate = options.learning_rate, l2 = options.l2;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[next_random(random) % i]);
    double loss = 0;
    for (size_t i : order) {
      const Example& e = *train_set[i];
      const Sparse& xp = x_private[i];
      const Sparse& xt = x_topic[i];
      // private head
      const double p = sigmoid(bias_private.w[0] + w_private.dot(xp));
      const double weight = e.category < 0 ? options.background_weight : 1.0;
      const double gp = weight * (p - (e.is_private ? 1.0 : 0.0));
      loss += e.is_private ? -std::log(std::max(p, 1e-12)) : -std::log(std::max(1 - p, 1e-12));
      for (size_t k = 0; k < xp.index.size(); ++k) w_private.step(xp.index[k], gp * xp.value[k], rate, l2);
      bias_private.step(0, gp, rate, 0);
      // needs_cloud head
      const double q = sigmoid(bias_needs.w[0] + w_needs.dot(xt));
      // Requests that need a cloud service are the rarer class: weigh them up so the head ranks them.
      const double gq = weight * (e.needs_cloud ? options.needs_weight : 1.0) * (q - (e.needs_cloud ? 1.0 : 0.0));
      for (size_t k = 0; k < xt.index.size(); ++k) w_needs.step(xt.index[k], gq * xt.value[k], rate, l2);
      bias_needs.step(0, gq, rate, 0);
      // category head (softmax); the background set has no category
      if (e.category < 0) continue;
      for (size_t c = 0; c < categories; ++c) logits[c] = bias_topic.w[c];
      for (size_t k = 0; k < xt.index.size(); ++k) {
        const double* row = &w_topic.w[size_t(xt.index[k]) * categories];
        for (size_t c = 0; c < categories; ++c) logits[c] += row[c] * xt.value[k];
      }
      const double top = *std::max_element(logits.begin(), logits.end());
      double total = 0;
      for (double& l : logits) total += (l = portable_exp(l - top));
      for (size_t c = 0; c < categories; ++c) {
        const double g = logits[c] / total - (int(c) == e.category ? 1.0 : 0.0);
        for (size_t k = 0; k < xt.index.size(); ++k) {
          w_topic.step(size_t(xt.index[k]) * categories + c, g * xt.value[k], rate, l2);
        }
        bias_topic.step(c, g, rate, 0);
      }
    }
    say(format("epoch %d: private-head log loss %.4f", epoch + 1, loss / double(order.size())));
  }

  Classifier::Parameters params;
  params.private_bits = options.private_bits;
  params.topic_bits = options.topic_bits;
  params.private_bias = float(bias_private.w[0]);
  params.needs_bias = float(bias_needs.w[0]);
  for (double b : bias_topic.w) params.topic_bias.push_back(float(b));
  params.private_weights = to_f16(w_private.w);
  params.needs_weights = to_f16(w_needs.w);
  params.topic_weights = to_f16(w_topic.w);

  // Operating points on dev, from the stored (f16) model's own scores.
  if (!dev_set.empty()) {
    const Classifier draft(params);
    std::vector<double> scores;
    for (const Example* e : dev_set) scores.push_back(draft.predict(e->text).score);
    params.thresholds[1] = choose_threshold(scores, dev_set, options.balanced);
    params.thresholds[0] =
        std::max(params.thresholds[1], threshold_for_false_positives(scores, dev_set, options.low_false_positives));
    params.thresholds[2] = choose_threshold(scores, dev_set, options.strict);
    // The span threshold: the highest evidence level whose spans still cover the target
    // share of dev secrets.
    const double candidates[] = {1.0, 0.7, 0.5, 0.35, 0.25, 0.15, 0.1, 0.05, 0.0, -0.05, -0.1, -0.2};
    for (double t : candidates) {
      params.span_threshold = t;
      const double coverage = span_coverage(Classifier(params), dev_set);
      say(format("span threshold %.3f: %.1f%% of dev secrets covered", t, 100 * coverage));
      if (coverage >= options.span_coverage) break;
    }
    // needs_cloud: the highest threshold that sees the target share of the dev private
    // requests that need a cloud service (they are refused or redacted; the others stay).
    {
      std::vector<double> needs;
      for (const Example* e : dev_set) {
        if (e->is_private && e->needs_cloud) needs.push_back(draft.predict(e->text).needs_cloud);
      }
      std::sort(needs.begin(), needs.end(), std::greater<>());
      if (!needs.empty()) {
        const size_t k = std::min(needs.size() - 1, size_t(options.needs_recall * double(needs.size())));
        params.needs_threshold = std::min(0.5, needs[k]);
      }
      size_t seen = 0, flagged_other = 0, other = 0;
      const Classifier with_needs(params);
      for (const Example* e : dev_set) {
        if (!e->is_private) continue;
        const bool said = with_needs.needs_cloud(with_needs.predict(e->text));
        if (e->needs_cloud) seen += said;
        else other++, flagged_other += said;
      }
      say(format("needs_cloud threshold %.3f: %zu of %zu dev private requests that need the cloud seen, %zu of %zu others",
                 params.needs_threshold, seen, needs.size(), flagged_other, other));
    }
    say(format("operating points (dev): low %.3f, balanced %.3f, strict %.3f", params.thresholds[0],
               params.thresholds[1], params.thresholds[2]));
  }
  return Classifier(std::move(params));
}

}  // namespace tandem::privacy
