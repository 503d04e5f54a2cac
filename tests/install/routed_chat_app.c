/* An app that knows nothing of Tandem but tandem.h, built against the installed
 * library (tests/install/install_test.sh): a routed chat answered on the device, and
 * a refusal, with no cloud running, and a summary (map-reduce on the device). Prints what
 * it saw; exits non-zero on a failed check. */
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

static int on_progress(const tandem_progress* progress, void* user) {
  (void)progress;
  ++((Answer*)user)->route_calls; /* counted apart from on_route below */
  return 1;
}

/* A summary of a document long enough to be cut into pieces at this context (map-reduce),
 * on the device, and a corrupt PDF refused with TANDEM_ERROR_DOCUMENT. */
static void run_summary(tandem_router* router) {
  char document[4096] = "";
  const char* sentences[4] = {"Tom had a red ball and he liked to play with it in the park every day. ",
                              "One day the ball rolled into the pond and Tom was very sad. ",
                              "A kind duck pushed the ball back to the shore with its beak. ",
                              "Tom said thank you to the duck and they became good friends.\n\n"};
  for (int i = 0; i < 12; ++i) strcat(document, sentences[i % 4]);
  tandem_summary_options so;
  memset(&so, 0, sizeof so);
  so.length = "short";
  tandem_generate_options go = tandem_generate_default_options();
  go.temperature = 0;
  Answer summary;
  memset(&summary, 0, sizeof summary);
  tandem_app_result result;
  CHECK(tandem_summarize(router, document, strlen(document), &so, &go, NULL, NULL, on_progress, on_text, &summary,
                         &result) == TANDEM_OK);
  CHECK(result.route == TANDEM_ROUTE_DEVICE);
  CHECK(result.finish != TANDEM_FINISH_CANCELLED);
  CHECK(result.chunks > 1);  /* cut into pieces, then combined */
  CHECK(result.levels >= 1);
  CHECK(result.calls > result.chunks);
  CHECK(summary.route_calls > result.chunks); /* progress events */
  CHECK(summary.len > 0);
  CHECK(strcmp(result.language, "en") == 0);
  printf("summary (%s; %d chunks, %d calls): %s\n", result.reason, (int)result.chunks, (int)result.calls, summary.text);

  const char corrupt[] = "%PDF-1.7\n1 0 obj garbage";
  CHECK(tandem_summarize(router, corrupt, sizeof corrupt - 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, &result) ==
        TANDEM_ERROR_DOCUMENT);
  printf("corrupt PDF: %s\n", tandem_last_error());
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.gguf\n", argv[0]);
    return 2;
  }
  printf("tandem %s, API version %d\n", tandem_version(), TANDEM_API_VERSION);
  tandem_model_options mo = tandem_model_default_options();
  mo.n_threads = 1;
  mo.n_ctx = 512; /* the summary's prompts need room beside a piece of the document */
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
