// How hard a request looks, from transparent features of its text: length, task
// words (Chinese and English) and the number of constraints. The score is in [0, 1];
// the router sends requests at or above its threshold to the cloud, so the threshold
// is the quality/cost knob (docs/routing.md).
#pragma once
#include <string>
#include <string_view>

namespace tandem::router {

struct Difficulty {
  double score = 0;
  std::string strongest;  // the feature that contributed most ("length", "booking", ...), "" when none
  int constraints = 0;
  size_t characters = 0;
};

Difficulty estimate_difficulty(std::string_view text);

}  // namespace tandem::router
