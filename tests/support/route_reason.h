// Route reasons carry the privacy classifier's score ("privacy:none_found(score=0.07)"),
// which moves whenever the model is retrained; tests compare the rest.
#pragma once
#include <string>

namespace tandem::test {

// "cloud; reason=preference:cloud-preferred;privacy:none_found(score=0.07)"
//   -> "cloud; reason=preference:cloud-preferred;privacy:none_found"
inline std::string without_scores(std::string reason) {
  for (size_t open; (open = reason.find("(score=")) != std::string::npos;) {
    const size_t close = reason.find(')', open);
    reason.erase(open, close == std::string::npos ? std::string::npos : close + 1 - open);
  }
  return reason;
}

}  // namespace tandem::test
