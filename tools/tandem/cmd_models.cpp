// tandem models: the on-device model store. Nothing is downloaded unless the user
// asks here; until a model is installed the router has no device tier.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "memory/plan.h"
#include "model_store/model_store.h"

namespace tandem::cli {
namespace {

using model_store::InstalledModel;
using model_store::ModelStore;

struct ModelsArgs {
  std::string dir, source, name, sha256;
  bool json = false;
};

ModelStore open_store(const ModelsArgs& a) { return a.dir.empty() ? ModelStore() : ModelStore(a.dir); }

std::string date(int64_t unix_seconds) {
  const std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &tm);
  return text;
}

nlohmann::json to_json(const InstalledModel& m) {
  return {{"name", m.name},     {"path", m.path},
          {"sha256", m.sha256}, {"size_bytes", m.size_bytes},
          {"source", m.source}, {"architecture", m.architecture},
          {"added_unix", m.added_unix}};
}

void run_list(const ModelsArgs& a) {
  const ModelStore store = open_store(a);
  const std::vector<InstalledModel> models = store.list();
  if (a.json) {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& m : models) entries.push_back(to_json(m));
    std::printf("%s\n", nlohmann::json{{"dir", store.dir()}, {"models", entries}}.dump(1).c_str());
    return;
  }
  if (models.empty()) {
    std::printf("no models installed in %s\nadd one with: tandem models add FILE.gguf|URL [--name NAME] [--sha256 HEX]\n",
                store.dir().c_str());
    return;
  }
  std::printf("%-24s %-10s %10s  %-12s  %-10s  %s\n", "NAME", "ARCH", "SIZE", "SHA256", "ADDED", "SOURCE");
  for (const auto& m : models)
    std::printf("%-24s %-10s %10s  %-12s  %-10s  %s\n", m.name.c_str(), m.architecture.c_str(),
                memory::human_bytes(m.size_bytes).c_str(), m.sha256.substr(0, 12).c_str(), date(m.added_unix).c_str(),
                m.source.c_str());
  std::printf("(%zu in %s)\n", models.size(), store.dir().c_str());
}

void run_add(const ModelsArgs& a) {
  ModelStore store = open_store(a);
  const std::vector<InstalledModel> before = store.list();
  const InstalledModel m = store.add(a.source, {.name = a.name, .expected_sha256 = a.sha256, .progress = isatty(STDERR_FILENO) != 0});
  const bool already = std::any_of(before.begin(), before.end(),
                                   [&](const InstalledModel& b) { return b.name == m.name && b.sha256 == m.sha256; });
  std::printf("%s %s (%s, %s) at %s\nsha256 %s\n", already ? "already installed:" : "installed", m.name.c_str(),
              m.architecture.c_str(), memory::human_bytes(m.size_bytes).c_str(), m.path.c_str(), m.sha256.c_str());
}

void run_remove(const ModelsArgs& a) {
  ModelStore store = open_store(a);
  const std::string path = store.find(a.name) ? store.find(a.name)->path : "";
  store.remove(a.name);
  std::printf("removed %s (%s)\n", a.name.c_str(), path.c_str());
}

void run_path(const ModelsArgs& a) {
  const ModelStore store = open_store(a);
  if (const auto m = store.find(a.name)) {
    std::printf("%s\n", m->path.c_str());
    return;
  }
  std::string installed;
  for (const auto& m : store.list()) installed += (installed.empty() ? "" : ", ") + m.name;
  fail("no model named '", a.name, "' in ", store.dir(), installed.empty() ? " (none installed)" : " (installed: " + installed + ")");
}

}  // namespace

void add_models(CLI::App& app) {
  auto* models = app.add_subcommand("models", "Install, list and remove on-device models (the store the router uses)");
  // A bare `tandem models` prints this command's help (its subcommands).
  models->callback([models] {
    if (models->get_subcommands().empty()) std::cout << models->help();
  });
  static ModelsArgs args;
  const std::string dir_help = "store directory (default $TANDEM_HOME/models, $XDG_DATA_HOME/tandem/models or ~/.local/share/tandem/models)";

  auto* list = models->add_subcommand("list", "List installed models");
  list->add_flag("--json", args.json, "machine-readable: {\"dir\", \"models\": [...]}");
  list->add_option("--dir", args.dir, dir_help);
  list->callback([] { run_list(args); });

  auto* add = models->add_subcommand("add", "Install a GGUF from a file or an http(s) URL (downloads resume)");
  add->add_option("source", args.source, "GGUF file path or http(s) URL")->required();
  add->add_option("--name", args.name, "name in the store (default: the file name without .gguf)");
  add->add_option("--sha256", args.sha256, "expected SHA-256 (hex): a mismatch installs nothing");
  add->add_option("--dir", args.dir, dir_help);
  add->callback([] { run_add(args); });

  auto* remove = models->add_subcommand("remove", "Delete an installed model");
  remove->add_option("name", args.name, "installed model name")->required();
  remove->add_option("--dir", args.dir, dir_help);
  remove->callback([] { run_remove(args); });

  auto* path = models->add_subcommand("path", "Print an installed model's file path (fails when absent)");
  path->add_option("name", args.name, "installed model name")->required();
  path->add_option("--dir", args.dir, dir_help);
  path->callback([] { run_path(args); });
}

}  // namespace tandem::cli
