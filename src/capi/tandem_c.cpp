// The C API (include/tandem/tandem.h) over model::Model and generate::Session.
// Every entry point catches everything: no C++ exception crosses into C.
#include "tandem/tandem.h"

#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "core/error.h"
#include "generate/session.h"
#include "gguf/file.h"
#include "memory/budget.h"
#include "model/context.h"
#include "tokenizer/tokenizer.h"

struct tandem_model {
  std::shared_ptr<tandem::model::Model> model;
  std::shared_ptr<tandem::tokenizer::Tokenizer> tokenizer;
  tandem_model_options options;
  tandem::model::ContextOptions context;  // what sessions get (the budget may have shrunk it)
};

struct tandem_session {
  std::shared_ptr<tandem::model::Model> model;  // keeps weights alive after tandem_model_free
  std::shared_ptr<tandem::tokenizer::Tokenizer> tokenizer;
  std::unique_ptr<tandem::generate::Session> session;
};

namespace {

thread_local std::string last_error;

// Records the failure and returns its status.
tandem_status failure(tandem_status status, const std::string& message) {
  last_error = message;
  return status;
}

template <class Fn>
tandem_status guarded(Fn&& fn) {
  try {
    return fn();
  } catch (const tandem::Error& e) {
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, e.what());
  } catch (const std::bad_alloc&) {
    return failure(TANDEM_ERROR_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return failure(TANDEM_ERROR_INTERNAL, e.what());
  }
}

bool reserved_zero(const void* reserved, size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(reserved);
  for (size_t i = 0; i < bytes; ++i) {
    if (p[i]) return false;
  }
  return true;
}

tandem_status to_generate_options(const tandem_generate_options* in, tandem::generate::GenerateOptions& out) {
  const tandem_generate_options o = in ? *in : tandem_generate_default_options();
  if (!reserved_zero(o.reserved, sizeof o.reserved)) {
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_generate_options.reserved must be zero");
  }
  if (o.n_stop > 0 && !o.stop) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "stop is NULL but n_stop > 0");
  out.max_tokens = o.max_tokens;
  out.sampling.temperature = o.temperature;
  out.sampling.top_k = o.top_k;
  out.sampling.top_p = o.top_p;
  out.sampling.min_p = o.min_p;
  out.sampling.repeat_penalty = o.repeat_penalty;
  out.sampling.presence_penalty = o.presence_penalty;
  out.sampling.frequency_penalty = o.frequency_penalty;
  out.sampling.seed = o.seed;
  for (size_t i = 0; i < o.n_stop; ++i) {
    if (!o.stop[i]) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "stop[" + std::to_string(i) + "] is NULL");
    out.stop.emplace_back(o.stop[i]);
  }
  return TANDEM_OK;
}

tandem_finish_reason to_c(tandem::generate::FinishReason reason) {
  switch (reason) {
    case tandem::generate::FinishReason::Stop: return TANDEM_FINISH_STOP;
    case tandem::generate::FinishReason::Length: return TANDEM_FINISH_LENGTH;
    case tandem::generate::FinishReason::ContextFull: return TANDEM_FINISH_CONTEXT_FULL;
    case tandem::generate::FinishReason::Cancelled: return TANDEM_FINISH_CANCELLED;
  }
  return TANDEM_FINISH_STOP;
}

}  // namespace

extern "C" {

const char* tandem_last_error(void) { return last_error.c_str(); }
const char* tandem_version(void) { return "0.1.0"; }

tandem_model_options tandem_model_default_options(void) {
  tandem_model_options o;
  std::memset(&o, 0, sizeof o);
  return o;
}

tandem_generate_options tandem_generate_default_options(void) {
  tandem_generate_options o;
  std::memset(&o, 0, sizeof o);
  const tandem::generate::SamplerOptions s;
  o.max_tokens = 128;
  o.temperature = s.temperature;
  o.top_k = s.top_k;
  o.top_p = s.top_p;
  o.min_p = s.min_p;
  o.repeat_penalty = s.repeat_penalty;
  o.presence_penalty = s.presence_penalty;
  o.frequency_penalty = s.frequency_penalty;
  o.seed = TANDEM_RANDOM_SEED;
  return o;
}

tandem_model* tandem_model_load(const char* path, const tandem_model_options* options) {
  if (!path) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_model_load: path is NULL"), nullptr;
  const tandem_model_options o = options ? *options : tandem_model_default_options();
  if (o.n_threads < 0 || o.n_ctx < 0 || !reserved_zero(o.reserved, sizeof o.reserved)) {
    return failure(TANDEM_ERROR_INVALID_ARGUMENT,
                   "tandem_model_load: n_threads and n_ctx must be >= 0 and reserved must be zero"),
           nullptr;
  }
  try {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
      return failure(TANDEM_ERROR_MODEL, std::string("cannot read model file '") + path + "'"), nullptr;
    auto handle = std::make_unique<tandem_model>();
    handle->options = o;
    handle->context = {.n_ctx = o.n_ctx, .n_threads = o.n_threads};
    if (o.memory_budget_bytes) {
      // Planned from the header alone: a model that cannot fit is refused before its weights are touched.
      const auto header = tandem::gguf::File::open(path);
      try {
        const auto choice = tandem::memory::enforce_budget(header, o.n_ctx, handle->context.kv_type, o.memory_budget_bytes,
                                                           o.fit_to_budget != 0);
        handle->context.n_ctx = choice.n_ctx;
        handle->context.kv_type = choice.kv_type;
      } catch (const tandem::Error& e) {
        std::string message = e.what();
        for (const char* flag : {" (or pass --fit)", "--fit"}) {  // the CLI's words; here the field is fit_to_budget
          if (const auto at = message.find(flag); at != std::string::npos) message.replace(at, std::strlen(flag), flag[0] == ' ' ? " (or set fit_to_budget)" : "fit_to_budget");
        }
        return failure(TANDEM_ERROR_MEMORY_BUDGET, "tandem_model_load: " + message), nullptr;
      }
    }
    handle->model = tandem::model::Model::load(path);
    handle->tokenizer = tandem::tokenizer::Tokenizer::from_gguf(handle->model->file());
    return handle.release();
  } catch (const std::exception& e) {
    failure(TANDEM_ERROR_MODEL, e.what());
    return nullptr;
  }
}

void tandem_model_free(tandem_model* model) { delete model; }

int32_t tandem_model_n_vocab(const tandem_model* model) {
  if (!model) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "model is NULL"), -1;
  return model->tokenizer->n_vocab();
}

int32_t tandem_model_n_ctx_train(const tandem_model* model) {
  if (!model) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "model is NULL"), -1;
  return model->model->hparams().n_ctx_train;
}

tandem_status tandem_tokenize(const tandem_model* model, const char* text, int add_special, int32_t* tokens,
                              size_t capacity, size_t* n_tokens) {
  if (!model || !text || !n_tokens || (capacity > 0 && !tokens)) {
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_tokenize: model, text and n_tokens must not be NULL, "
                                                  "nor tokens when capacity > 0");
  }
  return guarded([&] {
    const auto ids = model->tokenizer->encode(text, add_special != 0, false);
    *n_tokens = ids.size();
    if (ids.size() > capacity) {
      return failure(TANDEM_ERROR_BUFFER_TOO_SMALL, "tandem_tokenize: " + std::to_string(ids.size()) +
                                                        " tokens do not fit in " + std::to_string(capacity));
    }
    std::copy(ids.begin(), ids.end(), tokens);
    return TANDEM_OK;
  });
}

tandem_status tandem_detokenize(const tandem_model* model, const int32_t* tokens, size_t n_tokens, char* text,
                                size_t capacity, size_t* length) {
  if (!model || (n_tokens > 0 && !tokens) || !length || (capacity > 0 && !text)) {
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_detokenize: model, tokens, text and length must not be NULL");
  }
  return guarded([&] {
    const int32_t n_vocab = model->tokenizer->n_vocab();
    std::vector<int32_t> ids(tokens, tokens + n_tokens);
    for (int32_t id : ids) {
      if (id < 0 || id >= n_vocab) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "token id " + std::to_string(id) + " is outside the vocabulary");
    }
    const std::string out = model->tokenizer->decode(ids, false);
    *length = out.size();
    if (capacity < out.size() + 1) {
      return failure(TANDEM_ERROR_BUFFER_TOO_SMALL, "tandem_detokenize: needs " + std::to_string(out.size() + 1) + " bytes");
    }
    std::memcpy(text, out.c_str(), out.size() + 1);
    return TANDEM_OK;
  });
}

tandem_session* tandem_session_create(tandem_model* model) {
  if (!model) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_session_create: model is NULL"), nullptr;
  try {
    auto s = std::make_unique<tandem_session>();
    s->model = model->model;
    s->tokenizer = model->tokenizer;
    s->session = std::make_unique<tandem::generate::Session>(s->model, *s->tokenizer, model->context);
    return s.release();
  } catch (const std::exception& e) {
    failure(TANDEM_ERROR_INTERNAL, e.what());
    return nullptr;
  }
}

void tandem_session_free(tandem_session* session) { delete session; }

int32_t tandem_session_n_ctx(const tandem_session* session) {
  if (!session) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "session is NULL"), -1;
  return session->session->context().n_ctx();
}

tandem_status tandem_generate_tokens(tandem_session* session, const int32_t* prompt, size_t n_prompt,
                                     const tandem_generate_options* options, tandem_text_callback on_text,
                                     void* user_data, tandem_generate_result* result) {
  if (!session || (n_prompt > 0 && !prompt)) {
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_generate: session and prompt must not be NULL");
  }
  if (n_prompt == 0) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_generate: the prompt is empty");
  tandem::generate::GenerateOptions generate_options;
  if (tandem_status s = to_generate_options(options, generate_options); s != TANDEM_OK) return s;
  const int n_ctx = session->session->context().n_ctx();
  if (n_prompt > size_t(tandem::generate::max_prompt_tokens(n_ctx))) {
    return failure(TANDEM_ERROR_CONTEXT_FULL, "tandem_generate: the prompt is " + std::to_string(n_prompt) +
                                                  " tokens but the context holds " + std::to_string(n_ctx) +
                                                  " and must keep one position for the answer");
  }
  return guarded([&] {
    const std::vector<int32_t> ids(prompt, prompt + n_prompt);
    tandem::generate::OnText callback;
    if (on_text) {
      callback = [&](std::string_view text) { return on_text(text.data(), text.size(), user_data) != 0; };
    }
    const auto r = session->session->generate(ids, generate_options, callback);
    if (result) {
      result->finish = to_c(r.finish);
      result->n_prompt_tokens = r.n_prompt;
      result->n_cached_tokens = r.n_cached;
      result->n_generated_tokens = int32_t(r.tokens.size());
      result->prompt_seconds = r.prompt_seconds;
      result->generate_seconds = r.generate_seconds;
    }
    return TANDEM_OK;
  });
}

tandem_status tandem_generate(tandem_session* session, const char* prompt, const tandem_generate_options* options,
                              tandem_text_callback on_text, void* user_data, tandem_generate_result* result) {
  if (!session || !prompt) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_generate: session and prompt must not be NULL");
  std::vector<int32_t> ids;
  if (tandem_status s = guarded([&] {
        ids = session->tokenizer->encode(prompt, true, false);
        return TANDEM_OK;
      });
      s != TANDEM_OK) {
    return s;
  }
  return tandem_generate_tokens(session, ids.data(), ids.size(), options, on_text, user_data, result);
}

}  // extern "C"
