#include "router/cloud_client.h"

#include <httplib.h>

#include "core/error.h"

namespace tandem::router {
namespace {

using Clock = std::chrono::steady_clock;

// httplib reports an expired read timeout and a dropped connection alike (a failed
// read), so the time since the last byte tells them apart.
std::string failure_of(httplib::Error error, Clock::time_point last_activity = {}, double timeout_s = 0) {
  switch (error) {
    case httplib::Error::Read:
    case httplib::Error::Write:
      if (timeout_s <= 0) return "timeout";
      return std::chrono::duration<double>(Clock::now() - last_activity).count() >= 0.9 * timeout_s ? "timeout"
                                                                                                   : "connection_lost";
    case httplib::Error::ConnectionTimeout:
      return "timeout";
    case httplib::Error::Canceled:
      return "cancelled";
    default:
      return "unreachable";
  }
}

std::unique_ptr<httplib::Client> make_client(const std::string& origin, double timeout_s) {
  auto client = std::make_unique<httplib::Client>(origin);
  const auto timeout = std::chrono::milliseconds(int64_t(timeout_s * 1000));
  client->set_connection_timeout(timeout);
  client->set_read_timeout(timeout);
  client->set_write_timeout(timeout);
  return client;
}

}  // namespace

CloudClient::CloudClient(CloudEndpoint endpoint) : endpoint_(std::move(endpoint)) {
  const std::string& url = endpoint_.base_url;
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) fail("cloud base_url '", url, "' has no scheme");
  const size_t path_start = url.find('/', scheme_end + 3);
  origin_ = url.substr(0, path_start);
  path_prefix_ = path_start == std::string::npos ? "" : url.substr(path_start);
  while (!path_prefix_.empty() && path_prefix_.back() == '/') path_prefix_.pop_back();
}

CloudResult CloudClient::post(const std::string& path, const std::string& json_body) const {
  auto client = make_client(origin_, endpoint_.timeout_s);
  httplib::Headers headers;
  if (const std::string key = endpoint_.api_key(); !key.empty()) headers.emplace("Authorization", "Bearer " + key);
  CloudResult result;
  const auto started = Clock::now();
  auto response = client->Post(path_prefix_ + path, headers, json_body, "application/json");
  if (!response) {
    result.failure = failure_of(response.error(), started, endpoint_.timeout_s);
    return result;
  }
  result.status = response->status;
  result.body = response->body;
  result.ok = response->status == 200;
  if (!result.ok) result.failure = "http_" + std::to_string(response->status);
  return result;
}

CloudResult CloudClient::post_stream(const std::string& path, const std::string& json_body,
                                     const std::function<bool(const std::string&)>& on_data) const {
  auto client = make_client(origin_, endpoint_.timeout_s);
  httplib::Request request;
  request.method = "POST";
  request.path = path_prefix_ + path;
  request.body = json_body;
  request.set_header("Content-Type", "application/json");
  request.set_header("Accept", "text/event-stream");
  if (const std::string key = endpoint_.api_key(); !key.empty()) request.set_header("Authorization", "Bearer " + key);

  CloudResult result;
  std::string pending;  // bytes of an SSE event not complete yet
  bool done = false, stopped = false;
  request.response_handler = [&](const httplib::Response& response) {
    result.status = response.status;
    return true;
  };
  auto last_activity = Clock::now();
  request.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    last_activity = Clock::now();
    if (result.status != 200) {
      result.body.append(data, size);
      return true;
    }
    pending.append(data, size);
    for (size_t end; (end = pending.find('\n')) != std::string::npos;) {
      std::string line = pending.substr(0, end);
      pending.erase(0, end + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("data:", 0) != 0) continue;  // comments, event names, blank separators
      std::string payload = line.substr(line.size() > 5 && line[5] == ' ' ? 6 : 5);
      if (payload == "[DONE]") done = true;
      if (!on_data(payload)) {
        stopped = true;
        return false;
      }
    }
    return true;
  };
  auto response = client->send(request);
  if (stopped) {
    result.failure = "cancelled";
    return result;
  }
  if (!response) {
    result.failure = failure_of(response.error(), last_activity, endpoint_.timeout_s);
    return result;
  }
  result.status = response->status;
  if (response->status != 200) {
    result.failure = "http_" + std::to_string(response->status);
    return result;
  }
  result.ok = done;
  if (!done) result.failure = "stream_cut";  // the connection closed before [DONE]
  return result;
}

std::string CloudClient::probe(int timeout_ms) const {
  auto client = make_client(origin_, timeout_ms / 1000.0);
  httplib::Headers headers;
  if (const std::string key = endpoint_.api_key(); !key.empty()) headers.emplace("Authorization", "Bearer " + key);
  auto response = client->Get(path_prefix_ + "/models", headers);
  if (!response) return response.error() == httplib::Error::Connection ? "offline" : failure_of(response.error());
  if (response->status != 200) return "http_" + std::to_string(response->status);
  return "";
}

CloudHealth::CloudHealth(const CloudClient& client, HealthOptions options) : client_(client), options_(options) {}

bool CloudHealth::reachable(std::string& why) {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  if (now < open_until_) {
    why = "circuit_open";
    return false;
  }
  const auto cache = std::chrono::duration<double>(options_.probe_cache_s);
  if (!probed_ || now - probed_at_ >= cache) {
    // Probing under the lock makes concurrent requests wait for one probe instead
    // of all probing a cloud that may be down.
    const std::string failure = client_.probe(options_.probe_timeout_ms);
    probed_ = true;
    probed_at_ = Clock::now();
    probe_ok_ = failure.empty();
    if (!probe_ok_) last_failure_ = failure == "unreachable" ? "offline" : failure;
  }
  if (!probe_ok_) why = last_failure_;
  return probe_ok_;
}

void CloudHealth::record_success() {
  std::lock_guard lock(mutex_);
  consecutive_failures_ = 0;
}

void CloudHealth::record_failure(const std::string& why) {
  std::lock_guard lock(mutex_);
  last_failure_ = why;
  if (why == "unreachable") {
    // A refused connection means the cloud is gone: stop trusting the cached probe.
    probe_ok_ = false;
    probed_at_ = Clock::now();
    last_failure_ = "offline";
  }
  if (++consecutive_failures_ >= options_.failures_to_open) {
    open_until_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.open_s));
    consecutive_failures_ = 0;
  }
}

}  // namespace tandem::router
