// The arithmetic behind `tandem cost simulate`: what a fleet's cloud calls cost in a
// year when a share of them runs on the device instead.
#pragma once

namespace tandem::router {

struct FleetScenario {
  double users = 3e8, calls_per_day = 10, days_per_year = 365;
  double price_fen_low = 1.2, price_fen_high = 1.5;  // per call (equal for a single price)
  // optional per-token pricing, added per call:
  double input_tokens_per_call = 0, output_tokens_per_call = 0, per_1k_input_fen = 0, per_1k_output_fen = 0;
};

struct FleetCost {
  double device_share;
  double yearly_cost_yuan_low, yearly_cost_yuan_high, yearly_saving_yuan_low, yearly_saving_yuan_high;
};

// tandem::Error naming the field when a figure is negative, not finite, or low price > high price.
void validate(const FleetScenario& scenario);

// The cost of the (1 - share) calls that still go to the cloud, and the saving against
// all-cloud. Prices are taken to a millionth of a fen so that round inputs give round
// yuan (3e8 users x 10 calls x 365 days x 1.2 fen is exactly 13,140,000,000 yuan).
// tandem::Error for an invalid scenario or a share outside 0..1.
FleetCost fleet_cost(const FleetScenario& scenario, double device_share);

double calls_per_year(const FleetScenario& scenario);                             // all of them
double cloud_calls_per_year(const FleetScenario& scenario, double device_share);  // the (1 - share) part

}  // namespace tandem::router
