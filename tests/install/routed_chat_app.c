/* An app that knows nothing of Tandem but tandem.h, built against the installed
 * library (tests/install/install_test.sh): a routed chat answered on the device, and
 * a refusal, with no cloud running. Prints what it saw; exits non-zero on a failed check.
 * Part 2 of issue 18 adds a summary here (see run_summary below). */
#include <stdio.h>
#include <string.h>

#include <tandem/tandem.h>

static int failures = 0;
#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s (%s)\n", __FILE__, __LINE__, #cond, \
              tandem_last_error());                                              \
      ++failures;                                                                \
    }                                                                            \
  } while (0)

typedef struct {
  char text[2048];
  size_t len;
  int route_calls;
} Answer;

static int on_text(const char* text, size_t len, void* user) {
  Answer* a = (Answer*)user;
  if (a->len + len < sizeof a->text) {
    memcpy(a->text + a->len, text, len);
    a->len += len;
    a->text[a->len] = '\0';
  }
  return 1;
}

static void on_route(tandem_route route, const char* reason, int fallback, void* user) {
  ++((Answer*)user)->route_calls;
  printf("route %d reason %s fallback %d\n", (int)route, reason, fallback);
}

/* The hook for the summary half of acceptance item 5 (issue 18, Part 2). */
static void run_summary(tandem_router* router) { (void)router; }

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.gguf\n", argv[0]);
    return 2;
  }
  printf("tandem %s, API version %d\n", tandem_version(), TANDEM_API_VERSION);
  tandem_model_options mo = tandem_model_default_options();
  mo.n_threads = 1;
  mo.n_ctx = 256;
  tandem_model* model = tandem_model_load(argv[1], &mo);
  CHECK(model != NULL);
  if (!model) return 1;

  /* A cloud where nothing listens: the router's probe fails and the device answers. */
  const char* config =
      "{\"ledger\": \":memory:\", \"health\": {\"probe_timeout_ms\": 200},"
      " \"cloud\": [{\"base_url\": \"http://127.0.0.1:9/v1\", \"model\": \"none\", \"timeout_s\": 1}]}";
  tandem_router* router = tandem_router_load_json(config, model);
  CHECK(router != NULL);
  if (!router) return 1;

  tandem_chat_message messages[1] = {{"user", "Tell me a story about a cat"}};
  tandem_generate_options go = tandem_generate_default_options();
  go.max_tokens = 24;
  go.temperature = 0;
  Answer answer;
  memset(&answer, 0, sizeof answer);
  tandem_routed_result result;
  CHECK(tandem_routed_chat(router, messages, 1, &go, NULL, on_route, on_text, &answer, &result) == TANDEM_OK);
  CHECK(result.route == TANDEM_ROUTE_DEVICE);
  CHECK(answer.route_calls == 1);
  CHECK(answer.len > 0);
  CHECK(result.n_generated_tokens == 24);
  printf("device answer (%s): %s\n", result.reason, answer.text);

  /* Private app data with no device model: refused, with the reason. */
  tandem_router* cloud_only = tandem_router_load_json(config, NULL);
  CHECK(cloud_only != NULL);
  const char* tags[1] = {"health"};
  tandem_route_options routing;
  memset(&routing, 0, sizeof routing);
  routing.data_tags = tags;
  routing.n_data_tags = 1;
  Answer refused;
  memset(&refused, 0, sizeof refused);
  CHECK(tandem_routed_chat(cloud_only, messages, 1, &go, &routing, on_route, on_text, &refused, &result) ==
        TANDEM_ERROR_ROUTE_REFUSED);
  CHECK(result.route == TANDEM_ROUTE_REFUSED);
  CHECK(refused.len == 0);
  printf("refused (%s): %s\n", result.reason, tandem_last_error());

  run_summary(router);
  tandem_router_free(cloud_only);
  tandem_router_free(router);
  tandem_model_free(model);
  printf(failures ? "FAILED\n" : "ALL OK\n");
  return failures ? 1 : 0;
}
