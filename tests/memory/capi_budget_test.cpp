// The C API's memory budget: tandem_model_load refuses a plan over budget with a
// last error naming what fits, or (fit_to_budget) gives sessions a context that fits.
#include <gtest/gtest.h>

#include <string>

#include "gguf/file.h"
#include "memory/plan.h"
#include "support/test_paths.h"
#include "tandem/tandem.h"

using namespace tandem;

namespace {

const std::string kModel = test::shared_path("conformance/llama/model-F32.gguf");  // 7 MiB weights, ctx 512

uint64_t planned(int n_ctx, quant::Type kv) {
  auto layout = memory::layout_from_gguf(gguf::File::open(kModel));
  memory::PlanOptions o;
  o.n_ctx = n_ctx;
  o.kv_type = kv;
  return memory::make_plan(layout, o).total_bytes;
}

tandem_model_options options(int n_ctx, uint64_t budget, bool fit) {
  tandem_model_options o = tandem_model_default_options();
  o.n_threads = 1;
  o.n_ctx = n_ctx;
  o.memory_budget_bytes = budget;
  o.fit_to_budget = fit ? 1 : 0;
  return o;
}

TEST(CapiMemoryBudget, RefusesBeforeLoadingAndSaysWhatFits) {
  const uint64_t budget = (planned(256, quant::Type::F16) + planned(512, quant::Type::F16)) / 2;
  const auto o = options(512, budget, false);
  EXPECT_EQ(tandem_model_load(kModel.c_str(), &o), nullptr);
  const std::string error = tandem_last_error();
  EXPECT_NE(error.find("memory budget"), std::string::npos) << error;
  EXPECT_NE(error.find("-c 256 --kv-type F16"), std::string::npos) << error;
  EXPECT_NE(error.find("fit_to_budget"), std::string::npos) << error;
  EXPECT_EQ(error.find("--fit"), std::string::npos) << "the C API has no --fit flag: " << error;
}

TEST(CapiMemoryBudget, NotEvenTheSmallestContextFits) {
  const auto o = options(512, 1 << 20, true);
  EXPECT_EQ(tandem_model_load(kModel.c_str(), &o), nullptr);
  EXPECT_NE(std::string(tandem_last_error()).find("Not even 256 tokens fit"), std::string::npos) << tandem_last_error();
}

TEST(CapiMemoryBudget, FitGivesSessionsTheLargestContextThatFits) {
  const uint64_t budget = (planned(256, quant::Type::F16) + planned(512, quant::Type::F16)) / 2;
  const auto o = options(512, budget, true);
  tandem_model* model = tandem_model_load(kModel.c_str(), &o);
  ASSERT_NE(model, nullptr) << tandem_last_error();
  tandem_session* session = tandem_session_create(model);
  ASSERT_NE(session, nullptr) << tandem_last_error();
  EXPECT_EQ(tandem_session_n_ctx(session), 256);
  tandem_session_free(session);
  tandem_model_free(model);
}

TEST(CapiMemoryBudget, AGenerousBudgetChangesNothing) {
  const auto o = options(512, uint64_t(1) << 32, true);
  tandem_model* model = tandem_model_load(kModel.c_str(), &o);
  ASSERT_NE(model, nullptr) << tandem_last_error();
  tandem_session* session = tandem_session_create(model);
  ASSERT_NE(session, nullptr) << tandem_last_error();
  EXPECT_EQ(tandem_session_n_ctx(session), 512);
  tandem_session_free(session);
  tandem_model_free(model);
}

TEST(CapiMemoryBudget, TheOptionsStructKeepsItsLayout) {
  // fit_to_budget took the place of reserved[0]: callers built against the old header still work.
  EXPECT_EQ(sizeof(tandem_model_options), 2 * sizeof(int32_t) + sizeof(uint64_t) + 8 * sizeof(uint32_t));
  EXPECT_EQ(offsetof(tandem_model_options, fit_to_budget), 2 * sizeof(int32_t) + sizeof(uint64_t));
}

}  // namespace
