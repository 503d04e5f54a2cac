// tandem: run GGUF language models on this device.
#include <cstdio>

#include "commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"tandem: run GGUF language models on the device"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
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
  try {
    app.parse(argc, argv);
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
