// --no-mmap and --mlock on run/perplexity: the same tokens and numbers as the mapped
// default, and --mlock never fails a run (a warning when the lock limit refuses).
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "support/test_paths.h"

using namespace tandem;

namespace {

const std::string kModel = test::shared_path("models/stories260K.gguf");
const std::string kGreedy = "run -m " + kModel + " -p 'Once upon a time' -n 48 --temp 0 -t 1";

struct Variant {
  const char* flags;
};

TEST(WeightsFlags, GreedyOutputIsTheSameHoweverTheWeightsAreLoaded) {
  const auto mapped = test::run_cli(kGreedy);
  ASSERT_EQ(mapped.exit_code, 0) << mapped.err;
  ASSERT_GT(mapped.out.size(), 40u);
  for (const Variant& v : {Variant{"--no-mmap"}, Variant{"--mlock"}, Variant{"--no-mmap --mlock"}}) {
    const auto r = test::run_cli(kGreedy + " " + v.flags);
    ASSERT_EQ(r.exit_code, 0) << v.flags << ": " << r.err;
    EXPECT_EQ(r.out, mapped.out) << v.flags;
  }
}

TEST(WeightsFlags, NoProgressBarWhenStderrIsNotATerminal) {
  const auto r = test::run_cli(kGreedy + " --no-mmap");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("loading"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('%'), std::string::npos) << r.err;
}

TEST(WeightsFlags, PerplexityIsTheSameWithNoMmap) {
  const std::string ppl = "perplexity -m " + kModel + " --tokens " + test::shared_path("models/stories260K.ppl.json") + " --json -t 1";
  const auto mapped = test::run_cli(ppl);
  const auto read = test::run_cli(ppl + " --no-mmap");
  ASSERT_EQ(mapped.exit_code, 0) << mapped.err;
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_EQ(read.out, mapped.out);
}

// The refusal is made in a child: RLIMIT_MEMLOCK lowered to 0 and, for root (CI), the
// CAP_IPC_LOCK capability dropped from its bounding set before exec, without which the
// limit does not apply; so the warning path runs for every user.
TEST(WeightsFlags, MlockRefusedIsAWarningNotAFailure) {
  const std::string err_path = test::temp_path("mlock.err");
  std::fflush(stdout);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const rlimit none{0, 0};
    if (setrlimit(RLIMIT_MEMLOCK, &none) != 0) _exit(120);
    if (geteuid() == 0 && prctl(PR_CAPBSET_DROP, CAP_IPC_LOCK, 0, 0, 0) != 0) _exit(121);
    if (!std::freopen(err_path.c_str(), "w", stderr) || !std::freopen("/dev/null", "w", stdout)) _exit(122);
    std::vector<std::string> args = {test::cli_path(), "run", "-m", kModel, "-p", "Once upon a time", "-n", "8",
                                     "--temp", "0", "-t", "1", "--mlock"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_NE(WEXITSTATUS(status), 120) << "setrlimit failed";
  ASSERT_NE(WEXITSTATUS(status), 121) << "could not drop CAP_IPC_LOCK";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::ifstream in(err_path);
  std::stringstream err;
  err << in.rdbuf();
  EXPECT_NE(err.str().find("warning: --mlock"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("RLIMIT_MEMLOCK is 0 KiB"), std::string::npos) << err.str();
}

TEST(WeightsFlags, AMissingFileIsStillAClearError) {
  const auto r = test::run_cli("run -m /nonexistent/model.gguf -p hi --no-mmap");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent/model.gguf"), std::string::npos) << r.err;
}

}  // namespace
