// summarize_eval: scores `tandem summarize` with ROUGE-L against reference summaries, on
// the Chinese and English documents in bench/summarize/set (written for this project;
// see bench/summarize/README.md), with whatever model it is given. Each document X.txt
// has its reference X.ref.txt. Next to the model's score it prints a lead baseline (the
// document's first words, as many units as the reference has), which any useful
// summarizer should beat. Deterministic by default (temperature 0).
//
//   build/summarize_eval -m MODEL.gguf [-c CTX] [--length short] [--temp 0] [--set DIR] [--json]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "assistant/document.h"
#include "assistant/rouge.h"
#include "assistant/summarize.h"
#include "generate/session.h"
#include "tokenizer/tokenizer.h"

namespace {

using namespace tandem;

struct Scored {
  std::string id, language;
  assistant::RougeL model, lead;
  int chunks = 0, calls = 0;
  std::string summary;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"summarize_eval: ROUGE-L of the summarize app against reference summaries"};
  std::string model_path, set_dir = std::string(TANDEM_SOURCE_DIR) + "/bench/summarize/set", length = "short";
  int n_ctx = 0, threads = 0;
  float temperature = 0;
  bool json_out = false;
  app.add_option("-m,--model", model_path, "GGUF model")->required();
  app.add_option("-c,--ctx-size", n_ctx, "context (0: the model's, capped at 4096)");
  app.add_option("-t,--threads", threads, "threads (0: all cores)");
  app.add_option("--set", set_dir, "directory of X.txt documents with X.ref.txt references");
  app.add_option("--length", length, "summary length preset");
  app.add_option("--temp", temperature, "temperature (0: greedy, the same scores every run)");
  app.add_flag("--json", json_out, "one JSON object instead of the table");
  CLI11_PARSE(app, argc, argv);

  try {
    std::vector<std::string> ids;
    for (const auto& entry : std::filesystem::directory_iterator(set_dir)) {
      const std::string name = entry.path().filename().string();
      if (name.size() > 8 && name.substr(name.size() - 8) == ".ref.txt") ids.push_back(name.substr(0, name.size() - 8));
    }
    std::sort(ids.begin(), ids.end());
    if (ids.empty()) fail("no X.ref.txt references in '", set_dir, "'");

    auto model = model::Model::load(model_path);
    auto tok = tokenizer::Tokenizer::from_gguf(model->file());
    const auto format = tokenizer::ChatFormat::of(model->file(), *tok, "");
    generate::Session session(model, *tok, model::ContextOptions{.n_ctx = n_ctx, .n_threads = threads});
    const assistant::Tasks tasks = assistant::Tasks::load();
    const assistant::Engine engine{nullptr, &session, &format, "", &tasks};

    std::vector<Scored> scores;
    for (const std::string& id : ids) {
      const std::string document = assistant::read_document_file(set_dir + "/" + id + ".txt", assistant::Format::Auto).text;
      const std::string reference =
          assistant::read_document_file(set_dir + "/" + id + ".ref.txt", assistant::Format::Text).text;
      assistant::SummaryOptions options;
      options.length = length;
      options.sampling.temperature = temperature;
      assistant::SummaryJob job(engine, document, options);
      job.start();
      const assistant::Result result = job.run({});
      Scored s;
      s.id = id;
      s.language = job.language();
      s.summary = result.text;
      s.chunks = result.chunks;
      s.calls = result.calls;
      s.model = assistant::rouge_l(result.text, reference);
      const std::vector<std::string> reference_units = assistant::rouge_units(reference);
      std::vector<std::string> lead = assistant::rouge_units(document);
      lead.resize(std::min(lead.size(), reference_units.size()));
      s.lead = assistant::rouge_l(lead, reference_units);
      scores.push_back(std::move(s));
    }

    auto mean = [&](const std::string& language, bool lead) {
      double sum = 0;
      int n = 0;
      for (const Scored& s : scores) {
        if (!language.empty() && s.language != language) continue;
        sum += lead ? s.lead.f1 : s.model.f1;
        ++n;
      }
      return n ? sum / n : 0.0;
    };
    const std::string model_name = std::filesystem::path(model_path).filename().string();
    if (json_out) {
      nlohmann::ordered_json out{{"model", model_name}, {"n_ctx", session.n_ctx()}, {"length", length},
                                 {"temperature", temperature}, {"documents", nlohmann::ordered_json::array()}};
      for (const Scored& s : scores) {
        out["documents"].push_back({{"id", s.id}, {"language", s.language}, {"chunks", s.chunks}, {"calls", s.calls},
                                    {"rouge_l", {{"precision", s.model.precision}, {"recall", s.model.recall}, {"f1", s.model.f1}}},
                                    {"lead_f1", s.lead.f1}, {"summary", s.summary}});
      }
      out["mean_f1"] = {{"en", mean("en", false)}, {"zh", mean("zh", false)}, {"all", mean("", false)}};
      out["lead_mean_f1"] = {{"en", mean("en", true)}, {"zh", mean("zh", true)}, {"all", mean("", true)}};
      std::printf("%s\n", out.dump(2).c_str());
      return 0;
    }
    std::printf("summarize_eval: %s, context %d, length %s, temperature %g, %zu documents\n", model_name.c_str(),
                session.n_ctx(), length.c_str(), double(temperature), scores.size());
    std::printf("%-12s %-4s %6s %5s   %-9s %-9s %-9s  %s\n", "document", "lang", "chunks", "calls", "ROUGE-L P", "R", "F1",
                "lead F1");
    for (const Scored& s : scores) {
      std::printf("%-12s %-4s %6d %5d   %-9.3f %-9.3f %-9.3f  %.3f\n", s.id.c_str(), s.language.c_str(), s.chunks, s.calls,
                  s.model.precision, s.model.recall, s.model.f1, s.lead.f1);
    }
    for (const char* language : {"en", "zh", ""}) {
      std::printf("mean %-3s  ROUGE-L F1 %.3f   (lead baseline %.3f)\n", *language ? language : "all",
                  mean(language, false), mean(language, true));
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
  return 0;
}
