// The privacy classifier (issue 17): the labelled corpus keeps its contract, the split is
// a fixed function of the group, training reproduces the committed model byte for byte,
// damaged model files are refused, and on the test split (never trained on) the privacy
// check (scanners + classifier) meets the acceptance figures. Those figures are on data
// written alongside the code; docs/routing.md quotes them with that label.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/error.h"
#include "privacy/classifier.h"
#include "privacy/corpus.h"
#include "privacy/evaluate.h"
#include "privacy/train.h"
#include "router/privacy_check.h"
#include "support/test_paths.h"

namespace tandem::privacy {
namespace {

const std::string kCorpus = std::string(TANDEM_SOURCE_DIR) + "/data/privacy/corpus";
const std::string kBackground = std::string(TANDEM_SOURCE_DIR) + "/data/privacy/background";
const std::string kModel = std::string(TANDEM_SOURCE_DIR) + "/data/privacy/privacy-model.bin";

std::vector<Example> corpus_and_background() {
  std::vector<Example> all = load_corpus(kCorpus);
  for (auto& e : load_background(kBackground)) all.push_back(std::move(e));
  return all;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// ---- the corpus

TEST(PrivacyCorpus, MeetsItsContract) {
  const std::vector<Example> corpus = load_corpus(kCorpus);
  EXPECT_GE(corpus.size(), 3000u);
  std::set<std::string> ids;
  // [category][language][private]
  std::map<int, std::map<std::string, std::array<int, 2>>> counts;
  for (const Example& e : corpus) {
    EXPECT_TRUE(ids.insert(e.id).second) << "duplicate id " << e.id;
    ASSERT_GE(e.category, 0) << e.where;
    EXPECT_EQ(e.id.rfind(e.lang + "-" + std::string(kCategories[e.category]) + "-", 0), 0u) << e.where << ": " << e.id;
    EXPECT_EQ(e.is_private, !e.secrets.empty()) << e.where;
    for (const std::string& secret : e.secrets) EXPECT_NE(e.text.find(secret), std::string::npos) << e.where;
    counts[e.category][e.lang][e.is_private]++;
  }
  int with_near_misses_in_both = 0;
  for (size_t c = 0; c < kCategories.size(); ++c) {
    SCOPED_TRACE(std::string(kCategories[c]));
    const bool both = counts[int(c)]["en"][0] > 0 && counts[int(c)]["zh"][0] > 0;
    with_near_misses_in_both += both;
    EXPECT_GT(counts[int(c)]["en"][1], 0);
    EXPECT_GT(counts[int(c)]["zh"][1], 0);
  }
  EXPECT_GE(with_near_misses_in_both, 20);
}

TEST(PrivacyCorpus, TheBackgroundSetIsPublicEverydayTraffic) {
  const std::vector<Example> background = load_background(kBackground);
  EXPECT_GE(background.size(), 150u);
  for (const Example& e : background) {
    EXPECT_EQ(e.category, -1) << e.where;
    EXPECT_FALSE(e.is_private) << e.where;
  }
}

// Each malformed line is refused with the file, the line and what is wrong.
TEST(PrivacyCorpus, RefusesMalformedLines) {
  const std::string good =
      R"({"id":"en-health-0001","lang":"en","label":"private","category":"health","text":"my A1C was 7.9","secrets":["A1C was 7.9"],"needs_cloud":false,"group":"g1"})";
  const std::pair<std::string, std::string> cases[] = {
      {"{not json", "not a JSON object"},
      {"", "blank line"},
      {R"({"id":"en-health-0002","lang":"en","label":"private","category":"health","text":"my A1C was 7.9","secrets":["A1C was 8"],"needs_cloud":false,"group":"g"})",
       "secret 'A1C was 8' is not a substring"},
      {R"({"id":"en-health-0002","lang":"en","label":"private","category":"dental","text":"x","secrets":["x"],"needs_cloud":false,"group":"g"})",
       "unknown category 'dental'"},
      {R"({"id":"en-health-0002","lang":"en","label":"private","category":"legal","text":"x","secrets":["x"],"needs_cloud":false,"group":"g"})",
       "category 'legal' in health.jsonl"},
      {R"({"id":"en-health-0002","lang":"zh","label":"private","category":"health","text":"x","secrets":["x"],"needs_cloud":false,"group":"g"})",
       "lang 'zh' in a file for en"},
      {R"({"id":"en-health-0002","lang":"en","label":"secret","category":"health","text":"x","secrets":["x"],"needs_cloud":false,"group":"g"})",
       "label 'secret'"},
      {R"({"id":"en-health-0002","lang":"en","label":"private","category":"health","text":"x","secrets":[],"needs_cloud":false,"group":"g"})",
       "a private example needs its secrets"},
      {R"({"id":"en-health-0002","lang":"en","label":"public","category":"health","text":"x","secrets":["x"],"needs_cloud":false,"group":"g"})",
       "a public example has no secrets"},
      {R"({"id":"en-health-0002","lang":"en","label":"private","category":"health","text":"x","secrets":["x"],"needs_cloud":"no","group":"g"})",
       "field 'needs_cloud' must be true or false"},
      {R"({"id":"en-health-0002","lang":"en","label":"private","category":"health","text":"x","secrets":["x"],"needs_cloud":false})",
       "field 'group' must be a string"},
      {R"({"id":"en-health-0002","lang":"en","label":"private","category":"health","text":"x","secrets":["x"],"needs_cloud":false,"group":"g","extra":1})",
       "unknown field 'extra'"},
      {good, "duplicate id 'en-health-0001'"},
  };
  for (const auto& [line, message] : cases) {
    SCOPED_TRACE(line);
    const std::string dir = tandem::test::temp_path("privacy-corpus");
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir + "/en");
    std::ofstream(dir + "/en/health.jsonl") << good << "\n" << line << "\n";
    try {
      load_corpus(dir);
      ADD_FAILURE() << "accepted";
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("en/health.jsonl:2: " + message), std::string::npos) << error.what();
    }
  }
  EXPECT_THROW(load_corpus(tandem::test::temp_path("no-such-corpus")), Error);
}

// ---- the split

TEST(PrivacySplit, IsAFixedFunctionOfTheGroup) {
  // FNV-1a (32-bit) mod 100, values from an independent implementation (Python):
  // "a" 0xe40c292c -> 20, "fooba" 0x39aaa18a -> 86, "group-12" 0xa5d301bc -> 80, "" 0x811c9dc5 -> 61.
  EXPECT_EQ(split_of("a"), Split::Train);
  EXPECT_EQ(split_of(""), Split::Train);
  EXPECT_EQ(split_of("group-12"), Split::Dev);
  EXPECT_EQ(split_of("group-18"), Split::Dev);  // 70, the first dev bucket
  EXPECT_EQ(split_of("fooba"), Split::Test);
  EXPECT_EQ(split_of("group-7"), Split::Test);  // 88

  const std::vector<Example> corpus = load_corpus(kCorpus);
  std::map<std::string, Split> split_of_group;
  std::array<int, 3> sizes{};
  for (const Example& e : corpus) {
    EXPECT_EQ(e.split, split_of(e.group));
    auto [it, inserted] = split_of_group.emplace(e.group, e.split);
    EXPECT_EQ(it->second, e.split) << e.group;
    sizes[int(e.split)]++;
  }
  const double n = double(corpus.size());
  EXPECT_NEAR(sizes[0] / n, 0.70, 0.06);
  EXPECT_NEAR(sizes[1] / n, 0.15, 0.05);
  EXPECT_NEAR(sizes[2] / n, 0.15, 0.05);
}

// ---- the model

// The committed model is exactly what the training command makes from the committed
// corpus, and the library embeds that file.
TEST(PrivacyModel, TrainingReproducesTheCommittedModel) {
  const std::vector<uint8_t> committed = read_bytes(kModel);
  ASSERT_FALSE(committed.empty()) << kModel;
  const std::vector<uint8_t> trained = train(corpus_and_background(), TrainOptions{}).serialize();
  EXPECT_EQ(trained.size(), committed.size());
  EXPECT_TRUE(trained == committed) << "retrain: tandem privacy train --out data/privacy/privacy-model.bin";
  EXPECT_TRUE(Classifier::embedded().serialize() == committed) << "the build embedded another model file";
}

TEST(PrivacyModel, RefusesDamagedFiles) {
  const std::vector<uint8_t> good = read_bytes(kModel);
  ASSERT_GT(good.size(), 100u);
  EXPECT_NO_THROW(Classifier{good});
  const auto refuses = [](std::vector<uint8_t> bytes, const std::string& message) {
    try {
      Classifier model(bytes);
      ADD_FAILURE() << "accepted: " << message;
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find(message), std::string::npos) << error.what();
    }
  };
  refuses({}, "not a Tandem privacy model");
  refuses(std::vector<uint8_t>(good.begin(), good.begin() + 40), "checksum");
  std::vector<uint8_t> flipped = good;
  flipped[good.size() / 2] ^= 0x40;
  refuses(flipped, "checksum mismatch");
  std::vector<uint8_t> other = good;
  other[0] = 'X';
  refuses(other, "not a Tandem privacy model");
  // A consistent file of another version: rewrite the version and the checksum.
  std::vector<uint8_t> version = good;
  version[4] = 99;
  uint32_t h = 2166136261u;
  for (size_t i = 0; i + 4 < version.size(); ++i) h = (h ^ version[i]) * 16777619u;
  for (int i = 0; i < 4; ++i) version[version.size() - 4 + i] = uint8_t(h >> (8 * i));
  refuses(version, "version 99");
}

TEST(PrivacyModel, StricterSettingsFlagMore) {
  const Classifier& model = Classifier::embedded();
  EXPECT_GE(model.threshold(Strictness::Low), model.threshold(Strictness::Balanced));
  EXPECT_GE(model.threshold(Strictness::Balanced), model.threshold(Strictness::Strict));
  EXPECT_EQ(parse_strictness("strict"), Strictness::Strict);
  EXPECT_FALSE(parse_strictness("paranoid"));
}

// Requests written for this test (not corpus lines), one per kind of evidence the
// classifier must generalize over: a condition, a drug by its suffix, a kinship term
// with a school class, a faith, money in personal context, and their public twins.
TEST(PrivacyModel, WeighsPersonalContextNotTopicAlone) {
  const Classifier& model = Classifier::embedded();
  const char* personal[] = {
      "remind me to ask the doctor whether my rosuvastatin dose should go up",
      "my brother just told us he has stage 2 lymphoma, how do I support him",
      "帮我给班主任请个假，我女儿小雨在实验小学三年级二班，今天发烧了",
      "我老公上个月工资到手才一万二，房贷还要还八千",
      "I converted to Islam last year and my parents still don't know, help me plan how to tell them",
  };
  const char* general[] = {
      "what class of drug is rosuvastatin and how does it lower cholesterol",
      "what are the survival rates for stage 2 lymphoma",
      "小学三年级一般学哪些数学内容",
      "2024年全国城镇平均工资是多少",
      "how many people converted to Islam in Europe in the last decade",
  };
  for (const char* text : personal) {
    const Prediction p = model.predict(text);
    EXPECT_TRUE(model.is_private(p, Strictness::Balanced)) << text << " scored " << p.score;
  }
  for (const char* text : general) {
    const Prediction p = model.predict(text);
    EXPECT_FALSE(model.is_private(p, Strictness::Balanced)) << text << " scored " << p.score;
  }
}

// The semantic spans hide the sensitive phrase and name its category.
TEST(PrivacyModel, SpansCoverTheSensitivePhrase) {
  const Classifier& model = Classifier::embedded();
  const std::string text = "Please tell the school nurse that my son Leo takes 10 mg of methylphenidate every morning.";
  const std::vector<SemanticSpan> spans = model.spans(text);
  ASSERT_FALSE(spans.empty());
  const size_t begin = text.find("10 mg of methylphenidate");
  EXPECT_TRUE(is_hidden(text, begin, std::string("10 mg of methylphenidate").size(), spans));
  for (const SemanticSpan& s : spans) {
    EXPECT_LT(s.begin, s.end);
    EXPECT_LE(s.end, text.size());
  }
  EXPECT_TRUE(model.spans("").empty());
}

// Any bytes are a request: malformed UTF-8, NULs, lone surrogates, long runs of digits
// or punctuation give a verdict and spans inside the text (run under ASan/UBSan).
TEST(PrivacyModel, AnyBytesGiveAVerdictAndSpansInsideTheText) {
  const Classifier& model = Classifier::embedded();
  uint64_t state = 12345;
  const auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return uint32_t(state >> 33);
  };
  std::vector<std::string> texts = {std::string("\0\0\xff\xfe", 4), "\xed\xa0\x80", std::string(3000, '9'),
                                    std::string(2000, ':'), "[[[[]]]]", "\xe4\xb8", "Mom:\n:\n\n: :"};
  const std::string alphabet = "09 :,.\n@/-_aZ\xe6\x88\x91\xef\xbc\x9a\xe3\x80\x82\xff";
  for (int i = 0; i < 300; ++i) {
    std::string text;
    const size_t length = next() % 200;
    for (size_t k = 0; k < length; ++k) text.push_back(next() % 3 ? alphabet[next() % alphabet.size()] : char(next()));
    texts.push_back(text);
  }
  for (const std::string& text : texts) {
    const Prediction p = model.predict(text);
    EXPECT_GE(p.score, 0.0);
    EXPECT_LE(p.score, 1.0);
    for (const SemanticSpan& s : model.spans(text)) {
      EXPECT_LT(s.begin, s.end);
      EXPECT_LE(s.end, text.size());
    }
  }
}

// ---- acceptance on the test split

TEST(PrivacyAcceptance, TestSplitKeepsPrivateRequestsOffTheCloud) {
  const std::vector<Example> corpus = corpus_and_background();
  const SplitFigures figures = evaluate(corpus, Split::Test, [](const std::string& text) {
    return router::check_privacy(text, {}, Strictness::Balanced).is_private;
  });
  std::printf("test split, scanners + classifier, balanced (data written alongside the code):\n%s\n",
              figures_table(figures).c_str());
  ASSERT_GE(figures.all.private_total, 300);
  ASSERT_GE(figures.all.public_total, 200);
  EXPECT_GE(figures.all.recall(), 0.97);
  for (size_t c = 0; c < kCategories.size(); ++c) {
    EXPECT_GE(figures.by_category[c].recall(), 0.90) << kCategories[c];
  }
  EXPECT_LE(figures.all.false_positive_rate(), 0.10);
}

}  // namespace
}  // namespace tandem::privacy
