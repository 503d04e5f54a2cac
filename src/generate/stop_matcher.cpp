#include "generate/stop_matcher.h"

#include <algorithm>
#include <utility>

namespace tandem::generate {

StopMatcher::StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
  std::erase_if(stops_, [](const std::string& stop) { return stop.empty(); });
}

std::string StopMatcher::push(std::string_view text) {
  if (stopped_) return {};
  pending_.append(text);
  // Everything before pending_ was proven not to start a stop string, so any
  // match lies wholly inside pending_; the earliest one wins.
  size_t earliest = std::string::npos;
  for (const std::string& stop : stops_) earliest = std::min(earliest, pending_.find(stop));
  if (earliest != std::string::npos) {
    stopped_ = true;
    std::string final_text = pending_.substr(0, earliest);
    pending_.clear();
    return final_text;
  }
  const size_t held = longest_suffix_that_starts_a_stop();
  std::string final_text = pending_.substr(0, pending_.size() - held);
  pending_.erase(0, pending_.size() - held);
  return final_text;
}

std::string StopMatcher::flush() {
  if (stopped_) return {};
  return std::exchange(pending_, {});
}

size_t StopMatcher::longest_suffix_that_starts_a_stop() const {
  const std::string_view pending = pending_;
  size_t longest = 0;
  for (const std::string& stop : stops_) {
    // A full match was handled by the caller, so only proper prefixes remain.
    for (size_t length = std::min(stop.size() - 1, pending.size()); length > longest; --length) {
      if (pending.ends_with(std::string_view(stop).substr(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

}  // namespace tandem::generate
