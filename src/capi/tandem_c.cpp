// The C API (include/tandem/tandem.h) over model::Model and generate::Session;
// routed chat is in routed_c.cpp. Every entry point catches everything: no C++
// exception crosses into C.
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "capi/capi.h"
#include "gguf/file.h"
#include "memory/budget.h"
#include "tokenizer/tokenizer.h"

namespace tandem::capi {

thread_local std::string last_error;

tandem_status failure(tandem_status status, const std::string& message) {
  last_error = message;
  return status;
}

bool reserved_zero(const void* reserved, size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(reserved);
  for (size_t i = 0; i < bytes; ++i) {
    if (p[i]) return false;
  }
  return true;
}

tandem_status to_generate_options(const tandem_generate_options* in, generate::GenerateOptions& out) {
  const tandem_generate_options o = in ? *in : tandem_generate_default_options();
  if (!reserved_zero(o.reserved, sizeof o.reserved)) {
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_generate_options.reserved must be zero");
  }
  if (o.n_stop > 0 && !o.stop) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "stop is NULL but n_stop > 0");
  if (o.top_logprobs < 0 || o.top_logprobs > 20) {
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, "top_logprobs must be from 0 to 20, got " + std::to_string(o.top_logprobs));
  }
  out.max_tokens = o.max_tokens;
  out.sampling.temperature = o.temperature;
  out.sampling.top_k = o.top_k;
  out.sampling.top_p = o.top_p;
  out.sampling.min_p = o.min_p;
  out.sampling.repeat_penalty = o.repeat_penalty;
  out.sampling.presence_penalty = o.presence_penalty;
  out.sampling.frequency_penalty = o.frequency_penalty;
  out.sampling.seed = o.seed;
  out.ignore_eos = o.ignore_eos != 0;
  using Method = generate::SpeculativeOptions::Method;
  if (o.speculative < TANDEM_SPECULATIVE_NONE || o.speculative > TANDEM_SPECULATIVE_LOOKUP)
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, "speculative must be TANDEM_SPECULATIVE_NONE, _DRAFT or _LOOKUP, got " +
                                                      std::to_string(o.speculative));
  if (o.draft_k < 0 || o.draft_k > generate::kMaxDraftTokens)
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, "draft_k must be from 0 to " + std::to_string(generate::kMaxDraftTokens) +
                                                      ", got " + std::to_string(o.draft_k));
  if (o.lookup_ngram < 0 || o.lookup_ngram > 16)
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, "lookup_ngram must be from 0 to 16, got " + std::to_string(o.lookup_ngram));
  if (o.speculative == TANDEM_SPECULATIVE_DRAFT) {
    out.speculative.method = Method::DraftModel;
    out.speculative.k = o.draft_k > 0 ? o.draft_k : 4;
  } else if (o.speculative == TANDEM_SPECULATIVE_LOOKUP) {
    out.speculative.method = Method::Lookup;
    out.speculative.k = o.draft_k > 0 ? o.draft_k : 8;
    if (o.lookup_ngram > 0) out.speculative.ngram = o.lookup_ngram;
  }
  out.top_logprobs = o.on_logprob ? o.top_logprobs : -1;
  for (size_t i = 0; i < o.n_stop; ++i) {
    if (!o.stop[i]) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "stop[" + std::to_string(i) + "] is NULL");
    out.stop.emplace_back(o.stop[i]);
  }
  if (o.json_schema) {
    try {
      out.constraint = generate::JsonConstraint::from_schema_text(o.json_schema);
    } catch (const Error& e) {
      return failure(TANDEM_ERROR_INVALID_ARGUMENT, std::string("json_schema: ") + e.what());
    }
  }
  return TANDEM_OK;
}

tandem_status to_messages(const tandem_chat_message* messages, size_t n_messages,
                          std::vector<tokenizer::ChatMessage>& out) {
  if (n_messages == 0 || !messages) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "the chat has no messages");
  for (size_t i = 0; i < n_messages; ++i) {
    if (!messages[i].role || !messages[i].content) {
      return failure(TANDEM_ERROR_INVALID_ARGUMENT, "messages[" + std::to_string(i) + "]: role and content must not be NULL");
    }
    out.push_back({messages[i].role, messages[i].content});
  }
  return TANDEM_OK;
}

tandem_finish_reason to_c(generate::FinishReason reason) {
  switch (reason) {
    case generate::FinishReason::Stop: return TANDEM_FINISH_STOP;
    case generate::FinishReason::Length: return TANDEM_FINISH_LENGTH;
    case generate::FinishReason::ContextFull: return TANDEM_FINISH_CONTEXT_FULL;
    case generate::FinishReason::Cancelled: return TANDEM_FINISH_CANCELLED;
  }
  return TANDEM_FINISH_STOP;
}

PieceSink::PieceSink(const tandem_generate_options* options, tandem_text_callback on_text, void* user_data)
    : on_text_(on_text), user_data_(user_data) {
  if (options) {
    on_logprob_ = options->on_logprob;
    logprob_user_data_ = options->logprob_user_data;
  }
}

bool PieceSink::operator()(const generate::Piece& piece) const {
  if (on_text_ && !piece.text.empty() && on_text_(piece.text.data(), piece.text.size(), user_data_) == 0) return false;
  if (on_logprob_ && piece.logprob) {
    std::vector<tandem_token_logprob> top;
    for (const generate::TopLogprob& t : piece.logprob->top) top.push_back({t.id, t.logprob});
    const tandem_logprob lp{piece.logprob->id, piece.logprob->logprob, top.data(), top.size()};
    if (on_logprob_(&lp, logprob_user_data_) == 0) return false;
  }
  return true;
}

}  // namespace tandem::capi

using tandem::capi::failure;
using tandem::capi::guarded;

namespace {

// Runs one generation on the session and fills the C result.
tandem_status run_session(tandem_session* session, const std::vector<int32_t>& prompt,
                          const tandem::generate::GenerateOptions& options, const tandem::capi::PieceSink& sink,
                          tandem_generate_result* result) {
  const int n_ctx = session->session->n_ctx();
  if (prompt.size() > size_t(tandem::generate::max_prompt_tokens(n_ctx))) {
    return failure(TANDEM_ERROR_CONTEXT_FULL, "tandem_generate: the prompt is " + std::to_string(prompt.size()) +
                                                  " tokens but the context holds " + std::to_string(n_ctx) +
                                                  " and must keep one position for the answer");
  }
  return guarded([&] {
    const auto r = session->session->generate(prompt, options, tandem::generate::OnPiece(std::cref(sink)));
    if (result) {
      result->finish = tandem::capi::to_c(r.finish);
      result->n_prompt_tokens = r.n_prompt;
      result->n_cached_tokens = r.n_cached;
      result->n_generated_tokens = int32_t(r.tokens.size());
      result->prompt_seconds = r.prompt_seconds;
      result->generate_seconds = r.generate_seconds;
    }
    return TANDEM_OK;
  });
}

}  // namespace

extern "C" {

const char* tandem_last_error(void) { return tandem::capi::last_error.c_str(); }
const char* tandem_version(void) { return TANDEM_VERSION_STRING; }

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
  if (o.n_threads < 0 || o.n_ctx < 0 || !tandem::capi::reserved_zero(o.reserved, sizeof o.reserved)) {
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
    handle->chat = tandem::tokenizer::ChatFormat::of(handle->model->file(), *handle->tokenizer, "");
    handle->name = std::filesystem::path(path).filename().string();
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
    s->chat = model->chat;
    s->session = std::make_unique<tandem::generate::Session>(s->model, *s->tokenizer, model->context);
    return s.release();
  } catch (const std::exception& e) {
    failure(TANDEM_ERROR_INTERNAL, e.what());
    return nullptr;
  }
}

void tandem_session_free(tandem_session* session) { delete session; }

tandem_status tandem_session_set_draft(tandem_session* session, tandem_model* draft) {
  if (!session) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "session is NULL");
  try {
    session->session->set_draft(draft ? draft->model : nullptr);
    return TANDEM_OK;
  } catch (const tandem::Error& e) {
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, std::string("tandem_session_set_draft: ") + e.what());
  } catch (const std::exception& e) {
    return failure(TANDEM_ERROR_INTERNAL, e.what());
  }
}

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
  if (tandem_status s = tandem::capi::to_generate_options(options, generate_options); s != TANDEM_OK) return s;
  return run_session(session, std::vector<int32_t>(prompt, prompt + n_prompt), generate_options,
                     tandem::capi::PieceSink(options, on_text, user_data), result);
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

tandem_status tandem_chat(tandem_session* session, const tandem_chat_message* messages, size_t n_messages,
                          const tandem_generate_options* options, tandem_text_callback on_text, void* user_data,
                          tandem_generate_result* result) {
  if (!session) return failure(TANDEM_ERROR_INVALID_ARGUMENT, "tandem_chat: session is NULL");
  std::vector<tandem::tokenizer::ChatMessage> chat;
  if (tandem_status s = tandem::capi::to_messages(messages, n_messages, chat); s != TANDEM_OK) return s;
  tandem::generate::GenerateOptions generate_options;
  if (tandem_status s = tandem::capi::to_generate_options(options, generate_options); s != TANDEM_OK) return s;
  std::vector<int32_t> ids;
  if (tandem_status s = guarded([&] {
        ids = session->chat.prompt(*session->tokenizer, chat);
        return TANDEM_OK;
      });
      s != TANDEM_OK) {
    return s;
  }
  return run_session(session, ids, generate_options, tandem::capi::PieceSink(options, on_text, user_data), result);
}

}  // extern "C"
