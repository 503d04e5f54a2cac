// router::RoutedGeneration as the CLI and the C API use it: in-process, no HTTP server
// of its own, the device tier a generate::Session. The cloud is a real `tandem serve`
// process (stories260K, cheap). Covers device, no-router, refusal, the prompt-length
// rule, cloud streaming, a cloud killed mid-answer, a silent cloud, cancellation, and
// the ledger row each request leaves.
#include "router/routed_generation.h"

#include <gtest/gtest.h>

#include "generate/session.h"
#include "router/openai_body.h"
#include "support/server_process.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace tandem::router {
namespace {

const std::string kStories = test::shared_path("models/stories260K.gguf");

class RoutedGenerationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = model::Model::load(kStories);
    tokenizer_ = tokenizer::Tokenizer::from_gguf(model_->file()).release();
    format_ = new tokenizer::ChatFormat(tokenizer::ChatFormat::of(model_->file(), *tokenizer_, ""));
  }
  static void TearDownTestSuite() {
    delete format_;
    delete tokenizer_;
    model_.reset();
  }
  void SetUp() override {
    model::ContextOptions options;
    options.n_threads = 1;
    options.n_ctx = 256;
    session_ = std::make_unique<generate::Session>(model_, *tokenizer_, options);
  }

  static RouterConfig config(const std::string& cloud_url = "") {
    RouterConfig c;
    c.ledger_path = ":memory:";
    if (!cloud_url.empty()) {
      CloudEndpoint cloud;
      cloud.name = "cloud";
      cloud.base_url = cloud_url;
      cloud.model = "stories-cloud";
      cloud.timeout_s = 2;
      cloud.price.per_call_fen = 1;
      c.clouds.push_back(cloud);
    }
    return c;
  }
  static generate::GenerateOptions greedy(int max_tokens) {
    generate::GenerateOptions o;
    o.max_tokens = max_tokens;
    o.sampling.temperature = 0;
    o.ignore_eos = true;
    return o;
  }
  RoutedRequest request(const std::string& text, int max_tokens, std::optional<Preference> preference = {}) {
    RoutedRequest r = chat_request({{"user", text}}, greedy(max_tokens), nullptr, session_.get(), format_);
    r.preference = preference;
    return r;
  }
  Device device() { return {session_.get(), "stories260K.gguf"}; }

  struct Run {
    RouteNote first;
    RoutedOutcome outcome;
    std::string text;
    std::vector<RouteNote> changes;
  };
  static Run run(RoutedGeneration& generation, const std::function<bool(const std::string&)>& on_text = {}) {
    Run r;
    r.first = generation.start();
    RoutedCallbacks callbacks;
    callbacks.on_piece = [&](const RoutedPiece& piece) {
      r.text += piece.text;
      return !on_text || on_text(piece.text);
    };
    callbacks.on_route = [&](const RouteNote& note) { r.changes.push_back(note); };
    r.outcome = generation.run(callbacks);
    return r;
  }

  static inline std::shared_ptr<model::Model> model_;
  static inline tokenizer::Tokenizer* tokenizer_ = nullptr;
  static inline tokenizer::ChatFormat* format_ = nullptr;
  std::unique_ptr<generate::Session> session_;
};

TEST_F(RoutedGenerationTest, TheDeviceAnswersAsASessionWouldAndTheLedgerHasTheRow) {
  Router router(config(), session_->n_ctx());
  RoutedRequest r = request("Tell me a story", 24, Preference::DeviceOnly);
  const std::vector<int32_t> prompt = r.device->prompt;
  RoutedGeneration generation(&router, device(), std::move(r));
  const Run result = run(generation);
  EXPECT_EQ(result.first.route, "device");
  EXPECT_FALSE(result.first.fallback);
  ASSERT_TRUE(result.outcome.device);
  EXPECT_EQ(result.outcome.device->n_generated, 24);
  EXPECT_EQ(result.text, session_->generate(prompt, greedy(24)).text);
  const LedgerSummary summary = router.ledger().summary();
  EXPECT_EQ(summary.requests, 1);
  EXPECT_EQ(summary.device, 1);
  EXPECT_EQ(summary.tokens_out, 24);
}

TEST_F(RoutedGenerationTest, WithoutARouterTheDeviceAnswers) {
  RoutedGeneration generation(nullptr, device(), request("Hello", 4));
  const Run result = run(generation);
  EXPECT_EQ(result.first.header(), "device; reason=no_router");
  EXPECT_EQ(result.outcome.tokens_out, 4);
}

TEST_F(RoutedGenerationTest, PrivateDataWithoutADeviceIsRefusedAndRecorded) {
  Router router(config(), 0);
  RoutedRequest r = chat_request({{"user", "Summarize my messages"}}, greedy(4), nullptr, nullptr, nullptr);
  r.data_tags = {"messages"};
  RoutedGeneration generation(&router, {}, std::move(r));
  const Run result = run(generation);
  EXPECT_TRUE(generation.refused());
  EXPECT_EQ(result.first.route, "refused");
  EXPECT_TRUE(result.text.empty());
  EXPECT_NE(generation.refusal_message().find(result.first.reason), std::string::npos);
  EXPECT_EQ(router.ledger().summary().refused, 1);
}

TEST_F(RoutedGenerationTest, TheDeviceTakesAPromptThatLeavesRoomForOneToken) {
  Router router(config(), session_->n_ctx());
  const int n_ctx = session_->n_ctx();
  for (const int length : {n_ctx - 1, n_ctx}) {
    SCOPED_TRACE(length);
    RoutedRequest r;
    r.body = chat_body({{"user", "x"}}, greedy(1));
    r.preference = Preference::DeviceOnly;
    const std::vector<int32_t> prompt(size_t(length), tokenizer_->bos());
    // As chat_request does: a prompt that does not fit is only a length.
    if (length <= generate::max_prompt_tokens(n_ctx)) {
      r.device = generate::GenerationRequest{prompt, greedy(1)};
    } else {
      r.device_prompt_tokens = length;
    }
    RoutedGeneration generation(&router, device(), std::move(r));
    const Run result = run(generation);
    EXPECT_EQ(result.first.route, length < n_ctx ? "device" : "refused");
    EXPECT_EQ(result.outcome.tokens_out, length < n_ctx ? 1 : 0);
  }
}

TEST_F(RoutedGenerationTest, CancellingFromTheCallbackStopsTheAnswer) {
  Router router(config(), session_->n_ctx());
  RoutedGeneration generation(&router, device(), request("Tell me a story", 200, Preference::DeviceOnly));
  int pieces = 0;
  const Run result = run(generation, [&](const std::string&) { return ++pieces < 3; });
  EXPECT_EQ(pieces, 3);
  EXPECT_EQ(result.outcome.finish, generate::FinishReason::Cancelled);
  EXPECT_LT(result.outcome.tokens_out, 10);
}

class RoutedToCloudTest : public RoutedGenerationTest {
 protected:
  void SetUp() override {
    RoutedGenerationTest::SetUp();
    cloud_ = std::make_unique<test::ServerProcess>(std::vector<std::string>{"-m", kStories, "-t", "1", "-c", "512"});
  }
  std::unique_ptr<test::ServerProcess> cloud_;
};

TEST_F(RoutedToCloudTest, TheCloudStreamsItsAnswer) {
  Router router(config(cloud_->base_url()), session_->n_ctx());
  RoutedGeneration generation(&router, device(), request("Once upon a time", 16, Preference::CloudPreferred));
  const Run result = run(generation);
  EXPECT_EQ(result.first.route, "cloud");
  EXPECT_FALSE(result.text.empty());
  EXPECT_FALSE(result.outcome.device);
  EXPECT_TRUE(result.outcome.error.empty()) << result.outcome.error;
  EXPECT_GT(result.outcome.tokens_out, 0);  // the cloud's usage
  EXPECT_LE(result.outcome.tokens_out, 16);
  const LedgerSummary summary = router.ledger().summary();
  EXPECT_EQ(summary.cloud, 1);
  EXPECT_GT(summary.cloud_spend_fen, 0);
}

TEST_F(RoutedToCloudTest, ACloudKilledMidAnswerIsFinishedByTheDevice) {
  Router router(config(cloud_->base_url()), session_->n_ctx());
  RoutedGeneration generation(&router, device(), request("Tell me a long story", 3000, Preference::CloudPreferred));
  bool killed = false;
  const Run result = run(generation, [&](const std::string&) {
    if (!killed) cloud_->kill_now(), killed = true;
    return true;
  });
  EXPECT_EQ(result.first.route, "cloud");
  ASSERT_EQ(result.changes.size(), 1u);
  EXPECT_EQ(result.changes[0].route, "device");
  EXPECT_TRUE(result.changes[0].fallback);
  EXPECT_EQ(result.outcome.note.route, "device");
  ASSERT_TRUE(result.outcome.device);
  EXPECT_GT(result.outcome.device->n_generated, 0);
  EXPECT_TRUE(result.outcome.error.empty()) << result.outcome.error;
  EXPECT_EQ(router.ledger().summary().fallbacks, 1);
}

TEST_F(RoutedToCloudTest, ASilentCloudFallsBackBeforeAnswering) {
  Router router(config(cloud_->base_url()), session_->n_ctx());
  {
    RoutedGeneration warm(&router, device(), request("Say hello", 2, Preference::CloudPreferred));
    ASSERT_EQ(run(warm).first.route, "cloud");  // the health probe is cached from here on
  }
  cloud_->pause();
  RoutedGeneration generation(&router, device(), request("Say hello", 4, Preference::CloudPreferred));
  const Run result = run(generation);
  cloud_->resume();
  EXPECT_EQ(result.first.route, "device");
  EXPECT_TRUE(result.first.fallback);
  EXPECT_EQ(result.first.reason, "fallback:cloud_timeout");
  EXPECT_EQ(result.outcome.tokens_out, 4);

  // Without a device the same failure is an error the caller reports.
  Router cloud_only(config(cloud_->base_url()), 0);
  RoutedRequest r = chat_request({{"user", "Say hello"}}, greedy(4), nullptr, nullptr, nullptr);
  r.preference = Preference::CloudPreferred;
  {
    RoutedGeneration warm(&cloud_only, {}, r);
    ASSERT_EQ(run(warm).first.route, "cloud");
  }
  cloud_->pause();
  RoutedGeneration failing(&cloud_only, {}, r);
  EXPECT_THROW(failing.start(), CloudFailed);
  cloud_->resume();
}

}  // namespace
}  // namespace tandem::router
