#include "core/data_dir.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.h"

namespace tandem {

std::string tandem_home() {
  namespace fs = std::filesystem;
  auto env = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value && *value ? value : "";
  };
  if (const std::string home = env("TANDEM_HOME"); !home.empty()) return home;
  if (const std::string data = env("XDG_DATA_HOME"); !data.empty()) return (fs::path(data) / "tandem").string();
  std::string user_home = env("HOME");
  if (user_home.empty())
    if (const passwd* entry = getpwuid(getuid()); entry && entry->pw_dir) user_home = entry->pw_dir;
  if (user_home.empty()) fail("cannot find a home directory for tandem's data: set TANDEM_HOME (or HOME)");
  return (fs::path(user_home) / ".local" / "share" / "tandem").string();
}

}  // namespace tandem
