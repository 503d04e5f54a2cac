// The router handle behind the C API's routed calls (routed_c.cpp: chat, router_c's
// loading and cancel; assistant_c.cpp: summaries and writing). Only in builds with the
// router.
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "assistant/tasks.h"
#include "capi/capi.h"
#include "router/router.h"

struct tandem_router {
  std::shared_ptr<tandem::model::Model> model;  // null: no device tier
  std::shared_ptr<tandem::tokenizer::Tokenizer> tokenizer;
  tandem::tokenizer::ChatFormat chat;
  std::string model_name;
  std::unique_ptr<tandem::generate::Session> session;
  std::unique_ptr<tandem::router::Router> router;
  tandem::assistant::Tasks tasks;  // the apps' presets, read when the router is loaded
  std::string reason;  // of the last call, for the results' reason
  // tandem_router_cancel: stops the call in progress (set while one runs).
  std::mutex cancel_mutex;
  std::function<void()> cancel_current;
};

namespace tandem::capi {

inline tandem_route to_c_route(const std::string& route) {
  return route == "cloud" ? TANDEM_ROUTE_CLOUD : route == "refused" ? TANDEM_ROUTE_REFUSED : TANDEM_ROUTE_DEVICE;
}

// Makes a call cancellable through tandem_router_cancel while it is in scope.
class RunningCall {
 public:
  RunningCall(tandem_router* router, std::function<void()> cancel) : router_(router) {
    std::lock_guard lock(router_->cancel_mutex);
    router_->cancel_current = std::move(cancel);
  }
  ~RunningCall() {
    std::lock_guard lock(router_->cancel_mutex);
    router_->cancel_current = nullptr;
  }
  RunningCall(const RunningCall&) = delete;
  RunningCall& operator=(const RunningCall&) = delete;

 private:
  tandem_router* router_;
};

}  // namespace tandem::capi
