// One privacy verdict per request: the pattern scanners (find_pii), the on-device
// classifier (privacy/classifier.h) and the app's data tags together. The policy
// records it in every decision, so an audit can tell "checked, found nothing"
// (privacy:none_found(score=0.07)) from "not checked".
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "privacy/classifier.h"
#include "router/privacy.h"

namespace tandem::router {

using privacy::Strictness;

struct PrivacyVerdict {
  bool is_private = false;
  // Why: the first scanner finding ("cn_id_number"), else an app tag ("tag_photos"),
  // else the classifier's category ("health"); "" when public.
  std::string kind;
  double score = 0;          // the classifier's P(private)
  std::string category;      // the classifier's category, also for public requests
  bool needs_cloud = false;  // the request asks for what only a cloud service does
  bool from_tag = false;     // private because of an app tag alone (no redacted form exists)
  std::vector<PiiFinding> findings;
  // "none_found(score=0.07)" or "health(score=0.93)".
  std::string describe() const;
};

// Whether `task_text` asks for what only a cloud service does (the classifier's needs_cloud head).
bool needs_cloud_service(std::string_view task_text);

// With the embedded model, or another one (`tandem privacy eval --model`, tests).
PrivacyVerdict check_privacy(std::string_view text, const std::vector<std::string>& data_tags, Strictness strictness);
PrivacyVerdict check_privacy(std::string_view text, const std::vector<std::string>& data_tags, Strictness strictness,
                             const privacy::Classifier& model);

// The check on a request after redaction, the last gate before the cloud: the
// placeholders ([EMAIL_1], [HEALTH_2]) are read as blanks, so that only what redaction
// left behind counts. Private here means the redacted request must not leave either.
PrivacyVerdict check_redacted(std::string_view redacted_text, Strictness strictness);

// The classifier's semantic spans of `text` as findings (kind = category, e.g. "health"),
// for Redactor::redact's extra spans.
std::vector<PiiFinding> semantic_spans(std::string_view text);

// What redaction replaces: the scanners' findings, and the classifier's semantic spans
// (kind = category, e.g. "health") outside them; sorted, disjoint.
std::vector<PiiFinding> private_spans(std::string_view text);
std::vector<PiiFinding> private_spans(std::string_view text, const privacy::Classifier& model);

// "low" is the loosest; a request may ask only for a stricter setting than the configured one.
inline Strictness stricter(Strictness a, Strictness b) { return int(a) >= int(b) ? a : b; }

}  // namespace tandem::router
