// Talks to one OpenAI-compatible cloud endpoint (vLLM, llama.cpp's server, another
// `tandem serve`): plain and streamed POSTs with timeouts, and a cheap health probe.
// CloudHealth caches probe results and opens a circuit after repeated failures, so
// an unreachable cloud costs one short timeout, not one per request.
#pragma once
#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "router/config.h"

namespace tandem::router {

struct CloudResult {
  bool ok = false;       // HTTP 200 and, for streams, [DONE] seen
  int status = 0;        // HTTP status; 0 when no answer came
  std::string failure;   // "timeout", "unreachable", "http_502", "stream_cut", ... ("" when ok)
  std::string body;      // the answer (non-streamed) or the error body
};

class CloudClient {
 public:
  explicit CloudClient(CloudEndpoint endpoint);
  const CloudEndpoint& endpoint() const { return endpoint_; }

  // POST {base_url}{path} with a JSON body.
  CloudResult post(const std::string& path, const std::string& json_body) const;
  // The same, streamed: `on_data` gets each SSE `data:` payload ("[DONE]" included);
  // returning false stops reading (the result is then not ok, failure "cancelled").
  CloudResult post_stream(const std::string& path, const std::string& json_body,
                          const std::function<bool(const std::string& data)>& on_data) const;
  // GET {base_url}/models within `timeout_ms`; "" when healthy, else why not.
  std::string probe(int timeout_ms) const;

 private:
  CloudEndpoint endpoint_;
  std::string origin_;       // scheme://host[:port]
  std::string path_prefix_;  // "/v1"
};

class CloudHealth {
 public:
  CloudHealth(const CloudClient& client, HealthOptions options);
  // Whether to try the cloud now; `why` gets "offline", "circuit_open", ... when not.
  bool reachable(std::string& why);
  void record_success();
  void record_failure(const std::string& why);

 private:
  using Clock = std::chrono::steady_clock;
  const CloudClient& client_;
  HealthOptions options_;
  std::mutex mutex_;
  Clock::time_point probed_at_{};
  bool probed_ = false, probe_ok_ = false;
  std::string last_failure_;
  int consecutive_failures_ = 0;
  Clock::time_point open_until_{};
};

}  // namespace tandem::router
