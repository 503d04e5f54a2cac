// Routed chat in the C API: a router::Router with a device session, and each call a
// router::RoutedGeneration whose pieces go to the caller's callbacks.
#include "capi/capi.h"

#ifndef TANDEM_NO_ROUTER
#include <filesystem>

#include "capi/router_c.h"

#include "router/config.h"
#include "router/openai_body.h"
#include "router/routed_generation.h"
#include "tokenizer/tokenizer.h"

namespace {

using tandem::capi::failure;
using tandem::capi::guarded;

tandem_router* open_router(tandem::router::RouterConfig config, tandem_model* device) {
  auto handle = std::make_unique<tandem_router>();
  tandem::model::ContextOptions context;
  if (device) {
    handle->model = device->model;
    handle->tokenizer = device->tokenizer;
    handle->chat = device->chat;
    handle->model_name = device->name;
    context = device->context;
  } else if (config.device) {
    // The config's device tier, when the user installed its model.
    const std::string path = tandem::router::resolve_device_model(*config.device);
    if (!path.empty()) {
      handle->model = tandem::model::Model::load(path);
      handle->tokenizer = tandem::tokenizer::Tokenizer::from_gguf(handle->model->file());
      handle->chat = tandem::tokenizer::ChatFormat::of(handle->model->file(), *handle->tokenizer, "");
      handle->model_name = std::filesystem::path(path).filename().string();
      context = {.n_ctx = config.device->n_ctx, .n_threads = config.device->n_threads};
    }
  }
  if (handle->model) handle->session = std::make_unique<tandem::generate::Session>(handle->model, *handle->tokenizer, context);
  handle->tasks = tandem::assistant::Tasks::load();
  const int device_n_ctx = handle->session ? handle->session->n_ctx() : 0;
  handle->router = std::make_unique<tandem::router::Router>(std::move(config), device_n_ctx);
  return handle.release();
}

template <class Load>
tandem_router* load_router(const char* what, const char* argument, tandem_model* device, Load&& load) {
  if (!argument) return failure(TANDEM_ERROR_INVALID_ARGUMENT, std::string(what) + ": the config is NULL"), nullptr;
  tandem_router* router = nullptr;
  const tandem_status status = guarded([&] {
    router = open_router(load(argument), device);
    return TANDEM_OK;
  });
  return status == TANDEM_OK ? router : nullptr;
}

}  // namespace

extern "C" {

tandem_router* tandem_router_load(const char* config_path, tandem_model* device) {
  return load_router("tandem_router_load", config_path, device,
                     [](const char* path) { return tandem::router::load_router_config(path); });
}

tandem_router* tandem_router_load_json(const char* config_json, tandem_model* device) {
  return load_router("tandem_router_load_json", config_json, device, [](const char* json) {
    return tandem::router::parse_router_config(json, "the router config");
  });
}

void tandem_router_free(tandem_router* router) { delete router; }

tandem_status tandem_router_cancel(tandem_router* router) {
  if (!router) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_router_cancel: router is NULL");
  std::lock_guard lock(router->cancel_mutex);
  if (router->cancel_current) router->cancel_current();
  return TANDEM_OK;
}

tandem_status tandem_routed_chat(tandem_router* router, const tandem_chat_message* messages, size_t n_messages,
                                 const tandem_generate_options* options, const tandem_route_options* routing,
                                 tandem_route_callback on_route, tandem_text_callback on_text, void* user_data,
                                 tandem_routed_result* result) {
  if (!router) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_routed_chat: router is NULL");
  std::vector<tandem::tokenizer::ChatMessage> chat;
  if (tandem_status s = tandem::capi::to_messages(messages, n_messages, chat); s != TANDEM_OK) return s;
  tandem::generate::GenerateOptions generate_options;
  if (tandem_status s = tandem::capi::to_generate_options(options, generate_options); s != TANDEM_OK) return s;
  if (routing && !tandem::capi::reserved_zero(routing->reserved, sizeof routing->reserved)) {
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_route_options.reserved must be zero");
  }
  if (routing && routing->n_data_tags > 0 && !routing->data_tags) {
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, "data_tags is NULL but n_data_tags > 0");
  }

  return guarded([&] {
    std::optional<tandem::router::ojson> schema;
    if (options && options->json_schema) schema = tandem::router::ojson::parse(options->json_schema);
    tandem::router::RoutedRequest request = tandem::router::chat_request(
        chat, generate_options, schema ? &*schema : nullptr, router->session.get(), &router->chat);
    if (routing && routing->preference) {
      request.preference = tandem::router::parse_preference(routing->preference);
      if (!request.preference) {
        return failure(TANDEM_ERROR_INVALID_ARGUMENT, std::string("route preference '") + routing->preference +
                                                          "' is not device-only, auto or cloud-preferred");
      }
    }
    for (size_t i = 0; routing && i < routing->n_data_tags; ++i) {
      if (!routing->data_tags[i]) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "data_tags[" + std::to_string(i) + "] is NULL");
      request.data_tags.emplace_back(routing->data_tags[i]);
    }

    tandem::router::RoutedGeneration generation(router->router.get(), {router->session.get(), router->model_name},
                                                std::move(request));
    const tandem::capi::RunningCall running(router, [&generation] { generation.cancel(); });
    auto report = [&](const tandem::router::RouteNote& note) {
      router->reason = note.reason;
      if (result) {
        result->route = tandem::capi::to_c_route(note.route);
        result->fallback = note.fallback;
        result->reason = router->reason.c_str();
      }
      if (on_route) on_route(tandem::capi::to_c_route(note.route), router->reason.c_str(), note.fallback, user_data);
    };
    try {
      report(generation.start());
    } catch (const tandem::router::CloudFailed& failed) {
      return failure(TANDEM_ERROR_CLOUD, failed.what());
    }
    if (result) result->finish = TANDEM_FINISH_STOP, result->n_prompt_tokens = 0, result->n_generated_tokens = 0;
    if (generation.refused()) return failure(TANDEM_ERROR_ROUTE_REFUSED, generation.refusal_message());
    if (generation.device_cannot_serve()) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "the device cannot serve this request");

    const tandem::capi::PieceSink sink(options, on_text, user_data);
    tandem::router::RoutedCallbacks callbacks;
    callbacks.on_piece = [&](const tandem::router::RoutedPiece& piece) {
      return sink(tandem::generate::Piece{piece.text, piece.logprob});
    };
    callbacks.on_route = report;
    const tandem::router::RoutedOutcome outcome = generation.run(callbacks);
    if (result) {
      result->finish = tandem::capi::to_c(outcome.finish);
      result->n_prompt_tokens = int32_t(outcome.tokens_in);
      result->n_generated_tokens = int32_t(outcome.tokens_out);
    }
    if (!outcome.error.empty()) return failure(outcome.device ? TANDEM_ERROR_INTERNAL : TANDEM_ERROR_CLOUD, outcome.error);
    return TANDEM_OK;
  });
}

}  // extern "C"

#else  // a build without the router (TANDEM_SERVER=OFF)

namespace {
tandem_status no_router() {
  return tandem::capi::failure(TANDEM_ERROR_UNSUPPORTED, "this build of Tandem has no router (built with TANDEM_SERVER=OFF)");
}
}  // namespace

extern "C" {
tandem_router* tandem_router_load(const char*, tandem_model*) { return no_router(), nullptr; }
tandem_router* tandem_router_load_json(const char*, tandem_model*) { return no_router(), nullptr; }
void tandem_router_free(tandem_router*) {}
tandem_status tandem_router_cancel(tandem_router*) { return no_router(); }
tandem_status tandem_routed_chat(tandem_router*, const tandem_chat_message*, size_t, const tandem_generate_options*,
                                 const tandem_route_options*, tandem_route_callback, tandem_text_callback, void*,
                                 tandem_routed_result*) {
  return no_router();
}
}  // extern "C"

#endif
