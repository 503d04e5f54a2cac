// tandem cost (placeholder until its implementation lands).
#include "commands.h"

namespace tandem::cli {

void add_cost(CLI::App& app) { app.add_subcommand("cost", "(not yet implemented)"); }

}  // namespace tandem::cli
