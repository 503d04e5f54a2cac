// Crash safety: `kill -9` at the worst moment, then the next start must find a usable
// state. The routing ledger (SQLite in WAL mode) opens with nothing torn after its writer
// is killed mid-write; `tandem models add` killed mid-download resumes from its .part file;
// `tandem serve` killed under load (streaming clients, ledger rows being written) restarts
// on the same port and serves.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "router/ledger.h"
#include "support/test_paths.h"

namespace tandem::router {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Polls `done` (a guard against hanging on a broken build, not a timing check).
template <class Done>
bool eventually(Done done) {
  for (int i = 0; i < 2400; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(25ms);
  }
  return false;
}

std::string pragma(const std::string& db, const std::string& statement) {
  sqlite3* handle = nullptr;
  std::string value;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_exec(handle, statement.c_str(), [](void* out, int, char** values, char**) {
      *static_cast<std::string*>(out) += values[0] ? values[0] : "";
      return 0;
    }, &value, nullptr);
  }
  sqlite3_close(handle);
  return value;
}

int64_t rows(const std::string& db) {
  const std::string n = pragma(db, "SELECT COUNT(*) FROM ledger;");
  return n.empty() ? -1 : std::stoll(n);
}

TEST(CrashSafety, ALedgerWriterKilledMidWriteLeavesAnIntactDatabase) {
  const std::string db = test::temp_path("crash-ledger.sqlite");
  fs::remove(db);
  int64_t before = 0;
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE(round);
    const pid_t writer = fork();
    ASSERT_GE(writer, 0);
    if (writer == 0) {  // writes rows as fast as it can until it is killed
      Ledger ledger(db);
      for (int64_t i = 0;; ++i) {
        LedgerEntry e;
        e.unix_ms = 1700000000000 + i;
        e.route = i % 3 == 0 ? "cloud" : "device";
        e.reason = "difficulty:0." + std::to_string(i % 10);
        e.model = "m";
        e.tokens_in = i;
        e.tokens_out = 2 * i;
        e.cloud_cost_fen = e.route == "cloud" ? 1.2 : 0;
        ledger.record(e);
      }
    }
    // Killed once it has written a round's worth of rows: mid-transaction more often than not.
    ASSERT_TRUE(eventually([&] { return rows(db) >= before + 200; })) << "the writer wrote nothing";
    kill(writer, SIGKILL);
    waitpid(writer, nullptr, 0);

    EXPECT_EQ(pragma(db, "PRAGMA integrity_check;"), "ok");
    EXPECT_EQ(pragma(db, "PRAGMA journal_mode;"), "wal");
    const Ledger reopened(db);
    const LedgerSummary summary = reopened.summary();
    EXPECT_GE(summary.requests, before + 200);
    EXPECT_EQ(summary.requests, summary.device + summary.cloud + summary.refused) << "a torn row";
    for (const LedgerEntry& e : reopened.entries(0, 50)) {
      EXPECT_TRUE(e.route == "device" || e.route == "cloud") << e.route;
      EXPECT_EQ(e.tokens_out, 2 * e.tokens_in);
    }
    before = summary.requests;
  }
}

// ---- models add ----------------------------------------------------------------------

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Serves the model slowly (16 KiB per 10 ms), with Range support, and records the ranges asked for.
class SlowModelServer {
 public:
  explicit SlowModelServer(std::string body) : body_(std::move(body)) {
    server_.Get("/stories260K.gguf", [this](const httplib::Request& request, httplib::Response& response) {
      if (request.has_header("Range")) {
        std::lock_guard lock(mutex_);
        ranges_.push_back(request.get_header_value("Range"));
      }
      response.set_content_provider(body_.size(), "application/octet-stream",
                                    [this](size_t offset, size_t length, httplib::DataSink& sink) {
                                      std::this_thread::sleep_for(10ms);
                                      return sink.write(body_.data() + offset, std::min<size_t>(length, 16 << 10));
                                    });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~SlowModelServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/stories260K.gguf"; }
  std::vector<std::string> ranges() {
    std::lock_guard lock(mutex_);
    return ranges_;
  }

 private:
  const std::string body_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> ranges_;
};

pid_t spawn_cli(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<std::string> all = {test::cli_path()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

TEST(CrashSafety, AModelsAddKilledMidDownloadResumes) {
  const std::string model = test::shared_path("models/stories260K.gguf");
  const std::string body = read_bytes(model);
  SlowModelServer server(body);
  const std::string dir = test::temp_path("crash-store");
  fs::remove_all(dir);
  const std::string part = dir + "/stories260K.gguf.part";

  const pid_t add = spawn_cli({"models", "add", server.url(), "--dir", dir});
  ASSERT_TRUE(eventually([&] { return fs::exists(part) && fs::file_size(part) >= body.size() / 4; }))
      << "the download never got going";
  kill(add, SIGKILL);
  waitpid(add, nullptr, 0);
  ASSERT_TRUE(fs::exists(part));
  const uint64_t kept = fs::file_size(part);
  ASSERT_LT(kept, body.size()) << "finished before the kill: nothing to resume";
  EXPECT_FALSE(fs::exists(dir + "/stories260K.gguf")) << "a partial download was installed";

  const auto again = test::run_cli("models add " + server.url() + " --dir " + dir);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto ranges = server.ranges();
  ASSERT_EQ(ranges.size(), 1u);
  const uint64_t resumed_at = std::stoull(std::regex_replace(ranges[0], std::regex("bytes=(\\d+)-"), "$1"));
  EXPECT_GT(resumed_at, 0u);
  EXPECT_LE(resumed_at, kept);
  EXPECT_EQ(read_bytes(dir + "/stories260K.gguf"), body);
  EXPECT_FALSE(fs::exists(part));
}

// ---- serve -------------------------------------------------------------------------

// `tandem serve --port PORT`, its first stdout line parsed for the port; SIGKILL when destroyed.
class Serve {
 public:
  explicit Serve(std::vector<std::string> extra) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      freopen("/dev/null", "w", stderr);
      std::vector<std::string> all = {test::cli_path(), "serve"};
      all.insert(all.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    out_ = out[0];
    std::string line;
    char c;
    while (read(out_, &c, 1) == 1 && c != '\n') line += c;
    std::smatch m;
    if (std::regex_search(line, m, std::regex(R"(127\.0\.0\.1:(\d+))"))) port_ = std::stoi(m[1]);
  }
  ~Serve() { kill9(); }
  void kill9() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    close(out_);
    pid_ = -1;
  }
  int port() const { return port_; }
  bool healthy() const {
    httplib::Client client("127.0.0.1", port_);
    return eventually([&] {
      auto r = client.Get("/health");
      return r && r->status == 200;
    });
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0, out_ = -1;
};

TEST(CrashSafety, AServeKilledUnderLoadRestartsOnItsPort) {
  const std::string model = test::shared_path("models/stories260K.gguf");
  const std::string ledger = test::temp_path("crash-serve-ledger.sqlite");
  fs::remove(ledger);
  // Routed to a cloud that is down, so every answer also writes a ledger row.
  const std::vector<std::string> args = {"-m", model, "-t", "1", "-c", "512", "--parallel", "4", "--cloud-url",
                                         "http://127.0.0.1:1/v1", "--cloud-model", "big", "--ledger", ledger};
  auto first_args = args;
  first_args.insert(first_args.begin(), {"--port", "0"});
  Serve first(first_args);
  ASSERT_GT(first.port(), 0);
  ASSERT_TRUE(first.healthy());
  const int port = first.port();

  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::vector<std::future<void>> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(std::async(std::launch::async, [&, i] {
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(30, 0);
      while (!stop) {
        const nlohmann::json body = {{"messages", {{{"role", "user"}, {"content", "Tell a story " + std::to_string(i)}}}},
                                     {"max_tokens", 64}, {"stream", i % 2 == 0}};
        auto r = client.Post("/v1/chat/completions", body.dump(), "application/json");
        if (!r) return;  // the server is gone
        if (r->status == 200) ++answered;
      }
    }));
  }
  ASSERT_TRUE(eventually([&] { return answered >= 20; })) << "the server answered nothing under load";
  first.kill9();  // mid-generation for some clients, mid-ledger-write perhaps
  stop = true;
  for (auto& c : clients) c.wait();

  auto restart_args = args;
  restart_args.insert(restart_args.begin(), {"--port", std::to_string(port)});
  Serve second(restart_args);
  ASSERT_EQ(second.port(), port) << "the restart could not take its port back";
  ASSERT_TRUE(second.healthy());
  httplib::Client client("127.0.0.1", port);
  auto r = client.Post("/v1/chat/completions",
                       R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":4})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(pragma(ledger, "PRAGMA integrity_check;"), "ok");
  EXPECT_GE(rows(ledger), 20);
}

}  // namespace
}  // namespace tandem::router
