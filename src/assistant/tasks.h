// The apps' presets as data: prompt templates per language and default sampling for
// summaries and for each writing task, from data/assistant/tasks.json (built into the
// library) with $TANDEM_HOME/assistant/tasks.json merged over it (RFC 7386 merge patch),
// so users add tasks or retune them without rebuilding. Format: docs/assistant.md.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "generate/sampler.h"

namespace tandem::assistant {

// The output languages the templates are written in.
inline const std::vector<std::string>& languages() {
  static const std::vector<std::string> all{"en", "zh"};
  return all;
}

// Sampling a caller sets explicitly; anything absent keeps the task's default.
struct SamplingOverrides {
  std::optional<float> temperature, top_p, min_p, repeat_penalty;
  std::optional<int> top_k;
  std::optional<uint64_t> seed;
  std::optional<int> max_tokens;  // of the answer (a summary: the final one)
  generate::SamplerOptions apply(generate::SamplerOptions defaults) const;
};

// Fills {name} placeholders ("{{" and "}}" are literal braces). A placeholder without a
// value is a tandem::Error naming it.
std::string fill(const std::string& text, const std::map<std::string, std::string>& values);

struct SummaryPrompts {
  std::string system, single, map, reduce, final, focus;
};

struct SummaryLength {
  int max_tokens = 0;
  std::map<std::string, std::string> phrase;  // per language: "in two or three sentences"
};

struct WriteTemplates {
  std::string system, prompt, instructions, tone, input;
};

enum class InputUse { None, Optional, Required };

struct WriteTask {
  std::string name;
  std::map<std::string, std::string> description;  // per language
  InputUse input = InputUse::Optional;
  bool other_language = false;  // translate: the output is in the language the text is not
  generate::SamplerOptions sampling;
  int max_tokens = 512;
  std::map<std::string, WriteTemplates> templates;  // per language, fragments resolved
};

class Tasks {
 public:
  // The built-in file merged with the user's, when $TANDEM_HOME/assistant/tasks.json exists.
  static Tasks load();
  static Tasks builtin();
  // A whole tasks file, or the built-in one with `patch` merged over it. Errors name
  // `where` and the field.
  static Tasks parse(const std::string& json_text, const std::string& where);
  static Tasks with_patch(const std::string& patch_text, const std::string& where);
  // Where load() looks for the user's file ("" when $TANDEM_HOME is not set).
  static std::string user_file();

  const SummaryPrompts& summary_prompts(const std::string& language) const;
  const generate::SamplerOptions& summary_sampling() const { return summary_sampling_; }
  int notes_max_tokens() const { return notes_max_tokens_; }
  const std::string& default_length() const { return default_length_; }
  // Error listing the lengths there are.
  const SummaryLength& length(const std::string& name) const;
  std::vector<std::string> length_names() const;

  // Error listing the tasks there are.
  const WriteTask& task(const std::string& name) const;
  std::vector<std::string> task_names() const;  // in the file's order

 private:
  std::map<std::string, SummaryPrompts> summary_;
  generate::SamplerOptions summary_sampling_;
  int notes_max_tokens_ = 160;
  std::string default_length_;
  std::vector<std::pair<std::string, SummaryLength>> lengths_;
  std::vector<WriteTask> tasks_;
};

}  // namespace tandem::assistant
