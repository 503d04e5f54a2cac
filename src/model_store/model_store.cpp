#include "model_store/model_store.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/data_dir.h"
#include "core/error.h"
#include "gguf/file.h"
#include "model_store/download.h"
#include "model_store/sha256.h"

namespace tandem::model_store {
namespace {

namespace fs = std::filesystem;

constexpr const char* kManifest = "manifest.json";
constexpr int kManifestVersion = 1;

// One add or remove at a time per store: two adds of one name would append to the
// same .part, and read-modify-write of the manifest must not interleave.
class StoreLock {
 public:
  explicit StoreLock(const std::string& dir) {
    const std::string path = (fs::path(dir) / ".lock").string();
    fd_ = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("cannot open '", path, "': ", std::strerror(errno));
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      fail("another `tandem models add` or `remove` is using the store ", dir, "; try again when it has finished");
    }
  }
  ~StoreLock() { ::close(fd_); }  // closing releases the lock
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;

 private:
  int fd_ = -1;
};

// Deletes a half-made file unless it was installed.
class DeleteUnlessKept {
 public:
  DeleteUnlessKept(std::string path, bool armed) : path_(std::move(path)), armed_(armed) {}
  ~DeleteUnlessKept() {
    std::error_code ignored;
    if (armed_) fs::remove(path_, ignored);
  }
  void arm() { armed_ = true; }
  void keep() { armed_ = false; }

 private:
  std::string path_;
  bool armed_;
};

std::string strip_gguf_extension(std::string file_name) {
  const std::string_view ext = ".gguf";
  if (file_name.size() > ext.size()) {
    std::string tail = file_name.substr(file_name.size() - ext.size());
    for (char& c : tail) c = char(std::tolower((unsigned char)c));
    if (tail == ext) file_name.resize(file_name.size() - ext.size());
  }
  return file_name;
}

std::string default_name(const std::string& source) {
  const std::string file_name = is_url(source) ? url_file_name(source) : fs::path(source).filename().string();
  const std::string name = strip_gguf_extension(file_name);
  try {
    check_model_name(name);
  } catch (const Error& e) {
    fail("cannot name the model after '", source, "' (", e.what(), "); give a name with --name");
  }
  return name;
}

struct Fetched {
  uint64_t size_bytes = 0;
  std::string sha256;
};

Fetched copy_local(const std::string& source, const std::string& part_path, const std::string& label, bool progress) {
  using FilePtr = std::unique_ptr<FILE, int (*)(FILE*)>;
  FilePtr in(std::fopen(source.c_str(), "rb"), &std::fclose);
  if (!in) fail("cannot read '", source, "': ", std::strerror(errno));
  FilePtr out(std::fopen(part_path.c_str(), "wb"), &std::fclose);
  if (!out) fail("cannot write '", part_path, "': ", std::strerror(errno));
  Sha256 hasher;
  TransferProgress bar(label, progress);
  bar.start(0, fs::file_size(source));
  std::vector<char> buffer(1 << 20);
  Fetched fetched;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), in.get())) > 0) {
    if (std::fwrite(buffer.data(), 1, n, out.get()) != n) fail("cannot write '", part_path, "' (disk full?)");
    hasher.update(buffer.data(), n);
    fetched.size_bytes += n;
    bar.advance(n);
  }
  if (std::ferror(in.get())) fail("read error in '", source, "'");
  if (std::fclose(out.release()) != 0) fail("cannot write '", part_path, "' (disk full?)");
  bar.finish();
  fetched.sha256 = hasher.hex_digest();
  return fetched;
}

// The architecture, once the file is known to be a GGUF with weights: vocab-only
// GGUFs (tokenizer test files) carry an architecture too but cannot run.
std::string model_architecture(const std::string& path, const std::string& source) {
  std::optional<std::string> architecture;
  bool has_tensors = false;
  try {
    const gguf::File file = gguf::File::open(path);
    architecture = file.find_string("general.architecture");
    has_tensors = !file.tensors().empty();
  } catch (const Error& e) {
    fail(source, " is not a usable GGUF model (", e.what(), "); nothing was installed");
  }
  if (!architecture || architecture->empty())
    fail(source, " is a GGUF file without general.architecture, so not a model; nothing was installed");
  if (!has_tensors) fail(source, " is a GGUF file without tensors (vocabulary only?), so not a model; nothing was installed");
  return *architecture;
}

std::string already_installed(const InstalledModel& model, const std::string& source, const std::string& sha256) {
  return "a different model named '" + model.name + "' is already installed (sha256 " + model.sha256 + ", " + source +
         " has " + sha256 + "); remove it first or add this one with another --name";
}

nlohmann::json to_json(const InstalledModel& m) {
  return {{"name", m.name},     {"file", fs::path(m.path).filename().string()},
          {"sha256", m.sha256}, {"size_bytes", m.size_bytes},
          {"source", m.source}, {"architecture", m.architecture},
          {"added_unix", m.added_unix}};
}

InstalledModel from_json(const nlohmann::json& j, const fs::path& dir) {
  InstalledModel m;
  m.name = j.at("name").get<std::string>();
  m.path = (dir / j.value("file", m.name + ".gguf")).string();
  m.sha256 = j.at("sha256").get<std::string>();
  m.size_bytes = j.at("size_bytes").get<uint64_t>();
  m.source = j.value("source", "");
  m.architecture = j.value("architecture", "");
  m.added_unix = j.value("added_unix", int64_t{0});
  return m;
}

// Written beside the manifest and renamed over it, so a reader never sees half a file.
void write_manifest(const std::string& dir, const std::vector<InstalledModel>& models) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& m : models) entries.push_back(to_json(m));
  const std::string text = nlohmann::json{{"version", kManifestVersion}, {"models", entries}}.dump(2) + "\n";
  const fs::path path = fs::path(dir) / kManifest;
  const std::string temp = path.string() + ".tmp." + std::to_string(getpid());
  FILE* out = std::fopen(temp.c_str(), "wb");
  if (!out) fail("cannot write '", temp, "': ", std::strerror(errno));
  const bool written = std::fwrite(text.data(), 1, text.size(), out) == text.size() && std::fflush(out) == 0 &&
                       fsync(fileno(out)) == 0;
  if (std::fclose(out) != 0 || !written) {
    std::remove(temp.c_str());
    fail("cannot write '", temp, "' (disk full?)");
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) {
    std::remove(temp.c_str());
    fail("cannot replace '", path.string(), "': ", ec.message());
  }
}

}  // namespace

std::string default_store_dir() {
  return (fs::path(tandem_home()) / "models").string();
}

void check_model_name(const std::string& name) {
  const bool allowed = !name.empty() && name.size() <= 200 && name != "." && name != ".." &&
                       name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
                           std::string::npos;
  if (!allowed) fail("invalid model name '", name, "': use letters, digits, '.', '_' and '-'");
}

ModelStore::ModelStore(std::string dir) : dir_(fs::absolute(dir).lexically_normal().string()) {}

std::vector<InstalledModel> ModelStore::list() const {
  const fs::path path = fs::path(dir_) / kManifest;
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::vector<InstalledModel> models;
  try {
    const nlohmann::json manifest = nlohmann::json::parse(in);
    for (const auto& entry : manifest.at("models")) models.push_back(from_json(entry, dir_));
  } catch (const nlohmann::json::exception& e) {
    fail("the model store manifest ", path.string(), " is damaged (", e.what(), ")");
  }
  return models;
}

std::optional<InstalledModel> ModelStore::find(const std::string& name) const {
  for (auto& model : list())
    if (model.name == name) return model;
  return std::nullopt;
}

InstalledModel ModelStore::add(const std::string& source, const AddOptions& options) {
  const bool remote = is_url(source);
  if (const size_t scheme = source.find("://"); !remote && scheme != std::string::npos && scheme > 0 &&
                                                 source.find('/') > scheme)
    fail("'", source, "': ", source.substr(0, scheme), ":// is not supported; give an http:// or https:// URL or a file");
  const std::string name = options.name.empty() ? default_name(source) : options.name;
  check_model_name(name);
  const std::string expected = options.expected_sha256.empty() ? "" : normalize_sha256(options.expected_sha256);
  if (!remote && !fs::is_regular_file(source)) fail("no model file at '", source, "'");

  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) fail("cannot create the model store ", dir_, ": ", ec.message());
  StoreLock lock(dir_);
  if (auto installed = find(name); installed && !expected.empty()) {
    if (installed->sha256 == expected) return *installed;  // asked for exactly what is there
    fail(already_installed(*installed, source, expected));
  }

  const fs::path final_path = fs::path(dir_) / (name + ".gguf");
  const std::string part_path = final_path.string() + ".part";
  // A failed download keeps its .part to resume; anything after a complete transfer does not.
  DeleteUnlessKept part(part_path, /*armed=*/!remote);
  Fetched fetched;
  if (remote) {
    const DownloadResult result = download(source, part_path, {.label = name, .progress = options.progress});
    fetched = {result.size_bytes, result.sha256};
    part.arm();
  } else {
    fetched = copy_local(source, part_path, name, options.progress);
  }
  if (!expected.empty() && fetched.sha256 != expected)
    fail("SHA-256 mismatch for ", source, ": expected ", expected, ", got ", fetched.sha256,
         "; the file was deleted and nothing was installed");
  const std::string architecture = model_architecture(part_path, source);
  if (auto installed = find(name)) {
    if (installed->sha256 == fetched.sha256) return *installed;
    fail(already_installed(*installed, source, fetched.sha256));
  }

  fs::rename(part_path, final_path, ec);
  if (ec) fail("cannot move the model into place at ", final_path.string(), ": ", ec.message());
  part.keep();
  DeleteUnlessKept installed_file(final_path.string(), /*armed=*/true);  // until the manifest says it is there
  InstalledModel model{name,
                       final_path.string(),
                       fetched.sha256,
                       fetched.size_bytes,
                       remote ? source : fs::absolute(source).lexically_normal().string(),
                       architecture,
                       int64_t(std::time(nullptr))};
  std::vector<InstalledModel> models = list();
  models.push_back(model);
  write_manifest(dir_, models);
  installed_file.keep();
  return model;
}

void ModelStore::remove(const std::string& name) {
  const auto installed = [&](std::vector<InstalledModel>& models) {
    auto it = std::find_if(models.begin(), models.end(), [&](const InstalledModel& m) { return m.name == name; });
    if (it == models.end()) fail("no model named '", name, "' is installed in ", dir_);
    return it;
  };
  std::vector<InstalledModel> models = list();
  installed(models);  // before locking, which would create the store
  StoreLock lock(dir_);
  models = list();  // as it is now that we hold the lock
  const auto it = installed(models);
  const std::string path = it->path;
  models.erase(it);
  // The manifest first: a file without an entry is merely unused, an entry without a file is a broken store.
  write_manifest(dir_, models);
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) fail("removed '", name, "' from the manifest but could not delete ", path, ": ", ec.message());
}

}  // namespace tandem::model_store
