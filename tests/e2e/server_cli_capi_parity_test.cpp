// One generation core behind every surface: `tandem run`, `tandem serve`'s
// /v1/completions and the C API give the same text for the same prompt and options
// (greedy, seeded sampling, stop strings, JSON schema), the same logprobs, and apply
// the same prompt-length rule (a prompt must leave room for one generated token).
// stories260K; greedy from BOS is also checked against ../shared's golden.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/server_process.h"
#include "support/test_paths.h"
#include "tandem/tandem.h"

namespace {

using nlohmann::json;
using tandem::test::ServerProcess;

const std::string kStories = tandem::test::shared_path("models/stories260K.gguf");

// The same request on each surface.
struct Request {
  std::string prompt;
  int max_tokens = 48;
  float temperature = 0;
  uint64_t seed = 42;
  std::string stop;         // "" : none
  std::string json_schema;  // "" : free text
  int logprobs = -1;        // >= 0: the chosen token's logprob and this many alternatives
};

struct Logprob {
  int32_t id;
  float logprob;
  std::vector<int32_t> top;
};

struct Answer {
  std::string text;
  std::string finish;  // "stop" or "length"
  std::vector<Logprob> logprobs;
};

// ---- the CLI ----

Answer cli(const Request& r, int n_ctx = 0) {
  std::string args = "run -m '" + kStories + "' -t 1 -p '" + r.prompt + "' -n " + std::to_string(r.max_tokens) +
                     " --temp " + std::to_string(r.temperature) + " --seed " + std::to_string(r.seed) + " --ignore-eos";
  if (n_ctx) args += " -c " + std::to_string(n_ctx);
  if (!r.stop.empty()) args += " --stop '" + r.stop + "'";
  if (!r.json_schema.empty()) {
    const std::string path = tandem::test::temp_path("schema.json");
    std::ofstream(path) << r.json_schema;
    args += " --json-schema '" + path + "'";
  }
  if (r.logprobs >= 0) args += " --logprobs " + std::to_string(r.logprobs);
  const auto run = tandem::test::run_cli(args);
  Answer a;
  if (run.exit_code != 0) {
    a.finish = "error: " + run.err;
    return a;
  }
  // stdout: the prompt, the answer, a newline.
  EXPECT_EQ(run.out.rfind(r.prompt, 0), 0u) << run.out;
  a.text = run.out.substr(r.prompt.size(), run.out.size() - r.prompt.size() - 1);
  std::istringstream err(run.err);
  for (std::string line; std::getline(err, line);) {
    if (line.empty() || line[0] != '{') continue;
    const json j = json::parse(line);
    Logprob lp{j["id"], j["logprob"], {}};
    for (const auto& t : j["top"]) lp.top.push_back(t["id"]);
    a.logprobs.push_back(lp);
  }
  return a;
}

// ---- the server ----

Answer server(const ServerProcess& s, const Request& r) {
  // Ordered: a schema's property order is the document's.
  nlohmann::ordered_json body = {{"prompt", r.prompt}, {"max_tokens", r.max_tokens}, {"temperature", r.temperature},
                                 {"seed", r.seed}, {"ignore_eos", true}};
  if (!r.stop.empty()) body["stop"] = r.stop;
  if (!r.json_schema.empty()) {
    body["response_format"] = {{"type", "json_schema"},
                               {"json_schema", {{"schema", nlohmann::ordered_json::parse(r.json_schema)}}}};
  }
  if (r.logprobs >= 0) body["logprobs"] = r.logprobs;
  auto response = s.client().Post("/v1/completions", body.dump(), "application/json");
  Answer a;
  if (!response || response->status != 200) {
    a.finish = "error: " + (response ? response->body : std::string("no response"));
    return a;
  }
  const json j = json::parse(response->body);
  const json& choice = j["choices"][0];
  a.text = choice["text"];
  a.finish = choice["finish_reason"];
  if (r.logprobs >= 0) {
    const json& lps = choice["logprobs"];
    for (size_t i = 0; i < lps["token_logprobs"].size(); ++i) a.logprobs.push_back({-1, lps["token_logprobs"][i], {}});
  }
  return a;
}

// ---- the C API ----

struct Capi {
  tandem_model* model = nullptr;
  tandem_session* session = nullptr;
  explicit Capi(int n_ctx = 0) {
    tandem_model_options mo = tandem_model_default_options();
    mo.n_threads = 1;
    mo.n_ctx = n_ctx;
    model = tandem_model_load(kStories.c_str(), &mo);
    EXPECT_NE(model, nullptr) << tandem_last_error();
    session = model ? tandem_session_create(model) : nullptr;
  }
  ~Capi() {
    tandem_session_free(session);
    tandem_model_free(model);
  }
};

int append_text(const char* text, size_t len, void* user) {
  static_cast<Answer*>(user)->text.append(text, len);
  return 1;
}

int append_logprob(const tandem_logprob* lp, void* user) {
  Logprob entry{lp->token, lp->logprob, {}};
  for (size_t i = 0; i < lp->n_top; ++i) entry.top.push_back(lp->top[i].token);
  static_cast<Answer*>(user)->logprobs.push_back(entry);
  return 1;
}

tandem_generate_options capi_options(const Request& r, const char** stop, Answer* answer) {
  tandem_generate_options o = tandem_generate_default_options();
  o.max_tokens = r.max_tokens;
  o.temperature = r.temperature;
  o.seed = r.seed;
  o.ignore_eos = 1;
  if (!r.stop.empty()) {
    *stop = r.stop.c_str();
    o.stop = stop;
    o.n_stop = 1;
  }
  if (!r.json_schema.empty()) o.json_schema = r.json_schema.c_str();
  if (r.logprobs >= 0) {
    o.top_logprobs = r.logprobs;
    o.on_logprob = append_logprob;
    o.logprob_user_data = answer;
  }
  return o;
}

Answer capi(const Request& r) {
  Capi c;
  Answer a;
  const char* stop = nullptr;
  const tandem_generate_options o = capi_options(r, &stop, &a);
  tandem_generate_result result;
  const tandem_status status = tandem_generate(c.session, r.prompt.c_str(), &o, append_text, &a, &result);
  if (status != TANDEM_OK) {
    a.finish = std::string("error: ") + tandem_last_error();
    return a;
  }
  a.finish = result.finish == TANDEM_FINISH_STOP ? "stop" : "length";
  return a;
}

std::string golden_text() {
  std::ifstream in(tandem::test::shared_path("models/stories260K.greedy.json"));
  return json::parse(in)["text"];
}

class Parity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ServerProcess({"-m", kStories, "-t", "1"}); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // Runs `r` on all three surfaces and expects one answer; returns it.
  static Answer same_everywhere(const Request& r) {
    const Answer from_cli = cli(r), from_server = server(*server_, r), from_capi = capi(r);
    EXPECT_EQ(from_cli.text, from_server.text) << "CLI vs server";
    EXPECT_EQ(from_capi.text, from_server.text) << "C API vs server";
    EXPECT_EQ(from_capi.finish, from_server.finish) << "C API vs server";
    EXPECT_TRUE(from_cli.finish.empty()) << from_cli.finish;
    return from_server;
  }

  static inline ServerProcess* server_ = nullptr;
};

TEST_F(Parity, GreedyFromBosIsTheGoldenStoryOnEverySurface) {
  // The golden is llama2.c's text, which drops the first token's SentencePiece space.
  const Answer a = same_everywhere({.prompt = "", .max_tokens = 256});
  EXPECT_EQ(a.text, " " + golden_text());
  EXPECT_EQ(a.finish, "length");
}

TEST_F(Parity, APromptGivesTheSameTextGreedyAndSeeded) {
  const Answer greedy = same_everywhere({.prompt = "Once upon a time", .max_tokens = 48});
  EXPECT_FALSE(greedy.text.empty());
  const Answer seeded = same_everywhere({.prompt = "Once upon a time", .max_tokens = 48, .temperature = 0.9f, .seed = 7});
  EXPECT_FALSE(seeded.text.empty());
  EXPECT_NE(seeded.text, greedy.text);
}

TEST_F(Parity, StopStringsEndTheTextBeforeThemEverywhere) {
  const Answer a = same_everywhere({.prompt = "", .max_tokens = 256, .stop = "Lily"});
  EXPECT_EQ(a.text, " Once upon a time, there was a little girl named ");
  EXPECT_EQ(a.finish, "stop");
}

TEST_F(Parity, JsonSchemaOutputIsTheSameValidDocumentEverywhere) {
  const std::string schema =
      R"({"type":"object","properties":{"name":{"type":"string","maxLength":10},"friends":{"type":"array",)"
      R"("items":{"type":"string","maxLength":8},"maxItems":2},"happy":{"type":"boolean"}},"required":["name","happy"]})";
  Request r{.prompt = "Once upon a time", .max_tokens = 120, .json_schema = schema};
  const Answer a = same_everywhere(r);
  const json document = json::parse(a.text, nullptr, false);
  ASSERT_TRUE(document.is_object()) << a.text;
  EXPECT_TRUE(document["name"].is_string()) << a.text;
  EXPECT_TRUE(document["happy"].is_boolean()) << a.text;
  EXPECT_EQ(a.finish, "stop");  // the document ended it, not max_tokens
}

TEST_F(Parity, LogprobsAreTheSameEverywhere) {
  const Request r{.prompt = "Once upon a time", .max_tokens = 12, .logprobs = 3};
  const Answer from_cli = cli(r), from_server = server(*server_, r), from_capi = capi(r);
  ASSERT_EQ(from_cli.logprobs.size(), 12u) << from_cli.finish;
  ASSERT_EQ(from_server.logprobs.size(), 12u) << from_server.finish;
  ASSERT_EQ(from_capi.logprobs.size(), 12u) << from_capi.finish;
  for (size_t i = 0; i < 12; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(from_cli.logprobs[i].id, from_capi.logprobs[i].id);
    EXPECT_EQ(from_cli.logprobs[i].top, from_capi.logprobs[i].top);
    EXPECT_EQ(from_capi.logprobs[i].top.size(), 3u);
    EXPECT_EQ(from_capi.logprobs[i].top[0], from_capi.logprobs[i].id);  // greedy took the best
    // The CLI and the C API run the same single-sequence forward pass; the server's
    // decode step is the batched one (Context::eval_step), whose logits differ in the
    // last bits.
    EXPECT_FLOAT_EQ(from_cli.logprobs[i].logprob, from_capi.logprobs[i].logprob);
    EXPECT_NEAR(from_server.logprobs[i].logprob, from_capi.logprobs[i].logprob, 1e-4);
    EXPECT_LT(from_capi.logprobs[i].logprob, 0);
  }
}

// ---- the prompt-length rule: n_ctx - 1 tokens fit, n_ctx do not ----

// A text whose tokens (BOS included) number `n`: a prefix of the golden story.
std::string text_of_tokens(tandem_model* model, size_t n) {
  const std::string story = golden_text();
  for (size_t end = 1; end <= story.size(); ++end) {
    const std::string text = story.substr(0, end);
    size_t count = 0;
    tandem_tokenize(model, text.c_str(), 1, nullptr, 0, &count);
    if (count == n) return text;
    if (count > n) break;
  }
  return "";
}

TEST(ParityPromptLength, NCtxMinusOneTokensFitAndNCtxDoNotOnEverySurface) {
  const int n_ctx = 16;
  Capi c(n_ctx);
  ASSERT_EQ(tandem_session_n_ctx(c.session), n_ctx);

  // C API, with token ids.
  std::vector<int32_t> ids(n_ctx, 403);
  ids[0] = 1;
  tandem_generate_result result;
  tandem_generate_options o = tandem_generate_default_options();
  o.max_tokens = 4;
  o.temperature = 0;
  ASSERT_EQ(tandem_generate_tokens(c.session, ids.data(), n_ctx - 1, &o, nullptr, nullptr, &result), TANDEM_OK)
      << tandem_last_error();
  EXPECT_GE(result.n_generated_tokens, 1);
  EXPECT_EQ(tandem_generate_tokens(c.session, ids.data(), n_ctx, &o, nullptr, nullptr, &result), TANDEM_ERROR_CONTEXT_FULL);

  // The server, with token ids.
  ServerProcess s({"-m", kStories, "-t", "1", "-c", std::to_string(n_ctx)});
  for (int length : {n_ctx - 1, n_ctx}) {
    const json body = {{"prompt", std::vector<int32_t>(ids.begin(), ids.begin() + length)}, {"max_tokens", 4}, {"temperature", 0}};
    auto response = s.client().Post("/v1/completions", body.dump(), "application/json");
    ASSERT_TRUE(response);
    if (length < n_ctx) {
      EXPECT_EQ(response->status, 200) << response->body;
    } else {
      EXPECT_EQ(response->status, 400) << response->body;
      EXPECT_EQ(json::parse(response->body)["error"]["code"], "context_length_exceeded");
    }
  }

  // The CLI, with a text of exactly n_ctx - 1 tokens, under -c n_ctx and -c n_ctx - 1.
  const std::string text = text_of_tokens(c.model, n_ctx - 1);
  ASSERT_FALSE(text.empty());
  const Answer fits = cli({.prompt = text, .max_tokens = 4}, n_ctx);
  EXPECT_TRUE(fits.finish.empty()) << fits.finish;
  const Answer full = cli({.prompt = text, .max_tokens = 4}, n_ctx - 1);
  EXPECT_NE(full.finish.find("context"), std::string::npos) << full.finish;
}

}  // namespace
