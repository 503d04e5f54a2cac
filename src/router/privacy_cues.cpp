// ScanText: the normalized text indexed once for all scanners. Cue words (what a
// nearby value is: a phone, a passport, a salary; whose it is: "my", 我的) are found in
// one pass with a table bucketed by first byte, and digit runs ("138 1234 5678",
// "1101-0519-9003-0712-39") are cut once, so no scanner rescans the text per keyword.
#include <algorithm>
#include <array>

#include "router/privacy_scan.h"

namespace tandem::router::scan {
namespace {

struct CueWord {
  std::string_view word;
  uint32_t cues;
};

// Words are matched case-insensitively; an ASCII word must not be glued to letters.
constexpr CueWord kCueWords[] = {
    // Personal: the value belongs to the user or their people.
    {"my", cue_personal}, {"mine", cue_personal}, {"our", cue_personal}, {"ours", cue_personal},
    {"me at", cue_personal}, {"me on", cue_personal}, {"me up", cue_personal}, {"to me", cue_personal},
    {"i'm at", cue_personal}, {"i am at", cue_personal}, {"we're at", cue_personal}, {"i live", cue_personal},
    {"we live", cue_personal}, {"staying at", cue_personal}, {"home address", cue_personal},
    {"home to", cue_personal}, {"home at", cue_personal}, {"home is", cue_personal}, {"at home", cue_personal},
    {"way home", cue_personal}, {"route home", cue_personal}, {"back home", cue_personal},
    {"get home", cue_personal}, {"go home", cue_personal},
    {"mom", cue_personal}, {"mum", cue_personal}, {"mommy", cue_personal}, {"mother", cue_personal},
    {"dad", cue_personal}, {"daddy", cue_personal}, {"father", cue_personal}, {"wife", cue_personal},
    {"husband", cue_personal}, {"son", cue_personal}, {"daughter", cue_personal}, {"boyfriend", cue_personal},
    {"girlfriend", cue_personal}, {"fiance", cue_personal}, {"fiancée", cue_personal}, {"brother", cue_personal},
    {"sister", cue_personal}, {"grandma", cue_personal}, {"grandpa", cue_personal}, {"grandmother", cue_personal},
    {"grandfather", cue_personal}, {"aunt", cue_personal}, {"uncle", cue_personal}, {"hubby", cue_personal},
    {"我的", cue_personal}, {"我家", cue_personal}, {"我们", cue_personal}, {"咱家", cue_personal},
    {"我在", cue_personal}, {"我住", cue_personal}, {"住在", cue_personal}, {"家住", cue_personal},
    {"家在", cue_personal}, {"家里", cue_personal}, {"回家", cue_personal}, {"老家", cue_personal},
    {"我妈", cue_personal}, {"我爸", cue_personal}, {"老公", cue_personal}, {"老婆", cue_personal},
    {"妈妈", cue_personal}, {"爸爸", cue_personal}, {"儿子", cue_personal}, {"女儿", cue_personal},
    {"孩子", cue_personal}, {"宝宝", cue_personal}, {"爷爷", cue_personal}, {"奶奶", cue_personal},
    {"外婆", cue_personal}, {"外公", cue_personal}, {"姥姥", cue_personal}, {"姥爷", cue_personal},
    {"男朋友", cue_personal}, {"女朋友", cue_personal}, {"媳妇", cue_personal}, {"丈夫", cue_personal},
    {"妻子", cue_personal}, {"哥哥", cue_personal}, {"姐姐", cue_personal}, {"弟弟", cue_personal},
    {"妹妹", cue_personal}, {"闺蜜", cue_personal}, {"室友", cue_personal}, {"本人", cue_personal},
    {"您的", cue_personal | cue_sms}, {"您", cue_sms}, {"【", cue_sms},
    // Phone numbers.
    {"phone", cue_phone}, {"tel", cue_phone}, {"telephone", cue_phone}, {"mobile", cue_phone},
    {"cell", cue_phone}, {"call", cue_phone | cue_reach}, {"ring", cue_phone | cue_reach},
    {"text", cue_phone | cue_reach}, {"sms", cue_phone}, {"whatsapp", cue_phone | cue_reach},
    {"message", cue_reach}, {"missed call", cue_reach}, {"voicemail", cue_reach}, {"call back", cue_reach},
    {"contact", cue_phone}, {"reach", cue_phone | cue_reach}, {"number", cue_phone},
    {"电话", cue_phone}, {"手机", cue_phone}, {"号码", cue_phone}, {"联系", cue_phone | cue_reach},
    {"致电", cue_phone | cue_reach}, {"打给", cue_phone | cue_reach}, {"座机", cue_phone}, {"短信", cue_phone},
    {"来电", cue_phone | cue_reach}, {"拨打", cue_phone}, {"未接来电", cue_reach}, {"回电", cue_reach},
    {"发短信", cue_reach},
    // Reference numbers.
    {"order", cue_reference}, {"order number", cue_reference}, {"tracking", cue_reference},
    {"invoice", cue_reference}, {"reference", cue_reference}, {"ref", cue_reference}, {"serial", cue_reference},
    {"isbn", cue_reference}, {"订单", cue_reference}, {"订单号", cue_reference}, {"单号", cue_reference},
    {"运单", cue_reference}, {"发票", cue_reference}, {"流水号", cue_reference}, {"编号", cue_reference},
    {"序列号", cue_reference},
    // Deliveries: the address has a recipient.
    {"deliver", cue_delivery}, {"delivered", cue_delivery}, {"delivery", cue_delivery}, {"ship", cue_delivery},
    {"shipped", cue_delivery}, {"shipping", cue_delivery}, {"send", cue_delivery}, {"sent", cue_delivery},
    {"mail", cue_delivery}, {"parcel", cue_delivery}, {"package", cue_delivery}, {"courier", cue_delivery},
    {"寄", cue_delivery}, {"送到", cue_delivery}, {"快递", cue_delivery}, {"邮寄", cue_delivery},
    {"收件", cue_delivery}, {"配送", cue_delivery}, {"外卖", cue_delivery},
    // Cards, banks and money movements.
    {"card", cue_bank}, {"cards", cue_bank}, {"bank", cue_bank}, {"account", cue_bank | cue_account},
    {"acct", cue_bank}, {"visa", cue_bank}, {"mastercard", cue_bank}, {"amex", cue_bank}, {"debit", cue_bank},
    {"credit", cue_bank}, {"charged", cue_bank}, {"charge", cue_bank}, {"payment", cue_bank},
    {"purchase", cue_bank}, {"transaction", cue_bank}, {"deposit", cue_bank}, {"withdrawal", cue_bank},
    {"transfer", cue_bank}, {"spent", cue_bank}, {"$", cue_bank}, {"¥", cue_bank}, {"€", cue_bank},
    {"£", cue_bank}, {"rmb", cue_bank}, {"usd", cue_bank}, {"cny", cue_bank},
    {"卡", cue_bank}, {"银行", cue_bank}, {"账户", cue_bank}, {"帐户", cue_bank}, {"储蓄", cue_bank},
    {"支付", cue_bank}, {"入账", cue_bank | cue_balance}, {"转账", cue_bank | cue_balance},
    {"扣款", cue_bank | cue_balance}, {"交易", cue_bank}, {"元", cue_bank}, {"人民币", cue_bank},
    {"支出", cue_bank | cue_balance}, {"存入", cue_bank | cue_balance}, {"取款", cue_bank},
    {"消费", cue_bank | cue_balance}, {"余额", cue_bank | cue_balance}, {"还款", cue_bank | cue_balance},
    // Salaries and balances.
    {"salary", cue_salary}, {"salaries", cue_salary}, {"wage", cue_salary}, {"wages", cue_salary},
    {"paycheck", cue_salary}, {"pay", cue_salary}, {"paid", cue_salary}, {"earn", cue_salary},
    {"earns", cue_salary}, {"earned", cue_salary}, {"earning", cue_salary}, {"income", cue_salary},
    {"bonus", cue_salary}, {"take-home", cue_salary}, {"compensation", cue_salary}, {"make", cue_salary},
    {"makes", cue_salary}, {"making", cue_salary},
    {"月薪", cue_salary}, {"年薪", cue_salary}, {"工资", cue_salary | cue_bank}, {"薪水", cue_salary},
    {"薪资", cue_salary}, {"薪酬", cue_salary}, {"底薪", cue_salary}, {"税前", cue_salary},
    {"税后", cue_salary}, {"到手", cue_salary}, {"收入", cue_salary}, {"年终奖", cue_salary},
    {"奖金", cue_salary}, {"时薪", cue_salary}, {"日薪", cue_salary}, {"提成", cue_salary},
    {"balance", cue_balance}, {"savings", cue_balance}, {"debt", cue_balance}, {"debts", cue_balance},
    {"owe", cue_balance}, {"owes", cue_balance}, {"loan", cue_balance}, {"loans", cue_balance},
    {"mortgage", cue_balance}, {"rent", cue_balance}, {"net worth", cue_balance}, {"overdraft", cue_balance},
    {"bill", cue_balance}, {"存款", cue_balance}, {"欠款", cue_balance}, {"欠", cue_balance},
    {"负债", cue_balance}, {"贷款", cue_balance}, {"房贷", cue_balance}, {"车贷", cue_balance},
    {"月供", cue_balance}, {"账单", cue_balance}, {"花呗", cue_balance}, {"借呗", cue_balance},
    {"透支", cue_balance}, {"积蓄", cue_balance}, {"房租", cue_balance}, {"借了", cue_balance},
    // Amounts about everyone, not someone.
    {"average", cue_statistic}, {"avg", cue_statistic}, {"median", cue_statistic}, {"minimum", cue_statistic},
    {"maximum", cue_statistic}, {"typical", cue_statistic}, {"national", cue_statistic}, {"mean", cue_statistic},
    {"entry-level", cue_statistic}, {"平均", cue_statistic}, {"人均", cue_statistic}, {"最低", cue_statistic},
    {"最高", cue_statistic}, {"标准", cue_statistic}, {"中位数", cue_statistic}, {"行业", cue_statistic},
    {"全国", cue_statistic}, {"一般", cue_statistic}, {"普遍", cue_statistic}, {"起薪", cue_statistic},
    // One-time codes.
    {"otp", cue_otp}, {"one-time", cue_otp}, {"one time code", cue_otp}, {"one time password", cue_otp},
    {"verification code", cue_otp}, {"verify code", cue_otp}, {"security code", cue_otp | cue_card_extra},
    {"login code", cue_otp}, {"log-in code", cue_otp}, {"sign-in code", cue_otp}, {"signin code", cue_otp},
    {"auth code", cue_otp}, {"authentication code", cue_otp}, {"confirmation code", cue_otp}, {"2fa", cue_otp},
    {"access code", cue_otp}, {"pickup code", cue_otp}, {"验证码", cue_otp}, {"校验码", cue_otp},
    {"动态码", cue_otp}, {"动态密码", cue_otp}, {"短信码", cue_otp}, {"确认码", cue_otp}, {"授权码", cue_otp},
    {"登录码", cue_otp}, {"取件码", cue_otp}, {"提货码", cue_otp}, {"取货码", cue_otp}, {"取餐码", cue_otp},
    {"开门码", cue_otp}, {"code", cue_code_word},
    {"error", cue_code_other}, {"status", cue_code_other}, {"zip", cue_code_other}, {"postal", cue_code_other},
    {"post", cue_code_other}, {"area", cue_code_other}, {"country", cue_code_other}, {"exit", cue_code_other},
    {"return", cue_code_other}, {"http", cue_code_other}, {"source", cue_code_other}, {"bar", cue_code_other},
    {"qr", cue_code_other}, {"promo", cue_code_other}, {"coupon", cue_code_other}, {"discount", cue_code_other},
    {"referral", cue_code_other}, {"invite", cue_code_other}, {"product", cue_code_other}, {"tax", cue_code_other},
    {"dress", cue_code_other}, {"sort", cue_code_other}, {"swift", cue_code_other}, {"airport", cue_code_other},
    {"color", cue_code_other}, {"course", cue_code_other}, {"dialing", cue_code_other}, {"邮编", cue_code_other},
    {"区号", cue_code_other}, {"邀请码", cue_code_other}, {"优惠码", cue_code_other},
    // Identity documents.
    {"passport", cue_passport}, {"passports", cue_passport}, {"护照", cue_passport}, {"護照", cue_passport},
    {"通行证", cue_passport}, {"通行證", cue_passport}, {"台胞证", cue_passport}, {"回乡证", cue_passport},
    {"travel document", cue_passport}, {"reisepass", cue_passport}, {"passeport", cue_passport},
    {"pasaporte", cue_passport}, {"passaporto", cue_passport}, {"paspoort", cue_passport},
    {"ssn", cue_ssn}, {"ss#", cue_ssn}, {"social security", cue_ssn}, {"social-security", cue_ssn},
    {"社会安全号", cue_ssn}, {"社安号", cue_ssn}, {"社会安全码", cue_ssn}, {"itin", cue_ssn},
    {"hkid", cue_id_card}, {"hk id", cue_id_card}, {"id card", cue_id_card}, {"identity card", cue_id_card},
    {"id number", cue_id_card}, {"id no", cue_id_card}, {"national id", cue_id_card}, {"身份证", cue_id_card},
    {"身份證", cue_id_card}, {"身分證", cue_id_card}, {"身分证", cue_id_card}, {"证件号", cue_id_card},
    {"證件號", cue_id_card}, {"澳门", cue_macau}, {"澳門", cue_macau}, {"macau", cue_macau}, {"macao", cue_macau},
    {"bir", cue_macau},
    // Vehicles.
    {"license plate", cue_plate}, {"licence plate", cue_plate}, {"plate", cue_plate}, {"plates", cue_plate},
    {"number plate", cue_plate}, {"registration", cue_plate}, {"reg", cue_plate}, {"rego", cue_plate},
    {"tag number", cue_plate}, {"kennzeichen", cue_plate}, {"nummernschild", cue_plate},
    {"immatriculation", cue_plate}, {"plaque", cue_plate}, {"targa", cue_plate}, {"matrícula", cue_plate},
    {"matricula", cue_plate}, {"kenteken", cue_plate}, {"车牌", cue_plate}, {"牌照", cue_plate},
    {"車牌", cue_plate}, {"限行", cue_traffic}, {"单双号", cue_traffic}, {"机动车", cue_traffic},
    // Social accounts.
    {"微信", cue_wechat}, {"wechat", cue_wechat}, {"weixin", cue_wechat}, {"vx", cue_wechat}, {"v信", cue_wechat},
    {"wx", cue_wechat}, {"qq", cue_qq}, {"扣扣", cue_qq}, {"企鹅号", cue_qq},
    {"telegram", cue_social}, {"tg", cue_social}, {"instagram", cue_social}, {"insta", cue_social},
    {"ig", cue_social}, {"ins", cue_social}, {"twitter", cue_social}, {"tiktok", cue_social},
    {"snapchat", cue_social}, {"snap", cue_social}, {"discord", cue_social}, {"threads", cue_social},
    {"facebook", cue_social}, {"fb", cue_social}, {"linkedin", cue_social}, {"reddit", cue_social},
    {"mastodon", cue_social}, {"bluesky", cue_social}, {"line id", cue_social}, {"kakao", cue_social},
    {"handle", cue_social}, {"dm me", cue_social}, {"find me", cue_social}, {"follow me", cue_social},
    {"add me", cue_social}, {"on x", cue_social}, {"x handle", cue_social}, {"x account", cue_social},
    {"follow", cue_public_account}, {"following", cue_public_account}, {"official", cue_public_account},
    {"verified", cue_public_account}, {"关注", cue_public_account}, {"官方", cue_public_account},
    {"官博", cue_public_account}, {"官微", cue_public_account},
    {"电报", cue_social}, {"推特", cue_social}, {"抖音", cue_social}, {"小红书", cue_social},
    {"微博", cue_social}, {"快手", cue_social}, {"脸书", cue_social},
    // Logins.
    {"账号", cue_account}, {"帐号", cue_account}, {"账户名", cue_account}, {"用户名", cue_account},
    {"登录名", cue_account}, {"登陆名", cue_account}, {"登录账号", cue_account}, {"username", cue_account},
    {"user name", cue_account}, {"user id", cue_account}, {"userid", cue_account}, {"login", cue_account},
    {"user", cue_account}, {"帐户名", cue_account},
    {"password", cue_password}, {"passwd", cue_password}, {"pwd", cue_password}, {"pass", cue_password},
    {"passcode", cue_password}, {"pw", cue_password}, {"pin", cue_password}, {"密码", cue_password},
    {"口令", cue_password},
    // The tail of a card.
    {"尾号", cue_tail}, {"末四位", cue_tail}, {"后四位", cue_tail}, {"末4位", cue_tail}, {"后4位", cue_tail},
    {"尾数", cue_tail}, {"ending", cue_tail}, {"ending in", cue_tail}, {"ending with", cue_tail}, {"ends in", cue_tail},
    {"ends with", cue_tail}, {"last four", cue_tail}, {"last 4", cue_tail}, {"last four digits", cue_tail},
    {"last 4 digits", cue_tail}, {"last digits", cue_tail},
    // What travels with a card number.
    {"exp", cue_card_extra}, {"expiry", cue_card_extra}, {"expires", cue_card_extra},
    {"expiration", cue_card_extra}, {"exp date", cue_card_extra}, {"valid thru", cue_card_extra},
    {"valid through", cue_card_extra}, {"valid until", cue_card_extra}, {"good thru", cue_card_extra},
    {"cvv", cue_card_extra}, {"cvv2", cue_card_extra}, {"cvc", cue_card_extra}, {"cvc2", cue_card_extra},
    {"cid", cue_card_extra}, {"cvn", cue_card_extra}, {"cvn2", cue_card_extra}, {"有效期", cue_card_extra},
    {"有效期至", cue_card_extra}, {"到期", cue_card_extra}, {"安全码", cue_card_extra},
    {"cvv码", cue_card_extra},
    // Coordinates.
    {"lat", cue_coordinate}, {"latitude", cue_coordinate}, {"lon", cue_coordinate}, {"lng", cue_coordinate},
    {"long", cue_coordinate}, {"longitude", cue_coordinate}, {"纬度", cue_coordinate}, {"经度", cue_coordinate},
};

struct CueTable {
  std::array<std::vector<const CueWord*>, 256> by_first_byte;
  CueTable() {
    for (const CueWord& word : kCueWords) by_first_byte[static_cast<unsigned char>(lower(word.word[0]))].push_back(&word);
    for (auto& bucket : by_first_byte)  // longest first, so "last four digits" is seen before "last four"
      std::stable_sort(bucket.begin(), bucket.end(), [](auto a, auto b) { return a->word.size() > b->word.size(); });
  }
};

const CueTable& cue_table() {
  static const CueTable table;
  return table;
}

void find_cues(std::string_view text, std::vector<CueHit>& hits) {
  const CueTable& table = cue_table();
  for (size_t pos = 0; pos < text.size(); ++pos) {
    unsigned char byte = static_cast<unsigned char>(text[pos]);
    if ((byte & 0xC0) == 0x80) continue;  // inside a character
    for (const CueWord* word : table.by_first_byte[static_cast<unsigned char>(lower(text[pos]))]) {
      if (!matches_at(text, pos, word->word)) continue;
      if (is_alpha(word->word.front()) && pos > 0 && is_alpha(text[pos - 1])) continue;
      if (is_alpha(word->word.back()) && alpha_at(text, pos + word->word.size())) continue;
      hits.push_back({pos, pos + word->word.size(), word->cues});
    }
  }
}

bool is_ipv4(std::string_view text, size_t begin, size_t end) {
  int parts = 0;
  for (size_t pos = begin; pos < end;) {
    size_t digits = count_digits(text, pos);
    if (digits == 0 || digits > 3 || std::stoi(std::string(text.substr(pos, digits))) > 255) return false;
    ++parts;
    pos += digits + 1;
  }
  return parts == 4;
}

void find_digit_runs(std::string_view text, std::vector<DigitRun>& runs) {
  DigitRun run;
  const auto finish = [&] {
    if (!run.groups.empty()) runs.push_back(std::move(run));
    run = DigitRun{};
  };
  for (size_t pos = 0; pos < text.size();) {
    if (!is_digit(text[pos])) {
      ++pos;
      continue;
    }
    // One token: digits, with dots inside ("138.1234.5678").
    size_t token_begin = pos, dots = 0;
    pos += count_digits(text, pos);
    while (char_at(text, pos, '.') && digit_at(text, pos + 1)) {
      ++dots;
      pos += 1 + count_digits(text, pos + 1);
    }
    size_t token_end = pos;
    bool x_suffix = (char_at(text, pos, 'X') || char_at(text, pos, 'x')) && !alnum_at(text, pos + 1) &&
                    !char_at(text, pos + 1, '_');
    bool valid = number_may_start(text, token_begin) && (x_suffix || number_may_end(text, token_end)) && dots != 1 &&
                 !(dots == 3 && is_ipv4(text, token_begin, token_end));
    if (!valid) {
      finish();
      pos = token_end + (x_suffix ? 1 : 0);
      continue;
    }
    // Joined to the run by 1-3 spaces and at most one dash?
    bool joined = false, spaces_only = true;
    if (!run.groups.empty() && token_begin - run.end <= 3) {
      size_t dashes = 0;
      joined = true;
      for (size_t i = run.end; i < token_begin; ++i) {
        if (text[i] == '-') {
          ++dashes;
          spaces_only = false;
        } else if (text[i] != ' ') {
          joined = false;
        }
      }
      joined = joined && dashes <= 1;
    }
    if (!joined) {
      finish();
      run.begin = token_begin;
    }
    bool first_group = true;
    for (size_t group = token_begin; group < token_end;) {
      size_t digits = count_digits(text, group);
      run.groups.push_back({group, group + digits, first_group && joined && spaces_only});
      first_group = false;
      group += digits + 1;
    }
    run.end = token_end;
    if (x_suffix) {
      run.x_suffix = true;
      run.end = token_end + 1;
      finish();
      pos = token_end + 1;
    }
  }
  finish();
}

}  // namespace

ScanText::ScanText(std::string_view text) : text(text) {
  find_cues(text, hits);
  find_digit_runs(text, runs);
}

bool ScanText::sentence_break(size_t begin, size_t end) const {
  end = std::min(end, text.size());
  for (size_t pos = begin; pos < end; ++pos) {
    char c = text[pos];
    if (c == '\n' || c == '!' || c == '?' || c == ';') return true;
    if (text.substr(pos, 3) == "\xE3\x80\x82") return true;  // 。
    if (c == '.' && (pos + 1 >= text.size() || text[pos + 1] == ' ')) {
      size_t letters = 0;
      while (letters < pos && is_alpha(text[pos - 1 - letters])) ++letters;
      if (letters >= 4 || letters == 0) return true;  // "Smith." ends a sentence, "No." does not
    }
  }
  return false;
}

const CueHit* ScanText::cue_before(size_t pos, size_t window, uint32_t cues) const {
  auto it = std::lower_bound(hits.begin(), hits.end(), pos, [](const CueHit& hit, size_t p) { return hit.begin < p; });
  const CueHit* best = nullptr;
  while (it != hits.begin()) {
    --it;
    if (it->begin + 64 + window < pos) break;  // words are shorter than 64 bytes
    if (!(it->cues & cues) || it->end > pos || it->end + window < pos) continue;
    if (best == nullptr || it->end > best->end) best = &*it;
  }
  if (best != nullptr && sentence_break(best->end, pos)) return nullptr;
  return best;
}

const CueHit* ScanText::cue_after(size_t pos, size_t window, uint32_t cues) const {
  auto it = std::lower_bound(hits.begin(), hits.end(), pos, [](const CueHit& hit, size_t p) { return hit.begin < p; });
  for (; it != hits.end() && it->begin <= pos + window; ++it) {
    if (!(it->cues & cues)) continue;
    return sentence_break(pos, it->begin) ? nullptr : &*it;
  }
  return nullptr;
}

const CueHit* ScanText::cue_at(size_t pos, uint32_t cues) const {
  auto it = std::lower_bound(hits.begin(), hits.end(), pos, [](const CueHit& hit, size_t p) { return hit.begin < p; });
  const CueHit* best = nullptr;
  for (; it != hits.end() && it->begin == pos; ++it)
    if ((it->cues & cues) && (best == nullptr || it->end > best->end)) best = &*it;
  return best;
}

std::string run_digits(std::string_view text, const DigitRun& run, size_t first, size_t last) {
  std::string digits;
  for (size_t g = first; g <= last; ++g) digits.append(text.substr(run.groups[g].begin, run.groups[g].end - run.groups[g].begin));
  if (last + 1 == run.groups.size() && run.x_suffix) digits.push_back('X');
  return digits;
}

size_t skip_connector(std::string_view text, size_t pos, bool& found) {
  found = false;
  pos = skip_spaces(text, pos);
  constexpr std::string_view kConnectors[] = {"is:", "is", ":", "=", "是", "为", "為"};
  for (std::string_view connector : kConnectors) {
    if (!matches_at(text, pos, connector)) continue;
    if (is_alpha(connector[0]) && alnum_at(text, pos + connector.size())) continue;
    found = true;
    pos += connector.size();
    if (connector != ":" && matches_at(text, pos, ":")) ++pos;  // "是："
    break;
  }
  return skip_spaces(text, pos);
}

}  // namespace tandem::router::scan
