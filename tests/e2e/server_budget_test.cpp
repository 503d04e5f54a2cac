// `tandem serve --mem-budget`: the whole server's plan (weights once, KV cache and
// scratch per slot) must fit before anything loads; the error says what would.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "server/serve_budget.h"
#include "support/test_paths.h"

namespace {

TEST(ServeBudget, RefusesBeforeLoadingAndSaysWhatWouldFit) {
  const std::string model = tandem::test::shared_path("conformance/qwen2/model-Q8_0.gguf");
  const auto plan = tandem::test::run_cli("plan -m '" + model + "' -c 4096 --json");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  // A budget that holds one slot of 4096 tokens but not four.
  const uint64_t one_slot = nlohmann::json::parse(plan.out)["total_bytes"].get<uint64_t>();
  const std::string budget = std::to_string(one_slot + one_slot / 20);
  const auto refused = tandem::test::run_cli("serve -m '" + model + "' -c 4096 --parallel 4 --port 0 --mem-budget " + budget);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("more than --mem-budget"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--parallel 1 with -c 4096"), std::string::npos) << refused.err;
}

// A draft model (speculative decoding) is planned too: its weights and a draft sequence per slot.
TEST(ServeBudget, CountsTheDraftModel) {
  const std::string model = tandem::test::shared_path("conformance/qwen2/model-Q8_0.gguf");
  const auto plan = tandem::test::run_cli("plan -m '" + model + "' -c 1024 --json");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  const uint64_t one_slot = nlohmann::json::parse(plan.out)["total_bytes"].get<uint64_t>();
  const uint64_t budget = one_slot + one_slot / 20;  // the model, not the model twice
  EXPECT_EQ(tandem::server::check_serve_budget(model, 1024, 1, budget), 1024);
  try {
    tandem::server::check_serve_budget(model, 1024, 1, budget, model);
    ADD_FAILURE() << "a draft as large as the model fitted in a budget for the model alone";
  } catch (const tandem::Error& error) {
    EXPECT_NE(std::string(error.what()).find("more than --mem-budget"), std::string::npos) << error.what();
  }
}

}  // namespace
