// The assistant apps in the C API: tandem_summarize (text and PDF bytes, map-reduce with
// progress, the route reported, bad documents and options), cancelling from a callback
// and from another thread (tandem_router_cancel), tandem_write, and a refusal.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "support/mini_pdf.h"
#include "support/public_text.h"
#include "support/route_reason.h"
#include "support/test_paths.h"
#include "tandem/tandem.h"

namespace {

const std::string kStories = tandem::test::shared_path("models/stories260K.gguf");
// A cloud where nothing listens: the health probe fails, so public requests stay on the device.
const char* kConfig =
    R"({"ledger": ":memory:", "health": {"probe_timeout_ms": 200},
        "cloud": [{"base_url": "http://127.0.0.1:9/v1", "model": "none", "timeout_s": 1}]})";

struct Seen {
  std::string text;
  int progress = 0, routes = 0;
  int stop_after_progress = -1;  // cancel at this progress event
  tandem_route route = TANDEM_ROUTE_REFUSED;
  std::string reason;
  tandem_router* cancel_router = nullptr;  // cancel through tandem_router_cancel at the 2nd progress event
};

int on_text(const char* text, size_t len, void* user) {
  static_cast<Seen*>(user)->text.append(text, len);
  return 1;
}
int on_progress(const tandem_progress* p, void* user) {
  auto* seen = static_cast<Seen*>(user);
  EXPECT_TRUE(std::strcmp(p->phase, "map") == 0 || std::strcmp(p->phase, "reduce") == 0 ||
              std::strcmp(p->phase, "final") == 0);
  EXPECT_LE(p->done, p->total);
  ++seen->progress;
  if (seen->cancel_router && seen->progress == 2) {
    // Another thread cancels, as an app's cancel button does.
    std::thread([router = seen->cancel_router] { EXPECT_EQ(tandem_router_cancel(router), TANDEM_OK); }).join();
  }
  return seen->progress != seen->stop_after_progress;
}
void on_route(tandem_route route, const char* reason, int fallback, void* user) {
  auto* seen = static_cast<Seen*>(user);
  ++seen->routes;
  seen->route = route;
  seen->reason = reason;
  EXPECT_EQ(fallback, 0);
}

class CapiAssistant : public ::testing::Test {
 protected:
  void SetUp() override {
    tandem_model_options mo = tandem_model_default_options();
    mo.n_threads = 1;
    mo.n_ctx = 512;
    model_ = tandem_model_load(kStories.c_str(), &mo);
    ASSERT_NE(model_, nullptr) << tandem_last_error();
    router_ = tandem_router_load_json(kConfig, model_);
    ASSERT_NE(router_, nullptr) << tandem_last_error();
    greedy_ = tandem_generate_default_options();
    greedy_.temperature = 0;
  }
  void TearDown() override {
    tandem_router_free(router_);
    tandem_model_free(model_);
  }
  tandem_status summarize(const std::string& document, Seen& seen, tandem_app_result& result,
                          const tandem_summary_options* summary = nullptr, const tandem_generate_options* options = nullptr) {
    return tandem_summarize(router_, document.data(), document.size(), summary, options ? options : &greedy_, nullptr,
                            on_route, on_progress, on_text, &seen, &result);
  }
  tandem_model* model_ = nullptr;
  tandem_router* router_ = nullptr;
  tandem_generate_options greedy_;
};

TEST_F(CapiAssistant, ALongDocumentIsSummarizedInPiecesOnTheDevice) {
  Seen seen;
  tandem_app_result result;
  tandem_summary_options so{};
  so.length = "short";
  ASSERT_EQ(summarize(tandem::test::public_text(5000), seen, result, &so), TANDEM_OK) << tandem_last_error();
  EXPECT_EQ(result.route, TANDEM_ROUTE_DEVICE);
  EXPECT_EQ(tandem::test::without_scores(result.reason), "network:offline;map_reduce;privacy:none_found");
  EXPECT_EQ(seen.routes, 1);
  EXPECT_EQ(seen.reason, result.reason);
  EXPECT_GT(result.chunks, 1);
  EXPECT_GE(result.levels, 1);
  EXPECT_GT(result.calls, result.chunks);
  EXPECT_GT(seen.progress, result.chunks);
  EXPECT_FALSE(seen.text.empty());
  EXPECT_NE(result.finish, TANDEM_FINISH_CANCELLED);
  EXPECT_STREQ(result.language, "en");
  EXPECT_GT(result.n_prompt_tokens, result.n_generated_tokens);

  // The same again at temperature 0.
  Seen again;
  tandem_app_result second;
  ASSERT_EQ(summarize(tandem::test::public_text(5000), again, second, &so), TANDEM_OK);
  EXPECT_EQ(again.text, seen.text);
}

TEST_F(CapiAssistant, PdfBytesWithChineseText) {
  Seen seen;
  tandem_app_result result;
  tandem_summary_options so{};
  so.format = "pdf";
  greedy_.max_tokens = 8;
  const std::string pdf = tandem::test::make_pdf({{{"小明有一个红色的球。", "", "他每天都在公园里玩。"}}});
  ASSERT_EQ(summarize(pdf, seen, result, &so), TANDEM_OK) << tandem_last_error();
  EXPECT_STREQ(result.language, "zh");
  EXPECT_EQ(result.chunks, 1);
  EXPECT_EQ(result.n_generated_tokens, 8);
}

TEST_F(CapiAssistant, BadDocumentsAndOptions) {
  Seen seen;
  tandem_app_result result;
  EXPECT_EQ(summarize("", seen, result), TANDEM_ERROR_DOCUMENT);
  EXPECT_NE(std::string(tandem_last_error()).find("empty"), std::string::npos);
  EXPECT_EQ(summarize(std::string("\x01\x02\0binary\0", 10), seen, result), TANDEM_ERROR_DOCUMENT);
  EXPECT_EQ(summarize("%PDF-1.4\ncorrupt", seen, result), TANDEM_ERROR_DOCUMENT);
  EXPECT_NE(std::string(tandem_last_error()).find("corrupt PDF"), std::string::npos);
  tandem_summary_options so{};
  so.length = "tiny";
  EXPECT_EQ(summarize("A story.", seen, result, &so), TANDEM_ERROR_INVALID_ARGUMENT);
  so = {};
  so.format = "docx";
  EXPECT_EQ(summarize("A story.", seen, result, &so), TANDEM_ERROR_INVALID_ARGUMENT);
  so = {};
  so.reserved[3] = 1;
  EXPECT_EQ(summarize("A story.", seen, result, &so), TANDEM_ERROR_INVALID_ARGUMENT);
  tandem_generate_options with_stop = greedy_;
  const char* stop[] = {"."};
  with_stop.stop = stop;
  with_stop.n_stop = 1;
  EXPECT_EQ(summarize("A story.", seen, result, nullptr, &with_stop), TANDEM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(tandem_summarize(nullptr, "x", 1, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr),
            TANDEM_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(seen.text.empty());
}

TEST_F(CapiAssistant, CancellingFromACallbackOrAnotherThread) {
  {
    Seen seen;
    seen.stop_after_progress = 3;  // map 0, map 1, then stop
    tandem_app_result result;
    ASSERT_EQ(summarize(tandem::test::public_text(5000), seen, result), TANDEM_OK);
    EXPECT_EQ(result.finish, TANDEM_FINISH_CANCELLED);
    EXPECT_EQ(result.calls, 2);
    EXPECT_TRUE(seen.text.empty());
  }
  {
    Seen seen;
    seen.cancel_router = router_;
    tandem_app_result result;
    ASSERT_EQ(summarize(tandem::test::public_text(5000), seen, result), TANDEM_OK);
    EXPECT_EQ(result.finish, TANDEM_FINISH_CANCELLED);
    EXPECT_EQ(result.calls, 1);
  }
  EXPECT_EQ(tandem_router_cancel(router_), TANDEM_OK);  // nothing runs: no effect
  EXPECT_EQ(tandem_router_cancel(nullptr), TANDEM_ERROR_INVALID_ARGUMENT);
}

TEST_F(CapiAssistant, WritingTasks) {
  Seen seen;
  tandem_app_result result;
  tandem_write_options wo{};
  wo.task = "email";
  wo.instructions = "ask for a day off on Friday";
  wo.tone = "polite";
  greedy_.max_tokens = 10;
  ASSERT_EQ(tandem_write(router_, &wo, &greedy_, nullptr, on_route, on_text, &seen, &result), TANDEM_OK)
      << tandem_last_error();
  EXPECT_EQ(result.route, TANDEM_ROUTE_DEVICE);
  EXPECT_EQ(result.n_generated_tokens, 10);
  EXPECT_EQ(result.calls, 1);
  EXPECT_FALSE(seen.text.empty());
  EXPECT_EQ(seen.routes, 1);

  wo = {};
  wo.task = "polish";
  EXPECT_EQ(tandem_write(router_, &wo, nullptr, nullptr, nullptr, nullptr, nullptr, &result), TANDEM_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tandem_last_error()).find("needs input"), std::string::npos);
  wo.task = "sonnet";
  wo.instructions = "x";
  EXPECT_EQ(tandem_write(router_, &wo, nullptr, nullptr, nullptr, nullptr, nullptr, &result), TANDEM_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(tandem_write(router_, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, &result), TANDEM_ERROR_INVALID_ARGUMENT);
}

TEST_F(CapiAssistant, PrivateDataWithoutADeviceIsRefused) {
  tandem_router* cloud_only = tandem_router_load_json(kConfig, nullptr);
  ASSERT_NE(cloud_only, nullptr);
  const char* tags[] = {"health"};
  tandem_route_options routing{};
  routing.data_tags = tags;
  routing.n_data_tags = 1;
  tandem_app_result result;
  const std::string doc = "My blood test results from last week.";
  EXPECT_EQ(tandem_summarize(cloud_only, doc.data(), doc.size(), nullptr, nullptr, &routing, nullptr, nullptr, nullptr,
                             nullptr, &result),
            TANDEM_ERROR_ROUTE_REFUSED);
  EXPECT_EQ(result.route, TANDEM_ROUTE_REFUSED);
  EXPECT_EQ(tandem::test::without_scores(result.reason), "privacy:tag_health;chunk:1/1;device:no_device_model");
  tandem_router_free(cloud_only);
}

}  // namespace
