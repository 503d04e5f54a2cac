// tandem: run GGUF language models on this device.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "core/data_dir.h"
#include "core/error.h"

namespace {

// The environment and the places tandem reads, at the end of `tandem --help`.
std::string footer() {
  using tandem::cli::shared_dir_candidates;
  return "Environment:\n"
         "  TANDEM_MODEL   the model used without -m (else models/stories260K.gguf in the shared data:\n"
         "                 " + shared_dir_candidates()[0].string() + " or " + shared_dir_candidates()[1].string() + ")\n"
         "  TANDEM_HOME    installed models, the routing ledger and chat history (default\n"
         "                 $XDG_DATA_HOME/tandem, else ~/.local/share/tandem)\n"
         "  TANDEM_CPU     ref, avx2, avx512 or neon: force a kernel path (default: the best the CPU has)\n"
         "\n'tandem help COMMAND' or 'tandem COMMAND --help' shows a command's options.";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tandem: run GGUF language models on the device"};
  app.require_subcommand(0, 1);
  // One style for every command's help: lower-case descriptions, defaults shown.
  app.set_help_flag("-h,--help", "print this help and exit");
  app.set_help_all_flag("--help-all", "print the help of every command");
  app.set_version_flag("--version", std::string("tandem ") + TANDEM_VERSION_STRING, "print the version and exit");
  app.option_defaults()->always_capture_default();
  app.footer(footer());
  tandem::cli::add_run(app);
  tandem::cli::add_chat(app);
  tandem::cli::add_info(app);
  tandem::cli::add_tokenize(app);
  tandem::cli::add_logits(app);
  tandem::cli::add_convert(app);
  tandem::cli::add_perplexity(app);
#ifndef TANDEM_NO_SERVER
  tandem::cli::add_serve(app);
#endif
  tandem::cli::add_quantize(app);
  tandem::cli::add_plan(app);
  tandem::cli::add_synth(app);
  tandem::cli::add_bench(app);
#ifndef TANDEM_NO_SERVER
  tandem::cli::add_models(app);
  tandem::cli::add_cost(app);
  tandem::cli::add_ledger(app);
  tandem::cli::add_privacy(app);
  tandem::cli::add_summarize(app);
  tandem::cli::add_write(app);
#endif
  // `tandem help [COMMAND]`, as git and ollama have it.
  auto* help = app.add_subcommand("help", "Print this help, or a command's");
  static std::string help_topic;
  help->add_option("command", help_topic, "the command whose help to print");
  help->callback([&app] {
    if (help_topic.empty()) {  // app.help() would describe the selected subcommand, `help` itself
      std::cout << app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
      return;
    }
    CLI::App* command = nullptr;
    try {
      command = app.get_subcommand(help_topic);
    } catch (const CLI::OptionNotFound&) {
      tandem::fail("no command '", help_topic, "' ('tandem help' lists them)");
    }
    std::cout << command->help();
  });

  try {
    app.parse(argc, argv);
    if (app.get_subcommands().empty()) std::cout << app.help();  // bare `tandem`
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const tandem::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return tandem::cli::exit_code();
}
