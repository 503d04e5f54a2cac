// tandem plan: the memory a run will take, from the GGUF header alone (or from a
// model shape and a quantization type), and the largest context that fits a budget.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "gguf/file.h"
#include "memory/plan.h"
#include "memory/shape_layout.h"

namespace tandem::cli {
namespace {

// Smallest per token first: the order the budget's answer is read in.
constexpr quant::Type kKvTypes[] = {quant::Type::Q4_0, quant::Type::Q8_0, quant::Type::F16, quant::Type::F32};

struct PlanArgs {
  std::string model, shape, type = "Q4_K_M", kv_type = "f16", budget;
  int n_ctx = 0;
  bool json = false, all_logits = false;
  bool type_given = false;  // --type on the command line
};

std::string lower(std::string_view name) {
  std::string s(name);
  for (char& c : s) c = char(std::tolower((unsigned char)c));
  return s;
}

void print_text(const std::string& what, const memory::ModelLayout& m, const memory::Plan& p) {
  using memory::human_bytes;
  std::printf("%s: %s, %d layers, n_embd %d, heads %d/%d (kv), head_dim %d, n_ff %d, vocab %d\n", what.c_str(),
              m.arch.c_str(), m.n_layer, m.n_embd, m.n_head, m.n_head_kv, m.head_dim, m.n_ff, m.n_vocab);
  std::printf("context %d tokens, KV cache %s\n\n", p.n_ctx, lower(quant::type_name(p.kv_type)).c_str());
  std::printf("  %-44s %14s\n", "weights (memory-mapped or moved, never copied)", human_bytes(p.weights_bytes).c_str());
  for (const auto& g : p.weights)
    std::printf("    %-6s %4d tensors %31s\n", std::string(quant::type_name(g.type)).c_str(), g.n_tensors,
                human_bytes(g.bytes).c_str());
  std::printf("    %-42s %14s\n", "of which repacked at load (anonymous memory)", human_bytes(p.repacked_bytes).c_str());
  std::printf("  %-44s %14s\n", "KV cache", human_bytes(p.kv_bytes).c_str());
  std::printf("    %s per token (%s per layer) x %d tokens\n", human_bytes(p.kv_bytes_per_token).c_str(),
              human_bytes(p.kv_bytes_per_token / std::max(1, m.n_layer)).c_str(), p.n_ctx);
  std::printf("  %-44s %14s\n", "compute buffers", human_bytes(p.compute_bytes).c_str());
  for (const auto& [name, bytes] : p.compute) std::printf("    %-42s %14s\n", name.c_str(), human_bytes(bytes).c_str());
  std::printf("  %-44s %14s\n", "overhead", human_bytes(p.overhead_bytes).c_str());
  for (const auto& [name, bytes] : p.overhead) std::printf("    %-42s %14s\n", name.c_str(), human_bytes(bytes).c_str());
  std::printf("  %-44s %14s  (%llu bytes)\n", "total: predicted peak resident memory", human_bytes(p.total_bytes).c_str(),
              (unsigned long long)p.total_bytes);
}

nlohmann::ordered_json to_json(const std::string& what, const memory::ModelLayout& m, const memory::Plan& p) {
  nlohmann::ordered_json j;
  j["model"] = what;
  j["arch"] = m.arch;
  j["n_layer"] = m.n_layer;
  j["n_vocab"] = m.n_vocab;
  j["n_ctx"] = p.n_ctx;
  j["kv_type"] = lower(quant::type_name(p.kv_type));
  nlohmann::ordered_json by_type = nlohmann::ordered_json::object();
  for (const auto& g : p.weights)
    by_type[std::string(quant::type_name(g.type))] = {{"tensors", g.n_tensors}, {"bytes", g.bytes}};
  j["weights"] = {{"bytes", p.weights_bytes}, {"by_type", by_type}, {"repacked_bytes", p.repacked_bytes}};
  j["kv_cache"] = {{"bytes", p.kv_bytes},
                   {"bytes_per_token", p.kv_bytes_per_token},
                   {"bytes_per_token_per_layer", p.kv_bytes_per_token / std::max(1, m.n_layer)}};
  nlohmann::ordered_json compute = nlohmann::ordered_json::object(), overhead = nlohmann::ordered_json::object();
  for (const auto& [name, bytes] : p.compute) compute[name] = bytes;
  for (const auto& [name, bytes] : p.overhead) overhead[name] = bytes;
  j["compute"] = {{"bytes", p.compute_bytes}, {"parts", compute}};
  j["overhead"] = {{"bytes", p.overhead_bytes}, {"parts", overhead}};
  j["total_bytes"] = p.total_bytes;
  return j;
}

void run_plan(const PlanArgs& a) {
  if (a.model.empty() == a.shape.empty()) fail("give either -m MODEL.gguf or --shape NAME (with --type)");
  if (!a.model.empty() && a.type_given)
    fail("--type goes with --shape; a file's tensor types are its own (quantize it with tandem quantize)");
  check_context_size(a.n_ctx);
  memory::ModelLayout layout;
  std::string what;
  if (!a.model.empty()) {
    layout = memory::layout_from_gguf(gguf::File::open(a.model));
    what = a.model;
  } else {
    const synth::ModelShape* shape = synth::find_shape(a.shape);
    if (!shape) {
      std::string known;
      for (const auto& s : synth::all_shapes()) known += (known.empty() ? "" : ", ") + std::string(s.name);
      fail("unknown shape '", a.shape, "' (known: ", known, ")");
    }
    const quant::Recipe& recipe = quant::find_recipe(a.type);
    const std::string vocab = shape->vocab.empty() ? "" : "../shared/tokenizers/ggml-vocab-" + std::string(shape->vocab) + ".gguf";
    layout = memory::layout_from_shape(*shape, recipe, vocab);
    what = std::string(shape->name) + " " + std::string(recipe.name);
  }
  memory::PlanOptions options{.n_ctx = a.n_ctx, .kv_type = parse_kv_type(a.kv_type), .all_logits = a.all_logits};
  const memory::Plan plan = memory::make_plan(layout, options);
  warn_context_above_training(a.n_ctx, layout.n_ctx_train);

  nlohmann::ordered_json j = to_json(what, layout, plan);
  if (!a.budget.empty()) {
    const uint64_t budget = memory::parse_size(a.budget);
    const int max_ctx = layout.n_ctx_train > 0 ? layout.n_ctx_train : 32768;
    nlohmann::ordered_json fits = nlohmann::ordered_json::object();
    for (quant::Type kv : kKvTypes) {
      memory::PlanOptions o = options;
      o.kv_type = kv;
      fits[lower(quant::type_name(kv))] = memory::largest_context(layout, o, budget, max_ctx);
    }
    j["budget"] = {{"bytes", budget}, {"fits", plan.total_bytes <= budget}, {"largest_context", fits},
                   {"max_context", max_ctx}};
  }
  if (a.json) {
    std::printf("%s\n", j.dump(1).c_str());
    return;
  }
  print_text(what, layout, plan);
  if (j.contains("budget")) {
    const auto& b = j["budget"];
    std::printf("\nbudget %s: this plan %s. Largest context (up to %d) per KV type:", a.budget.c_str(),
                b["fits"].get<bool>() ? "fits" : "does NOT fit", b["max_context"].get<int>());
    for (auto& [kv, n] : b["largest_context"].items()) {
      if (n.get<int>() > 0) std::printf("  %s %d", kv.c_str(), n.get<int>());
      else std::printf("  %s none", kv.c_str());
    }
    std::printf("\n");
  }
}

}  // namespace

void add_plan(CLI::App& app) {
  auto* cmd = app.add_subcommand("plan", "Predict a run's memory from the GGUF header (or a model shape)");
  static PlanArgs args;
  cmd->add_option("-m,--model", args.model, "GGUF file (only its header is read)");
  cmd->add_option("--shape", args.shape, "a model shape instead of a file (e.g. llama-2-7b), see tandem synth");
  cmd->add_option("--type", args.type, "with --shape: quantization type")->each([](const std::string&) { args.type_given = true; });
  cmd->add_option("-c,--ctx-size", args.n_ctx, "context size in tokens (0: what run uses, the model's capped at 4096)");
  cmd->add_option("--kv-type", args.kv_type, "KV cache type: f32, f16, q8_0, q4_0 (as run)");
  cmd->add_option("--budget", args.budget, "memory budget, e.g. 4GiB: prints the largest context that fits");
  cmd->add_flag("--all-logits", args.all_logits, "keep logits of every batch position (perplexity)");
  cmd->add_flag("--json", args.json, "machine-readable breakdown with \"total_bytes\"");
  cmd->callback([] { run_plan(args); });
}

}  // namespace tandem::cli
