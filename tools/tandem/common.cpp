#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "commands.h"
#include "core/error.h"

namespace tandem::cli {

int& exit_code() {
  static int code = 0;
  return code;
}

namespace fs = std::filesystem;

fs::path executable_dir() {
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::current_path() : self.parent_path();
}

std::vector<fs::path> shared_dir_candidates() {
  const fs::path bin = executable_dir();
  // A build tree (<checkout>/build/tandem, with shared/ beside the checkout), then an
  // install (<prefix>/bin/tandem with <prefix>/share/tandem).
  return {(bin / "../../shared").lexically_normal(), (bin / "../share/tandem").lexically_normal()};
}

std::string shared_file(const std::string& relative) {
  for (const fs::path& dir : shared_dir_candidates())
    if (fs::exists(dir / relative)) return (dir / relative).string();
  return "";
}

std::string resolve_model_path(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("TANDEM_MODEL"); env && *env) return env;
  if (std::string fallback = shared_file("models/stories260K.gguf"); !fallback.empty()) return fallback;
  fail("no model given. Pass -m MODEL.gguf or set TANDEM_MODEL. Any GGUF works, for example a small one:\n"
       "  download a .gguf file (e.g. TinyLlama-1.1B-Chat Q4_K_M, or stories260K.gguf from ggml-org's\n"
       "  test models) and run: tandem run -m path/to/model.gguf -p \"Once upon a time\"\n"
       "  (without -m, tandem also looks for models/stories260K.gguf in ",
       shared_dir_candidates()[0].string(), " and ", shared_dir_candidates()[1].string(), ")");
}

std::string read_text_file(const std::string& path, const std::string& what) {
  std::ostringstream s;
  if (path == "-") {
    s << std::cin.rdbuf();
    if (std::cin.bad()) fail("cannot read ", what, " from standard input");
    return s.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read ", what, " '", path, "'");
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

int check_threads(int threads) {
  if (threads < 0) fail("-t/--threads must be 0 (every core) or more, got ", threads);
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  if (threads > cores) {
    // More threads than cores only adds waiting: every step waits for its slowest thread.
    std::fprintf(stderr, "warning: -t %d is more than the %d cores of this machine; using %d\n", threads, cores, cores);
    return cores;
  }
  return threads;
}

int check_context_size(int n_ctx) {
  if (n_ctx < 0) fail("-c/--ctx-size must be 0 (the model's, capped at 4096) or more, got ", n_ctx);
  return n_ctx;
}

void warn_context_above_training(int n_ctx, int n_ctx_train) {
  if (n_ctx_train > 0 && n_ctx > n_ctx_train)
    std::fprintf(stderr,
                 "warning: -c %d is more than the %d tokens the model was trained with; text past that is "
                 "usually poor\n",
                 n_ctx, n_ctx_train);
}

}  // namespace tandem::cli
