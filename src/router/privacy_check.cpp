#include "router/privacy_check.h"

#include <algorithm>
#include <cstdio>

#include "privacy/corpus.h"

namespace tandem::router {

std::string PrivacyVerdict::describe() const {
  char score_text[32];
  std::snprintf(score_text, sizeof score_text, "(score=%.2f)", score);
  std::string out = is_private ? kind : "none_found";
  out.append(score_text);
  return out;
}

PrivacyVerdict check_privacy(std::string_view text, const std::vector<std::string>& data_tags, Strictness strictness) {
  return check_privacy(text, data_tags, strictness, privacy::Classifier::embedded());
}

PrivacyVerdict check_privacy(std::string_view text, const std::vector<std::string>& data_tags, Strictness strictness,
                             const privacy::Classifier& model) {
  const privacy::Prediction prediction = model.predict(text);
  PrivacyVerdict v;
  v.score = prediction.score;
  v.category = std::string(privacy::kCategories[prediction.category]);
  v.needs_cloud = model.needs_cloud(prediction);
  v.findings = find_pii(text);
  if (!v.findings.empty()) {
    v.kind = v.findings.front().kind;
  } else {
    for (const std::string& tag : data_tags) {
      if (is_private_tag(tag)) {
        v.kind = "tag_" + tag;
        v.from_tag = true;
        break;
      }
    }
  }
  if (v.kind.empty() && model.is_private(prediction, strictness)) v.kind = v.category;
  v.is_private = !v.kind.empty();
  return v;
}

bool needs_cloud_service(std::string_view task_text) {
  const privacy::Classifier& model = privacy::Classifier::embedded();
  return model.needs_cloud(model.predict(task_text));
}

PrivacyVerdict check_redacted(std::string_view redacted_text, Strictness strictness) {
  // "[" + upper-case letters and '_' + "_" + digits + "]", as the Redactor writes them, become a space.
  std::string blanked;
  blanked.reserve(redacted_text.size());
  for (size_t pos = 0; pos < redacted_text.size();) {
    size_t at = pos + 1;
    if (redacted_text[pos] == '[') {
      while (at < redacted_text.size() && ((redacted_text[at] >= 'A' && redacted_text[at] <= 'Z') || redacted_text[at] == '_')) ++at;
      const size_t digits = at;
      while (at < redacted_text.size() && redacted_text[at] >= '0' && redacted_text[at] <= '9') ++at;
      if (at < redacted_text.size() && redacted_text[at] == ']' && at > digits && digits > pos + 2 &&
          redacted_text[digits - 1] == '_') {
        blanked.push_back(' ');
        pos = at + 1;
        continue;
      }
    }
    blanked.push_back(redacted_text[pos]);
    ++pos;
  }
  return check_privacy(blanked, {}, strictness);
}

std::vector<PiiFinding> semantic_spans(std::string_view text) {
  std::vector<PiiFinding> spans;
  for (const privacy::SemanticSpan& s : privacy::Classifier::embedded().spans(text)) spans.push_back({.kind = s.category, .begin = s.begin, .end = s.end, .public_form = {}});
  return spans;
}

std::vector<PiiFinding> private_spans(std::string_view text) {
  return private_spans(text, privacy::Classifier::embedded());
}

std::vector<PiiFinding> private_spans(std::string_view text, const privacy::Classifier& model) {
  const std::vector<PiiFinding> findings = find_pii(text);  // sorted, disjoint
  std::vector<PiiFinding> spans = findings;
  // A semantic span keeps what lies outside the scanners' findings (which name the value more precisely).
  for (const privacy::SemanticSpan& s : model.spans(text)) {
    size_t begin = s.begin;
    for (const PiiFinding& f : findings) {
      if (f.end <= begin || f.begin >= s.end) continue;
      if (f.begin > begin) spans.push_back({.kind = s.category, .begin = begin, .end = f.begin, .public_form = {}});
      begin = std::max(begin, f.end);
    }
    if (begin < s.end) spans.push_back({.kind = s.category, .begin = begin, .end = s.end, .public_form = {}});
  }
  std::sort(spans.begin(), spans.end(), [](const PiiFinding& a, const PiiFinding& b) { return a.begin < b.begin; });
  return spans;
}

}  // namespace tandem::router
