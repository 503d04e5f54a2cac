// tandem ledger: what the router did, from its SQLite ledger: how much ran on the
// device, what the cloud cost, what the device saved, and why requests went where.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.h"
#include "router/ledger.h"

namespace tandem::cli {
namespace {

struct LedgerArgs {
  std::string db, since = "all";
  int recent = 0;
  bool json = false;
};

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// "all", "today", or a local date "YYYY-MM-DD" with an optional "THH:MM[:SS]" (or a space).
int64_t parse_since(const std::string& text) {
  if (text == "all") return 0;
  if (text == "today") return router::start_of_local_day_ms(now_ms());
  std::tm local{};
  int consumed = 0;
  const bool date = std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &local.tm_year, &local.tm_mon, &local.tm_mday, &consumed) == 3;
  bool valid = date && consumed == 10;
  if (valid && size_t(consumed) < text.size()) {
    int rest = 0;
    const char* time = text.c_str() + consumed;
    const int n = std::sscanf(time, "%*1[T ]%2d:%2d%n:%2d%n", &local.tm_hour, &local.tm_min, &rest, &local.tm_sec, &rest);
    valid = n >= 2 && size_t(consumed + rest) == text.size();
  }
  const std::tm asked = local;
  local.tm_year -= 1900, local.tm_mon -= 1, local.tm_isdst = -1;
  const std::time_t t = valid ? std::mktime(&local) : std::time_t(-1);
  // mktime normalises 2024-02-31 to March: a date that moved was not a date.
  if (t == std::time_t(-1) || local.tm_mday != asked.tm_mday || local.tm_mon != asked.tm_mon - 1 ||
      asked.tm_hour > 23 || asked.tm_min > 59 || asked.tm_sec > 59)
    fail("--since: '", text, "' is not today, all, or a date like 2024-05-01 (optionally 2024-05-01T08:30)");
  return int64_t(t) * 1000;
}

std::string local_time(int64_t unix_ms) {
  const std::time_t t = std::time_t(unix_ms / 1000);
  std::tm local{};
  localtime_r(&t, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

nlohmann::ordered_json entry_json(const router::LedgerEntry& e) {
  return {{"unix_ms", e.unix_ms},           {"route", e.route},           {"reason", e.reason},
          {"model", e.model},               {"tokens_in", e.tokens_in},   {"tokens_out", e.tokens_out},
          {"ttft_ms", e.ttft_ms},           {"latency_ms", e.latency_ms}, {"cloud_cost_fen", e.cloud_cost_fen},
          {"saved_fen", e.saved_fen},       {"fallback", e.fallback}};
}

nlohmann::ordered_json summary_json(const std::string& db, int64_t since, const router::LedgerSummary& s) {
  nlohmann::ordered_json by_reason = nlohmann::ordered_json::object();
  for (const auto& [reason, count] : s.by_reason) by_reason[reason] = count;
  return {{"db", db},
          {"since_unix_ms", since},
          {"requests", s.requests},
          {"device", s.device},
          {"cloud", s.cloud},
          {"refused", s.refused},
          {"device_share", s.device_share},
          {"fallbacks", s.fallbacks},
          {"tokens_in", s.tokens_in},
          {"tokens_out", s.tokens_out},
          {"cloud_spend_fen", s.cloud_spend_fen},
          {"cloud_spend_yuan", s.cloud_spend_fen / 100},
          {"saved_fen", s.saved_fen},
          {"saved_yuan", s.saved_fen / 100},
          {"mean_ttft_ms", s.mean_ttft_ms},
          {"mean_latency_ms", s.mean_latency_ms},
          {"by_reason", by_reason}};
}

void print_summary(const std::string& db, int64_t since, const router::LedgerSummary& s) {
  std::printf("ledger %s, %s\n\n", db.c_str(), since > 0 ? ("since " + local_time(since)).c_str() : "all time");
  std::printf("  %-14s %lld\n", "requests", (long long)s.requests);
  std::printf("  %-14s %lld  (device share %.1f%% of answered)\n", "  device", (long long)s.device, s.device_share * 100);
  std::printf("  %-14s %lld\n", "  cloud", (long long)s.cloud);
  std::printf("  %-14s %lld\n", "  refused", (long long)s.refused);
  std::printf("  %-14s %lld  (cloud failed, device answered)\n", "fallbacks", (long long)s.fallbacks);
  std::printf("  %-14s %lld in, %lld out\n", "tokens", (long long)s.tokens_in, (long long)s.tokens_out);
  std::printf("  %-14s %.2f fen (%.4f yuan)\n", "cloud spend", s.cloud_spend_fen, s.cloud_spend_fen / 100);
  std::printf("  %-14s %.2f fen (%.4f yuan) against sending everything to the cloud\n", "saved", s.saved_fen,
              s.saved_fen / 100);
  std::printf("  %-14s %.1f ms\n", "mean TTFT", s.mean_ttft_ms);
  std::printf("  %-14s %.1f ms\n", "mean latency", s.mean_latency_ms);
  if (!s.by_reason.empty()) {
    std::printf("\n  by reason\n");
    for (const auto& [reason, count] : s.by_reason) std::printf("    %-20s %lld\n", reason.c_str(), (long long)count);
  }
}

void print_recent(const std::vector<router::LedgerEntry>& entries) {
  std::printf("\n  %-19s  %-7s  %-28s  %-20s  %6s  %6s  %8s  %9s  %8s  %8s\n", "time", "route", "reason", "model", "in",
              "out", "ttft ms", "total ms", "cost fen", "saved fen");
  for (const auto& e : entries)
    std::printf("  %-19s  %-7s  %-28s  %-20s  %6lld  %6lld  %8.1f  %9.1f  %8.3f  %8.3f%s\n", local_time(e.unix_ms).c_str(),
                e.route.c_str(), e.reason.c_str(), e.model.c_str(), (long long)e.tokens_in, (long long)e.tokens_out,
                e.ttft_ms, e.latency_ms, e.cloud_cost_fen, e.saved_fen, e.fallback ? "  (fallback)" : "");
}

void run_ledger(const LedgerArgs& a) {
  const std::string db = a.db.empty() ? router::default_ledger_path() : a.db;
  const int64_t since = parse_since(a.since);
  if (a.recent < 0) fail("--recent must be 0 or more, got ", a.recent);
  // No ledger yet (a fresh install): an empty summary, and reporting must not leave an
  // empty database behind where none was.
  const bool exists = std::filesystem::exists(db);
  std::optional<router::Ledger> ledger;
  if (exists) ledger.emplace(db);
  const router::LedgerSummary summary = ledger ? ledger->summary(since) : router::LedgerSummary{};
  const auto recent = ledger && a.recent > 0 ? ledger->entries(since, a.recent) : std::vector<router::LedgerEntry>{};
  if (a.json) {
    nlohmann::ordered_json j = summary_json(db, since, summary);
    if (a.recent > 0) {
      j["recent"] = nlohmann::ordered_json::array();
      for (const auto& e : recent) j["recent"].push_back(entry_json(e));
    }
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  print_summary(db, since, summary);
  if (!exists) std::printf("\n(no ledger at %s yet: tandem serve and chat --router record one as they route)\n", db.c_str());
  if (a.recent > 0) print_recent(recent);
}

}  // namespace

void add_ledger(CLI::App& app) {
  auto* cmd = app.add_subcommand("ledger", "Device share, cloud spend and savings from the routing ledger");
  static LedgerArgs args;
  cmd->add_option("--db", args.db, "ledger database (default $TANDEM_HOME/ledger.sqlite, else ~/.local/share/tandem/)");
  cmd->add_option("--since", args.since, "today, all, or a local date such as 2024-05-01[T08:30]")->capture_default_str();
  cmd->add_option("--recent", args.recent, "also list the last N requests");
  cmd->add_flag("--json", args.json, "the summary as one JSON object");
  cmd->callback([] { run_ledger(args); });
}

}  // namespace tandem::cli
