// Decides which streamed text is final when generation may end on a stop string.
// Text that could still be the start of a stop string is held back until the next
// text proves otherwise; when a stop string appears, it and everything after it
// are dropped. Input is assumed to be valid UTF-8 (Utf8Stream's output); held-back
// text starts where a stop string starts, so what is emitted stays valid UTF-8.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace tandem::generate {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);  // empty strings are ignored

  // Returns the text that is now final. After a stop string is seen, stopped()
  // is true and further input is ignored.
  std::string push(std::string_view text);
  // End of generation without a stop: whatever was held back is final.
  std::string flush();

  bool stopped() const { return stopped_; }
  const std::string& held() const { return pending_; }

 private:
  size_t longest_suffix_that_starts_a_stop() const;

  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

}  // namespace tandem::generate
