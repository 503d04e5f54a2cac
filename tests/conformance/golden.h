// Reads llama.cpp golden files: ../shared/conformance (schema in its README) and the
// repository's own, tests/data/goldens (same schema, made by tools/goldens).
#pragma once
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "support/test_paths.h"

namespace tandem::test {

struct Golden {
  std::string dir;  // the folder of the golden files
  std::string prompt;
  std::vector<int32_t> prompt_tokens;
  std::vector<std::vector<std::pair<int32_t, float>>> prompt_top;  // per prompt position
  std::vector<float> last_prompt_logits;
  std::vector<int32_t> greedy_ids;
  std::vector<std::vector<std::pair<int32_t, float>>> greedy_top;  // per greedy step

  // dir: a folder of ../shared (e.g. conformance/llama).
  static Golden load(const std::string& dir, const std::string& file) { return load_path(shared_path(dir), file); }

  // folder: any folder of golden files (tests/data/goldens/<name>).
  static Golden load_path(const std::string& folder, const std::string& file) {
    std::ifstream in(folder + "/" + file);
    auto j = nlohmann::json::parse(in);
    Golden g;
    g.dir = folder;
    g.prompt = j["prompt"];
    g.prompt_tokens = j["prompt_tokens"].get<std::vector<int32_t>>();
    auto pairs = [](const nlohmann::json& rows) {
      std::vector<std::vector<std::pair<int32_t, float>>> out;
      for (const auto& row : rows) {
        out.emplace_back();
        for (const auto& p : row) out.back().emplace_back(p[0].get<int32_t>(), p[1].get<float>());
      }
      return out;
    };
    g.prompt_top = pairs(j["prompt_top20"]);
    g.greedy_ids = j["greedy"]["ids"].get<std::vector<int32_t>>();
    g.greedy_top = pairs(j["greedy"]["top5"]);
    std::ifstream logits(folder + "/" + j["last_prompt_logits"]["file"].get<std::string>(), std::ios::binary);
    logits.seekg(0, std::ios::end);
    g.last_prompt_logits.resize(logits.tellg() / sizeof(float));
    logits.seekg(0);
    logits.read(reinterpret_cast<char*>(g.last_prompt_logits.data()), g.last_prompt_logits.size() * sizeof(float));
    return g;
  }
};

}  // namespace tandem::test
