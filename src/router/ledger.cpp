#include "router/ledger.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "core/data_dir.h"
#include "core/error.h"

namespace tandem::router {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS ledger (
  id INTEGER PRIMARY KEY,
  unix_ms INTEGER NOT NULL,
  route TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL DEFAULT '',
  tokens_in INTEGER NOT NULL DEFAULT 0,
  tokens_out INTEGER NOT NULL DEFAULT 0,
  ttft_ms REAL NOT NULL DEFAULT 0,
  latency_ms REAL NOT NULL DEFAULT 0,
  cloud_cost_fen REAL NOT NULL DEFAULT 0,
  saved_fen REAL NOT NULL DEFAULT 0,
  fallback INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ledger_by_time ON ledger(unix_ms);
)sql";

constexpr const char* kColumns =
    "unix_ms, route, reason, model, tokens_in, tokens_out, ttft_ms, latency_ms, cloud_cost_fen, saved_fen, fallback";

// One prepared statement for the length of a query; the ledger's mutex is held meanwhile.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      fail("ledger: cannot prepare query: ", sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  bool step() {  // true while there is a row
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail("ledger: query failed: ", sqlite3_errmsg(db_));
  }
  int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string text(int column) const {
    const unsigned char* s = sqlite3_column_text(stmt_, column);
    return s ? reinterpret_cast<const char*>(s) : "";
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

void execute(sqlite3* db, const char* sql, const std::string& path) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string why = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    fail("ledger '", path, "': ", why);
  }
}

std::string reason_kind(const std::string& reason) { return reason.substr(0, reason.find(':')); }

}  // namespace

Ledger::Ledger(const std::string& path) : path_(path) {
  if (path != ":memory:") {
    const auto parent = std::filesystem::path(path).parent_path();
    std::error_code ignored;  // opening below reports a folder we could not make
    if (!parent.empty()) std::filesystem::create_directories(parent, ignored);
  }
  const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  try {
    if (rc != SQLITE_OK) fail("cannot open ledger '", path, "': ", db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    // The server writes while `tandem ledger` reads from another process: wait, don't fail.
    sqlite3_busy_timeout(db_, 5000);
    // SQLite reads a file lazily, so a non-database file shows up here, on the first statement.
    execute(db_, "PRAGMA journal_mode=WAL;", path);
    execute(db_, kSchema, path);
    const std::string insert = std::string("INSERT INTO ledger (") + kColumns + ") VALUES (?,?,?,?,?,?,?,?,?,?,?)";
    if (sqlite3_prepare_v2(db_, insert.c_str(), -1, &insert_, nullptr) != SQLITE_OK)
      fail("ledger '", path, "': ", sqlite3_errmsg(db_));
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

Ledger::~Ledger() {
  sqlite3_finalize(insert_);
  sqlite3_close(db_);
}

void Ledger::record(const LedgerEntry& e) {
  std::lock_guard lock(mutex_);
  sqlite3_reset(insert_);
  sqlite3_bind_int64(insert_, 1, e.unix_ms);
  sqlite3_bind_text(insert_, 2, e.route.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(insert_, 3, e.reason.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(insert_, 4, e.model.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(insert_, 5, e.tokens_in);
  sqlite3_bind_int64(insert_, 6, e.tokens_out);
  sqlite3_bind_double(insert_, 7, e.ttft_ms);
  sqlite3_bind_double(insert_, 8, e.latency_ms);
  sqlite3_bind_double(insert_, 9, e.cloud_cost_fen);
  sqlite3_bind_double(insert_, 10, e.saved_fen);
  sqlite3_bind_int(insert_, 11, e.fallback ? 1 : 0);
  const int rc = sqlite3_step(insert_);
  sqlite3_reset(insert_);
  if (rc != SQLITE_DONE) fail("ledger '", path_, "': cannot record a request: ", sqlite3_errmsg(db_));
}

LedgerSummary Ledger::summary(int64_t since_unix_ms) const {
  std::lock_guard lock(mutex_);
  LedgerSummary s;
  Statement totals(db_,
                   "SELECT COUNT(*), "
                   "COALESCE(SUM(route = 'device'), 0), COALESCE(SUM(route = 'cloud'), 0), "
                   "COALESCE(SUM(route = 'refused'), 0), COALESCE(SUM(fallback != 0), 0), "
                   "COALESCE(SUM(tokens_in), 0), COALESCE(SUM(tokens_out), 0), "
                   "COALESCE(SUM(cloud_cost_fen), 0), COALESCE(SUM(saved_fen), 0), "
                   "COALESCE(AVG(CASE WHEN route != 'refused' THEN latency_ms END), 0), "
                   "COALESCE(AVG(CASE WHEN route != 'refused' THEN ttft_ms END), 0) "
                   "FROM ledger WHERE unix_ms >= ?");
  totals.bind(1, since_unix_ms);
  if (totals.step()) {
    s.requests = totals.integer(0);
    s.device = totals.integer(1);
    s.cloud = totals.integer(2);
    s.refused = totals.integer(3);
    s.fallbacks = totals.integer(4);
    s.tokens_in = totals.integer(5);
    s.tokens_out = totals.integer(6);
    s.cloud_spend_fen = totals.real(7);
    s.saved_fen = totals.real(8);
    s.mean_latency_ms = totals.real(9);
    s.mean_ttft_ms = totals.real(10);
  }
  if (s.device + s.cloud > 0) s.device_share = double(s.device) / double(s.device + s.cloud);

  Statement reasons(db_, "SELECT reason, COUNT(*) FROM ledger WHERE unix_ms >= ? AND reason != '' GROUP BY reason");
  reasons.bind(1, since_unix_ms);
  while (reasons.step()) s.by_reason[reason_kind(reasons.text(0))] += reasons.integer(1);
  return s;
}

double Ledger::cloud_spend_fen_since(int64_t since_unix_ms) const {
  std::lock_guard lock(mutex_);
  Statement spend(db_, "SELECT COALESCE(SUM(cloud_cost_fen), 0) FROM ledger WHERE unix_ms >= ?");
  spend.bind(1, since_unix_ms);
  return spend.step() ? spend.real(0) : 0.0;
}

std::vector<LedgerEntry> Ledger::entries(int64_t since_unix_ms, int limit) const {
  std::lock_guard lock(mutex_);
  const std::string sql =
      std::string("SELECT ") + kColumns + " FROM ledger WHERE unix_ms >= ? ORDER BY unix_ms DESC, id DESC LIMIT ?";
  Statement query(db_, sql.c_str());
  query.bind(1, since_unix_ms);
  query.bind(2, std::max(limit, 0));
  std::vector<LedgerEntry> out;
  while (query.step()) {
    LedgerEntry e;
    e.unix_ms = query.integer(0);
    e.route = query.text(1);
    e.reason = query.text(2);
    e.model = query.text(3);
    e.tokens_in = query.integer(4);
    e.tokens_out = query.integer(5);
    e.ttft_ms = query.real(6);
    e.latency_ms = query.real(7);
    e.cloud_cost_fen = query.real(8);
    e.saved_fen = query.real(9);
    e.fallback = query.integer(10) != 0;
    out.push_back(std::move(e));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

int64_t start_of_local_day_ms(int64_t unix_ms) {
  // Floor division so that times before 1970 land in the right second.
  int64_t seconds = unix_ms / 1000;
  if (unix_ms % 1000 < 0) --seconds;
  const std::time_t t = std::time_t(seconds);
  std::tm local{};
  localtime_r(&t, &local);
  local.tm_hour = local.tm_min = local.tm_sec = 0;
  local.tm_isdst = -1;  // midnight may fall on the other side of a DST change
  return int64_t(std::mktime(&local)) * 1000;
}

std::string default_ledger_path() {
  return tandem_home() + "/ledger.sqlite";
}

}  // namespace tandem::router
