// A `tandem serve` child process on a free loopback port, for end-to-end tests.
// The constructor returns once /health answers 200; the destructor stops it.
#pragma once
#include <httplib.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace tandem::test {

class ServerProcess {
 public:
  // Runs `tandem serve --port 0 <args>`; `api_key` is sent by client().
  explicit ServerProcess(const std::vector<std::string>& args, std::string api_key = "");
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  httplib::Client client() const;
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  std::string page_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  // A metric's value; throws (failing the test) when the server does not answer or lacks it,
  // so a renamed metric cannot pass a "fewer than" check.
  double metric(const std::string& name) const;
  // Polls the metric until `done(value)`; throws naming the metric and its last value if that
  // never happens (a guard against a hang, not a timing check).
  void wait_for_metric(const std::string& name, const std::function<bool(double)>& done) const;

  void kill_now();  // SIGKILL, as a crash or a lost network would
  void pause();     // SIGSTOP: connections are accepted, nothing answers
  void resume();    // SIGCONT

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int stdout_fd_ = -1;
  std::string api_key_;
};

// Installs tests/e2e/node/package.json into $TANDEM_NODE_CACHE/<cache_name> (default
// /tmp/tandem-node-cache) unless `package` is there already, under a file lock so
// concurrent tests never share an install; returns its node_modules, "" when npm cannot.
std::string node_modules(const std::string& cache_name, const std::string& package);

}  // namespace tandem::test
