// `tandem serve` end to end: a real server process on a free loopback port, driven
// over HTTP (cpp-httplib client), by the official `openai` npm client, with bad
// input, and by concurrent clients. Every server is stopped by the test.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "support/server_process.h"
#include "support/test_paths.h"

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kStories = tandem::test::shared_path("models/stories260K.gguf");
const std::string kQwen = tandem::test::shared_path("conformance/qwen2/model-Q8_0.gguf");
const std::string kKey = "test-key";

using tandem::test::ServerProcess;

// `tandem serve -m MODEL -t 1 EXTRA...`; clients send kKey (ignored without --api-key).
std::vector<std::string> serve_args(const std::string& model, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"-m", model, "-t", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

json post(const ServerProcess& server, const std::string& path, const json& body, int expected = 200) {
  auto r = server.client().Post(path, body.dump(), "application/json");
  EXPECT_TRUE(r);
  if (!r) return {};
  EXPECT_EQ(r->status, expected) << r->body;
  return json::parse(r->body, nullptr, false);
}

std::string greedy_completion(const ServerProcess& server, const std::string& prompt, int max_tokens) {
  json r = post(server, "/v1/completions", {{"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0}});
  return r.is_discarded() || r.empty() ? "<failed>" : r["choices"][0]["text"].get<std::string>();
}

// ---- against independent references ------------------------------------------------

json read_json(const std::string& relative) {
  std::ifstream in(tandem::test::shared_path(relative));
  return json::parse(in);
}

// llama2.c's greedy story from BOS (../shared/models/stories260K.greedy.json, 256 tokens, no
// stop on EOS), through /v1/completions with the prompt as token ids.
TEST(ServerReference, GreedyCompletionOfStories260KIsLlama2csStory) {
  const json golden = read_json("models/stories260K.greedy.json");
  ServerProcess server(serve_args(kStories, {"-c", "512"}));
  const json r = post(server, "/v1/completions",
                      {{"prompt", {golden["bos"]}}, {"max_tokens", 256}, {"temperature", 0}, {"ignore_eos", true}});
  ASSERT_FALSE(r.is_discarded() || r.empty());
  // The pieces keep SentencePiece's leading space on the first word; the golden text does not.
  EXPECT_EQ(r["choices"][0]["text"], " " + golden["text"].get<std::string>());
  EXPECT_EQ(r["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(r["usage"]["prompt_tokens"], 1);
  EXPECT_EQ(r["usage"]["completion_tokens"], 256);
}

// llama.cpp's greedy continuation of "Once upon a time" (conformance/stories260K), the prompt
// as text: the server's tokenization ([1, 403, 407, 261, 378]) and its 64 greedy tokens.
TEST(ServerReference, GreedyContinuationMatchesLlamaCpp) {
  const json golden = read_json("conformance/stories260K/golden-F32-once.json");
  ServerProcess server(serve_args(kStories, {"-c", "512"}));
  const json r = post(server, "/v1/completions",
                      {{"prompt", golden["prompt"]}, {"max_tokens", 64}, {"temperature", 0}, {"ignore_eos", true}});
  ASSERT_FALSE(r.is_discarded() || r.empty());
  EXPECT_EQ(r["choices"][0]["text"], golden["greedy"]["text"]);
  EXPECT_EQ(r["usage"]["prompt_tokens"], golden["prompt_tokens"].size());
}

// A chat request's prompt is the ChatML rendering written out here by hand: the greedy answer
// to the chat equals the greedy completion of that exact text (special tokens parsed), and
// both count the same prompt tokens. (The token ids themselves: server_openai_request_test.)
TEST(ServerReference, ChatPromptIsTheTemplatesRendering) {
  ServerProcess server(serve_args(kQwen, {"-c", "512"}));
  const json chat = post(server, "/v1/chat/completions",
                         {{"messages", {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hello"}}}},
                          {"max_tokens", 12}, {"temperature", 0}, {"ignore_eos", true}});
  ASSERT_FALSE(chat.is_discarded() || chat.empty());
  // /v1/completions does not parse special tokens in text, so the rendering goes in as ids:
  // <|im_start|> 1757, <|im_end|> 1758 (shared conformance README), and `tandem tokenize`'s
  // ids for each text between them.
  std::vector<int> ids;
  auto add_text = [&](const std::string& text) {
    const auto r = tandem::test::run_cli("tokenize -m " + kQwen + " -p '" + text + "' --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (int id : json::parse(r.out).get<std::vector<int>>()) ids.push_back(id);
  };
  ids.push_back(1757);
  add_text("system\nBe brief.");
  ids.push_back(1758);
  add_text("\n");
  ids.push_back(1757);
  add_text("user\nHello");
  ids.push_back(1758);
  add_text("\n");
  ids.push_back(1757);
  add_text("assistant\n");
  const json completion =
      post(server, "/v1/completions", {{"prompt", ids}, {"max_tokens", 12}, {"temperature", 0}, {"ignore_eos", true}});
  ASSERT_FALSE(completion.is_discarded() || completion.empty());
  EXPECT_EQ(chat["usage"]["prompt_tokens"], completion["usage"]["prompt_tokens"]);
  EXPECT_EQ(chat["choices"][0]["message"]["content"], completion["choices"][0]["text"]);
}

// ---- the official openai npm client ------------------------------------------------

void run_openai_client(const std::string& model) {
  const std::string modules = tandem::test::node_modules("openai", "openai");
  ASSERT_FALSE(modules.empty()) << "npm install of the openai package failed (no registry access?)";
  ServerProcess server(serve_args(model, {"--api-key", kKey, "-c", "1024"}), kKey);
  const std::string script = std::string(TANDEM_SOURCE_DIR) + "/tests/e2e/node/openai_client.cjs";
  const std::string cmd = "NODE_PATH='" + modules + "' node '" + script + "' " + server.base_url() + " " + kKey + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("ALL OK"), std::string::npos) << output;
}

TEST(ServerOpenAiClient, Stories260K) { run_openai_client(kStories); }
TEST(ServerOpenAiClient, Qwen2WithChatTemplate) { run_openai_client(kQwen); }

// ---- bad input ---------------------------------------------------------------------

TEST(ServerBadInput, EachGetsItsStatusAndTheServerKeepsServing) {
  ServerProcess server(serve_args(kStories, {"--api-key", kKey, "-c", "128"}), kKey);
  const std::string big_prompt(20000, 'a');
  const std::string invalid_utf8 = "{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}";
  struct Case {
    const char* name;
    std::string path, body;
    int status;
    const char* key = "test-key";  // nullptr: no Authorization header
  };
  const std::string hello = R"("messages":[{"role":"user","content":"hi"}])";
  const Case cases[] = {
      {"malformed json", "/v1/chat/completions", "{\"messages\": [", 400},
      {"not an object", "/v1/chat/completions", "[1,2]", 400},
      {"messages wrong type", "/v1/chat/completions", R"({"messages":"hi"})", 400},
      {"temperature wrong type", "/v1/chat/completions", "{" + hello + R"(,"temperature":"hot"})", 400},
      {"max_tokens negative", "/v1/chat/completions", "{" + hello + R"(,"max_tokens":-5})", 400},
      {"bad role", "/v1/chat/completions", R"({"messages":[{"role":"wizard","content":"x"}]})", 400},
      {"empty messages", "/v1/chat/completions", R"({"messages":[]})", 400},
      {"unknown fields are ignored", "/v1/chat/completions", "{" + hello + R"(,"max_tokens":2,"frobnicate":1})", 200},
      {"huge max_tokens ends at the context", "/v1/chat/completions", "{" + hello + R"(,"max_tokens":1000000000})", 200},
      {"prompt over the context", "/v1/completions", R"({"prompt":")" + big_prompt + R"("})", 400},
      {"invalid utf-8", "/v1/chat/completions", invalid_utf8, 400},
      {"unsupported schema keyword", "/v1/chat/completions",
       "{" + hello + R"(,"response_format":{"type":"json_schema","json_schema":{"schema":{"type":"string","pattern":"a"}}}})", 400},
      {"n > 1", "/v1/chat/completions", "{" + hello + R"(,"n":2})", 400},
      {"10 MB body", "/v1/chat/completions", std::string(10 << 20, ' '), 413},
      {"missing api key", "/v1/chat/completions", "{" + hello + "}", 401, nullptr},
      {"bad api key", "/v1/chat/completions", "{" + hello + "}", 401, "wrong"},
      {"unknown path", "/v1/nothing", "{}", 404},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    httplib::Client client("127.0.0.1", server.port());
    client.set_read_timeout(120, 0);
    if (c.key) client.set_bearer_token_auth(c.key);
    auto r = client.Post(c.path, c.body, "application/json");
    ASSERT_TRUE(r) << "no response";
    EXPECT_EQ(r->status, c.status) << r->body;
    const json body = json::parse(r->body, nullptr, false);
    if (c.status != 200) {
      ASSERT_FALSE(body.is_discarded()) << r->body;
      EXPECT_TRUE(body["error"]["message"].is_string()) << r->body;
      EXPECT_TRUE(body["error"]["type"].is_string()) << r->body;
    } else {
      EXPECT_TRUE(body["choices"][0]["message"]["content"].is_string()) << r->body;
    }
    auto health = server.client().Get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
  }
}

TEST(ServerEndpoints, HealthModelsMetricsAndPage) {
  ServerProcess server(serve_args(kStories, {"-c", "128"}), kKey);
  auto client = server.client();
  auto health = client.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(json::parse(health->body)["status"], "ok");
  auto models = client.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(json::parse(models->body)["data"][0]["id"], "stories260K.gguf");
  greedy_completion(server, "Once upon a time", 4);
  EXPECT_EQ(server.metric("tandem_completions_total"), 1);
  EXPECT_EQ(server.metric("tandem_generated_tokens_total"), 4);
  EXPECT_GT(server.metric("tandem_memory_resident_bytes"), 0);
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("<html"), std::string::npos);
}

// ---- concurrency -------------------------------------------------------------------

TEST(ServerConcurrency, EightClientsOnFourSlotsMatchSequentialGreedyRuns) {
  ServerProcess server(serve_args(kStories, {"--parallel", "4", "--queue", "8", "-c", "256"}), kKey);
  const std::vector<std::string> prompts = {"Once upon a time", "The cat", "Lily and Ben", "One day",
                                            "The sun was", "Tom had a", "In the park", "A big dog"};
  std::vector<std::string> sequential;
  for (const auto& p : prompts) sequential.push_back(greedy_completion(server, p, 40));

  std::vector<std::future<std::string>> concurrent;
  for (const auto& p : prompts) {
    concurrent.push_back(std::async(std::launch::async, [&, p] { return greedy_completion(server, p, 40); }));
  }
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(concurrent[i].get(), sequential[i]) << prompts[i];
  EXPECT_EQ(server.metric("tandem_completions_total"), 16);
  // The repeated prompts were served from the slots' caches.
  EXPECT_GT(server.metric("tandem_prompt_tokens_cached_total"), 0);
}

// Polls until `done` (a guard against hanging on a broken server, not a timing check).
template <class Done>
void wait_until(Done done, const char* what) {
  for (int i = 0; i < 12000; ++i) {
    if (done()) return;
    std::this_thread::sleep_for(5ms);
  }
  FAIL() << "gave up waiting for " << what;
}

// Starts a streamed completion that generates up to max_tokens; returns once the
// first chunk arrived. The returned future completes when the stream ends.
std::future<int> start_stream(const ServerProcess& server, int max_tokens, bool disconnect_after_first) {
  auto first = std::make_shared<std::promise<void>>();
  auto started = first->get_future();
  auto done = std::async(std::launch::async, [&server, first, max_tokens, disconnect_after_first] {
    httplib::Client client("127.0.0.1", server.port());
    client.set_read_timeout(120, 0);
    const json body = {{"prompt", "Once upon a time"}, {"max_tokens", max_tokens}, {"ignore_eos", true},
                       {"stream", true}, {"temperature", 0}};
    bool signalled = false;
    int chunks = 0;
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/completions";
    req.body = body.dump();
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) {
      ++chunks;
      if (!signalled) first->set_value(), signalled = true;
      return !disconnect_after_first;  // false closes the connection
    };
    auto r = client.send(req);
    if (!signalled) first->set_value();
    return r ? r->status : -1;
  });
  started.wait();
  return done;
}

TEST(ServerConcurrency, QueueLimitGives429AndADisconnectFreesItsSlot) {
  ServerProcess server(serve_args(kStories, {"--parallel", "1", "--queue", "1", "-c", "2048"}), kKey);
  // Slot busy with a long generation, one request queued: the next is refused.
  auto running = start_stream(server, 2000, false);
  auto queued = std::async(std::launch::async, [&] { return greedy_completion(server, "The cat", 4); });
  wait_until([&] { return server.metric("tandem_queue_depth") >= 1; }, "a queued request");
  auto refused = server.client().Post("/v1/completions", R"({"prompt":"x","max_tokens":2})", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429) << refused->body;
  EXPECT_EQ(json::parse(refused->body)["error"]["code"], "queue_full");
  EXPECT_EQ(running.get(), 200);
  EXPECT_NE(queued.get(), "<failed>");

  // A client that disconnects mid-stream: its generation stops and the slot frees.
  const double generated_before = server.metric("tandem_decoded_tokens_total");
  start_stream(server, 2000, true).get();
  wait_until([&] { return server.metric("tandem_slots_busy") == 0; }, "the slot to free");
  wait_until([&] { return server.metric("tandem_completions_cancelled_total") >= 1; }, "the cancellation");
  EXPECT_LT(server.metric("tandem_decoded_tokens_total") - generated_before, 2000);
  EXPECT_NE(greedy_completion(server, "The cat", 4), "<failed>");
}

}  // namespace
