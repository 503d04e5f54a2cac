// Decides whether request text holds data that must never leave the phone: IDs (PRC,
// Hong Kong, Taiwan, Macau, US SSN, passports), phone numbers, bank cards and IBANs,
// e-mail addresses, street addresses, passwords and credential pairs, API keys, GPS
// coordinates, licence plates, social handles, one-time codes, partial card numbers and
// salaries or balances, in Chinese, English or both. Detection is rule-based (checksums,
// formats, cue words) so that it is predictable and auditable; the text is normalized
// first (full-width forms, Chinese numerals, digit groupings) and findings map back to
// the caller's bytes. Well-known public values (test cards, toll-free numbers, landmark
// coordinates, documentation keys, famous addresses) are found but marked not personal,
// unless the words around them make them someone's ("my", 我的, 我妈, 家).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::router {

struct PiiFinding {
  // cn_id_number, hk_id, tw_id, mo_id, us_ssn, passport, iban, bank_card, partial_card,
  // phone, contact (a name with its phone number), email, street_address, password,
  // credentials (a login with its password), api_key, gps, license_plate, social_handle,
  // otp_code, amount; or a category from a semantic classifier (see Redactor::redact).
  std::string kind;
  size_t begin = 0;  // byte offsets into the scanned UTF-8 text, [begin, end)
  size_t end = 0;
  // False for a well-known public value in no personal context ("4111 1111 1111 1111",
  // "1-800-…", the Eiffel Tower's coordinates); public_form then says which.
  bool personal = true;
  // How sure the span is this kind of data, 0..1: checksum or cue word 0.9-0.95, format
  // alone 0.7-0.85. Ordinal, not a calibrated probability.
  float confidence = 0.9f;
  std::string public_form;  // test_card, toll_free, service_number, fiction_number, landmark,
                            // famous_address, documentation_key, placeholder_key, example_ssn, example_id,
                            // public_account
};

// The sensitive spans in `text` that must stay on the phone (personal ones only),
// sorted by begin, non-overlapping (longest/most specific wins).
std::vector<PiiFinding> find_pii(std::string_view text);

// Every value found, public ones included (personal == false), for audit and for a
// policy that weighs them itself; sorted and non-overlapping like find_pii.
std::vector<PiiFinding> scan_pii(std::string_view text);

// App-supplied data tags that make a request private by themselves:
// "messages", "photos", "contacts", "health", "location", "finance", "private".
bool is_private_tag(std::string_view tag);

}  // namespace tandem::router
