// The device-cloud router end to end, with real processes: a "cloud" `tandem serve`
// on another port with another model logs every body it receives; the router is a
// `tandem serve` whose device tier runs in-process. Covers the privacy corpus's test
// split under cloud-preferred, auto and redaction (no private secret reaches the
// cloud), the cloud dying mid-stream, a cloud timeout, redaction, and the ledger.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "privacy/classifier.h"
#include "privacy/corpus.h"
#include "router/privacy_check.h"
#include "support/route_reason.h"
#include "support/server_process.h"
#include "support/test_paths.h"

namespace {

using nlohmann::json;
using tandem::test::ServerProcess;
using tandem::test::without_scores;
namespace fs = std::filesystem;

const std::string kDeviceModel = tandem::test::shared_path("models/stories260K.gguf");
const std::string kCloudModel = tandem::test::shared_path("conformance/qwen2/model-Q8_0.gguf");

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A cloud: another model, every request body appended to `log`.
std::unique_ptr<ServerProcess> start_cloud(const std::string& log) {
  return std::make_unique<ServerProcess>(
      std::vector<std::string>{"-m", kCloudModel, "-t", "1", "-c", "4096", "--log-requests", log});
}

struct Answer {
  int status = 0;
  std::string route_header;
  json body;
};

Answer post(const ServerProcess& server, const std::string& path, const json& body, httplib::Headers headers = {}) {
  auto r = server.client().Post(path, headers, body.dump(), "application/json");
  Answer a;
  if (!r) return a;
  a.status = r->status;
  a.route_header = r->get_header_value("X-Tandem-Route");
  a.body = json::parse(r->body, nullptr, false);
  return a;
}

// A streamed request: every SSE payload, in order; `after_first` runs once the
// first chunk arrived (to kill the cloud mid-answer).
struct StreamAnswer {
  int status = 0;
  std::string route_header;
  std::vector<json> chunks;
  bool done = false;
  std::string text;
};

StreamAnswer post_stream(const ServerProcess& server, const json& body, const std::function<void()>& after_first = {}) {
  StreamAnswer answer;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  std::string pending;
  bool fired = false;
  req.response_handler = [&](const httplib::Response& r) {
    answer.status = r.status;
    answer.route_header = r.get_header_value("X-Tandem-Route");
    return true;
  };
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    pending.append(data, size);
    for (size_t end; (end = pending.find("\n\n")) != std::string::npos;) {
      const std::string event = pending.substr(0, end);
      pending.erase(0, end + 2);
      if (event.rfind("data: ", 0) != 0) continue;
      const std::string payload = event.substr(6);
      if (payload == "[DONE]") {
        answer.done = true;
        continue;
      }
      json chunk = json::parse(payload, nullptr, false);
      if (chunk.is_discarded()) continue;
      if (chunk.contains("choices") && !chunk["choices"].empty() && chunk["choices"][0].contains("delta") &&
          chunk["choices"][0]["delta"].contains("content")) {
        answer.text += chunk["choices"][0]["delta"]["content"].get<std::string>();
      }
      answer.chunks.push_back(std::move(chunk));
      if (!fired && after_first) {
        fired = true;
        after_first();
      }
    }
    return true;
  };
  auto client = server.client();
  client.send(req);
  return answer;
}

json chat(const std::string& text, int max_tokens = 2) {
  return {{"model", "any"},
          {"messages", json::array({{{"role", "user"}, {"content", text}}})},
          {"max_tokens", max_tokens},
          {"temperature", 0}};
}

json ledger_summary(const std::string& db) {
  const auto run = tandem::test::run_cli("ledger --db '" + db + "' --since all --json");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return json::parse(run.out, nullptr, false);
}

// The privacy corpus's test split (never trained on) and the background set's: what
// the privacy acceptance is measured on (data/privacy/README.md).
std::vector<tandem::privacy::Example> test_split() {
  const std::string root = std::string(TANDEM_SOURCE_DIR) + "/data/privacy/";
  std::vector<tandem::privacy::Example> examples;
  for (auto& e : tandem::privacy::load_corpus(root + "corpus")) {
    if (e.split == tandem::privacy::Split::Test) examples.push_back(std::move(e));
  }
  for (auto& e : tandem::privacy::load_background(root + "background")) {
    if (e.split == tandem::privacy::Split::Test) examples.push_back(std::move(e));
  }
  return examples;
}

// No secret, raw or JSON-escaped as the log holds it, is in the cloud's log. A secret
// that a public request of the corpus also holds ("medicine", "满族") says nothing.
void expect_no_secret_in(const std::string& cloud_log, const std::vector<std::string>& secrets) {
  static const std::vector<std::string> public_texts = [] {
    std::vector<std::string> texts;
    for (const auto& e : tandem::privacy::load_corpus(std::string(TANDEM_SOURCE_DIR) + "/data/privacy/corpus")) {
      if (!e.is_private) texts.push_back(e.text);
    }
    return texts;
  }();
  for (const std::string& secret : secrets) {
    if (std::any_of(public_texts.begin(), public_texts.end(),
                    [&](const std::string& text) { return text.find(secret) != std::string::npos; })) {
      continue;
    }
    const std::string escaped = json(secret).dump();
    EXPECT_EQ(cloud_log.find(secret), std::string::npos) << "private string reached the cloud: " << secret;
    EXPECT_EQ(cloud_log.find(escaped.substr(1, escaped.size() - 2)), std::string::npos) << secret;
  }
}

struct SplitRun {
  int sent = 0, device = 0, cloud = 0, refused = 0, public_total = 0, private_total = 0, private_to_cloud = 0;
  std::vector<std::string> kept_secrets;  // of the private requests that stayed off the cloud
};

// Sends every example, on its text alone, through a router with this preference and
// privacy setting; checks what holds whatever the verdict (the route in the header and
// the body agree, only private requests are refused, the ledger counts every request)
// and that every request the privacy check calls private stays off the cloud.
SplitRun route_split(const std::vector<tandem::privacy::Example>& examples, const ServerProcess& cloud,
                     const std::string& preference, const std::string& strictness) {
  SCOPED_TRACE(preference + ", " + strictness);
  const std::string ledger = tandem::test::temp_path("ledger-" + preference + "-" + strictness + ".sqlite");
  ServerProcess router({"-m", kDeviceModel, "-t", "1", "-c", "1024", "--cloud-url", cloud.base_url(), "--cloud-model",
                        "qwen-cloud", "--route", preference, "--privacy", strictness, "--ledger", ledger});
  const auto setting = tandem::privacy::parse_strictness(strictness).value();
  SplitRun run;
  for (const auto& e : examples) {
    const Answer a = post(router, "/v1/chat/completions", chat(e.text, 1));
    ++run.sent;
    (e.is_private ? run.private_total : run.public_total)++;
    EXPECT_FALSE(a.route_header.empty()) << e.id;
    const std::string route = a.route_header.substr(0, a.route_header.find(';'));
    EXPECT_NE(a.route_header.find("privacy:"), std::string::npos) << e.id << ": no verdict in " << a.route_header;
    const bool found_private = tandem::router::check_privacy(e.text, {}, setting).is_private;
    if (found_private) {
      EXPECT_NE(route, "cloud") << e.id << " was found private but went to the cloud: " << a.route_header;
    }
    if (route == "refused") {
      ++run.refused;
      EXPECT_EQ(a.status, 403) << e.id;
      EXPECT_TRUE(found_private) << e.id << " was refused but not found private: " << a.route_header;
    } else {
      EXPECT_EQ(a.status, 200) << e.id << ": " << a.body.dump();
      EXPECT_EQ(a.body["tandem"]["route"], route) << a.route_header;
      (route == "device" ? run.device : run.cloud)++;
    }
    if (e.is_private && route == "cloud") {
      ++run.private_to_cloud;
      std::printf("  %s: private %s reached the cloud: %s\n", preference.c_str(), e.id.c_str(), a.route_header.c_str());
    } else if (e.is_private) {
      run.kept_secrets.insert(run.kept_secrets.end(), e.secrets.begin(), e.secrets.end());
    }
  }
  std::printf("%s, %s: %d requests, %d device, %d cloud, %d refused; private to the cloud %d of %d\n",
              preference.c_str(), strictness.c_str(), run.sent, run.device, run.cloud, run.refused,
              run.private_to_cloud, run.private_total);
  const json summary = ledger_summary(ledger);
  EXPECT_FALSE(summary.is_discarded());
  EXPECT_EQ(summary["requests"], run.sent);
  EXPECT_EQ(summary["device"], run.device);
  EXPECT_EQ(summary["cloud"], run.cloud);
  EXPECT_EQ(summary["refused"], run.refused);
  // The cloud does get the public requests: all under cloud-preferred but those the check flags.
  if (preference == "cloud-preferred") {
    EXPECT_GE(run.cloud, run.public_total * 3 / 4);
  }
  return run;
}

// The whole test split with --route cloud-preferred and --route auto at the default
// privacy setting: what the check flags never reaches the cloud, and what it misses is
// within the acceptance figure (at least 97% of private requests kept off the cloud);
// the secrets of every request it kept are absent from the cloud's log.
TEST(RouterEndToEnd, TestSplitAtBalancedKeepsWhatTheCheckFindsOffTheCloud) {
  const std::vector<tandem::privacy::Example> examples = test_split();
  ASSERT_GE(examples.size(), 500u);
  const std::string log = tandem::test::temp_path("cloud-balanced.log");
  auto cloud = start_cloud(log);
  for (const char* preference : {"cloud-preferred", "auto"}) {
    const size_t before = read_file(log).size();  // this run's part of the log only
    const SplitRun run = route_split(examples, *cloud, preference, "balanced");
    EXPECT_LE(run.private_to_cloud, run.private_total * 3 / 100) << preference;
    expect_no_secret_in(read_file(log).substr(before), run.kept_secrets);
  }
}

// The same at --privacy strict: no private test request reaches the cloud at all, and
// none of the test split's secrets is in the cloud's log.
TEST(RouterEndToEnd, TestSplitAtStrictKeepsEveryPrivateSecretOffTheCloud) {
  const std::vector<tandem::privacy::Example> examples = test_split();
  const std::string log = tandem::test::temp_path("cloud-strict.log");
  auto cloud = start_cloud(log);
  std::vector<std::string> secrets;
  for (const auto& e : examples) secrets.insert(secrets.end(), e.secrets.begin(), e.secrets.end());
  for (const char* preference : {"cloud-preferred", "auto"}) {
    EXPECT_EQ(route_split(examples, *cloud, preference, "strict").private_to_cloud, 0) << preference;
  }
  const std::string cloud_log = read_file(log);
  EXPECT_FALSE(cloud_log.empty());
  expect_no_secret_in(cloud_log, secrets);
}

// With redaction allowed, the private test requests that need a cloud service go out
// only as placeholders, and only when what redaction left passes the privacy check;
// the rest are refused. The echoed answer comes back with the original values. At
// --privacy strict, so that what is measured is redaction, not the classifier's misses.
TEST(RouterEndToEnd, RedactionOfTheTestSplitSendsOnlyPlaceholders) {
  std::vector<tandem::privacy::Example> examples;
  for (auto& e : test_split()) {
    if (e.is_private && e.needs_cloud) examples.push_back(std::move(e));
  }
  ASSERT_GE(examples.size(), 50u);
  const std::string log = tandem::test::temp_path("cloud-redact-split.log");
  auto cloud = start_cloud(log);
  ServerProcess router({"-m", kDeviceModel, "-t", "1", "-c", "1024", "--cloud-url", cloud->base_url(), "--cloud-model",
                        "qwen-cloud", "--route", "auto", "--redact", "--privacy", "strict", "--ledger", ":memory:"});
  int redacted = 0, refused = 0, device = 0;
  for (const auto& e : examples) {
    const size_t before = read_file(log).size();
    const Answer a = post(router, "/v1/completions", {{"prompt", e.text}, {"max_tokens", 1}, {"echo", true}});
    // What this request put in the cloud's log holds none of its secrets.
    expect_no_secret_in(read_file(log).substr(before), e.secrets);
    if (a.status == 403) {
      ++refused;
      EXPECT_EQ(a.route_header.rfind("refused; reason=privacy:", 0), 0u) << e.id << ": " << a.route_header;
      continue;
    }
    ASSERT_EQ(a.status, 200) << e.id << ": " << a.body.dump();
    if (a.route_header.rfind("device; ", 0) == 0) {
      ++device;  // the check did not see a cloud service in it: answered on the device
      continue;
    }
    EXPECT_EQ(a.route_header.rfind("cloud; reason=privacy:", 0), 0u) << e.id << ": " << a.route_header;
    EXPECT_NE(a.route_header.find(";redacted;needs_cloud"), std::string::npos) << e.id << ": " << a.route_header;
    ++redacted;
    const std::string text = a.body["choices"][0]["text"];
    EXPECT_EQ(text.rfind(e.text, 0), 0u) << e.id << ": the answer was not restored: " << text;
  }
  std::printf("redaction: %zu private requests that need the cloud: %d sent redacted, %d refused, %d on the device\n",
              examples.size(), redacted, refused, device);
  if (redacted > 0) {
    EXPECT_NE(read_file(log).find("_1]"), std::string::npos) << "no placeholder in the cloud's log";
  }
}

TEST(RouterEndToEnd, PreferenceComesFromTheHeaderOrTheBody) {
  const std::string log = tandem::test::temp_path("cloud-pref.log");
  auto cloud = start_cloud(log);
  ServerProcess router({"-m", kDeviceModel, "-t", "1", "--cloud-url", cloud->base_url(), "--cloud-model", "qwen-cloud",
                        "--ledger", ":memory:"});
  Answer a = post(router, "/v1/chat/completions", chat("Say hello"), {{"X-Tandem-Preference", "cloud-preferred"}});
  EXPECT_EQ(without_scores(a.route_header), "cloud; reason=preference:cloud-preferred;privacy:none_found");
  json body = chat("Book me a flight to Tokyo and reserve a hotel");
  body["tandem"] = {{"preference", "device-only"}};
  a = post(router, "/v1/chat/completions", body, {{"X-Tandem-Preference", "cloud-preferred"}});
  EXPECT_EQ(without_scores(a.route_header), "device; reason=preference:device-only;privacy:none_found");
  a = post(router, "/v1/chat/completions", chat("hi"), {{"X-Tandem-Preference", "sometimes"}});
  EXPECT_EQ(a.status, 400);
}

TEST(RouterEndToEnd, PastTheDailyBudgetTheDeviceAnswers) {
  const std::string log = tandem::test::temp_path("cloud-budget.log");
  auto cloud = start_cloud(log);
  // 1.2 fen a call and 3 fen a day: two cloud calls, then the device.
  ServerProcess router({"-m", kDeviceModel, "-t", "1", "--cloud-url", cloud->base_url(), "--cloud-model", "qwen-cloud",
                        "--cloud-price-fen", "1.2", "--daily-budget-fen", "3", "--route", "cloud-preferred",
                        "--ledger", tandem::test::temp_path("budget.sqlite")});
  std::vector<std::string> routes;
  for (int i = 0; i < 4; ++i) {
    routes.push_back(without_scores(post(router, "/v1/chat/completions", chat("Say hello")).route_header));
  }
  EXPECT_EQ(routes[0], "cloud; reason=preference:cloud-preferred;privacy:none_found");
  EXPECT_EQ(routes[1], "cloud; reason=preference:cloud-preferred;privacy:none_found");
  EXPECT_EQ(routes[2], "device; reason=cost:daily_budget;privacy:none_found");
  EXPECT_EQ(routes[3], "device; reason=cost:daily_budget;privacy:none_found");
}

TEST(RouterEndToEnd, CloudKilledMidRunTheDeviceAnswersAndStreamsComplete) {
  const std::string log = tandem::test::temp_path("cloud-kill.log");
  auto cloud = start_cloud(log);
  ServerProcess router({"-m", kDeviceModel, "-t", "1", "-c", "512", "--cloud-url", cloud->base_url(), "--cloud-model",
                        "qwen-cloud", "--route", "cloud-preferred", "--ledger", ":memory:"});
  ASSERT_EQ(without_scores(post(router, "/v1/chat/completions", chat("Say hello")).route_header),
            "cloud; reason=preference:cloud-preferred;privacy:none_found");

  // A long cloud answer, killed after its first chunk: the device finishes it.
  json body = chat("Tell me a long story", 3000);
  body["stream"] = true;
  body["ignore_eos"] = true;
  const StreamAnswer streamed = post_stream(router, body, [&] { cloud->kill_now(); });
  EXPECT_EQ(streamed.status, 200);
  EXPECT_EQ(without_scores(streamed.route_header), "cloud; reason=preference:cloud-preferred;privacy:none_found");
  EXPECT_TRUE(streamed.done) << "the stream did not complete";
  ASSERT_FALSE(streamed.chunks.empty());
  const json& last = streamed.chunks.back();
  ASSERT_TRUE(last.contains("tandem")) << last.dump();
  EXPECT_EQ(last["tandem"]["route"], "device") << last.dump();
  EXPECT_EQ(last["tandem"]["fallback"], true);
  EXPECT_EQ(last["tandem"]["reason"].get<std::string>().rfind("fallback:cloud_", 0), 0u);
  EXPECT_NE(last["choices"][0]["finish_reason"], nullptr);

  // With the cloud gone, every later request still gets an answer from the device.
  for (int i = 0; i < 3; ++i) {
    const Answer a = post(router, "/v1/chat/completions", chat("Say hello"));
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body["tandem"]["route"], "device") << a.route_header;
  }
  json stream_body = chat("Once upon a time", 8);
  stream_body["stream"] = true;
  const StreamAnswer after = post_stream(router, stream_body);
  EXPECT_EQ(after.status, 200);
  EXPECT_TRUE(after.done);
  EXPECT_EQ(after.route_header.rfind("device; reason=", 0), 0u) << after.route_header;
}

// The timeout is seen as events: the reason names it, the fallback counter counts each one, and
// the device's answer completes. (How long the wait is belongs to no test: it is --cloud-timeout.)
TEST(RouterEndToEnd, ASilentCloudFallsBackOnTheConfiguredTimeout) {
  const std::string log = tandem::test::temp_path("cloud-timeout.log");
  auto cloud = start_cloud(log);
  ServerProcess router({"-m", kDeviceModel, "-t", "1", "-c", "512", "--cloud-url", cloud->base_url(), "--cloud-model",
                        "qwen-cloud", "--route", "cloud-preferred", "--cloud-timeout", "2", "--ledger", ":memory:"});
  ASSERT_EQ(post(router, "/v1/chat/completions", chat("Say hello")).body["tandem"]["route"], "cloud");
  ASSERT_EQ(router.metric("tandem_cloud_fallbacks_total"), 0);
  cloud->pause();  // accepts connections, never answers
  double fallbacks = 0;
  for (bool stream : {false, true}) {
    json body = chat("Say hello", 4);
    body["stream"] = stream;
    std::string header;
    if (stream) {
      const StreamAnswer a = post_stream(router, body);
      EXPECT_TRUE(a.done);
      ASSERT_FALSE(a.chunks.empty());
      EXPECT_EQ(a.chunks.back()["tandem"]["reason"], "fallback:cloud_timeout") << a.chunks.back().dump();
      header = a.route_header;
    } else {
      const Answer a = post(router, "/v1/chat/completions", body);
      EXPECT_EQ(a.status, 200);
      EXPECT_EQ(a.body["tandem"]["fallback"], true) << a.body.dump();
      EXPECT_EQ(a.body["tandem"]["route"], "device") << a.body.dump();
      EXPECT_NE(a.body["choices"][0]["finish_reason"], nullptr) << a.body.dump();
      header = a.route_header;
    }
    EXPECT_EQ(header, "device; reason=fallback:cloud_timeout");
    EXPECT_EQ(router.metric("tandem_cloud_fallbacks_total"), ++fallbacks) << (stream ? "streamed" : "non-streamed");
  }
  cloud->resume();
}

TEST(RouterEndToEnd, RedactionSendsPlaceholdersAndRestoresTheAnswer) {
  const std::string log = tandem::test::temp_path("cloud-redact.log");
  auto cloud = start_cloud(log);
  // No device model installed: private requests may only go out redacted.
  const std::string config_path = tandem::test::temp_path("router.json");
  std::ofstream(config_path) << json{{"preference", "auto"},
                                     {"redact_to_cloud", true},
                                     {"ledger", ":memory:"},
                                     {"device", {{"model", "installed:no-such-model"}}},
                                     {"cloud", {{{"base_url", cloud->base_url()}, {"model", "qwen-cloud"}}}}}
                                    .dump();
  ServerProcess router({"--router", config_path, "-t", "1"});

  const std::string email = "li.wei@example.com", phone = "13966051287";
  const std::string prompt = "Forward the invoice to " + email + " and text " + phone + " when done.";
  const Answer a = post(router, "/v1/completions", {{"prompt", prompt}, {"max_tokens", 4}, {"echo", true}});
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.route_header.rfind("cloud; reason=privacy:", 0), 0u) << a.route_header;
  EXPECT_NE(a.route_header.find(";redacted;device:no_device_model"), std::string::npos) << a.route_header;
  // The cloud echoed placeholders; the answer on the phone has the values back.
  const std::string text = a.body["choices"][0]["text"];
  EXPECT_EQ(text.rfind(prompt, 0), 0u) << text;

  const std::string cloud_log = read_file(log);
  EXPECT_EQ(cloud_log.find(email), std::string::npos) << cloud_log;
  EXPECT_EQ(cloud_log.find(phone), std::string::npos) << cloud_log;
  EXPECT_NE(cloud_log.find("[EMAIL_1]"), std::string::npos) << cloud_log;
  EXPECT_NE(cloud_log.find("[PHONE_1]"), std::string::npos) << cloud_log;

  // Tagged data has no redacted form: refused, with the reason.
  json tagged = chat("Summarize my messages");
  tagged["tandem"] = {{"data_tags", {"messages"}}};
  const Answer refused = post(router, "/v1/chat/completions", tagged);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(without_scores(refused.route_header), "refused; reason=privacy:tag_messages;device:no_device_model");
  // Without a device model, ordinary requests go to the cloud and say why.
  EXPECT_EQ(without_scores(post(router, "/v1/chat/completions", chat("Say hello")).route_header),
            "cloud; reason=capability:no_device_model;privacy:none_found");
}

}  // namespace

namespace {

TEST(RouterEndToEnd, ChatRoutesEachTurnThroughTheSameRouter) {
  const std::string log = tandem::test::temp_path("cloud-chat.log");
  auto cloud = start_cloud(log);
  const std::string config_path = tandem::test::temp_path("chat-router.json");
  std::ofstream(config_path) << json{{"ledger", ":memory:"},
                                     {"device", {{"model", kDeviceModel}, {"ctx", 512}, {"threads", 1}}},
                                     {"cloud", {{{"base_url", cloud->base_url()}, {"model", "qwen-cloud"}}}}}
                                    .dump();
  const auto run = tandem::test::run_cli_with_input(
      "chat --router '" + config_path + "' -n 4 --temp 0",
      "Say hello\nBook me a flight to Tokyo and reserve a hotel\nMy email is li.wei@example.com, say hi\n");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("[route: device; reason=difficulty:0."), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("[route: cloud; reason=difficulty:"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("[route: device; reason=privacy:email(score="), std::string::npos) << run.err;
  EXPECT_EQ(read_file(log).find("li.wei@example.com"), std::string::npos);
}

}  // namespace

namespace {

// The user decides whether to download the device model: until `tandem models add`,
// the device tier is absent and the router says so.
TEST(RouterEndToEnd, TheDeviceTierAppearsOnceTheModelIsInstalled) {
  const std::string home = tandem::test::temp_path("tandem-home");
  fs::create_directories(home);
  setenv("TANDEM_HOME", home.c_str(), 1);  // inherited by the CLI and servers started below
  const std::string log = tandem::test::temp_path("cloud-install.log");
  auto cloud = start_cloud(log);
  const std::string config_path = tandem::test::temp_path("install-router.json");
  std::ofstream(config_path) << json{{"ledger", ":memory:"},
                                     {"device", {{"model", "installed:stories"}}},
                                     {"cloud", {{{"base_url", cloud->base_url()}, {"model", "qwen-cloud"}}}}}
                                    .dump();
  {
    ServerProcess router({"--router", config_path, "-t", "1"});
    EXPECT_EQ(without_scores(post(router, "/v1/chat/completions", chat("Say hello")).route_header),
              "cloud; reason=capability:no_device_model;privacy:none_found");
  }
  const auto added = tandem::test::run_cli("models add '" + kDeviceModel + "' --name stories");
  ASSERT_EQ(added.exit_code, 0) << added.err;
  {
    ServerProcess router({"--router", config_path, "-t", "1"});
    const Answer a = post(router, "/v1/chat/completions", chat("Say hello"));
    EXPECT_EQ(a.route_header.rfind("device; reason=difficulty:", 0), 0u) << a.route_header;
  }
  unsetenv("TANDEM_HOME");
}

}  // namespace
