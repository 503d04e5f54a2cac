// The scanners of issue 17, each on valid, invalid-checksum, obfuscated and near-miss
// forms. Check digits were computed independently of the code under test (by hand with
// the published algorithms), so a wrong implementation cannot agree with its own tests.
#include <gtest/gtest.h>

#include <string>

#include "router/privacy_cases.h"

namespace tandem::router {
namespace {

// Area 001-899 except 666, group 01-99, serial 0001-9999.
const Expected kSsnCases[] = {
    {"my SSN is 536-22-8147, thanks", "us_ssn", "536-22-8147"},
    {"file 536-22-8147 with the form", "us_ssn", "536-22-8147"},
    {"SSN 536 22 8147", "us_ssn", "536 22 8147"},
    {"social security number 536228147", "us_ssn", "536228147"},
    {"SSN 五三六-二二-八一四七", "us_ssn", "五三六-二二-八一四七"},
    {"order 536228147 shipped", nullptr, nullptr},
    {"SSN 666-12-3456", nullptr, nullptr},
    {"SSN 912-34-5678", nullptr, nullptr},
    {"SSN 000-12-3456", nullptr, nullptr},
    {"SSN 536-00-8147", nullptr, nullptr},
    {"SSN 536-22-0000", nullptr, nullptr},
};

// ISO 13616: country length and mod 97 == 1.
const Expected kIbanCases[] = {
    {"IBAN DE89 3704 0044 0532 0130 00 please", "iban", "DE89 3704 0044 0532 0130 00"},
    {"pay GB29NWBK60161331926819.", "iban", "GB29NWBK60161331926819"},
    {"iban fr14-2004-1010-0505-0001-3m02-606", "iban", "fr14-2004-1010-0505-0001-3m02-606"},
    {"NL91 ABNA 0417 1643 00", "iban", "NL91 ABNA 0417 1643 00"},
    {"IBAN ES91 2100 0418 4502 0005 1332", "iban", "ES91 2100 0418 4502 0005 1332"},
    {"IBAN DE88 3704 0044 0532 0130 00", nullptr, nullptr},
    {"IBAN DE89 3704 0044 0532 0130 0", nullptr, nullptr},
    {"IBAN GB29NWBK60161331926818", nullptr, nullptr},
    {"IBAN ZZ89 3704 0044 0532 0130 00", nullptr, nullptr},
};

// Hong Kong (weights 9..2 with a space as 36, check 0-9/A), Taiwan (letter as two digits,
// weights 1,9,8..1), Macau (a Macau word must be near).
const Expected kRegionalIdCases[] = {
    {"HKID A123456(3)", "hk_id", "A123456(3)"},
    {"香港身份证号码 XA472391(8)", "hk_id", "XA472391(8)"},
    {"copy Y512377(A) please", "hk_id", "Y512377(A)"},
    {"HKID K6543219", "hk_id", "K6543219"},
    {"HKID A123456(4)", nullptr, nullptr},
    {"code K6543219 again", nullptr, nullptr},
    {"身分證字號 F228714569", "tw_id", "F228714569"},
    {"ref B188305277 ok", "tw_id", "B188305277"},
    {"居留證 M801234569", "tw_id", "M801234569"},
    {"身分證字號 F228714568", nullptr, nullptr},
    {"澳门身份证 1234567(8)", "mo_id", "1234567(8)"},
    {"BIR 5123456(1)", "mo_id", "5123456(1)"},
    {"ref 1234567(8)", nullptr, nullptr},
};

const Expected kPassportCases[] = {
    {"护照号码 E12345678", "passport", "E12345678"},
    {"订机票用EA1234567", "passport", "EA1234567"},
    {"passport no. 534829176, expires 2030", "passport", "534829176"},
    {"my passport number is YA1234567", "passport", "YA1234567"},
    {"passeport 09AB12345", "passport", "09AB12345"},
    {"港澳通行证 C12345678", "passport", "C12345678"},
    {"P<CHNZHANG<<WEI<<<<<<<<<<<<<<<<<<<<<<<<<<<<", "passport", "P<CHNZHANG<<WEI<<<<<<<<<<<<<<<<<<<<<<<<<<<<"},
    {"passport photo size 35x45", nullptr, nullptr},
    {"a passport costs 130 dollars", nullptr, nullptr},
    {"flight E12345 boards at 9", nullptr, nullptr},
};

const Expected kPlateCases[] = {
    {"我的车牌是京A·12345", "license_plate", "京A·12345"},
    {"粤B D12345 new energy", "license_plate", "粤B D12345"},
    {"沪AD12345停在楼下", "license_plate", "沪AD12345"},
    {"苏E1234挂 is the trailer", "license_plate", "苏E1234挂"},
    {"车停在浙A 12345旁边", "license_plate", "浙A 12345"},
    {"京A\xE2\x80\xA2" "12345", "license_plate", "京A\xE2\x80\xA2" "12345"},
    {"licence plate AB12 CDE", "license_plate", "AB12 CDE"},
    {"Kennzeichen M-AB 1234", "license_plate", "M-AB 1234"},
    {"my plate is 7ABC123", "license_plate", "7ABC123"},
    {"plaque AB-123-CD", "license_plate", "AB-123-CD"},
    {"京A1234 is short", nullptr, nullptr},
    {"京AB1234567", nullptr, nullptr},
    {"license plate format in California", nullptr, nullptr},
    {"明天尾号3和8限行", nullptr, nullptr},
};

const Expected kHandleCases[] = {
    {"加我微信 wxid_a1b2c3d4e5", "social_handle", "wxid_a1b2c3d4e5"},
    {"wxid_8k2m4n6p", "social_handle", "wxid_8k2m4n6p"},
    {"我的微信号是 anna_kowal88", "social_handle", "anna_kowal88"},
    {"微信号：annakowal", "social_handle", "annakowal"},
    {"WeChat: zhang-wei1990", "social_handle", "zhang-wei1990"},
    {"QQ 2876543210", "social_handle", "2876543210"},
    {"扣扣号 38475612", "social_handle", "38475612"},
    {"企鹅号：10293847", "social_handle", "10293847"},
    {"Telegram @anna_k88", "social_handle", "@anna_k88"},
    {"find me on Instagram: @anna.kowal", "social_handle", "@anna.kowal"},
    {"DM me @anna_k88 tonight", "social_handle", "@anna_k88"},
    {"mention @alice in the chat", nullptr, nullptr},
    {"WeChat is popular in China", nullptr, nullptr},
    {"QQ音乐好用吗", nullptr, nullptr},
};

const Expected kCodeCases[] = {
    {"【招商银行】验证码：482913，5分钟内有效", "otp_code", "482913"},
    {"Your OTP is 739201.", "otp_code", "739201"},
    {"482913 is your Google verification code", "otp_code", "482913"},
    {"G-482913 is your Google verification code", "otp_code", "G-482913"},
    {"验证码 四八二九一三", "otp_code", "四八二九一三"},
    {"your code is 553301", "otp_code", "553301"},
    {"取件码 6218 到驿站", "otp_code", "6218"},
    {"取件码是 3-2-1-8", "otp_code", "3-2-1-8"},
    {"error code 404", nullptr, nullptr},
    {"zip code 10001", nullptr, nullptr},
    {"HTTP status code: 500", nullptr, nullptr},
    {"验证码多久过期？", nullptr, nullptr},
    {"the code 1234 in this snippet", nullptr, nullptr},
};

const Expected kPartialCardCases[] = {
    {"my card ending in 4821 was declined", "partial_card", "4821"},
    {"Visa **** **** **** 4821", "partial_card", "**** **** **** 4821"},
    {"卡号6222 **** **** 1234", "partial_card", "6222 **** **** 1234"},
    {"卡号末四位是6621，是招商银行的", "partial_card", "6621"},
    {"last four digits of my card: 4821", "partial_card", "4821"},
    {"xxxx-xxxx-xxxx-4821 was charged", "partial_card", "xxxx-xxxx-xxxx-4821"},
    {"Your card ending 4821 was charged $12.99", "partial_card", "4821"},
    {"明天尾号3和8限行", nullptr, nullptr},
    {"车牌尾号1234今天限行，违章罚款200元", nullptr, nullptr},
    {"the bus route ending in 4821", nullptr, nullptr},
};

const Expected kAmountCases[] = {
    {"我月薪2万3，够买房吗", "amount", "2万3"},
    {"我月薪两万三", "amount", "两万三"},
    {"my salary is $8,400 a month", "amount", "$8,400"},
    {"I make 95k a year", "amount", "95k"},
    {"您的账户余额为12,345.67元", "amount", "12,345.67元"},
    {"my mortgage is 3,200 dollars", "amount", "3,200 dollars"},
    {"我老公年薪三十万", "amount", "三十万"},
    {"深圳平均月薪是多少", nullptr, nullptr},
    {"the average salary in Shenzhen is 12,000", nullptr, nullptr},
    {"my company's average salary is $5,000", nullptr, nullptr},
    {"我们公司的平均工资是8000元", nullptr, nullptr},
    {"最低工资标准2360元", nullptr, nullptr},
    {"我工资涨了5%", nullptr, nullptr},
};

const Expected kCredentialCases[] = {
    {"账号：zhangsan01，密码：abc12345", "credentials", "zhangsan01，密码：abc12345"},
    {"log in as anna.kowal / Sunflower88! please", "credentials", "anna.kowal / Sunflower88!"},
    {"wl1990:Qq123456! for the router", "credentials", "wl1990:Qq123456!"},
    {"db at https://admin:S3cret!pw@db.internal", "credentials", "admin:S3cret!pw"},
    {"username anna.k password Sunflower88!", "credentials", "anna.k password Sunflower88!"},
    {"wifi密码abc12345", "password", "abc12345"},
    {"门禁密码 4821", "password", "4821"},
    {"and/or, TCP/IP, input/output, km/h", nullptr, nullptr},
    {"see docs.python.org/Abc-123x", nullptr, nullptr},
    {"Note: Something1! matters", nullptr, nullptr},
    {"meet at 10:30 today", nullptr, nullptr},
};

const Expected kCoordinateCases[] = {
    {"我在北纬22.5431 东经114.0579附近", "gps", "北纬22.5431 东经114.0579"},
    {"at 22°32'35.2\"N 114°03'28.4\"E now", "gps", "22°32'35.2\"N 114°03'28.4\"E"},
    {"at 22°32′35″N, 114°3′28″E", "gps", "22°32′35″N, 114°3′28″E"},
    {"坐标22度32分35秒，114度3分28秒", "gps", "22度32分35秒，114度3分28秒"},
    {"N 22.5431, E 114.0579", "gps", "N 22.5431, E 114.0579"},
    {"lat 22.5431 lon 114.0579", "gps", "lat 22.5431 lon 114.0579"},
    {"latitude: 22.5431, longitude: 114.0579", "gps", "latitude: 22.5431, longitude: 114.0579"},
    {"纬度22.5431，经度114.0579", "gps", "纬度22.5431，经度114.0579"},
    {"经度114.0579 纬度22.5431", "gps", "经度114.0579 纬度22.5431"},
    {"22.5431°N, 114.0579°E", "gps", "22.5431°N, 114.0579°E"},
    {"坐标２２.５４３１，１１４.０５７９", "gps", "２２.５４３１，１１４.０５７９"},
    {"北纬95.1 东经114.0", nullptr, nullptr},
    {"lat 22.5 lat 23.5", nullptr, nullptr},
    {"25°C and 30°C", nullptr, nullptr},
};

const Expected kEuropeanPhoneCases[] = {
    {"call 07911 123456", "phone", "07911 123456"},
    {"ring +44 7911 123456", "phone", "+44 7911 123456"},
    {"dial 0044 7911 123456", "phone", "0044 7911 123456"},
    {"Paris +33 6 12 34 56 78", "phone", "+33 6 12 34 56 78"},
    {"portable 06 12 34 56 78", "phone", "06 12 34 56 78"},
    {"Handy +49 151 23456789", "phone", "+49 151 23456789"},
    {"Handy 0151 23456789", "phone", "0151 23456789"},
    {"cell +39 312 345 6789", "phone", "+39 312 345 6789"},
    {"móvil +34 612 34 56 78", "phone", "+34 612 34 56 78"},
    {"mobiel +31 6 12345678", "phone", "+31 6 12345678"},
    {"07911123456789 is too long", nullptr, nullptr},
};

const Expected kContactCases[] = {
    {"张伟 13812345678", "contact", "张伟 13812345678"},
    {"王老师 139 1234 5678", "contact", "王老师 139 1234 5678"},
    {"小李：13812345678", "contact", "小李：13812345678"},
    {"我妈 13812345678", "contact", "我妈 13812345678"},
    {"Mom: 07911 123456", "contact", "Mom: 07911 123456"},
    {"Anna Kowal: +44 7911 123456", "contact", "Anna Kowal: +44 7911 123456"},
    {"call my wife 07911 123456", "contact", "my wife 07911 123456"},
    {"手机13812345678", "phone", "13812345678"},
    {"London +44 20 7946 0958", "phone", "+44 20 7946 0958"},
};

// Issuer prefix and length decide before Luhn does; an order word makes a number a reference.
const Expected kCardIssuerCases[] = {
    {"卡号 6228 4803 1127 6556 314", "bank_card", "6228 4803 1127 6556 314"},
    {"visa 4916 2038 7451 2234", "bank_card", "4916 2038 7451 2234"},
    {"number 202405181234567890", nullptr, nullptr},  // passes Luhn; 2-series cards have 16 digits
    {"订单号 6228480311276556314 什么时候发货", nullptr, nullptr},
    {"tracking 4539148803436467 stuck", nullptr, nullptr},
};

// A home in prose: building, entrance and room after an estate name, no road word needed;
// numbers in Chinese too.
const Expected kHomeCases[] = {
    {"我住在至善苑7栋2单元1302", "street_address", "至善苑7栋2单元1302"},
    {"送到阳光花园三栋二单元五零一室", "street_address", "阳光花园三栋二单元五零一室"},
    {"杭州市西湖区翠苑一区12幢3单元501", "street_address", "杭州市西湖区翠苑一区12幢3单元501"},
    {"第3单元的练习题", nullptr, nullptr},
    {"我在3楼等你", nullptr, nullptr},
};

const Expected kCardExtraCases[] = {
    {"card 4539 1488 0343 6467 exp 09/27 cvv 123", "bank_card", "4539 1488 0343 6467 exp 09/27 cvv 123"},
    {"卡号6222021234567890128，有效期09/27，安全码123", "bank_card", "6222021234567890128，有效期09/27，安全码123"},
    {"4539148803436467 12/29 321 is mine", "bank_card", "4539148803436467 12/29 321"},
    {"card 4539148803436467 CVC: 4821", "bank_card", "4539148803436467 CVC: 4821"},
    {"card 4539148803436467 for 3 nights", "bank_card", "4539148803436467"},
};

INSTANTIATE_TEST_SUITE_P(Ssn, PiiCases, testing::ValuesIn(kSsnCases));
INSTANTIATE_TEST_SUITE_P(Iban, PiiCases, testing::ValuesIn(kIbanCases));
INSTANTIATE_TEST_SUITE_P(RegionalId, PiiCases, testing::ValuesIn(kRegionalIdCases));
INSTANTIATE_TEST_SUITE_P(Passport, PiiCases, testing::ValuesIn(kPassportCases));
INSTANTIATE_TEST_SUITE_P(LicensePlate, PiiCases, testing::ValuesIn(kPlateCases));
INSTANTIATE_TEST_SUITE_P(SocialHandle, PiiCases, testing::ValuesIn(kHandleCases));
INSTANTIATE_TEST_SUITE_P(OneTimeCode, PiiCases, testing::ValuesIn(kCodeCases));
INSTANTIATE_TEST_SUITE_P(PartialCard, PiiCases, testing::ValuesIn(kPartialCardCases));
INSTANTIATE_TEST_SUITE_P(Amount, PiiCases, testing::ValuesIn(kAmountCases));
INSTANTIATE_TEST_SUITE_P(Credentials, PiiCases, testing::ValuesIn(kCredentialCases));
INSTANTIATE_TEST_SUITE_P(Coordinates, PiiCases, testing::ValuesIn(kCoordinateCases));
INSTANTIATE_TEST_SUITE_P(EuropeanPhone, PiiCases, testing::ValuesIn(kEuropeanPhoneCases));
INSTANTIATE_TEST_SUITE_P(Contact, PiiCases, testing::ValuesIn(kContactCases));
INSTANTIATE_TEST_SUITE_P(Home, PiiCases, testing::ValuesIn(kHomeCases));
INSTANTIATE_TEST_SUITE_P(CardIssuer, PiiCases, testing::ValuesIn(kCardIssuerCases));
INSTANTIATE_TEST_SUITE_P(CardExtras, PiiCases, testing::ValuesIn(kCardExtraCases));

// A bank SMS holds several values: the card's tail and the amounts are each found.
TEST(Forms, BankSmsGivesTailAndAmounts) {
  std::string text = "【招商银行】您尾号6621的储蓄卡12月3日消费128.00元，余额12,345.67元。";
  auto findings = find_pii(text);
  ASSERT_EQ(findings.size(), 3u) << describe(findings, text);
  EXPECT_EQ(findings[0].kind, "partial_card");
  EXPECT_EQ(text.substr(findings[0].begin, findings[0].end - findings[0].begin), "6621");
  EXPECT_EQ(findings[1].kind, "amount");
  EXPECT_EQ(text.substr(findings[1].begin, findings[1].end - findings[1].begin), "128.00元");
  EXPECT_EQ(findings[2].kind, "amount");
  EXPECT_EQ(text.substr(findings[2].begin, findings[2].end - findings[2].begin), "12,345.67元");
}

// Confidence is higher where a checksum or a cue word backs the format.
TEST(Forms, ConfidenceRanksEvidence) {
  auto with_cue = find_pii("my SSN is 536-22-8147");
  auto format_only = find_pii("file 536-22-8147");
  ASSERT_EQ(with_cue.size(), 1u);
  ASSERT_EQ(format_only.size(), 1u);
  EXPECT_GT(with_cue[0].confidence, format_only[0].confidence);
  for (const auto& finding : with_cue) EXPECT_TRUE(finding.personal);
}

}  // namespace
}  // namespace tandem::router
