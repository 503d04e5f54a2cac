#include "router/redaction.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "router/privacy_cases.h"
#include <string>
#include <vector>

namespace tandem::router {
namespace {

const std::vector<std::string> kSecrets = {
    "maria.lopez@contoso.com", "13912345678", "4539 1488 0343 6467", "09/27", "cvv 481", "110105199003071239",
    "北京市朝阳区建国路88号",  "Tr0ub4dor&3", "sk-proj-4fJ9kL2mN8pQ1rS5tV7wX0yZ3aB6cD9e", "39.9042, 116.4074",
    "张伟", "13812345678", "anna.kowal", "Sunflower88!"};

const std::string kText =
    "Hi, I'm at 39.9042, 116.4074. Mail maria.lopez@contoso.com or call 13912345678; "
    "card 4539 1488 0343 6467 exp 09/27 cvv 481, 身份证110105199003071239，地址北京市朝阳区建国路88号。"
    "The password is Tr0ub4dor&3 and the key sk-proj-4fJ9kL2mN8pQ1rS5tV7wX0yZ3aB6cD9e. "
    "通讯录：张伟 13812345678。Login anna.kowal / Sunflower88! "
    "Again: maria.lopez@contoso.com! Test card 4111 1111 1111 1111 is public.";

TEST(Redactor, RemovesEverySecretAndRestoresTheOriginal) {
  Redactor redactor;
  std::string redacted = redactor.redact(kText);
  for (const auto& secret : kSecrets) EXPECT_EQ(redacted.find(secret), std::string::npos) << secret << " in " << redacted;
  EXPECT_NE(redacted.find("[EMAIL_1]"), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("[CN_ID_NUMBER_1]"), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("[STREET_ADDRESS_1]"), std::string::npos) << redacted;
  // What belongs with a value goes with it: the card's expiry and CVV, the contact's
  // name, the login's password.
  EXPECT_NE(redacted.find("card [BANK_CARD_1], "), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("通讯录：[CONTACT_1]。"), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("Login [CREDENTIALS_1] "), std::string::npos) << redacted;
  // A public test card is not personal: it stays.
  EXPECT_NE(redacted.find("4111 1111 1111 1111"), std::string::npos) << redacted;
  EXPECT_EQ(redactor.size(), 10u);  // the repeated e-mail counts once
  EXPECT_EQ(redactor.restore(redacted), kText);
}

TEST(Redactor, TextWithoutSecretsIsUnchanged) {
  Redactor redactor;
  std::string text = "What's 2+2? Flight CA1234 costs ¥1299 [NOTE_1].";
  EXPECT_EQ(redactor.redact(text), text);
  EXPECT_EQ(redactor.size(), 0u);
  EXPECT_EQ(redactor.restore(text), text);
}

TEST(Redactor, SameValueSamePlaceholderAcrossTexts) {
  Redactor redactor;
  std::string first = redactor.redact("Write to a@example.com and b@example.com");
  std::string second = redactor.redact("Did b@example.com answer? Call 13912345678");
  EXPECT_EQ(first, "Write to [EMAIL_1] and [EMAIL_2]");
  EXPECT_EQ(second, "Did [EMAIL_2] answer? Call [PHONE_1]");
  ASSERT_EQ(redactor.mapping().size(), 3u);
  EXPECT_EQ(redactor.mapping()[0], (std::pair<std::string, std::string>{"[EMAIL_1]", "a@example.com"}));
  EXPECT_EQ(redactor.mapping()[2], (std::pair<std::string, std::string>{"[PHONE_1]", "13912345678"}));
}

TEST(Redactor, RestoreLeavesUnknownPlaceholdersAlone) {
  Redactor redactor;
  redactor.redact("mail a@example.com");
  EXPECT_EQ(redactor.restore("[EMAIL_1], [EMAIL_2], [EMAIL_1 and [x]"), "a@example.com, [EMAIL_2], [EMAIL_1 and [x]");
}

// Spans from a semantic classifier become category placeholders next to the detector's.
TEST(Redactor, ExtraSpansBecomeCategoryPlaceholders) {
  std::string text = "我最近二甲双胍每天吃两次，血糖8.9，电话13912345678";
  size_t drug = text.find("二甲双胍每天吃两次"), sugar = text.find("血糖8.9");
  std::vector<PiiFinding> spans = {{"medication", drug, drug + std::string("二甲双胍每天吃两次").size()},
                                   {"health", sugar, sugar + std::string("血糖8.9").size()}};
  Redactor redactor;
  std::string redacted = redactor.redact(text, spans);
  EXPECT_EQ(redacted, "我最近[MEDICATION_1]，[HEALTH_1]，电话[PHONE_1]");
  EXPECT_EQ(redactor.restore(redacted), text);
  // The same phrase in a later message gets the same placeholder.
  std::string again = "二甲双胍每天吃两次";
  EXPECT_EQ(redactor.redact(again, {{"medication", 0, again.size()}}), "[MEDICATION_1]");
}

TEST(Redactor, OverlappingSpansMergeUnderTheLongest) {
  std::string text = "Dr. Li said my diabetes needs insulin, call 13912345678 soon";
  size_t diagnosis = text.find("my diabetes needs insulin");
  size_t phone = text.find("13912345678");
  std::vector<PiiFinding> spans = {
      {"health", diagnosis, diagnosis + std::string("my diabetes needs insulin").size()},
      {"medication", text.find("insulin"), text.find("insulin") + 7},  // inside the health span
      {"contact", phone - 5, phone + 11},                                // overlaps the detected phone
  };
  Redactor redactor;
  std::string redacted = redactor.redact(text, spans);
  EXPECT_EQ(redacted, "Dr. Li said [HEALTH_1], [CONTACT_1] soon");
  EXPECT_EQ(redactor.restore(redacted), text);
}

TEST(Redactor, BadExtraSpansAreClearErrors) {
  std::string text = "血糖8.9";
  Redactor redactor;
  EXPECT_THROW(redactor.redact(text, {{"health", 0, text.size() + 1}}), tandem::Error);
  EXPECT_THROW(redactor.redact(text, {{"health", 3, 3}}), tandem::Error);
  EXPECT_THROW(redactor.redact(text, {{"health", 1, 6}}), tandem::Error);  // inside 血
  EXPECT_THROW(redactor.redact(text, {{"Health!", 0, 3}}), tandem::Error);
  EXPECT_THROW(redactor.redact(text, {{"", 0, 3}}), tandem::Error);
  try {
    redactor.redact(text, {{"health", 1, 6}});
  } catch (const tandem::Error& error) {
    EXPECT_NE(std::string(error.what()).find("UTF-8"), std::string::npos) << error.what();
  }
  EXPECT_EQ(redactor.size(), 0u);
}

std::string stream(const Redactor& redactor, const std::vector<std::string_view>& chunks) {
  StreamRestorer restorer(redactor);
  std::string out;
  for (auto chunk : chunks) out += restorer.feed(chunk);
  return out + restorer.flush();
}

TEST(StreamRestorer, EverySplitPointGivesTheOriginal) {
  Redactor redactor;
  std::string redacted = redactor.redact(kText);
  for (size_t split = 0; split <= redacted.size(); ++split) {
    std::string_view view = redacted;
    EXPECT_EQ(stream(redactor, {view.substr(0, split), view.substr(split)}), kText) << "split at " << split;
  }
}

TEST(StreamRestorer, ByteByByteAndHeldBackPrefix) {
  Redactor redactor;
  std::string redacted = redactor.redact(kText);
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < redacted.size(); ++i) bytes.push_back(std::string_view(redacted).substr(i, 1));
  EXPECT_EQ(stream(redactor, bytes), kText);

  StreamRestorer restorer(redactor);
  EXPECT_EQ(restorer.feed("mail [EMA"), "mail ");
  EXPECT_EQ(restorer.feed("IL_1] now [PH"), "maria.lopez@contoso.com now ");
  EXPECT_EQ(restorer.flush(), "[PH");  // never completed: passed through as written
  EXPECT_EQ(restorer.feed("[NOT"), "[NOT");  // cannot become a known placeholder
}

// Every private request of the labelled set: no secret survives redaction, and
// restoring (at once or streamed in two halves) gives the request back.
TEST(Redactor, LabelledRequestsRoundTrip) {
  std::ifstream in(std::string(TANDEM_SOURCE_DIR) + "/tests/data/routing/requests.jsonl");
  ASSERT_TRUE(in.good());
  std::string line;
  size_t redacted_requests = 0;
  while (std::getline(in, line)) {
    auto row = nlohmann::json::parse(line);
    std::string text = row.at("text");
    auto secrets = row.at("secrets").get<std::vector<std::string>>();
    Redactor redactor;
    std::string redacted = redactor.redact(text);
    for (const auto& secret : secrets) {
      EXPECT_EQ(redacted.find(secret), std::string::npos) << row.at("id") << ": " << redacted;
    }
    EXPECT_EQ(redactor.restore(redacted), text) << row.at("id");
    std::string_view view = redacted;
    EXPECT_EQ(stream(redactor, {view.substr(0, view.size() / 2), view.substr(view.size() / 2)}), text) << row.at("id");
    redacted_requests += !secrets.empty();
  }
  EXPECT_GT(redacted_requests, 90u);
}

}  // namespace
}  // namespace tandem::router
