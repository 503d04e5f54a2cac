#include "support/test_paths.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tandem::test {

std::string shared_path(const std::string& relative) { return std::string(TANDEM_SHARED_DIR) + "/" + relative; }

bool shared_exists(const std::string& relative) { return std::filesystem::exists(shared_path(relative)); }

std::string cli_path() { return TANDEM_CLI; }

std::string temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("tandem-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

CommandResult run_cli(const std::string& args) { return run_cli_with_input(args, ""); }

CommandResult run_cli_with_input(const std::string& args, const std::string& input) {
  static int counter = 0;
  std::string in_file = temp_path("cli-in-" + std::to_string(counter));
  std::ofstream(in_file, std::ios::binary) << input;
  std::string out_file = temp_path("cli-out-" + std::to_string(counter));
  std::string err_file = temp_path("cli-err-" + std::to_string(counter++));
  // The launcher is empty natively and qemu-user for a cross-built CLI.
  std::string cmd = std::string(TANDEM_CLI_LAUNCHER) + " " + cli_path() + " " + args + " >" + out_file + " 2>" + err_file + " <" + in_file;
  int status = std::system(cmd.c_str());
  auto slurp = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_file);
  r.err = slurp(err_file);
  return r;
}

}  // namespace tandem::test
