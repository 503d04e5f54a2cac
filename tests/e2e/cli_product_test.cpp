// The CLI as a new user meets it: flags validated as the server validates the same values,
// `run`'s output (no echo of a -f prompt, timings on stderr on their own line, -f - reads
// stdin), commands and help (--version, help, bare commands, one style, defaults shown), and
// the messages of models, ledger, plan, bench, quantize and convert-llama2c.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "support/test_paths.h"

namespace {

namespace fs = std::filesystem;
using tandem::test::run_cli;
using tandem::test::run_cli_with_input;
using tandem::test::shared_path;

const std::string kStories = shared_path("models/stories260K.gguf");

void expect_error(const tandem::test::CommandResult& r, const std::string& needle) {
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_LT(r.exit_code, 128) << "crashed: " << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

bool has_server_commands() { return run_cli("help models").exit_code == 0; }

// ---- validation ----------------------------------------------------------------------

TEST(CliValidation, OutOfRangeValuesAreErrorsNamingTheFlag) {
  const std::pair<const char*, const char*> cases[] = {
      {"--temp -1", "--temp"},          {"--temp 2.5", "--temp"},   {"--top-p 2", "--top-p"},
      {"--min-p -0.1", "--min-p"},      {"-c -3", "-c"},            {"-n -5", "-n"},
      {"-t -2", "-t"},                  {"--top-k -1", "--top-k"},  {"--repeat-penalty 11", "--repeat-penalty"},
      {"--presence-penalty 3", "--presence-penalty"},
  };
  for (const auto& [flag, name] : cases) {
    SCOPED_TRACE(flag);
    expect_error(run_cli("run -m " + kStories + " -p hi " + flag), name);
    expect_error(run_cli_with_input("chat -m " + kStories + " " + std::string(flag), "hi\n"), name);
  }
  // The edges of the server's ranges are accepted.
  const auto edges = run_cli("run -m " + kStories + " -p hi -t 1 --temp 2 --top-p 1 --min-p 0 -n -1 -c 16");
  EXPECT_EQ(edges.exit_code, 0) << edges.err;
}

TEST(CliValidation, ThreadsBeyondTheCoresAreCappedWithAWarning) {
  const auto r = run_cli("run -m " + kStories + " -p hi -n 2 --temp 0 -t 500");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_NE(r.err.find("warning: -t 500 is more than the " + std::to_string(cores) + " cores"), std::string::npos) << r.err;
}

TEST(CliValidation, AContextBeyondTrainingWarnsInRunPerplexityAndPlan) {
  // stories260K was trained with 2048 tokens.
  const std::string warning = "more than the 2048 tokens the model was trained with";
  auto r = run_cli("run -m " + kStories + " -p hi -n 2 -t 1 -c 4096");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(warning), std::string::npos) << r.err;
  r = run_cli("perplexity -m " + kStories + " --tokens " + shared_path("models/stories260K.ppl.json") + " -t 1 -c 4096");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(warning), std::string::npos) << r.err;
  r = run_cli("plan -m " + kStories + " -c 4096");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(warning), std::string::npos) << r.err;
  r = run_cli("plan -m " + kStories + " -c 2048");
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
}

// ---- run's output --------------------------------------------------------------------

TEST(CliRun, AFilePromptIsNotEchoedAndDashReadsStdin) {
  const std::string prompt_file = tandem::test::temp_path("prompt-echo.txt");
  std::ofstream(prompt_file) << "Once upon a time there was a dragon named Zorblax";
  const std::string args = " -n 8 --temp 0 -t 1";
  const auto from_file = run_cli("run -m " + kStories + " -f " + prompt_file + args);
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  EXPECT_EQ(from_file.out.find("Zorblax"), std::string::npos) << "the -f prompt was echoed: " << from_file.out;
  const auto from_stdin =
      run_cli_with_input("run -m " + kStories + " -f -" + args, "Once upon a time there was a dragon named Zorblax");
  ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin.err;
  EXPECT_EQ(from_stdin.out, from_file.out);
  const auto with_p = run_cli("run -m " + kStories + " -p 'Once upon a time'" + args);
  EXPECT_EQ(with_p.out.rfind("Once upon a time", 0), 0u) << "-p is echoed, as llama.cpp does: " << with_p.out;
}

TEST(CliRun, VerboseTimingsGoToStderrOnALineOfTheirOwn) {
  const auto r = run_cli("run -m " + kStories + " -p 'Once upon a time' -n 8 --temp 0 -t 1 -v");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("prompt:"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.back(), '\n');
  EXPECT_TRUE(std::regex_search(r.err, std::regex("(^|\n)prompt: \\d+ tokens in [0-9.]+ s .*finish: \\w+\n"))) << r.err;
}

// ---- commands and help -----------------------------------------------------------------

TEST(CliHelp, VersionHelpAndBareCommands) {
  auto r = run_cli("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(std::regex_match(r.out, std::regex("tandem \\d+\\.\\d+\\.\\d+\n"))) << r.out;

  for (const std::string how : {"help", "", "--help"}) {
    SCOPED_TRACE("tandem " + how);
    r = run_cli(how);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (const char* needle : {"run", "chat", "serve", "TANDEM_HOME", "TANDEM_MODEL"})
      if (has_server_commands() || std::string(needle) != "serve")
        EXPECT_NE(r.out.find(needle), std::string::npos) << needle << " in\n" << r.out;
  }
  r = run_cli("help run");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--n-predict"), std::string::npos) << r.out;
  expect_error(run_cli("help frobnicate"), "no command 'frobnicate'");

  if (has_server_commands()) {
    r = run_cli("models");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (const char* sub : {"list", "add", "remove", "path"}) EXPECT_NE(r.out.find(sub), std::string::npos) << r.out;
  }
}

TEST(CliHelp, OneStyleAndDefaultsShown) {
  // Every command's options: a lower-case description (acronyms aside), and a default
  // shown for the numeric ones that have one.
  const std::regex option_line("^  (-\\w, )?--?[\\w-]+.*?  +(\\S.*)$");
  std::vector<std::string> commands = {"run", "chat", "info", "tokenize", "logits", "perplexity", "quantize", "plan", "synth", "bench"};
  if (has_server_commands()) commands.insert(commands.end(), {"serve", "ledger", "cost simulate", "models add"});
  for (const std::string& command : commands) {
    SCOPED_TRACE(command);
    const auto r = run_cli(command + " --help");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::istringstream lines(r.out);
    int options = 0;
    for (std::string line; std::getline(lines, line);) {
      std::smatch m;
      if (!std::regex_match(line, m, option_line)) continue;
      ++options;
      const std::string description = m[2];
      EXPECT_FALSE(std::regex_search(description, std::regex("^[A-Z][a-z]"))) << "capitalized: " << line;
    }
    EXPECT_GT(options, 0) << r.out;
  }
  const auto run = run_cli("run --help");
  // CLI11 shows a default as TYPE=VALUE.
  EXPECT_TRUE(std::regex_search(run.out, std::regex("-n,--n-predict INT=256 "))) << run.out;
  EXPECT_TRUE(std::regex_search(run.out, std::regex("--temp FLOAT=0\\.8 "))) << run.out;
  EXPECT_TRUE(std::regex_search(run.out, std::regex("--kv-type TEXT=f16 "))) << run.out;
  EXPECT_TRUE(std::regex_search(run.out, std::regex("-s,--seed UINT=random "))) << run.out;
}

TEST(CliCommands, InfoTakesDashMAndTokenizeNeedsText) {
  const auto positional = run_cli("info " + kStories), flag = run_cli("info -m " + kStories);
  ASSERT_EQ(flag.exit_code, 0) << flag.err;
  EXPECT_EQ(flag.out, positional.out);
  expect_error(run_cli("tokenize -m " + kStories), "tokenize needs the text");
  const auto empty = run_cli("tokenize -m " + kStories + " -p '' --json");
  EXPECT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(empty.out, "[]\n");
}

// ---- messages --------------------------------------------------------------------------

TEST(CliMessages, PlanListsKvTypesSmallestFirstAndSaysNone) {
  const auto r = run_cli("plan -m " + kStories + " --budget 3MiB");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t q4 = r.out.find("q4_0"), q8 = r.out.find("q8_0", q4), f16 = r.out.find("f16", q8 == std::string::npos ? q4 : q8),
               f32 = r.out.find("f32", q4);
  EXPECT_LT(q4, q8) << r.out;
  EXPECT_LT(q8, f16) << r.out;
  EXPECT_LT(f16, f32) << r.out;
  const auto tiny = run_cli("plan -m " + kStories + " --budget 1KiB");
  const std::string budget_line = tiny.out.substr(tiny.out.find("budget 1KiB"));
  EXPECT_NE(budget_line.find("q4_0 none"), std::string::npos) << budget_line;
  EXPECT_FALSE(std::regex_search(budget_line, std::regex(" 0( |\n|$)"))) << budget_line;
  expect_error(run_cli("plan -m " + kStories + " --type Q4_0"), "--type goes with --shape");
}

TEST(CliMessages, BenchWithNoPromptTokensSkipsThePromptTest) {
  const auto r = run_cli("bench -m " + kStories + " -p 0 -n 4 -r 1 -t 1 --bandwidth-mib 16");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("| pp"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| tg4 |"), std::string::npos) << r.out;
}

TEST(CliMessages, QuantizeSummarizesItsFallbacksInOneLine) {
  const std::string out = tandem::test::temp_path("stories-q4k.gguf");
  const auto r = run_cli("quantize " + kStories + " " + out + " Q4_K_M -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t warnings = 0;
  for (size_t at = r.err.find("warning:"); at != std::string::npos; at = r.err.find("warning:", at + 1)) ++warnings;
  EXPECT_EQ(warnings, 1u) << r.err;
  EXPECT_TRUE(std::regex_search(r.err, std::regex("warning: \\d+ of \\d+ tensors use a fallback type: row length \\d+ is not a multiple"))) << r.err;
}

TEST(CliMessages, ConvertSaysWhenAFileIsNotACheckpoint) {
  const std::string out = tandem::test::temp_path("never.gguf");
  expect_error(run_cli("convert-llama2c " + kStories + " " + shared_path("models/tok512.bin") + " -o " + out),
               "not a llama2.c checkpoint");
  const std::string text = tandem::test::temp_path("notes.txt");
  std::ofstream(text) << "these are some notes, not weights at all, but long enough for a header";
  expect_error(run_cli("convert-llama2c " + text + " " + shared_path("models/tok512.bin") + " -o " + out),
               "not a llama2.c checkpoint");
}

TEST(CliMessages, LedgerOnAFreshInstallIsAnEmptySummary) {
  if (!has_server_commands()) GTEST_SKIP() << "a build without the router";
  const std::string home = tandem::test::temp_path("fresh-home");
  fs::remove_all(home);
  const auto r = run_cli("ledger --db " + home + "/ledger.sqlite");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("requests +0\n"))) << r.out;
  EXPECT_NE(r.out.find("no ledger at"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(home + "/ledger.sqlite")) << "reporting created a ledger";
  const auto json = run_cli("ledger --json --db " + home + "/ledger.sqlite");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out)["requests"], 0);
}

TEST(CliMessages, ModelsAddSaysWhatFailed) {
  if (!has_server_commands()) GTEST_SKIP() << "a build without the model store";
  const std::string dir = " --dir " + tandem::test::temp_path("store-messages");
  expect_error(run_cli("models add ftp://example.com/m.gguf" + dir), "ftp:// is not supported");
  // Nothing listens on port 1 of this machine.
  const auto refused = run_cli("models add http://127.0.0.1:1/m.gguf" + dir);
  expect_error(refused, "connection refused");
  EXPECT_EQ(refused.err.find("["), std::string::npos) << "a progress bar on a pipe: " << refused.err;
}

}  // namespace
