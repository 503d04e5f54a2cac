// Where tests find ../shared and the built CLI.
#pragma once
#include <string>

namespace tandem::test {

std::string shared_path(const std::string& relative);  // ../shared/<relative>
bool shared_exists(const std::string& relative);
std::string cli_path();
std::string temp_path(const std::string& name);  // unique per test process

struct CommandResult {
  int exit_code;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs the tandem CLI with the given shell-quoted argument string.
CommandResult run_cli(const std::string& args);
// Same, with `input` as the CLI's standard input.
CommandResult run_cli_with_input(const std::string& args, const std::string& input);

}  // namespace tandem::test
