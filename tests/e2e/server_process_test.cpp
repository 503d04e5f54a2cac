// `tandem serve` as a process: ports (a taken one and an out-of-range one are errors
// that name them), signals (SIGINT and SIGTERM stop it while it streams, and it says
// so), and /metrics printing whole numbers as integers.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "support/server_process.h"
#include "support/test_paths.h"

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using tandem::test::ServerProcess;

const std::string kStories = tandem::test::shared_path("models/stories260K.gguf");

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// `tandem serve` under timeout(1): a server that wrongly starts must not hang the test.
tandem::test::CommandResult run_bounded(const std::string& args) {
  const std::string out = tandem::test::temp_path("serve-out"), err = tandem::test::temp_path("serve-err");
  const int status = std::system(("timeout 60 " + tandem::test::cli_path() + " serve -m " + kStories + " -t 1 " + args +
                                  " >" + out + " 2>" + err + " </dev/null")
                                     .c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), slurp(out), slurp(err)};
}

TEST(ServerPort, ATakenPortIsAnErrorThatNamesIt) {
  ServerProcess first({"-m", kStories, "-t", "1"});
  const std::string port = std::to_string(first.port());
  const auto second = run_bounded("--port " + port);
  EXPECT_EQ(second.exit_code, 1) << second.out << second.err;
  EXPECT_NE(second.err.find("127.0.0.1:" + port), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("in use"), std::string::npos) << second.err;
  EXPECT_EQ(second.out.find("ready"), std::string::npos) << second.out;
  // The first server still has the port to itself.
  auto health = first.client().Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST(ServerPort, AnOutOfRangePortIsAnError) {
  for (const std::string port : {"70000", "65536", "-1"}) {
    SCOPED_TRACE(port);
    const auto r = run_bounded("--port " + port);
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_LT(r.exit_code, 128) << r.err;
    EXPECT_NE(r.err.find(port), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("listening"), std::string::npos) << r.out;
  }
}

// A `tandem serve` whose stderr the test reads and whose end it waits for.
class ServeChild {
 public:
  explicit ServeChild(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {tandem::test::cli_path(), "serve", "--port", "0", "-m", kStories, "-t", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    int out[2], err[2];
    if (pipe(out) != 0 || pipe(err) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      dup2(err[1], STDERR_FILENO);
      for (int fd : {out[0], out[1], err[0], err[1]}) close(fd);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    out_ = out[0];
    err_ = err[0];
    std::string line;
    char c;
    while (read(out_, &c, 1) == 1 && c != '\n') line += c;
    std::smatch m;
    if (!std::regex_search(line, m, std::regex(R"(127\.0\.0\.1:(\d+))"))) throw std::runtime_error("no port: " + line);
    port_ = std::stoi(m[1]);
    httplib::Client client("127.0.0.1", port_);
    for (int i = 0; i < 600; ++i) {  // until loaded (a bound on a broken start, not a timing check)
      if (auto r = client.Get("/health"); r && r->status == 200) return;
      std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error("server never became healthy");
  }
  ~ServeChild() {
    if (pid_ > 0) kill(pid_, SIGKILL), waitpid(pid_, nullptr, 0);
    close(out_);
    close(err_);
  }
  int port() const { return port_; }
  void signal(int sig) const { kill(pid_, sig); }

  // The exit status once it ended; -1 when it is still running after the bound (a hang guard).
  int wait_exit() {
    for (int i = 0; i < 1200; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(50ms);
    }
    return -1;
  }
  std::string stderr_text() const {
    std::string text;
    char buffer[4096];
    ssize_t n;
    while ((n = read(err_, buffer, sizeof buffer)) > 0) text.append(buffer, size_t(n));
    return text;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0, out_ = -1, err_ = -1;
};

// A stream that would run to the end of a 4096-token context is stopped by the signal:
// the client gets fewer tokens, the stream still ends properly, and serve exits 0 saying why.
void stops_while_streaming(int sig, const std::string& name) {
  ServeChild server({"-c", "4096"});
  std::promise<void> first_token;
  auto stream = std::async(std::launch::async, [&] {
    httplib::Client client("127.0.0.1", server.port());
    client.set_read_timeout(120, 0);
    const json body = {{"prompt", "Once upon a time"}, {"max_tokens", 4000}, {"ignore_eos", true},
                       {"stream", true}, {"temperature", 0}};
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/completions";
    req.body = body.dump();
    req.set_header("Content-Type", "application/json");
    std::string received;
    bool signalled = false;
    req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
      received.append(data, size);
      if (!signalled) first_token.set_value(), signalled = true;
      return true;
    };
    client.send(req);
    if (!signalled) first_token.set_value();
    return received;
  });
  first_token.get_future().wait();
  server.signal(sig);
  const std::string received = stream.get();
  EXPECT_EQ(server.wait_exit(), 0);
  const size_t chunks = size_t(std::count(received.begin(), received.end(), '\n')) / 2;
  EXPECT_LT(chunks, 4000u) << "the stream ran to max_tokens: the signal did not stop it";
  EXPECT_NE(received.find("data: [DONE]"), std::string::npos) << received.substr(received.size() - 300);
  const std::string err = server.stderr_text();
  EXPECT_NE(err.find(name + " received, stopping"), std::string::npos) << err;
  EXPECT_NE(err.find("tandem serve: stopped"), std::string::npos) << err;
}

TEST(ServerSignals, SigtermStopsAStreamingServer) { stops_while_streaming(SIGTERM, "SIGTERM"); }
TEST(ServerSignals, SigintStopsAStreamingServer) { stops_while_streaming(SIGINT, "SIGINT"); }

TEST(ServerSignals, AnIdleServerStopsOnSigterm) {
  ServeChild server({});
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(), 0);
  EXPECT_NE(server.stderr_text().find("tandem serve: stopped"), std::string::npos);
}

TEST(ServerMetrics, CountsAndBytesAreIntegers) {
  ServerProcess server({"-m", kStories, "-t", "1", "--mem-budget", "1GiB"});
  auto r = server.client().Get("/metrics");
  ASSERT_TRUE(r);
  int checked = 0;
  std::istringstream lines(r->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::string name = line.substr(0, line.find(' ')), value = line.substr(line.find(' ') + 1);
    const bool whole = (name.find("_bytes") != std::string::npos || name.find("_total") != std::string::npos ||
                        name.find("slots") != std::string::npos || name.find("queue") != std::string::npos) &&
                       name.find("seconds") == std::string::npos;
    if (!whole) continue;
    EXPECT_TRUE(std::regex_match(value, std::regex("[0-9]+"))) << line;
    ++checked;
  }
  EXPECT_GE(checked, 10) << r->body;
  EXPECT_EQ(server.metric("tandem_memory_budget_bytes"), 1073741824.0);
}

}  // namespace
