#include "router/fleet_cost.h"

#include <cmath>

#include "core/error.h"

namespace tandem::router {
namespace {

constexpr long double kMicro = 1e6L;  // prices are counted in millionths of a fen

long double micro_fen(double fen) { return std::roundl((long double)fen * kMicro); }

// One call's price in millionths of a fen: the flat price plus the per-token part.
long double call_price_micro_fen(const FleetScenario& s, double flat_fen) {
  return micro_fen(flat_fen) + (long double)s.input_tokens_per_call * micro_fen(s.per_1k_input_fen) / 1000.0L +
         (long double)s.output_tokens_per_call * micro_fen(s.per_1k_output_fen) / 1000.0L;
}

long double exact_calls_per_year(const FleetScenario& s) {
  return (long double)s.users * (long double)s.calls_per_day * (long double)s.days_per_year;
}

double yuan(long double calls, long double price_micro_fen) {
  const long double value = calls * price_micro_fen / (kMicro * 100.0L);
  return double(std::roundl(value * 1e4L) / 1e4L);  // to a hundredth of a fen: hides long-double dust
}

}  // namespace

void validate(const FleetScenario& s) {
  struct Field {
    const char* name;
    double value;
  };
  const Field fields[] = {{"users", s.users},
                          {"calls per day", s.calls_per_day},
                          {"days per year", s.days_per_year},
                          {"low price (fen)", s.price_fen_low},
                          {"high price (fen)", s.price_fen_high},
                          {"input tokens per call", s.input_tokens_per_call},
                          {"output tokens per call", s.output_tokens_per_call},
                          {"input price (fen per 1k tokens)", s.per_1k_input_fen},
                          {"output price (fen per 1k tokens)", s.per_1k_output_fen}};
  for (const auto& f : fields)
    if (!std::isfinite(f.value) || f.value < 0) fail(f.name, " must be a non-negative number, got ", f.value);
  if (s.price_fen_low > s.price_fen_high)
    fail("the low price (", s.price_fen_low, " fen) is above the high price (", s.price_fen_high, " fen)");
}

double calls_per_year(const FleetScenario& scenario) { return double(exact_calls_per_year(scenario)); }

double cloud_calls_per_year(const FleetScenario& scenario, double device_share) {
  return double(exact_calls_per_year(scenario) * (1.0L - (long double)device_share));
}

FleetCost fleet_cost(const FleetScenario& s, double device_share) {
  validate(s);
  if (!(device_share >= 0 && device_share <= 1)) fail("device share must be between 0 and 1, got ", device_share);
  const long double all_calls = exact_calls_per_year(s);
  const long double cloud_calls = all_calls * (1.0L - (long double)device_share);
  const long double device_calls = all_calls * (long double)device_share;
  const long double low = call_price_micro_fen(s, s.price_fen_low), high = call_price_micro_fen(s, s.price_fen_high);
  return FleetCost{.device_share = device_share,
                   .yearly_cost_yuan_low = yuan(cloud_calls, low),
                   .yearly_cost_yuan_high = yuan(cloud_calls, high),
                   .yearly_saving_yuan_low = yuan(device_calls, low),
                   .yearly_saving_yuan_high = yuan(device_calls, high)};
}

}  // namespace tandem::router
