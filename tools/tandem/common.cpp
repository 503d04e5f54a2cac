#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "core/error.h"

namespace tandem::cli {

int& exit_code() {
  static int code = 0;
  return code;
}

std::string resolve_model_path(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("TANDEM_MODEL"); env && *env) return env;
  const std::string fallback = "../shared/models/stories260K.gguf";
  if (std::filesystem::exists(fallback)) return fallback;
  fail("no model given. Pass -m MODEL.gguf or set TANDEM_MODEL. Any GGUF works, for example a small one:\n"
       "  download a .gguf file (e.g. TinyLlama-1.1B-Chat Q4_K_M, or stories260K.gguf from ggml-org's\n"
       "  test models) and run: tandem run -m path/to/model.gguf -p \"Once upon a time\"");
}

std::string read_text_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read ", what, " '", path, "'");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string read_prompt(const std::string& text, const std::string& file) {
  if (!text.empty() && !file.empty()) fail("give either -p TEXT or -f FILE, not both");
  if (file.empty()) return text;
  return read_text_file(file, "prompt file");
}

quant::Type parse_kv_type(const std::string& name) {
  auto type = quant::type_from_name(name);
  using quant::Type;
  if (!type || (*type != Type::F32 && *type != Type::F16 && *type != Type::Q8_0 && *type != Type::Q4_0))
    fail("unknown KV cache type '", name, "' (use f32, f16, q8_0 or q4_0)");
  return *type;
}

}  // namespace tandem::cli
