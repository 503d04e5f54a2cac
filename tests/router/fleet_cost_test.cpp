// The fleet cost arithmetic behind `tandem cost simulate`.
#include "router/fleet_cost.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

using namespace tandem;
using router::fleet_cost;
using router::FleetScenario;

namespace {

TEST(FleetCost, SeedFiguresComeOutToTheYuan) {
  const FleetScenario seed;  // 3e8 users x 10 calls a day x 365 days at 1.2..1.5 fen
  const auto all_cloud = fleet_cost(seed, 0);
  EXPECT_EQ(all_cloud.yearly_cost_yuan_low, 13140000000.0);
  EXPECT_EQ(all_cloud.yearly_cost_yuan_high, 16425000000.0);
  EXPECT_EQ(all_cloud.yearly_saving_yuan_low, 0);
  EXPECT_EQ(all_cloud.yearly_saving_yuan_high, 0);
  EXPECT_EQ(router::calls_per_year(seed), 1.095e12);
}

TEST(FleetCost, DeviceShareScalesTheCloudPart) {
  const FleetScenario seed;
  const auto all_device = fleet_cost(seed, 1);
  EXPECT_EQ(all_device.yearly_cost_yuan_low, 0);
  EXPECT_EQ(all_device.yearly_cost_yuan_high, 0);
  EXPECT_EQ(all_device.yearly_saving_yuan_low, 13140000000.0);
  EXPECT_EQ(all_device.yearly_saving_yuan_high, 16425000000.0);
  const auto half = fleet_cost(seed, 0.5);
  EXPECT_EQ(half.yearly_cost_yuan_low, 6570000000.0);
  EXPECT_EQ(half.yearly_cost_yuan_high, 8212500000.0);
  EXPECT_EQ(half.yearly_saving_yuan_high, 8212500000.0);
  EXPECT_EQ(half.device_share, 0.5);
  const auto sixty = fleet_cost(seed, 0.6);
  EXPECT_NEAR(sixty.yearly_cost_yuan_low, 5256000000.0, 0.01);
  EXPECT_NEAR(sixty.yearly_cost_yuan_low + sixty.yearly_saving_yuan_low, 13140000000.0, 0.01);
  EXPECT_EQ(router::cloud_calls_per_year(seed, 0.5), 5.475e11);
}

TEST(FleetCost, PerTokenPricingAddsToEachCall) {
  FleetScenario s{.users = 1000, .calls_per_day = 2, .days_per_year = 100, .price_fen_low = 1.2, .price_fen_high = 1.2};
  s.input_tokens_per_call = 500, s.output_tokens_per_call = 250;
  s.per_1k_input_fen = 0.8, s.per_1k_output_fen = 2.0;
  // Each call: 1.2 + 0.5 x 0.8 + 0.25 x 2.0 = 2.1 fen; 200,000 calls = 420,000 fen = 4,200 yuan.
  const auto cost = fleet_cost(s, 0);
  EXPECT_EQ(cost.yearly_cost_yuan_low, 4200.0);
  EXPECT_EQ(cost.yearly_cost_yuan_high, 4200.0);
  s.price_fen_low = s.price_fen_high = 0;
  EXPECT_EQ(fleet_cost(s, 0).yearly_cost_yuan_low, 1800.0);  // the tokens alone: 0.9 fen a call
}

TEST(FleetCost, NonsenseIsRejected) {
  struct Case {
    const char* what;
    FleetScenario scenario;
    double share;
  };
  const Case cases[] = {
      {"negative users", {.users = -1}, 0},
      {"NaN calls", {.calls_per_day = NAN}, 0},
      {"low price above high", {.price_fen_low = 2, .price_fen_high = 1}, 0},
      {"negative token price", {.per_1k_input_fen = -0.1}, 0},
      {"share above 1", {}, 1.5},
      {"negative share", {}, -0.1},
      {"NaN share", {}, NAN},
  };
  for (const auto& c : cases) EXPECT_THROW(fleet_cost(c.scenario, c.share), Error) << c.what;
}

}  // namespace
