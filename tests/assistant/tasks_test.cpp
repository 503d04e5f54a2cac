// The tasks file: the built-in one parses and has every task in both languages with
// sampling tuned per task; a user's file in $TANDEM_HOME extends and overrides it; bad
// files are errors that name the field.
#include "assistant/tasks.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "support/error_of.h"
#include "support/test_paths.h"

namespace tandem::assistant {
namespace {

using test::error_of;

TEST(Tasks, TheBuiltInFileHasEveryTaskInBothLanguages) {
  const Tasks tasks = Tasks::builtin();
  EXPECT_EQ(tasks.task_names(), (std::vector<std::string>{"email", "reply", "polish", "shorten", "expand", "translate",
                                                          "title", "poem", "post"}));
  for (const std::string& name : tasks.task_names()) {
    for (const std::string& language : languages()) {
      SCOPED_TRACE(name + "/" + language);
      const WriteTemplates& t = tasks.task(name).templates.at(language);
      EXPECT_FALSE(t.system.empty());
      EXPECT_NE(t.prompt.find("{input}"), std::string::npos);
      EXPECT_FALSE(tasks.task(name).description.at(language).empty());
    }
  }
  EXPECT_EQ(tasks.length_names(), (std::vector<std::string>{"short", "medium", "long", "bullets"}));
  EXPECT_EQ(tasks.default_length(), "medium");
  EXPECT_LT(tasks.length("short").max_tokens, tasks.length("long").max_tokens);
  EXPECT_TRUE(tasks.task("translate").other_language);
  EXPECT_EQ(tasks.task("polish").input, InputUse::Required);
}

TEST(Tasks, SamplingIsTunedPerTask) {
  const Tasks tasks = Tasks::builtin();
  // Faithful tasks sample cold, creative ones hot.
  EXPECT_LE(tasks.summary_sampling().temperature, 0.3f);
  EXPECT_LE(tasks.task("translate").sampling.temperature, 0.3f);
  EXPECT_GE(tasks.task("poem").sampling.temperature, 0.9f);
  EXPECT_GT(tasks.task("poem").sampling.temperature, tasks.task("email").sampling.temperature);
  EXPECT_GT(tasks.task("email").sampling.temperature, tasks.task("polish").sampling.temperature);
  // A task's sampling starts from the defaults: top_p where the task does not set it.
  EXPECT_FLOAT_EQ(tasks.task("email").sampling.top_p, 0.9f);
  EXPECT_FLOAT_EQ(tasks.task("poem").sampling.top_p, 0.95f);
}

TEST(Tasks, Fill) {
  EXPECT_EQ(fill("Hi {name}, {{literal}}", {{"name", "Li"}}), "Hi Li, {literal}");
  EXPECT_NE(error_of([] { fill("{nope}", {}); }).find("unknown placeholder {nope}"), std::string::npos);
  EXPECT_NE(error_of([] { fill("{open", {}); }).find("unclosed"), std::string::npos);
}

TEST(Tasks, AUserFileAddsAndOverrides) {
  const Tasks tasks = Tasks::with_patch(R"({
    "summarize": {"sampling": {"temperature": 0.1}},
    "write": {"tasks": {
      "poem": {"sampling": {"temperature": 1.2}},
      "post": null,
      "haiku": {"description": "Write a haiku", "max_tokens": 64, "en": {"prompt": "Write a haiku.{instructions}{input}"}}}}})",
                                        "user.json");
  EXPECT_FLOAT_EQ(tasks.summary_sampling().temperature, 0.1f);
  EXPECT_FLOAT_EQ(tasks.summary_sampling().top_p, 0.9f);  // kept from the built-in file
  EXPECT_FLOAT_EQ(tasks.task("poem").sampling.temperature, 1.2f);
  EXPECT_THROW(tasks.task("post"), Error);
  const WriteTask& haiku = tasks.task("haiku");
  EXPECT_EQ(haiku.max_tokens, 64);
  EXPECT_EQ(haiku.templates.at("zh").prompt, "Write a haiku.{instructions}{input}");  // one language serves both
  EXPECT_EQ(haiku.templates.at("en").tone, tasks.task("email").templates.at("en").tone);  // the common fragment
}

TEST(Tasks, LoadReadsTheUserFileFromTandemHome) {
  const std::string home = test::temp_path("tandem-home");
  std::filesystem::create_directories(home + "/assistant");
  std::ofstream(home + "/assistant/tasks.json") << R"({"write": {"tasks": {"limerick": {"en": {"prompt": "A limerick.{instructions}"}}}}})";
  ::setenv("TANDEM_HOME", home.c_str(), 1);
  const Tasks tasks = Tasks::load();
  ::unsetenv("TANDEM_HOME");
  EXPECT_EQ(tasks.task_names().back(), "limerick");
  EXPECT_EQ(Tasks::load().task_names().size(), 9u);  // without TANDEM_HOME: the built-in tasks
}

TEST(Tasks, BadFilesNameTheField) {
  EXPECT_NE(error_of([] { Tasks::with_patch("{", "u.json"); }).find("u.json: not valid JSON"), std::string::npos);
  EXPECT_NE(error_of([] { Tasks::with_patch(R"({"write": {"tasks": {"email": {"sampling": {"temperature": 5}}}}})", "u.json"); })
                .find("write.tasks.email.sampling.temperature must be a number from 0 to 2"),
            std::string::npos);
  EXPECT_NE(error_of([] { Tasks::with_patch(R"({"write": {"tasks": {"email": {"sampling": {"temp": 1}}}}})", "u.json"); })
                .find("is not a sampling setting"),
            std::string::npos);
  EXPECT_NE(error_of([] { Tasks::with_patch(R"({"write": {"tasks": {"x": {"en": {"prompt": "{topic}"}}}}})", "u.json"); })
                .find("write.tasks.x.en.prompt: unknown placeholder {topic}"),
            std::string::npos);
  EXPECT_NE(error_of([] { Tasks::with_patch(R"({"summarize": {"lengths": {"short": {"max_tokens": 0}}}})", "u.json"); })
                .find("summarize.lengths.short.max_tokens"),
            std::string::npos);
  EXPECT_NE(error_of([] { Tasks::with_patch(R"({"write": {"tasks": {"x": {"input": "maybe", "en": {"prompt": "p"}}}}})", "u.json"); })
                .find("input must be"),
            std::string::npos);
  EXPECT_NE(error_of([] { Tasks::builtin().task("sonnet"); }).find("tasks: email, reply"), std::string::npos);
  EXPECT_NE(error_of([] { Tasks::builtin().length("tiny"); }).find("use short, medium, long, bullets"), std::string::npos);
}

}  // namespace
}  // namespace tandem::assistant
