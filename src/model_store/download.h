// Fetching a model over HTTP(S) into a `.part` file that survives failures, so a
// broken multi-gigabyte download resumes where it stopped (Range: bytes=N-).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace tandem::model_store {

// A transfer's progress on stderr: a bar redrawn in place on a terminal, otherwise
// one line per ~10% so logs stay short. Silent when disabled.
class TransferProgress {
 public:
  TransferProgress(std::string label, bool enabled);
  void start(uint64_t done, uint64_t total);  // total 0: unknown; `done` is already there (a resume)
  void advance(uint64_t bytes);
  void finish();  // the final line (and the newline after a bar)

 private:
  void report(bool final);

  std::string label_;
  bool enabled_, terminal_, started_ = false, finished_ = false;
  uint64_t done_ = 0, total_ = 0, start_done_ = 0, next_report_ = 0, last_reported_ = UINT64_MAX;
  std::chrono::steady_clock::time_point start_time_, last_draw_;
};

bool is_url(const std::string& source);  // http:// or https://

// The file name a URL points at ("https://h/x/model.gguf?dl=1" -> "model.gguf"); "" when none.
std::string url_file_name(const std::string& url);

struct DownloadOptions {
  std::string label;  // shown in progress lines
  bool progress = false;
  int connect_timeout_s = 20;
  int read_timeout_s = 60;
};

struct DownloadResult {
  uint64_t size_bytes = 0;
  std::string sha256;         // of the whole file, including what a resume kept
  uint64_t resumed_from = 0;  // bytes of an earlier .part that were kept (0: from scratch)
};

// Downloads `url` into `part_path`, following redirects. An existing part_path is
// resumed with a Range request; a server that answers 200 instead restarts it.
// Network failures and HTTP errors are tandem::Errors and leave part_path for the
// next attempt.
DownloadResult download(const std::string& url, const std::string& part_path, const DownloadOptions& options);

}  // namespace tandem::model_store
