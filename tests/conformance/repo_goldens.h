// The goldens kept in the repository: tests/data/goldens/<name>/ holds a small random-
// weight model of one architecture (spec.json, made by `tandem synth --spec`), llama.cpp's
// quantization of it and the reference's golden-<TYPE>-prompt<N>.json files
// (tools/goldens/make_goldens.sh). Each golden is one more conformance case: a new folder
// is a new architecture under test, with no test code of its own.
#pragma once
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tandem::test {

struct RepoGolden {
  std::string name;    // the folder's name, e.g. qwen3
  std::string folder;  // absolute path
  std::string golden;  // golden-F32-prompt1.json
  std::string model;   // the GGUF it was computed from (its model_file)
  float atol;          // spec.json's "tolerance" for the golden's type
};

inline std::vector<RepoGolden> repo_goldens() {
  namespace fs = std::filesystem;
  std::vector<RepoGolden> out;
  const fs::path root = fs::path(TANDEM_SOURCE_DIR) / "tests/data/goldens";
  if (!fs::exists(root)) return out;
  std::vector<fs::path> folders;
  for (const auto& entry : fs::directory_iterator(root))
    if (entry.is_directory() && fs::exists(entry.path() / "spec.json")) folders.push_back(entry.path());
  std::sort(folders.begin(), folders.end());
  for (const fs::path& folder : folders) {
    std::ifstream spec_in(folder / "spec.json");
    const auto spec = nlohmann::json::parse(spec_in);
    std::vector<std::string> goldens;
    for (const auto& entry : fs::directory_iterator(folder)) {
      const std::string file = entry.path().filename().string();
      if (file.rfind("golden-", 0) == 0 && file.size() > 5 && file.substr(file.size() - 5) == ".json") goldens.push_back(file);
    }
    std::sort(goldens.begin(), goldens.end());
    for (const std::string& file : goldens) {
      std::ifstream in(folder / file);
      const auto j = nlohmann::json::parse(in);
      const std::string type = file.substr(7, file.find("-prompt") - 7);  // golden-<TYPE>-promptN.json
      // A deq_ golden ran on the quantized file's weights decoded to F32 (not kept): Tandem
      // runs the quantized file itself, on the exact path (the test picks it by the name).
      const std::string model = j.contains("dequantized_from") ? j["dequantized_from"].at("file").get<std::string>()
                                                               : j.at("model_file").get<std::string>();
      out.push_back({folder.filename().string(), folder.string(), file, model, spec.at("tolerance").at(type).get<float>()});
    }
  }
  return out;
}

}  // namespace tandem::test
