#include "privacy/corpus.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"

namespace tandem::privacy {

int category_index(std::string_view name) {
  for (size_t i = 0; i < kCategories.size(); ++i) {
    if (kCategories[i] == name) return int(i);
  }
  return -1;
}

Split split_of(std::string_view group) {
  uint32_t h = 2166136261u;
  for (unsigned char c : group) h = (h ^ c) * 16777619u;
  const uint32_t bucket = h % 100;
  return bucket < 70 ? Split::Train : bucket < 85 ? Split::Dev : Split::Test;
}

const char* split_name(Split split) {
  switch (split) {
    case Split::Train: return "train";
    case Split::Dev: return "dev";
    default: return "test";
  }
}

namespace {

std::string text_field(const nlohmann::json& row, const char* key, const std::string& where) {
  auto it = row.find(key);
  if (it == row.end() || !it->is_string()) fail(where, ": field '", key, "' must be a string");
  return it->get<std::string>();
}

bool bool_field(const nlohmann::json& row, const char* key, const std::string& where) {
  auto it = row.find(key);
  if (it == row.end() || !it->is_boolean()) fail(where, ": field '", key, "' must be true or false");
  return it->get<bool>();
}

}  // namespace

namespace {

namespace fs = std::filesystem;

// One file's examples; `file_category` is what every line's category must be
// ("background" for the background set), and `lang` its language.
void load_file(const fs::path& path, const std::string& name, const std::string& lang,
               const std::string& file_category, std::set<std::string>& ids, std::vector<Example>& examples) {
  std::ifstream in(path);
  if (!in) fail("privacy corpus: cannot read '", path.string(), "'");
  const bool background = file_category == "background";
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string where = name + ":" + std::to_string(number);
    if (line.empty()) fail(where, ": blank line");
    const nlohmann::json row = nlohmann::json::parse(line, nullptr, false);
    if (row.is_discarded() || !row.is_object()) fail(where, ": not a JSON object");
    for (const auto& [key, value] : row.items()) {
      static const std::set<std::string> known = {"id", "lang", "label", "category", "text", "secrets", "needs_cloud", "group"};
      if (!known.count(key)) fail(where, ": unknown field '", key, "'");
    }
    Example e;
    e.where = where;
    e.id = text_field(row, "id", where);
    e.lang = text_field(row, "lang", where);
    e.text = text_field(row, "text", where);
    e.group = text_field(row, "group", where);
    const std::string label = text_field(row, "label", where);
    const std::string category = text_field(row, "category", where);
    e.needs_cloud = bool_field(row, "needs_cloud", where);
    if (e.lang != "en" && e.lang != "zh") fail(where, ": lang '", e.lang, "' is not en or zh");
    if (e.lang != lang) fail(where, ": lang '", e.lang, "' in a file for ", lang);
    if (label != "private" && label != "public") fail(where, ": label '", label, "' is not private or public");
    e.is_private = label == "private";
    if (background) {
      if (category != "background") fail(where, ": category '", category, "' in the background set");
      if (e.is_private) fail(where, ": the background set holds public requests only");
    } else {
      e.category = category_index(category);
      if (e.category < 0) fail(where, ": unknown category '", category, "'");
      if (category != file_category) fail(where, ": category '", category, "' in ", file_category, ".jsonl");
    }
    if (e.text.empty()) fail(where, ": empty text");
    if (e.group.empty()) fail(where, ": empty group");
    auto secrets = row.find("secrets");
    if (secrets == row.end() || !secrets->is_array()) fail(where, ": field 'secrets' must be an array");
    for (const auto& secret : *secrets) {
      if (!secret.is_string() || secret.get<std::string>().empty()) fail(where, ": a secret must be a non-empty string");
      e.secrets.push_back(secret.get<std::string>());
      if (e.text.find(e.secrets.back()) == std::string::npos) {
        fail(where, ": secret '", e.secrets.back(), "' is not a substring of the text");
      }
    }
    if (e.is_private && e.secrets.empty()) fail(where, ": a private example needs its secrets");
    if (!e.is_private && !e.secrets.empty()) fail(where, ": a public example has no secrets");
    if (!ids.insert(e.id).second) fail(where, ": duplicate id '", e.id, "'");
    e.split = split_of(e.group);
    examples.push_back(std::move(e));
  }
}

std::vector<fs::path> jsonl_files(const std::string& dir, bool recursive) {
  if (!fs::is_directory(dir)) fail("privacy corpus: '", dir, "' is not a directory");
  std::vector<fs::path> files;
  const auto take = [&](const fs::directory_entry& entry) {
    if (entry.is_regular_file() && entry.path().extension() == ".jsonl") files.push_back(entry.path());
  };
  if (recursive) {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) take(entry);
  } else {
    for (const auto& entry : fs::directory_iterator(dir)) take(entry);
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) fail("privacy corpus: no .jsonl files under '", dir, "'");
  return files;
}

}  // namespace

std::vector<Example> load_corpus(const std::string& dir) {
  std::vector<Example> examples;
  std::set<std::string> ids;
  for (const fs::path& path : jsonl_files(dir, true)) {
    const std::string lang = path.parent_path().filename().string();
    load_file(path, lang + "/" + path.filename().string(), lang, path.stem().string(), ids, examples);
  }
  return examples;
}

std::vector<Example> load_background(const std::string& dir) {
  std::vector<Example> examples;
  std::set<std::string> ids;
  for (const fs::path& path : jsonl_files(dir, false)) {
    load_file(path, "background/" + path.filename().string(), path.stem().string(), "background", ids, examples);
  }
  return examples;
}

}  // namespace tandem::privacy
