// tandem cost simulate: what a fleet's cloud calls cost in a year as a share of them
// moves onto the device, as a table, JSON lines, or a PNG chart.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "commands.h"
#include "report/png_chart.h"
#include "router/fleet_cost.h"

namespace tandem::cli {
namespace {

struct CostArgs {
  std::string users = "3e8", calls_per_day = "10", days_per_year = "365", price_fen = "1.2:1.5", device_share = "0:1";
  std::string input_tokens = "0", output_tokens = "0", price_in_per_1k = "0", price_out_per_1k = "0";
  int steps = 10;
  std::string png;
  bool json = false;
};

struct Range {
  double low, high;
  bool is_range;
};

double parse_number(const std::string& option, const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value))
    fail(option, ": '", text, "' is not a number");
  return value;
}

// "A:B" or a single "A" (low = high).
Range parse_range(const std::string& option, const std::string& text) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos) {
    const double v = parse_number(option, text);
    return {v, v, false};
  }
  const Range r{parse_number(option, text.substr(0, colon)), parse_number(option, text.substr(colon + 1)), true};
  if (r.low > r.high) fail(option, ": '", text, "' goes from high to low (write A:B with A <= B)");
  return r;
}

// Whole yuan with thousands separators: 13,140,000,000.
std::string grouped(double yuan) {
  char digits[64];
  std::snprintf(digits, sizeof digits, "%.0f", std::round(yuan));
  std::string s = digits, out;
  const size_t start = s[0] == '-' ? 1 : 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > start && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

// Whole numbers grouped, others as written: 300,000,000 users, 2.5 calls/day.
std::string figure(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e18) return grouped(v);
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

std::string yuan_cell(double yuan) {
  char billions[32];
  std::snprintf(billions, sizeof billions, " (%.2fB)", yuan / 1e9);
  return grouped(yuan) + billions;
}

std::string percent(double share) {
  char text[32];
  const double p = share * 100;
  std::snprintf(text, sizeof text, std::abs(p - std::round(p)) < 1e-9 ? "%.0f%%" : "%.1f%%", p);
  return text;
}

// A whole number prints as one (13140000000, not 13140000000.0).
nlohmann::ordered_json number(double v) {
  if (std::abs(v) < 9e15 && v == std::floor(v)) return int64_t(v);
  return v;
}

// `"key": value, ...` on one line, with the spaces people write.
std::string one_line(const nlohmann::ordered_json& object) {
  std::string out = "{";
  for (auto it = object.begin(); it != object.end(); ++it)
    out += (it == object.begin() ? "" : ", ") + nlohmann::json(it.key()).dump() + ": " + it.value().dump();
  return out + "}";
}

nlohmann::ordered_json cost_json(const router::FleetScenario& s, const router::FleetCost& c) {
  nlohmann::ordered_json j;
  j["yearly_cost_yuan"] = number(c.yearly_cost_yuan_low);
  j["yearly_cost_yuan_high"] = number(c.yearly_cost_yuan_high);
  j["yearly_saving_yuan"] = number(c.yearly_saving_yuan_low);
  j["yearly_saving_yuan_high"] = number(c.yearly_saving_yuan_high);
  j["device_share"] = c.device_share;
  j["users"] = number(s.users);
  j["calls_per_day"] = number(s.calls_per_day);
  j["days_per_year"] = number(s.days_per_year);
  j["price_fen_low"] = s.price_fen_low;
  j["price_fen_high"] = s.price_fen_high;
  if (s.input_tokens_per_call > 0 || s.output_tokens_per_call > 0) {
    j["input_tokens_per_call"] = number(s.input_tokens_per_call);
    j["output_tokens_per_call"] = number(s.output_tokens_per_call);
    j["price_in_fen_per_1k"] = s.per_1k_input_fen;
    j["price_out_fen_per_1k"] = s.per_1k_output_fen;
  }
  j["cloud_calls_per_year"] = number(std::round(router::cloud_calls_per_year(s, c.device_share)));
  j["calls_per_year"] = number(router::calls_per_year(s));
  return j;
}

std::vector<double> shares_over(const Range& share, int steps) {
  if (!share.is_range) return {share.low};
  std::vector<double> shares;
  for (int i = 0; i <= steps; ++i) shares.push_back(i == steps ? share.high : share.low + (share.high - share.low) * i / steps);
  return shares;
}

void print_table(const router::FleetScenario& s, const std::vector<router::FleetCost>& rows) {
  const bool price_range = s.price_fen_low != s.price_fen_high;
  const std::string price = price_range ? figure(s.price_fen_low) + " to " + figure(s.price_fen_high) : figure(s.price_fen_low);
  std::printf("%s users x %s calls/day x %s days = %s calls/year, %s fen per cloud call", figure(s.users).c_str(),
              figure(s.calls_per_day).c_str(), figure(s.days_per_year).c_str(),
              figure(router::calls_per_year(s)).c_str(), price.c_str());
  if (s.input_tokens_per_call > 0 || s.output_tokens_per_call > 0)
    std::printf(" plus %g in / %g out tokens at %g / %g fen per 1k", s.input_tokens_per_call, s.output_tokens_per_call,
                s.per_1k_input_fen, s.per_1k_output_fen);
  std::printf("\n\n");
  // Every column but the last is padded; rows are trimmed so none ends in spaces.
  auto print_row = [](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      line += cells[i];
      if (i + 1 < cells.size()) line += std::string(std::max<size_t>(1, (i == 0 ? 8 : 30) - cells[i].size()), ' ');
    }
    std::printf("%s\n", line.c_str());
  };
  if (price_range) {
    print_row({"device", "yearly cost, low price", "yearly cost, high price", "saving vs all-cloud, low",
               "saving vs all-cloud, high"});
    print_row({"share", "(yuan)", "(yuan)", "(yuan)", "(yuan)"});
  } else {
    print_row({"device", "yearly cloud cost", "saving vs all-cloud"});
    print_row({"share", "(yuan)", "(yuan)"});
  }
  for (const auto& c : rows) {
    std::vector<std::string> cells{percent(c.device_share), yuan_cell(c.yearly_cost_yuan_low)};
    if (price_range) cells.push_back(yuan_cell(c.yearly_cost_yuan_high));
    cells.push_back(yuan_cell(c.yearly_saving_yuan_low));
    if (price_range) cells.push_back(yuan_cell(c.yearly_saving_yuan_high));
    print_row(cells);
  }
}

void write_chart(const router::FleetScenario& s, const std::vector<router::FleetCost>& rows, const std::string& path) {
  const bool tokens = s.per_1k_input_fen > 0 || s.per_1k_output_fen > 0;
  auto price_label = [tokens](double fen) { return report::format_tick(fen, 0) + " fen per call" + (tokens ? " + tokens" : ""); };
  report::Series low, high;
  low.label = price_label(s.price_fen_low), high.label = price_label(s.price_fen_high);
  for (const auto& c : rows) {
    low.x.push_back(c.device_share * 100), low.y.push_back(c.yearly_cost_yuan_low);
    high.x.push_back(c.device_share * 100), high.y.push_back(c.yearly_cost_yuan_high);
  }
  report::LineChart chart;
  chart.title = "Yearly cloud cost vs device share";
  chart.x_label = "device share (%)", chart.y_label = "cloud cost (yuan per year)";
  chart.series.push_back(low);
  if (s.price_fen_high != s.price_fen_low) chart.series.push_back(high);
  report::write_png(chart, path);
  std::fprintf(stderr, "wrote chart %s\n", path.c_str());
}

void run_simulate(const CostArgs& a) {
  router::FleetScenario s;
  s.users = parse_number("--users", a.users);
  s.calls_per_day = parse_number("--calls-per-day", a.calls_per_day);
  s.days_per_year = parse_number("--days-per-year", a.days_per_year);
  const Range price = parse_range("--price-fen", a.price_fen);
  s.price_fen_low = price.low, s.price_fen_high = price.high;
  s.input_tokens_per_call = parse_number("--input-tokens", a.input_tokens);
  s.output_tokens_per_call = parse_number("--output-tokens", a.output_tokens);
  s.per_1k_input_fen = parse_number("--price-in-fen-per-1k", a.price_in_per_1k);
  s.per_1k_output_fen = parse_number("--price-out-fen-per-1k", a.price_out_per_1k);
  router::validate(s);
  const Range share = parse_range("--device-share", a.device_share);
  if (share.low < 0 || share.high > 1) fail("--device-share: '", a.device_share, "' must lie within 0..1");
  if (a.steps < 1 || a.steps > 10000) fail("--steps must be between 1 and 10000, got ", a.steps);

  std::vector<router::FleetCost> rows;
  for (double d : shares_over(share, a.steps)) rows.push_back(router::fleet_cost(s, d));
  if (a.json) {
    for (const auto& c : rows) std::printf("%s\n", one_line(cost_json(s, c)).c_str());
  } else {
    print_table(s, rows);
  }
  if (!a.png.empty()) {
    // One share makes a dot, not a chart: draw the whole 0..100% line it sits on.
    std::vector<router::FleetCost> curve = rows;
    if (!share.is_range) {
      curve.clear();
      for (double d : shares_over({0, 1, true}, a.steps)) curve.push_back(router::fleet_cost(s, d));
    }
    write_chart(s, curve, a.png);
  }
}

}  // namespace

void add_cost(CLI::App& app) {
  auto* cost = app.add_subcommand("cost", "Cloud cost of a fleet, and what running on the device saves");
  cost->require_subcommand(1);
  auto* simulate = cost->add_subcommand("simulate", "Yearly cloud cost over device shares (3e8 users x 10 calls/day)");
  static CostArgs args;
  simulate->add_option("--users", args.users, "users in the fleet")->capture_default_str();
  simulate->add_option("--calls-per-day", args.calls_per_day, "model calls per user per day")->capture_default_str();
  simulate->add_option("--days-per-year", args.days_per_year, "days counted in a year")->capture_default_str();
  simulate->add_option("--price-fen", args.price_fen, "fen per cloud call: one price or LOW:HIGH")->capture_default_str();
  simulate->add_option("--device-share", args.device_share, "share of calls on the device: one value or A:B within 0..1")
      ->capture_default_str();
  simulate->add_option("--steps", args.steps, "with A:B shares: steps between A and B (prints steps + 1 rows)")
      ->capture_default_str();
  simulate->add_option("--input-tokens", args.input_tokens, "input tokens per call, for per-token pricing");
  simulate->add_option("--output-tokens", args.output_tokens, "output tokens per call, for per-token pricing");
  simulate->add_option("--price-in-fen-per-1k", args.price_in_per_1k, "fen per 1,000 input tokens, added per call");
  simulate->add_option("--price-out-fen-per-1k", args.price_out_per_1k, "fen per 1,000 output tokens, added per call");
  simulate->add_option("--png", args.png, "also draw cost vs device share as a PNG chart (0..100% for one share)");
  simulate->add_flag("--json", args.json, "one JSON line per share, with \"yearly_cost_yuan\"");
  simulate->callback([] { run_simulate(args); });
}

}  // namespace tandem::cli
