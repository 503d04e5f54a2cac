// Cloud health: probes are cached, a refused connection means offline, and repeated
// failures open the circuit so a dead cloud costs one short timeout, not one per request.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <memory>
#include <random>
#include <thread>

#include "router/cloud_client.h"

namespace tandem::router {
namespace {

// A minimal OpenAI-compatible endpoint that counts its probes.
class FakeCloud {
 public:
  FakeCloud() {
    server_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      ++probes;
      res.set_content(R"({"object":"list","data":[]})", "application/json");
    });
    server_.Post("/v1/chat/completions", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_content(R"({"error":{"message":"overloaded"}})", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();  // stop() before listening would be lost
  }
  ~FakeCloud() {
    server_.stop();
    thread_.join();
  }
  CloudEndpoint endpoint() const {
    CloudEndpoint e;
    e.base_url = "http://127.0.0.1:" + std::to_string(port_) + "/v1";
    e.model = "m";
    e.timeout_s = 2;
    return e;
  }
  std::atomic<int> probes{0};

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(CloudHealth, ProbesAreCachedAndFailuresOpenTheCircuit) {
  FakeCloud cloud;
  CloudClient client(cloud.endpoint());
  HealthOptions options;
  options.probe_cache_s = 60;
  options.failures_to_open = 2;
  options.open_s = 60;
  CloudHealth health(client, options);
  std::string why;
  EXPECT_TRUE(health.reachable(why));
  EXPECT_TRUE(health.reachable(why));
  EXPECT_EQ(cloud.probes, 1) << "the second check should use the cached probe";

  const CloudResult result = client.post("/chat/completions", "{}");
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.failure, "http_503");
  health.record_failure(result.failure);
  EXPECT_TRUE(health.reachable(why));  // one failure is not enough
  health.record_failure(result.failure);
  EXPECT_FALSE(health.reachable(why));
  EXPECT_EQ(why, "circuit_open");
}

TEST(CloudHealth, ARefusedConnectionIsOffline) {
  int port = 0;
  {
    FakeCloud gone;  // take a free port, then close it
    port = std::stoi(gone.endpoint().base_url.substr(std::string("http://127.0.0.1:").size()));
  }
  CloudEndpoint endpoint;
  endpoint.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  endpoint.model = "m";
  CloudClient client(endpoint);
  CloudHealth health(client, {});
  std::string why;
  EXPECT_FALSE(health.reachable(why));
  EXPECT_EQ(why, "offline");
  EXPECT_EQ(client.post("/chat/completions", "{}").failure, "unreachable");
}

TEST(CloudClient, StreamsServerSentEventsAndNoticesACutStream) {
  httplib::Server server;
  server.Post("/v1/chat/completions", [](const httplib::Request& req, httplib::Response& res) {
    const bool cut = req.body.find("cut") != std::string::npos;
    res.set_content(cut ? "data: {\"a\":1}\n\n" : "data: {\"a\":1}\n\ndata: {\"a\":2}\n\ndata: [DONE]\n\n",
                    "text/event-stream");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::yield();
  CloudEndpoint endpoint;
  endpoint.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1/";
  endpoint.model = "m";
  CloudClient client(endpoint);
  std::vector<std::string> events;
  CloudResult whole = client.post_stream("/chat/completions", "{}", [&](const std::string& d) {
    events.push_back(d);
    return true;
  });
  EXPECT_TRUE(whole.ok) << whole.failure;
  EXPECT_EQ(events, (std::vector<std::string>{"{\"a\":1}", "{\"a\":2}", "[DONE]"}));
  CloudResult cut = client.post_stream("/chat/completions", "cut", [](const std::string&) { return true; });
  EXPECT_FALSE(cut.ok);
  EXPECT_EQ(cut.failure, "stream_cut");
  server.stop();
  thread.join();
}

// The cloud's SSE bytes are untrusted: sent in random pieces (split anywhere, even inside
// "data:" or a CRLF), a well-formed stream gives exactly its events; seeded garbage (binary,
// missing separators, huge lines, no [DONE]) ends as a stream or a named failure, never a
// crash (this runs under ASan/UBSan in scripts/test.sh).
TEST(CloudClient, StreamsInRandomPiecesAndGarbageEndCleanly) {
  std::mt19937 rng(7);
  std::string body;  // what the next request is answered with
  httplib::Server server;
  server.Post("/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) {
    auto pieces = std::make_shared<std::vector<std::string>>();
    for (size_t at = 0; at < body.size();) {
      const size_t n = 1 + rng() % 40;
      pieces->push_back(body.substr(at, n));
      at += n;
    }
    res.set_chunked_content_provider("text/event-stream", [pieces, next = size_t(0)](size_t, httplib::DataSink& sink) mutable {
      if (next < pieces->size()) {
        const std::string& p = (*pieces)[next++];
        sink.write(p.data(), p.size());
      } else {
        sink.done();
      }
      return true;
    });
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::yield();
  CloudEndpoint endpoint;
  endpoint.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  endpoint.model = "m";
  endpoint.timeout_s = 5;
  CloudClient client(endpoint);
  auto stream = [&](std::vector<std::string>& events) {
    return client.post_stream("/chat/completions", "{}", [&](const std::string& d) {
      events.push_back(d);
      return true;
    });
  };

  body = ": comment\r\nevent: x\r\ndata: {\"a\":1}\r\n\r\ndata:{\"b\":\"\xc3\xa9\"}\n\ndata: [DONE]\n\n";
  for (int round = 0; round < 20; round++) {
    std::vector<std::string> events;
    const CloudResult r = stream(events);
    EXPECT_TRUE(r.ok) << r.failure;
    EXPECT_EQ(events, (std::vector<std::string>{"{\"a\":1}", "{\"b\":\"\xc3\xa9\"}", "[DONE]"})) << "round " << round;
  }
  int cut = 0;
  for (int round = 0; round < 60; round++) {
    body.clear();
    const size_t n = rng() % (round % 10 == 9 ? 100000 : 600);
    for (size_t i = 0; i < n; i++) body += "data: \r\n\0\xff[DONE]x{"[rng() % 17];
    std::vector<std::string> events;
    const CloudResult r = stream(events);
    EXPECT_TRUE(r.ok || r.failure == "stream_cut") << r.failure;
    cut += !r.ok;
  }
  EXPECT_GT(cut, 0);
  server.stop();
  thread.join();
}

}  // namespace
}  // namespace tandem::router
