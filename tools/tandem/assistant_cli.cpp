#include "assistant_cli.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "router/config.h"
#include "router/router.h"
#include "tokenizer/tokenizer.h"

namespace tandem::cli {
namespace {

std::atomic<bool> g_interrupted{false};

void on_interrupt(int) {
  g_interrupted = true;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

}  // namespace

void AssistantFlags::add_to(CLI::App* cmd) {
  cmd->add_option("-m,--model", model, "GGUF file (default: the --router config's device model, $TANDEM_MODEL, "
                                       "then ../shared/models/stories260K.gguf)");
  cmd->add_option("-c,--ctx-size", n_ctx, "context size in tokens (0: the model's, capped at 4096)");
  cmd->add_option("-t,--threads", threads, "threads (0: all cores)");
  cmd->add_option("--chat-template", chat_template, "force a chat template (chatml, llama3, ...)");
  cmd->add_option("--lang", lang, "output language: auto (follow the text), zh or en")->check(CLI::IsMember({"auto", "zh", "en"}));
  cmd->add_option("--router", router_config, "route between the device and a cloud (docs/routing.md)");
  cmd->add_option("--route", route, "with --router: device, auto or cloud (the request's preference)")
      ->check(CLI::IsMember({"device", "device-only", "auto", "cloud", "cloud-preferred"}));
  cmd->add_option("--tag", tags, "app data tag for the router (messages, photos, health, ...; repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--private", private_data, "the input is private: it never leaves the device");
  cmd->add_option("--temp", temperature, "temperature (default: the task's, docs/assistant.md)");
  cmd->add_option("--top-p", top_p, "top-p (default: the task's)");
  cmd->add_option("--top-k", top_k, "top-k (default: the task's)");
  cmd->add_option("--min-p", min_p, "min-p (default: the task's)");
  cmd->add_option("--repeat-penalty", repeat_penalty, "repetition penalty (default: the task's)");
  cmd->add_option("-s,--seed", seed, "random seed (same seed, same text)");
  cmd->add_option("-n,--max-tokens", max_tokens, "cap on the answer's tokens (default: the task's)")->check(CLI::PositiveNumber);
}

assistant::SamplingOverrides AssistantFlags::sampling() const {
  assistant::SamplingOverrides o;
  o.temperature = temperature;
  o.top_p = top_p;
  o.top_k = top_k;
  o.min_p = min_p;
  o.repeat_penalty = repeat_penalty;
  o.seed = seed;
  o.max_tokens = max_tokens;
  return o;
}

assistant::Routing AssistantFlags::routing() const {
  if (!route.empty() && router_config.empty()) fail("--route needs --router CONFIG (without a router nothing leaves the device)");
  assistant::Routing routing;
  if (!route.empty()) routing.preference = router::parse_preference(route);
  routing.data_tags = tags;
  if (private_data) routing.data_tags.push_back("private");
  return routing;
}

AssistantEngine::AssistantEngine(const AssistantFlags& flags) : tasks_(assistant::Tasks::load()) {
  std::optional<router::RouterConfig> config;
  if (!flags.router_config.empty()) config = router::load_router_config(flags.router_config);
  std::string path = flags.model;
  model::ContextOptions context{.n_ctx = flags.n_ctx, .n_threads = flags.threads};
  if (path.empty() && config && config->device) {
    path = router::resolve_device_model(*config->device);
    if (context.n_ctx == 0) context.n_ctx = config->device->n_ctx;
    if (context.n_threads == 0) context.n_threads = config->device->n_threads;
  }
  if (path.empty() && !config) path = resolve_model_path("");
  if (!path.empty()) {
    model_ = model::Model::load(path);
    tokenizer_ = tokenizer::Tokenizer::from_gguf(model_->file());
    format_ = tokenizer::ChatFormat::of(model_->file(), *tokenizer_, flags.chat_template);
    session_ = std::make_unique<generate::Session>(model_, *tokenizer_, context);
  } else {
    std::fprintf(stderr, "tandem: no device model installed: the job goes to the cloud or is refused\n");
  }
  if (config) router_ = std::make_unique<router::Router>(std::move(*config), session_ ? session_->n_ctx() : 0);
  engine_.router = router_.get();
  engine_.device = session_.get();
  engine_.format = format_ ? &*format_ : nullptr;
  engine_.device_model = std::filesystem::path(path).filename().string();
  engine_.tasks = &tasks_;
}

AssistantEngine::~AssistantEngine() = default;

void catch_interrupt() {
  g_interrupted = false;
  std::signal(SIGINT, on_interrupt);
}

bool interrupted() { return g_interrupted; }

assistant::Events terminal_events() {
  assistant::Events events;
  events.on_route = [](const router::RouteNote& note) {
    std::fprintf(stderr, "[route: %s]\n", note.header().c_str());
  };
  events.on_text = [](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return !interrupted();
  };
  events.keep_going = [] { return !interrupted(); };
  return events;
}

void finish_job(const assistant::Result& result) {
  if (!result.text.empty()) std::fputs("\n", stdout);
  std::fflush(stdout);
  if (result.finish == generate::FinishReason::Cancelled) {
    std::fputs("tandem: cancelled\n", stderr);
    exit_code() = 130;
  }
}

}  // namespace tandem::cli
