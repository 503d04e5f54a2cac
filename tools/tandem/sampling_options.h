// Sampling flags shared by `run` and `chat`.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.h"
#include "core/mapped_file.h"
#include "generate/session.h"
#include "memory/budget.h"
#include "memory/plan.h"

namespace tandem::cli {

// How the weights come into memory: --no-mmap, --mlock, and a progress bar on a terminal.
struct WeightFlags {
  bool no_mmap = false;
  bool mlock = false;

  void add_to(CLI::App* cmd) {
    cmd->add_flag("--no-mmap", no_mmap, "read the weights into memory instead of mapping the file");
    cmd->add_flag("--mlock", mlock, "lock the weights in RAM (a warning if RLIMIT_MEMLOCK refuses)");
  }

  MapOptions map_options(const std::string& path) const {
    MapOptions o;
    o.use_mmap = !no_mmap;
    o.mlock = mlock;
    o.prefault = true;  // commit what the memory plan counts at load (see MapOptions)
    o.progress = terminal_progress(std::filesystem::path(path).filename().string());
    return o;
  }

  gguf::File open(const std::string& path) const { return gguf::File::parse(MappedFile::open(path, map_options(path))); }
};

struct GenerationFlags {
  std::string model;
  int n_predict = 256;
  int n_ctx = 0;
  int threads = 0;
  std::string kv_type = "f16";
  std::string mem_budget;  // empty: no budget
  bool fit = false;
  bool ignore_eos = false;
  std::vector<std::string> stop;
  std::string json_schema_file;  // empty: free text
  generate::SamplerOptions sampling;
  WeightFlags weights;

  void add_to(CLI::App* cmd) {
    weights.add_to(cmd);
    cmd->add_option("-m,--model", model, "GGUF file (default: $TANDEM_MODEL, then the shared stories260K.gguf; tandem --help says where)");
    cmd->add_option("-n,--n-predict", n_predict, "tokens to generate (-1: until end of text or context full)");
    cmd->add_option("-c,--ctx-size", n_ctx, "context size in tokens (0: the model's, capped at 4096)");
    cmd->add_option("-t,--threads", threads, "threads (0: all cores; more than the cores is capped)");
    cmd->add_option("--kv-type", kv_type, "KV cache type: f32, f16, q8_0, q4_0");
    cmd->add_option("--mem-budget", mem_budget, "refuse to start if the planned memory exceeds SIZE (e.g. 4GiB)");
    cmd->add_flag("--fit", fit, "with --mem-budget: pick the largest context and KV type that fit instead");
    cmd->add_option("--temp", sampling.temperature, "temperature, 0 to 2 (0: greedy)");
    cmd->add_option("--top-k", sampling.top_k, "top-k (0: off)");
    cmd->add_option("--top-p", sampling.top_p, "top-p, 0 to 1 (1: off)");
    cmd->add_option("--min-p", sampling.min_p, "min-p, 0 to 1 (0: off)");
    cmd->add_option("--repeat-penalty", sampling.repeat_penalty, "repetition penalty, 0 to 10 (1: off)");
    cmd->add_option("--repeat-last-n", sampling.repeat_last_n, "tokens the penalties look back over");
    cmd->add_option("--frequency-penalty", sampling.frequency_penalty, "frequency penalty, as in OpenAI's API (-2 to 2)");
    cmd->add_option("--presence-penalty", sampling.presence_penalty, "presence penalty, as in OpenAI's API (-2 to 2)");
    cmd->add_option("-s,--seed", sampling.seed, "random seed (same seed, same text)")->default_str("random");
    cmd->add_option("--stop", stop, "stop string (repeatable)")->default_str("");
    cmd->add_flag("--ignore-eos", ignore_eos, "keep generating past the end-of-text token");
    cmd->add_option("--json-schema", json_schema_file,
                    "the output is a JSON document matching this JSON Schema file (subset: docs/api.md)");
  }

  // The server's ranges (generate::sampler_settings) and the CLI's own for -n, -c, -t.
  model::ContextOptions context_options() const {
    return {.n_ctx = check_context_size(n_ctx), .n_threads = check_threads(threads), .kv_type = parse_kv_type(kv_type)};
  }

  // Opens the model after checking the memory plan against --mem-budget (which may
  // shrink the context or KV type under --fit: the returned options say what to use).
  std::shared_ptr<model::Model> load_within_budget(model::ContextOptions& options) const {
    const std::string path = resolve_model_path(model);
    // The budget is checked on the header alone, before any weight page is touched.
    auto header = gguf::File::open(path);
    if (!mem_budget.empty()) {
      auto choice = memory::enforce_budget(header, options.n_ctx, options.kv_type, memory::parse_size(mem_budget), fit);
      options.n_ctx = choice.n_ctx;
      options.kv_type = choice.kv_type;
      if (!choice.message.empty()) std::fprintf(stderr, "%s\n", choice.message.c_str());
    } else if (fit) {
      fail("--fit needs --mem-budget SIZE");
    }
    auto model = model::Model::from_file(weights.open(path));
    warn_context_above_training(options.n_ctx, model->hparams().n_ctx_train);
    return model;
  }

  // The --json-schema file's JSON, when given; a tandem::Error naming the file otherwise.
  std::optional<nlohmann::ordered_json> json_schema() const {
    if (json_schema_file.empty()) return std::nullopt;
    const auto schema = nlohmann::ordered_json::parse(read_text_file(json_schema_file, "JSON schema file"), nullptr, false);
    if (schema.is_discarded()) fail("--json-schema: '", json_schema_file, "' is not valid JSON");
    return schema;
  }

  generate::GenerateOptions generate_options() const {
    if (n_predict < -1) fail("-n/--n-predict must be -1 (until the end of text or a full context) or more, got ", n_predict);
    generate::check_sampler_flags(sampling);
    generate::GenerateOptions o;
    o.max_tokens = n_predict;
    o.sampling = sampling;
    o.stop = stop;
    o.ignore_eos = ignore_eos;
    if (const auto schema = json_schema()) {
      try {
        o.constraint = generate::JsonConstraint::from_schema(*schema, generate::JsonLimits::for_requests());
      } catch (const Error& error) {
        fail("--json-schema '", json_schema_file, "': ", error.what());
      }
    }
    return o;
  }
};

// Speculative decoding: --draft D.gguf, --lookup N, --draft-k K (run, bench).
struct SpeculativeFlags {
  std::string draft;
  int lookup = 0;
  int k = 0;  // 0: the default for the method

  void add_to(CLI::App* cmd) {
    cmd->add_option("--draft", draft, "speculative decoding with this draft model (same vocabulary, smaller)");
    cmd->add_option("--lookup", lookup, "speculative decoding by prompt lookup: match n-grams of up to N tokens")
        ->check(CLI::Range(1, 16));
    cmd->add_option("--draft-k", k, "tokens drafted per verification pass (default: 4 with --draft, 8 with --lookup)")
        ->check(CLI::Range(1, generate::kMaxDraftTokens));
  }

  generate::SpeculativeOptions options() const {
    generate::SpeculativeOptions o;
    if (!draft.empty() && lookup > 0) fail("give either --draft or --lookup, not both");
    if (!draft.empty()) {
      o.method = generate::SpeculativeOptions::Method::DraftModel;
      o.k = k > 0 ? k : 4;
    } else if (lookup > 0) {
      o.method = generate::SpeculativeOptions::Method::Lookup;
      o.ngram = lookup;
      o.k = k > 0 ? k : 8;
    } else if (k > 0) {
      fail("--draft-k needs --draft or --lookup");
    }
    return o;
  }
};

}  // namespace tandem::cli
