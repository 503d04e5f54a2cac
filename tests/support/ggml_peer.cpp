#include "support/ggml_peer.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "support/test_paths.h"

namespace tandem::test {
namespace {

namespace fs = std::filesystem;

// The cache ../shared/peer/llama-bench installs into (same rule as that script).
fs::path peer_cache() {
  if (const char* dir = std::getenv("TANDEM_PEER_CACHE"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "tandem-peer";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/tmp") / ".cache" / "tandem-peer";
}

#if defined(__x86_64__)
constexpr const char* kPlatform = "linux-x64";
#elif defined(__aarch64__)
constexpr const char* kPlatform = "linux-arm64";
#else
constexpr const char* kPlatform = "unsupported";
#endif

}  // namespace

std::string GgmlPeer::bench_script() { return shared_path("peer/llama-bench"); }

std::string GgmlPeer::library_dir() {
  const fs::path dir = peer_cache() / "node_modules" / "@node-llama-cpp" / kPlatform / "bins" / kPlatform;
  if (fs::exists(dir / "libggml-base.so")) return dir.string();
  const int lock = open("/tmp/tandem-peer-install.lock", O_CREAT | O_RDWR, 0644);
  if (lock >= 0) flock(lock, LOCK_EX);
  if (!fs::exists(dir / "libggml-base.so")) {
    // The script installs the package on its first run; a one-token run proves it works.
    const std::string cmd = "'" + bench_script() + "' -m '" + shared_path("models/stories260K.gguf") +
                            "' -p 1 -n 1 -r 1 -t 1 --json >/dev/null 2>&1";
    const int status = std::system(cmd.c_str());
    if (status != 0 && lock >= 0) close(lock);
    if (status != 0) throw std::runtime_error("the peer could not be installed or run: " + cmd);
  }
  if (lock >= 0) close(lock);
  if (!fs::exists(dir / "libggml-base.so")) throw std::runtime_error("the peer has no " + (dir / "libggml-base.so").string());
  return dir.string();
}

GgmlPeer::GgmlPeer() {
  const std::string path = library_dir() + "/libggml-base.so";
  handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle_) throw std::runtime_error("cannot load " + path + ": " + dlerror());
  quantize_chunk_ = reinterpret_cast<QuantizeChunk>(dlsym(handle_, "ggml_quantize_chunk"));
  if (!quantize_chunk_) throw std::runtime_error(path + " has no ggml_quantize_chunk");
}

const GgmlPeer& GgmlPeer::get() {
  static const GgmlPeer peer;
  return peer;
}

std::vector<uint8_t> GgmlPeer::quantize(quant::Type type, const float* src, int64_t rows, int64_t n_per_row,
                                        const float* imatrix) const {
  std::vector<uint8_t> out(quant::row_bytes(quant::traits(type), uint64_t(n_per_row)) * uint64_t(rows));
  const size_t written = quantize_chunk_(int(type), src, out.data(), 0, rows, n_per_row, imatrix);
  if (written != out.size()) {
    throw std::runtime_error("ggml_quantize_chunk wrote " + std::to_string(written) + " bytes for " +
                             std::string(quant::type_name(type)) + ", expected " + std::to_string(out.size()));
  }
  return out;
}

void GgmlPeer::dequantize_row(quant::Type type, const void* src, float* dst, int64_t n) const {
  // ggml's names: dequantize_row_q4_0, dequantize_row_q2_K, dequantize_row_iq4_xs, ...
  // (lower case but for the K-quants' K).
  std::string name(quant::type_name(type));
  for (char& c : name) c = char(std::tolower(c));
  if (name.size() > 2 && name.substr(name.size() - 2) == "_k") name.back() = 'K';
  using Dequantize = void (*)(const void*, float*, int64_t);
  auto fn = reinterpret_cast<Dequantize>(dlsym(handle_, ("dequantize_row_" + name).c_str()));
  if (!fn) throw std::runtime_error("the peer has no dequantize_row_" + name);
  fn(src, dst, n);
}

}  // namespace tandem::test
