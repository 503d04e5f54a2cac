// The HTTP bad-input table of docs/api.md ("Bad input"): every row gets its documented
// status and the server keeps serving. Two tables: wrong JSON types in every request
// field of both generation endpoints, and what arrives on the socket itself (oversized
// request lines and headers, chunked bodies, a byte at a time, a client that leaves
// mid-request, garbage). The JSON-level rows of server_test.cpp (bodies, UTF-8, keys) stay there.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "support/server_process.h"
#include "support/test_paths.h"

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using tandem::test::ServerProcess;

const std::string kStories = tandem::test::shared_path("models/stories260K.gguf");

// One server for a test suite's rows (each row checks it still answers).
class ServerBadInputTable : public ::testing::Test {
 public:
  static void SetUpTestSuite() { instance = new ServerProcess({"-m", kStories, "-t", "1", "-c", "128", "--parallel", "2"}); }
  static void TearDownTestSuite() {
    delete instance;
    instance = nullptr;
  }
  static ServerProcess* instance;
};
ServerProcess* ServerBadInputTable::instance = nullptr;

ServerProcess& server() { return *ServerBadInputTable::instance; }

void expect_alive() {
  auto health = server().client().Get("/health");
  ASSERT_TRUE(health) << "the server stopped answering";
  EXPECT_EQ(health->status, 200);
}

// ---- wrong JSON types in every field ---------------------------------------------

// One value of each JSON kind; a field's row says, per kind, the status it gets:
// '2' accepted (200), '4' refused (400). null is "absent" for every optional field.
const std::pair<const char*, json> kKinds[] = {
    {"string", "x"}, {"integer", 1}, {"float", 0.5}, {"bool", true},
    {"array", json::array({"x"})}, {"object", {{"a", 1}}}, {"null", nullptr},
};

struct FieldRow {
  const char* field;
  const char* statuses;  // per kind of kKinds, in order
};

// Chat completions (base body: one user message, max_tokens 2).
const FieldRow kChatFields[] = {
    {"messages", "4444444"},          {"model", "2222222"},          {"temperature", "4224442"},
    {"top_p", "4224442"},             {"min_p", "4224442"},          {"top_k", "4244442"},
    {"presence_penalty", "4224442"},  {"frequency_penalty", "4224442"}, {"repeat_penalty", "4224442"},
    {"seed", "4244442"},              {"max_tokens", "4244442"},     {"max_completion_tokens", "4244442"},
    {"n", "4244442"},                 {"stop", "2444242"},           {"stream", "4442442"},
    {"stream_options", "4444422"},    {"response_format", "4444442"}, {"ignore_eos", "4442442"},
    {"logprobs", "4442442"},          {"top_logprobs", "4444442"},   {"user", "2222222"},
};
// Completions (base body: a prompt, max_tokens 2).
const FieldRow kCompletionFields[] = {
    {"prompt", "2444244"}, {"echo", "4442442"}, {"logprobs", "4244442"}, {"suffix", "4444442"},
    {"temperature", "4224442"}, {"max_tokens", "4244442"}, {"stop", "2444242"}, {"stream", "4442442"},
};

void check_fields(const std::string& path, const json& base, const FieldRow* rows, size_t n_rows) {
  for (size_t r = 0; r < n_rows; ++r) {
    for (size_t k = 0; k < std::size(kKinds); ++k) {
      const FieldRow& row = rows[r];
      json body = base;
      body[row.field] = kKinds[k].second;
      const int expected = row.statuses[k] == '2' ? 200 : 400;
      SCOPED_TRACE(path + " " + body.dump());
      auto response = server().client().Post(path, body.dump(), "application/json");
      ASSERT_TRUE(response) << "no response";
      EXPECT_EQ(response->status, expected) << row.field << " as " << kKinds[k].first << ": " << response->body;
      if (expected == 400) {
        const json error = json::parse(response->body, nullptr, false);
        ASSERT_FALSE(error.is_discarded()) << response->body;
        EXPECT_EQ(error["error"]["type"], "invalid_request_error");
        EXPECT_TRUE(error["error"]["message"].is_string());
      }
    }
  }
  expect_alive();
}

TEST_F(ServerBadInputTable, WrongTypesInEveryChatField) {
  check_fields("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 2}},
               kChatFields, std::size(kChatFields));
}

TEST_F(ServerBadInputTable, WrongTypesInEveryCompletionField) {
  check_fields("/v1/completions", {{"prompt", "Once"}, {"max_tokens", 2}}, kCompletionFields, std::size(kCompletionFields));
}

TEST_F(ServerBadInputTable, WrongTypesInsideMessages) {
  const json bad_messages[] = {
      json::array({"hi"}),
      json::array({{{"role", 1}, {"content", "hi"}}}),
      json::array({{{"role", "user"}, {"content", 1}}}),
      json::array({{{"role", "user"}, {"content", json::array({1})}}}),
      json::array({{{"role", "user"}, {"content", json::array({{{"type", "image_url"}, {"image_url", "x"}}})}}}),
      json::array({{{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", 2}}})}}}),
      json::array({{{"role", "tool"}, {"content", "x"}}}),
  };
  for (const json& messages : bad_messages) {
    SCOPED_TRACE(messages.dump());
    auto r = server().client().Post("/v1/chat/completions", json{{"messages", messages}}.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
  }
  expect_alive();
}

// ---- the socket itself ------------------------------------------------------------

struct RawResult {
  int status = 0;  // 0: the server closed without a status line
  std::string text;
};

// Sends `request` (in pieces of `piece` bytes, `pause` apart; 0: at once), optionally
// closing before it is complete, and reads what comes back until the server closes or
// 10 s pass (a bound on a hung connection, not a timing check).
RawResult raw_request(const std::string& request, size_t piece = 0, std::chrono::milliseconds pause = 0ms,
                      bool leave_early = false) {
  const int sock = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(uint16_t(server().port()));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  EXPECT_EQ(connect(sock, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const size_t step = piece ? piece : request.size();
  for (size_t at = 0; at < request.size(); at += step) {
    if (send(sock, request.data() + at, std::min(step, request.size() - at), MSG_NOSIGNAL) < 0) break;
    if (pause.count()) std::this_thread::sleep_for(pause);
  }
  RawResult result;
  if (leave_early) {
    close(sock);
    return result;
  }
  timeval timeout{10, 0};
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  char buffer[4096];
  ssize_t n;
  while ((n = recv(sock, buffer, sizeof buffer, 0)) > 0) result.text.append(buffer, size_t(n));
  close(sock);
  std::smatch m;
  if (std::regex_search(result.text, m, std::regex("^HTTP/1\\.[01] (\\d{3})"))) result.status = std::stoi(m[1]);
  return result;
}

std::string post(const std::string& path, const std::string& body, const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

const std::string kHello = R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":2})";

TEST_F(ServerBadInputTable, TheSocketItself) {
  struct Row {
    const char* name;
    std::string request;
    int status;  // documented in docs/api.md, "Bad input"
    size_t piece = 0;
    std::chrono::milliseconds pause = 0ms;
  };
  std::string chunked = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t at = 0; at < kHello.size(); at += 10) {
    const std::string part = kHello.substr(at, 10);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", part.size());
    chunked += size + part + "\r\n";
  }
  chunked += "0\r\n\r\n";
  std::string many_headers;
  std::string thousand_headers, big_headers;
  for (int i = 0; i < 100; ++i) many_headers += "X-Filler-" + std::to_string(i) + ": " + std::string(100, 'v') + "\r\n";
  for (int i = 0; i < 1000; ++i) thousand_headers += "X-F-" + std::to_string(i) + ": v\r\n";
  for (int i = 0; i < 13; ++i) big_headers += "X-F-" + std::to_string(i) + ": " + std::string(8000, 'v') + "\r\n";
  const Row rows[] = {
      {"a well-formed request (the control)", post("/v1/chat/completions", kHello), 200},
      {"a request line over 8 KiB", "GET /health?" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
      {"one header over 8 KiB", post("/v1/chat/completions", kHello, "X-Big: " + std::string(9000, 'b') + "\r\n"), 400},
      {"a hundred headers of 100 bytes", post("/v1/chat/completions", kHello, many_headers), 200},
      {"a thousand headers", post("/v1/chat/completions", kHello, thousand_headers), 431},
      {"headers of 100 KiB in all", post("/v1/chat/completions", kHello, big_headers), 431},
      {"a chunked body", chunked, 200},
      {"a chunked body with a bad chunk size",
       "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
       400},
      {"a byte at a time", post("/v1/chat/completions", kHello), 200, 1, 2ms},
      {"an empty body", post("/v1/chat/completions", ""), 400},
      {"a GET on a POST endpoint", "GET /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404},
      {"not HTTP", "HELLO THERE\r\n\r\n", 400},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const RawResult r = raw_request(row.request, row.piece, row.pause);
    EXPECT_EQ(r.status, row.status) << r.text.substr(0, 400);
    expect_alive();
  }
}

TEST_F(ServerBadInputTable, ClientsThatLeaveMidRequest) {
  const std::string whole = post("/v1/chat/completions", kHello);
  // Gone after the request line, in the headers, and with half the body sent.
  for (const size_t cut : {size_t(20), whole.find("\r\n\r\n") - 5, whole.size() - kHello.size() / 2}) {
    SCOPED_TRACE(cut);
    raw_request(whole.substr(0, cut), 0, 0ms, true);
    expect_alive();
  }
  // A body announced longer than what comes: the server waits, then gives up on the client.
  raw_request(post("/v1/chat/completions", kHello).substr(0, 60) + "Content-Length: 100000\r\n\r\n{\"messages\":", 0, 0ms, true);
  expect_alive();
  // And the slots are free again: a normal request is answered.
  auto r = server().client().Post("/v1/chat/completions", kHello, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
}

}  // namespace
