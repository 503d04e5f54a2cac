// `tandem bench` and `tandem synth` end to end.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "gguf/file.h"
#include "support/test_paths.h"

using namespace tandem;
using test::run_cli;

namespace {

TEST(BenchCli, JsonLinesCarryThePeerFieldsPerThreadCount) {
  auto r = run_cli("bench -m " + test::shared_path("models/stories260K.gguf") + " -p 8 -n 4 -r 2 -t 1,2 --json --bandwidth-mib 32");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::vector<int> threads;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["engine"], "tandem");
    EXPECT_NE(j["model"].get<std::string>().find("stories260K.gguf"), std::string::npos);
    threads.push_back(j["threads"].get<int>());
    EXPECT_EQ(j["pp"]["tokens"], 8);
    EXPECT_EQ(j["tg"]["tokens"], 4);
    // The timings are the benchmark's output, not something a test can assert: only their
    // presence is checked, and the events behind them (tokens run, regions counted).
    for (const char* test : {"pp", "tg"})
      for (const char* figure : {"min", "median", "max"}) EXPECT_TRUE(j[test][figure].is_number()) << test << "." << figure;
    for (const char* figure : {"bandwidth_gbs", "tg_roofline_fraction"}) EXPECT_TRUE(j[figure].is_number()) << figure;
    const auto& o = j["tg_overhead"];
    for (const char* figure : {"token_us", "sync_wait_us", "sampling_us", "fraction"})
      EXPECT_TRUE(o[figure].is_number()) << "tg_overhead." << figure;
    // One thread runs every region inline; two wait at the end of each (a counter, not a time).
    if (j["threads"] == 1) EXPECT_EQ(o["regions"], 0);
    else EXPECT_GT(o["regions"].get<int>(), 0);
  }
  EXPECT_EQ(threads, (std::vector<int>{1, 2}));
}

// --lookup / --draft add one line per thread count: the verification pass per k beside one
// decode step, and greedy generation plain and speculative (timings present, not asserted).
nlohmann::json speculative_line(const std::string& flags) {
  auto r = run_cli("bench -m " + test::shared_path("models/stories260K.gguf") + " -p 16 -n 12 -r 1 -t 1 --json " +
                   "--bandwidth-mib 32 " + flags);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  nlohmann::json found;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    if (j.value("test", "") == "speculative") found = j;
  }
  EXPECT_FALSE(found.is_null()) << r.out;
  if (found.is_null()) return found;
  std::vector<int> ks;
  for (const auto& v : found["verify"]) {
    ks.push_back(v["k"].get<int>());
    EXPECT_TRUE(v["pass_ms"].is_number() && v["ratio"].is_number()) << v.dump();
  }
  EXPECT_EQ(ks, (std::vector<int>{2, 4, 8}));
  for (const char* test : {"plain_tg", "speculative_tg"}) {
    EXPECT_EQ(found[test]["tokens"], 12) << test;
    EXPECT_TRUE(found[test]["median"].is_number()) << test;
  }
  EXPECT_TRUE(found["speedup"].is_number());
  EXPECT_LE(found["accepted"].get<int>(), found["drafted"].get<int>());
  return found;
}

TEST(BenchCli, SpeculativeLineReportsVerificationCostAndSpeedup) {
  const auto lookup = speculative_line("--lookup 2");
  ASSERT_FALSE(lookup.is_null());
  EXPECT_EQ(lookup["speculative"]["method"], "lookup");
  EXPECT_EQ(lookup["speculative"]["k"], 8);  // lookup's default
  // The target drafting for itself, greedily: every drafted token is kept.
  const auto self = speculative_line("--draft " + test::shared_path("models/stories260K.gguf") + " --draft-k 3");
  ASSERT_FALSE(self.is_null());
  EXPECT_EQ(self["speculative"]["method"], "draft");
  EXPECT_GT(self["drafted"].get<int>(), 0);
  EXPECT_EQ(self["accepted"], self["drafted"]);
  EXPECT_DOUBLE_EQ(self["acceptance"].get<double>(), 1.0);
  // A draft with another vocabulary is refused before anything runs.
  auto r = run_cli("bench -m " + test::shared_path("models/stories260K.gguf") + " -p 16 -n 4 -r 1 -t 1 --draft " +
                   test::shared_path("conformance/qwen2/model-Q8_0.gguf"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("vocabulary"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("| tandem |"), std::string::npos) << r.out;
}

TEST(BenchCli, TextOutputIsATable) {
  auto r = run_cli("bench -m " + test::shared_path("models/stories260K.gguf") + " -p 8 -n 4 -r 1 -t 1 --bandwidth-mib 32");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| tandem | stories260K.gguf | 1 | pp8 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| tandem | stories260K.gguf | 1 | tg4 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("read bandwidth"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("per-token overhead"), std::string::npos) << r.out;
}

TEST(BenchCli, SynthWritesALoadableModelAndRejectsUnknownShapes) {
  const std::string out = test::temp_path("synth-cli.gguf");
  auto r = run_cli("synth --shape tinyllama-1.1b --type Q8_0 --layers 1 -o " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(gguf::File::open(out).get_uint("llama.block_count"), 1u);
  r = run_cli("run -m " + out + " -p 'hi' -n 4 --temp 0 --ignore-eos -t 2 -v");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("hi", 0), 0u) << r.out;  // the prompt, then the continuation
  EXPECT_NE(r.err.find("generated 4 tokens"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("finish: length"), std::string::npos) << r.err;
  r = run_cli("synth --shape llama-9b --type Q4_0 -o " + out);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("unknown shape 'llama-9b'"), std::string::npos) << r.err;
}

}  // namespace
