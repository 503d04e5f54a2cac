// Writing tasks (email, reply, polish, shorten, expand, translate, title, poem, post, and
// whatever the tasks file adds): the task's template in the output language, its default
// sampling, and one routed request, decided by the router like any chat request
// (privacy, network, difficulty).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "assistant/app.h"

namespace tandem::assistant {

struct WriteOptions {
  std::string task;
  std::string instructions;   // what to write (may be empty when there is input)
  std::string input;          // the text the task works on ("" : none)
  std::string tone;           // free text ("" : the model's choice)
  std::string lang = "auto";  // output language: "auto", "zh", "en"
  SamplingOverrides sampling;
};

class WriteJob {
 public:
  // Checks the options (AppError invalid_value) and renders the request.
  WriteJob(const Engine& engine, WriteOptions options, Routing routing = {});
  ~WriteJob();

  // Routes the request. AppError route_refused / cloud_failed / context_length_exceeded.
  const router::RouteNote& start();
  Result run(const Events& events);  // streams the text
  void cancel();                     // from any thread

  const std::string& language() const { return language_; }
  const std::vector<tokenizer::ChatMessage>& messages() const { return messages_; }
  const generate::GenerateOptions& options() const { return options_; }

 private:
  Engine engine_;
  Routing routing_;
  std::string language_;
  std::string user_text_;  // what the user wrote (instructions, tone, input): what the router judges
  std::vector<tokenizer::ChatMessage> messages_;
  generate::GenerateOptions options_;
  std::unique_ptr<router::RoutedGeneration> generation_;
  router::RouteNote note_;
  std::atomic<bool> cancelled_{false};
  Result result_;
};

}  // namespace tandem::assistant
