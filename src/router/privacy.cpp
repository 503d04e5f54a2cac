// find_pii: folds full-width characters, runs every scanner, keeps the best
// non-overlapping candidates and maps them back to the caller's byte offsets.
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

}  // namespace scan

namespace {

// The scanners only understand ASCII digits and punctuation, but phone users type
// full-width "１３８１２３４５６７８" or "密码：" as often as not.
struct FoldedText {
  std::string text;
  std::vector<size_t> source_begin;  // per folded byte: where its character starts in the original
  std::vector<size_t> source_end;    // ... and where it ends
};

FoldedText fold_full_width(std::string_view original) {
  FoldedText folded;
  folded.text.reserve(original.size());
  const auto append = [&](char c, size_t begin, size_t end) {
    folded.text.push_back(c);
    folded.source_begin.push_back(begin);
    folded.source_end.push_back(end);
  };
  for (size_t pos = 0; pos < original.size();) {
    scan::CodePoint cp = scan::decode_at(original, pos);
    size_t end = pos + cp.length;
    if (cp.value >= 0xFF01 && cp.value <= 0xFF5E) {
      append(static_cast<char>(cp.value - 0xFEE0), pos, end);
    } else if (cp.value == 0x3000) {  // ideographic space
      append(' ', pos, end);
    } else {
      for (size_t i = pos; i < end; ++i) append(original[i], i, i + 1);
    }
    pos = end;
  }
  return folded;
}

constexpr std::array<std::string_view, 8> kKindNames = {
    "api_key", "cn_id_number", "bank_card", "email", "phone", "password", "gps", "street_address"};

// Longest first, so "+86 138 1234 5678" beats the bare mobile inside it and an
// e-mail beats the digits of "13812345678@163.com"; equal lengths go to the more
// specific kind (the enum order).
std::vector<scan::Candidate> keep_best(std::vector<scan::Candidate> candidates) {
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    size_t length_a = a.end - a.begin, length_b = b.end - b.begin;
    if (length_a != length_b) return length_a > length_b;
    if (a.kind != b.kind) return a.kind < b.kind;
    return a.begin < b.begin;
  });
  std::map<size_t, scan::Candidate> kept_by_begin;  // disjoint, so neighbours decide overlaps
  for (const auto& candidate : candidates) {
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

std::vector<PiiFinding> find_pii(std::string_view text) {
  FoldedText folded = fold_full_width(text);
  std::string_view view = folded.text;
  scan::Candidates candidates;
  using Scanner = void (*)(std::string_view, scan::Candidates&);
  constexpr Scanner kScanners[] = {scan::scan_cn_id_numbers, scan::scan_phones,    scan::scan_bank_cards,
                                   scan::scan_gps,           scan::scan_emails,    scan::scan_api_keys,
                                   scan::scan_passwords,     scan::scan_street_addresses};
  for (Scanner scanner : kScanners) scanner(view, candidates);

  std::vector<PiiFinding> findings;
  for (const auto& candidate : keep_best(std::move(candidates))) {
    findings.push_back({std::string(kKindNames[static_cast<size_t>(candidate.kind)]),
                        folded.source_begin[candidate.begin], folded.source_end[candidate.end - 1]});
  }
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
