/* The C API compiled as C: bad arguments are reported, not crashed on; tokenize,
 * detokenize, greedy generation, cancellation from the callback, prefix reuse. */
#include <stdio.h>
#include <string.h>

#include "tandem/tandem.h"

static int failures = 0;

#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                    \
    }                                                                \
  } while (0)

typedef struct {
  char text[4096];
  size_t len;
  int calls, cancel_after;
} Collector;

static int collect(const char* text, size_t len, void* user_data) {
  Collector* c = (Collector*)user_data;
  if (c->len + len < sizeof c->text) {
    memcpy(c->text + c->len, text, len);
    c->len += len;
    c->text[c->len] = '\0';
  }
  ++c->calls;
  return c->cancel_after == 0 || c->calls < c->cancel_after;
}

static void bad_arguments(void) {
  size_t n = 0;
  int32_t ids[4];
  char text[16];
  CHECK(tandem_model_load(NULL, NULL) == NULL);
  CHECK(strlen(tandem_last_error()) > 0);
  CHECK(tandem_model_load("/nonexistent/model.gguf", NULL) == NULL);
  CHECK(strstr(tandem_last_error(), "nonexistent") != NULL);
  CHECK(tandem_session_create(NULL) == NULL);
  CHECK(tandem_tokenize(NULL, "x", 1, ids, 4, &n) == TANDEM_ERROR_INVALID_ARGUMENT);
  CHECK(tandem_detokenize(NULL, ids, 1, text, sizeof text, &n) == TANDEM_ERROR_INVALID_ARGUMENT);
  CHECK(tandem_generate(NULL, "x", NULL, NULL, NULL, NULL) == TANDEM_ERROR_INVALID_ARGUMENT);
  CHECK(tandem_generate_tokens(NULL, NULL, 0, NULL, NULL, NULL, NULL) == TANDEM_ERROR_INVALID_ARGUMENT);
  CHECK(tandem_model_n_vocab(NULL) == -1);
  CHECK(tandem_session_n_ctx(NULL) == -1);
  tandem_model_free(NULL);
  tandem_session_free(NULL);
}

int main(void) {
  const char* path = TANDEM_SHARED_DIR "/models/stories260K.gguf";
  bad_arguments();

  tandem_model_options mo = tandem_model_default_options();
  mo.n_threads = 2;
  mo.n_ctx = 256;
  mo.reserved[0] = 1;
  CHECK(tandem_model_load(path, &mo) == NULL); /* reserved must be zero */
  mo.reserved[0] = 0;
  mo.memory_budget_bytes = 1000;
  CHECK(tandem_model_load(path, &mo) == NULL); /* weights exceed the budget */
  CHECK(strstr(tandem_last_error(), "budget") != NULL);
  mo.memory_budget_bytes = 0;
  tandem_model* model = tandem_model_load(path, &mo);
  if (!model) {
    fprintf(stderr, "cannot load %s: %s\n", path, tandem_last_error());
    return 1;
  }
  CHECK(tandem_model_n_vocab(model) == 512);

  /* tokenize: the needed size is reported when the buffer is too small */
  int32_t ids[64];
  size_t n = 0;
  CHECK(tandem_tokenize(model, "Once upon a time", 1, NULL, 0, &n) == TANDEM_ERROR_BUFFER_TOO_SMALL);
  CHECK(n == 5);
  CHECK(tandem_tokenize(model, "Once upon a time", 1, ids, 64, &n) == TANDEM_OK);
  CHECK(n == 5 && ids[0] == 1 && ids[1] == 403 && ids[4] == 378);
  char text[64];
  size_t len = 0;
  CHECK(tandem_detokenize(model, ids + 1, 4, text, 4, &len) == TANDEM_ERROR_BUFFER_TOO_SMALL);
  CHECK(tandem_detokenize(model, ids + 1, 4, text, sizeof text, &len) == TANDEM_OK);
  CHECK(strcmp(text, "Once upon a time") == 0 || strcmp(text, " Once upon a time") == 0);
  int32_t bad_id = 100000;
  CHECK(tandem_detokenize(model, &bad_id, 1, text, sizeof text, &len) == TANDEM_ERROR_INVALID_ARGUMENT);

  tandem_session* session = tandem_session_create(model);
  CHECK(session != NULL);
  tandem_model_free(model); /* the session keeps the weights alive */
  CHECK(tandem_session_n_ctx(session) == 256);

  tandem_generate_options go = tandem_generate_default_options();
  go.max_tokens = 24;
  go.temperature = 0;
  Collector first = {{0}, 0, 0, 0}, second = {{0}, 0, 0, 0};
  tandem_generate_result r;
  CHECK(tandem_generate(session, "Once upon a time", &go, collect, &first, &r) == TANDEM_OK);
  CHECK(r.finish == TANDEM_FINISH_LENGTH && r.n_generated_tokens == 24 && r.n_prompt_tokens == 5);
  CHECK(first.len > 0);
  /* the same prompt again: greedy gives the same text, and the prompt comes from the cache */
  CHECK(tandem_generate(session, "Once upon a time", &go, collect, &second, &r) == TANDEM_OK);
  CHECK(strcmp(first.text, second.text) == 0);
  CHECK(r.n_cached_tokens == 4);

  /* cancel from the callback */
  Collector cancelled = {{0}, 0, 0, 3};
  go.max_tokens = 100;
  CHECK(tandem_generate(session, "Once upon a time", &go, collect, &cancelled, &r) == TANDEM_OK);
  CHECK(r.finish == TANDEM_FINISH_CANCELLED && cancelled.calls == 3);

  /* stop strings, and bad options */
  const char* stops[] = {"time"};
  go.stop = stops;
  go.n_stop = 1;
  CHECK(tandem_generate(session, "Once upon a", &go, NULL, NULL, &r) == TANDEM_OK);
  CHECK(r.finish == TANDEM_FINISH_STOP);
  go.stop = NULL;
  CHECK(tandem_generate(session, "x", &go, NULL, NULL, NULL) == TANDEM_ERROR_INVALID_ARGUMENT);
  go.n_stop = 0;
  go.reserved[2] = 7;
  CHECK(tandem_generate(session, "x", &go, NULL, NULL, NULL) == TANDEM_ERROR_INVALID_ARGUMENT);
  CHECK(tandem_generate_tokens(session, ids, 0, NULL, NULL, NULL, NULL) == TANDEM_ERROR_INVALID_ARGUMENT);
  int32_t long_prompt[300];
  for (int i = 0; i < 300; ++i) long_prompt[i] = 403;
  CHECK(tandem_generate_tokens(session, long_prompt, 300, NULL, NULL, NULL, NULL) == TANDEM_ERROR_CONTEXT_FULL);
  CHECK(tandem_generate_tokens(session, &bad_id, 1, NULL, NULL, NULL, NULL) != TANDEM_OK);

  tandem_session_free(session);
  if (failures) fprintf(stderr, "%d checks failed\n", failures);
  else printf("all C API checks passed\n");
  return failures ? 1 : 0;
}
