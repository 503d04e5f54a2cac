// tandem info M.gguf: metadata, tensor table and totals, from the header alone.
#include <cstdio>
#include <map>

#include "commands.h"
#include "gguf/file.h"

namespace tandem::cli {

namespace {
std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, u++;
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", b, units[u]);
  return buf;
}
}  // namespace

void add_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Print a GGUF file's metadata, tensor table and totals");
  static std::string positional, flag, path;
  cmd->add_option("model", positional, "GGUF file (or -m)");
  cmd->add_option("-m,--model", flag, "GGUF file (default: $TANDEM_MODEL, then the shared stories260K)");
  cmd->callback([] {
    if (!positional.empty() && !flag.empty() && positional != flag) fail("give the model once: FILE or -m FILE");
    path = resolve_model_path(flag.empty() ? positional : flag);
    auto f = gguf::File::open(path);
    std::printf("file: %s\nGGUF version %u, %zu metadata entries, %zu tensors, data at offset %llu (alignment %u)\n\n",
                path.c_str(), f.version(), f.metadata().size(), f.tensors().size(),
                (unsigned long long)f.data_offset(), f.alignment());
    std::printf("metadata:\n");
    for (const auto& [key, value] : f.metadata()) {
      std::string type = gguf::value_type_name(value.type);
      if (value.is_array()) type = std::string("[") + gguf::value_type_name(value.elem_type) + "]";
      std::printf("  %-44s %-9s %s\n", key.c_str(), type.c_str(), value.to_string().c_str());
    }
    std::printf("\ntensors:\n  %-40s %-6s %-24s %14s\n", "name", "type", "shape", "bytes");
    uint64_t total_bytes = 0, total_elements = 0;
    std::map<std::string, std::pair<int, uint64_t>> by_type;
    for (const auto& t : f.tensors()) {
      std::string type(quant::type_name(t.type));
      std::printf("  %-40s %-6s %-24s %14llu\n", t.name.c_str(), type.c_str(), t.shape_string().c_str(),
                  (unsigned long long)t.n_bytes);
      total_bytes += t.n_bytes;
      total_elements += t.n_elements;
      by_type[type].first++;
      by_type[type].second += t.n_bytes;
    }
    std::printf("\ntotals: %zu tensors, %llu parameters, %s of tensor data (%.2f bits per weight), file %s\n",
                f.tensors().size(), (unsigned long long)total_elements, human_bytes((double)total_bytes).c_str(),
                total_elements ? 8.0 * total_bytes / total_elements : 0.0, human_bytes((double)f.file_size()).c_str());
    for (const auto& [type, n] : by_type)
      std::printf("  %-6s %4d tensors %12s\n", type.c_str(), n.first, human_bytes((double)n.second).c_str());
  });
}

}  // namespace tandem::cli
