// The routing ledger: totals survive a reopen, time windows, concurrent writers, bad files.
#include "router/ledger.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "router/pricing.h"
#include "support/test_paths.h"

using namespace tandem;
using router::Ledger;
using router::LedgerEntry;

namespace {

std::string fresh_db(const std::string& name) {
  const std::string path = test::temp_path(name);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return path;
}

LedgerEntry entry(int64_t unix_ms, std::string route, std::string reason, int64_t tokens_in, double cost_fen) {
  LedgerEntry e;
  e.unix_ms = unix_ms, e.route = std::move(route), e.reason = std::move(reason);
  e.tokens_in = tokens_in, e.cloud_cost_fen = cost_fen;
  return e;
}

// Mixed routes, with times 1000 ms apart starting at 10'000.
std::vector<LedgerEntry> known_entries() {
  const router::CloudPrice price{.per_call_fen = 1.2, .per_1k_input_fen = 0.1, .per_1k_output_fen = 0.3};
  struct Row {
    const char* route;
    const char* reason;
    int64_t in, out;
    double ttft, latency;
    bool fallback;
  };
  const Row rows[] = {{"device", "privacy:cn_id_number", 120, 40, 50, 800, false},
                      {"device", "difficulty:0.12", 30, 20, 40, 300, false},
                      {"cloud", "difficulty:0.85", 500, 300, 400, 2500, false},
                      {"refused", "policy:blocked", 10, 0, 0, 0, false},
                      {"device", "fallback:cloud_timeout", 60, 80, 70, 1200, true},
                      {"cloud", "difficulty:0.72", 200, 100, 350, 1800, false},
                      {"device", "", 5, 5, 10, 100, false}};
  std::vector<LedgerEntry> entries;
  int64_t t = 10'000;
  for (const auto& r : rows) {
    LedgerEntry e = entry(t, r.route, r.reason, r.in, 0);
    e.model = e.route == "cloud" ? "qwen-max" : "tiny";
    e.tokens_out = r.out, e.ttft_ms = r.ttft, e.latency_ms = r.latency, e.fallback = r.fallback;
    const double all_cloud = price.cost_fen(r.in, r.out);
    e.cloud_cost_fen = e.route == "cloud" ? all_cloud : 0;
    e.saved_fen = e.route == "device" ? all_cloud : 0;
    entries.push_back(e);
    t += 1000;
  }
  return entries;
}

TEST(Ledger, SummaryAfterReopenEqualsTheSumsOfWhatWasRecorded) {
  const std::string path = fresh_db("ledger.sqlite");
  const auto entries = known_entries();
  {
    Ledger ledger(path);
    for (const auto& e : entries) ledger.record(e);
  }
  Ledger reopened(path);
  const auto s = reopened.summary();

  router::LedgerSummary want;
  double latency_sum = 0, ttft_sum = 0;
  for (const auto& e : entries) {
    ++want.requests;
    want.device += e.route == "device", want.cloud += e.route == "cloud", want.refused += e.route == "refused";
    want.fallbacks += e.fallback;
    want.tokens_in += e.tokens_in, want.tokens_out += e.tokens_out;
    want.cloud_spend_fen += e.cloud_cost_fen, want.saved_fen += e.saved_fen;
    if (e.route != "refused") latency_sum += e.latency_ms, ttft_sum += e.ttft_ms;
  }
  EXPECT_EQ(s.requests, want.requests);
  EXPECT_EQ(s.device, 4);
  EXPECT_EQ(s.cloud, 2);
  EXPECT_EQ(s.refused, 1);
  EXPECT_EQ(s.fallbacks, 1);
  EXPECT_EQ(s.tokens_in, want.tokens_in);
  EXPECT_EQ(s.tokens_out, want.tokens_out);
  EXPECT_NEAR(s.cloud_spend_fen, want.cloud_spend_fen, 1e-9);
  EXPECT_NEAR(s.saved_fen, want.saved_fen, 1e-9);
  EXPECT_DOUBLE_EQ(s.device_share, 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(s.mean_latency_ms, latency_sum / 6);
  EXPECT_DOUBLE_EQ(s.mean_ttft_ms, ttft_sum / 6);
  const std::map<std::string, int64_t> reasons{{"privacy", 1}, {"difficulty", 3}, {"policy", 1}, {"fallback", 1}};
  EXPECT_EQ(s.by_reason, reasons);

  const auto back = reopened.entries();
  ASSERT_EQ(back.size(), entries.size());
  for (size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].unix_ms, entries[i].unix_ms);
    EXPECT_EQ(back[i].route, entries[i].route);
    EXPECT_EQ(back[i].reason, entries[i].reason);
    EXPECT_EQ(back[i].model, entries[i].model);
    EXPECT_EQ(back[i].fallback, entries[i].fallback);
    EXPECT_DOUBLE_EQ(back[i].cloud_cost_fen, entries[i].cloud_cost_fen);
  }
}

TEST(Ledger, TimeWindowsAndLimits) {
  Ledger ledger(":memory:");
  const auto entries = known_entries();
  for (const auto& e : entries) ledger.record(e);
  // Cloud rows are at 12'000 and 15'000.
  EXPECT_NEAR(ledger.cloud_spend_fen_since(0), entries[2].cloud_cost_fen + entries[5].cloud_cost_fen, 1e-9);
  EXPECT_NEAR(ledger.cloud_spend_fen_since(12'001), entries[5].cloud_cost_fen, 1e-9);
  EXPECT_EQ(ledger.cloud_spend_fen_since(15'001), 0);
  EXPECT_EQ(ledger.summary(14'000).requests, 3);
  EXPECT_EQ(ledger.summary(99'000).requests, 0);
  EXPECT_EQ(ledger.summary(99'000).device_share, 0);

  const auto last_two = ledger.entries(0, 2);
  ASSERT_EQ(last_two.size(), 2u);
  EXPECT_EQ(last_two[0].unix_ms, 15'000);  // the latest ones, oldest first
  EXPECT_EQ(last_two[1].unix_ms, 16'000);
  EXPECT_EQ(ledger.entries(13'500).size(), 3u);
}

TEST(Ledger, FourThreadsRecordingLoseNothing) {
  const std::string path = fresh_db("concurrent.sqlite");
  Ledger ledger(path);
  constexpr int kThreads = 4, kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&ledger, t] {
      for (int i = 0; i < kPerThread; ++i)
        ledger.record(entry(1000 + i, t % 2 ? "cloud" : "device", "load:test", 1, t % 2 ? 1.5 : 0));
    });
  for (auto& thread : threads) thread.join();
  const auto s = ledger.summary();
  EXPECT_EQ(s.requests, kThreads * kPerThread);
  EXPECT_EQ(s.tokens_in, kThreads * kPerThread);
  EXPECT_EQ(s.cloud, 2 * kPerThread);
  EXPECT_NEAR(s.cloud_spend_fen, 2 * kPerThread * 1.5, 1e-6);
  EXPECT_EQ(s.by_reason.at("load"), kThreads * kPerThread);
}

TEST(Ledger, ANonSqliteFileIsAnErrorNotACrash) {
  const std::string path = fresh_db("not-a-db.sqlite");
  std::ofstream(path, std::ios::binary) << std::string(4096, 'x') << "this is not a database";
  EXPECT_THROW(Ledger{path}, Error);
  const std::string truncated = fresh_db("truncated.sqlite");
  std::ofstream(truncated, std::ios::binary) << "SQLite format 3";  // the magic alone, cut short
  EXPECT_THROW(Ledger{truncated}, Error);
  const std::string dir = test::temp_path("ledger-dir");
  std::filesystem::create_directories(dir);
  EXPECT_THROW(Ledger{dir}, Error);
}

TEST(Ledger, CreatesMissingFoldersAndFindsItsDefaultHome) {
  const std::string nested = test::temp_path("deep/er/ledger.sqlite");
  std::filesystem::remove_all(test::temp_path("deep"));
  Ledger ledger(nested);
  ledger.record(entry(1, "device", "", 0, 0));
  EXPECT_TRUE(std::filesystem::exists(nested));

  const char* saved = std::getenv("TANDEM_HOME");
  const std::string old = saved ? saved : "";
  setenv("TANDEM_HOME", "/some/home", 1);
  EXPECT_EQ(router::default_ledger_path(), "/some/home/ledger.sqlite");
  unsetenv("TANDEM_HOME");
  EXPECT_NE(router::default_ledger_path().find("/.local/share/tandem/ledger.sqlite"), std::string::npos);
  if (saved) setenv("TANDEM_HOME", old.c_str(), 1);
}

TEST(Ledger, StartOfLocalDayIsLocalMidnight) {
  const int64_t now_ms = 1'700'000'123'456;
  const int64_t midnight = router::start_of_local_day_ms(now_ms);
  EXPECT_LE(midnight, now_ms);
  EXPECT_GT(midnight, now_ms - 25 * 3600 * 1000LL);
  const std::time_t t = std::time_t(midnight / 1000);
  std::tm local{};
  localtime_r(&t, &local);
  EXPECT_EQ(local.tm_hour, 0);
  EXPECT_EQ(local.tm_min, 0);
  EXPECT_EQ(local.tm_sec, 0);
  EXPECT_EQ(midnight % 1000, 0);
  EXPECT_EQ(router::start_of_local_day_ms(midnight), midnight);
}

TEST(CloudPrice, AddsPerCallAndPerTokenParts) {
  const router::CloudPrice price{.per_call_fen = 1.2, .per_1k_input_fen = 0.4, .per_1k_output_fen = 1.6};
  EXPECT_DOUBLE_EQ(price.cost_fen(0, 0), 1.2);
  EXPECT_DOUBLE_EQ(price.cost_fen(1000, 500), 1.2 + 0.4 + 0.8);
}

}  // namespace
