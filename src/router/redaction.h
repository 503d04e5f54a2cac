// Redaction for requests the user allows to go to the cloud in redacted form:
// every sensitive span becomes a placeholder such as [EMAIL_1] or [PHONE_2] (a card
// with its expiry and CVV, a phone number with the name in front of it, a login with
// its password), spans from a semantic classifier become category placeholders such as
// [HEALTH_1], and the cloud's answer gets the original values back on the phone, also
// while it streams.
#pragma once
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "router/privacy.h"

namespace tandem::router {

// One Redactor per request: the same value always gets the same placeholder across
// all the texts it redacts (system prompt, history, the new message).
class Redactor {
 public:
  std::string redact(std::string_view text);  // the personal values find_pii finds
  // ... and `extra` spans of `text` (e.g. a classifier's {"health", begin, end}): each becomes
  // a placeholder named after its kind ([HEALTH_1]). Spans that overlap each other or a
  // detected value merge into one, named after the longest. Throws tandem::Error for a span
  // outside the text, not on character boundaries, or with a kind that is not [a-z0-9_]+.
  std::string redact(std::string_view text, const std::vector<PiiFinding>& extra);
  std::string restore(std::string_view text) const;   // placeholders -> original values
  size_t size() const { return mapping_.size(); }     // number of distinct values replaced
  const std::vector<std::pair<std::string, std::string>>& mapping() const { return mapping_; }  // placeholder, original

  // The original value of a placeholder such as "[EMAIL_1]", or nullptr when unknown.
  const std::string* original_of(std::string_view placeholder) const;
  // Whether `text` could still grow into a known placeholder ("[EMA" -> "[EMAIL_1]").
  bool is_placeholder_prefix(std::string_view text) const;

 private:
  const std::string& placeholder_for(const std::string& kind, std::string_view value);

  std::vector<std::pair<std::string, std::string>> mapping_;
  std::unordered_map<std::string, size_t> index_by_value_;
  std::unordered_map<std::string, size_t> index_by_placeholder_;
  std::unordered_map<std::string, size_t> count_by_kind_;
};

// Restores placeholders in a stream of chunks: holds back a trailing partial placeholder
// (e.g. "[EMA") until the next chunk decides it.
class StreamRestorer {
 public:
  explicit StreamRestorer(const Redactor& redactor) : redactor_(redactor) {}
  std::string feed(std::string_view chunk);
  std::string flush();

 private:
  const Redactor& redactor_;
  std::string pending_;
};

}  // namespace tandem::router
