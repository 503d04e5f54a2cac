// tandem serve: the OpenAI-compatible HTTP server (docs/api.md).
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "commands.h"
#include "memory/plan.h"
#include "router/config.h"
#include "generate/speculative.h"
#include "server/http_server.h"

namespace tandem::cli {
namespace {

const char kChatPage[] =
#include "chat_page.inc"
    ;

}  // namespace

void add_serve(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Serve a model over an OpenAI-compatible HTTP API (and a chat page at /)");
  static server::ServerOptions options;
  static std::string model, mem_budget;
  static double max_body_mb = 2;
  cmd->add_option("-m,--model", model, "GGUF file (default: $TANDEM_MODEL, then the shared stories260K.gguf; tandem --help says where)");
  cmd->add_option("--host", options.host, "address to listen on (default: loopback only)");
  cmd->add_option("--port", options.port, "port (0: any free port; the chosen one is printed)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--api-key", options.api_key, "require 'Authorization: Bearer KEY' on /v1/* and /metrics");
  cmd->add_option("--parallel", options.n_slots, "sequences generated at once (slots)")->check(CLI::Range(1, 64));
  cmd->add_option("--queue", options.queue_capacity, "requests waiting for a slot before 429")->check(CLI::Range(0, 4096));
  cmd->add_option("-c,--ctx-size", options.n_ctx, "context size per slot (0: the model's, capped at 4096)");
  cmd->add_option("-t,--threads", options.n_threads, "threads per forward pass (0: all cores)");
  cmd->add_option("--chat-template", options.chat_template, "force a chat template (chatml, llama3, ...)");
  cmd->add_option("--draft", options.draft_model_path,
                  "speculative decoding with this draft model (same vocabulary); requests may opt out");
  cmd->add_option("--draft-k", options.draft_k, "tokens drafted per verification pass")
      ->check(CLI::Range(1, generate::kMaxDraftTokens));
  cmd->add_option("--mem-budget", mem_budget, "memory budget, e.g. 2G: the plan of weights plus every slot's KV cache must fit (checked before loading)");
  cmd->add_option("--max-body-mb", max_body_mb, "largest request body in MiB (larger: 413)");
  cmd->add_option("--log-requests", options.request_log, "append every completion request body to this file (one per line)");
  static std::string router_config, cloud_url, cloud_model, cloud_key_env, route, ledger, privacy;
  static double cloud_timeout = 30, cloud_price_fen = 1.2, daily_budget_fen = 0;
  static bool redact = false;
  cmd->add_option("--router", router_config, "route between device and cloud with this config (docs/routing.md)");
  cmd->add_option("--cloud-url", cloud_url, "one OpenAI-compatible cloud endpoint, e.g. http://host:8000/v1");
  cmd->add_option("--cloud-model", cloud_model, "the model name to ask the cloud for");
  cmd->add_option("--cloud-key-env", cloud_key_env, "environment variable holding the cloud's API key");
  cmd->add_option("--cloud-timeout", cloud_timeout, "seconds before a silent cloud counts as failed");
  cmd->add_option("--cloud-price-fen", cloud_price_fen, "price of one cloud call in fen");
  cmd->add_option("--route", route, "default route preference: device-only, auto or cloud-preferred");
  cmd->add_option("--daily-budget-fen", daily_budget_fen, "cloud spend per day; past it the device answers");
  cmd->add_flag("--redact", redact, "private requests the device cannot serve go to the cloud redacted");
  cmd->add_option("--privacy", privacy, "privacy check strictness: low, balanced (default) or strict");
  cmd->add_option("--ledger", ledger, "SQLite ledger of routed requests (default: ~/.local/share/tandem/ledger.sqlite)");
  cmd->callback([] {
    if (!router_config.empty() && !cloud_url.empty()) fail("give either --router CONFIG or --cloud-url, not both");
    options.n_ctx = check_context_size(options.n_ctx);
    options.n_threads = check_threads(options.n_threads);
    if (!router_config.empty()) {
      options.routing = router::load_router_config(router_config);
    } else if (!cloud_url.empty()) {
      if (cloud_model.empty()) fail("--cloud-url needs --cloud-model");
      router::RouterConfig config;
      router::CloudEndpoint cloud;
      cloud.base_url = cloud_url;
      cloud.model = cloud_model;
      cloud.api_key_env = cloud_key_env;
      cloud.timeout_s = cloud_timeout;
      cloud.price.per_call_fen = cloud_price_fen;
      config.clouds.push_back(cloud);
      config.daily_budget_fen = daily_budget_fen;
      config.policy.redact_to_cloud = redact;
      options.routing = config;
    }
    if (options.routing) {
      if (!route.empty()) {
        const auto preference = router::parse_preference(route);
        if (!preference) fail("--route '", route, "' is not device-only, auto or cloud-preferred");
        options.routing->preference = *preference;
      }
      if (!ledger.empty()) options.routing->ledger_path = ledger;
      if (redact) options.routing->policy.redact_to_cloud = true;
      if (!privacy.empty()) options.routing->policy.strictness = router::parse_strictness_setting(privacy, "--privacy");
      if (daily_budget_fen > 0) options.routing->daily_budget_fen = daily_budget_fen;
    } else if (!route.empty() || redact || !ledger.empty() || !privacy.empty()) {
      fail("--route, --redact, --privacy and --ledger need --router or --cloud-url");
    }
    // Behind a router the device model may be the config's, or absent.
    options.model_path = options.routing && model.empty() && (options.routing->device || router_config.size())
                             ? ""
                             : resolve_model_path(model);
    if (!mem_budget.empty()) options.memory_budget_bytes = memory::parse_size(mem_budget);
    options.max_body_bytes = size_t(max_body_mb * (1 << 20));
    options.chat_page = kChatPage;

    // Signals go to one waiting thread, which stops the server cleanly.
    static sigset_t signals;  // static: the stopper thread outlives this function
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a client that disconnects must not kill the server

    server::HttpServer server(options);
    const int port = server.bind();
    std::thread listener([&] { server.listen(); });
    // The first SIGINT/SIGTERM stops the server: generations in flight end as cancelled
    // (their clients get what was generated), and serve exits once they have. A second
    // one does not wait for that.
    static std::atomic<bool> stopping{false}, stop_returned{false};
    std::thread stopper([&] {
      int received = 0;
      sigwait(&signals, &received);
      stopping = true;
      std::fprintf(stderr, "tandem serve: SIG%s received, stopping (again to exit at once)\n", sigabbrev_np(received));
      server.stop();
      stop_returned = true;
      sigwait(&signals, &received);
      std::fprintf(stderr, "tandem serve: SIG%s received again, exiting now\n", sigabbrev_np(received));
      std::_Exit(128 + received);
    });
    stopper.detach();
    std::fprintf(stdout, "tandem serve: listening on http://%s:%d (loading %s)\n", options.host.c_str(), port,
                 options.model_path.empty() ? "the router's device tier" : options.model_path.c_str());
    std::fflush(stdout);
    try {
      server.load();
    } catch (...) {
      server.stop();
      listener.join();
      throw;
    }
    if (!stopping) {
      std::fprintf(stdout, "tandem serve: ready\n");
      std::fflush(stdout);
    }
    listener.join();
    while (stopping && !stop_returned) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // server outlives stop()
    std::fprintf(stderr, "tandem serve: stopped\n");
  });
}

}  // namespace tandem::cli
