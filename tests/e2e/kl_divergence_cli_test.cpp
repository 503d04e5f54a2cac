// tandem perplexity --kl-divergence-base / --kl-divergence: a model against itself is
// KL 0 with every top-1 token agreeing; Tandem's Q8_0 of stories260K is close to F32;
// a base from another vocabulary, or a file that is not a base, is a clear error.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_paths.h"

using namespace tandem;

namespace {

const std::string kModel = test::shared_path("models/stories260K.gguf");
const std::string kTokens = test::shared_path("models/stories260K.ppl.json");

// The JSON a successful command printed (last line).
nlohmann::json json_of(const test::CommandResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto last = r.out.find_last_of('{');
  return last == std::string::npos ? nlohmann::json::object() : nlohmann::json::parse(r.out.substr(last));
}

// Writes the F32 reference's distributions once per test binary.
const std::string& base_file() {
  static const std::string path = [] {
    const std::string p = test::temp_path("stories260K.kld");
    auto r = test::run_cli("perplexity -m " + kModel + " --tokens " + kTokens + " -c 128 -t 2 --json --kl-divergence-base " + p);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return p;
  }();
  return path;
}

nlohmann::json compare(const std::string& model) {
  return json_of(test::run_cli("perplexity -m " + model + " -t 2 --json --kl-divergence --kl-divergence-base " + base_file()));
}

TEST(KlDivergence, TheReferenceAgainstItselfIsZero) {
  const auto plain = json_of(test::run_cli("perplexity -m " + kModel + " --tokens " + kTokens + " -c 128 -t 2 --json"));
  const auto r = compare(kModel);
  EXPECT_EQ(r["n_scored"], plain["n_scored"]);
  EXPECT_LT(r["mean_kl"].get<double>(), 1e-4);
  EXPECT_DOUBLE_EQ(r["top1_agreement"].get<double>(), 1.0);
  EXPECT_NEAR(r["perplexity"].get<double>(), plain["perplexity"].get<double>(), 1e-9);
  EXPECT_NEAR(r["delta_perplexity"].get<double>(), 0.0, 1e-3 * plain["perplexity"].get<double>());
}

TEST(KlDivergence, Q8_0IsCloseToF32) {
  const std::string q8 = test::temp_path("stories260K-Q8_0.gguf");
  auto quantized = test::run_cli("quantize " + kModel + " " + q8 + " Q8_0 -t 2");
  ASSERT_EQ(quantized.exit_code, 0) << quantized.err;
  const auto r = compare(q8);
  EXPECT_GT(r["mean_kl"].get<double>(), 0.0) << "a quantized model cannot match exactly";
  EXPECT_LT(r["mean_kl"].get<double>(), 0.01);
  EXPECT_GT(r["top1_agreement"].get<double>(), 0.9);
  EXPECT_LT(std::abs(r["delta_perplexity"].get<double>()) / r["base_perplexity"].get<double>(), 0.01);
}

TEST(KlDivergence, TextOutputNamesEveryFigure) {
  const auto r = test::run_cli("perplexity -m " + kModel + " -t 2 --kl-divergence --kl-divergence-base " + base_file());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* what : {"mean KL divergence", "top-1 agreement", "perplexity: base", "delta"})
    EXPECT_NE(r.out.find(what), std::string::npos) << what << " in\n" << r.out;
}

TEST(KlDivergence, ABaseFromAnotherVocabularyIsRefused) {
  const auto r = test::run_cli("perplexity -m " + test::shared_path("conformance/phi3/model-F32.gguf") +
                               " --kl-divergence --kl-divergence-base " + base_file());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("vocabulary"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("512"), std::string::npos) << r.err;
}

TEST(KlDivergence, MisuseIsAClearError) {
  const std::string not_a_base = test::temp_path("not-a-base.kld");
  std::ofstream(not_a_base) << "hello";
  struct Case {
    std::string args, expected;
  };
  for (const Case& c : {Case{"--kl-divergence", "--kl-divergence-base"},
                        Case{"--kl-divergence --kl-divergence-base " + not_a_base, "not a Tandem KL base file"},
                        Case{"--kl-divergence --kl-divergence-base /nonexistent.kld", "/nonexistent.kld"},
                        Case{"--kl-divergence -c 64 --kl-divergence-base " + base_file(), "-c 128"}}) {
    const auto r = test::run_cli("perplexity -m " + kModel + " " + c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << c.args << ": " << r.err;
  }
}

}  // namespace
