// The on-device privacy classifier: a linear model over hashed features
// (privacy/features.h) with three heads that share them:
//   - private: P(the request holds someone's personal data), the routing verdict;
//   - category: which of the 24 corpus categories the request is about, for reasons
//     and placeholders ([HEALTH_1]);
//   - needs_cloud: P(the request asks for something only a cloud service can do:
//     book, buy, send, look up live information).
// It also says where the private evidence lies (semantic spans for redaction). The
// model is trained by `tandem privacy train` (privacy/train.h) and embedded in the
// library, so every binary has it without a path.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "privacy/features.h"

namespace tandem::privacy {

// How eager the private verdict is: which operating point of the private head applies.
// The thresholds are chosen on the dev split when the model is trained.
enum class Strictness { Low, Balanced, Strict };
std::optional<Strictness> parse_strictness(std::string_view name);  // "low", "balanced", "strict"
const char* strictness_name(Strictness strictness);

// A stretch of the request that carries private evidence, in byte offsets of the text.
struct SemanticSpan {
  std::string category;
  size_t begin = 0, end = 0;
};

struct Prediction {
  double score = 0;        // P(private)
  int category = 0;        // index into kCategories (privacy/corpus.h)
  double needs_cloud = 0;  // P(needs a cloud service)
};

class Classifier {
 public:
  // The model compiled into the library (data/privacy/privacy-model.bin at build time).
  // tandem::Error when the build embedded none.
  static const Classifier& embedded();
  // tandem::Error naming what is wrong with a malformed model.
  explicit Classifier(std::span<const uint8_t> bytes);

  Prediction predict(std::string_view text) const;
  // The stretches of `text` whose features push toward private, snapped to whole words
  // (and, in Chinese, to runs between punctuation), each with its category.
  std::vector<SemanticSpan> spans(std::string_view text) const;

  double threshold(Strictness strictness) const { return p_.thresholds[int(strictness)]; }
  bool is_private(const Prediction& p, Strictness strictness) const { return p.score >= threshold(strictness); }
  // A request needs the cloud when its needs_cloud probability reaches the threshold chosen on dev.
  bool needs_cloud(const Prediction& p) const { return p.needs_cloud >= p_.needs_threshold; }

  // The model's parameters, for the trainer (which writes them) and the tests.
  struct Parameters {
    uint32_t private_bits = 18, topic_bits = 15;
    double thresholds[3] = {0.5, 0.5, 0.5};  // low, balanced, strict
    double span_threshold = 0.05;            // a clause's private evidence that makes it a span
    double needs_threshold = 0.5;            // needs_cloud probability that means a cloud service
    float private_bias = 0, needs_bias = 0;
    std::vector<float> topic_bias;           // one per category
    std::vector<uint16_t> private_weights;   // f16, 2^private_bits
    std::vector<uint16_t> needs_weights;     // f16, 2^topic_bits
    std::vector<uint16_t> topic_weights;     // f16, [2^topic_bits][categories]
  };
  explicit Classifier(Parameters parameters);
  const Parameters& parameters() const { return p_; }
  // The model file: a header, the thresholds, f16 weights and a trailing FNV-1a checksum.
  std::vector<uint8_t> serialize() const;

 private:
  struct Scored {
    NormalizedText text;
    std::vector<Feature> features;
  };
  Scored featurize(std::string_view text) const;
  Prediction predict_features(const std::vector<Feature>& features) const;

  Parameters p_;
  // The weights as floats, converted once at load: scoring reads them per feature.
  std::vector<float> private_w_, needs_w_, topic_w_;
  uint32_t private_mask_ = 0, topic_mask_ = 0;
  size_t categories_ = 0;
};

// e^x from +, * and / only, so that training and scores are bit-identical on every
// platform (libm's exp may differ in the last place), which the reproducibility test needs.
double portable_exp(double x);
inline double sigmoid(double x) { return x >= 0 ? 1 / (1 + portable_exp(-x)) : 1 - 1 / (1 + portable_exp(x)); }

}  // namespace tandem::privacy
