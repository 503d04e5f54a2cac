// The routing ledger: one SQLite row per request that the router handled, so that
// `tandem ledger` can say how much ran on the device, what the cloud cost and what
// the device saved, and the router can hold a daily cloud budget.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace tandem::router {

struct LedgerEntry {
  int64_t unix_ms = 0;          // when the request arrived
  std::string route;            // "device", "cloud" or "refused"
  std::string reason;           // e.g. "privacy:cn_id_number", "difficulty:0.72", "fallback:cloud_timeout"
  std::string model;            // model that answered
  int64_t tokens_in = 0, tokens_out = 0;
  double ttft_ms = 0, latency_ms = 0;
  double cloud_cost_fen = 0;    // what this request cost (0 on the device)
  double saved_fen = 0;         // what it would have cost all-cloud minus what it cost
  bool fallback = false;        // the cloud failed and the device answered
};

struct LedgerSummary {
  int64_t requests = 0, device = 0, cloud = 0, refused = 0, fallbacks = 0;
  int64_t tokens_in = 0, tokens_out = 0;
  double cloud_spend_fen = 0, saved_fen = 0;
  double device_share = 0;  // device / (device + cloud), 0 when none
  // Over answered requests only: a refusal has no latency worth averaging in.
  double mean_latency_ms = 0, mean_ttft_ms = 0;
  std::map<std::string, int64_t> by_reason;  // reason prefix before ':' -> count (empty reasons left out)
};

class Ledger {  // thread-safe (one connection, a mutex); WAL mode; creates the table if missing
 public:
  // ":memory:" allowed; creates missing parent folders; tandem::Error if it cannot open
  // the file or the file is not a ledger database.
  explicit Ledger(const std::string& path);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  void record(const LedgerEntry& entry);
  LedgerSummary summary(int64_t since_unix_ms = 0) const;
  double cloud_spend_fen_since(int64_t since_unix_ms) const;  // for the daily budget
  // The latest `limit` entries at or after since_unix_ms, oldest first.
  std::vector<LedgerEntry> entries(int64_t since_unix_ms = 0, int limit = 1000) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  mutable std::mutex mutex_;
};

int64_t start_of_local_day_ms(int64_t unix_ms);  // midnight local time, for "per day"

// ledger.sqlite in tandem_home(): $TANDEM_HOME, else $XDG_DATA_HOME/tandem, else ~/.local/share/tandem.
std::string default_ledger_path();

}  // namespace tandem::router
