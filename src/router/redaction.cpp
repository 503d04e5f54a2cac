#include "router/redaction.h"

#include <algorithm>

#include "core/error.h"
#include "router/privacy.h"

namespace tandem::router {
namespace {

std::string upper(std::string_view text) {
  std::string result(text);
  for (char& c : result)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return result;
}

bool is_placeholder_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

// Copies `text` with known placeholders replaced. Unless `final`, stops before a
// trailing "[..." that may still become a placeholder and reports where via `consumed`.
std::string restore_prefix(const Redactor& redactor, std::string_view text, bool final, size_t& consumed) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('[', pos);
    if (open == std::string_view::npos) {
      out.append(text.substr(pos));
      pos = text.size();
      break;
    }
    out.append(text.substr(pos, open - pos));
    size_t close = open + 1;
    while (close < text.size() && is_placeholder_char(text[close])) ++close;
    if (close == text.size() && !final && redactor.is_placeholder_prefix(text.substr(open))) {
      pos = open;  // undecided until more text arrives
      break;
    }
    if (close < text.size() && text[close] == ']') {
      if (const std::string* original = redactor.original_of(text.substr(open, close - open + 1))) {
        out.append(*original);
        pos = close + 1;
        continue;
      }
    }
    out.push_back('[');
    pos = open + 1;
  }
  consumed = pos;
  return out;
}

}  // namespace

const std::string& Redactor::placeholder_for(const std::string& kind, std::string_view value) {
  std::string key(value);
  auto found = index_by_value_.find(key);
  if (found != index_by_value_.end()) return mapping_[found->second].first;
  size_t number = ++count_by_kind_[kind];
  std::string placeholder = "[" + upper(kind) + "_" + std::to_string(number) + "]";
  index_by_value_.emplace(key, mapping_.size());
  index_by_placeholder_.emplace(placeholder, mapping_.size());
  mapping_.emplace_back(std::move(placeholder), std::move(key));
  return mapping_.back().first;
}

std::string Redactor::redact(std::string_view text) { return redact(text, {}); }

std::string Redactor::redact(std::string_view text, const std::vector<PiiFinding>& extra) {
  const auto on_boundary = [&](size_t pos) {
    return pos == text.size() || (static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80;
  };
  for (const PiiFinding& span : extra) {
    if (span.begin >= span.end || span.end > text.size())
      fail("redaction span [", span.begin, ", ", span.end, ") of kind '", span.kind, "' is outside the ", text.size(),
           "-byte text");
    if (!on_boundary(span.begin) || !on_boundary(span.end))
      fail("redaction span [", span.begin, ", ", span.end, ") of kind '", span.kind, "' splits a UTF-8 character");
    bool named = !span.kind.empty() && std::all_of(span.kind.begin(), span.kind.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!named) fail("redaction span kind '", span.kind, "' is not lower-case letters, digits and '_'");
  }
  // Detected values first, so a tie in length keeps the detector's kind.
  std::vector<PiiFinding> spans = find_pii(text);
  spans.insert(spans.end(), extra.begin(), extra.end());
  std::stable_sort(spans.begin(), spans.end(), [](const PiiFinding& a, const PiiFinding& b) { return a.begin < b.begin; });
  struct Merged {
    size_t begin, end, longest;
    std::string kind;
  };
  std::vector<Merged> merged;
  for (const PiiFinding& span : spans) {
    size_t length = span.end - span.begin;
    if (!merged.empty() && span.begin < merged.back().end) {
      Merged& last = merged.back();
      last.end = std::max(last.end, span.end);
      if (length > last.longest) {
        last.longest = length;
        last.kind = span.kind;
      }
      continue;
    }
    merged.push_back({span.begin, span.end, length, span.kind});
  }
  std::string out;
  size_t copied = 0;
  for (const Merged& span : merged) {
    out.append(text.substr(copied, span.begin - copied));
    out.append(placeholder_for(span.kind, text.substr(span.begin, span.end - span.begin)));
    copied = span.end;
  }
  out.append(text.substr(copied));
  return out;
}

std::string Redactor::restore(std::string_view text) const {
  size_t consumed = 0;
  return restore_prefix(*this, text, true, consumed);
}

const std::string* Redactor::original_of(std::string_view placeholder) const {
  auto found = index_by_placeholder_.find(std::string(placeholder));
  return found == index_by_placeholder_.end() ? nullptr : &mapping_[found->second].second;
}

bool Redactor::is_placeholder_prefix(std::string_view text) const {
  return std::any_of(mapping_.begin(), mapping_.end(),
                     [&](const auto& entry) { return std::string_view(entry.first).substr(0, text.size()) == text; });
}

std::string StreamRestorer::feed(std::string_view chunk) {
  pending_.append(chunk);
  size_t consumed = 0;
  std::string out = restore_prefix(redactor_, pending_, false, consumed);
  pending_.erase(0, consumed);
  return out;
}

std::string StreamRestorer::flush() {
  std::string out = redactor_.restore(pending_);
  pending_.clear();
  return out;
}

}  // namespace tandem::router
