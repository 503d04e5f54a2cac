// --mem-budget on run: refuse before loading with what would fit, or --fit to shrink.
#include <gtest/gtest.h>

#include "gguf/file.h"
#include "memory/plan.h"
#include "support/test_paths.h"

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

TEST(MemoryBudget, RefusesWithWhatWouldFit) {
  // Between the 256- and 512-token plans: 512 does not fit, 256 does.
  const uint64_t budget = (planned(256, quant::Type::F16) + planned(512, quant::Type::F16)) / 2;
  auto r = test::run_cli("run -m " + kModel + " -p hi -n 4 -c 512 --mem-budget " + std::to_string(budget));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("memory budget"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("-c 256 --kv-type F16"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << "nothing may run when the plan does not fit";
}

TEST(MemoryBudget, FitPicksTheLargestContextThatFits) {
  const uint64_t budget = (planned(256, quant::Type::F16) + planned(512, quant::Type::F16)) / 2;
  auto r = test::run_cli("run -m " + kModel + " -p hi -n 4 --temp 0 -c 512 --fit --mem-budget " + std::to_string(budget));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("using 256 tokens with a F16 KV cache"), std::string::npos) << r.err;
}

TEST(MemoryBudget, FitFallsBackToAQuantizedKvCache) {
  // Weights plus a 256-token f16 cache do not fit; a q4_0 cache of the same length does.
  const uint64_t budget = (planned(256, quant::Type::Q4_0) + planned(256, quant::Type::F16)) / 2;
  ASSERT_LT(planned(256, quant::Type::Q4_0), budget);
  auto r = test::run_cli("run -m " + kModel + " -p hi -n 4 --temp 0 -c 512 --fit --mem-budget " + std::to_string(budget));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("KV cache ("), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("with a F16 KV cache ("), std::string::npos) << r.err;
}

TEST(MemoryBudget, AGenerousBudgetChangesNothing) {
  auto r = test::run_cli("run -m " + kModel + " -p hi -n 4 --temp 0 --mem-budget 4GiB --fit");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("--fit"), std::string::npos) << r.err;
}

TEST(MemoryBudget, BadSizeAndFitWithoutBudgetAreErrors) {
  EXPECT_EQ(test::run_cli("run -m " + kModel + " -p hi --mem-budget lots").exit_code, 1);
  auto r = test::run_cli("run -m " + kModel + " -p hi --fit");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--mem-budget"), std::string::npos) << r.err;
}

}  // namespace
