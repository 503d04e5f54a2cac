// A client that hangs up on a non-streamed request: the server notices at its next
// heartbeat write and cancels the generation, freeing the slot.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/server_process.h"
#include "support/test_paths.h"

namespace {

using namespace std::chrono_literals;

TEST(ServerCancel, ANonStreamedClientThatHangsUpCancelsItsGeneration) {
  tandem::test::ServerProcess server(
      {"-m", tandem::test::shared_path("models/stories260K.gguf"), "-t", "1", "--parallel", "1", "-c", "2048"});
  {
    httplib::Client impatient("127.0.0.1", server.port());
    impatient.set_read_timeout(0, 200000);  // gives up after 200 ms and closes the connection
    auto r = impatient.Post("/v1/completions", R"({"prompt":"Once","max_tokens":2000,"ignore_eos":true})",
                            "application/json");
    EXPECT_FALSE(r) << "the generation finished before the client gave up; the test needs a longer one";
  }
  // Bounds on a hang, not timing checks.
  for (int i = 0; i < 200 && server.metric("tandem_completions_cancelled_total") < 1; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_GE(server.metric("tandem_completions_cancelled_total"), 1);
  for (int i = 0; i < 200 && server.metric("tandem_slots_busy") != 0; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(server.metric("tandem_slots_busy"), 0);
  EXPECT_LT(server.metric("tandem_decoded_tokens_total"), 2000);

  // Non-streamed answers still parse (leading heartbeat spaces are valid JSON whitespace).
  auto ok = server.client().Post("/v1/completions", R"({"prompt":"Once","max_tokens":8,"temperature":0})",
                                 "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_FALSE(nlohmann::json::parse(ok->body, nullptr, false).is_discarded()) << ok->body;
}

}  // namespace
