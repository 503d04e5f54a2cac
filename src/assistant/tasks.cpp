#include "assistant/tasks.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error.h"

namespace tandem::assistant {
namespace {

using ojson = nlohmann::ordered_json;

// data/assistant/tasks.json, embedded at build time (src/assistant/assistant.cmake).
const char* const kBuiltinTasks =
#include "assistant_tasks.inc"
    ;

class Reader {
 public:
  explicit Reader(std::string where) : where_(std::move(where)) {}

  const ojson& object(const ojson& parent, const std::string& key, const std::string& path) const {
    if (!parent.contains(key) || !parent[key].is_object()) fail(where_, ": ", path, " must be an object");
    return parent[key];
  }
  std::string string(const ojson& parent, const std::string& key, const std::string& path) const {
    if (!parent.contains(key) || !parent[key].is_string()) fail(where_, ": ", path, " must be a string");
    return parent[key].get<std::string>();
  }
  std::optional<std::string> optional_string(const ojson& parent, const std::string& key, const std::string& path) const {
    if (!parent.contains(key)) return std::nullopt;
    return string(parent, key, path);
  }
  int positive_int(const ojson& parent, const std::string& key, const std::string& path) const {
    if (!parent.contains(key) || !parent[key].is_number_integer() || parent[key].get<int64_t>() < 1 ||
        parent[key].get<int64_t>() > 1 << 20) {
      fail(where_, ": ", path, " must be a whole number from 1 to 1048576");
    }
    return parent[key].get<int>();
  }
  double number(const ojson& value, const std::string& path, double lo, double hi) const {
    if (!value.is_number() || value.get<double>() < lo || value.get<double>() > hi) {
      fail(where_, ": ", path, " must be a number from ", lo, " to ", hi);
    }
    return value.get<double>();
  }

  generate::SamplerOptions sampling(const ojson& value, const std::string& path, generate::SamplerOptions base) const {
    if (!value.is_object()) fail(where_, ": ", path, " must be an object");
    for (const auto& [key, v] : value.items()) {
      const std::string field = path + "." + key;
      if (key == "temperature") base.temperature = float(number(v, field, 0, 2));
      else if (key == "top_p") base.top_p = float(number(v, field, 0, 1));
      else if (key == "min_p") base.min_p = float(number(v, field, 0, 1));
      else if (key == "repeat_penalty") base.repeat_penalty = float(number(v, field, 0.5, 2));
      else if (key == "top_k") base.top_k = int(number(v, field, 0, 1000));
      else fail(where_, ": ", field, " is not a sampling setting (temperature, top_p, top_k, min_p, repeat_penalty)");
    }
    return base;
  }

  // The template must fill with exactly these placeholders available.
  std::string checked(std::string text, const std::string& path, std::initializer_list<const char*> names) const {
    std::map<std::string, std::string> values;
    for (const char* name : names) values.emplace(name, std::string(1, 'x'));
    try {
      (void)fill(text, values);
    } catch (const Error& error) {
      std::string allowed;
      for (const char* name : names) allowed.append(allowed.empty() ? "{" : ", {").append(name).append("}");
      fail(where_, ": ", path, ": ", error.what(), " (this template may use ", allowed.empty() ? "none" : allowed, ")");
    }
    return text;
  }

  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

ojson parse_json(const std::string& text, const std::string& where) {
  ojson value = ojson::parse(text, nullptr, false);
  if (value.is_discarded()) fail(where, ": not valid JSON");
  if (!value.is_object()) fail(where, ": must be a JSON object");
  return value;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read the tasks file '", path, "'");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

generate::SamplerOptions SamplingOverrides::apply(generate::SamplerOptions o) const {
  if (temperature) o.temperature = *temperature;
  if (top_p) o.top_p = *top_p;
  if (min_p) o.min_p = *min_p;
  if (repeat_penalty) o.repeat_penalty = *repeat_penalty;
  if (top_k) o.top_k = *top_k;
  if (seed) o.seed = *seed;
  return o;
}

std::string fill(const std::string& text, const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      out += c;
      ++i;
    } else if (c == '{') {
      const size_t close = text.find('}', i);
      if (close == std::string::npos) fail("an unclosed '{' (write {{ for a literal brace)");
      const std::string name = text.substr(i + 1, close - i - 1);
      const auto it = values.find(name);
      if (it == values.end()) fail("unknown placeholder {", name, "}");
      out += it->second;
      i = close;
    } else if (c == '}') {
      fail("a '}' without '{' (write }} for a literal brace)");
    } else {
      out += c;
    }
  }
  return out;
}

std::string Tasks::user_file() {
  const char* home = std::getenv("TANDEM_HOME");
  if (!home || !*home) return "";
  return (std::filesystem::path(home) / "assistant" / "tasks.json").string();
}

Tasks Tasks::builtin() { return parse(kBuiltinTasks, "the built-in tasks (data/assistant/tasks.json)"); }

Tasks Tasks::load() {
  const std::string path = user_file();
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec)) return builtin();
  return with_patch(read_file(path), path);
}

Tasks Tasks::with_patch(const std::string& patch_text, const std::string& where) {
  ojson merged = parse_json(kBuiltinTasks, "the built-in tasks");
  merged.merge_patch(parse_json(patch_text, where));
  return parse(merged.dump(), where + " (merged over the built-in tasks)");
}

Tasks Tasks::parse(const std::string& json_text, const std::string& where) {
  const ojson root = parse_json(json_text, where);
  const Reader r(where);
  Tasks tasks;

  // ---- summarize ----
  const ojson& summarize = r.object(root, "summarize", "summarize");
  tasks.summary_sampling_ = r.sampling(r.object(summarize, "sampling", "summarize.sampling"), "summarize.sampling",
                                       generate::SamplerOptions{});
  tasks.notes_max_tokens_ = r.positive_int(summarize, "notes_max_tokens", "summarize.notes_max_tokens");
  for (const std::string& language : languages()) {
    const std::string at = "summarize." + language;
    const ojson& p = r.object(summarize, language, at);
    SummaryPrompts& prompts = tasks.summary_[language];
    prompts.system = r.checked(r.string(p, "system", at + ".system"), at + ".system", {});
    prompts.single = r.checked(r.string(p, "single", at + ".single"), at + ".single", {"length", "focus", "text"});
    prompts.map = r.checked(r.string(p, "map", at + ".map"), at + ".map", {"part", "parts", "focus", "text"});
    prompts.reduce = r.checked(r.string(p, "reduce", at + ".reduce"), at + ".reduce", {"focus", "text"});
    prompts.final = r.checked(r.string(p, "final", at + ".final"), at + ".final", {"length", "focus", "text"});
    prompts.focus = r.checked(r.string(p, "focus", at + ".focus"), at + ".focus", {"focus"});
  }
  for (const auto& [name, value] : r.object(summarize, "lengths", "summarize.lengths").items()) {
    const std::string at = "summarize.lengths." + name;
    if (!value.is_object()) fail(where, ": ", at, " must be an object");
    SummaryLength length;
    length.max_tokens = r.positive_int(value, "max_tokens", at + ".max_tokens");
    for (const std::string& language : languages()) length.phrase[language] = r.string(value, language, at + "." + language);
    tasks.lengths_.emplace_back(name, std::move(length));
  }
  if (tasks.lengths_.empty()) fail(where, ": summarize.lengths has no length");
  tasks.default_length_ = r.string(summarize, "default_length", "summarize.default_length");
  (void)tasks.length(tasks.default_length_);

  // ---- write ----
  const ojson& write = r.object(root, "write", "write");
  const ojson& defaults = r.object(write, "defaults", "write.defaults");
  const generate::SamplerOptions default_sampling =
      r.sampling(r.object(defaults, "sampling", "write.defaults.sampling"), "write.defaults.sampling", {});
  const int default_max_tokens = r.positive_int(defaults, "max_tokens", "write.defaults.max_tokens");
  std::map<std::string, WriteTemplates> common;
  for (const std::string& language : languages()) {
    const std::string at = "write." + language;
    const ojson& c = r.object(write, language, at);
    WriteTemplates& t = common[language];
    t.system = r.checked(r.string(c, "system", at + ".system"), at + ".system", {});
    t.instructions = r.checked(r.string(c, "instructions", at + ".instructions"), at + ".instructions", {"instructions"});
    t.tone = r.checked(r.string(c, "tone", at + ".tone"), at + ".tone", {"tone"});
    t.input = r.checked(r.string(c, "input", at + ".input"), at + ".input", {"input"});
  }
  for (const auto& [name, value] : r.object(write, "tasks", "write.tasks").items()) {
    const std::string at = "write.tasks." + name;
    if (!value.is_object()) fail(where, ": ", at, " must be an object (or null to remove the task)");
    WriteTask task;
    task.name = name;
    const std::string input = r.optional_string(value, "input", at + ".input").value_or("optional");
    if (input == "none") task.input = InputUse::None;
    else if (input == "optional") task.input = InputUse::Optional;
    else if (input == "required") task.input = InputUse::Required;
    else fail(where, ": ", at, ".input must be \"none\", \"optional\" or \"required\"");
    const std::string language = r.optional_string(value, "language", at + ".language").value_or("same");
    if (language != "same" && language != "other") fail(where, ": ", at, ".language must be \"same\" or \"other\"");
    task.other_language = language == "other";
    task.sampling = value.contains("sampling") ? r.sampling(value["sampling"], at + ".sampling", default_sampling)
                                               : default_sampling;
    task.max_tokens = value.contains("max_tokens") ? r.positive_int(value, "max_tokens", at + ".max_tokens")
                                                   : default_max_tokens;
    // A task written in one language only uses it for both.
    std::vector<std::string> given;
    for (const std::string& l : languages()) {
      if (value.contains(l)) given.push_back(l);
    }
    if (given.empty()) fail(where, ": ", at, " has no templates (give \"en\" and/or \"zh\" with a \"prompt\")");
    for (const std::string& l : languages()) {
      const std::string source = value.contains(l) ? l : given.front();
      const std::string tat = at + "." + source;
      const ojson& t = r.object(value, source, tat);
      const WriteTemplates& base = common[source];
      WriteTemplates& out = task.templates[l];
      out.prompt = r.checked(r.string(t, "prompt", tat + ".prompt"), tat + ".prompt", {"instructions", "tone", "input"});
      out.system = r.checked(r.optional_string(t, "system", tat + ".system").value_or(base.system), tat + ".system", {});
      out.instructions = r.checked(r.optional_string(t, "instructions", tat + ".instructions").value_or(base.instructions),
                                   tat + ".instructions", {"instructions"});
      out.tone = r.checked(r.optional_string(t, "tone", tat + ".tone").value_or(base.tone), tat + ".tone", {"tone"});
      out.input = r.checked(r.optional_string(t, "input", tat + ".input").value_or(base.input), tat + ".input", {"input"});
      if (value.contains("description")) {
        const ojson& d = value["description"];
        if (d.is_string()) task.description[l] = d.get<std::string>();
        else if (d.is_object() && d.contains(l) && d[l].is_string()) task.description[l] = d[l].get<std::string>();
        else if (d.is_object() && d.contains(given.front()) && d[given.front()].is_string())
          task.description[l] = d[given.front()].get<std::string>();
        else fail(where, ": ", at, ".description must be a string or {\"en\": ..., \"zh\": ...}");
      } else {
        task.description[l] = name;
      }
    }
    tasks.tasks_.push_back(std::move(task));
  }
  if (tasks.tasks_.empty()) fail(where, ": write.tasks has no task");
  return tasks;
}

const SummaryPrompts& Tasks::summary_prompts(const std::string& language) const {
  const auto it = summary_.find(language);
  if (it == summary_.end()) fail("no summary prompts for language '", language, "' (use zh or en)");
  return it->second;
}

const SummaryLength& Tasks::length(const std::string& name) const {
  for (const auto& [n, length] : lengths_) {
    if (n == name) return length;
  }
  std::string names;
  for (const auto& [n, length] : lengths_) names += (names.empty() ? "" : ", ") + n;
  fail("unknown summary length '", name, "' (use ", names, ")");
}

std::vector<std::string> Tasks::length_names() const {
  std::vector<std::string> names;
  for (const auto& [n, length] : lengths_) names.push_back(n);
  return names;
}

const WriteTask& Tasks::task(const std::string& name) const {
  for (const WriteTask& task : tasks_) {
    if (task.name == name) return task;
  }
  std::string names;
  for (const WriteTask& task : tasks_) names += (names.empty() ? "" : ", ") + task.name;
  fail("unknown writing task '", name, "' (tasks: ", names, ")");
}

std::vector<std::string> Tasks::task_names() const {
  std::vector<std::string> names;
  for (const WriteTask& task : tasks_) names.push_back(task.name);
  return names;
}

}  // namespace tandem::assistant
