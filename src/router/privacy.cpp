// find_pii: normalizes the text, runs every scanner, keeps the best non-overlapping
// candidates, weighs public forms against personal context, attaches names to phone
// numbers and maps the spans back to the caller's byte offsets.
#include "router/privacy.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <map>

#include "router/privacy_scan.h"

namespace tandem::router {
namespace scan {

CodePoint decode_at(std::string_view text, size_t pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(pos);
  if (lead < 0x80) return {lead, 1};
  size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  if (length == 0 || pos + length > text.size()) return {0xFFFD, 1};
  char32_t value = lead & (0xFF >> (length + 1));
  for (size_t i = 1; i < length; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) return {0xFFFD, 1};
    value = (value << 6) | (byte(pos + i) & 0x3F);
  }
  return {value, length};
}

CodePoint decode_before(std::string_view text, size_t pos) {
  size_t start = pos;
  while (start > 0 && pos - start < 4) {
    --start;
    if ((static_cast<unsigned char>(text[start]) & 0xC0) != 0x80) break;
  }
  if (start == pos) return {0xFFFD, 0};
  CodePoint cp = decode_at(text, start);
  if (start + cp.length != pos) return {0xFFFD, 1};
  return cp;
}

std::string_view kind_name(Kind kind) {
  constexpr std::array<std::string_view, 21> kNames = {
      "api_key", "credentials", "cn_id_number", "hk_id", "tw_id", "mo_id", "us_ssn", "iban", "passport",
      "bank_card", "partial_card", "email", "phone", "social_handle", "otp_code", "license_plate", "password",
      "gps", "street_address", "amount", "contact"};
  return kNames[static_cast<size_t>(kind)];
}

}  // namespace scan

namespace {

// Longest first, so "+86 138 1234 5678" beats the bare mobile inside it and an
// e-mail beats the digits of "13812345678@163.com"; equal lengths go to the more
// specific kind (the enum order), then to the more confident candidate.
std::vector<scan::Candidate> keep_best(std::vector<scan::Candidate> candidates) {
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    size_t length_a = a.end - a.begin, length_b = b.end - b.begin;
    if (length_a != length_b) return length_a > length_b;
    if (a.kind != b.kind) return a.kind < b.kind;
    if (a.confidence != b.confidence) return a.confidence > b.confidence;
    return a.begin < b.begin;
  });
  std::map<size_t, scan::Candidate> kept_by_begin;  // disjoint, so neighbours decide overlaps
  for (const auto& candidate : candidates) {
    if (candidate.end <= candidate.begin) continue;
    auto next = kept_by_begin.lower_bound(candidate.begin);
    if (next != kept_by_begin.end() && next->second.begin < candidate.end) continue;
    if (next != kept_by_begin.begin() && std::prev(next)->second.end > candidate.begin) continue;
    kept_by_begin.emplace(candidate.begin, candidate);
  }
  std::vector<scan::Candidate> kept;
  for (const auto& [begin, candidate] : kept_by_begin) kept.push_back(candidate);
  return kept;
}

}  // namespace

std::vector<PiiFinding> scan_pii(std::string_view text) {
  scan::NormalizedText normalized = scan::normalize(text);
  const scan::ScanText indexed(normalized.text);
  scan::Candidates candidates;
  using Scanner = void (*)(const scan::ScanText&, scan::Candidates&);
  constexpr Scanner kScanners[] = {
      scan::scan_cn_id_numbers, scan::scan_phones,          scan::scan_bank_cards,     scan::scan_gps,
      scan::scan_emails,        scan::scan_api_keys,        scan::scan_passwords,      scan::scan_credentials,
      scan::scan_street_addresses, scan::scan_government_ids, scan::scan_license_plates, scan::scan_social_handles,
      scan::scan_one_time_codes, scan::scan_partial_cards,   scan::scan_amounts};
  for (Scanner scanner : kScanners) scanner(indexed, candidates);

  std::vector<scan::Candidate> kept = keep_best(std::move(candidates));
  std::vector<PiiFinding> findings;
  for (size_t i = 0; i < kept.size(); ++i) {
    scan::Candidate candidate = kept[i];
    bool personal = candidate.public_form == nullptr ||
                    scan::personal_context(indexed, candidate.begin, candidate.end, candidate.public_form);
    // A name written in front of a phone number belongs to it ("张伟 138…", "Mom: 07700 …").
    if (candidate.kind == scan::Kind::phone && personal) {
      size_t name = scan::contact_name_start(indexed, candidate.begin);
      size_t previous_end = i > 0 ? kept[i - 1].end : 0;
      if (name < candidate.begin && name >= previous_end) {
        candidate.begin = name;
        candidate.kind = scan::Kind::contact;
      }
    }
    PiiFinding finding;
    finding.kind = std::string(scan::kind_name(candidate.kind));
    finding.begin = normalized.source_begin[candidate.begin];
    finding.end = normalized.source_end[candidate.end - 1];
    finding.personal = personal;
    finding.confidence = candidate.confidence;
    if (candidate.public_form != nullptr) finding.public_form = candidate.public_form;
    findings.push_back(std::move(finding));
  }
  return findings;
}

std::vector<PiiFinding> find_pii(std::string_view text) {
  std::vector<PiiFinding> findings = scan_pii(text);
  std::erase_if(findings, [](const PiiFinding& finding) { return !finding.personal; });
  return findings;
}

bool is_private_tag(std::string_view tag) {
  constexpr std::string_view kPrivateTags[] = {"messages", "photos",  "contacts", "health",
                                               "location", "finance", "private"};
  return std::any_of(std::begin(kPrivateTags), std::end(kPrivateTags), [&](std::string_view known) {
    return known.size() == tag.size() && scan::matches_at(tag, 0, known);
  });
}

}  // namespace tandem::router
