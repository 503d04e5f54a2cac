// Normalization before scanning: what the scanners read, and that every finding in a
// rewritten value maps back to exactly the bytes the user typed.
#include <gtest/gtest.h>

#include <string>

#include "router/privacy_cases.h"
#include "router/privacy_scan.h"

namespace tandem::router {
namespace {

struct Folded {
  const char* original;
  const char* normalized;
};

void PrintTo(const Folded& folded, std::ostream* out) { *out << folded.original; }

const Folded kFolds[] = {
    // Full-width forms, odd spaces, dashes and zero-width characters.
    {"１３８－１２３４", "138-1234"},
    {"密码：ａｂｃ", "密码:abc"},
    {"a\xE3\x80\x80" "b\xC2\xA0" "c", "a b c"},
    {"138\xE2\x80\x8B" "1234", "1381234"},
    {"555\xE2\x80\x93" "0132", "555-0132"},
    {"22\xC2\xBA" "32\xE2\x80\xB2" "35\xE2\x80\xB3" "N", "22\xC2\xB0" "32'35\"N"},
    {"京A\xE2\x80\xA2" "12345", "京A\xC2\xB7" "12345"},
    // Digit sequences in Chinese numerals, 幺 and 两 among them, also mixed with digits.
    {"一三八零二一七四六九五", "13802174695"},
    {"幺三九 幺二三四 五六七八", "139 1234 5678"},
    {"138一二三四5678", "13812345678"},
    {"二〇二四年", "2024年"},
    {"壹贰叁肆", "1234"},
    // Positional numerals, parsed by value.
    {"三十岁", "30岁"},
    {"月薪两万三", "月薪23000"},
    {"十二幢", "12幢"},
    {"一百零五", "105"},
    {"三百五", "350"},
    {"一万", "10000"},
    // Prose that only looks numeric stays as written.
    {"一一对应", "一一对应"},
    {"两个人", "两个人"},
    {"千万不要", "千万不要"},
    {"万一下雨", "万一下雨"},
    {"十一五规划", "十一五规划"},
    {"统一路", "统一路"},
};

class Normalize : public testing::TestWithParam<Folded> {};

TEST_P(Normalize, FoldsToWhatTheScannersRead) {
  scan::NormalizedText out = scan::normalize(GetParam().original);
  EXPECT_EQ(out.text, GetParam().normalized);
  ASSERT_EQ(out.source_begin.size(), out.text.size());
  ASSERT_EQ(out.source_end.size(), out.text.size());
}

INSTANTIATE_TEST_SUITE_P(Forms, Normalize, testing::ValuesIn(kFolds));

TEST(Normalize, EveryByteMapsInsideItsCharacter) {
  std::string original = "电话：一三八 １２３４ 5678，两万三，\xFF\xE4\xB8 ok";
  scan::NormalizedText out = scan::normalize(original);
  for (size_t i = 0; i < out.text.size(); ++i) {
    ASSERT_LT(out.source_begin[i], out.source_end[i]);
    ASSERT_LE(out.source_end[i], original.size());
    if (i > 0) {
      ASSERT_LE(out.source_begin[i - 1], out.source_begin[i]);
    }
  }
}

// Obfuscated values are found, and the finding covers exactly the original bytes.
const Expected kObfuscated[] = {
    {"打给一三八零二一七四六九五吧", "phone", "一三八零二一七四六九五"},
    {"电话幺三九幺二三四五六七八", "phone", "幺三九幺二三四五六七八"},
    {"call 1381 234 5678", "phone", "1381 234 5678"},
    {"call 138.1234.5678", "phone", "138.1234.5678"},
    {"号码 1 3 8 1 2 3 4 5 6 7 8", "phone", "1 3 8 1 2 3 4 5 6 7 8"},
    {"手机１３８\xE2\x80\x8B１２３４\xE2\x80\x8B５６７８", "phone",
     "１３８\xE2\x80\x8B１２３４\xE2\x80\x8B５６７８"},
    {"ID 1101 0519 9003 0712 39 thanks", "cn_id_number", "1101 0519 9003 0712 39"},
    {"身份证 4403 0519 8806 1412 3X", "cn_id_number", "4403 0519 8806 1412 3X"},
    {"身份证110-105-1990-0307-1239", "cn_id_number", "110-105-1990-0307-1239"},
    {"身份证号 一一零一零五一九九零零三零七一二三九", "cn_id_number", "一一零一零五一九九零零三零七一二三九"},
    {"card 4539.1488.0343.6467", "bank_card", "4539.1488.0343.6467"},
    {"卡号 62258 81234 56789 016", "bank_card", "62258 81234 56789 016"},
};

INSTANTIATE_TEST_SUITE_P(Obfuscated, PiiCases, testing::ValuesIn(kObfuscated));

// Near-misses that only look like digits once normalized.
const Expected kNotValues[] = {
    {"我三十岁，住了十二年", nullptr, nullptr},
    {"一百零五个苹果和三百五十个梨", nullptr, nullptr},
    {"prices 12.99 and 45.50, 1.5 and 2.5", nullptr, nullptr},
    {"server 139.224.12.101 is down", nullptr, nullptr},
    {"version 13.8.1234.5678 released", nullptr, nullptr},
};

INSTANTIATE_TEST_SUITE_P(NotValues, PiiCases, testing::ValuesIn(kNotValues));

}  // namespace
}  // namespace tandem::router
