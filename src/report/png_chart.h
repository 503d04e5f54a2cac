// Line charts written straight to PNG (libpng only, text from a built-in bitmap font),
// so reports such as `tandem cost simulate --png` need no plotting library.
#pragma once
#include <string>
#include <vector>

namespace tandem::report {

struct Series {
  std::string label;
  std::vector<double> x, y;  // same length; non-finite points are skipped
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  int width = 800, height = 500;
};

// tandem::Error when the file cannot be written, a series' x and y differ in length,
// or the size is outside 100..10000 pixels a side.
void write_png(const LineChart& chart, const std::string& path);

// A tick label: k/M/B/T suffixes for large values ("16.4B"), with as many decimals
// as the tick step needs to tell neighbouring ticks apart.
std::string format_tick(double value, double step);

}  // namespace tandem::report
