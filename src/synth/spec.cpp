#include "synth/spec.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace tandem::synth {
namespace {

using nlohmann::json;

gguf::Value metadata_value(const std::string& key, const json& typed) {
  if (!typed.is_object() || typed.size() != 1) fail("metadata '", key, "' must be {\"TYPE\": value}");
  const auto& [type, v] = *typed.items().begin();
  if (type == "u32") return gguf::Value::u32(v.get<uint32_t>());
  if (type == "i32") return gguf::Value::i32(v.get<int32_t>());
  if (type == "f32") return gguf::Value::f32(v.get<float>());
  if (type == "bool") return gguf::Value::boolean(v.get<bool>());
  if (type == "string") return gguf::Value::string(v.get<std::string>());
  if (type == "bools") {
    std::vector<uint64_t> flags;
    for (bool b : v.get<std::vector<bool>>()) flags.push_back(b);
    return gguf::Value{gguf::ValueType::ARRAY, gguf::ValueType::BOOL, flags};
  }
  fail("metadata '", key, "' has type '", type, "' (known: u32, i32, f32, bool, string, bools)");
}

}  // namespace

void read_spec(const std::string& path, ModelShape& shape, SynthOptions& options) {
  std::ifstream in(path);
  if (!in) fail("cannot read synth spec '", path, "'");
  try {
    const json spec = json::parse(in);
    const json& s = spec.at("shape");
    shape = ModelShape{};
    shape.name = s.at("name").get<std::string>();
    shape.arch = s.at("arch").get<std::string>();
    shape.n_embd = s.at("n_embd");
    shape.n_layer = s.at("n_layer");
    shape.n_head = s.at("n_head");
    shape.n_head_kv = s.value("n_head_kv", shape.n_head);
    shape.head_dim = s.value("head_dim", 0);
    shape.n_ff = s.at("n_ff");
    shape.n_ctx = s.value("n_ctx", 512);
    shape.rope_base = s.value("rope_base", 10000.0f);
    shape.rms_eps = s.value("rms_eps", 1e-5f);
    shape.tied_output = s.value("tied_output", false);
    shape.qkv_bias = s.value("qkv_bias", false);
    shape.llama3_rope = s.value("llama3_rope", false);
    shape.sliding_window = s.value("sliding_window", 0);
    shape.rope_dims = s.value("rope_dims", 0);
    shape.rope_scale = s.value("rope_scale", 0.0f);
    shape.longrope_ctx = s.value("longrope_ctx", 0);
    options.shape = &shape;
    options.seed = spec.value("seed", uint64_t{1});
    options.vocab_path = spec.value("vocab_file", std::string());
    if (spec.contains("vocab_slice")) {
      const json& v = spec["vocab_slice"];
      options.vocab_slice.keep = v.value("keep", 0);
      for (const json& t : v.value("add", json::array()))
        options.vocab_slice.add.push_back({t.at("text").get<std::string>(), t.value("type", 4)});
      const json special = v.value("special", json::object());  // items() must not outlive it
      for (const auto& [name, text] : special.items()) options.vocab_slice.special.emplace_back(name, text.get<std::string>());
    }
    if (spec.contains("output_norm")) {
      options.output_norm_mean = spec["output_norm"].at(0);
      options.output_norm_sigma = spec["output_norm"].at(1);
    }
    const json metadata = spec.value("metadata", json::object());
    for (const auto& [key, typed] : metadata.items()) options.extra_metadata.emplace_back(key, metadata_value(key, typed));
    shape.n_vocab = 0;  // the vocabulary decides
  } catch (const json::exception& e) {
    fail("synth spec '", path, "': ", e.what());
  }
}

}  // namespace tandem::synth
