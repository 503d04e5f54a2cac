#include "routed_chat.h"

#ifndef TANDEM_NO_SERVER
#include <httplib.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.h"
#include "router/config.h"
#include "server/http_server.h"

namespace tandem::cli {
namespace {

using json = nlohmann::json;

// Streams one chat completion to stdout; returns the answer and the route header.
std::pair<std::string, std::string> stream_turn(int port, const json& body) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(600, 0);
  httplib::Request request;
  request.method = "POST";
  request.path = "/v1/chat/completions";
  request.body = body.dump();
  request.set_header("Content-Type", "application/json");
  std::string answer, route, pending, error;
  int status = 0;
  request.response_handler = [&](const httplib::Response& response) {
    status = response.status;
    route = response.get_header_value("X-Tandem-Route");
    return true;
  };
  request.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    if (status != 200) {
      error.append(data, size);
      return true;
    }
    pending.append(data, size);
    for (size_t end; (end = pending.find("\n\n")) != std::string::npos;) {
      const std::string event = pending.substr(0, end);
      pending.erase(0, end + 2);
      if (event.rfind("data: ", 0) != 0 || event == "data: [DONE]") continue;
      const json chunk = json::parse(event.substr(6), nullptr, false);
      if (!chunk.is_object()) continue;
      if (chunk.contains("tandem") && chunk["tandem"].value("fallback", false)) {
        route = "device; reason=" + chunk["tandem"].value("reason", std::string());
      }
      if (!chunk.contains("choices") || chunk["choices"].empty()) continue;
      const json& delta = chunk["choices"][0].value("delta", json::object());
      if (!delta.contains("content") || !delta["content"].is_string()) continue;
      const std::string piece = delta["content"];
      answer += piece;
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  };
  auto result = client.send(request);
  if (!result) fail("the in-process router did not answer");
  if (status != 200) {
    const json parsed = json::parse(error, nullptr, false);
    const std::string message = parsed.is_object() && parsed.contains("error") ? parsed["error"].value("message", error) : error;
    fail("[", route, "] ", message);
  }
  return {answer, route};
}

}  // namespace

void run_routed_chat(const RoutedChatOptions& options) {
  server::ServerOptions server_options;
  server_options.routing = router::load_router_config(options.router_config);
  if (!options.privacy.empty()) {
    server_options.routing->policy.strictness = router::parse_strictness_setting(options.privacy, "--privacy");
  }
  server_options.model_path = options.model;
  server_options.port = 0;
  server_options.n_ctx = options.n_ctx;
  server_options.n_threads = options.n_threads;
  server::HttpServer server(server_options);
  const int port = server.bind();
  std::thread listener([&] { server.listen(); });
  struct StopOnExit {
    server::HttpServer& server;
    std::thread& listener;
    ~StopOnExit() {
      server.stop();
      listener.join();
    }
  } stop_on_exit{server, listener};
  server.load();

  json messages = json::array();
  if (!options.system_prompt.empty()) messages.push_back({{"role", "system"}, {"content", options.system_prompt}});
  const bool interactive = isatty(STDIN_FILENO);
  std::string line;
  for (;;) {
    if (interactive) std::fputs("> ", stdout), std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    messages.push_back({{"role", "user"}, {"content", line}});
    json body = {{"messages", messages}, {"stream", true}, {"temperature", options.temperature}};
    if (options.max_tokens >= 0) body["max_tokens"] = options.max_tokens;
    try {
      const auto [answer, route] = stream_turn(port, body);
      std::fputs("\n", stdout);
      std::fprintf(stderr, "[route: %s]\n", route.c_str());
      messages.push_back({{"role", "assistant"}, {"content", answer}});
    } catch (const Error& error) {
      // One refused or failed turn does not end the chat; it is not kept in the history.
      std::fprintf(stderr, "error: %s\n", error.what());
      messages.erase(messages.size() - 1);
    }
  }
}

}  // namespace tandem::cli

#else

#include "core/error.h"

namespace tandem::cli {
void run_routed_chat(const RoutedChatOptions&) { fail("this build has no server library, so no --router"); }
}  // namespace tandem::cli

#endif
