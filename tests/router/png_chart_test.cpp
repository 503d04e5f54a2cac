// Line charts written as PNG: read back with libpng, odd inputs, unwritable paths.
#include "report/png_chart.h"

#include <gtest/gtest.h>
#include <png.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <tuple>

#include "core/error.h"
#include "support/test_paths.h"

using namespace tandem;
using report::format_tick;
using report::LineChart;
using report::Series;
using report::write_png;

namespace {

struct Image {
  bool valid_signature = false;
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

Image read_png(const std::string& path) {
  Image out;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return out;
  unsigned char signature[8] = {};
  out.valid_signature = std::fread(signature, 1, 8, file) == 8 && png_sig_cmp(signature, 0, 8) == 0;
  std::fclose(file);
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str())) return out;
  image.format = PNG_FORMAT_RGB;
  out.rgb.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.rgb.data(), 0, nullptr)) return out;
  out.width = int(image.width);
  out.height = int(image.height);
  return out;
}

std::set<std::tuple<int, int, int>> colours(const Image& image) {
  std::set<std::tuple<int, int, int>> found;
  for (size_t i = 0; i + 2 < image.rgb.size(); i += 3) found.insert({image.rgb[i], image.rgb[i + 1], image.rgb[i + 2]});
  return found;
}

Series series(std::string label, std::vector<double> x = {}, std::vector<double> y = {}) {
  Series s;
  s.label = std::move(label), s.x = std::move(x), s.y = std::move(y);
  return s;
}

LineChart chart_titled(std::string title, std::vector<Series> all = {}) {
  LineChart chart;
  chart.title = std::move(title), chart.series = std::move(all);
  return chart;
}

LineChart cost_chart() {
  LineChart chart = chart_titled("Yearly cloud cost vs device share");
  chart.x_label = "device share (%)", chart.y_label = "yuan per year";
  Series low = series("1.2 fen per call"), high = series("1.5 fen per call");
  for (int i = 0; i <= 10; ++i) {
    low.x.push_back(i * 10), high.x.push_back(i * 10);
    low.y.push_back(13.14e9 * (10 - i) / 10), high.y.push_back(16.425e9 * (10 - i) / 10);
  }
  chart.series = {low, high};
  return chart;
}

TEST(PngChart, WritesAPngOfTheAskedSizeWithADistinctColourPerSeries) {
  LineChart chart = cost_chart();
  chart.width = 640, chart.height = 420;
  const std::string path = test::temp_path("chart.png");
  write_png(chart, path);
  const Image image = read_png(path);
  EXPECT_TRUE(image.valid_signature);
  EXPECT_EQ(image.width, 640);
  EXPECT_EQ(image.height, 420);
  const auto found = colours(image);
  EXPECT_TRUE(found.count({31, 119, 180})) << "first series colour missing";
  EXPECT_TRUE(found.count({214, 39, 40})) << "second series colour missing";
  EXPECT_TRUE(found.count({30, 30, 30})) << "no text drawn";
}

TEST(PngChart, OnePointOrEmptySeriesStillGiveAChart) {
  const std::string path = test::temp_path("sparse.png");
  const LineChart sparse = chart_titled("sparse", {series("one", {3}, {7}), series("none"), series("nan", {1, NAN}, {NAN, 2})});
  ASSERT_NO_THROW(write_png(sparse, path));
  EXPECT_EQ(read_png(path).width, 800);
  const LineChart empty = chart_titled("nothing");
  ASSERT_NO_THROW(write_png(empty, path));
  EXPECT_EQ(read_png(path).height, 500);
}

TEST(PngChart, BadInputsAreErrors) {
  EXPECT_THROW(write_png(cost_chart(), "/nonexistent-dir/for/sure/chart.png"), Error);
  const std::string dir = test::temp_path("a-directory");
  std::filesystem::create_directories(dir);
  EXPECT_THROW(write_png(cost_chart(), dir), Error);
  const LineChart mismatched = chart_titled("bad", {series("bad", {1, 2}, {1})});
  EXPECT_THROW(write_png(mismatched, test::temp_path("bad.png")), Error);
  LineChart tiny = cost_chart();
  tiny.width = 10;
  EXPECT_THROW(write_png(tiny, test::temp_path("tiny.png")), Error);
}

TEST(PngChart, TickLabelsUseSuffixesAndEnoughDecimals) {
  struct Case {
    double value, step;
    const char* want;
  };
  const Case cases[] = {{16.425e9, 0.1e9, "16.4B"}, {16.425e9, 0, "16.4B"}, {2e9, 2e9, "2B"},      {1.5e9, 0.5e9, "1.5B"},
                        {500e6, 500e6, "500M"},    {2500, 500, "2.5k"},     {0.25, 0.05, "0.25"}, {0, 1e9, "0"},
                        {-3e6, 1e6, "-3M"},        {42, 10, "42"},          {1.2e12, 0.2e12, "1.2T"}};
  for (const auto& c : cases) EXPECT_EQ(format_tick(c.value, c.step), c.want) << c.value << " step " << c.step;
}

}  // namespace
