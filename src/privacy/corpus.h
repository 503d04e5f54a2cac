// The labelled privacy corpus (data/privacy/corpus/{en,zh}/<category>.jsonl, format in
// data/privacy/README.md) and its fixed train/dev/test split.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::privacy {

// The 24 categories, in the order the model's category head uses.
inline constexpr std::array<std::string_view, 24> kCategories = {
    "health",       "medication",    "finance",  "gov_id",         "payment_card",       "credentials",
    "otp",          "contact",       "social_handle", "home_address", "location",        "license_plate",
    "family",       "children",      "relationships", "legal",     "religion",           "sexual_orientation",
    "political",    "ethnicity",     "chat_log", "calendar",       "employment",         "education_record"};
// The index of a category name, or -1.
int category_index(std::string_view name);

// The split is a pure function of the example's group (FNV-1a of the group, mod 100:
// below 70 train, below 85 dev, else test), so examples of one scenario stay together
// and the split never changes as the corpus grows.
enum class Split { Train, Dev, Test };
Split split_of(std::string_view group);
const char* split_name(Split split);

struct Example {
  std::string id, lang, text, group;
  int category = -1;  // -1: an everyday request of the background set
  bool is_private = false, needs_cloud = false;
  std::vector<std::string> secrets;
  Split split = Split::Train;
  std::string where;  // "en/health.jsonl:12", for messages
};

// Every example under `dir` (files in name order, lines in order). tandem::Error naming
// the file and line on a malformed line, a missing or mistyped field, an unknown
// category or language, a category or language that disagrees with the file's place,
// a duplicate id, a secret that is not a substring of the text, or a private example
// without secrets (or a public one with).
std::vector<Example> load_corpus(const std::string& dir);

// The background set (data/privacy/background/{en,zh}.jsonl): everyday requests with
// nothing personal and no near-miss topic (alarms, sums, translations, bookings), so that
// the classifier also learns what ordinary traffic looks like. Same line format, with
// "label": "public" and "category": "background"; errors as load_corpus.
std::vector<Example> load_background(const std::string& dir);

}  // namespace tandem::privacy
