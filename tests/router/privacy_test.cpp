#include "router/privacy.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "router/privacy_cases.h"

namespace tandem::router {
namespace {

// 110105199003071239 and 11010519491231002X have correct MOD 11-2 check characters;
// 110105199013321238 has a correct one but no 13th month.
const Expected kIdCases[] = {
    {"我的身份证号是110105199003071239，请帮我填表", "cn_id_number", "110105199003071239"},
    {"ID: 11010519491231002X.", "cn_id_number", "11010519491231002X"},
    {"lower-case x works too: 11010519491231002x", "cn_id_number", "11010519491231002x"},
    {"grouped 110105 19900307 1239 ok", "cn_id_number", "110105 19900307 1239"},
    {"身份证号码：１１０１０５１９９００３０７１２３９", "cn_id_number", "１１０１０５１９９００３０７１２３９"},
    {"wrong check digit 110105199003071234", nullptr, nullptr},
    {"身份证110105199003071235不对", nullptr, nullptr},
    {"impossible date 110105199013321238", nullptr, nullptr},
    {"too long 1101051990030712390", nullptr, nullptr},
};

const Expected kPhoneCases[] = {
    {"给妈妈打电话13912345678", "phone", "13912345678"},
    {"call 138 1234 5678 now", "phone", "138 1234 5678"},
    {"号码138-0013-8000", "phone", "138-0013-8000"},
    {"intl +86 139 1234 5678.", "phone", "+86 139 1234 5678"},
    {"full width １５８１２３４５６７８，", "phone", "１５８１２３４５６７８"},
    {"座机010-62345678", "phone", "010-62345678"},
    {"深圳0755-2345678吗", "phone", "0755-2345678"},
    {"(021)64381234打来的", "phone", "(021)64381234"},
    {"London +44 20 7946 0958.", "phone", "+44 20 7946 0958"},
    {"NY +1 (212) 734-0187 ok", "phone", "+1 (212) 734-0187"},
    {"text (415) 738-0132 later", "phone", "(415) 738-0132"},
    {"or 555-867-5309.", "phone", "555-867-5309"},
    {"12345678901 is not a mobile", nullptr, nullptr},
    {"order 1381234567 is ten digits", nullptr, nullptr},
    {"2+2=4 and 3+5", nullptr, nullptr},
    {"dated 2024-05-18", nullptr, nullptr},
    {"航班MU5101今天", nullptr, nullptr},
};

// 4539 1488 0343 6467 and 6222021234567890128 pass Luhn; the "…8"/"…9" variants do not.
const Expected kCardCases[] = {
    {"card 4539 1488 0343 6467 please", "bank_card", "4539 1488 0343 6467"},
    {"卡号6222021234567890128交房租", "bank_card", "6222021234567890128"},
    {"dashes 4539-1488-0343-6467.", "bank_card", "4539-1488-0343-6467"},
    {"amex 3412 876543 21091", "bank_card", "3412 876543 21091"},
    {"bad 4539 1488 0343 6468", nullptr, nullptr},
    {"订单号6222021234567890129的快递", nullptr, nullptr},
    {"pi 3.1415926535897932384", nullptr, nullptr},
};

const Expected kEmailCases[] = {
    {"mail maria.lopez@contoso.com.", "email", "maria.lopez@contoso.com"},
    {"发到wang.lei@huawei-test.com，谢谢", "email", "wang.lei@huawei-test.com"},
    {"plus anna_k+news@outlook.com", "email", "anna_k+news@outlook.com"},
    {"mention @alice in the chat", nullptr, nullptr},
    {"not an address: user@localhost", nullptr, nullptr},
};

const Expected kAddressCases[] = {
    {"ship to 742 Evergreen Terrace today", "street_address", "742 Evergreen Terrace"},
    {"at 350 5th Avenue, Apt 12B.", "street_address", "350 5th Avenue, Apt 12B"},
    {"12B Harbour Road, Leeds", "street_address", "12B Harbour Road"},
    {"寄到北京市朝阳区建国路88号", "street_address", "北京市朝阳区建国路88号"},
    {"地址是上海市浦东新区世纪大道100号3栋502室，谢谢", "street_address", "上海市浦东新区世纪大道100号3栋502室"},
    {"我住在阳光小区5栋2单元301室", "street_address", "阳光小区5栋2单元301室"},
    {"I walked 5 miles down the road", nullptr, nullptr},
    {"你知道3号线几点停运吗", nullptr, nullptr},
    {"5月3号去北京市", nullptr, nullptr},
};

const Expected kPasswordCases[] = {
    {"my wifi password is Sunflower#2024, thanks", "password", "Sunflower#2024"},
    {"locker PIN: 4821.", "password", "4821"},
    {"pwd=Qx7!mZ2p", "password", "Qx7!mZ2p"},
    {"the password for my bank account is Tr0ub4dor&3", "password", "Tr0ub4dor&3"},
    {"WiFi密码是abc12345，帮我分享", "password", "abc12345"},
    {"支付密码为 880217", "password", "880217"},
    {"保险箱密码：９７３１", "password", "９７３１"},
    {"门禁口令是 Open#Sesame9", "password", "Open#Sesame9"},
    {"How do I reset my password?", nullptr, nullptr},
    {"My password is too weak", nullptr, nullptr},
    {"密码是多少位比较安全？", nullptr, nullptr},
    {"Reset password: click here", nullptr, nullptr},
};

const Expected kApiKeyCases[] = {
    {"key sk-proj-4fJ9kL2mN8pQ1rS5tV7wX0yZ3aB6cD9e ok", "api_key", "sk-proj-4fJ9kL2mN8pQ1rS5tV7wX0yZ3aB6cD9e"},
    {"ghp_9aZ2bY4cX6dW8eV0fU1gT3hS5iR7jQ2kP4lO", "api_key", "ghp_9aZ2bY4cX6dW8eV0fU1gT3hS5iR7jQ2kP4lO"},
    {"aws AKIA2XQ7L4RTHVZ5NBKD,", "api_key", "AKIA2XQ7L4RTHVZ5NBKD"},
    {"xoxb-1234567890-AbCdEfGhIj", "api_key", "xoxb-1234567890-AbCdEfGhIj"},
    {"Authorization: Bearer abcd1234efgh5678ijkl", "api_key", "abcd1234efgh5678ijkl"},
    {"jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdEFGH1234", "api_key",
     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdEFGH1234"},
    {"API密钥是a1b2c3d4e5f6a7b8c9d0", "api_key", "a1b2c3d4e5f6a7b8c9d0"},
    {"token: 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "api_key", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"},
    {"use scikit sk-learn for this", nullptr, nullptr},
    {"explain what a bearer token is", nullptr, nullptr},
    {"the token limit is 4096", nullptr, nullptr},
};

const Expected kGpsCases[] = {
    {"我在39.9042, 116.4074附近", "gps", "39.9042, 116.4074"},
    {"at 39.9042°N 116.4074°E now", "gps", "39.9042°N 116.4074°E"},
    {"Sydney -33.8688, 151.2093", "gps", "-33.8688, 151.2093"},
    {"坐标22.5431，114.0579", "gps", "22.5431，114.0579"},
    {"out of range 95.1234, 116.4074", nullptr, nullptr},
    {"prices 12.99, 45.50", nullptr, nullptr},
    {"version 3.10.2 and 1.5", nullptr, nullptr},
};

const Expected kOrdinaryCases[] = {
    {"这件衣服¥1299，打八折是多少钱？", nullptr, nullptr},
    {"Is flight CA1234 on time? v2.3.1 released in 2024 at 12:30", nullptr, nullptr},
    {"25°C, 1,000,000 yen, 15% of 240, x² + 5x + 6 = 0", nullptr, nullptr},
    {"邮编100020，温度-3.5度，人口14.12亿", nullptr, nullptr},
};

INSTANTIATE_TEST_SUITE_P(CnId, PiiCases, testing::ValuesIn(kIdCases));
INSTANTIATE_TEST_SUITE_P(Phone, PiiCases, testing::ValuesIn(kPhoneCases));
INSTANTIATE_TEST_SUITE_P(BankCard, PiiCases, testing::ValuesIn(kCardCases));
INSTANTIATE_TEST_SUITE_P(Email, PiiCases, testing::ValuesIn(kEmailCases));
INSTANTIATE_TEST_SUITE_P(StreetAddress, PiiCases, testing::ValuesIn(kAddressCases));
INSTANTIATE_TEST_SUITE_P(Password, PiiCases, testing::ValuesIn(kPasswordCases));
INSTANTIATE_TEST_SUITE_P(ApiKey, PiiCases, testing::ValuesIn(kApiKeyCases));
INSTANTIATE_TEST_SUITE_P(Gps, PiiCases, testing::ValuesIn(kGpsCases));
INSTANTIATE_TEST_SUITE_P(Ordinary, PiiCases, testing::ValuesIn(kOrdinaryCases));

TEST(FindPii, SeveralFindingsAreSortedAndDisjoint) {
  std::string text = "Email a@b.co, call 13912345678, card 4539148803436467, 住址北京市朝阳区建国路88号";
  auto findings = find_pii(text);
  ASSERT_EQ(findings.size(), 4u) << describe(findings, text);
  const char* kinds[] = {"email", "phone", "bank_card", "street_address"};
  for (size_t i = 0; i < findings.size(); ++i) {
    EXPECT_EQ(findings[i].kind, kinds[i]);
    if (i > 0) {
      EXPECT_LE(findings[i - 1].end, findings[i].begin);
    }
  }
}

TEST(FindPii, LongestSpanWinsOverItsParts) {
  // The e-mail contains a valid mobile number; only the e-mail is reported.
  std::string text = "13912345678@163.com";
  auto findings = find_pii(text);
  ASSERT_EQ(findings.size(), 1u) << describe(findings, text);
  EXPECT_EQ(findings[0].kind, "email");
  EXPECT_EQ(findings[0].end, text.size());
}

TEST(FindPii, SurvivesMalformedUtf8) {
  std::string text = "\xE4\xB8 13912345678 \xFF\xC3";
  auto findings = find_pii(text);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(text.substr(findings[0].begin, findings[0].end - findings[0].begin), "13912345678");
}

// Random mixes of the characters the scanners care about: findings (public ones too) stay
// sorted, disjoint, inside the text and on character boundaries.
TEST(FindPii, InvariantsHoldOnRandomText) {
  const std::vector<std::string> pieces = {
      "1", "3", "8", "0", "9", "X", " ", "-", "+", ".", ",", "(", ")", "@", "a", "Z", "_", "sk-", "eyJ", "password is ",
      "Bearer ", "°N ", "°E", "１", "：", "，", "路", "号", "市", "区", "室", "密码是", " Street", "\xE4\xB8", "一", "三",
      "十", "万", "幺", "两", "零", "尾号", "验证码", "·", "京", "A", "E", "wxid_", "QQ", "'", "\"", "北纬", "东经", "栋",
      "单元", "my ", "/", ":", "*", "$", "k", "lat ", "SSN ", "passport ", "\xE2\x80\x8B", "我月薪", "account ",
      "GB", "DE", "\n", "Mom: ", "张伟 ", "ending in ", "card "};
  std::mt19937 random(1234);
  for (int round = 0; round < 5000; ++round) {
    std::string text;
    size_t length = random() % 60;
    for (size_t i = 0; i < length; ++i) text += pieces[random() % pieces.size()];
    auto findings = scan_pii(text);
    for (size_t i = 0; i < findings.size(); ++i) {
      ASSERT_LT(findings[i].begin, findings[i].end) << text;
      ASSERT_LE(findings[i].end, text.size()) << text;
      ASSERT_NE(static_cast<unsigned char>(text[findings[i].begin]) & 0xC0, 0x80) << text;
      if (findings[i].end < text.size()) {
        ASSERT_NE(static_cast<unsigned char>(text[findings[i].end]) & 0xC0, 0x80) << text;
      }
      if (i > 0) {
        ASSERT_LE(findings[i - 1].end, findings[i].begin) << text;
      }
    }
  }
}

TEST(PrivateTags, KnownTagsOnly) {
  for (const char* tag : {"messages", "photos", "contacts", "health", "location", "finance", "private", "Photos"})
    EXPECT_TRUE(is_private_tag(tag)) << tag;
  for (const char* tag : {"", "music", "photo", "weather", "privates"}) EXPECT_FALSE(is_private_tag(tag)) << tag;
}

// ---- the labelled request set

struct Request {
  std::string id, lang, text;
  bool is_private = false, needs_cloud = false;
  std::vector<std::string> kinds, secrets, tags;
};

std::vector<Request> load_requests() {
  std::string path = std::string(TANDEM_SOURCE_DIR) + "/tests/data/routing/requests.jsonl";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<Request> requests;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    SCOPED_TRACE("line " + std::to_string(number));
    nlohmann::json row;
    EXPECT_NO_THROW(row = nlohmann::json::parse(line));
    for (const char* field : {"id", "lang", "text", "private", "kinds", "secrets", "needs_cloud"})
      EXPECT_TRUE(row.contains(field)) << field;
    if (!row.is_object() || !row.contains("text")) continue;
    Request request;
    request.id = row.value("id", "");
    request.lang = row.value("lang", "");
    request.text = row.value("text", "");
    request.is_private = row.value("private", false);
    request.needs_cloud = row.value("needs_cloud", false);
    request.kinds = row.value("kinds", std::vector<std::string>{});
    request.secrets = row.value("secrets", std::vector<std::string>{});
    request.tags = row.value("tags", std::vector<std::string>{});
    EXPECT_TRUE(request.lang == "en" || request.lang == "zh") << request.id;
    requests.push_back(std::move(request));
  }
  return requests;
}

bool has_private_tag(const Request& request) {
  for (const auto& tag : request.tags)
    if (is_private_tag(tag)) return true;
  return false;
}

// Every byte of [begin, end) lies inside some finding.
bool is_covered(const std::vector<PiiFinding>& findings, size_t begin, size_t end) {
  for (size_t pos = begin; pos < end; ++pos) {
    bool inside = false;
    for (const auto& finding : findings) inside = inside || (finding.begin <= pos && pos < finding.end);
    if (!inside) return false;
  }
  return true;
}

TEST(RequestSet, IsLargeBalancedAndConsistent) {
  auto requests = load_requests();
  ASSERT_GE(requests.size(), 220u);
  size_t chinese = 0, private_count = 0;
  for (const auto& request : requests) {
    chinese += request.lang == "zh";
    private_count += request.is_private;
    EXPECT_EQ(request.is_private, !request.secrets.empty() || has_private_tag(request)) << request.id;
    EXPECT_EQ(request.kinds.empty(), request.secrets.empty()) << request.id;
    for (const auto& secret : request.secrets)
      EXPECT_NE(request.text.find(secret), std::string::npos) << request.id << ": " << secret;
  }
  EXPECT_NEAR(double(chinese) / requests.size(), 0.5, 0.1);
  EXPECT_NEAR(double(private_count) / requests.size(), 0.45, 0.08);
}

TEST(RequestSet, DetectorFindsEveryPrivateRequestAndNoOther) {
  auto requests = load_requests();
  size_t private_total = 0, private_found = 0, public_total = 0, public_flagged = 0;
  for (const auto& request : requests) {
    auto findings = find_pii(request.text);
    bool flagged = !findings.empty() || has_private_tag(request);
    if (request.is_private) {
      ++private_total;
      private_found += flagged;
      EXPECT_TRUE(flagged) << request.id << ": " << request.text;
    } else {
      ++public_total;
      public_flagged += flagged;
      EXPECT_FALSE(flagged) << request.id << ": " << request.text << " -> " << describe(findings, request.text);
    }
    for (const auto& secret : request.secrets) {
      size_t begin = request.text.find(secret);
      EXPECT_TRUE(is_covered(findings, begin, begin + secret.size()))
          << request.id << ": secret '" << secret << "' not covered; found " << describe(findings, request.text);
    }
    for (const auto& kind : request.kinds) {
      // A password given with its login is reported as the pair, a phone number with its
      // owner's name as the contact line.
      const auto covers = [&](const std::string& found) {
        return found == kind || (kind == "password" && found == "credentials") || (kind == "phone" && found == "contact");
      };
      bool reported = false;
      for (const auto& finding : findings) reported = reported || covers(finding.kind);
      EXPECT_TRUE(reported) << request.id << ": kind " << kind << " not reported; found "
                            << describe(findings, request.text);
    }
  }
  double recall = private_total ? double(private_found) / private_total : 0;
  double false_positive_rate = public_total ? double(public_flagged) / public_total : 0;
  std::printf("privacy detector on %zu requests: recall %.3f (%zu/%zu), false-positive rate %.3f (%zu/%zu)\n",
              requests.size(), recall, private_found, private_total, false_positive_rate, public_flagged,
              public_total);
  EXPECT_EQ(private_found, private_total);
  EXPECT_EQ(public_flagged, 0u);
}

}  // namespace
}  // namespace tandem::router
