// The router's config file: the documented example parses, and mistakes are errors
// that name the field (a typo must never be a silently ignored setting).
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "router/config.h"

namespace tandem::router {
namespace {

TEST(RouterConfig, TheDocumentedExampleParses) {
  const RouterConfig config = load_router_config(std::string(TANDEM_SOURCE_DIR) + "/examples/router.json");
  EXPECT_EQ(config.preference, Preference::Auto);
  EXPECT_DOUBLE_EQ(config.policy.difficulty_threshold, 0.5);
  EXPECT_DOUBLE_EQ(config.daily_budget_fen, 500);
  ASSERT_TRUE(config.device);
  // A relative model path is relative to the config file: the quick start runs from a checkout.
  EXPECT_EQ(config.device->model,
            (std::filesystem::path(TANDEM_SOURCE_DIR) / "examples/../../shared/models/stories260K.gguf").lexically_normal().string());
  EXPECT_EQ(config.policy.strictness, Strictness::Balanced);
  ASSERT_EQ(config.clouds.size(), 1u);
  EXPECT_EQ(config.clouds[0].base_url, "http://127.0.0.1:9000/v1");
  EXPECT_DOUBLE_EQ(config.clouds[0].price.per_call_fen, 1.2);
  EXPECT_EQ(config.health.failures_to_open, 3);
}

void expect_error(const std::string& text, const std::string& fragment) {
  try {
    parse_router_config(text, "router.json");
    ADD_FAILURE() << "accepted: " << text;
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
  }
}

TEST(RouterConfig, MistakesNameTheField) {
  expect_error("{", "not valid JSON");
  expect_error(R"({"prefernce": "auto"})", "unknown field 'prefernce'");
  expect_error(R"({"preference": "sometimes"})", "sometimes");
  expect_error(R"({"cloud": [{"base_url": "ftp://x", "model": "m"}]})", "cloud[0].base_url");
  expect_error(R"({"cloud": [{"base_url": "http://x/v1"}]})", "cloud[0].model");
  expect_error(R"({"cloud": {"base_url": "http://x/v1", "model": "m", "timeout_s": "soon"}})", "timeout_s");
  expect_error(R"({"cloud": {"base_url": "http://x/v1", "model": "m", "price": {"per_call_fen": -1}}})", "negative");
  expect_error(R"({"device": {"ctx": 512}})", "device.model");
  expect_error(R"({"daily_budget_fen": -5})", "daily_budget_fen");
  expect_error(R"({"privacy": "paranoid"})", "router.json.privacy: 'paranoid' is not low, balanced or strict");
  expect_error(R"({"privacy": 3})", "privacy: has the wrong type");
  expect_error(R"({"device": {"model": "m.gguf", "draft_k": 33}})", "device.draft_k");
  expect_error(R"({"device": {"model": "m.gguf", "draft_k": -1}})", "device.draft_k");
  expect_error(R"({"device": {"model": "m.gguf", "draft_model": 7}})", "draft_model");
}

TEST(RouterConfig, PrivacyStrictnessDefaultsToBalanced) {
  EXPECT_EQ(parse_router_config("{}", "x").policy.strictness, Strictness::Balanced);
  EXPECT_EQ(parse_router_config(R"({"privacy": "strict"})", "x").policy.strictness, Strictness::Strict);
  EXPECT_EQ(parse_router_config(R"({"privacy": "low"})", "x").policy.strictness, Strictness::Low);
}

TEST(RouterConfig, OneCloudObjectIsAListOfOne) {
  const RouterConfig config = parse_router_config(R"({"cloud": {"base_url": "http://h:1/v1", "model": "m"}})", "x");
  ASSERT_EQ(config.clouds.size(), 1u);
  EXPECT_EQ(config.clouds[0].name, "cloud");
  EXPECT_FALSE(config.device);
}

}  // namespace
}  // namespace tandem::router
