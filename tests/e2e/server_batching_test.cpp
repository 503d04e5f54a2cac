// Continuous batching in `tandem serve`: slots decode in one batched forward pass
// per round, sequences join and leave the batch at different times (different
// prompt lengths, token limits, one running into its context limit), and each
// answer must still be the one that request gets alone. Float models: with
// quantized weights a batched matmul may round an int8 activation differently
// from a one-token one, which is not what these tests are about.
#include <gtest/gtest.h>
#include <httplib.h>

#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/server_process.h"
#include "support/test_paths.h"

namespace {

using nlohmann::json;
using tandem::test::ServerProcess;

struct Request {
  std::string prompt;
  int max_tokens;
};

struct Answer {
  std::string text, finish_reason;
  int completion_tokens = -1;
  bool operator==(const Answer&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Answer& a) {
  return os << a.finish_reason << " after " << a.completion_tokens << " tokens: " << a.text;
}

Answer greedy(const ServerProcess& server, const Request& request) {
  const json body = {{"prompt", request.prompt}, {"max_tokens", request.max_tokens}, {"temperature", 0},
                     {"ignore_eos", true}};
  auto r = server.client().Post("/v1/completions", body.dump(), "application/json");
  if (!r || r->status != 200) return {"<failed: " + (r ? r->body : std::string("no answer")) + ">", "", -1};
  const json j = json::parse(r->body);
  return {j["choices"][0]["text"], j["choices"][0]["finish_reason"], j["usage"]["completion_tokens"]};
}

struct Model {
  const char* name;
  const char* path;
};

class ServerBatching : public ::testing::TestWithParam<Model> {};

TEST_P(ServerBatching, SequencesJoiningAndLeavingTheBatchMatchLoneRuns) {
  // -c 48: the long prompt with a large limit runs into the context and leaves early.
  ServerProcess server({"-m", tandem::test::shared_path(GetParam().path), "-t", "2", "--parallel", "3", "--queue",
                        "8", "-c", "48"});
  const std::vector<Request> requests = {
      {"Once upon a time", 30},
      {"The little dog ran to the park and saw a big red ball near the tree", 200},
      {"Tom", 5},
      {"One day a girl named Lily", 20},
      {"The sun", 12},
  };
  std::vector<Answer> alone;
  for (const Request& r : requests) alone.push_back(greedy(server, r));
  EXPECT_EQ(alone[1].finish_reason, "length");
  EXPECT_LT(alone[1].completion_tokens, 200);  // cut by the context, not the limit

  std::vector<std::future<Answer>> together;
  for (const Request& r : requests)
    together.push_back(std::async(std::launch::async, [&server, r] { return greedy(server, r); }));
  for (size_t i = 0; i < requests.size(); ++i) EXPECT_EQ(together[i].get(), alone[i]) << requests[i].prompt;
}

INSTANTIATE_TEST_SUITE_P(Models, ServerBatching,
                         ::testing::Values(Model{"stories260K", "models/stories260K.gguf"},
                                           Model{"qwen2_gqa", "conformance/qwen2/model-F32.gguf"}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
