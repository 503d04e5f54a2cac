// Table-driven cases for the privacy detector tests: one text, the one personal finding
// it must give (kind and exact original span), or none.
#pragma once
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "router/privacy.h"

namespace tandem::router {

struct Expected {
  const char* text;
  const char* kind;   // nullptr: nothing personal may be found
  const char* value;  // the exact span found, as written in `text`
};

inline void PrintTo(const Expected& expected, std::ostream* out) { *out << expected.text; }

inline std::string describe(const std::vector<PiiFinding>& findings, std::string_view text) {
  std::string out;
  for (const auto& finding : findings) {
    out += finding.kind + "[" + std::string(text.substr(finding.begin, finding.end - finding.begin)) + "]";
    if (!finding.personal) out += "(public:" + finding.public_form + ")";
    out += " ";
  }
  return out;
}

inline void expect_single_finding(const Expected& expected) {
  std::string_view text = expected.text;
  auto findings = find_pii(text);
  if (expected.kind == nullptr) {
    EXPECT_TRUE(findings.empty()) << text << " -> " << describe(scan_pii(text), text);
    return;
  }
  ASSERT_EQ(findings.size(), 1u) << text << " -> " << describe(scan_pii(text), text);
  EXPECT_EQ(findings[0].kind, expected.kind) << text;
  std::string_view value = expected.value;
  size_t begin = text.find(value);
  ASSERT_NE(begin, std::string_view::npos) << "test table error: " << value;
  EXPECT_EQ(text.substr(findings[0].begin, findings[0].end - findings[0].begin), value) << text;
  EXPECT_EQ(findings[0].begin, begin) << text << " -> " << describe(findings, text);
}

class PiiCases : public testing::TestWithParam<Expected> {};
TEST_P(PiiCases, FindsExactlyTheExpectedSpan) { expect_single_finding(GetParam()); }
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(PiiCases);  // redaction_test shares only the helpers

}  // namespace tandem::router
