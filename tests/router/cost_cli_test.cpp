// `tandem cost simulate` and `tandem ledger` end to end.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "router/ledger.h"
#include "support/test_paths.h"

using namespace tandem;
using test::run_cli;

namespace {

TEST(CostCli, SeedScenarioAsOneJsonLine) {
  auto r = run_cli("cost simulate --users 3e8 --calls-per-day 10 --price-fen 1.2 --device-share 0 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["yearly_cost_yuan"], 13140000000);
  EXPECT_EQ(j["cloud_calls_per_year"], 1095000000000);
  EXPECT_EQ(j["device_share"], 0);

  r = run_cli("cost simulate --price-fen 1.2:1.5 --device-share 0 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto range = nlohmann::json::parse(r.out);
  EXPECT_EQ(range["yearly_cost_yuan"], 13140000000);
  EXPECT_EQ(range["yearly_cost_yuan_high"], 16425000000);
}

TEST(CostCli, ShareRangeGivesARowPerStepAndAChart) {
  const std::string png = test::temp_path("cost.png");
  std::filesystem::remove(png);
  auto r = run_cli("cost simulate --device-share 0:1 --steps 10 --json --png " + png);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::vector<double> shares;
  while (std::getline(lines, line)) shares.push_back(nlohmann::json::parse(line)["device_share"].get<double>());
  ASSERT_EQ(shares.size(), 11u);
  EXPECT_DOUBLE_EQ(shares.front(), 0);
  EXPECT_DOUBLE_EQ(shares.back(), 1);
  ASSERT_TRUE(std::filesystem::exists(png));
  EXPECT_GT(std::filesystem::file_size(png), 1000u);

  r = run_cli("cost simulate --device-share 0:1 --steps 10");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("13,140,000,000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("16.43B"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("100%"), std::string::npos) << r.out;
}

TEST(CostCli, NonsenseIsRejectedWithTheOptionNamed) {
  struct Case {
    const char* args;
    const char* message;
  };
  const Case cases[] = {{"--users=-5", "users"},
                        {"--device-share 1.5", "--device-share"},
                        {"--device-share 0.8:0.2", "--device-share"},
                        {"--users lots", "--users"},
                        {"--price-fen 1.5:1.2", "--price-fen"}};
  for (const auto& c : cases) {
    const auto r = run_cli(std::string("cost simulate ") + c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << ": " << r.err;
  }
}

TEST(LedgerCli, SummarisesARecordedLedger) {
  const std::string db = test::temp_path("cli-ledger.sqlite");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
  {
    struct Row {
      int64_t unix_ms;
      const char* route;
      const char* reason;
      double cost_fen, saved_fen;
    };
    const Row rows[] = {{1000, "device", "privacy:cn_phone", 0, 1.2},
                        {2000, "cloud", "difficulty:0.9", 1.5, 0},
                        {3000, "device", "difficulty:0.1", 0, 1.3}};
    router::Ledger ledger(db);
    for (const auto& r : rows) {
      router::LedgerEntry e;
      e.unix_ms = r.unix_ms, e.route = r.route, e.reason = r.reason, e.cloud_cost_fen = r.cost_fen, e.saved_fen = r.saved_fen;
      ledger.record(e);
    }
  }
  auto r = run_cli("ledger --db " + db + " --json --recent 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["requests"], 3);
  EXPECT_EQ(j["device"], 2);
  EXPECT_DOUBLE_EQ(j["cloud_spend_fen"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(j["saved_fen"].get<double>(), 2.5);
  EXPECT_EQ(j["by_reason"]["difficulty"], 2);
  EXPECT_EQ(j["recent"].size(), 2u);

  r = run_cli("ledger --db " + db);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("66.7%"), std::string::npos) << r.out;

  r = run_cli("ledger --db " + test::temp_path("missing.sqlite"));  // a fresh install: an empty summary
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("no ledger"), std::string::npos) << r.out;
  r = run_cli("ledger --db " + db + " --since yesterday-ish");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--since"), std::string::npos) << r.err;
}

}  // namespace
