// tandem models (placeholder until its implementation lands).
#include "commands.h"

namespace tandem::cli {

void add_models(CLI::App& app) { app.add_subcommand("models", "(not yet implemented)"); }

}  // namespace tandem::cli
