// --no-mmap and --mlock on run/perplexity: the same tokens and numbers as the mapped
// default, and --mlock never fails a run (a warning when the lock limit refuses).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

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

TEST(WeightsFlags, MlockRefusedIsAWarningNotAFailure) {
  if (geteuid() == 0) GTEST_SKIP() << "root may lock memory whatever RLIMIT_MEMLOCK says";
  const std::string err_path = test::temp_path("mlock.err");
  const std::string command = "ulimit -l 0 && " + test::cli_path() + " " + kGreedy + " --mlock >/dev/null 2>" + err_path;
  ASSERT_EQ(std::system(("bash -c \"" + command + "\"").c_str()), 0);
  std::ifstream in(err_path);
  std::stringstream err;
  err << in.rdbuf();
  EXPECT_NE(err.str().find("warning: --mlock"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("RLIMIT_MEMLOCK"), std::string::npos) << err.str();
}

TEST(WeightsFlags, AMissingFileIsStillAClearError) {
  const auto r = test::run_cli("run -m /nonexistent/model.gguf -p hi --no-mmap");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent/model.gguf"), std::string::npos) << r.err;
}

}  // namespace
