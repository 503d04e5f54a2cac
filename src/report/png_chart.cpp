#include "report/png_chart.h"

#include <png.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "report/bitmap_font.h"

namespace tandem::report {
namespace {

struct Rgb {
  uint8_t r, g, b;
};

constexpr Rgb kWhite{255, 255, 255}, kInk{30, 30, 30}, kGrid{225, 225, 225}, kAxis{90, 90, 90};
// Distinguishable on white and from each other (the usual categorical palette).
constexpr Rgb kPalette[] = {{31, 119, 180}, {214, 39, 40},  {44, 160, 44},  {255, 127, 14}, {148, 103, 189},
                            {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

struct Rect {
  int left, top, right, bottom;  // right and bottom inclusive
};

class Canvas {
 public:
  Canvas(int width, int height) : width_(width), height_(height), pixels_(size_t(width) * height * 3, 255) {}

  int width() const { return width_; }
  int height() const { return height_; }
  const uint8_t* data() const { return pixels_.data(); }
  void clip_to(const Rect& r) { clip_ = r; }
  void unclip() { clip_ = Rect{0, 0, width_ - 1, height_ - 1}; }

  void set(int x, int y, Rgb c) {
    if (x < clip_.left || x > clip_.right || y < clip_.top || y > clip_.bottom) return;
    uint8_t* p = &pixels_[(size_t(y) * width_ + x) * 3];
    p[0] = c.r, p[1] = c.g, p[2] = c.b;
  }
  void fill(const Rect& r, Rgb c) {
    for (int y = r.top; y <= r.bottom; ++y)
      for (int x = r.left; x <= r.right; ++x) set(x, y, c);
  }
  // Bresenham with a square brush of side 2 * radius + 1.
  void line(int x0, int y0, int x1, int y1, Rgb c, int radius = 0) {
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    for (int err = dx + dy;;) {
      fill(Rect{x0 - radius, y0 - radius, x0 + radius, y0 + radius}, c);
      if (x0 == x1 && y0 == y1) return;
      const int e2 = 2 * err;
      if (e2 >= dy) err += dy, x0 += sx;
      if (e2 <= dx) err += dx, y0 += sy;
    }
  }
  // Text from its top-left corner; `upward` turns it a quarter to read bottom to top,
  // starting at (x, y) as its bottom-left corner.
  void text(int x, int y, const std::string& s, Rgb c, int scale, bool upward = false) {
    for (size_t i = 0; i < s.size(); ++i) {
      const char* rows = glyph_rows(s[i]);
      const int advance = int(i) * (kGlyphWidth + 1) * scale;
      for (int row = 0; row < kGlyphHeight; ++row)
        for (int column = 0; column < kGlyphWidth; ++column) {
          if (!glyph_pixel(rows, column, row)) continue;
          const int along = advance + column * scale, across = row * scale;
          const Rect dot = upward ? Rect{x + across, y - along - scale + 1, x + across + scale - 1, y - along}
                                  : Rect{x + along, y + across, x + along + scale - 1, y + across + scale - 1};
          fill(dot, c);
        }
    }
  }

 private:
  int width_, height_;
  std::vector<uint8_t> pixels_;
  Rect clip_{0, 0, width_ - 1, height_ - 1};
};

int text_width(const std::string& s, int scale) {
  return s.empty() ? 0 : int(s.size()) * (kGlyphWidth + 1) * scale - scale;
}

// An axis over nice round ticks (1, 2 or 5 times a power of ten) that cover the data.
struct Axis {
  double low = 0, high = 1, step = 1;
  std::vector<double> ticks;
};

Axis make_axis(double data_min, double data_max, int target_ticks) {
  if (data_min > data_max) data_min = 0, data_max = 1;  // no data at all
  if (data_min == data_max) {
    const double pad = std::abs(data_min) >= 1 ? std::abs(data_min) * 0.1 : 1.0;
    data_min -= pad, data_max += pad;
  }
  const double range = data_max - data_min;
  if (!std::isfinite(range)) fail("chart values are too large to plot");
  const double raw = range / std::max(1, target_ticks);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double fraction = raw / magnitude;
  Axis axis;
  axis.step = (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * magnitude;
  axis.low = std::floor(data_min / axis.step) * axis.step;
  axis.high = std::ceil(data_max / axis.step) * axis.step;
  const int count = int(std::lround((axis.high - axis.low) / axis.step));
  for (int i = 0; i <= count; ++i) {
    double tick = axis.low + i * axis.step;
    if (std::abs(tick) < axis.step * 1e-9) tick = 0;  // not "-0" or "1e-17"
    axis.ticks.push_back(tick);
  }
  return axis;
}

struct Extent {
  double x_min = INFINITY, x_max = -INFINITY, y_min = INFINITY, y_max = -INFINITY;
};

Extent data_extent(const LineChart& chart) {
  Extent e;
  for (const auto& s : chart.series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      e.x_min = std::min(e.x_min, s.x[i]), e.x_max = std::max(e.x_max, s.x[i]);
      e.y_min = std::min(e.y_min, s.y[i]), e.y_max = std::max(e.y_max, s.y[i]);
    }
  return e;
}

// Legend entries flow left to right under the title, wrapping to new rows.
struct LegendItem {
  int x, row;
};

std::vector<LegendItem> layout_legend(const LineChart& chart, int scale, int left, int right, int* rows) {
  std::vector<LegendItem> items;
  const int swatch = 18 * scale, gap = 16 * scale;
  int x = left, row = 0;
  for (const auto& s : chart.series) {
    const int w = swatch + 4 * scale + text_width(s.label, scale);
    if (x > left && x + w > right) x = left, ++row;
    items.push_back({x, row});
    x += w + gap;
  }
  *rows = chart.series.empty() ? 0 : row + 1;
  return items;
}

void save(const Canvas& canvas, const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) fail("cannot write chart '", path, "': ", std::strerror(errno));
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = png_uint_32(canvas.width());
  image.height = png_uint_32(canvas.height());
  image.format = PNG_FORMAT_RGB;
  const bool written = png_image_write_to_stdio(&image, file, 0, canvas.data(), 0, nullptr) != 0;
  const bool closed = std::fclose(file) == 0;
  if (!written) fail("cannot write chart '", path, "': ", image.message);
  if (!closed) fail("cannot write chart '", path, "': ", std::strerror(errno));
}

}  // namespace

std::string format_tick(double value, double step) {
  struct Unit {
    double size;
    const char* suffix;
  };
  constexpr Unit kUnits[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "k"}, {1, ""}};
  if (value == 0) return "0";
  Unit unit = kUnits[4];
  for (const auto& u : kUnits)
    if (std::abs(value) >= u.size) {
      unit = u;
      break;
    }
  const double scaled = value / unit.size;
  // With no step, three significant figures.
  const double resolution = step > 0 ? step / unit.size : std::pow(10.0, std::floor(std::log10(std::abs(scaled))) - 2);
  const int decimals = std::clamp(int(-std::floor(std::log10(resolution) + 1e-9)), 0, 6);
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, scaled);
  std::string s = text;
  if (s.find('.') != std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s + unit.suffix;
}

void write_png(const LineChart& chart, const std::string& path) {
  if (chart.width < 100 || chart.height < 100 || chart.width > 10000 || chart.height > 10000)
    fail("chart size ", chart.width, "x", chart.height, " is outside 100..10000 pixels a side");
  for (const auto& s : chart.series)
    if (s.x.size() != s.y.size())
      fail("chart series '", s.label, "' has ", s.x.size(), " x values but ", s.y.size(), " y values");

  Canvas canvas(chart.width, chart.height);
  const int scale = std::max(1, std::min(chart.width, chart.height) / 500);
  const int title_scale = 2 * scale, char_height = kGlyphHeight * scale, pad = 12 * scale, tick_length = 5 * scale;

  const Extent extent = data_extent(chart);
  Axis y_axis = make_axis(extent.y_min, extent.y_max, 6);
  std::vector<std::string> y_labels;
  int y_label_width = 0;
  for (double t : y_axis.ticks) {
    y_labels.push_back(format_tick(t, y_axis.step));
    y_label_width = std::max(y_label_width, text_width(y_labels.back(), scale));
  }

  int legend_rows = 0;
  const std::vector<LegendItem> legend = layout_legend(chart, scale, pad, chart.width - pad, &legend_rows);
  const int legend_row_height = char_height + 6 * scale;
  const int title_height = chart.title.empty() ? 0 : kGlyphHeight * title_scale + pad / 2;
  const int legend_top = pad + title_height;

  Rect plot;
  plot.top = legend_top + legend_rows * legend_row_height + pad;
  plot.left = pad + (chart.y_label.empty() ? 0 : char_height + pad / 2) + y_label_width + tick_length + 4 * scale;
  plot.bottom = chart.height - 1 - pad - (chart.x_label.empty() ? 0 : char_height + pad / 2) - char_height - tick_length -
                4 * scale;
  plot.right = chart.width - 1 - pad - 3 * text_width("0000", scale) / 2;
  if (plot.right - plot.left < 20 || plot.bottom - plot.top < 20) fail("chart is too small for its labels and legend");

  const Axis x_axis = make_axis(extent.x_min, extent.x_max, std::max(2, (plot.right - plot.left) / (80 * scale)));
  auto to_x = [&](double x) {
    return plot.left + int(std::lround((x - x_axis.low) / (x_axis.high - x_axis.low) * (plot.right - plot.left)));
  };
  auto to_y = [&](double y) {
    return plot.bottom - int(std::lround((y - y_axis.low) / (y_axis.high - y_axis.low) * (plot.bottom - plot.top)));
  };

  // Grid and ticks first, so the data draws over them.
  for (size_t i = 0; i < y_axis.ticks.size(); ++i) {
    const int y = to_y(y_axis.ticks[i]);
    canvas.line(plot.left, y, plot.right, y, kGrid);
    canvas.line(plot.left - tick_length, y, plot.left, y, kAxis);
    canvas.text(plot.left - tick_length - 3 * scale - text_width(y_labels[i], scale), y - char_height / 2, y_labels[i],
                kInk, scale);
  }
  for (double t : x_axis.ticks) {
    const int x = to_x(t);
    const std::string label = format_tick(t, x_axis.step);
    canvas.line(x, plot.top, x, plot.bottom, kGrid);
    canvas.line(x, plot.bottom, x, plot.bottom + tick_length, kAxis);
    canvas.text(x - text_width(label, scale) / 2, plot.bottom + tick_length + 3 * scale, label, kInk, scale);
  }
  canvas.line(plot.left, plot.top, plot.left, plot.bottom, kAxis);
  canvas.line(plot.left, plot.bottom, plot.right, plot.bottom, kAxis);

  canvas.clip_to(Rect{plot.left - 3 * scale, plot.top - 3 * scale, plot.right + 3 * scale, plot.bottom + 3 * scale});
  for (size_t s = 0; s < chart.series.size(); ++s) {
    const Series& series = chart.series[s];
    const Rgb colour = kPalette[s % kPaletteSize];
    bool have_previous = false;
    int px = 0, py = 0;
    for (size_t i = 0; i < series.x.size(); ++i) {
      if (!std::isfinite(series.x[i]) || !std::isfinite(series.y[i])) {
        have_previous = false;  // a gap, not a line across it
        continue;
      }
      const int x = to_x(series.x[i]), y = to_y(series.y[i]);
      if (have_previous) canvas.line(px, py, x, y, colour, scale);
      canvas.fill(Rect{x - 2 * scale, y - 2 * scale, x + 2 * scale, y + 2 * scale}, colour);  // marks lone points too
      px = x, py = y, have_previous = true;
    }
  }
  canvas.unclip();

  if (!chart.title.empty())
    canvas.text((chart.width - text_width(chart.title, title_scale)) / 2, pad, chart.title, kInk, title_scale);
  for (size_t s = 0; s < legend.size(); ++s) {
    const int y = legend_top + legend[s].row * legend_row_height;
    const int mid = y + char_height / 2;
    canvas.fill(Rect{legend[s].x, mid - scale, legend[s].x + 18 * scale - 1, mid + scale}, kPalette[s % kPaletteSize]);
    canvas.text(legend[s].x + 22 * scale, y, chart.series[s].label, kInk, scale);
  }
  if (!chart.x_label.empty())
    canvas.text((plot.left + plot.right - text_width(chart.x_label, scale)) / 2, chart.height - pad - char_height,
                chart.x_label, kInk, scale);
  if (!chart.y_label.empty())
    canvas.text(pad, (plot.top + plot.bottom + text_width(chart.y_label, scale)) / 2, chart.y_label, kInk, scale,
                /*upward=*/true);

  save(canvas, path);
}

}  // namespace tandem::report
