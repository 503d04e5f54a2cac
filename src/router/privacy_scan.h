// Internals of find_pii shared by its scanners. The text is normalized first
// (privacy_normalize.cpp: full-width forms, Unicode dashes and spaces, Chinese numerals),
// then indexed once (ScanText: cue words, digit runs); every scanner proposes candidates
// on the normalized text, find_pii keeps the longest, most specific ones, weighs public
// forms against personal context and maps the spans back to the caller's bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::router::scan {

// Lower rank wins a tie between candidates of equal length.
enum class Kind {
  api_key, credentials, cn_id_number, hk_id, tw_id, mo_id, us_ssn, iban, passport, bank_card, partial_card,
  email, phone, social_handle, otp_code, license_plate, password, gps, street_address, amount, contact
};
std::string_view kind_name(Kind kind);

struct Candidate {
  Kind kind;
  size_t begin, end;                  // into the normalized text
  float confidence = 0.9f;            // how sure the span is this kind of data (ordinal, not calibrated)
  const char* public_form = nullptr;  // set when the value is a well-known public one ("test_card")
};
using Candidates = std::vector<Candidate>;

// ---- normalization (privacy_normalize.cpp)

// The text the scanners read, and for every byte of it the span of the original
// character it came from (several bytes may share one: "两万三" -> "23000").
struct NormalizedText {
  std::string text;
  std::vector<size_t> source_begin, source_end;
};
NormalizedText normalize(std::string_view original);

// Value of a Chinese digit character (零〇一二三四五六七八九, 幺, 两, 壹..玖), or -1.
int chinese_digit(char32_t cp);

// ---- character predicates

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
inline bool is_upper_alnum(char c) { return is_digit(c) || is_upper(c); }
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

inline bool alnum_at(std::string_view text, size_t pos) { return pos < text.size() && is_alnum(text[pos]); }
inline bool alpha_at(std::string_view text, size_t pos) { return pos < text.size() && is_alpha(text[pos]); }
inline bool digit_at(std::string_view text, size_t pos) { return pos < text.size() && is_digit(text[pos]); }
inline bool char_at(std::string_view text, size_t pos, char c) { return pos < text.size() && text[pos] == c; }
inline size_t count_digits(std::string_view text, size_t pos) {
  size_t end = pos;
  while (end < text.size() && is_digit(text[end])) ++end;
  return end - pos;
}
template <class Predicate>
size_t span_while(std::string_view text, size_t pos, Predicate predicate) {
  while (pos < text.size() && predicate(text[pos])) ++pos;
  return pos;
}
inline size_t skip_spaces(std::string_view text, size_t pos) {
  return span_while(text, pos, [](char c) { return c == ' ' || c == '\t'; });
}

// "1,412,000": a comma between a 1-3 digit group and exactly three digits.
inline bool is_thousands_comma(std::string_view text, size_t comma) {
  if (comma >= text.size() || text[comma] != ',' || count_digits(text, comma + 1) != 3) return false;
  size_t before = 0;
  while (before < comma && is_digit(text[comma - 1 - before])) ++before;
  return before >= 1 && before <= 3;
}

// A number may start at `pos` only where it is not the tail of a word, a longer
// number or a decimal fraction ("v2", "CA1234", "3.14159...", "1,412,000").
inline bool number_may_start(std::string_view text, size_t pos) {
  if (pos == 0) return true;
  char before = text[pos - 1];
  if (is_alnum(before) || before == '_') return false;
  if (before == '.' && pos >= 2 && is_digit(text[pos - 2])) return false;
  return !is_thousands_comma(text, pos - 1);
}
// ... and may end at `pos` only where no letter, digit or fraction follows.
inline bool number_may_end(std::string_view text, size_t pos) {
  if (pos >= text.size()) return true;
  char after = text[pos];
  if (is_alnum(after) || after == '_') return false;
  if (after == '.' && digit_at(text, pos + 1)) return false;
  return !is_thousands_comma(text, pos);
}

// Case-insensitive ASCII comparison of `word` with the text at `pos`.
inline bool matches_at(std::string_view text, size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (size_t i = 0; i < word.size(); ++i)
    if (lower(text[pos + i]) != lower(word[i])) return false;
  return true;
}

// One UTF-8 code point at `pos`; malformed bytes decode as U+FFFD of length 1.
struct CodePoint {
  char32_t value;
  size_t length;
};
CodePoint decode_at(std::string_view text, size_t pos);
// The code point that ends at `pos` (U+FFFD, length 1 where the bytes before are not one).
CodePoint decode_before(std::string_view text, size_t pos);
inline bool is_han(char32_t cp) { return cp >= 0x4E00 && cp <= 0x9FFF; }

// Connectors between a keyword and its value: spaces, ":", "=", "is", "是", "为", "#", "no." ...
// Returns the position after them; `found` says whether there was more than spaces.
size_t skip_connector(std::string_view text, size_t pos, bool& found);

// ---- cue words (privacy_cues.cpp)

// What a word says about the values near it; one word may carry several cues.
enum Cue : uint32_t {
  cue_personal = 1u << 0,   // my, 我的, 我家, 老公: the value is about the user or their people
  cue_phone = 1u << 1,      // phone, tel, 电话, 手机
  cue_bank = 1u << 2,       // card, bank, 银行, 卡, 消费, charged: partial cards
  cue_salary = 1u << 3,     // salary, 月薪, 工资
  cue_balance = 1u << 4,    // balance, 余额, debt, 欠款
  cue_otp = 1u << 5,        // 验证码, verification code, OTP
  cue_passport = 1u << 6,   // passport, 护照, 通行证
  cue_ssn = 1u << 7,        // SSN, social security
  cue_id_card = 1u << 8,    // HKID, 身份证, identity card
  cue_macau = 1u << 9,      // 澳门, Macau
  cue_plate = 1u << 10,     // licence plate, 车牌, Kennzeichen
  cue_wechat = 1u << 11,    // 微信, WeChat, vx
  cue_qq = 1u << 12,        // QQ, 扣扣, 企鹅号
  cue_social = 1u << 13,    // Telegram, Instagram, X, 抖音 ... and "handle"
  cue_account = 1u << 14,   // 账号, username, login
  cue_password = 1u << 15,  // password, 密码, pwd
  cue_tail = 1u << 16,      // 尾号, ending in, last four
  cue_traffic = 1u << 17,   // 限行, 单双号: "尾号" of a plate, not a card
  cue_statistic = 1u << 18, // average, 平均, 最低, minimum: amounts about everyone
  cue_sms = 1u << 19,       // 您, 【: a bank or service SMS addressed to the user
  cue_card_extra = 1u << 20,// expiry, CVV, 有效期, 安全码: what goes with a card
  cue_code_word = 1u << 21, // the bare word "code" (weak OTP cue)
  cue_code_other = 1u << 22,// error/zip/area/status...: "code" that is not a one-time code
  cue_coordinate = 1u << 23,// lat, lon, 纬度, 经度
  cue_delivery = 1u << 24,  // deliver to, ship to, 寄到: an address with a recipient
  cue_reach = 1u << 25,     // text, call, missed call, 打给: a number that reaches someone
  cue_public_account = 1u << 26,  // follow, official, 关注, 官方: an account everyone may follow
  cue_reference = 1u << 27, // order, tracking, 订单号, 运单: a reference number, not a card
};

struct CueHit {
  size_t begin, end;
  uint32_t cues;
};

// One piece of a digit run: "138", "1234" in "138 1234 5678".
struct DigitGroup {
  size_t begin, end;
  bool space_before;  // joined to the previous group by spaces only (a run may be split there)
};
// Digits joined by spaces, dashes or (inside one token) dots: "138 1234 5678",
// "1101-0519-9003-0712-39", "138.1234.5678". A decimal number ("39.9042") or an IPv4
// address never joins a run.
struct DigitRun {
  size_t begin = 0, end = 0;  // end includes a trailing X (the resident ID check character)
  std::vector<DigitGroup> groups;
  bool x_suffix = false;
};

class ScanText {
 public:
  explicit ScanText(std::string_view text);
  std::string_view text;
  std::vector<CueHit> hits;  // sorted by begin
  std::vector<DigitRun> runs;

  // The nearest word with one of `cues` that ends at most `window` bytes before `pos`
  // (or starts at most `window` bytes after it), in the same sentence; nullptr if none.
  const CueHit* cue_before(size_t pos, size_t window, uint32_t cues) const;
  const CueHit* cue_after(size_t pos, size_t window, uint32_t cues) const;
  bool cue_near(size_t begin, size_t end, size_t window, uint32_t cues) const {
    return cue_before(begin, window, cues) != nullptr || cue_after(end, window, cues) != nullptr;
  }
  // A cue word that starts exactly at `pos`, or nullptr.
  const CueHit* cue_at(size_t pos, uint32_t cues) const;
  // Whether a sentence ends somewhere in [begin, end).
  bool sentence_break(size_t begin, size_t end) const;
};

// The digits of groups [first, last] of `run` (plus the X when `last` is its final group).
std::string run_digits(std::string_view text, const DigitRun& run, size_t first, size_t last);
// Calls fn(first, last, digits) for every stretch of whole groups of `run` that may stand
// alone (split only where spaces join groups) and holds at most `max_digits` digits.
template <class Fn>
void for_each_stretch(std::string_view text, const DigitRun& run, size_t max_digits, Fn fn) {
  for (size_t first = 0; first < run.groups.size(); ++first) {
    if (first > 0 && !run.groups[first].space_before) continue;
    std::string digits;
    for (size_t last = first; last < run.groups.size(); ++last) {
      for (size_t i = run.groups[last].begin; i < run.groups[last].end; ++i) digits.push_back(text[i]);
      if (last + 1 == run.groups.size() && run.x_suffix) digits.push_back('X');
      if (digits.size() > max_digits) break;
      if (last + 1 < run.groups.size() && !run.groups[last + 1].space_before) continue;
      fn(first, last, digits);
    }
  }
}
// The end of groups [.., last] of `run` in the text (after the X when `last` is the final group).
inline size_t stretch_end(const DigitRun& run, size_t last) {
  return last + 1 == run.groups.size() ? run.end : run.groups[last].end;
}

// ---- checks shared by scanners

bool passes_luhn(std::string_view digits);
bool is_valid_cn_id(std::string_view id);
bool is_cn_mobile(std::string_view digits);

// ---- scanners

void scan_cn_id_numbers(const ScanText& text, Candidates& out);
void scan_phones(const ScanText& text, Candidates& out);
void scan_bank_cards(const ScanText& text, Candidates& out);
void scan_gps(const ScanText& text, Candidates& out);
void scan_emails(const ScanText& text, Candidates& out);
void scan_api_keys(const ScanText& text, Candidates& out);
void scan_passwords(const ScanText& text, Candidates& out);
void scan_credentials(const ScanText& text, Candidates& out);
void scan_street_addresses(const ScanText& text, Candidates& out);
void scan_government_ids(const ScanText& text, Candidates& out);  // SSN, IBAN, passports, HK/TW/Macau IDs
void scan_license_plates(const ScanText& text, Candidates& out);
void scan_social_handles(const ScanText& text, Candidates& out);
void scan_one_time_codes(const ScanText& text, Candidates& out);
void scan_partial_cards(const ScanText& text, Candidates& out);
void scan_amounts(const ScanText& text, Candidates& out);

// ---- public values (privacy_public.cpp)

const char* public_card(std::string_view digits);            // test card numbers
// Toll-free, service and fiction numbers; `international` digits start with the country code.
const char* public_phone(std::string_view digits, bool international);
const char* public_key(std::string_view key);                // documentation example keys, placeholders
const char* public_place(double latitude, double longitude); // landmark coordinates
const char* public_address(std::string_view address);        // famous addresses
const char* public_ssn(std::string_view digits);             // advertised example SSNs
// Whether the words around [begin, end) make a public value personal ("my", 我的, 我妈, 家;
// a delivery for an address, a call or text for a fiction number).
bool personal_context(const ScanText& text, size_t begin, size_t end, std::string_view public_form);
// The start of a name written right before a phone number ("张伟 ", "Mom: "), or `begin`.
size_t contact_name_start(const ScanText& text, size_t begin);

}  // namespace tandem::router::scan
