// tandem summarize: a summary of documents (text, Markdown, HTML, PDF), map-reduce when
// they are longer than the context, routed like any request (docs/assistant.md).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>

#include "assistant/document.h"
#include "assistant/summarize.h"
#include "assistant_cli.h"
#include "commands.h"

namespace tandem::cli {
namespace {

// Chunks done, on stderr, only where a person watches it.
bool show_progress(const assistant::Progress& p) {
  if (p.phase == "final") {
    std::fputs("\r\033[K", stderr);  // the bar goes away before the summary streams
  } else {
    constexpr int kWidth = 24;
    const int filled = p.total > 0 ? p.done * kWidth / p.total : 0;
    const std::string what = p.phase == "map" ? "reading parts" : "combining notes (level " + std::to_string(p.level) + ")";
    std::fprintf(stderr, "\r\033[K%s [%s%s] %d/%d", what.c_str(), std::string(size_t(filled), '#').c_str(),
                 std::string(size_t(kWidth - filled), ' ').c_str(), p.done, p.total);
  }
  std::fflush(stderr);
  return !interrupted();
}

std::string read_documents(const std::vector<std::string>& files, const std::string& format_name) {
  const auto format = assistant::parse_format(format_name);
  if (!format) fail("--format: '", format_name, "' is not auto, text, markdown, html or pdf");
  std::string text;
  const std::vector<std::string> inputs = files.empty() ? std::vector<std::string>{"-"} : files;
  for (const std::string& file : inputs) {
    assistant::Document document;
    if (file == "-") {
      if (isatty(STDIN_FILENO)) std::fputs("tandem summarize: reading the document from standard input (Ctrl-D ends it)\n", stderr);
      const std::string bytes{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
      document = assistant::read_document(bytes, *format, "-");
    } else {
      document = assistant::read_document_file(file, *format);
    }
    if (!text.empty()) text += "\n\n";
    text += document.text;
  }
  return text;
}

}  // namespace

void add_summarize(CLI::App& app) {
  auto* cmd = app.add_subcommand("summarize", "Summarize documents (text, Markdown, HTML, PDF; map-reduce when longer "
                                              "than the context); route and reason on stderr");
  static AssistantFlags flags;
  static std::vector<std::string> files;
  static std::string length, focus, format = "auto";
  flags.add_to(cmd);
  cmd->add_option("files", files, "documents, summarized together in order ('-' or none: standard input)");
  cmd->add_option("--length", length, "short, medium, long or bullets (default: medium; the tasks file may add more)");
  cmd->add_option("--focus", focus, "a question or topic the summary should concentrate on");
  cmd->add_option("--format", format, "auto (from the bytes and the file name), text, markdown, html or pdf");
  cmd->callback([] {
    const std::string text = read_documents(files, format);  // bad input fails before the model loads
    const assistant::Routing routing = flags.routing();
    AssistantEngine engine(flags);
    assistant::SummaryOptions options;
    options.length = length;
    options.lang = flags.lang;
    options.focus = focus;
    options.sampling = flags.sampling();
    assistant::SummaryJob job(engine.engine(), text, options, routing);
    catch_interrupt();
    assistant::Events events = terminal_events();
    if (isatty(STDERR_FILENO)) events.on_progress = show_progress;
    finish_job(run_job(job, events));
  });
}

}  // namespace tandem::cli
