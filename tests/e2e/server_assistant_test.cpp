// The assistant apps over HTTP (docs/api.md): POST /v1/tandem/summarize and
// /v1/tandem/write as SSE (route, progress, deltas, done, [DONE]) and as one JSON object,
// documents as base64 (a PDF with Chinese text), GET /v1/tandem/tasks, the errors, a
// refusal behind the router, and a client that hangs up cancelling the job.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support/mini_pdf.h"
#include "support/server_process.h"
#include "support/test_paths.h"

namespace tandem::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

const std::string kStories = shared_path("models/stories260K.gguf");

std::string base64(const std::string& bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 | uint8_t(bytes[i + 2]);
    for (int k = 3; k >= 0; --k) out += alphabet[(v >> (6 * k)) & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    out += alphabet[(v >> 18) & 63], out += alphabet[(v >> 12) & 63], out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += alphabet[(v >> 18) & 63], out += alphabet[(v >> 12) & 63], out += alphabet[(v >> 6) & 63], out += '=';
  }
  return out;
}

std::string stories_text(size_t bytes) {
  std::ifstream in(shared_path("text/tinystories_head.txt"));
  std::stringstream s;
  s << in.rdbuf();
  return s.str().substr(0, bytes);
}

// The data events of an SSE body, in order; the last must be [DONE].
std::vector<json> events_of(const std::string& body) {
  std::vector<json> events;
  std::istringstream in(body);
  bool done = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("data: ", 0) != 0) continue;
    EXPECT_FALSE(done) << "an event after [DONE]";
    if (line == "data: [DONE]") {
      done = true;
      continue;
    }
    events.push_back(json::parse(line.substr(6)));
  }
  EXPECT_TRUE(done);
  return events;
}

std::string text_of(const std::vector<json>& events) {
  std::string text;
  for (const json& e : events) {
    if (e["type"] == "delta") text += e["text"].get<std::string>();
  }
  return text;
}

class ServerAssistant : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ServerProcess({"-m", kStories, "-t", "1", "--parallel", "1"}); }
  static void TearDownTestSuite() { delete server_; }
  static httplib::Result post(const std::string& path, const json& body) {
    return server_->client().Post(path, body.dump(), "application/json");
  }
  static inline ServerProcess* server_ = nullptr;
};

TEST_F(ServerAssistant, ALongSummaryStreamsRouteProgressDeltasAndDone) {
  const json request = {{"text", stories_text(5000)}, {"length", "short"}, {"temperature", 0}};
  auto r = post("/v1/tandem/summarize", request);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  EXPECT_EQ(r->get_header_value("X-Tandem-Route"), "device; reason=no_router");
  const std::vector<json> events = events_of(r->body);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.front(), json({{"type", "route"}, {"route", "device"}, {"reason", "no_router"}, {"fallback", false}}));
  const json& done = events.back();
  EXPECT_EQ(done["type"], "done");
  EXPECT_EQ(done["route"], "device");
  EXPECT_EQ(done["language"], "en");
  EXPECT_GT(done["chunks"].get<int>(), 1);
  EXPECT_GE(done["levels"].get<int>(), 1);
  EXPECT_GT(done["usage"]["calls"].get<int>(), done["chunks"].get<int>());
  EXPECT_TRUE(done["finish"] == "stop" || done["finish"] == "length");
  // Progress: map 0..chunks, in order, then the final before any delta.
  int map_done = -1;
  bool final_seen = false;
  for (const json& e : events) {
    if (e["type"] == "progress" && e["phase"] == "map") {
      EXPECT_EQ(e["done"].get<int>(), map_done + 1);
      map_done = e["done"];
      EXPECT_EQ(e["total"], done["chunks"]);
    }
    if (e["type"] == "progress" && e["phase"] == "final") final_seen = true;
    if (e["type"] == "delta") {
      EXPECT_TRUE(final_seen);
    }
  }
  EXPECT_EQ(map_done, done["chunks"].get<int>());
  const std::string streamed = text_of(events);
  EXPECT_FALSE(streamed.empty());

  // The same job as one JSON object: the same text at temperature 0.
  json whole = request;
  whole["stream"] = false;
  auto one = post("/v1/tandem/summarize", whole);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->status, 200);
  const json answer = json::parse(one->body);
  EXPECT_EQ(answer["object"], "tandem.summary");
  EXPECT_EQ(answer["text"], streamed);
  EXPECT_EQ(answer["chunks"], done["chunks"]);
}

TEST_F(ServerAssistant, APdfDocumentWithChineseTextInBase64) {
  const std::string pdf = make_pdf({{{"小明有一个红色的球。他每天都在公园里玩。", "", "有一天，球掉进了池塘。"}}});
  auto r = post("/v1/tandem/summarize", {{"document", {{"data", base64(pdf)}, {"name", "story.pdf"}}},
                                         {"temperature", 0}, {"max_tokens", 16}, {"stream", false}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json answer = json::parse(r->body);
  EXPECT_EQ(answer["language"], "zh");  // the document's language, read from the PDF
  EXPECT_EQ(answer["chunks"], 1);
}

TEST_F(ServerAssistant, WriteStreamsAndTasksAreListed) {
  auto r = post("/v1/tandem/write", {{"task", "email"}, {"instructions", "ask for a day off on Friday"},
                                     {"tone", "polite"}, {"temperature", 0}, {"max_tokens", 12}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const std::vector<json> events = events_of(r->body);
  EXPECT_EQ(events.front()["type"], "route");
  EXPECT_EQ(events.back()["type"], "done");
  EXPECT_EQ(events.back()["task"], "email");
  EXPECT_EQ(events.back()["usage"]["completion_tokens"], 12);
  EXPECT_FALSE(text_of(events).empty());

  auto tasks = server_->client().Get("/v1/tandem/tasks");
  ASSERT_TRUE(tasks);
  const json list = json::parse(tasks->body);
  ASSERT_EQ(list["write"].size(), 9u);
  EXPECT_EQ(list["write"][0]["task"], "email");
  EXPECT_EQ(list["write"][2]["input"], "required");  // polish
  EXPECT_EQ(list["summarize"]["lengths"], json({"short", "medium", "long", "bullets"}));
}

TEST_F(ServerAssistant, BadRequestsAreErrorsWithCodes) {
  struct Case {
    std::string path;
    json body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"/v1/tandem/summarize", json::object(), 400, "invalid_value"},
      {"/v1/tandem/summarize", {{"text", "a"}, {"document", {{"data", ""}}}}, 400, "invalid_value"},
      {"/v1/tandem/summarize", {{"text", "  \n"}}, 400, "bad_document"},
      {"/v1/tandem/summarize", {{"document", {{"data", base64(std::string("\0\1\2\3binary", 10))}}}}, 400, "bad_document"},
      {"/v1/tandem/summarize", {{"document", {{"data", base64("%PDF-1.4\nnot really")}}}}, 400, "bad_document"},
      {"/v1/tandem/summarize", {{"document", {{"data", "not base64!"}}}}, 400, "invalid_value"},
      {"/v1/tandem/summarize", {{"text", "a story"}, {"length", "tiny"}}, 400, "invalid_value"},
      {"/v1/tandem/summarize", {{"text", "a story"}, {"lang", "fr"}}, 400, "invalid_value"},
      {"/v1/tandem/summarize", {{"text", "a story"}, {"temperature", 9}}, 400, "invalid_value"},
      {"/v1/tandem/write", {{"instructions", "x"}}, 400, "invalid_value"},
      {"/v1/tandem/write", {{"task", "sonnet"}, {"instructions", "x"}}, 400, "invalid_value"},
      {"/v1/tandem/write", {{"task", "polish"}}, 400, "invalid_value"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body.dump());
    auto r = post(c.path, c.body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, c.status) << r->body;
    const json error = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(error.contains("error")) << r->body;
    EXPECT_EQ(error["error"]["code"], c.code);
    EXPECT_FALSE(error["error"]["message"].get<std::string>().empty());
  }
}

TEST_F(ServerAssistant, AClientThatHangsUpCancelsTheJob) {
  {
    httplib::Client impatient("127.0.0.1", server_->port());
    impatient.set_read_timeout(0, 100000);  // gives up before the first keep-alive space (250 ms)
    auto r = impatient.Post("/v1/tandem/summarize", json({{"text", stories_text(150000)}, {"stream", false}}).dump(),
                            "application/json");
    EXPECT_FALSE(r) << "the summary finished before the client gave up";
  }
  // Bounds on a hang, not timing checks.
  for (int i = 0; i < 400 && server_->metric("tandem_completions_cancelled_total") < 1; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_GE(server_->metric("tandem_completions_cancelled_total"), 1);
  for (int i = 0; i < 200 && server_->metric("tandem_slots_busy") != 0; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(server_->metric("tandem_slots_busy"), 0);
  const double decoded = server_->metric("tandem_decoded_tokens_total");
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(server_->metric("tandem_decoded_tokens_total"), decoded);  // no further call started
}

TEST(ServerAssistantRouted, PrivateDataWithoutADeviceIsRefused) {
  const std::string config = temp_path("router.json");
  std::ofstream(config) << R"({"ledger": ":memory:", "cloud": [{"base_url": "http://127.0.0.1:9/v1", "model": "x"}]})";
  ServerProcess server({"--router", config});
  auto r = server.client().Post("/v1/tandem/summarize",
                                json({{"text", "Summarize this: my e-mail is liwei1987@qq.com, call me."}}).dump(),
                                "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403) << r->body;
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "route_refused");
}

}  // namespace
}  // namespace tandem::test
