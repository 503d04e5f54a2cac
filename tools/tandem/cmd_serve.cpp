// tandem serve: the OpenAI-compatible HTTP server (docs/api.md).
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <thread>

#include "commands.h"
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
  cmd->add_option("-m,--model", model, "GGUF file (default: $TANDEM_MODEL, then ../shared/models/stories260K.gguf)");
  cmd->add_option("--host", options.host, "address to listen on (default: loopback only)");
  cmd->add_option("--port", options.port, "port (0: any free port; the chosen one is printed)");
  cmd->add_option("--api-key", options.api_key, "require 'Authorization: Bearer KEY' on /v1/* and /metrics");
  cmd->add_option("--parallel", options.n_slots, "sequences generated at once (slots)")->check(CLI::Range(1, 64));
  cmd->add_option("--queue", options.queue_capacity, "requests waiting for a slot before 429")->check(CLI::Range(0, 4096));
  cmd->add_option("-c,--ctx-size", options.n_ctx, "context size per slot (0: the model's, capped at 4096)");
  cmd->add_option("-t,--threads", options.n_threads, "threads per forward pass (0: all cores)");
  cmd->add_option("--chat-template", options.chat_template, "force a chat template (chatml, llama3, ...)");
  cmd->add_option("--mem-budget", mem_budget, "memory budget, e.g. 2G (the weights must fit; more is reserved)");
  cmd->add_option("--max-body-mb", max_body_mb, "largest request body in MiB (larger: 413)");
  cmd->callback([] {
    options.model_path = resolve_model_path(model);
    if (!mem_budget.empty()) options.memory_budget_bytes = server::parse_byte_size(mem_budget);
    options.max_body_bytes = size_t(max_body_mb * (1 << 20));
    options.chat_page = kChatPage;

    // Signals go to one waiting thread, which stops the server cleanly.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a client that disconnects must not kill the server

    server::HttpServer server(options);
    const int port = server.bind();
    std::thread listener([&] { server.listen(); });
    std::thread stopper([&] {
      int received = 0;
      sigwait(&signals, &received);
      server.stop();
    });
    stopper.detach();
    std::fprintf(stdout, "tandem serve: listening on http://%s:%d (loading %s)\n", options.host.c_str(), port,
                 options.model_path.c_str());
    std::fflush(stdout);
    try {
      server.load();
    } catch (...) {
      server.stop();
      listener.join();
      throw;
    }
    std::fprintf(stdout, "tandem serve: ready\n");
    std::fflush(stdout);
    listener.join();
  });
}

}  // namespace tandem::cli
