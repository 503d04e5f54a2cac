// What `tandem summarize` and `tandem write` share: the model and routing flags, the
// engine they build (device model, chat format, router, tasks), Ctrl-C, the route on
// stderr and the text on stdout.
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "assistant/app.h"
#include "generate/session.h"

namespace tandem::cli {

struct AssistantFlags {
  std::string model, router_config, route, chat_template, lang = "auto";
  std::vector<std::string> tags;
  bool private_data = false;
  int n_ctx = 0, threads = 0;
  std::optional<float> temperature, top_p, min_p, repeat_penalty;
  std::optional<int> top_k, max_tokens;
  std::optional<uint64_t> seed;

  void add_to(CLI::App* cmd);
  assistant::SamplingOverrides sampling() const;
  assistant::Routing routing() const;
};

// The device model, its session and chat format, the router (--router) and the tasks.
class AssistantEngine {
 public:
  explicit AssistantEngine(const AssistantFlags& flags);
  ~AssistantEngine();
  const assistant::Engine& engine() const { return engine_; }

 private:
  std::shared_ptr<model::Model> model_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  std::optional<tokenizer::ChatFormat> format_;
  std::unique_ptr<generate::Session> session_;
  std::unique_ptr<router::Router> router_;
  assistant::Tasks tasks_;
  assistant::Engine engine_;
};

// Ctrl-C asks the running job to stop (a second one ends the process); true once asked.
void catch_interrupt();
bool interrupted();

// Events that print the route on stderr ("[route: device; reason=...]") and the text on
// stdout, and stop on Ctrl-C.
assistant::Events terminal_events();

// After a job: a newline after the text, the final route when it changed, and the exit
// code (130 when cancelled).
void finish_job(const assistant::Result& result);

// Runs a job's start() and run(), turning an AppError into a tandem::Error with the route.
template <class Job>
assistant::Result run_job(Job& job, const assistant::Events& events) {
  try {
    job.start();
    return job.run(events);
  } catch (const assistant::AppError& error) {
    if (!error.note.route.empty()) fail("[route: ", error.note.header(), "] ", error.what());
    throw;
  }
}

}  // namespace tandem::cli
