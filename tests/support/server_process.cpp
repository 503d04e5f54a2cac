#include "support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <thread>

#include "support/test_paths.h"

namespace tandem::test {

using namespace std::chrono_literals;

ServerProcess::ServerProcess(const std::vector<std::string>& extra, std::string api_key) : api_key_(std::move(api_key)) {
  std::vector<std::string> args = {cli_path(), "serve", "--port", "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  // The first line names the port: "tandem serve: listening on http://127.0.0.1:PORT ...".
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  stdout_fd_ = out[0];
  std::smatch m;
  if (!std::regex_search(line, m, std::regex(R"(127\.0\.0\.1:(\d+))"))) {
    throw std::runtime_error("server did not report a port: " + line);
  }
  port_ = std::stoi(m[1]);
  auto client = this->client();
  for (int i = 0; i < 600; ++i) {  // until loaded (a bound on a broken start, not a timing check)
    if (auto r = client.Get("/health"); r && r->status == 200) return;
    std::this_thread::sleep_for(50ms);
  }
  kill_now();
  throw std::runtime_error("server never became healthy");
}

ServerProcess::~ServerProcess() {
  if (pid_ <= 0) return;
  kill(pid_, SIGCONT);
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      close(stdout_fd_);
      return;
    }
    std::this_thread::sleep_for(50ms);
  }
  kill_now();
}

void ServerProcess::kill_now() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  close(stdout_fd_);
  pid_ = -1;
}

void ServerProcess::pause() { kill(pid_, SIGSTOP); }
void ServerProcess::resume() { kill(pid_, SIGCONT); }

httplib::Client ServerProcess::client() const {
  httplib::Client c("127.0.0.1", port_);
  c.set_read_timeout(120, 0);
  if (!api_key_.empty()) c.set_bearer_token_auth(api_key_);
  return c;
}

double ServerProcess::metric(const std::string& name) const {
  auto r = client().Get("/metrics");
  if (!r) throw std::runtime_error("GET /metrics failed while reading " + name);
  std::smatch m;
  if (!std::regex_search(r->body, m, std::regex("\n" + name + " ([0-9.e+-]+)"))) {
    throw std::runtime_error("/metrics has no " + name);
  }
  return std::stod(m[1]);
}

void ServerProcess::wait_for_metric(const std::string& name, const std::function<bool(double)>& done) const {
  double value = metric(name);
  for (int i = 0; i < 600 && !done(value); ++i) {
    std::this_thread::sleep_for(50ms);
    value = metric(name);
  }
  if (!done(value)) throw std::runtime_error("gave up waiting on " + name + " (last value " + std::to_string(value) + ")");
}

std::string node_modules(const std::string& cache_name, const std::string& package) {
  namespace fs = std::filesystem;
  const char* env = std::getenv("TANDEM_NODE_CACHE");
  const fs::path cache = fs::path(env && *env ? env : "/tmp/tandem-node-cache") / cache_name;
  fs::create_directories(cache);
  const int lock = open((cache / ".lock").c_str(), O_CREAT | O_RDWR, 0644);
  if (lock >= 0) flock(lock, LOCK_EX);
  // The versions are pinned by the lockfile: npm ci installs exactly those, again whenever
  // the lockfile changed since the cache was filled.
  const fs::path source = fs::path(TANDEM_SOURCE_DIR) / "tests/e2e/node";
  auto read = [](const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const bool current = read(source / "package-lock.json") == read(cache / "package-lock.json") &&
                       fs::exists(cache / "node_modules" / package / "package.json");
  bool ok = current;
  if (!current) {
    for (const char* name : {"package.json", "package-lock.json"})
      fs::copy_file(source / name, cache / name, fs::copy_options::overwrite_existing);
    const std::string cmd = "cd '" + cache.string() + "' && npm ci --ignore-scripts --no-audit --no-fund >/dev/null 2>&1";
    ok = std::system(cmd.c_str()) == 0;
  }
  if (lock >= 0) close(lock);  // releases the lock
  return ok ? (cache / "node_modules").string() : "";
}

}  // namespace tandem::test
