// tandem ledger (placeholder until its implementation lands).
#include "commands.h"

namespace tandem::cli {

void add_ledger(CLI::App& app) { app.add_subcommand("ledger", "(not yet implemented)"); }

}  // namespace tandem::cli
