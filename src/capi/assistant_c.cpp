// The assistant apps in the C API: tandem_summarize and tandem_write run the jobs of
// src/assistant on a tandem_router (its device session, clouds, ledger and tasks) and
// hand their events to the caller's callbacks.
#include "capi/capi.h"

#ifndef TANDEM_NO_ROUTER
#include <cstring>

#include "assistant/document.h"
#include "assistant/summarize.h"
#include "assistant/write.h"
#include "capi/router_c.h"

namespace {

using tandem::capi::failure;
using tandem::capi::guarded;
namespace assistant = tandem::assistant;

tandem_status to_status(const assistant::AppError& error) {
  if (error.code == "bad_document") return failure(TANDEM_ERROR_DOCUMENT, error.what());
  if (error.code == "route_refused") return failure(TANDEM_ERROR_ROUTE_REFUSED, error.what());
  if (error.code == "cloud_failed") return failure(TANDEM_ERROR_CLOUD, error.what());
  if (error.code == "context_length_exceeded") return failure(TANDEM_ERROR_CONTEXT_FULL, error.what());
  if (error.code == "failed") return failure(TANDEM_ERROR_INTERNAL, error.what());
  return failure(TANDEM_ERROR_INVALID_ARGUMENT, error.what());
}

// The caller's sampling, all of it, or the task's defaults when options is NULL.
tandem_status to_sampling(const tandem_generate_options* options, assistant::SamplingOverrides& out) {
  if (!options) return TANDEM_OK;
  tandem::generate::GenerateOptions checked;
  if (tandem_status s = tandem::capi::to_generate_options(options, checked); s != TANDEM_OK) return s;
  if (options->n_stop > 0 || options->json_schema || options->on_logprob || options->ignore_eos ||
      options->presence_penalty != 0 || options->frequency_penalty != 0) {
    return failure(TANDEM_ERROR_INVALID_ARGUMENT,
                   "the assistant apps take sampling settings only: stop, json_schema, ignore_eos, on_logprob and the "
                   "presence/frequency penalties must be unset");
  }
  out.temperature = options->temperature;
  out.top_k = options->top_k;
  out.top_p = options->top_p;
  out.min_p = options->min_p;
  out.repeat_penalty = options->repeat_penalty;
  out.seed = options->seed;
  if (options->max_tokens > 0) out.max_tokens = options->max_tokens;
  return TANDEM_OK;
}

tandem_status to_routing(const tandem_route_options* in, assistant::Routing& out) {
  if (!in) return TANDEM_OK;
  if (!tandem::capi::reserved_zero(in->reserved, sizeof in->reserved)) {
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_route_options.reserved must be zero");
  }
  if (in->n_data_tags > 0 && !in->data_tags) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "data_tags is NULL but n_data_tags > 0");
  if (in->preference) {
    out.preference = tandem::router::parse_preference(in->preference);
    if (!out.preference) {
      return failure(TANDEM_ERROR_INVALID_ARGUMENT,
                     std::string("route preference '") + in->preference + "' is not device-only, auto or cloud-preferred");
    }
  }
  for (size_t i = 0; i < in->n_data_tags; ++i) {
    if (!in->data_tags[i]) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "data_tags[" + std::to_string(i) + "] is NULL");
    out.data_tags.emplace_back(in->data_tags[i]);
  }
  return TANDEM_OK;
}

assistant::Engine engine_of(tandem_router* router) {
  return assistant::Engine{router->router.get(), router->session.get(), router->session ? &router->chat : nullptr,
                           router->model_name, &router->tasks};
}

// Runs a job (SummaryJob or WriteJob) with the C callbacks, filling the C result.
template <class Job>
tandem_status run_job(tandem_router* router, Job& job, tandem_route_callback on_route,
                      tandem_progress_callback on_progress, tandem_text_callback on_text, void* user_data,
                      tandem_app_result* result) {
  auto report = [&](const tandem::router::RouteNote& note) {
    router->reason = note.reason;
    if (result) {
      result->route = tandem::capi::to_c_route(note.route);
      result->fallback = note.fallback;
      result->reason = router->reason.c_str();
    }
  };
  const tandem::capi::RunningCall running(router, [&job] { job.cancel(); });
  try {
    job.start();
  } catch (const assistant::AppError& error) {
    if (!error.note.route.empty()) report(error.note);
    return to_status(error);
  }
  assistant::Events events;
  events.on_route = [&](const tandem::router::RouteNote& note) {
    report(note);
    if (on_route) on_route(tandem::capi::to_c_route(note.route), router->reason.c_str(), note.fallback, user_data);
  };
  if (on_progress) {
    events.on_progress = [&](const assistant::Progress& p) {
      const tandem_progress progress{p.phase.c_str(), p.level, p.done, p.total};
      return on_progress(&progress, user_data) != 0;
    };
  }
  if (on_text) {
    events.on_text = [&](std::string_view text) { return on_text(text.data(), text.size(), user_data) != 0; };
  }
  try {
    const assistant::Result r = job.run(events);
    if (result) {
      report(r.note);
      result->finish = tandem::capi::to_c(r.finish);
      result->n_prompt_tokens = int32_t(r.prompt_tokens);
      result->n_generated_tokens = int32_t(r.completion_tokens);
      result->calls = r.calls;
      result->chunks = r.chunks;
      result->levels = r.levels;
      std::strncpy(result->language, r.language.c_str(), sizeof result->language - 1);
    }
  } catch (const assistant::AppError& error) {
    return to_status(error);
  }
  return TANDEM_OK;
}

const char* or_empty(const char* s) { return s ? s : ""; }

void clear(tandem_app_result* result) {
  if (!result) return;
  std::memset(result, 0, sizeof *result);
  result->reason = "";
}

}  // namespace

extern "C" {

tandem_status tandem_summarize(tandem_router* router, const char* document, size_t size,
                               const tandem_summary_options* summary, const tandem_generate_options* options,
                               const tandem_route_options* routing, tandem_route_callback on_route,
                               tandem_progress_callback on_progress, tandem_text_callback on_text, void* user_data,
                               tandem_app_result* result) {
  clear(result);
  if (!router) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_summarize: router is NULL");
  if (!document && size > 0) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_summarize: document is NULL");
  if (summary && !tandem::capi::reserved_zero(summary->reserved, sizeof summary->reserved)) {
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_summary_options.reserved must be zero");
  }
  assistant::SummaryOptions o;
  if (tandem_status s = to_sampling(options, o.sampling); s != TANDEM_OK) return s;
  assistant::Routing route;
  if (tandem_status s = to_routing(routing, route); s != TANDEM_OK) return s;
  return guarded([&] {
    const char* format_name = summary && summary->format ? summary->format : "auto";
    const auto format = assistant::parse_format(format_name);
    if (!format) {
      return failure(TANDEM_ERROR_INVALID_ARGUMENT,
                     std::string("format '") + format_name + "' is not auto, text, markdown, html or pdf");
    }
    assistant::Document doc;
    try {
      doc = assistant::read_document(std::string_view(document ? document : "", size), *format,
                                     summary && summary->name ? summary->name : "document");
    } catch (const tandem::Error& error) {
      return failure(TANDEM_ERROR_DOCUMENT, error.what());
    }
    if (summary) {
      o.length = or_empty(summary->length);
      o.lang = summary->lang ? summary->lang : "auto";
      o.focus = or_empty(summary->focus);
    }
    std::unique_ptr<assistant::SummaryJob> job;
    try {
      job = std::make_unique<assistant::SummaryJob>(engine_of(router), std::move(doc.text), o, route);
    } catch (const assistant::AppError& error) {
      return to_status(error);
    }
    return run_job(router, *job, on_route, on_progress, on_text, user_data, result);
  });
}

tandem_status tandem_write(tandem_router* router, const tandem_write_options* write,
                           const tandem_generate_options* options, const tandem_route_options* routing,
                           tandem_route_callback on_route, tandem_text_callback on_text, void* user_data,
                           tandem_app_result* result) {
  clear(result);
  if (!router) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_write: router is NULL");
  if (!write || !write->task) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_write: write options with a task are required");
  if (!tandem::capi::reserved_zero(write->reserved, sizeof write->reserved)) {
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_write_options.reserved must be zero");
  }
  assistant::WriteOptions o;
  if (tandem_status s = to_sampling(options, o.sampling); s != TANDEM_OK) return s;
  assistant::Routing route;
  if (tandem_status s = to_routing(routing, route); s != TANDEM_OK) return s;
  return guarded([&] {
    o.task = write->task;
    o.instructions = or_empty(write->instructions);
    o.input = or_empty(write->input);
    o.tone = or_empty(write->tone);
    o.lang = write->lang ? write->lang : "auto";
    std::unique_ptr<assistant::WriteJob> job;
    try {
      job = std::make_unique<assistant::WriteJob>(engine_of(router), o, route);
    } catch (const assistant::AppError& error) {
      return to_status(error);
    }
    return run_job(router, *job, on_route, nullptr, on_text, user_data, result);
  });
}

}  // extern "C"

#else  // a build without the router (TANDEM_SERVER=OFF): no apps

extern "C" {
tandem_status tandem_summarize(tandem_router*, const char*, size_t, const tandem_summary_options*,
                               const tandem_generate_options*, const tandem_route_options*, tandem_route_callback,
                               tandem_progress_callback, tandem_text_callback, void*, tandem_app_result*) {
  return tandem::capi::failure(TANDEM_ERROR_UNSUPPORTED, "this build of Tandem has no router, so no assistant apps");
}
tandem_status tandem_write(tandem_router*, const tandem_write_options*, const tandem_generate_options*,
                           const tandem_route_options*, tandem_route_callback, tandem_text_callback, void*,
                           tandem_app_result*) {
  return tandem::capi::failure(TANDEM_ERROR_UNSUPPORTED, "this build of Tandem has no router, so no assistant apps");
}
}  // extern "C"

#endif
