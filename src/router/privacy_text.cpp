// Scanners for sensitive text: e-mail addresses, API keys (documentation examples and
// placeholders are public), passwords named by a keyword, and credentials written as a
// pair ("账号 zhangsan01 密码 abc12345", "anna.kowal / Sunflower88!", "https://admin:pw@host").
#include <algorithm>
#include <string>

#include "router/privacy_scan.h"

namespace tandem::router::scan {
namespace {

constexpr size_t npos = std::string_view::npos;

bool is_email_local_char(char c) { return is_alnum(c) || std::string_view("._%+-").find(c) != npos; }
bool is_domain_char(char c) { return is_alnum(c) || c == '-' || c == '.'; }

}  // namespace

void scan_emails(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (size_t at = 0; at < text.size(); ++at) {
    if (text[at] != '@') continue;
    size_t begin = at;
    while (begin > 0 && is_email_local_char(text[begin - 1])) --begin;
    while (begin < at && text[begin] == '.') ++begin;
    size_t end = span_while(text, at + 1, is_domain_char);
    while (end > at + 1 && (text[end - 1] == '.' || text[end - 1] == '-')) --end;
    std::string_view domain = text.substr(at + 1, end - at - 1);
    size_t last_dot = domain.rfind('.');
    if (begin == at || last_dot == npos || last_dot == 0 || domain.find("..") != npos) continue;
    std::string_view top_level = domain.substr(last_dot + 1);
    if (top_level.size() < 2 || !std::all_of(top_level.begin(), top_level.end(), is_alpha)) continue;
    out.push_back({Kind::email, begin, end});
  }
}

namespace {

bool is_key_char(char c) { return is_alnum(c) || c == '_' || c == '-'; }
bool is_upper_or_digit(char c) { return is_digit(c) || (c >= 'A' && c <= 'Z'); }
bool is_alnum_or_underscore(char c) { return is_alnum(c) || c == '_'; }
bool is_token_char(char c) { return is_alnum(c) || std::string_view("_-+/=.~").find(c) != npos; }

// Keys that announce themselves by a vendor prefix.
struct KeyPrefix {
  std::string_view prefix;
  bool (*body_char)(char);
  size_t min_body, max_body;
};
constexpr KeyPrefix kKeyPrefixes[] = {
    {"sk-", is_key_char, 20, 200},            // OpenAI / Anthropic style, incl. sk-proj-
    {"ghp_", is_alnum, 30, 255},              // GitHub tokens
    {"gho_", is_alnum, 30, 255},
    {"ghu_", is_alnum, 30, 255},
    {"ghs_", is_alnum, 30, 255},
    {"ghr_", is_alnum, 30, 255},
    {"github_pat_", is_alnum_or_underscore, 30, 255},
    {"AKIA", is_upper_or_digit, 16, 16},      // AWS access key id
    {"xoxb-", is_key_char, 10, 255},          // Slack
    {"xoxa-", is_key_char, 10, 255},
    {"xoxp-", is_key_char, 10, 255},
    {"xoxr-", is_key_char, 10, 255},
    {"xoxs-", is_key_char, 10, 255},
    {"AIza", is_key_char, 30, 60},            // Google API key
};

// A secret named only by context must look random: long, with letters and digits.
bool looks_like_secret(std::string_view token) {
  return token.size() >= 16 && std::any_of(token.begin(), token.end(), is_digit) &&
         std::any_of(token.begin(), token.end(), is_alpha);
}

// Words after which a random-looking token is a secret.
constexpr std::string_view kSecretKeywords[] = {
    "aws_secret_access_key", "secret_access_key", "secret access key", "secret_key", "access_key",
    "api key", "api_key", "apikey", "api-key", "access key", "secret key", "secret", "token",
    "\xE5\xAF\x86\xE9\x92\xA5" /* 密钥 */, "\xE7\xA7\x98\xE9\x92\xA5" /* 秘钥 */, "\xE4\xBB\xA4\xE7\x89\x8C" /* 令牌 */};

size_t skip_opening_quote(std::string_view text, size_t pos) {
  constexpr std::string_view kQuotes[] = {"\"", "'", "`", "\xE2\x80\x9C" /* “ */, "\xE2\x80\x98" /* ‘ */,
                                          "\xE3\x80\x8C" /* 「 */};
  for (std::string_view quote : kQuotes)
    if (text.substr(pos, quote.size()) == quote) return pos + quote.size();
  return pos;
}

size_t keyword_end(std::string_view text, size_t pos, std::string_view keyword) {
  if (!matches_at(text, pos, keyword)) return npos;
  if (is_alpha(keyword[0]) && pos > 0 && is_alpha(text[pos - 1])) return npos;
  return pos + keyword.size();
}

}  // namespace

void scan_api_keys(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  const auto add = [&](size_t begin, size_t end) {
    out.push_back({Kind::api_key, begin, end, 0.9f, public_key(text.substr(begin, end - begin))});
  };
  for (size_t pos = 0; pos < text.size(); ++pos) {
    bool starts_word = pos == 0 || !is_key_char(text[pos - 1]);
    for (const KeyPrefix& key : kKeyPrefixes) {
      if (!starts_word || text.substr(pos, key.prefix.size()) != key.prefix) continue;
      size_t body = pos + key.prefix.size();
      size_t end = span_while(text, body, key.body_char);
      if (end - body >= key.min_body && end - body <= key.max_body) add(pos, end);
    }
    // A JSON Web Token: three base64url parts, the first an encoded "{".
    if (starts_word && text.substr(pos, 3) == "eyJ") {
      size_t end = pos;
      int parts = 0;
      while (parts < 3) {
        size_t part_end = span_while(text, end, is_key_char);
        if (part_end - end < 8) break;
        end = part_end;
        if (++parts < 3) {
          if (end >= text.size() || text[end] != '.') break;
          ++end;
        }
      }
      if (parts == 3) add(pos, end);
    }
    size_t value = keyword_end(text, pos, "bearer ");
    bool connector = true;
    for (std::string_view keyword : kSecretKeywords) {
      if (value != npos) break;
      value = keyword_end(text, pos, keyword);
      if (value != npos && is_alpha(text[value - 1]) && alnum_at(text, value)) value = npos;  // "tokens"
      if (value != npos) value = skip_connector(text, value, connector);
    }
    if (value == npos) continue;
    value = skip_opening_quote(text, span_while(text, value, [](char c) { return c == ' '; }));
    size_t end = span_while(text, value, is_token_char);
    while (end > value && (text[end - 1] == '.' || text[end - 1] == '-')) --end;
    if (looks_like_secret(text.substr(value, end - value))) add(value, end);
  }
}

namespace {

constexpr std::string_view kPasswordKeywords[] = {
    "password", "passwd", "passcode", "pwd", "pin", "\xE5\xAF\x86\xE7\xA0\x81" /* 密码 */,
    "\xE5\x8F\xA3\xE4\xBB\xA4" /* 口令 */};

// After the keyword: "PIN code", "PIN码", "password for my bank account is ...".
size_t skip_keyword_qualifiers(std::string_view text, size_t pos) {
  constexpr std::string_view kSuffixes[] = {" code", " number", "\xE7\xA0\x81" /* 码 */};
  for (std::string_view suffix : kSuffixes)
    if (matches_at(text, pos, suffix) && !alnum_at(text, pos + suffix.size())) return pos + suffix.size();
  for (std::string_view preposition : {" for ", " to ", " of ", " on "}) {
    if (!matches_at(text, pos, preposition)) continue;
    size_t cursor = pos + preposition.size();
    for (int words = 0; words < 4; ++words) {
      size_t word_end = span_while(text, cursor, [](char c) { return is_alnum(c) || c == '\'' || c == '-'; });
      if (word_end == cursor) break;
      bool connector = false;
      skip_connector(text, word_end, connector);
      if (connector) return word_end;
      if (word_end >= text.size() || text[word_end] != ' ') break;
      cursor = word_end + 1;
    }
  }
  return pos;
}

// Words that follow "password is" without being one.
bool is_ordinary_word(std::string_view token) {
  constexpr std::string_view kWords[] = {
      "wrong", "incorrect", "correct", "invalid", "expired", "required", "weak", "strong", "too",
      "not", "the", "a", "an", "my", "your", "empty", "blank", "missing", "forgotten", "lost", "changed",
      "reset", "set", "same", "different", "what", "how", "case", "please", "needed", "protected", "saved",
      "stored", "secure", "insecure", "long", "short", "easy", "hard", "simple", "fine", "ok", "okay",
      "valid", "visible", "hidden", "encrypted", "there", "here", "it", "this", "that", "now", "still",
      "being", "been", "locked", "disabled", "enabled", "correctly", "also", "only", "just", "click", "tap",
      "enter", "type", "use", "see", "follow", "contact", "call", "ask", "check", "open", "press", "select",
      "choose", "change", "update", "forgot", "below", "above", "optional", "unknown", "none", "null",
      "mandatory", "manager", "managers", "recovery", "generator", "length", "policy", "hint"};
  std::string lowered;
  for (char c : token) lowered.push_back(lower(c));
  return std::find(std::begin(kWords), std::end(kWords), lowered) != std::end(kWords);
}

bool is_password_char(char c) { return c > ' ' && c < 0x7F; }

// Where a secret token ends: printable ASCII, without the sentence's closing punctuation
// (a final '!' or '?' stays on a token that has letters and digits: "Sunflower88!").
size_t secret_end(std::string_view text, size_t value) {
  // Secrets are short; the cap keeps "pwd=pwd=pwd=…" linear.
  size_t end = span_while(text.substr(0, std::min(text.size(), value + 128)), value, is_password_char);
  bool letters = false, digits = false;
  for (size_t i = value; i < end; ++i) {
    letters = letters || is_alpha(text[i]);
    digits = digits || is_digit(text[i]);
  }
  while (end > value) {
    char last = text[end - 1];
    bool closing = std::string_view(".,;)]}\"'`").find(last) != npos ||
                   ((last == '!' || last == '?') && !(letters && digits));
    if (!closing) break;
    --end;
  }
  return end;
}

// Character classes (lower, upper, digit, symbol) in a token.
int character_classes(std::string_view token) {
  bool lower_case = false, upper_case = false, digit = false, symbol = false;
  for (char c : token) {
    lower_case = lower_case || (c >= 'a' && c <= 'z');
    upper_case = upper_case || is_upper(c);
    digit = digit || is_digit(c);
    symbol = symbol || (!is_alnum(c) && c > ' ' && c < 0x7F);
  }
  return lower_case + upper_case + digit + symbol;
}

// A token that can only be a password: 6+ characters with three kinds of characters.
bool looks_like_password(std::string_view token) { return token.size() >= 6 && token.size() <= 64 && character_classes(token) >= 3; }

}  // namespace

// The secret after a password keyword and a connector: "password is hunter2",
// "PIN: 4821", "WiFi密码是abc12345", "支付密码为 888888"; without a connector only what
// must be a password ("密码abc12345", "password Sunflower88!").
void scan_passwords(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    for (std::string_view keyword : kPasswordKeywords) {
      size_t after = keyword_end(text, pos, keyword);
      if (after == npos || (is_alpha(keyword[0]) && is_alpha(text.size() > after ? text[after] : ' ')))
        continue;
      bool connector = false;
      size_t value = skip_connector(text, skip_keyword_qualifiers(text, after), connector);
      value = skip_opening_quote(text, value);
      size_t end = secret_end(text, value);
      std::string_view secret = text.substr(value, end - value);
      bool chinese_keyword = !is_alpha(keyword[0]);
      bool digits_only = !secret.empty() && std::all_of(secret.begin(), secret.end(), is_digit);
      bool bare_ok = looks_like_password(secret) ||
                     (chinese_keyword && secret.size() >= 6 && std::any_of(secret.begin(), secret.end(), is_digit)) ||
                     (chinese_keyword && secret.size() >= 4 && digits_only);  // 门禁密码 4821
      if ((connector && secret.size() >= 4 && !is_ordinary_word(secret)) || (!connector && bare_ok))
        out.push_back({Kind::password, value, end, connector ? 0.9f : 0.8f});
      break;
    }
  }
}

namespace {

bool is_login_char(char c) { return is_alnum(c) || c == '.' || c == '_' || c == '@' || c == '+' || c == '-'; }

// A login name: 3-64 characters of letters, digits and . _ @ + -, one of them not a letter
// ("anna.kowal", "zhang_wei", "wl1990", "anna@example.com").
bool looks_like_login(std::string_view token) {
  if (token.size() < 3 || token.size() > 64 || !is_alnum(token[0])) return false;
  return std::any_of(token.begin(), token.end(), [](char c) { return !is_alpha(c); });
}

// "example.com", "mail.qq.com": a host name, whose '/' starts a path.
bool is_domain(std::string_view token) {
  size_t dot = token.rfind('.');
  if (dot == npos || token.find('@') != npos) return false;
  std::string tld;
  for (char c : token.substr(dot + 1)) tld.push_back(lower(c));
  constexpr std::string_view kTopLevel[] = {"com", "net", "org", "io", "cn", "edu", "gov", "co", "uk", "de", "fr",
                                            "jp", "info", "app", "dev", "me", "ai", "us", "hk", "tw", "ly", "gl"};
  return std::find(std::begin(kTopLevel), std::end(kTopLevel), tld) != std::end(kTopLevel);
}

// "账号：zhangsan01，密码：abc12345", "username anna.k password Sunflower88!".
void scan_keyword_pairs(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (const CueHit& hit : scan.hits) {
    if (!(hit.cues & cue_account)) continue;
    bool connector = false;
    size_t user = skip_connector(text, hit.end, connector);
    size_t user_end = span_while(text, user, is_login_char);
    while (user_end > user && (text[user_end - 1] == '.' || text[user_end - 1] == '-')) --user_end;
    std::string_view login = text.substr(user, user_end - user);
    if (login.size() < 3 || is_ordinary_word(login) || (user > 0 && is_alnum(text[user - 1]) && user == hit.end && is_alpha(text[user - 1])))
      continue;
    // The password word follows within a few separators.
    size_t cursor = span_while(text, user_end, [](char c) { return c == ' ' || c == ',' || c == ';' || c == '/' || c == '|'; });
    if (text.substr(cursor, 3) == "，" || text.substr(cursor, 3) == "、") cursor = skip_spaces(text, cursor + 3);
    if (cursor - user_end > 6) continue;
    const CueHit* word = scan.cue_at(cursor, cue_password);
    if (word == nullptr) continue;
    bool password_connector = false;
    size_t value = skip_opening_quote(text, skip_connector(text, word->end, password_connector));
    size_t end = secret_end(text, value);
    std::string_view secret = text.substr(value, end - value);
    if (secret.size() < 4 || is_ordinary_word(secret)) continue;
    out.push_back({Kind::credentials, user, end, 0.95f});
  }
}

// "anna.kowal / Sunflower88!", "wl1990:Qq123456!", and "scheme://user:password@host".
void scan_bare_pairs(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (size_t pos = 1; pos < text.size(); ++pos) {
    if (text[pos] != '/' && text[pos] != ':') continue;
    size_t left_end = pos - (text[pos - 1] == ' ' ? 1 : 0);
    size_t right = pos + 1 + (char_at(text, pos + 1, ' ') ? 1 : 0);
    size_t left = left_end;
    while (left > 0 && left_end - left <= 64 && is_login_char(text[left - 1])) --left;
    if (left == left_end || right >= text.size()) continue;
    std::string_view login = text.substr(left, left_end - left);
    size_t end = secret_end(text, right);
    std::string_view secret = text.substr(right, end - right);
    bool in_url = left >= 3 && text.substr(left - 3, 3) == "://";
    if (in_url) {
      // The userinfo of a URL: the password runs to the '@'.
      size_t at = text.find('@', right);
      if (text[pos] != ':' || at == npos || at == right || at - right > 64) continue;
      secret = text.substr(right, at - right);
      if (secret.find_first_of(" /") != npos) continue;
      out.push_back({Kind::credentials, left, at, 0.9f});
      continue;
    }
    if (left > 0 && (text[left - 1] == '/' || text[left - 1] == ':')) continue;  // a path or a URL
    if (text[pos] == '/' && is_domain(login)) continue;                         // "example.com/Abc-123x"
    if (secret.find('/') != npos || secret.find("://") != npos) continue;
    bool context = scan.cue_near(left, end, 40, cue_account | cue_password);
    if (!looks_like_password(secret) || !(looks_like_login(login) || context)) continue;
    if (text[pos] == ':' && !(left_end == pos && right == pos + 1) && !context) continue;  // "Note: Something1!"
    out.push_back({Kind::credentials, left, end, 0.85f});
    pos = end;
  }
}

}  // namespace

void scan_credentials(const ScanText& scan, Candidates& out) {
  scan_keyword_pairs(scan, out);
  scan_bare_pairs(scan, out);
}

}  // namespace tandem::router::scan
