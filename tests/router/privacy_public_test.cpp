// Public is not personal: well-known public values are found but marked personal == false
// (scan_pii) and left out of find_pii, unless the words around them make them someone's.
#include <gtest/gtest.h>

#include <string>

#include "router/privacy_cases.h"

namespace tandem::router {
namespace {

struct PublicCase {
  const char* text;
  const char* kind;
  const char* public_form;
};

void PrintTo(const PublicCase& c, std::ostream* out) { *out << c.text; }

const PublicCase kPublic[] = {
    {"Tell me about 221B Baker Street", "street_address", "famous_address"},
    {"Who lives at 10 Downing Street?", "street_address", "famous_address"},
    {"history of 1600 Pennsylvania Avenue", "street_address", "famous_address"},
    {"北京市东城区景山前街4号是什么地方", "street_address", "famous_address"},
    {"What is at 48.8584, 2.2945?", "gps", "landmark"},
    {"48°51′29.6″N 2°17′40.2″E is a famous spot", "gps", "landmark"},
    {"北纬39.9163 东经116.3972是哪里", "gps", "landmark"},
    {"Badaling is at 40.3542, 116.0066", "gps", "landmark"},
    {"Statue of Liberty 40.6892° N, 74.0445° W", "gps", "landmark"},
    {"Is AKIAIOSFODNN7EXAMPLE a real key?", "api_key", "documentation_key"},
    {"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "api_key", "documentation_key"},
    {"set OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "api_key", "placeholder_key"},
    {"export KEY=sk-your-api-key-goes-here-1234567890", "api_key", "placeholder_key"},
    {"Why does 4111 1111 1111 1111 pass Luhn?", "bank_card", "test_card"},
    {"Stripe test card 4242 4242 4242 4242 declined", "bank_card", "test_card"},
    {"test with 5555 5555 5555 4444", "bank_card", "test_card"},
    {"amex test 378282246310005", "bank_card", "test_card"},
    {"客服电话400-820-8820", "phone", "service_number"},
    {"call 1-800-275-2273 for support", "phone", "toll_free"},
    {"toll free 888-555-1212", "phone", "toll_free"},
    {"Freephone 0800 123 4567", "phone", "toll_free"},
    {"+44 800 123 4567 is free", "phone", "toll_free"},
    {"why do films use the number 555-0199?", "phone", "fiction_number"},
    {"the SSN 078-05-1120 was printed on wallets", "us_ssn", "example_ssn"},
    {"the example A123456789 shows the format", "tw_id", "example_id"},
    {"follow @NASA on X for launches", "social_handle", "public_account"},
};

class PublicValues : public testing::TestWithParam<PublicCase> {};

TEST_P(PublicValues, AreFoundButNotPersonal) {
  std::string_view text = GetParam().text;
  auto all = scan_pii(text);
  ASSERT_EQ(all.size(), 1u) << text << " -> " << describe(all, text);
  EXPECT_EQ(all[0].kind, GetParam().kind);
  EXPECT_FALSE(all[0].personal) << text;
  EXPECT_EQ(all[0].public_form, GetParam().public_form);
  EXPECT_TRUE(find_pii(text).empty()) << text;
}

INSTANTIATE_TEST_SUITE_P(Forms, PublicValues, testing::ValuesIn(kPublic));

// The same public forms in a personal context stay private.
const Expected kPersonal[] = {
    {"my home is 221B Baker Street", "street_address", "221B Baker Street"},
    {"please ship the parcel to 10 Downing Street", "street_address", "10 Downing Street"},
    {"我家就在北京市东城区景山前街4号", "street_address", "北京市东城区景山前街4号"},
    {"I'm at 48.8584, 2.2945 right now", "gps", "48.8584, 2.2945"},
    {"我在北纬39.9163 东经116.3972", "gps", "北纬39.9163 东经116.3972"},
    {"my card is 4111 1111 1111 1111", "bank_card", "4111 1111 1111 1111"},
    {"4242 4242 4242 4242 is my card", "bank_card", "4242 4242 4242 4242"},
    {"我妈的电话400-820-8820", "phone", "400-820-8820"},
    {"Text Sarah at (415) 555-0132 tonight", "phone", "(415) 555-0132"},
    {"missed call from 555-0147", "phone", "555-0147"},
    {"my key AKIAIOSFODNN7EXAMPLE", "api_key", "AKIAIOSFODNN7EXAMPLE"},
    {"my old SSN was 078-05-1120", "us_ssn", "078-05-1120"},
    {"follow me @anna_k88 on Instagram", "social_handle", "@anna_k88"},
    // Near a landmark is not at it: 2 km from the Eiffel Tower is someone's place.
    {"meet at 48.8700, 2.3100", "gps", "48.8700, 2.3100"},
    // A famous street with a flat in it is a home.
    {"10 Downing Street, Flat 2", "street_address", "10 Downing Street, Flat 2"},
};

INSTANTIATE_TEST_SUITE_P(PersonalContext, PiiCases, testing::ValuesIn(kPersonal));

}  // namespace
}  // namespace tandem::router
