// Training the privacy classifier from the labelled corpus: logistic regression
// (AdaGrad SGD, fixed seed, one thread, a fixed order of every sum) on the train
// split; the operating points and the span threshold are chosen on the dev split;
// the test split is never read. The same corpus and options give the same bytes.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "privacy/classifier.h"
#include "privacy/corpus.h"

namespace tandem::privacy {

struct TrainOptions {
  uint64_t seed = 17;
  int epochs = 12;
  double learning_rate = 0.2;
  double l2 = 1e-6;
  int min_groups = 2;
  // The background set is small next to the corpus; its examples count this many times.
  double background_weight = 3;
  double needs_weight = 3;  // weight of an example that needs the cloud, in the needs_cloud head  // a feature is learned only when it appears in this many groups of the train split
  uint32_t private_bits = 18, topic_bits = 15;
  // Operating points, on the dev split. balanced and strict: the highest threshold that
  // keeps this share of private examples off the cloud, overall and in every category.
  struct Target {
    double recall, category_recall;
  };
  Target balanced{0.985, 0.9}, strict{0.995, 0.95};
  // low: the lowest threshold (never below balanced's) at which at most this share of
  // the dev near-misses is kept on the device, for users who want fewer false alarms.
  double low_false_positives = 0.05;
  double span_coverage = 0.98;  // share of dev secrets the spans must hide
  double needs_recall = 0.8;    // share of dev private requests needing the cloud that must be seen as such
};

// What training prints: one line at a time.
using TrainLog = std::function<void(const std::string&)>;

Classifier train(const std::vector<Example>& corpus, const TrainOptions& options, const TrainLog& log = {});

// The operating point: the highest threshold on `scores` at which the share of
// private examples scoring at or above it reaches `target` overall and in every category.
double choose_threshold(const std::vector<double>& scores, const std::vector<const Example*>& examples,
                        TrainOptions::Target target);

// Whether every letter, digit and Chinese character of text[begin, begin + size) lies
// inside a span: what redaction would leave of the secret is punctuation and spaces.
bool is_hidden(std::string_view text, size_t begin, size_t size, const std::vector<SemanticSpan>& spans);

// The lowest threshold on `scores` at which at most `share` of the public examples score
// at or above it.
double threshold_for_false_positives(const std::vector<double>& scores, const std::vector<const Example*>& examples,
                                     double share);

// Share of the secrets of `examples` (private ones) hidden by the classifier's spans
// at its span threshold.
double span_coverage(const Classifier& classifier, const std::vector<const Example*>& examples);

}  // namespace tandem::privacy
