// The on-device model store: a directory of GGUF files plus manifest.json, which
// says what is installed. The user decides when a model is downloaded; until one
// is installed the router has no device tier.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tandem::model_store {

struct InstalledModel {
  std::string name;          // e.g. "stories260K" (default: file stem), unique in the store
  std::string path;          // absolute path of the GGUF inside the store
  std::string sha256;        // lowercase hex
  uint64_t size_bytes = 0;
  std::string source;        // file path or URL it came from
  std::string architecture;  // general.architecture from the GGUF header
  int64_t added_unix = 0;
};

// $TANDEM_HOME/models, else $XDG_DATA_HOME/tandem/models, else ~/.local/share/tandem/models.
std::string default_store_dir();

// Names are [A-Za-z0-9._-]+ (they become file names): tandem::Error otherwise.
void check_model_name(const std::string& name);

class ModelStore {
 public:
  explicit ModelStore(std::string dir = default_store_dir());  // creates dir lazily on add

  const std::string& dir() const { return dir_; }
  std::vector<InstalledModel> list() const;  // from manifest.json in dir, in the order added
  std::optional<InstalledModel> find(const std::string& name) const;

  struct AddOptions {
    std::string name{};             // "": the source's file stem
    std::string expected_sha256{};  // "": not checked
    bool progress = false;          // progress on stderr
  };
  // Copies a local GGUF, or downloads an http(s) URL (resuming an earlier partial
  // download), verifies it and installs it. Adding an installed name again is a
  // no-op when the file is the same (same SHA-256), an error otherwise.
  InstalledModel add(const std::string& source, const AddOptions& options);
  void remove(const std::string& name);  // tandem::Error if not installed

 private:
  std::string dir_;
};

}  // namespace tandem::model_store
