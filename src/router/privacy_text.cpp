// Scanners for sensitive text: e-mail addresses, API keys, passwords named by a
// keyword, and street addresses in English and Chinese.
#include <algorithm>
#include <string>

#include "router/privacy_scan.h"

namespace tandem::router::scan {
namespace {

constexpr size_t npos = std::string_view::npos;

template <class Predicate>
size_t span_while(std::string_view text, size_t pos, Predicate predicate) {
  while (pos < text.size() && predicate(text[pos])) ++pos;
  return pos;
}

bool is_email_local_char(char c) { return is_alnum(c) || std::string_view("._%+-").find(c) != npos; }
bool is_domain_char(char c) { return is_alnum(c) || c == '-' || c == '.'; }

}  // namespace

void scan_emails(std::string_view text, Candidates& out) {
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
    "api key", "api_key", "apikey", "api-key", "access key", "secret key", "secret", "token",
    "\xE5\xAF\x86\xE9\x92\xA5" /* 密钥 */, "\xE7\xA7\x98\xE9\x92\xA5" /* 秘钥 */, "\xE4\xBB\xA4\xE7\x89\x8C" /* 令牌 */};

// Connectors between a keyword and its value: "is", ":", "=", "是", "为".
size_t skip_connector(std::string_view text, size_t pos, bool& found) {
  found = false;
  pos = span_while(text, pos, [](char c) { return c == ' '; });
  constexpr std::string_view kConnectors[] = {"is:", "is", ":", "=", "\xE6\x98\xAF" /* 是 */, "\xE4\xB8\xBA" /* 为 */};
  for (std::string_view connector : kConnectors) {
    if (!matches_at(text, pos, connector)) continue;
    if (is_alpha(connector[0]) && alnum_at(text, pos + connector.size())) continue;
    found = true;
    pos += connector.size();
    if (connector != ":" && matches_at(text, pos, ":")) ++pos;  // "是：" 
    break;
  }
  return span_while(text, pos, [](char c) { return c == ' '; });
}

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

void scan_api_keys(std::string_view text, Candidates& out) {
  for (size_t pos = 0; pos < text.size(); ++pos) {
    bool starts_word = pos == 0 || !is_key_char(text[pos - 1]);
    for (const KeyPrefix& key : kKeyPrefixes) {
      if (!starts_word || text.substr(pos, key.prefix.size()) != key.prefix) continue;
      size_t body = pos + key.prefix.size();
      size_t end = span_while(text, body, key.body_char);
      if (end - body >= key.min_body && end - body <= key.max_body) out.push_back({Kind::api_key, pos, end});
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
      if (parts == 3) out.push_back({Kind::api_key, pos, end});
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
    if (looks_like_secret(text.substr(value, end - value))) out.push_back({Kind::api_key, value, end});
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

}  // namespace

// The secret after a password keyword and a connector: "password is hunter2",
// "PIN: 4821", "WiFi密码是abc12345", "支付密码为 888888".
void scan_passwords(std::string_view text, Candidates& out) {
  for (size_t pos = 0; pos < text.size(); ++pos) {
    for (std::string_view keyword : kPasswordKeywords) {
      size_t after = keyword_end(text, pos, keyword);
      if (after == npos || (is_alpha(keyword[0]) && is_alpha(text.size() > after ? text[after] : ' ')))
        continue;
      bool connector = false;
      size_t value = skip_connector(text, skip_keyword_qualifiers(text, after), connector);
      if (!connector) continue;
      value = skip_opening_quote(text, value);
      size_t end = span_while(text, value, is_password_char);
      while (end > value && std::string_view(".,;!?)]}\"'`").find(text[end - 1]) != npos) --end;
      std::string_view secret = text.substr(value, end - value);
      if (secret.size() >= 4 && !is_ordinary_word(secret)) out.push_back({Kind::password, value, end});
      break;
    }
  }
}

}  // namespace tandem::router::scan
