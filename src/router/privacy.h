// Decides whether request text holds data that must never leave the phone: PRC ID
// numbers, phone numbers, bank cards, e-mail addresses, street addresses, passwords,
// API keys and GPS coordinates, in Chinese, English or both. Detection is rule-based
// (checksums, formats, keyword context) so that it is predictable and auditable; the
// labelled set in tests/data/routing/requests.jsonl keeps recall and false positives honest.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::router {

struct PiiFinding {
  std::string kind;   // cn_id_number, phone, bank_card, email, street_address, password, api_key, gps
  size_t begin = 0;   // byte offsets into the scanned UTF-8 text, [begin, end)
  size_t end = 0;
};

// All sensitive spans in `text`, sorted by begin, non-overlapping (longest/most specific wins).
std::vector<PiiFinding> find_pii(std::string_view text);

// App-supplied data tags that make a request private by themselves:
// "messages", "photos", "contacts", "health", "location", "finance", "private".
bool is_private_tag(std::string_view tag);

}  // namespace tandem::router
