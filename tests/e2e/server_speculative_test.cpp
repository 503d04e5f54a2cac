// Speculative decoding in `tandem serve`: a draft model from --draft (or the router
// config's device.draft_model), used per request ("speculative" in docs/api.md); greedy
// answers are the plain ones; the counters say drafts were verified; bad fields are 400s.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/server_process.h"
#include "support/test_paths.h"

namespace {

using nlohmann::json;
using tandem::test::ServerProcess;

const std::string kStories = tandem::test::shared_path("models/stories260K.gguf");
const std::string kQwen = tandem::test::shared_path("conformance/qwen2/model-Q8_0.gguf");

json post(const ServerProcess& server, const json& body, int expected = 200) {
  auto r = server.client().Post("/v1/completions", body.dump(), "application/json");
  EXPECT_TRUE(r);
  if (!r) return {};
  EXPECT_EQ(r->status, expected) << r->body;
  return json::parse(r->body, nullptr, false);
}

json greedy(const std::string& prompt, json speculative = nullptr) {
  json body = {{"prompt", prompt}, {"max_tokens", 48}, {"temperature", 0}, {"ignore_eos", true}};
  if (!speculative.is_null()) body["speculative"] = speculative;
  return body;
}

const std::string kPrompt = "Once upon a time, there was a little girl. Once upon a time, there was a little";

TEST(ServerSpeculative, DraftAndLookupAnswersAreThePlainGreedyAnswers) {
  ServerProcess server({"-m", kStories, "-t", "1", "-c", "256", "--parallel", "2", "--draft", kStories, "--draft-k", "4"});
  const json plain = post(server, greedy(kPrompt, {{"method", "none"}}));
  ASSERT_FALSE(plain.is_discarded() || plain.empty());
  EXPECT_EQ(server.metric("tandem_draft_tokens_total"), 0);
  const json drafted = post(server, greedy(kPrompt));  // the draft model by default
  EXPECT_EQ(drafted["choices"][0]["text"], plain["choices"][0]["text"]);
  const double after_draft = server.metric("tandem_draft_tokens_total");
  EXPECT_GT(after_draft, 0);
  // The target drafting for itself: every draft is kept.
  EXPECT_EQ(server.metric("tandem_draft_accepted_tokens_total"), after_draft);
  const json looked_up = post(server, greedy(kPrompt, {{"method", "lookup"}, {"k", 6}, {"ngram", 2}}));
  EXPECT_EQ(looked_up["choices"][0]["text"], plain["choices"][0]["text"]);
  EXPECT_GT(server.metric("tandem_draft_tokens_total"), after_draft);
}

TEST(ServerSpeculative, BadSpeculativeFieldsAre400sNamingThem) {
  ServerProcess server({"-m", kStories, "-t", "1", "-c", "128"});
  struct Case {
    json speculative;
    std::string param;
  };
  for (const Case& c : {Case{{{"method", "draft"}}, "speculative.method"},  // no draft model loaded
                        Case{{{"method", "telepathy"}}, "speculative.method"},
                        Case{{{"method", "lookup"}, {"k", 0}}, "speculative.k"},
                        Case{{{"method", "lookup"}, {"k", 33}}, "speculative.k"},
                        Case{{{"method", "lookup"}, {"ngram", "3"}}, "speculative.ngram"},
                        Case{"lookup", "speculative"}}) {
    const json r = post(server, greedy(kPrompt, c.speculative), 400);
    EXPECT_EQ(r["error"]["param"], c.param) << c.speculative.dump();
  }
  // Lookup needs no draft model.
  EXPECT_FALSE(post(server, greedy(kPrompt, {{"method", "lookup"}}))["choices"][0]["text"].get<std::string>().empty());
}

TEST(ServerSpeculative, ADraftWithAnotherVocabularyIsRefusedAtLoad) {
  const std::string config = tandem::test::temp_path("router-draft.json");
  std::ofstream(config) << json{{"device", {{"model", kStories}, {"draft_model", kQwen}}}}.dump();
  const auto r = tandem::test::run_cli("serve --port 0 --router " + config);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("vocabulary"), std::string::npos) << r.err;
}

}  // namespace
