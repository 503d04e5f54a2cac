// tandem bench: pp/tg tokens per second like llama-bench, with the machine's read
// bandwidth and the fraction of the memory roofline that tg reaches.
// `--json` prints one line per thread count, with the peer script's field names.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "bench/bandwidth.h"
#include "bench/bench.h"
#include "bench/speculative_bench.h"
#include "commands.h"
#include "model/context.h"
#include "sampling_options.h"

namespace tandem::cli {

namespace {

nlohmann::ordered_json stats_json(const bench::Stats& s) {
  return {{"tokens", s.tokens}, {"min", s.min}, {"median", s.median}, {"max", s.max}};
}

nlohmann::ordered_json overhead_json(const bench::TokenOverhead& o) {
  return {{"token_us", o.token_us},       {"sync_wait_us", o.sync_wait_us}, {"sampling_us", o.sampling_us},
          {"regions", o.regions},         {"fraction", o.fraction}};
}

std::string base_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// --draft / --lookup: the verification cost per k and the speed-up beside plain decoding.
void print_speculative(const bench::SpeculativeBenchResult& r, const std::string& path,
                       const generate::SpeculativeOptions& options, const std::string& draft, bool json) {
  const char* method = generate::to_string(options.method);
  if (json) {
    nlohmann::ordered_json verify = nlohmann::ordered_json::array();
    for (const auto& v : r.verify) verify.push_back({{"k", v.k}, {"pass_ms", v.pass_ms}, {"ratio", v.ratio}});
    nlohmann::ordered_json line = {
        {"engine", "tandem"}, {"model", path}, {"threads", r.threads}, {"test", "speculative"},
        {"speculative", {{"method", method}, {"k", options.k}, {"ngram", options.ngram}, {"draft", draft}}},
        {"step_ms", r.step_ms}, {"verify", verify}, {"plain_tg", stats_json(r.plain)},
        {"speculative_tg", stats_json(r.speculative)}, {"speedup", r.speedup}, {"drafted", r.drafted},
        {"accepted", r.accepted}, {"verify_passes", r.verify_passes}, {"acceptance", r.acceptance}};
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
    return;
  }
  std::printf("\nspeculative decoding (%s, k %d), threads %d:\n", method, options.k, r.threads);
  std::printf("| drafted k | verify pass (k+1 tokens) ms | x one decode step (%.2f ms) |\n|---|---|---|\n", r.step_ms);
  for (const auto& v : r.verify) std::printf("| %d | %.2f | %.2f |\n", v.k, v.pass_ms, v.ratio);
  std::printf("| greedy tg%d | t/s min | t/s median | t/s max |\n|---|---|---|---|\n", r.plain.tokens);
  for (const auto& [name, s] : {std::pair{"plain", r.plain}, std::pair{method, r.speculative}})
    std::printf("| %s | %.2f | %.2f | %.2f |\n", name, s.min, s.median, s.max);
  std::printf("speed-up %.2fx at %.1f%% acceptance (%d of %d drafted tokens kept, %d verification passes)\n",
              r.speedup, 100 * r.acceptance, r.accepted, r.drafted, r.verify_passes);
  std::fflush(stdout);
}

}  // namespace

void add_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Measure prompt (pp) and generation (tg) tokens per second, like llama-bench");
  static std::string model_path;
  static int prompt_tokens = 128, gen_tokens = 64, repetitions = 5;
  static std::vector<int> threads = {2};
  static bool json = false;
  static int bandwidth_mib = 0;
  static SpeculativeFlags speculative;
  cmd->add_option("-m,--model", model_path, "GGUF model (default: $TANDEM_MODEL or stories260K)");
  cmd->add_option("-p,--prompt-tokens", prompt_tokens, "prompt tokens evaluated in one batch (pp; 0 skips that test)")->capture_default_str();
  cmd->add_option("-n,--gen-tokens", gen_tokens, "single-token decode steps (tg)")->capture_default_str();
  cmd->add_option("-t,--threads", threads, "thread counts, comma-separated")->delimiter(',')->capture_default_str();
  cmd->add_option("-r,--repetitions", repetitions, "timed repetitions after one warm-up")->capture_default_str();
  cmd->add_flag("--json", json, "one JSON line per thread count");
  cmd->add_option("--bandwidth-mib", bandwidth_mib, "bandwidth probe buffer in MiB (0: 8x last-level cache, >= 256)");
  speculative.add_to(cmd);
  cmd->callback([] {
    const std::string path = resolve_model_path(model_path);
    const generate::SpeculativeOptions speculative_options = speculative.options();
    std::shared_ptr<const model::Model> model = model::Model::load(path);
    std::shared_ptr<const model::Model> draft;
    if (!speculative.draft.empty()) {
      draft = model::Model::load(speculative.draft);
      generate::check_draft_model(*model, *draft);  // before the plain figures, not after
    }
    const uint64_t bytes_per_token = bench::weight_bytes_per_token(*model);
    if (!json) {
      std::printf("model %s: %.1f MiB of weights read per generated token\n\n", path.c_str(), bytes_per_token / 1048576.0);
      std::printf("| engine | model | threads | test | t/s min | t/s median | t/s max |\n|---|---|---|---|---|---|---|\n");
    }
    std::vector<std::string> roofline_notes;
    for (int n_threads : threads) {
      const auto r = bench::run_bench(model, {.prompt_tokens = prompt_tokens,
                                              .gen_tokens = gen_tokens,
                                              .threads = n_threads,
                                              .repetitions = repetitions,
                                              .bandwidth_buffer_bytes = (size_t)bandwidth_mib << 20,
                                              .bytes_per_token = bytes_per_token});
      const double bandwidth = r.bandwidth_gbs;
      const double roofline_tps = bandwidth * 1e9 / (double)bytes_per_token;
      const double fraction = r.tg_roofline_fraction;
      if (json) {
        nlohmann::ordered_json line = {{"engine", "tandem"}, {"model", path}, {"threads", n_threads}};
        if (prompt_tokens > 0) line["pp"] = stats_json(r.pp);  // -p 0: no prompt test
        line["tg"] = stats_json(r.tg);
        line["bandwidth_gbs"] = bandwidth;
        line["tg_roofline_fraction"] = fraction;
        line["tg_overhead"] = overhead_json(r.overhead);
        std::printf("%s\n", line.dump().c_str());
        std::fflush(stdout);
        continue;
      }
      for (const auto& [test, s] : {std::pair{"pp", r.pp}, std::pair{"tg", r.tg}}) {
        if (s.tokens == 0) continue;  // -p 0 skips the prompt test, as in llama-bench
        std::printf("| tandem | %s | %d | %s%d | %.2f | %.2f | %.2f |\n", base_name(path).c_str(), n_threads, test, s.tokens,
                    s.min, s.median, s.max);
      }
      std::fflush(stdout);
      char note[200];
      std::snprintf(note, sizeof note, "threads %d: read bandwidth %.1f GB/s, tg roofline %.1f t/s, tg at %.1f%% of it (medians; bandwidth probed before each repetition)",
                    n_threads, bandwidth, roofline_tps, 100 * fraction);
      roofline_notes.push_back(note);
      const bench::TokenOverhead& o = r.overhead;
      std::snprintf(note, sizeof note,
                    "threads %d: per-token overhead %.1f%% (waiting at %lld region ends %.0f us, sampling %.0f us; a "
                    "decode step %.0f us)",
                    n_threads, 100 * o.fraction, (long long)o.regions, o.sync_wait_us, o.sampling_us, o.token_us);
      roofline_notes.push_back(note);
    }
    if (!json) {
      std::printf("\n");
      for (const auto& note : roofline_notes) std::printf("%s\n", note.c_str());
    }
    if (speculative_options.enabled())
      for (int n_threads : threads)
        print_speculative(bench::run_speculative_bench(model, {.prompt_tokens = prompt_tokens,
                                                               .gen_tokens = gen_tokens,
                                                               .threads = n_threads,
                                                               .repetitions = repetitions,
                                                               .speculative = speculative_options,
                                                               .draft = draft}),
                          path, speculative_options, speculative.draft, json);
  });
}

}  // namespace tandem::cli
