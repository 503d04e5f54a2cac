// The C API's version-2 surface: chat messages through the model's template, JSON
// Schema output, logprobs, and routed chat with the route and reason reported.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/test_paths.h"
#include "tandem/tandem.h"

namespace {

const std::string kStories = tandem::test::shared_path("models/stories260K.gguf");

struct Collected {
  std::string text;
  std::vector<tandem_logprob> logprobs;  // top pointers are not kept
  std::vector<std::string> routes;       // "route reason fallback" per on_route call
  int cancel_after_logprobs = 0;
};

int on_text(const char* text, size_t len, void* user) {
  static_cast<Collected*>(user)->text.append(text, len);
  return 1;
}

int on_logprob(const tandem_logprob* lp, void* user) {
  auto* c = static_cast<Collected*>(user);
  c->logprobs.push_back({lp->token, lp->logprob, nullptr, lp->n_top});
  return c->cancel_after_logprobs == 0 || int(c->logprobs.size()) < c->cancel_after_logprobs;
}

void on_route(tandem_route route, const char* reason, int fallback, void* user) {
  static_cast<Collected*>(user)->routes.push_back(std::to_string(route) + " " + reason + " " + std::to_string(fallback));
}

class CapiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tandem_model_options mo = tandem_model_default_options();
    mo.n_threads = 1;
    mo.n_ctx = 256;
    model_ = tandem_model_load(kStories.c_str(), &mo);
    ASSERT_NE(model_, nullptr) << tandem_last_error();
    session_ = tandem_session_create(model_);
    ASSERT_NE(session_, nullptr);
  }
  void TearDown() override {
    tandem_session_free(session_);
    tandem_model_free(model_);
  }
  static tandem_generate_options greedy(int max_tokens) {
    tandem_generate_options o = tandem_generate_default_options();
    o.max_tokens = max_tokens;
    o.temperature = 0;
    return o;
  }
  tandem_model* model_ = nullptr;
  tandem_session* session_ = nullptr;
};

TEST_F(CapiTest, ChatRendersTheMessagesWithTheTemplateAndReusesTheCache) {
  const tandem_chat_message messages[] = {{"system", "Be brief."}, {"user", "Tell me a story"}};
  tandem_generate_options o = greedy(16);
  Collected first, second;
  tandem_generate_result r;
  ASSERT_EQ(tandem_chat(session_, messages, 2, &o, on_text, &first, &r), TANDEM_OK) << tandem_last_error();
  EXPECT_EQ(r.n_generated_tokens, 16);
  EXPECT_FALSE(first.text.empty());
  // stories260K has no template: chatml, as the server prompts it.
  const std::string chatml = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nTell me a story<|im_end|>\n"
                             "<|im_start|>assistant\n";
  ASSERT_EQ(tandem_generate(session_, chatml.c_str(), &o, on_text, &second, &r), TANDEM_OK);
  EXPECT_EQ(second.text, first.text);
  EXPECT_GT(r.n_cached_tokens, 0);

  EXPECT_EQ(tandem_chat(session_, messages, 0, &o, nullptr, nullptr, nullptr), TANDEM_ERROR_INVALID_ARGUMENT);
  const tandem_chat_message bad[] = {{"wizard", "x"}};
  EXPECT_NE(tandem_chat(session_, bad, 1, &o, nullptr, nullptr, nullptr), TANDEM_OK);
  EXPECT_NE(std::string(tandem_last_error()).find("wizard"), std::string::npos) << tandem_last_error();
}

TEST_F(CapiTest, JsonSchemaOutputParsesAndMatches) {
  tandem_generate_options o = greedy(200);
  o.json_schema =
      R"({"type":"object","properties":{"city":{"type":"string","maxLength":12},)"
      R"("days":{"type":"integer"},"rain":{"type":"boolean"}},"required":["city","days","rain"]})";
  const tandem_chat_message messages[] = {{"user", "Plan a trip"}};
  Collected c;
  tandem_generate_result r;
  ASSERT_EQ(tandem_chat(session_, messages, 1, &o, on_text, &c, &r), TANDEM_OK) << tandem_last_error();
  const auto document = nlohmann::json::parse(c.text, nullptr, false);
  ASSERT_TRUE(document.is_object()) << c.text;
  EXPECT_TRUE(document["city"].is_string()) << c.text;
  EXPECT_TRUE(document["days"].is_number_integer()) << c.text;
  EXPECT_TRUE(document["rain"].is_boolean()) << c.text;
  EXPECT_EQ(r.finish, TANDEM_FINISH_STOP);

  o.json_schema = R"({"type":"string","pattern":"a+"})";
  EXPECT_EQ(tandem_chat(session_, messages, 1, &o, nullptr, nullptr, nullptr), TANDEM_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tandem_last_error()).find("pattern"), std::string::npos) << tandem_last_error();
  o.json_schema = "{not json";
  EXPECT_EQ(tandem_generate(session_, "x", &o, nullptr, nullptr, nullptr), TANDEM_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tandem_last_error()).find("json_schema"), std::string::npos) << tandem_last_error();
}

// Version 3: speculative decoding. Greedy answers with a draft model (the target itself) and
// with prompt lookup are the plain ones; a draft of another vocabulary and bad fields are refused.
TEST_F(CapiTest, SpeculativeGreedyIsThePlainGreedyAnswer) {
  const char* prompt = "Once upon a time, there was a little girl. Once upon a time, there was a little";
  tandem_generate_options o = greedy(40);
  o.ignore_eos = 1;
  Collected plain, drafted, looked_up;
  tandem_generate_result r;
  ASSERT_EQ(tandem_generate(session_, prompt, &o, on_text, &plain, &r), TANDEM_OK) << tandem_last_error();
  ASSERT_EQ(r.n_generated_tokens, 40);

  o.speculative = TANDEM_SPECULATIVE_DRAFT;
  EXPECT_NE(tandem_generate(session_, prompt, &o, nullptr, nullptr, nullptr), TANDEM_OK);  // no draft model yet
  ASSERT_EQ(tandem_session_set_draft(session_, model_), TANDEM_OK) << tandem_last_error();
  o.draft_k = 5;
  ASSERT_EQ(tandem_generate(session_, prompt, &o, on_text, &drafted, &r), TANDEM_OK) << tandem_last_error();
  EXPECT_EQ(drafted.text, plain.text);

  o.speculative = TANDEM_SPECULATIVE_LOOKUP;
  o.draft_k = 0;
  o.lookup_ngram = 2;
  ASSERT_EQ(tandem_generate(session_, prompt, &o, on_text, &looked_up, &r), TANDEM_OK) << tandem_last_error();
  EXPECT_EQ(looked_up.text, plain.text);

  for (auto [field, value] : {std::pair{&tandem_generate_options::speculative, 3},
                              std::pair{&tandem_generate_options::draft_k, 33},
                              std::pair{&tandem_generate_options::lookup_ngram, -1}}) {
    tandem_generate_options bad = o;
    bad.*field = value;
    EXPECT_EQ(tandem_generate(session_, prompt, &bad, nullptr, nullptr, nullptr), TANDEM_ERROR_INVALID_ARGUMENT);
  }
  tandem_model_options mo = tandem_model_default_options();
  tandem_model* other = tandem_model_load(tandem::test::shared_path("conformance/qwen2/model-Q8_0.gguf").c_str(), &mo);
  ASSERT_NE(other, nullptr) << tandem_last_error();
  EXPECT_EQ(tandem_session_set_draft(session_, other), TANDEM_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tandem_last_error()).find("vocabulary"), std::string::npos) << tandem_last_error();
  tandem_model_free(other);
  EXPECT_EQ(tandem_session_set_draft(session_, nullptr), TANDEM_OK);
}

TEST_F(CapiTest, LogprobsComeOnePerTokenAndCanCancel) {
  tandem_generate_options o = greedy(10);
  o.on_logprob = on_logprob;
  o.top_logprobs = 4;
  Collected c;
  o.logprob_user_data = &c;
  tandem_generate_result r;
  ASSERT_EQ(tandem_generate(session_, "Once upon a time", &o, on_text, &c, &r), TANDEM_OK);
  ASSERT_EQ(c.logprobs.size(), 10u);
  for (const tandem_logprob& lp : c.logprobs) {
    EXPECT_LT(lp.logprob, 0);
    EXPECT_EQ(lp.n_top, 4u);
  }
  Collected cancelled;
  cancelled.cancel_after_logprobs = 3;
  o.logprob_user_data = &cancelled;
  ASSERT_EQ(tandem_generate(session_, "Once upon a time", &o, nullptr, nullptr, &r), TANDEM_OK);
  EXPECT_EQ(r.finish, TANDEM_FINISH_CANCELLED);
  EXPECT_EQ(cancelled.logprobs.size(), 3u);
  o.top_logprobs = 21;
  EXPECT_EQ(tandem_generate(session_, "x", &o, nullptr, nullptr, nullptr), TANDEM_ERROR_INVALID_ARGUMENT);
}

TEST_F(CapiTest, RoutedChatReportsRouteAndReason) {
  // A cloud on a port where nothing listens: the health probe fails, the device answers.
  const std::string config = R"({"ledger": ":memory:", "health": {"probe_timeout_ms": 200},
      "cloud": [{"base_url": "http://127.0.0.1:9/v1", "model": "none", "timeout_s": 1}]})";
  tandem_router* router = tandem_router_load_json(config.c_str(), model_);
  ASSERT_NE(router, nullptr) << tandem_last_error();
  const tandem_chat_message messages[] = {{"user", "Tell me a story"}};
  tandem_generate_options o = greedy(12);
  Collected routed, direct;
  tandem_routed_result rr;
  ASSERT_EQ(tandem_routed_chat(router, messages, 1, &o, nullptr, on_route, on_text, &routed, &rr), TANDEM_OK)
      << tandem_last_error();
  EXPECT_EQ(rr.route, TANDEM_ROUTE_DEVICE);
  EXPECT_EQ(rr.fallback, 0);
  EXPECT_GT(std::string(rr.reason).size(), 0u);
  EXPECT_EQ(rr.n_generated_tokens, 12);
  ASSERT_EQ(routed.routes.size(), 1u);
  EXPECT_EQ(routed.routes[0], "0 " + std::string(rr.reason) + " 0");
  // The device's answer is the plain chat's.
  ASSERT_EQ(tandem_chat(session_, messages, 1, &o, on_text, &direct, nullptr), TANDEM_OK);
  EXPECT_EQ(routed.text, direct.text);

  // App data that must stay on the phone, with no device tier: refused, and said why.
  tandem_router* cloud_only = tandem_router_load_json(config.c_str(), nullptr);
  ASSERT_NE(cloud_only, nullptr) << tandem_last_error();
  const char* tags[] = {"messages"};
  tandem_route_options routing = {nullptr, tags, 1, {0}};
  Collected refused;
  EXPECT_EQ(tandem_routed_chat(cloud_only, messages, 1, &o, &routing, on_route, on_text, &refused, &rr),
            TANDEM_ERROR_ROUTE_REFUSED);
  EXPECT_EQ(rr.route, TANDEM_ROUTE_REFUSED);
  EXPECT_NE(std::string(tandem_last_error()).find(rr.reason), std::string::npos) << tandem_last_error();
  EXPECT_TRUE(refused.text.empty());

  routing.preference = "sometimes";
  EXPECT_EQ(tandem_routed_chat(router, messages, 1, &o, &routing, nullptr, nullptr, nullptr, nullptr),
            TANDEM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(tandem_router_load_json("{\"preference\": 3}", nullptr), nullptr);
  EXPECT_NE(std::string(tandem_last_error()).find("preference"), std::string::npos) << tandem_last_error();
  EXPECT_EQ(tandem_router_load("/nonexistent/router.json", nullptr), nullptr);
  EXPECT_EQ(tandem_routed_chat(nullptr, messages, 1, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr),
            TANDEM_ERROR_INVALID_ARGUMENT);
  tandem_router_free(cloud_only);
  tandem_router_free(router);
  tandem_router_free(nullptr);
}

}  // namespace
