// A client that hangs up on a non-streamed request: the server notices at its next
// heartbeat write and cancels the generation, freeing the slot.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/server_process.h"
#include "support/test_paths.h"

namespace {

TEST(ServerCancel, ANonStreamedClientThatHangsUpCancelsItsGeneration) {
  tandem::test::ServerProcess server(
      {"-m", tandem::test::shared_path("models/stories260K.gguf"), "-t", "1", "--parallel", "1", "-c", "4096"});
  {
    // The client hangs up when the first byte arrives: a heartbeat space, sent only while the
    // model is still generating, so the hang-up always comes mid-generation.
    httplib::Client impatient("127.0.0.1", server.port());
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/completions";
    req.body = R"({"prompt":"Once","max_tokens":4000,"ignore_eos":true})";
    req.set_header("Content-Type", "application/json");
    std::string received;
    req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
      received.append(data, size);
      return false;  // closes the connection
    };
    impatient.send(req);
    ASSERT_FALSE(received.empty()) << "no byte arrived before the answer ended";
    EXPECT_EQ(received.find_first_not_of(' '), std::string::npos)
        << "the whole answer came before the first heartbeat; the test needs a longer generation: " << received;
  }
  server.wait_for_metric("tandem_completions_cancelled_total", [](double v) { return v == 1; });
  server.wait_for_metric("tandem_slots_busy", [](double v) { return v == 0; });
  EXPECT_EQ(server.metric("tandem_completions_cancelled_total"), 1);
  EXPECT_EQ(server.metric("tandem_slots_busy"), 0);
  EXPECT_LT(server.metric("tandem_decoded_tokens_total"), 4000);

  // Non-streamed answers still parse (leading heartbeat spaces are valid JSON whitespace).
  auto ok = server.client().Post("/v1/completions", R"({"prompt":"Once","max_tokens":8,"temperature":0})",
                                 "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_FALSE(nlohmann::json::parse(ok->body, nullptr, false).is_discarded()) << ok->body;
}

}  // namespace
