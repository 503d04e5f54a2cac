// `tandem privacy train | eval | check | curve`: the on-device privacy classifier
// (src/privacy) trained from the labelled corpus, its figures per category, one
// request's verdict, and the recall / false-positive curve (docs/routing.md).
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "privacy/classifier.h"
#include "privacy/corpus.h"
#include "privacy/evaluate.h"
#include "privacy/train.h"
#include "report/png_chart.h"
#include "router/config.h"
#include "router/privacy_check.h"

namespace tandem::cli {
namespace {

struct ModelChoice {
  std::string path;  // "" : the embedded model
  std::unique_ptr<privacy::Classifier> loaded;
  const privacy::Classifier& get() {
    if (path.empty()) return privacy::Classifier::embedded();
    if (!loaded) {
      std::ifstream in(path, std::ios::binary);
      if (!in) fail("cannot read the privacy model '", path, "'");
      std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      loaded = std::make_unique<privacy::Classifier>(bytes);
    }
    return *loaded;
  }
};

privacy::Strictness strictness_option(const std::string& name) {
  return router::parse_strictness_setting(name, "--privacy");
}

privacy::Split split_option(const std::string& name) {
  if (name == "train") return privacy::Split::Train;
  if (name == "dev") return privacy::Split::Dev;
  if (name == "test") return privacy::Split::Test;
  fail("--split '", name, "' is not train, dev or test");
}

// The corpus and the background set together, as training and evaluation read them.
std::vector<privacy::Example> load_all(const std::string& corpus_dir, const std::string& background_dir) {
  std::vector<privacy::Example> all = privacy::load_corpus(corpus_dir);
  if (!background_dir.empty()) {
    for (auto& e : privacy::load_background(background_dir)) all.push_back(std::move(e));
  }
  return all;
}

void print_counts(const std::vector<privacy::Example>& corpus) {
  struct Counts {
    int split[3][2] = {};  // [train/dev/test][public/private]
  };
  std::vector<Counts> by_category(privacy::kCategories.size());
  Counts all;
  Counts background;
  int zh = 0;
  for (const privacy::Example& e : corpus) {
    (e.category < 0 ? background : by_category[e.category]).split[int(e.split)][e.is_private]++;
    all.split[int(e.split)][e.is_private]++;
    zh += e.lang == "zh";
  }
  std::printf("corpus: %zu examples (%zu en, %d zh)\n", corpus.size(), corpus.size() - zh, zh);
  std::printf("%-20s %15s %15s %15s\n", "category", "train priv/pub", "dev priv/pub", "test priv/pub");
  const auto row = [](const std::string& name, const Counts& c) {
    std::printf("%-20s %8d/%-6d %8d/%-6d %8d/%-6d\n", name.c_str(), c.split[0][1], c.split[0][0], c.split[1][1],
                c.split[1][0], c.split[2][1], c.split[2][0]);
  };
  for (size_t c = 0; c < by_category.size(); ++c) row(std::string(privacy::kCategories[c]), by_category[c]);
  row("background", background);
  row("all", all);
}

std::string percent(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", 100 * value);
  return text;
}

void add_train(CLI::App& privacy_cmd) {
  auto* cmd = privacy_cmd.add_subcommand("train", "Train the privacy classifier on the corpus's train split");
  static std::string corpus_dir = "data/privacy/corpus", background_dir = "data/privacy/background", out;
  static privacy::TrainOptions options;
  cmd->add_option("--corpus", corpus_dir, "the labelled corpus (data/privacy/README.md)");
  cmd->add_option("--background", background_dir, "everyday public requests (\"\": none)");
  cmd->add_option("--out", out, "where to write the model")->required();
  cmd->add_option("--seed", options.seed, "shuffle seed (the same seed gives the same bytes)");
  cmd->add_option("--epochs", options.epochs, "passes over the train split")->check(CLI::Range(1, 1000));
  cmd->add_option("--rate", options.learning_rate, "AdaGrad learning rate");
  cmd->add_option("--l2", options.l2, "L2 regularization per step");
  cmd->add_option("--min-groups", options.min_groups, "groups a feature must appear in to be learned");
  cmd->add_option("--background-weight", options.background_weight, "weight of a background example");
  cmd->callback([] {
    const auto corpus = load_all(corpus_dir, background_dir);
    print_counts(corpus);
    const privacy::Classifier model = privacy::train(corpus, options, [](const std::string& line) {
      std::printf("%s\n", line.c_str());
    });
    const std::vector<uint8_t> bytes = model.serialize();
    const std::string temporary = out + ".tmp";
    {
      std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
      file.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
      if (!file) fail("cannot write '", temporary, "'");
    }
    if (std::rename(temporary.c_str(), out.c_str()) != 0) fail("cannot rename '", temporary, "' to '", out, "'");
    for (privacy::Strictness s : {privacy::Strictness::Low, privacy::Strictness::Balanced, privacy::Strictness::Strict}) {
      const auto dev = privacy::evaluate(corpus, privacy::Split::Dev, [&](const std::string& text) {
        return model.is_private(model.predict(text), s);
      });
      std::printf("dev, classifier alone, %-8s: private kept off the cloud %s (worst category %s), public kept on the device %s\n",
                  privacy::strictness_name(s), percent(dev.all.recall()).c_str(),
                  percent(dev.worst_category_recall()).c_str(), percent(dev.all.false_positive_rate()).c_str());
    }
    std::printf("wrote %s (%zu bytes)\n", out.c_str(), bytes.size());
  });
}

void add_eval(CLI::App& privacy_cmd) {
  auto* cmd = privacy_cmd.add_subcommand("eval", "Per-category figures of the privacy check on a split of the corpus");
  static std::string corpus_dir = "data/privacy/corpus", background_dir = "data/privacy/background", split = "dev",
                     strictness = "balanced";
  static ModelChoice model;
  static bool classifier_only = false, misses = false;
  cmd->add_flag("--misses", misses, "list the examples the check gets wrong");
  cmd->add_option("--corpus", corpus_dir, "the labelled corpus");
  cmd->add_option("--background", background_dir, "everyday public requests (\"\": none)");
  cmd->add_option("--split", split, "train, dev or test");
  cmd->add_option("--privacy", strictness, "operating point: low, balanced or strict");
  cmd->add_option("--model", model.path, "a model file instead of the embedded one");
  cmd->add_flag("--classifier-only", classifier_only, "the classifier alone, without the pattern scanners");
  cmd->callback([] {
    const privacy::Strictness s = strictness_option(strictness);
    const privacy::Split which = split_option(split);
    const auto corpus = load_all(corpus_dir, background_dir);
    const privacy::Classifier& classifier = model.get();
    const auto verdict = [&](const std::string& text) {
      if (classifier_only) return classifier.is_private(classifier.predict(text), s);
      return router::check_privacy(text, {}, s, classifier).is_private;
    };
    const auto figures = privacy::evaluate(corpus, which, verdict);
    for (const privacy::Example& e : corpus) {
      if (!misses || e.split != which || verdict(e.text) == e.is_private) continue;
      const router::PrivacyVerdict v = router::check_privacy(e.text, {}, s, classifier);
      std::printf("%s %s (%s): %s\n", e.is_private ? "missed" : "flagged", e.id.c_str(), v.describe().c_str(),
                  e.text.c_str());
    }
    std::printf("%s split, %s, %s (figures on data written alongside the code)\n\n", split.c_str(),
                classifier_only ? "classifier alone" : "scanners + classifier", privacy::strictness_name(s));
    std::printf("%s\n", privacy::figures_table(figures).c_str());
    std::printf("private kept off the cloud %s (worst category %s); public near-misses kept on the device %s\n",
                percent(figures.all.recall()).c_str(), percent(figures.worst_category_recall()).c_str(),
                percent(figures.all.false_positive_rate()).c_str());
  });
}

void add_check(CLI::App& privacy_cmd) {
  auto* cmd = privacy_cmd.add_subcommand("check", "The privacy verdict on one request: category, score and spans");
  static std::string text, strictness = "balanced";
  static ModelChoice model;
  static bool as_json = false;
  cmd->add_option("text", text, "the request text")->required();
  cmd->add_option("--privacy", strictness, "operating point: low, balanced or strict");
  cmd->add_option("--model", model.path, "a model file instead of the embedded one");
  cmd->add_flag("--json", as_json, "one JSON object");
  cmd->callback([] {
    const privacy::Classifier& classifier = model.get();
    const privacy::Strictness s = strictness_option(strictness);
    const router::PrivacyVerdict v = router::check_privacy(text, {}, s, classifier);
    const auto spans = router::private_spans(text, classifier);
    nlohmann::ordered_json out = {{"private", v.is_private},
                                  {"verdict", "privacy:" + v.describe()},
                                  {"category", v.category},
                                  {"score", v.score},
                                  {"threshold", classifier.threshold(s)},
                                  {"needs_cloud", v.needs_cloud},
                                  {"findings", nlohmann::ordered_json::array()},
                                  {"spans", nlohmann::ordered_json::array()}};
    for (const auto& f : v.findings) {
      out["findings"].push_back({{"kind", f.kind}, {"begin", f.begin}, {"end", f.end}, {"text", text.substr(f.begin, f.end - f.begin)}});
    }
    for (const auto& span : spans) {
      out["spans"].push_back({{"kind", span.kind}, {"begin", span.begin}, {"end", span.end},
                              {"text", text.substr(span.begin, span.end - span.begin)}});
    }
    if (as_json) {
      std::printf("%s\n", out.dump().c_str());
      return;
    }
    std::printf("%s: privacy:%s\n", v.is_private ? "private" : "public", v.describe().c_str());
    std::printf("category %s, score %.3f (threshold %.3f, %s), needs cloud %s\n", v.category.c_str(), v.score,
                classifier.threshold(s), privacy::strictness_name(s), v.needs_cloud ? "yes" : "no");
    for (const auto& span : out["spans"]) {
      std::printf("  span %-16s [%zu, %zu) %s\n", span["kind"].get<std::string>().c_str(), span["begin"].get<size_t>(),
                  span["end"].get<size_t>(), span["text"].get<std::string>().c_str());
    }
  });
}

void add_curve(CLI::App& privacy_cmd) {
  auto* cmd = privacy_cmd.add_subcommand("curve", "Recall and false-positive rate against the classifier's threshold, as a PNG");
  static std::string corpus_dir = "data/privacy/corpus", background_dir = "data/privacy/background", split = "dev", png;
  static ModelChoice model;
  cmd->add_option("--corpus", corpus_dir, "the labelled corpus");
  cmd->add_option("--background", background_dir, "everyday public requests (\"\": none)");
  cmd->add_option("--split", split, "train, dev or test");
  cmd->add_option("--model", model.path, "a model file instead of the embedded one");
  cmd->add_option("--png", png, "the chart to write")->required();
  cmd->callback([] {
    const privacy::Split which = split_option(split);
    const auto corpus = load_all(corpus_dir, background_dir);
    const privacy::Classifier& classifier = model.get();
    // Scanners and tags are fixed; the curve moves the classifier's threshold.
    struct Scored {
      double score;
      bool scanned, is_private;
    };
    std::vector<Scored> scored;
    for (const privacy::Example& e : corpus) {
      if (e.split != which) continue;
      const router::PrivacyVerdict v = router::check_privacy(e.text, {}, privacy::Strictness::Balanced, classifier);
      scored.push_back({v.score, !v.findings.empty(), e.is_private});
    }
    report::LineChart chart;
    chart.title = "Privacy check on the " + split + " split: scanners + classifier";
    chart.x_label = "classifier threshold";
    chart.y_label = "percent";
    report::Series recall{"private kept off the cloud (%)", {}, {}}, fp{"public kept on the device (%)", {}, {}};
    for (int step = 0; step <= 100; ++step) {
      const double t = step / 100.0;
      privacy::Figures f;
      for (const Scored& s : scored) f.add(s.is_private, s.scanned || s.score >= t);
      recall.x.push_back(t);
      recall.y.push_back(100 * f.recall());
      fp.x.push_back(t);
      fp.y.push_back(100 * f.false_positive_rate());
    }
    chart.series = {recall, fp};
    for (privacy::Strictness s : {privacy::Strictness::Low, privacy::Strictness::Balanced, privacy::Strictness::Strict}) {
      const double t = classifier.threshold(s);
      char label[64];
      std::snprintf(label, sizeof label, "%s operating point (%.2f)", privacy::strictness_name(s), t);
      chart.series.push_back({label, {t, t}, {0, 100}});
    }
    report::write_png(chart, png);
    std::printf("wrote %s\n", png.c_str());
  });
}

}  // namespace

void add_privacy(CLI::App& app) {
  auto* cmd = app.add_subcommand("privacy", "The on-device privacy classifier: train, eval, check, curve");
  cmd->require_subcommand(1);
  add_train(*cmd);
  add_eval(*cmd);
  add_check(*cmd);
  add_curve(*cmd);
}

}  // namespace tandem::cli
