// `tandem privacy train | eval | check | curve` end to end: the verdict and spans of one
// request as JSON, training a model from a corpus and using it, the figures table, the
// chart, and mistakes named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_paths.h"

using tandem::test::run_cli;

namespace {

std::string quoted(const std::string& path) { return "'" + path + "'"; }

TEST(PrivacyCli, CheckPrintsTheVerdictCategoryScoreAndSpans) {
  const std::string text = "my son Leo takes 10 mg of methylphenidate every morning, tell his teacher";
  auto r = run_cli("privacy check --json " + quoted(text));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["private"], true);
  EXPECT_EQ(j["verdict"].get<std::string>().rfind("privacy:", 0), 0u) << j.dump();
  EXPECT_GE(j["score"].get<double>(), j["threshold"].get<double>());
  ASSERT_FALSE(j["spans"].empty()) << j.dump();
  for (const auto& span : j["spans"]) {
    const size_t begin = span["begin"], end = span["end"];
    EXPECT_EQ(text.substr(begin, end - begin), span["text"].get<std::string>());
  }

  r = run_cli("privacy check --json 'what does methylphenidate do and how long does it last'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto general = nlohmann::json::parse(r.out);
  EXPECT_EQ(general["private"], false) << general.dump();
  EXPECT_EQ(general["verdict"].get<std::string>().rfind("privacy:none_found(score=", 0), 0u);

  r = run_cli("privacy check --privacy strict 'hello'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("strict"), std::string::npos) << r.out;
}

TEST(PrivacyCli, TrainsAModelFromACorpusAndUsesIt) {
  const std::string dir = tandem::test::temp_path("cli-corpus");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/en");
  {
    std::ofstream health(dir + "/en/health.jsonl");
    for (int i = 0; i < 40; ++i) {
      const std::string id = "en-health-" + std::to_string(1000 + i);
      const bool is_private = i % 2 == 0;
      const std::string text = is_private ? "my blood sugar was " + std::to_string(7 + i) + " this morning"
                                          : "what is a normal blood sugar level number " + std::to_string(i);
      nlohmann::json row = {{"id", id},        {"lang", "en"},
                            {"label", is_private ? "private" : "public"},
                            {"category", "health"},
                            {"text", text},    {"secrets", is_private ? nlohmann::json::array({text}) : nlohmann::json::array()},
                            {"needs_cloud", false}, {"group", id}};
      health << row.dump() << "\n";
    }
  }
  const std::string model = tandem::test::temp_path("cli-model.bin");
  auto r = run_cli("privacy train --corpus " + quoted(dir) + " --background '' --out " + quoted(model));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("corpus: 40 examples"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("train priv/pub"), std::string::npos) << r.out;
  ASSERT_TRUE(std::filesystem::exists(model));
  // The same corpus and seed give the same bytes.
  const std::string again = tandem::test::temp_path("cli-model-again.bin");
  ASSERT_EQ(run_cli("privacy train --corpus " + quoted(dir) + " --background '' --out " + quoted(again)).exit_code, 0);
  std::ifstream a(model, std::ios::binary), b(again, std::ios::binary);
  EXPECT_TRUE(std::equal(std::istreambuf_iterator<char>(a), {}, std::istreambuf_iterator<char>(b), {}));

  r = run_cli("privacy check --json --model " + quoted(model) + " 'my blood sugar was 12 this morning'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["category"], "health");

  r = run_cli("privacy eval --corpus " + quoted(dir) + " --background '' --split train --model " + quoted(model));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| health | "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| **all** | "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("private kept off the cloud"), std::string::npos) << r.out;

  const std::string png = tandem::test::temp_path("privacy-curve.png");
  r = run_cli("privacy curve --corpus " + quoted(dir) + " --background '' --split train --model " + quoted(model) +
              " --png " + quoted(png));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(std::filesystem::exists(png));
  EXPECT_GT(std::filesystem::file_size(png), 1000u);
}

TEST(PrivacyCli, MistakesAreNamed) {
  struct Case {
    std::string args, message;
  };
  const std::string missing = tandem::test::temp_path("no-such-model.bin");
  const Case cases[] = {
      {"privacy check --privacy paranoid hello", "--privacy: 'paranoid' is not low, balanced or strict"},
      {"privacy check --model " + quoted(missing) + " hello", "cannot read the privacy model"},
      {"privacy eval --split validation", "--split 'validation' is not train, dev or test"},
      {"privacy train --corpus " + quoted(tandem::test::temp_path("no-corpus")) + " --out x.bin", "is not a directory"},
  };
  for (const Case& c : cases) {
    const auto r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << ": " << r.err;
  }
}

}  // namespace
