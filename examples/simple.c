/* simple.c: load a GGUF model with the Tandem C API and stream a continuation.
 *   tandem_simple MODEL.gguf "Once upon a time" [max_tokens]
 */
#include <stdio.h>
#include <stdlib.h>

#include "tandem/tandem.h"

static int print_text(const char* text, size_t len, void* user_data) {
  (void)user_data;
  fwrite(text, 1, len, stdout);
  fflush(stdout);
  return 1; /* 0 would cancel */
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.gguf PROMPT [MAX_TOKENS]\n", argv[0]);
    return 2;
  }
  tandem_model_options model_options = tandem_model_default_options();
  model_options.n_threads = 2;
  tandem_model* model = tandem_model_load(argv[1], &model_options);
  if (!model) {
    fprintf(stderr, "error: %s\n", tandem_last_error());
    return 1;
  }
  tandem_session* session = tandem_session_create(model);
  if (!session) {
    fprintf(stderr, "error: %s\n", tandem_last_error());
    tandem_model_free(model);
    return 1;
  }

  tandem_generate_options options = tandem_generate_default_options();
  options.max_tokens = argc > 3 ? atoi(argv[3]) : 64;
  options.temperature = 0; /* greedy: the same text every run */
  tandem_generate_result result;
  fputs(argv[2], stdout);
  tandem_status status = tandem_generate(session, argv[2], &options, print_text, NULL, &result);
  fputs("\n", stdout);
  if (status != TANDEM_OK) {
    fprintf(stderr, "error: %s\n", tandem_last_error());
  } else {
    fprintf(stderr, "%d prompt tokens, %d generated in %.3f s\n", (int)result.n_prompt_tokens,
            (int)result.n_generated_tokens, result.generate_seconds);
  }
  tandem_session_free(session);
  tandem_model_free(model);
  return status == TANDEM_OK ? 0 : 1;
}
