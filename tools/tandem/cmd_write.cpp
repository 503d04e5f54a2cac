// tandem write: a writing task (email, reply, polish, shorten, expand, translate, title,
// poem, post, or one the tasks file adds), routed by difficulty like any request.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>

#include "assistant/document.h"
#include "assistant/write.h"
#include "assistant_cli.h"
#include "commands.h"

namespace tandem::cli {

void add_write(CLI::App& app) {
  auto* cmd = app.add_subcommand("write", "Write with a task preset (email, reply, polish, shorten, expand, translate, "
                                          "title, poem, post); route and reason on stderr");
  static AssistantFlags flags;
  static std::string task, tone, input_file;
  static std::vector<std::string> instructions;
  flags.add_to(cmd);
  cmd->add_option("--task", task, "the task (the tasks file lists them: docs/assistant.md)")->required();
  cmd->add_option("--tone", tone, "tone, in any words (formal, friendly, 正式, ...)");
  cmd->add_option("--input", input_file, "the text to work on: a file (text, Markdown, HTML or PDF) or '-' for standard input");
  cmd->add_option("instructions", instructions, "what to write");
  cmd->callback([] {
    assistant::WriteOptions options;
    options.task = task;
    options.tone = tone;
    for (const std::string& word : instructions) options.instructions += (options.instructions.empty() ? "" : " ") + word;
    if (input_file == "-") {
      const std::string bytes{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
      options.input = assistant::read_document(bytes, assistant::Format::Auto, "-").text;
    } else if (!input_file.empty()) {
      options.input = assistant::read_document_file(input_file, assistant::Format::Auto).text;
    }
    options.lang = flags.lang;
    options.sampling = flags.sampling();
    const assistant::Routing routing = flags.routing();
    AssistantEngine engine(flags);
    assistant::WriteJob job(engine.engine(), options, routing);
    catch_interrupt();
    finish_job(run_job(job, terminal_events()));
  });
}

}  // namespace tandem::cli
