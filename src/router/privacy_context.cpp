// Scanners for values whose format alone says little and whose words say the rest:
// licence plates (CN by format; EU and US after a plate word), social handles (wxid_,
// QQ and WeChat ids, @handles after a platform word), one-time codes, partial card
// numbers next to bank words ("尾号6621", "ending in 4821", "**** 4821"), and salaries
// and balances when they are someone's ("我月薪2万3", "my salary is $8,400").
#include <string>

#include "router/privacy_scan.h"

namespace tandem::router::scan {
namespace {

constexpr size_t npos = std::string_view::npos;

// ---- licence plates

constexpr std::u32string_view kProvinces = U"京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领";
constexpr std::u32string_view kPlateSuffixes = U"学警挂港澳领使试超";

bool is_plate_char(char c) { return is_digit(c) || (is_alpha(c) && lower(c) != 'i' && lower(c) != 'o'); }

// After the province and the letter: 5 characters (at most 3 letters), 6 for new-energy
// plates (D/F... then digits, or digits then D/F), or 4 and a suffix such as 学 or 警.
size_t cn_plate_serial_end(std::string_view text, size_t pos) {
  size_t end = span_while(text, pos, is_plate_char);
  size_t length = end - pos, letters = 0;
  for (size_t i = pos; i < end; ++i) letters += is_alpha(text[i]);
  if (length == 5 && letters <= 3) return end;
  if (length == 6 && letters <= 2 && (is_alpha(text[pos]) || is_alpha(text[end - 1]))) return end;
  if (length == 4 && letters <= 2 && end < text.size()) {
    CodePoint suffix = decode_at(text, end);
    if (kPlateSuffixes.find(suffix.value) != std::u32string_view::npos) return end + suffix.length;
  }
  return npos;
}

void scan_cn_plates(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (static_cast<unsigned char>(text[pos]) < 0xE0) continue;
    CodePoint province = decode_at(text, pos);
    if (kProvinces.find(province.value) == std::u32string_view::npos) continue;
    size_t letter = pos + province.length;
    if (!alpha_at(text, letter) || !is_plate_char(text[letter])) continue;
    size_t serial = letter + 1;
    if (text.substr(serial, 2) == "\xC2\xB7") {
      serial += 2;  // 京A·12345
    } else if (char_at(text, serial, ' ') || char_at(text, serial, '-') || char_at(text, serial, '.')) {
      ++serial;
    }
    size_t end = cn_plate_serial_end(text, serial);
    if (end == npos || (end < text.size() && (is_alnum(text[end]) || text[end] == '_'))) continue;
    out.push_back({Kind::license_plate, pos, end, 0.9f});
    pos = end - 1;
  }
}

// Connectors after a keyword that names a value: spaces, ":", "is", "是", "为", "number",
// "no.", "#", "号", "号码", "id" ... a few of them in a row ("plate number is: ").
size_t skip_value_connectors(std::string_view text, size_t pos, bool& found) {
  found = false;
  constexpr std::string_view kConnectors[] = {
      "is:", "is", "are", ":", "=", "#", "no.", "no", "nr.", "number", "num", "id", "account", "handle", "username",
      "reads", "was", "号码", "号", "账号", "是", "为", "為", "-", "(", "（"};
  for (int step = 0; step < 4; ++step) {
    pos = skip_spaces(text, pos);
    bool matched = false;
    for (std::string_view connector : kConnectors) {
      if (!matches_at(text, pos, connector)) continue;
      if (is_alpha(connector.back()) && alpha_at(text, pos + connector.size())) continue;
      pos += connector.size();
      found = matched = true;
      break;
    }
    if (!matched) break;
  }
  return skip_spaces(text, pos);
}

// EU/US plates after a plate word: one to three groups of capitals and digits,
// 4-8 characters in all, with a digit ("7ABC123", "AB12 CDE", "M-AB 1234", "AB-123-CD").
void scan_context_plates(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (const CueHit& hit : scan.hits) {
    if (!(hit.cues & cue_plate)) continue;
    bool connector = false;
    size_t pos = skip_value_connectors(text, hit.end, connector);
    if (pos >= text.size() || !is_upper_alnum(text[pos]) || (pos > 0 && is_alnum(text[pos - 1]))) continue;
    size_t end = pos, characters = 0, digits = 0;
    for (int group = 0; group < 3; ++group) {
      size_t group_end = span_while(text, end, is_upper_alnum);
      if (group_end == end) break;
      for (size_t i = end; i < group_end; ++i) digits += is_digit(text[i]);
      characters += group_end - end;
      end = group_end;
      bool joined = (char_at(text, end, ' ') || char_at(text, end, '-')) && is_upper_alnum(text.size() > end + 1 ? text[end + 1] : ' ');
      bool dotted = text.substr(end, 2) == "\xC2\xB7" && is_upper_alnum(text.size() > end + 2 ? text[end + 2] : ' ');
      if (!joined && !dotted) break;
      if (characters >= 8) break;
      end += dotted ? 2 : 1;
    }
    while (end > pos && !is_upper_alnum(text[end - 1])) --end;
    if (characters < 4 || characters > 8 || digits == 0 || alnum_at(text, end) || alpha_at(text, end)) continue;
    if (digits == characters && characters < 5) continue;  // a bare short number is not a plate
    out.push_back({Kind::license_plate, pos, end, 0.85f});
  }
}

// ---- social handles

bool is_handle_char(char c) { return is_alnum(c) || c == '_' || c == '.' || c == '-'; }

// "@anna_k88", "t.me/anna_k88", or a bare id with a digit, '_' or '-' ("anna_k88").
size_t handle_end(std::string_view text, size_t pos, bool strong) {
  if (matches_at(text, pos, "t.me/")) pos += 5;
  bool at = char_at(text, pos, '@');
  size_t begin = pos + (at ? 1 : 0);
  if (!alnum_at(text, begin)) return npos;
  size_t end = span_while(text, begin, is_handle_char);
  while (end > begin && (text[end - 1] == '.' || text[end - 1] == '-')) --end;
  size_t length = end - begin;
  if (length < 3 || length > 30) return npos;
  bool marked = false;
  for (size_t i = begin; i < end; ++i) marked = marked || is_digit(text[i]) || text[i] == '_' || text[i] == '-';
  if (!at && !marked && !strong) return npos;
  return end;
}

void scan_handles(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  // WeChat's generated ids need no words around them.
  for (size_t pos = text.find("wxid_"); pos != npos; pos = text.find("wxid_", pos + 1)) {
    if (pos > 0 && is_handle_char(text[pos - 1])) continue;
    size_t end = span_while(text, pos + 5, [](char c) { return is_alnum(c) || c == '_' || c == '-'; });
    if (end - pos >= 9) out.push_back({Kind::social_handle, pos, end, 0.95f});
  }
  for (const CueHit& hit : scan.hits) {
    if (!(hit.cues & (cue_wechat | cue_qq | cue_social))) continue;
    bool connector = false;
    size_t pos = skip_value_connectors(text, hit.end, connector);
    if (pos >= text.size()) continue;
    if (hit.cues & cue_qq) {
      size_t digits = count_digits(text, pos);
      if (digits >= 5 && digits <= 11 && text[pos] != '0' && number_may_end(text, pos + digits))
        out.push_back({Kind::social_handle, pos, pos + digits, 0.9f});
      continue;
    }
    if (pos > 0 && is_alnum(text[pos - 1])) continue;
    // "微信号 annakowal" and "WeChat ID: annakowal" name the id; "WeChat is …" does not.
    bool strong = connector && text.substr(hit.end, pos - hit.end).find_first_of(":#") != npos;
    strong = strong || text.substr(hit.end, pos - hit.end).find("号") != npos ||
             matches_at(text.substr(hit.end, pos - hit.end), 0, " id") ||
             matches_at(text.substr(hit.end, pos - hit.end), 0, " handle");
    if (char_at(text, pos, '@')) continue;  // the @handle loop below weighs those
    size_t end = handle_end(text, pos, strong);
    if (end == npos) continue;
    if ((hit.cues & cue_wechat) && !is_alpha(text[pos]) && text[pos] != '@') continue;  // WeChat ids start with a letter
    out.push_back({Kind::social_handle, pos, end, 0.85f});
  }
  // "@anna_k88 on Instagram", "DM @anna_k88": an @handle with a platform word near.
  for (size_t at = text.find('@'); at != npos; at = text.find('@', at + 1)) {
    if (at > 0 && (is_alnum(text[at - 1]) || text[at - 1] == '.' || text[at - 1] == '_')) continue;  // e-mail
    size_t end = handle_end(text, at, true);
    if (end == npos || char_at(text, end, '@')) continue;
    if (scan.cue_before(at, 40, cue_social | cue_wechat) == nullptr && scan.cue_after(end, 24, cue_social) == nullptr)
      continue;
    // "follow @NASA", "官方账号 @…": an account meant for everyone ("follow me" is not one).
    const CueHit* follow = scan.cue_before(at, 24, cue_public_account);
    bool public_account = follow != nullptr && !matches_at(text, follow->end, " me");
    out.push_back({Kind::social_handle, at, end, 0.85f, public_account ? "public_account" : nullptr});
  }
}

// ---- one-time codes

// A code at `pos`: 4-8 digits (also spelled out "4 8 2 9 1 3"), an optional "G-" in front,
// or 4-8 capitals and digits with at least two digits.
size_t code_end(const ScanText& scan, size_t pos) {
  std::string_view text = scan.text;
  if (pos + 2 < text.size() && is_upper(text[pos]) && text[pos + 1] == '-' && is_digit(text[pos + 2])) pos += 2;
  if (digit_at(text, pos) && number_may_start(text, pos)) {
    size_t end = pos, digits = 0;
    while (digit_at(text, end) && digits <= 8) {
      size_t group = count_digits(text, end);
      digits += group;
      end += group;
      // Spelled out one digit at a time: "4 8 2 9", "3-2-1-8".
      bool separated = char_at(text, end, ' ') || char_at(text, end, '-');
      if (group == 1 && separated && digit_at(text, end + 1) && count_digits(text, end + 1) == 1) {
        ++end;
        continue;
      }
      break;
    }
    if (digits >= 4 && digits <= 8 && number_may_end(text, end)) return end;
    return npos;
  }
  if (!is_upper_alnum(text.size() > pos ? text[pos] : ' ') || (pos > 0 && is_alnum(text[pos - 1]))) return npos;
  size_t end = span_while(text, pos, is_upper_alnum), digits = 0;
  for (size_t i = pos; i < end; ++i) digits += is_digit(text[i]);
  if (end - pos >= 4 && end - pos <= 8 && digits >= 2 && !alnum_at(text, end)) return end;
  return npos;
}

void scan_codes(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (const CueHit& hit : scan.hits) {
    bool strong = hit.cues & cue_otp;
    bool weak = (hit.cues & cue_code_word) && scan.cue_before(hit.begin, 12, cue_code_other | cue_otp) == nullptr;
    if (!strong && !weak) continue;
    // Forward: "验证码：482913", "your code is 4821", "OTP 482913".
    bool connector = false;
    size_t pos = skip_value_connectors(text, hit.end, connector);
    size_t end = code_end(scan, pos);
    if (end == npos && strong) {
      // "验证码为【482913】", "verification code for your login is 482913".
      for (size_t look = pos; look < text.size() && look < hit.end + 40; ++look) {
        if (scan.sentence_break(look, look + 1)) break;
        if (is_digit(text[look])) {
          end = code_end(scan, look);
          pos = look;
          break;
        }
      }
    }
    if (end != npos && (strong || connector)) {
      out.push_back({Kind::otp_code, pos, end, strong ? 0.9f : 0.7f});
      continue;
    }
  }
  // Backward: "482913 is your verification code", "482913是您的验证码".
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!(is_digit(text[pos]) || is_upper(text[pos])) || (pos > 0 && is_alnum(text[pos - 1]))) continue;
    size_t end = code_end(scan, pos);
    if (end == npos) continue;
    const CueHit* hit = scan.cue_after(end, 32, cue_otp);
    if (hit != nullptr) {
      std::string_view between = text.substr(end, hit->begin - end);
      bool addressed = between.find("your") != npos || between.find("您") != npos || between.find("你") != npos ||
                       between.find("is the") != npos || between.size() <= 4;
      if (addressed) out.push_back({Kind::otp_code, pos, end, 0.9f});
    }
    pos = end - 1;
  }
}

// ---- partial cards

// "**** **** **** 4821", "****4821", "xxxx-4821", "6222 **** **** 1234", "••••4821".
void scan_masked_cards(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  const auto mask_at = [&](size_t pos) -> size_t {
    if (pos >= text.size()) return 0;
    if (text[pos] == '*' || text[pos] == 'x' || text[pos] == 'X' || text[pos] == '#') return 1;
    if (text.substr(pos, 2) == "\xC2\xB7") return 2;
    return 0;
  };
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (mask_at(pos) == 0 || (pos > 0 && is_alpha(text[pos - 1]))) continue;
    size_t end = pos, masks = 0;
    while (end < text.size()) {
      if (size_t length = mask_at(end)) {
        end += length;
        ++masks;
      } else if ((text[end] == ' ' || text[end] == '-') && mask_at(end + 1) != 0) {
        ++end;
      } else {
        break;
      }
    }
    size_t digits_at = end + ((char_at(text, end, ' ') || char_at(text, end, '-')) ? 1 : 0);
    size_t digits = count_digits(text, digits_at);
    if (masks < 4 || digits < 4 || digits > 4 || !number_may_end(text, digits_at + digits)) {
      pos = end > pos ? end - 1 : pos;
      continue;
    }
    // Leading digits shown before the mask ("6222 ****…").
    size_t begin = pos;
    size_t lead_end = begin > 0 && (text[begin - 1] == ' ' || text[begin - 1] == '-') ? begin - 1 : begin;
    size_t lead = lead_end;
    while (lead > 0 && is_digit(text[lead - 1])) --lead;
    if (lead_end - lead >= 4 && lead_end - lead <= 6 && number_may_start(text, lead)) begin = lead;
    out.push_back({Kind::partial_card, begin, digits_at + digits, 0.9f});
    pos = digits_at + digits - 1;
  }
}

void scan_card_tails(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (const CueHit& hit : scan.hits) {
    if (!(hit.cues & cue_tail)) continue;
    // The first number after the words, close by: "尾号6621", "ending in 4821",
    // "last four digits of my card: 4821".
    size_t pos = hit.end;
    while (pos < text.size() && pos < hit.end + 24 && !is_digit(text[pos]) && !scan.sentence_break(pos, pos + 1)) ++pos;
    size_t digits = count_digits(text, pos);
    if (digits < 3 || digits > 4 || !number_may_start(text, pos) || !number_may_end(text, pos + digits)) continue;
    size_t end = pos + digits;
    // A plate's last digit decides driving days ("尾号3和8限行"); a card's tail sits among bank words.
    if (scan.cue_near(hit.begin, end, 24, cue_traffic | cue_plate)) continue;
    if (!scan.cue_near(hit.begin, end, 40, cue_bank | cue_balance) && !scan.cue_before(pos, 24, cue_bank | cue_balance))
      continue;
    out.push_back({Kind::partial_card, pos, end, 0.85f});
  }
}

// ---- amounts

struct Amount {
  size_t begin = 0, end = 0;
  bool ok = false;
};

size_t match_any(std::string_view text, size_t pos, std::initializer_list<std::string_view> words) {
  for (std::string_view word : words) {
    if (!matches_at(text, pos, word)) continue;
    if (is_alpha(word.back()) && alpha_at(text, pos + word.size())) continue;
    return word.size();
  }
  return 0;
}

// "$8,400", "¥12,345.67", "2万3", "1.5万元", "23000元", "8k", "RMB 9,000", "95k a year".
Amount read_amount(std::string_view text, size_t pos) {
  Amount amount;
  amount.begin = pos;
  bool currency = false, multiplier = false;
  if (size_t length = match_any(text, pos, {"US$", "HK$", "NT$", "$", "¥", "￥", "€", "£", "RMB", "USD", "CNY",
                                            "EUR", "GBP", "人民币"})) {
    pos = skip_spaces(text, pos + length);
    currency = true;
  }
  if (!digit_at(text, pos) || !number_may_start(text, pos)) return amount;
  size_t end = pos, digits = 0;
  while (true) {
    size_t group = count_digits(text, end);
    digits += group;
    end += group;
    if (char_at(text, end, ',') && count_digits(text, end + 1) == 3) {
      ++end;
      continue;
    }
    break;
  }
  if (char_at(text, end, '.') && digit_at(text, end + 1)) end += 1 + count_digits(text, end + 1);
  if (size_t length = match_any(text, end, {"百万", "千万", "万", "千", "亿", "w", "W", "k", "K", "m", "M",
                                            " million", " thousand", " grand"})) {
    // "k"/"w" glued to letters is a word ("8kg", "5km"), not a multiplier.
    if (!(length == 1 && alpha_at(text, end + 1))) {
      end += length;
      multiplier = true;
      if (digit_at(text, end) && count_digits(text, end) == 1) ++end;  // 2万3
    }
  }
  size_t after = end;
  if (size_t length = match_any(text, skip_spaces(text, after),
                                {"元", "块钱", "块", "美元", "刀", "人民币", "欧元", "英镑", "港币", "dollars", "dollar",
                                 "bucks", "euros", "pounds", "usd", "rmb", "cny", "yuan"})) {
    end = skip_spaces(text, after) + length;
    currency = true;
  }
  // Counts and rates are not amounts: "5%", "3岁", "2年", "3 times", "10 hours".
  size_t next = skip_spaces(text, end);
  if (match_any(text, next, {"%", "岁", "年", "个", "次", "天", "小时", "分钟", "周", "times", "percent", "years",
                             "year old", "hours", "days", "people", "%"}) != 0 && !currency)
    return amount;
  amount.end = end;
  amount.ok = currency || multiplier || digits >= 3;
  return amount;
}

// Whether the words before a salary or balance word make it someone's: "my", 我的, 您的,
// "I make", "我月薪", a relative; and nothing that makes it a statistic ("average", 平均).
bool owned_amount(const ScanText& scan, const CueHit& trigger, size_t amount_end) {
  std::string_view text = scan.text;
  if (scan.cue_before(trigger.begin, 24, cue_statistic) != nullptr) return false;
  if (const CueHit* stat = scan.cue_after(trigger.end, 24, cue_statistic); stat != nullptr && stat->begin < amount_end)
    return false;
  if (scan.cue_before(trigger.begin, 24, cue_personal | cue_sms) != nullptr) return true;
  if (scan.cue_before(trigger.begin, 48, cue_tail) != nullptr) return true;  // bank SMS: "尾号8866 … 余额"
  // "I make", "I earn", "I owe", "我月薪", "我每月工资".
  for (size_t back = 1; back <= 12 && back <= trigger.begin; ++back) {
    size_t at = trigger.begin - back;
    if (text[at] == 'I' && (at == 0 || !is_alpha(text[at - 1])) && (char_at(text, at + 1, ' ') || char_at(text, at + 1, '\'')))
      return !scan.sentence_break(at, trigger.begin);
    if (text.substr(at, 3) == "我") return back <= 9 && !scan.sentence_break(at, trigger.begin);
  }
  return false;
}

void scan_salaries(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (const CueHit& hit : scan.hits) {
    if (!(hit.cues & (cue_salary | cue_balance))) continue;
    // The first number after the word, close by and in the same sentence.
    Amount amount;
    for (size_t look = hit.end; look < text.size() && look < hit.end + 32; ++look) {
      if (scan.sentence_break(look, look + 1)) break;
      bool starts = is_digit(text[look]) || text[look] == '$' || static_cast<unsigned char>(text[look]) >= 0xC2 ||
                    matches_at(text, look, "RMB") || matches_at(text, look, "USD");
      if (!starts) continue;
      amount = read_amount(text, look);
      if (amount.ok || is_digit(text[look])) break;
    }
    if (!amount.ok || !owned_amount(scan, hit, amount.end)) continue;
    out.push_back({Kind::amount, amount.begin, amount.end, 0.8f});
  }
}

}  // namespace

void scan_license_plates(const ScanText& scan, Candidates& out) {
  scan_cn_plates(scan, out);
  scan_context_plates(scan, out);
}

void scan_social_handles(const ScanText& scan, Candidates& out) { scan_handles(scan, out); }

void scan_one_time_codes(const ScanText& scan, Candidates& out) { scan_codes(scan, out); }

void scan_partial_cards(const ScanText& scan, Candidates& out) {
  scan_masked_cards(scan, out);
  scan_card_tails(scan, out);
}

void scan_amounts(const ScanText& scan, Candidates& out) { scan_salaries(scan, out); }

}  // namespace tandem::router::scan
