// Scanners for numbers that identify a person: PRC resident IDs, phone numbers (CN,
// North American, UK and EU, international) and bank cards with what travels with them
// (expiry, CVV). They read digit runs, so any grouping works ("1101 0519 9003 0712 39",
// "138.1234.5678", "一三八…" after normalization); checksums (ISO 7064 MOD 11-2, Luhn),
// prefix and length rules keep order totals, years, prices and versions out.
#include <string>

#include "router/privacy_scan.h"

namespace tandem::router::scan {
namespace {

bool is_leap_year(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

bool is_plausible_birth_date(int year, int month, int day) {
  constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1900 || year > 2030 || month < 1 || month > 12 || day < 1) return false;
  int days = kDaysInMonth[month - 1] + (month == 2 && is_leap_year(year) ? 1 : 0);
  return day <= days;
}

int number_at(std::string_view digits, size_t pos, size_t count) {
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) value = value * 10 + (digits[i] - '0');
  return value;
}

bool all_digits(std::string_view text) {
  for (char c : text)
    if (!is_digit(c)) return false;
  return !text.empty();
}

// Group sizes a person writes a number with: one block, or blocks of two or more
// ("138 1234 5678", "13 81 23 45 678", after a one-digit prefix: "1-800-…", "6 12 34 56 78"),
// or one digit at a time ("1 3 8 1 2 …").
bool is_human_grouping(const DigitRun& run, size_t first, size_t last) {
  size_t singles = 0;
  for (size_t g = first; g <= last; ++g) singles += run.groups[g].end - run.groups[g].begin == 1;
  bool leading_single = singles == 1 && run.groups[first].end - run.groups[first].begin == 1;
  return singles == 0 || leading_single || singles == last - first + 1;
}

size_t group_size(const DigitRun& run, size_t g) { return run.groups[g].end - run.groups[g].begin; }

}  // namespace

bool passes_luhn(std::string_view digits) {
  int sum = 0;
  bool doubled = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int digit = digits[i] - '0';
    if (doubled) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
    doubled = !doubled;
  }
  return sum % 10 == 0;
}

// 18 characters: 6-digit region (first digit 1-8), birth date YYYYMMDD, 3-digit
// sequence and a MOD 11-2 check character.
bool is_valid_cn_id(std::string_view id) {
  if (id.size() != 18 || id[0] < '1' || id[0] > '8' || !all_digits(id.substr(0, 17))) return false;
  constexpr int kWeights[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) sum += (id[i] - '0') * kWeights[i];
  constexpr std::string_view kCheckCharacters = "10X98765432";
  char check = id[17] == 'x' ? 'X' : id[17];
  if (check != kCheckCharacters[sum % 11]) return false;
  return is_plausible_birth_date(number_at(id, 6, 4), number_at(id, 10, 2), number_at(id, 12, 2));
}

// Issuer prefix and length (ISO/IEC 7812 ranges of the networks in use): Visa 4 (13, 16,
// 19), Mastercard 51-55 and 2221-2720 (16), Amex 34/37 (15), Diners 30/36/38/39 (14-19),
// JCB 35 (16-19), Discover and UnionPay 60/62/64/65 and Maestro 5x/6x (16-19).
bool is_card_issuer(std::string_view digits) {
  size_t length = digits.size();
  int two = number_at(digits, 0, 2), four = number_at(digits, 0, 4);
  switch (digits[0]) {
    case '4': return length == 13 || length == 16 || length == 19;
    case '2': return four >= 2221 && four <= 2720 && length == 16;
    case '3':
      if (two == 34 || two == 37) return length == 15;
      if (two == 30 || two == 36 || two == 38 || two == 39) return length >= 14;
      return two == 35 && length >= 16;
    case '5': return (two >= 51 && two <= 55) ? length == 16 : length >= 16;
    case '6': return length >= 16;
    default: return false;
  }
}

bool is_cn_mobile(std::string_view digits) {
  return digits.size() == 11 && all_digits(digits) && digits[0] == '1' && digits[1] >= '3' && digits[1] <= '9';
}

void scan_cn_id_numbers(const ScanText& scan, Candidates& out) {
  for (const DigitRun& run : scan.runs) {
    for_each_stretch(scan.text, run, 18, [&](size_t first, size_t last, const std::string& digits) {
      if (digits.size() == 18 && is_valid_cn_id(digits))
        out.push_back({Kind::cn_id_number, run.groups[first].begin, stretch_end(run, last), 0.95f});
    });
  }
}

namespace {

void add_phone(const ScanText& scan, Candidates& out, size_t begin, size_t end, std::string_view digits,
               bool international, float confidence) {
  out.push_back({Kind::phone, begin, end, confidence, public_phone(digits, international)});
}

// Phones in digit runs: CN mobiles (with 86 / 0086), NANP 3-3-4, numbers with a
// trunk 0 (CN landlines, UK, FR, DE, NL, IT …), 00-prefixed international ones.
// Ungrouped numbers that no prefix rule singles out need a phone word nearby.
void scan_run_phones(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (const DigitRun& run : scan.runs) {
    if (run.x_suffix) continue;
    for_each_stretch(text, run, 15, [&](size_t first, size_t last, const std::string& digits) {
      if (!is_human_grouping(run, first, last)) return;
      size_t begin = run.groups[first].begin, end = stretch_end(run, last);
      bool plus = first == 0 && begin > 0 && text[begin - 1] == '+';
      bool grouped = last > first;
      bool cue = scan.cue_near(begin, end, 24, cue_phone);
      size_t n = digits.size();
      if (plus) {
        // "+86 138…", "+44 7700 …" are the international scanner's; a bare "+86" prefix is ours.
        if (n == 13 && digits.compare(0, 2, "86") == 0 && is_cn_mobile(std::string_view(digits).substr(2)))
          add_phone(scan, out, begin - 1, end, digits, true, 0.95f);
        return;
      }
      bool nanp_11 = n == 11 && last - first == 3 && group_size(run, first) == 1 && group_size(run, first + 1) == 3 &&
                     group_size(run, first + 2) == 3;  // 1-800-275-2273, never how a CN mobile is grouped
      if (n == 11 && is_cn_mobile(digits) && !nanp_11) {
        add_phone(scan, out, begin, end, digits, false, 0.9f);
      } else if (n == 13 && digits.compare(0, 2, "86") == 0 && is_cn_mobile(std::string_view(digits).substr(2)) &&
                 (!grouped || group_size(run, first) == 2)) {
        add_phone(scan, out, begin, end, digits, true, 0.9f);
      } else if (n == 15 && digits.compare(0, 4, "0086") == 0 && is_cn_mobile(std::string_view(digits).substr(4))) {
        add_phone(scan, out, begin, end, digits.substr(2), true, 0.9f);
      } else if (first > 0 && digits[0] == '0') {
        return;  // trunk and international prefixes open a number; mid-run they are the tail of another
      } else if (n >= 11 && n <= 15 && digits.compare(0, 2, "00") == 0 && digits[2] != '0' && (grouped || cue)) {
        add_phone(scan, out, begin, end, digits.substr(2), true, 0.8f);
      } else if (digits[0] == '0' && digits[1] != '0' && n >= 10 && n <= 12) {
        // 010-62345678, 0755 2345 678, 020 7946 0958, 07700 900123, 06 12 34 56 78.
        bool uk_mobile = n == 11 && digits[1] == '7' && digits[2] >= '1';
        if (grouped || cue || uk_mobile) add_phone(scan, out, begin, end, digits, false, grouped ? 0.85f : 0.7f);
      } else if ((n == 10 && digits[0] >= '2' && digits[3] >= '2') ||
                 (n == 11 && digits[0] == '1' && digits[1] >= '2' && digits[4] >= '2')) {
        // North American numbers, and CN 400/800 service lines of the same shape.
        bool nanp_groups = n == 10 ? (last - first == 2 && group_size(run, first) == 3 && group_size(run, first + 1) == 3)
                                   : (last - first == 3 && group_size(run, first) == 1 && group_size(run, first + 1) == 3 &&
                                      group_size(run, first + 2) == 3);
        bool service = n == 10 && (digits.compare(0, 3, "400") == 0 || digits.compare(0, 3, "800") == 0) && grouped;
        if (nanp_groups || service || (cue && n == 10)) add_phone(scan, out, begin, end, digits, false, nanp_groups ? 0.85f : 0.7f);
      } else if (n == 9 && (digits[0] == '6' || digits[0] == '7') && cue && grouped) {
        add_phone(scan, out, begin, end, digits, false, 0.7f);  // ES/PT mobiles: 612 34 56 78
      } else if (n == 7 && digits[0] >= '2' && last - first == 1 && group_size(run, first) == 3 &&
                 (cue || scan.cue_before(begin, 32, cue_reach) != nullptr)) {
        add_phone(scan, out, begin, end, digits, false, 0.7f);  // a local number: call 867-5309
      }
    });
  }
}

// (021)64381234, (0755) 2345-6789, (415) 555-0132: a bracketed area code and 7-8 local digits.
void scan_bracketed_phones(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (text[pos] != '(' || !number_may_start(text, pos)) continue;
    size_t area = count_digits(text, pos + 1);
    if (area < 3 || area > 4 || !char_at(text, pos + 1 + area, ')')) continue;
    std::string digits(text.substr(pos + 1, area));
    size_t cursor = skip_spaces(text, pos + 2 + area);
    size_t end = cursor;
    while (digit_at(text, end) ||
           ((char_at(text, end, '-') || char_at(text, end, ' ') || char_at(text, end, '.')) && digit_at(text, end + 1))) {
      if (is_digit(text[end])) digits.push_back(text[end]);
      ++end;
    }
    size_t local = digits.size() - area;
    if (local < 7 || local > 8 || !number_may_end(text, end)) continue;
    bool cn = digits[0] == '0' && text[cursor] != '0';
    bool nanp = area == 3 && local == 7 && digits[0] >= '2' && digits[3] >= '2';
    if (cn || nanp) add_phone(scan, out, pos, end, digits, false, 0.85f);
  }
}

// +CC followed by 7-14 more digits in groups split by single spaces, dashes, dots or a
// parenthesized part: +44 20 7946 0958, +1 (415) 555-0132, +49-30-1234567, +33 6 12 34 56 78.
void scan_international_phones(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (text[pos] != '+' || !digit_at(text, pos + 1) || !number_may_start(text, pos)) continue;
    size_t cursor = pos + 1, end = pos + 1;
    std::string digits;
    while (cursor < text.size()) {
      size_t next = cursor;
      if (next > pos + 1) {  // a separator between groups
        if (text[next] == ' ' && char_at(text, next + 1, '(')) ++next;
        if (char_at(text, next, ' ') || char_at(text, next, '-') || char_at(text, next, '.')) ++next;
      }
      bool parenthesized = char_at(text, next, '(');
      size_t group_begin = next + (parenthesized ? 1 : 0);
      size_t group = count_digits(text, group_begin);
      if (group == 0) break;
      size_t group_end = group_begin + group;
      if (parenthesized) {
        if (!char_at(text, group_end, ')')) break;
        ++group_end;
        if (char_at(text, group_end, ' ')) {
          // "(415) 555" continues with a group; otherwise the space is not ours.
          if (!digit_at(text, group_end + 1)) break;
          ++group_end;
        }
      }
      // "(0)" is the trunk prefix written in brackets: not dialled from abroad.
      if (!(parenthesized && group == 1 && text[group_begin] == '0')) digits.append(text.substr(group_begin, group));
      end = cursor = group_end;
      if (parenthesized && digit_at(text, group_end)) {
        size_t more = count_digits(text, group_end);
        digits.append(text.substr(group_end, more));
        end = cursor = group_end + more;
      }
    }
    if (digits.size() >= 8 && digits.size() <= 17 && number_may_end(text, end))
      add_phone(scan, out, pos, end, digits, true, 0.9f);
  }
}

}  // namespace

void scan_phones(const ScanText& scan, Candidates& out) {
  scan_run_phones(scan, out);
  scan_bracketed_phones(scan, out);
  scan_international_phones(scan, out);
}

namespace {

// MM/YY, MM/YYYY, MM-YY at `pos`: a card's expiry; returns its end or npos.
size_t read_expiry(std::string_view text, size_t pos) {
  size_t month = count_digits(text, pos);
  if (month < 1 || month > 2) return std::string_view::npos;
  int value = number_at(text, pos, month);
  size_t slash = pos + month;
  if (value < 1 || value > 12 || !(char_at(text, slash, '/') || char_at(text, slash, '-'))) return std::string_view::npos;
  size_t year = count_digits(text, slash + 1);
  if (year != 2 && year != 4) return std::string_view::npos;
  size_t end = slash + 1 + year;
  return number_may_end(text, end) ? end : std::string_view::npos;
}

// After a card number: " exp 09/27", "，有效期09/27，安全码123", " CVV: 123", " 09/27 123".
size_t extend_over_card_extras(const ScanText& scan, size_t end) {
  std::string_view text = scan.text;
  bool after_extra = false;
  for (int step = 0; step < 3; ++step) {
    size_t cursor = span_while(text, end, [](char c) { return c == ' ' || c == ',' || c == ';' || c == '(' || c == '|'; });
    if (cursor - end > 4) break;
    bool cue = false;
    if (const CueHit* hit = scan.cue_at(cursor, cue_card_extra)) {
      bool connector = false;
      cursor = skip_connector(text, hit->end, connector);
      cue = true;
    }
    size_t value_end = read_expiry(text, cursor);
    if (value_end == std::string_view::npos && (cue || after_extra) && number_may_start(text, cursor)) {
      size_t digits = count_digits(text, cursor);
      if (digits >= 3 && digits <= 4 && number_may_end(text, cursor + digits)) value_end = cursor + digits;
    }
    if (value_end == std::string_view::npos) break;
    end = value_end;
    after_extra = true;
  }
  return end;
}

}  // namespace

// 13-19 digits written together or in groups of three or more (4-4-4-4, 4-6-5,
// 6222 0212 3456 7890 123); issuer prefix and length, Luhn checked, never a number that
// is already a valid ID or mobile or follows an order word. The expiry and CVV after it
// belong to the finding.
void scan_bank_cards(const ScanText& scan, Candidates& out) {
  std::string_view text = scan.text;
  for (const DigitRun& run : scan.runs) {
    for_each_stretch(text, run, 19, [&](size_t first, size_t last, const std::string& digits) {
      if (digits.size() < 13 || digits.back() == 'X' || digits[0] < '2' || digits[0] > '6') return;
      for (size_t g = first; g <= last && last > first; ++g)
        if (group_size(run, g) < 3) return;
      if (!is_card_issuer(digits) || !passes_luhn(digits) || is_valid_cn_id(digits) || is_cn_mobile(digits)) return;
      // "订单号 6222…", "tracking 4…": a reference number that happens to pass Luhn.
      size_t begin = run.groups[first].begin;
      if (scan.cue_before(begin, 16, cue_reference) != nullptr && scan.cue_before(begin, 24, cue_bank) == nullptr) return;
      size_t end = extend_over_card_extras(scan, run.groups[last].end);
      out.push_back({Kind::bank_card, begin, end, 0.95f, public_card(digits)});
    });
  }
}

}  // namespace tandem::router::scan
