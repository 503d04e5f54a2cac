/*
 * tandem.h: the Tandem C API (plain C99, stable). Load a GGUF model, open sessions
 * on it, tokenize, and generate text with a streaming callback: from a prompt or
 * from chat messages (the model's chat template), optionally constrained to a JSON
 * Schema and with log-probabilities. Routed chat sends each request to the device or
 * a cloud model by the router's policy (docs/routing.md) and reports where and why.
 * The assistant apps summarize documents (text, Markdown, HTML, PDF; map-reduce when
 * longer than the context) and write (email, reply, polish, ...), routed the same way.
 *
 * Build an app against an installed Tandem with
 *   cc app.c $(pkg-config --cflags --libs tandem)
 * or, in CMake, find_package(tandem) and link tandem::tandem.
 *
 * Conventions
 *  - Every function accepts bad arguments (NULL pointers, out-of-range values)
 *    and reports them: functions returning tandem_status return a code other
 *    than TANDEM_OK, functions returning pointers return NULL, and
 *    tandem_last_error() describes what went wrong.
 *  - The last error is per thread; a successful call does not clear it.
 *  - A model may be shared by sessions on different threads; one session must
 *    be used by one thread at a time.
 *  - Strings are UTF-8. Strings returned by the library stay valid until the
 *    object they came from is freed (or, for tandem_last_error, until the next
 *    failing call on the same thread).
 */
#ifndef TANDEM_TANDEM_H
#define TANDEM_TANDEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2: chat, JSON Schema output, logprobs, ignore_eos, routed chat.
 * 3: the assistant apps (tandem_summarize, tandem_write), tandem_router_cancel; speculative decoding
 *    (tandem_session_set_draft, the speculative fields of tandem_generate_options). */
#define TANDEM_API_VERSION 3

typedef enum tandem_status {
  TANDEM_OK = 0,
  TANDEM_ERROR_INVALID_ARGUMENT = 1, /* NULL pointer, bad size or option */
  TANDEM_ERROR_MODEL = 2,            /* the file could not be read or is not a supported GGUF */
  TANDEM_ERROR_CONTEXT_FULL = 3,     /* the prompt does not fit in the context */
  TANDEM_ERROR_BUFFER_TOO_SMALL = 4, /* the needed size was written to the size output */
  TANDEM_ERROR_INTERNAL = 5,
  TANDEM_ERROR_MEMORY_BUDGET = 6,    /* the planned memory exceeds memory_budget_bytes; the message says what fits */
  TANDEM_ERROR_ROUTE_REFUSED = 7,    /* the router refused: the request must stay on the device, which cannot serve it */
  TANDEM_ERROR_CLOUD = 8,            /* the cloud failed and the device could not take the request over */
  TANDEM_ERROR_UNSUPPORTED = 9,      /* this build has no router (built without the server libraries) */
  TANDEM_ERROR_DOCUMENT = 10         /* the document cannot be read: empty, binary, a corrupt or encrypted PDF, no text */
} tandem_status;

typedef struct tandem_model tandem_model;     /* weights + tokenizer, immutable, shareable */
typedef struct tandem_session tandem_session; /* one sequence: a KV cache over a model */

typedef struct tandem_model_options {
  int32_t n_threads;            /* threads per forward pass; 0: all cores */
  int32_t n_ctx;                /* context of sessions created from this model; 0: the model's (capped at 4096) */
  /* 0: none. Otherwise the planned peak memory of a session (weights, KV cache for
   * n_ctx, compute buffers, overhead; see docs/memory.md) must fit, checked from the
   * file's header before any weight is loaded: tandem_model_load fails with
   * TANDEM_ERROR_MEMORY_BUDGET and a last error naming the contexts and KV types that would fit. */
  uint64_t memory_budget_bytes;
  /* Nonzero: instead of failing, sessions use the largest context (and, if needed,
   * a q8_0 or q4_0 KV cache) that fits memory_budget_bytes. Was reserved[0]: the
   * struct's size and the other fields' offsets are unchanged. */
  uint32_t fit_to_budget;
  uint32_t reserved[7];         /* must be zero */
} tandem_model_options;

/* A generated token's log-probability under the model (log-softmax of the raw
 * logits, before temperature and truncation), with the most likely alternatives. */
typedef struct tandem_token_logprob {
  int32_t token;
  float logprob;
} tandem_token_logprob;

typedef struct tandem_logprob {
  int32_t token;
  float logprob;
  const tandem_token_logprob* top; /* the n_top most likely tokens, best first; valid during the call */
  size_t n_top;
} tandem_logprob;

/* Receives each generated token's logprob, after on_text got the text that token made
 * final. Return nonzero to continue, 0 to cancel. */
typedef int (*tandem_logprob_callback)(const tandem_logprob* logprob, void* user_data);

typedef struct tandem_generate_options {
  int32_t max_tokens;          /* < 0: until end of text or context full */
  float temperature;           /* <= 0: greedy */
  int32_t top_k;               /* <= 0: off */
  float top_p;                 /* >= 1: off */
  float min_p;                 /* <= 0: off */
  float repeat_penalty;        /* 1: off */
  float presence_penalty;      /* OpenAI semantics; 0: off */
  float frequency_penalty;     /* OpenAI semantics; 0: off */
  uint64_t seed;               /* same seed, same text; TANDEM_RANDOM_SEED: random */
  const char* const* stop;     /* stop strings (not emitted), may be NULL */
  size_t n_stop;
  /* API version 2: */
  const char* json_schema;     /* NULL: free text. Else a JSON Schema (the subset in docs/api.md):
                                * the output is a JSON document matching it */
  int32_t ignore_eos;          /* nonzero: keep generating past the end-of-text token */
  int32_t top_logprobs;        /* alternatives per token given to on_logprob, 0..20 */
  tandem_logprob_callback on_logprob; /* NULL: no logprobs */
  void* logprob_user_data;
  /* API version 3: speculative decoding (greedy output is the plain output; sampled output
   * follows the same distribution): */
  int32_t speculative;         /* TANDEM_SPECULATIVE_NONE, _DRAFT (the session's draft model,
                                * tandem_session_set_draft) or _LOOKUP (prompt lookup) */
  int32_t draft_k;             /* tokens drafted per verification pass, 1..32; 0: 4 (draft), 8 (lookup) */
  int32_t lookup_ngram;        /* lookup: the longest n-gram matched, 1..16; 0: 3 */
  int32_t reserved[5];         /* must be zero */
} tandem_generate_options;

#define TANDEM_SPECULATIVE_NONE 0
#define TANDEM_SPECULATIVE_DRAFT 1
#define TANDEM_SPECULATIVE_LOOKUP 2

#define TANDEM_RANDOM_SEED 0xFFFFFFFFu

typedef enum tandem_finish_reason {
  TANDEM_FINISH_STOP = 0,         /* end-of-text token or a stop string */
  TANDEM_FINISH_LENGTH = 1,       /* max_tokens reached */
  TANDEM_FINISH_CONTEXT_FULL = 2,
  TANDEM_FINISH_CANCELLED = 3     /* the callback returned 0 */
} tandem_finish_reason;

typedef struct tandem_generate_result {
  tandem_finish_reason finish;
  int32_t n_prompt_tokens;
  int32_t n_cached_tokens; /* prompt tokens reused from the session's cache */
  int32_t n_generated_tokens;
  double prompt_seconds, generate_seconds;
} tandem_generate_result;

/* Receives final UTF-8 text as it is generated (not NUL-terminated: use len).
 * Return nonzero to continue, 0 to cancel the generation at once. */
typedef int (*tandem_text_callback)(const char* text, size_t len, void* user_data);

typedef struct tandem_chat_message {
  const char* role;    /* "system", "user" or "assistant" */
  const char* content;
} tandem_chat_message;

/* The message of the last failure on this thread ("" when none). Never NULL. */
const char* tandem_last_error(void);
/* The library version string, e.g. "0.1.0". */
const char* tandem_version(void);

/* Defaults: all cores, the model's context, no budget. */
tandem_model_options tandem_model_default_options(void);
/* Defaults: 128 tokens, temperature 0.8, top_k 40, top_p 0.95, min_p 0.05, random seed. */
tandem_generate_options tandem_generate_default_options(void);

/* options may be NULL (defaults). Returns NULL on failure. */
tandem_model* tandem_model_load(const char* path, const tandem_model_options* options);
void tandem_model_free(tandem_model* model); /* NULL is allowed; sessions keep the weights alive */
int32_t tandem_model_n_vocab(const tandem_model* model); /* -1 on NULL */
int32_t tandem_model_n_ctx_train(const tandem_model* model);

/* Text -> token ids. add_special: BOS as the model wants it. Writes at most
 * capacity ids to tokens (which may be NULL when capacity is 0) and the needed
 * count to *n_tokens; TANDEM_ERROR_BUFFER_TOO_SMALL when capacity is too small. */
tandem_status tandem_tokenize(const tandem_model* model, const char* text, int add_special, int32_t* tokens,
                              size_t capacity, size_t* n_tokens);
/* Token ids -> UTF-8 text, NUL-terminated. Writes the needed size (without the NUL)
 * to *length; TANDEM_ERROR_BUFFER_TOO_SMALL when capacity < *length + 1. */
tandem_status tandem_detokenize(const tandem_model* model, const int32_t* tokens, size_t n_tokens, char* text,
                                size_t capacity, size_t* length);

/* A session with its own KV cache. Returns NULL on failure. */
tandem_session* tandem_session_create(tandem_model* model);
void tandem_session_free(tandem_session* session); /* NULL is allowed */
int32_t tandem_session_n_ctx(const tandem_session* session); /* -1 on NULL */
/* API version 3: a draft model for TANDEM_SPECULATIVE_DRAFT: smaller, with the session's
 * vocabulary (another vocabulary is TANDEM_ERROR_INVALID_ARGUMENT). NULL removes it. The
 * session keeps the draft's weights alive. */
tandem_status tandem_session_set_draft(tandem_session* session, tandem_model* draft);

/* Generates a continuation of prompt (text, tokenized with BOS). The session
 * reuses the cached prefix of the previous prompt+output. on_text may be NULL;
 * options and result may be NULL. Cancelling is not an error: the result says
 * TANDEM_FINISH_CANCELLED. */
tandem_status tandem_generate(tandem_session* session, const char* prompt, const tandem_generate_options* options,
                              tandem_text_callback on_text, void* user_data, tandem_generate_result* result);
/* The same with a prompt given as token ids. A prompt must leave room for one
 * generated token: at most tandem_session_n_ctx() - 1 tokens, else
 * TANDEM_ERROR_CONTEXT_FULL (the same rule as the CLI and the server). */
tandem_status tandem_generate_tokens(tandem_session* session, const int32_t* prompt, size_t n_prompt,
                                     const tandem_generate_options* options, tandem_text_callback on_text,
                                     void* user_data, tandem_generate_result* result);

/* The assistant's answer to chat messages, rendered with the model's chat template
 * (chatml when the model has none that is recognised). Multi-turn chat passes the
 * whole history each time; the session reuses the cached prefix. */
tandem_status tandem_chat(tandem_session* session, const tandem_chat_message* messages, size_t n_messages,
                          const tandem_generate_options* options, tandem_text_callback on_text, void* user_data,
                          tandem_generate_result* result);

/* ---- Routed chat: the device or a cloud model, by the router's policy ---- */

typedef struct tandem_router tandem_router; /* policy, cloud endpoints, ledger, and a device session */

typedef enum tandem_route {
  TANDEM_ROUTE_DEVICE = 0,
  TANDEM_ROUTE_CLOUD = 1,
  TANDEM_ROUTE_REFUSED = 2
} tandem_route;

/* A router from a config file (docs/routing.md, examples/router.json) or the same JSON
 * as text. device: the device tier's model (its context options apply); NULL: the
 * config's device tier, loaded here when installed, else no device tier. The router
 * keeps the model alive. Returns NULL on failure (a config error names the field). */
tandem_router* tandem_router_load(const char* config_path, tandem_model* device);
tandem_router* tandem_router_load_json(const char* config_json, tandem_model* device);
void tandem_router_free(tandem_router* router); /* NULL is allowed */

typedef struct tandem_route_options {
  const char* preference;          /* NULL: the config's; "device-only", "auto" or "cloud-preferred" */
  const char* const* data_tags;    /* what the request carries: "messages", "photos", "health", ... */
  size_t n_data_tags;
  uint32_t reserved[8];            /* must be zero */
} tandem_route_options;

typedef struct tandem_routed_result {
  tandem_route route;    /* where the answer came from (the device after a fallback) */
  int32_t fallback;      /* nonzero: the cloud failed and the device answered, or finished the answer */
  const char* reason;    /* why, e.g. "privacy:email", "difficulty:0.12", "fallback:cloud_timeout";
                          * valid until the router's next routed call or tandem_router_free */
  tandem_finish_reason finish;
  int32_t n_prompt_tokens, n_generated_tokens; /* the device's counts, or the cloud's usage */
} tandem_routed_result;

/* Called once the route is decided (before any text) and again when a cloud failure
 * hands the rest of the answer to the device. */
typedef void (*tandem_route_callback)(tandem_route route, const char* reason, int fallback, void* user_data);

/* The answer to chat messages from the device or the cloud. routing, on_route,
 * on_text and result may be NULL. A refusal is TANDEM_ERROR_ROUTE_REFUSED with the
 * route and reason in result; a cloud failure the device cannot take over is
 * TANDEM_ERROR_CLOUD. Each call is one row in the router's ledger. */
tandem_status tandem_routed_chat(tandem_router* router, const tandem_chat_message* messages, size_t n_messages,
                                 const tandem_generate_options* options, const tandem_route_options* routing,
                                 tandem_route_callback on_route, tandem_text_callback on_text, void* user_data,
                                 tandem_routed_result* result);

/* From any thread: the router's call in progress (routed chat, summary or writing task)
 * stops at its next token and returns TANDEM_OK with finish TANDEM_FINISH_CANCELLED. No
 * effect when nothing runs. */
tandem_status tandem_router_cancel(tandem_router* router);

/* ---- The assistant apps (API version 3): summaries and writing, routed ----
 * Both run on a router (tandem_router_load*; its device model, the config's clouds) and
 * report the route like tandem_routed_chat. Presets and default sampling come from the
 * tasks file (docs/assistant.md: built in, extended by $TANDEM_HOME/assistant/tasks.json,
 * read when the router is loaded). options may be NULL: the task's default sampling;
 * given, its sampling fields are used as they are and max_tokens > 0 caps the answer
 * (stop strings, json_schema, logprobs and the presence/frequency penalties must be unset). */

typedef struct tandem_progress {
  const char* phase; /* "map" (notes on each chunk), "reduce" (combining notes), "final" (the summary) */
  int32_t level;     /* 0 for map; 1, 2, ... for each level of combining; the final's is the last + 1 */
  int32_t done, total;
} tandem_progress;

/* Return nonzero to continue, 0 to cancel. */
typedef int (*tandem_progress_callback)(const tandem_progress* progress, void* user_data);

typedef struct tandem_summary_options {
  const char* length; /* NULL: "medium"; "short", "long", "bullets" (or a length the tasks file adds) */
  const char* lang;   /* NULL or "auto": the document's language; "zh" or "en" */
  const char* focus;  /* NULL: none; a question the summary should answer */
  const char* format; /* the document's bytes: NULL or "auto" (sniffed), "text", "markdown", "html", "pdf" */
  const char* name;   /* NULL, or the file name: in messages, and its extension helps "auto" */
  uint32_t reserved[8]; /* must be zero */
} tandem_summary_options;

typedef struct tandem_write_options {
  const char* task;         /* required: "email", "reply", "polish", "shorten", "expand", "translate",
                             * "title", "poem", "post", or a task the tasks file adds */
  const char* instructions; /* what to write; NULL when the task works on input alone */
  const char* input;        /* NULL, or the text to work on (required by reply, polish, shorten,
                             * expand, translate) */
  const char* tone;         /* NULL, or free text: "formal", "friendly", ... */
  const char* lang;         /* NULL or "auto": the instructions' and input's language (translate:
                             * the other of Chinese and English); "zh" or "en" */
  uint32_t reserved[8];     /* must be zero */
} tandem_write_options;

typedef struct tandem_app_result {
  tandem_route route;    /* where the answer came from (the device after a fallback) */
  int32_t fallback;      /* nonzero: the cloud failed and the device took over */
  const char* reason;    /* e.g. "privacy:email;chunk:2/5", "network:no_cloud;map_reduce";
                          * valid until the router's next call or tandem_router_free */
  tandem_finish_reason finish;
  int32_t n_prompt_tokens, n_generated_tokens; /* over all model calls */
  int32_t calls;         /* model calls made */
  int32_t chunks;        /* summary: chunks the document was cut into (1: one call) */
  int32_t levels;        /* summary: levels of combining notes, the final one included (0: one call) */
  char language[4];      /* the answer's language: "zh" or "en" */
} tandem_app_result;

/* A summary of a document (size bytes; text, Markdown, HTML or PDF), streamed to on_text;
 * on_progress counts the model calls of a long document's map-reduce. One private chunk
 * keeps the whole job on the device; a long public document may go to the cloud. Errors:
 * TANDEM_ERROR_DOCUMENT (unreadable document), TANDEM_ERROR_INVALID_ARGUMENT (a bad
 * option), TANDEM_ERROR_CONTEXT_FULL (the device's context cannot hold even the prompts),
 * TANDEM_ERROR_ROUTE_REFUSED, TANDEM_ERROR_CLOUD. Callbacks and result may be NULL. */
tandem_status tandem_summarize(tandem_router* router, const char* document, size_t size,
                               const tandem_summary_options* summary, const tandem_generate_options* options,
                               const tandem_route_options* routing, tandem_route_callback on_route,
                               tandem_progress_callback on_progress, tandem_text_callback on_text, void* user_data,
                               tandem_app_result* result);

/* A writing task's text, streamed to on_text; routed like a chat request. */
tandem_status tandem_write(tandem_router* router, const tandem_write_options* write,
                           const tandem_generate_options* options, const tandem_route_options* routing,
                           tandem_route_callback on_route, tandem_text_callback on_text, void* user_data,
                           tandem_app_result* result);

#ifdef __cplusplus
}
#endif

#endif /* TANDEM_TANDEM_H */
