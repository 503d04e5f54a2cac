// Public is not personal: values that have the form of personal data but are published
// for everyone (test cards, toll-free and service numbers, documentation keys, landmark
// coordinates, famous addresses), and the words that make such a value personal again
// ("my", 我的, 我妈, 家). Also the names written in front of a phone number, which
// belong to it ("张伟 138…", "Mom: 07700 …").
#include <algorithm>
#include <cmath>
#include <string>

#include "router/privacy_scan.h"

namespace tandem::router::scan {
namespace {

#define PUBLIC_PLACE(name, latitude, longitude, radius, source)
#define PUBLIC_ADDRESS(key, source)
#define PUBLIC_CARD(digits, source)
#define PUBLIC_KEY(key, source)
#define PUBLIC_SSN(digits, source)

struct Place {
  double latitude, longitude, radius_m;
};
constexpr Place kPlaces[] = {
#undef PUBLIC_PLACE
#define PUBLIC_PLACE(name, latitude, longitude, radius, source) {latitude, longitude, radius},
#include "router/privacy_public_values.inc"
#undef PUBLIC_PLACE
#define PUBLIC_PLACE(name, latitude, longitude, radius, source)
};
constexpr std::string_view kAddresses[] = {
#undef PUBLIC_ADDRESS
#define PUBLIC_ADDRESS(key, source) key,
#include "router/privacy_public_values.inc"
#undef PUBLIC_ADDRESS
#define PUBLIC_ADDRESS(key, source)
};
constexpr std::string_view kCards[] = {
#undef PUBLIC_CARD
#define PUBLIC_CARD(digits, source) digits,
#include "router/privacy_public_values.inc"
#undef PUBLIC_CARD
#define PUBLIC_CARD(digits, source)
};
constexpr std::string_view kKeys[] = {
#undef PUBLIC_KEY
#define PUBLIC_KEY(key, source) key,
#include "router/privacy_public_values.inc"
#undef PUBLIC_KEY
#define PUBLIC_KEY(key, source)
};
constexpr std::string_view kSsns[] = {
#undef PUBLIC_SSN
#define PUBLIC_SSN(digits, source) digits,
#include "router/privacy_public_values.inc"
};
#undef PUBLIC_PLACE
#undef PUBLIC_ADDRESS
#undef PUBLIC_CARD
#undef PUBLIC_KEY
#undef PUBLIC_SSN

template <class Table>
bool contains(const Table& table, std::string_view value) {
  return std::find(std::begin(table), std::end(table), value) != std::end(table);
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// National numbers (with the trunk 0 where the country has one).
const char* public_national_phone(std::string_view digits) {
  std::string_view nanp = digits.size() == 11 && digits[0] == '1' ? digits.substr(1) : digits;
  if (nanp.size() == 10 && nanp[0] != '0') {
    constexpr std::string_view kTollFree[] = {"800", "888", "877", "866", "855", "844", "833"};
    if (contains(kTollFree, nanp.substr(0, 3))) return "toll_free";
    // 555-0100 to 555-0199 are reserved for fiction in every area code.
    if (nanp.substr(3, 3) == "555" && nanp.substr(6, 2) == "01") return "fiction_number";
  }
  if (digits.size() == 7 && digits.substr(0, 5) == "55501") return "fiction_number";
  if (digits.size() == 10 && starts_with(digits, "400")) return "service_number";
  if (starts_with(digits, "0800") || starts_with(digits, "0808") || starts_with(digits, "0500")) return "toll_free";
  if (digits.size() == 5 && (starts_with(digits, "95") || starts_with(digits, "96") || starts_with(digits, "10") ||
                             starts_with(digits, "12")))
    return "service_number";  // 95588, 10086, 12345
  return nullptr;
}

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

}  // namespace

const char* public_card(std::string_view digits) {
  if (contains(kCards, digits)) return "test_card";
  // Stripe's scenario cards: 4000 0000 0000 xxxx.
  if (digits.size() == 16 && starts_with(digits, "400000000000")) return "test_card";
  return nullptr;
}

const char* public_phone(std::string_view digits, bool international) {
  if (!international) return public_national_phone(digits);
  if (starts_with(digits, "1")) return public_national_phone(digits);
  if (starts_with(digits, "86")) return public_national_phone(digits.substr(2));
  // Elsewhere the national form adds a trunk 0 to what follows a 2-digit country code.
  if (digits.size() > 4) {
    std::string national(1, '0');
    national.append(digits.substr(2));
    return public_national_phone(national);
  }
  return nullptr;
}

const char* public_key(std::string_view key) {
  if (contains(kKeys, key)) return "documentation_key";
  if (ends_with(key, "EXAMPLE") || ends_with(key, "EXAMPLEKEY")) return "documentation_key";
  // Placeholders: sk-xxxx…, sk-your-key-here, sk-********, sk-<your key>.
  std::string text = lowered(key);
  constexpr std::string_view kMarks[] = {"xxxx", "your", "example", "placeholder", "redacted", "dummy",
                                         "sample", "replace", "insert", "****", "....", "<", "fake"};
  for (std::string_view mark : kMarks)
    if (text.find(mark) != std::string::npos) return "placeholder_key";
  size_t run = 1;
  for (size_t i = 1; i < text.size(); ++i) {
    run = text[i] == text[i - 1] ? run + 1 : 1;
    if (run >= 6) return "placeholder_key";
  }
  return nullptr;
}

const char* public_place(double latitude, double longitude) {
  constexpr double kEarthRadius = 6371000, kRadians = 3.14159265358979323846 / 180;
  for (const Place& place : kPlaces) {
    double north = (latitude - place.latitude) * kRadians * kEarthRadius;
    double east = (longitude - place.longitude) * kRadians * kEarthRadius * std::cos(place.latitude * kRadians);
    if (std::sqrt(north * north + east * east) <= place.radius_m) return "landmark";
  }
  return nullptr;
}

const char* public_address(std::string_view address) {
  // Lower case, street words shortened, spaces and punctuation dropped.
  struct Short {
    std::string_view word, abbreviation;
  };
  constexpr Short kShort[] = {{"street", "st"},  {"avenue", "ave"},   {"road", "rd"},   {"drive", "dr"},
                              {"parkway", "pkwy"}, {"place", "pl"},   {"northwest", "nw"}, {"boulevard", "blvd"},
                              {"lane", "ln"},    {"court", "ct"}};
  std::string key;
  for (size_t pos = 0; pos < address.size();) {
    if (is_alnum(address[pos])) {
      size_t end = span_while(address, pos, is_alnum);
      std::string word = lowered(address.substr(pos, end - pos));
      for (const Short& entry : kShort)
        if (word == entry.word) word = entry.abbreviation;
      key += word;
      pos = end;
    } else if (static_cast<unsigned char>(address[pos]) >= 0x80) {
      key.push_back(address[pos++]);
    } else {
      ++pos;
    }
  }
  for (std::string_view entry : kAddresses) {
    if (key == entry) return "famous_address";
    // "北京市东城区景山前街4号": only province, city or district parts before the known address.
    if (static_cast<unsigned char>(entry[0]) >= 0x80 && ends_with(key, entry)) {
      std::string_view before = std::string_view(key).substr(0, key.size() - entry.size());
      if (before.empty()) return "famous_address";
      CodePoint last = decode_before(before, before.size());
      if (std::u32string_view(U"省市区县").find(last.value) != std::u32string_view::npos) return "famous_address";
    }
  }
  return nullptr;
}

const char* public_ssn(std::string_view digits) {
  if (contains(kSsns, digits)) return "example_ssn";
  if (starts_with(digits, "98765432")) return "example_ssn";  // 987-65-4320 … 4329, reserved for advertising
  return nullptr;
}

bool personal_context(const ScanText& scan, size_t begin, size_t end, std::string_view public_form) {
  // Before the value in the same sentence ("my card 4111…", "我家在…"), or right after
  // it ("… is my card", "…是我的").
  if (scan.cue_before(begin, 32, cue_personal) != nullptr || scan.cue_after(end, 10, cue_personal) != nullptr)
    return true;
  // A delivery has a recipient: "ship to 221B Baker Street" is someone's address.
  if (public_form == "famous_address" && scan.cue_before(begin, 32, cue_delivery) != nullptr) return true;
  // 555-01xx stands in for a person's number in stories: texting or calling it reaches someone.
  if (public_form == "fiction_number" && scan.cue_before(begin, 32, cue_reach) != nullptr) return true;
  return false;
}

namespace {

// Common surnames that rarely start an ordinary word written right before a number.
constexpr std::u32string_view kSurnames =
    U"王李张刘陈杨赵黄周吴徐孙胡朱郭何罗郑梁谢宋唐许韩冯邓曹彭曾肖董袁潘蒋蔡杜程苏魏吕丁沈姚卢姜崔谭陆汪范"
    U"廖贾韦邹孟熊秦邱尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵严覃武戴莫孔汤温康施牛樊葛邢齐乔伍庞颜倪庄聂章鲁岳"
    U"翟殷詹欧耿焦俞柳祝宁舒阮柯纪梅童凌毕裴霍涂苗谷盛翁冉骆蓝辛靳柴鲍喻祁蒲滕屈饶艾尤穆卓褚娄窦戚岑";

// Who a number belongs to, written in front of it: relatives, roles, "王老师", "小李".
constexpr std::u32string_view kPeople[] = {
    U"妈妈", U"我妈", U"爸爸", U"我爸", U"老公", U"老婆", U"爷爷", U"奶奶", U"外婆", U"外公", U"姥姥", U"姥爷",
    U"哥哥", U"姐姐", U"弟弟", U"妹妹", U"儿子", U"女儿", U"媳妇", U"丈夫", U"妻子", U"男朋友", U"女朋友",
    U"闺蜜", U"室友", U"同事", U"老板", U"房东", U"阿姨", U"叔叔", U"舅舅", U"姑姑", U"师傅", U"老师",
    U"医生", U"律师", U"保姆", U"司机", U"经理", U"先生", U"女士", U"小姐", U"总"};

constexpr std::string_view kEnglishPeople[] = {
    "mom", "mum", "mother", "dad", "father", "wife", "husband", "son", "daughter", "brother", "sister",
    "grandma", "grandpa", "boss", "landlord", "landlady", "doctor", "nanny", "babysitter", "neighbor",
    "neighbour", "friend", "boyfriend", "girlfriend", "partner", "uncle", "aunt", "cousin", "roommate"};
// Capitalized words that label a number instead of naming its owner.
constexpr std::string_view kLabels[] = {"phone", "tel", "mobile", "cell", "call", "text", "contact", "number",
                                        "fax",   "home", "work", "office", "support", "hotline", "customer",
                                        "service", "whatsapp", "sms", "or", "and", "at", "on", "to", "is"};

bool is_word_in(std::string_view word, const auto& table) {
  std::string low = lowered(word);
  return std::find(std::begin(table), std::end(table), low) != std::end(table);
}

size_t chinese_name_start(std::string_view text, size_t end) {
  // Up to four characters before `end`, nearest last.
  char32_t glyphs[4];
  size_t starts[4];
  size_t count = 0, pos = end;
  while (count < 4 && pos > 0) {
    CodePoint cp = decode_before(text, pos);
    if (!is_han(cp.value)) break;
    pos -= cp.length;
    glyphs[count] = cp.value;
    starts[count] = pos;
    ++count;
  }
  if (count < 2) return end;
  const auto glyph = [&](size_t from_end) { return glyphs[from_end]; };
  // Relatives and roles, with a surname or 小/老 in front ("王老师", "李师傅").
  for (std::u32string_view word : kPeople) {
    if (word.size() > count) continue;
    bool match = true;
    for (size_t i = 0; i < word.size(); ++i) match = match && glyph(word.size() - 1 - i) == word[i];
    if (!match) continue;
    size_t start = starts[word.size() - 1];
    if (word.size() < count && kSurnames.find(glyph(word.size())) != std::u32string_view::npos)
      start = starts[word.size()];
    if (word == U"总" && start == starts[0]) continue;  // 总 alone is not a person
    return start;
  }
  // 小王, 老李
  if ((glyph(1) == U'小' || glyph(1) == U'老') && kSurnames.find(glyph(0)) != std::u32string_view::npos)
    return starts[1];
  // A surname and one or two given-name characters.
  for (size_t length : {size_t(3), size_t(2)}) {
    if (length > count) continue;
    if (kSurnames.find(glyph(length - 1)) != std::u32string_view::npos) return starts[length - 1];
  }
  return end;
}

size_t english_name_start(std::string_view text, size_t end) {
  size_t start = end, words = 0;
  size_t pos = end;
  while (words < 3 && pos > 0) {
    size_t word_end = pos;
    size_t word_begin = word_end;
    while (word_begin > 0 && (is_alpha(text[word_begin - 1]) || text[word_begin - 1] == '.' || text[word_begin - 1] == '\''))
      --word_begin;
    if (word_begin == word_end) break;
    std::string_view word = text.substr(word_begin, word_end - word_begin);
    bool relative = is_word_in(word, kEnglishPeople);
    bool capitalized = is_upper(word[0]) && !is_word_in(word, kLabels);
    if (!(relative || capitalized)) break;
    start = word_begin;
    ++words;
    if (word_begin == 0 || text[word_begin - 1] != ' ') break;
    pos = word_begin - 1;
  }
  // "my mom", "My wife": the possessive goes with the relative.
  if (words > 0 && start >= 3 && matches_at(text, start - 3, "my ")) start -= 3;
  return words > 0 ? start : end;
}

}  // namespace

size_t contact_name_start(const ScanText& scan, size_t begin) {
  std::string_view text = scan.text;
  size_t pos = begin;
  bool labelled = false;
  while (pos > 0 && begin - pos < 4) {
    char c = text[pos - 1];
    if (c == ':' || c == '-' || c == ',') {
      labelled = true;
    } else if (c != ' ') {
      break;
    }
    --pos;
  }
  if (pos == 0) return begin;
  if (static_cast<unsigned char>(text[pos - 1]) >= 0x80) {
    size_t start = chinese_name_start(text, pos);
    return start < pos ? start : begin;
  }
  if (!is_alpha(text[pos - 1])) return begin;
  size_t start = english_name_start(text, pos);
  if (start == pos) return begin;
  // Without a colon or dash, a relative anywhere ("call Mom 07700 …"), or a full name
  // that starts the line ("Anna Kowal 07700 …"); one capitalized word may be a place.
  if (!labelled) {
    std::string_view name = text.substr(start, pos - start);
    bool relative = false;
    size_t words = 0;
    for (size_t i = 0; i < name.size();) {
      size_t end = span_while(name, i, is_alpha);
      if (end > i) {
        ++words;
        relative = relative || is_word_in(name.substr(i, end - i), kEnglishPeople);
      }
      i = end + 1;
    }
    bool line_start = start == 0 || text[start - 1] == '\n';
    if (!relative && !(line_start && words >= 2)) return begin;
  }
  return start;
}

}  // namespace tandem::router::scan
