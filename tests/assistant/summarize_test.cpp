// Summaries, deterministic at temperature 0 on stories260K (a real model, context 512)
// and on the qwen2 conformance model (random weights, context 256: it never stops
// early, so every note is as long as allowed, the reduce tree's worst case):
// every call within its budget, the text covered in order, the reduce tree ending
// within its bound, cancellation, and routing (one private chunk keeps the whole job on
// the device; a long public document goes to the cloud when allowed; a failed cloud
// hands the job back).
#include "assistant/summarize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "assistant/text.h"
#include "generate/session.h"
#include "router/config.h"
#include "support/public_text.h"
#include "support/route_reason.h"
#include "support/server_process.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace tandem::assistant {
namespace {

const std::string kStories = test::shared_path("models/stories260K.gguf");
const std::string kQwen2 = test::shared_path("conformance/qwen2/model-F32.gguf");

std::string stories_text(size_t bytes) {
  std::ifstream in(test::shared_path("text/tinystories_head.txt"));
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str().substr(0, bytes);
  while (!valid_utf8(text)) text.pop_back();
  return text;
}

using test::public_text;

struct Device {
  Device(const std::string& path, int n_ctx) {
    model = model::Model::load(path);
    tok = tokenizer::Tokenizer::from_gguf(model->file());
    format = tokenizer::ChatFormat::of(model->file(), *tok, "");
    session = std::make_unique<generate::Session>(model, *tok, model::ContextOptions{.n_ctx = n_ctx, .n_threads = 1});
  }
  Engine engine(router::Router* router = nullptr) {
    return Engine{router, session.get(), &format, "device.gguf", &tasks};
  }
  std::shared_ptr<model::Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tok;
  tokenizer::ChatFormat format;
  std::unique_ptr<generate::Session> session;
  Tasks tasks = Tasks::builtin();
};

SummaryOptions greedy(const std::string& length = "short") {
  SummaryOptions o;
  o.length = length;
  o.sampling.temperature = 0;
  return o;
}

// Everything a run reported.
struct Observed {
  Result result;
  std::vector<CallInfo> calls;
  std::vector<Progress> progress;
  std::vector<router::RouteNote> routes;
  std::string streamed;
};

Observed run(SummaryJob& job, std::function<bool(const Progress&)> on_progress = {}, std::function<bool()> keep_going = {}) {
  Observed r;
  Events events;
  events.on_call = [&](const CallInfo& info) { r.calls.push_back(info); };
  events.on_progress = [&](const Progress& p) {
    r.progress.push_back(p);
    return !on_progress || on_progress(p);
  };
  events.on_route = [&](const router::RouteNote& note) { r.routes.push_back(note); };
  events.on_text = [&](std::string_view text) {
    r.streamed += text;
    return true;
  };
  events.keep_going = keep_going;
  job.start();
  r.result = job.run(events);
  return r;
}

struct ModelCase {
  std::string path;
  int n_ctx;
  size_t document_bytes;
};

class Summarize : public ::testing::TestWithParam<ModelCase> {};

TEST_P(Summarize, EveryCallKeepsItsBudgetAndTheTextIsCoveredInOrder) {
  Device device(GetParam().path, GetParam().n_ctx);
  const std::string text = stories_text(GetParam().document_bytes);
  SummaryJob job(device.engine(), text, greedy());
  const SummaryPlan& plan = job.plan();
  ASSERT_FALSE(plan.single);
  ASSERT_GE(plan.chunks.size(), 3u);
  const Observed r = run(job);
  EXPECT_EQ(r.result.finish == generate::FinishReason::Stop || r.result.finish == generate::FinishReason::Length, true);
  EXPECT_EQ(r.result.note.header(), "device; reason=no_router");
  EXPECT_EQ(r.result.chunks, int(plan.chunks.size()));
  EXPECT_EQ(r.result.calls, int(r.calls.size()));
  EXPECT_EQ(r.streamed, r.result.text);

  size_t next = 0;
  int maps = 0;
  for (const CallInfo& call : r.calls) {
    SCOPED_TRACE(call.phase + " " + std::to_string(call.level) + "/" + std::to_string(call.index));
    EXPECT_LE(call.input_tokens, call.input_budget);                 // no chunk (or notes) over budget
    EXPECT_LE(call.prompt_tokens + call.max_tokens, plan.n_ctx);     // room for the whole answer
    EXPECT_GE(call.max_tokens, 1);
    if (call.phase == "map") {
      EXPECT_EQ(call.index, maps++);
      EXPECT_EQ(call.begin, next);  // in order, nothing skipped
      next = call.end;
    }
  }
  EXPECT_EQ(maps, int(plan.chunks.size()));
  EXPECT_EQ(next, text.size());  // all of it
  EXPECT_EQ(r.calls.back().phase, "final");

  // The reduce tree: each level merges at least pairs, so level l starts with at most
  // ceil(chunks / 2^(l-1)) notes and makes at most ceil(chunks / 2^l) merges, and there are
  // at most ceil(log2(chunks)) levels before the final call.
  const int chunks = int(plan.chunks.size());
  const int bound = int(std::ceil(std::log2(double(chunks)))) + 1;
  EXPECT_GE(r.result.levels, 1);
  EXPECT_LE(r.result.levels, bound);
  EXPECT_GE(r.result.levels, 2) << "the document should be long enough to need reduce levels";
  for (int level = 1; level < r.result.levels; ++level) {
    int merges = 0;
    for (const Progress& p : r.progress) {
      if (p.phase == "reduce" && p.level == level) merges = p.total;
    }
    EXPECT_GE(merges, 1) << level;
    EXPECT_LE(merges, (chunks + (1 << level) - 1) >> level) << level;
  }
  // Progress: map 0..N, then the final once.
  EXPECT_EQ(r.progress.front().phase, "map");
  EXPECT_EQ(r.progress.front().done, 0);
  EXPECT_EQ(r.progress.back().phase, "final");
  EXPECT_EQ(r.progress.back().level, r.result.levels);
}

TEST_P(Summarize, TheSameAtTemperatureZero) {
  Device device(GetParam().path, GetParam().n_ctx);
  const std::string text = stories_text(GetParam().document_bytes);
  SummaryJob first(device.engine(), text, greedy());
  SummaryJob second(device.engine(), text, greedy());
  const Observed a = run(first), b = run(second);
  EXPECT_EQ(a.result.text, b.result.text);
  EXPECT_EQ(a.calls.size(), b.calls.size());
  EXPECT_FALSE(a.result.text.empty());
}

TEST_P(Summarize, CancellingStopsBetweenCallsAndWithinOne) {
  Device device(GetParam().path, GetParam().n_ctx);
  const std::string text = stories_text(GetParam().document_bytes);
  {
    SummaryJob job(device.engine(), text, greedy());
    const Observed r = run(job, [](const Progress& p) { return !(p.phase == "map" && p.done == 2); });
    EXPECT_EQ(r.result.finish, generate::FinishReason::Cancelled);
    EXPECT_EQ(r.calls.size(), 2u);  // no call started after the cancel
    EXPECT_TRUE(r.streamed.empty());
  }
  {
    // Inside the first call: keep_going turns false while the model works.
    SummaryJob job(device.engine(), text, greedy());
    int polls = 0;
    const Observed r = run(job, {}, [&] { return ++polls < 3; });
    EXPECT_EQ(r.result.finish, generate::FinishReason::Cancelled);
    EXPECT_EQ(r.calls.size(), 1u);
    EXPECT_LT(r.result.completion_tokens, GetParam().n_ctx);
  }
  {
    // From another thread, as the C API and a server's disconnect do.
    SummaryJob job(device.engine(), text, greedy());
    const Observed r = run(job, [&](const Progress& p) {
      if (p.phase == "map" && p.done == 1) job.cancel();
      return true;
    });
    EXPECT_EQ(r.result.finish, generate::FinishReason::Cancelled);
    EXPECT_EQ(r.calls.size(), 1u);
  }
}

TEST_P(Summarize, AShortDocumentIsOneCall) {
  Device device(GetParam().path, GetParam().n_ctx);
  SummaryJob job(device.engine(), "Tom had a red ball. He played with it in the park. Then it rained.", greedy());
  ASSERT_TRUE(job.plan().single);
  const Observed r = run(job);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].phase, "single");
  EXPECT_EQ(r.result.levels, 0);
  EXPECT_EQ(r.result.chunks, 1);
  EXPECT_LE(r.calls[0].prompt_tokens + r.calls[0].max_tokens, job.plan().n_ctx);
}

INSTANTIATE_TEST_SUITE_P(Models, Summarize,
                         ::testing::Values(ModelCase{kStories, 512, 6000}, ModelCase{kQwen2, 256, 3000}),
                         [](const auto& info) { return info.index == 0 ? std::string("stories260K") : std::string("qwen2_random"); });

TEST(SummarizeOptions, BadOptionsAndInputAreInvalid) {
  Device device(kStories, 512);
  auto code = [&](SummaryOptions o, std::string text = "Some text.") {
    try {
      SummaryJob job(device.engine(), text, o);
    } catch (const AppError& e) {
      return e.code;
    }
    return std::string();
  };
  SummaryOptions o = greedy();
  o.length = "tiny";
  EXPECT_EQ(code(o), "invalid_value");
  o = greedy();
  o.lang = "fr";
  EXPECT_EQ(code(o), "invalid_value");
  EXPECT_EQ(code(greedy(), "  \n "), "bad_document");
  o = greedy();
  o.sampling.max_tokens = 0;
  EXPECT_EQ(code(o), "invalid_value");
  // A context too small for the prompts themselves.
  Device tiny(kStories, 128);
  try {
    SummaryJob job(tiny.engine(), stories_text(4000), greedy());
    ADD_FAILURE() << "expected context_length_exceeded";
  } catch (const AppError& e) {
    EXPECT_EQ(e.code, "context_length_exceeded");
  }
}

TEST(SummarizeOptions, LanguageFollowsTheDocumentUnlessGiven) {
  Device device(kStories, 512);
  EXPECT_EQ(SummaryJob(device.engine(), "这是一篇中文文档。它讲了一个故事。", greedy()).language(), "zh");
  EXPECT_EQ(SummaryJob(device.engine(), "An English document.", greedy()).language(), "en");
  SummaryOptions o = greedy();
  o.lang = "zh";
  EXPECT_EQ(SummaryJob(device.engine(), "An English document.", o).language(), "zh");
}

// ---- routing ----

class SummarizeRouted : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = test::temp_path("cloud-requests.log");
    std::remove(log_.c_str());
    cloud_ = std::make_unique<test::ServerProcess>(
        std::vector<std::string>{"-m", kStories, "-t", "1", "-c", "4096", "--log-requests", log_});
  }
  router::RouterConfig config(bool with_cloud = true) const {
    router::RouterConfig c;
    c.ledger_path = ":memory:";
    if (with_cloud) {
      router::CloudEndpoint cloud;
      cloud.name = "cloud";
      cloud.base_url = cloud_->base_url();
      cloud.model = "stories-cloud";
      cloud.timeout_s = 5;
      c.clouds.push_back(cloud);
    }
    return c;
  }
  int cloud_requests() const {
    std::ifstream in(log_);
    int lines = 0;
    for (std::string line; std::getline(in, line);) ++lines;
    return lines;
  }
  std::string log_;
  std::unique_ptr<test::ServerProcess> cloud_;
};

TEST_F(SummarizeRouted, ALongPublicDocumentGoesToTheCloudInOneRequest) {
  Device device(kStories, 512);
  router::Router router(config(), device.session->n_ctx());
  SummaryJob job(device.engine(&router), public_text(6000), greedy());
  const Observed r = run(job);
  EXPECT_EQ(test::without_scores(r.result.note.header()), "cloud; reason=capability:context;privacy:none_found");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].phase, "cloud");
  EXPECT_FALSE(r.result.text.empty());
  EXPECT_EQ(cloud_requests(), 1);
  EXPECT_EQ(router.ledger().summary().cloud, 1);
}

TEST_F(SummarizeRouted, OnePrivateChunkKeepsTheWholeJobOnTheDevice) {
  Device device(kStories, 512);
  router::Router router(config(), device.session->n_ctx());
  std::string text = public_text(6000);
  // An e-mail address in the middle of the document: only the chunk holding it is private.
  const size_t middle = text.find("\n", text.size() / 2);
  text.insert(middle, "\nIf you find the ball, write to me at liwei1987@qq.com please.\n");
  SummaryJob job(device.engine(&router), text, greedy());
  ASSERT_GE(job.plan().chunks.size(), 3u);
  const Observed r = run(job);
  EXPECT_EQ(r.result.note.route, "device");
  EXPECT_EQ(test::without_scores(r.result.note.reason).rfind("privacy:email;chunk:", 0), 0u) << r.result.note.reason;
  EXPECT_NE(r.result.note.reason.find("/" + std::to_string(job.plan().chunks.size())), std::string::npos);
  EXPECT_EQ(cloud_requests(), 0);  // not one chunk left the device
  const router::LedgerSummary ledger = router.ledger().summary();
  EXPECT_EQ(ledger.cloud, 0);
  EXPECT_EQ(ledger.device, r.result.calls);
  EXPECT_GT(r.result.calls, 3);
}

TEST_F(SummarizeRouted, PrivateDataTagsAndDeviceOnlyStayOnTheDeviceInPieces) {
  Device device(kStories, 512);
  router::Router router(config(), device.session->n_ctx());
  Routing tagged;
  tagged.data_tags = {"messages"};
  SummaryJob job(device.engine(&router), public_text(6000), greedy(), tagged);
  EXPECT_EQ(test::without_scores(job.start().reason), "privacy:tag_messages;chunk:1/" + std::to_string(job.plan().chunks.size()));
  Routing device_only;
  device_only.preference = router::Preference::DeviceOnly;
  SummaryJob local(device.engine(&router), public_text(6000), greedy(), device_only);
  EXPECT_EQ(test::without_scores(local.start().header()), "device; reason=preference:device-only;map_reduce;privacy:none_found");
  EXPECT_EQ(cloud_requests(), 0);
}

TEST_F(SummarizeRouted, NoCloudMeansTheDeviceInPieces) {
  Device device(kStories, 512);
  router::Router router(config(false), device.session->n_ctx());
  SummaryJob job(device.engine(&router), public_text(6000), greedy());
  EXPECT_EQ(test::without_scores(job.start().header()), "device; reason=network:no_cloud;map_reduce;privacy:none_found");
}

TEST_F(SummarizeRouted, PrivateWithoutADeviceIsRefused) {
  Device device(kStories, 512);  // only for the tasks
  router::Router router(config(), 0);
  Engine engine{&router, nullptr, nullptr, "", &device.tasks};
  SummaryJob job(engine, "Please summarize: my e-mail is liwei1987@qq.com and I live far away.", greedy());
  try {
    job.start();
    ADD_FAILURE() << "expected a refusal";
  } catch (const AppError& e) {
    EXPECT_EQ(e.code, "route_refused");
    EXPECT_EQ(e.note.route, "refused");
    EXPECT_EQ(test::without_scores(e.note.reason), "privacy:email;chunk:1/1;device:no_device_model");
  }
  EXPECT_EQ(router.ledger().summary().refused, 1);
  EXPECT_EQ(cloud_requests(), 0);
}

TEST_F(SummarizeRouted, ADeadCloudHandsTheJobToTheDevice) {
  Device device(kStories, 512);
  router::Router router(config(), device.session->n_ctx());
  SummaryJob job(device.engine(&router), public_text(6000), greedy());
  router::RouteInput warm;
  warm.text = "hello";
  ASSERT_EQ(router.route(warm).decision.route, router::Route::Device);  // the health probe is cached from here on
  cloud_->kill_now();  // the router still believes in the cloud; its call fails
  const Observed r = run(job);
  EXPECT_EQ(r.result.note.route, "device");
  EXPECT_TRUE(r.result.note.fallback);
  EXPECT_EQ(r.result.note.reason.rfind("fallback:cloud_", 0), 0u) << r.result.note.reason;
  EXPECT_EQ(r.calls.back().phase, "final");
  EXPECT_FALSE(r.result.text.empty());
}

}  // namespace
}  // namespace tandem::assistant
