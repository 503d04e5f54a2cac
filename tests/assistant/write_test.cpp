// Writing tasks: each preset renders in both languages with the instructions, tone and
// input where its template puts them; translate writes in the other language; the
// task's sampling is the default and the caller's settings win; bad requests are
// invalid_value; the text is the same at temperature 0; and the request is routed like
// any chat request (difficulty to the cloud, private data on the device).
#include "assistant/write.h"

#include <gtest/gtest.h>

#include <fstream>

#include "generate/session.h"
#include "support/route_reason.h"
#include "support/server_process.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace tandem::assistant {
namespace {

const std::string kStories = test::shared_path("models/stories260K.gguf");

class Write : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = model::Model::load(kStories);
    tok_ = tokenizer::Tokenizer::from_gguf(model_->file()).release();
    format_ = new tokenizer::ChatFormat(tokenizer::ChatFormat::of(model_->file(), *tok_, ""));
  }
  static void TearDownTestSuite() {
    delete format_;
    delete tok_;
    model_.reset();
  }
  void SetUp() override {
    session_ = std::make_unique<generate::Session>(model_, *tok_, model::ContextOptions{.n_ctx = 512, .n_threads = 1});
  }
  Engine engine(router::Router* router = nullptr) { return Engine{router, session_.get(), format_, "stories", &tasks_}; }
  static WriteOptions options(const std::string& task, const std::string& instructions, const std::string& input = "") {
    WriteOptions o;
    o.task = task;
    o.instructions = instructions;
    o.input = input;
    o.sampling.temperature = 0;
    o.sampling.max_tokens = 12;
    return o;
  }
  static std::string code_of(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const AppError& e) {
      return e.code;
    }
    return "";
  }
  static Result run(WriteJob& job) {
    Events events;
    job.start();
    return job.run(events);
  }

  static inline std::shared_ptr<model::Model> model_;
  static inline tokenizer::Tokenizer* tok_ = nullptr;
  static inline tokenizer::ChatFormat* format_ = nullptr;
  std::unique_ptr<generate::Session> session_;
  Tasks tasks_ = Tasks::builtin();
};

TEST_F(Write, EveryTaskRendersInBothLanguages) {
  for (const std::string& task : tasks_.task_names()) {
    for (const std::string& lang : {"en", "zh"}) {
      SCOPED_TRACE(task + "/" + lang);
      WriteOptions o = options(task, "INSTRUCTIONS", "INPUT TEXT");
      o.tone = "TONE";
      o.lang = lang;
      WriteJob job(engine(), o);
      ASSERT_EQ(job.messages().size(), 2u);
      EXPECT_EQ(job.messages()[0].role, "system");
      const std::string& user = job.messages()[1].content;
      EXPECT_NE(user.find("INSTRUCTIONS"), std::string::npos) << user;
      EXPECT_NE(user.find("INPUT TEXT"), std::string::npos) << user;
      if (task != "translate") EXPECT_NE(user.find("TONE"), std::string::npos) << user;
      EXPECT_EQ(user.find('{'), std::string::npos) << "an unfilled placeholder: " << user;
      EXPECT_EQ(job.language(), lang);
    }
  }
}

TEST_F(Write, TheLanguageFollowsTheTextAndTranslateCrossesOver) {
  EXPECT_EQ(WriteJob(engine(), options("email", "请帮我请一天假")).language(), "zh");
  EXPECT_EQ(WriteJob(engine(), options("email", "ask for a day off")).language(), "en");
  const WriteJob to_english(engine(), options("translate", "", "今天天气很好，我们去公园吧。"));
  EXPECT_EQ(to_english.language(), "en");
  EXPECT_NE(to_english.messages()[1].content.find("into English"), std::string::npos);
  EXPECT_EQ(WriteJob(engine(), options("translate", "", "The weather is nice today.")).language(), "zh");
  WriteOptions o = options("translate", "", "The weather is nice today.");
  o.lang = "en";
  EXPECT_EQ(WriteJob(engine(), o).language(), "en");
}

TEST_F(Write, TheTasksSamplingUnlessTheCallerSetsIt) {
  WriteOptions o;
  o.task = "poem";
  o.instructions = "the sea";
  const WriteJob poem(engine(), o);
  EXPECT_FLOAT_EQ(poem.options().sampling.temperature, 1.0f);
  EXPECT_FLOAT_EQ(poem.options().sampling.top_p, 0.95f);
  EXPECT_EQ(poem.options().max_tokens, 384);
  o.sampling.temperature = 0.5f;
  o.sampling.max_tokens = 20;
  const WriteJob tuned(engine(), o);
  EXPECT_FLOAT_EQ(tuned.options().sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(tuned.options().sampling.top_p, 0.95f);
  EXPECT_EQ(tuned.options().max_tokens, 20);
  EXPECT_FLOAT_EQ(WriteJob(engine(), options("translate", "", "hello")).options().sampling.top_p, 0.9f);
}

TEST_F(Write, BadRequestsAreInvalid) {
  EXPECT_EQ(code_of([&] { WriteJob(engine(), options("sonnet", "x")); }), "invalid_value");
  EXPECT_EQ(code_of([&] { WriteJob(engine(), options("polish", "make it better")); }), "invalid_value");  // no input
  EXPECT_EQ(code_of([&] { WriteJob(engine(), options("email", "  ")); }), "invalid_value");
  WriteOptions o = options("email", "x");
  o.lang = "de";
  EXPECT_EQ(code_of([&] { WriteJob(engine(), o); }), "invalid_value");
  const Tasks patched = Tasks::with_patch(R"({"write": {"tasks": {"motto": {"input": "none", "en": {"prompt": "A motto.{instructions}"}}}}})", "p");
  Engine e = engine();
  e.tasks = &patched;
  EXPECT_EQ(code_of([&] { WriteJob(e, options("motto", "x", "some input")); }), "invalid_value");
}

TEST_F(Write, TheSameTextAtTemperatureZero) {
  WriteJob first(engine(), options("email", "ask for a day off on Friday"));
  WriteJob second(engine(), options("email", "ask for a day off on Friday"));
  const Result a = run(first), b = run(second);
  EXPECT_EQ(a.note.header(), "device; reason=no_router");
  EXPECT_EQ(a.completion_tokens, 12);
  EXPECT_FALSE(a.text.empty());
  EXPECT_EQ(a.text, b.text);
}

TEST_F(Write, ALongInputThatDoesNotFitIsAClearError) {
  std::string input;
  for (int i = 0; i < 400; ++i) input += "This sentence makes the draft longer. ";
  WriteJob job(engine(), options("polish", "", input));
  EXPECT_EQ(code_of([&] { job.start(); }), "context_length_exceeded");
}

TEST_F(Write, RoutedByDifficultyAndPrivacyLikeAnyRequest) {
  test::ServerProcess cloud({"-m", kStories, "-t", "1"});
  router::RouterConfig config;
  config.ledger_path = ":memory:";
  router::CloudEndpoint endpoint;
  endpoint.base_url = cloud.base_url();
  endpoint.model = "stories-cloud";
  config.clouds.push_back(endpoint);
  router::Router router(config, session_->n_ctx());
  // A booking is beyond the device model: the cloud.
  WriteJob booking(engine(&router), options("email", "book a table for two at 7pm and confirm the reservation"));
  const Result sent = run(booking);
  EXPECT_EQ(sent.note.route, "cloud");
  EXPECT_EQ(sent.note.reason.rfind("difficulty:", 0), 0u) << sent.note.reason;
  EXPECT_FALSE(sent.text.empty());
  // The same with a phone number in it: private, and a booking needs a cloud service, so
  // with redaction off it is refused, saying how to allow it; nothing is sent.
  WriteJob private_booking(engine(&router), options("email", "book a table for two at 7pm, my phone is 13912345678"));
  try {
    run(private_booking);
    ADD_FAILURE() << "a private booking was not refused";
  } catch (const std::exception& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("privacy:phone"), std::string::npos) << what;
    EXPECT_NE(what.find("needs_cloud"), std::string::npos) << what;
  }
  // A private note the device can write stays on the device.
  WriteJob private_one(engine(&router), options("email", "tell Anna my new phone number is 13912345678"));
  const Result kept = run(private_one);
  EXPECT_EQ(kept.note.route, "device");
  EXPECT_EQ(test::without_scores(kept.note.reason).rfind("privacy:phone", 0), 0u) << kept.note.reason;
  // A plain short note: the device.
  WriteJob simple(engine(&router), options("title", "a cat in the rain"));
  EXPECT_EQ(run(simple).note.route, "device");
}

}  // namespace
}  // namespace tandem::assistant
