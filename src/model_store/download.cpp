#include "model_store/download.h"

#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>

#include "core/error.h"
#include "model_store/sha256.h"

namespace tandem::model_store {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr double kMiB = 1024.0 * 1024.0;
constexpr uint64_t kUnknownTotalReportBytes = 64ull << 20;  // a log line per 64 MiB when the size is unknown

double mib(uint64_t bytes) { return double(bytes) / kMiB; }

struct Url {
  std::string origin;  // scheme://host[:port], what httplib::Client takes
  std::string target;  // path and query
};

// httplib says only "Could not establish connection"; a connect of our own says why
// (connection refused, no such host, unreachable, timed out).
std::string connect_failure(const std::string& origin, int timeout_s) {
  const size_t authority = origin.find("://") + 3;
  std::string host = origin.substr(authority), port = origin.rfind("https", 0) == 0 ? "443" : "80";
  if (const size_t colon = host.rfind(':'); colon != std::string::npos && host.find(']', colon) == std::string::npos) {
    port = host.substr(colon + 1);
    host.resize(colon);
  }
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{}, *found = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return "cannot resolve host '" + host + "' (" + gai_strerror(rc) + ")";
  std::string why = "could not connect";
  for (addrinfo* a = found; a; a = a->ai_next) {
    const int sock = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (sock < 0) continue;
    timeval timeout{timeout_s, 0};
    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    const bool connected = connect(sock, a->ai_addr, a->ai_addrlen) == 0;
    const int error = errno;
    close(sock);
    if (connected) {
      why = "the connection failed and then worked on a second try; try again";
      break;
    }
    why = error == EINPROGRESS || error == EAGAIN ? std::string("connection timed out") : std::strerror(error);
    for (char& c : why) c = char(std::tolower((unsigned char)c));
  }
  freeaddrinfo(found);
  return why + " (" + host + " port " + port + ")";
}

std::string failure_reason(httplib::Error error, const std::string& origin) {
  if (error == httplib::Error::Connection) return connect_failure(origin, 5);
  return httplib::to_string(error);
}

Url split_url(const std::string& url) {
  if (!is_url(url)) fail("'", url, "' is not an http:// or https:// URL");
  const size_t authority = url.find("://") + 3;
  std::string rest = url.substr(0, url.find('#'));
  const size_t slash = rest.find_first_of("/?", authority);
  Url parts{rest.substr(0, slash), slash == std::string::npos ? "/" : rest.substr(slash)};
  if (parts.origin.size() == authority) fail("URL '", url, "' has no host");
  if (parts.target[0] == '?') parts.target.insert(0, "/");
  return parts;
}

std::optional<uint64_t> parse_uint(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// "bytes FIRST-LAST/TOTAL" or "bytes */TOTAL" (the 416 form); TOTAL may be "*".
struct ContentRange {
  std::optional<uint64_t> first, total;
};

ContentRange parse_content_range(const std::string& header) {
  ContentRange range;
  if (header.rfind("bytes ", 0) != 0) return range;
  const size_t dash = header.find('-', 6), slash = header.find('/', 6);
  if (slash == std::string::npos) return range;
  if (dash != std::string::npos && dash < slash) range.first = parse_uint(header.substr(6, dash - 6));
  range.total = parse_uint(header.substr(slash + 1));
  return range;
}

using FilePtr = std::unique_ptr<FILE, int (*)(FILE*)>;

// One HTTP GET into the .part file. The response handler decides, from the status,
// whether the body continues the .part (206), replaces it (200), or is refused.
class Transfer {
 public:
  Transfer(const std::string& url, const std::string& part_path, const DownloadOptions& options)
      : url_(url), part_path_(part_path), options_(options), progress_(options.label, options.progress) {}

  enum class Outcome { Complete, RangeNotSatisfiable };

  Outcome run() {
    std::error_code ec;
    kept_ = fs::exists(part_path_, ec) ? fs::file_size(part_path_) : 0;
    if (kept_ > 0) hasher_.update_from_file(part_path_);
    written_ = kept_;

    const Url parts = split_url(url_);
    httplib::Client client(parts.origin);
    if (!client.is_valid()) fail("cannot download '", url_, "': this build cannot open ", parts.origin);
    client.set_follow_location(true);
    client.set_connection_timeout(options_.connect_timeout_s, 0);
    client.set_read_timeout(options_.read_timeout_s, 0);
    // Byte ranges and Content-Length must count the file's own bytes, not a compressed form.
    httplib::Headers headers{{"Accept-Encoding", "identity"}};
    if (kept_ > 0) headers.emplace("Range", "bytes=" + std::to_string(kept_) + "-");

    const httplib::Result result = client.Get(
        parts.target, headers, [this](const httplib::Response& r) { return on_response(r); },
        [this](const char* data, size_t size) { return on_data(data, size); });
    close_part();
    progress_.finish();

    if (status_ == 416 && kept_ > 0) return Outcome::RangeNotSatisfiable;
    if (!failure_.empty()) fail("download of ", url_, " failed: ", failure_, resume_hint());
    if (!result) fail("download of ", url_, " failed: ", failure_reason(result.error(), parts.origin), resume_hint());
    if (expected_size_ && written_ != *expected_size_)
      fail("download of ", url_, " ended after ", written_, " of ", *expected_size_, " bytes", resume_hint());
    return Outcome::Complete;
  }

  DownloadResult result() { return {written_, hasher_.hex_digest(), restarted_ ? 0 : kept_}; }
  std::optional<uint64_t> reported_total() const { return range_total_; }
  uint64_t kept() const { return kept_; }

 private:
  bool on_response(const httplib::Response& response) {
    status_ = response.status;
    const auto content_length = parse_uint(response.get_header_value("Content-Length"));
    const ContentRange range = parse_content_range(response.get_header_value("Content-Range"));
    range_total_ = range.total;
    if (status_ == 206) {
      if (kept_ == 0 || range.first != kept_) {
        failure_ = "the server answered a different range (" + response.get_header_value("Content-Range") +
                   ") than the bytes=" + std::to_string(kept_) + "- asked for";
        return false;
      }
      expected_size_ = range.total ? range.total : content_length ? std::optional(kept_ + *content_length) : std::nullopt;
      return open_part("ab");
    }
    if (status_ == 200) {
      // A server that ignores Range sends the whole file again: start the .part over.
      if (kept_ > 0) {
        restarted_ = true;
        hasher_.reset();
        written_ = 0;
        if (options_.progress) std::fprintf(stderr, "%s: the server does not resume downloads; starting over\n", options_.label.c_str());
      }
      expected_size_ = content_length;
      return open_part("wb");
    }
    if (status_ != 416) failure_ = "HTTP " + std::to_string(status_) + (status_ == 404 ? " (not found)" : "");
    return false;
  }

  bool open_part(const char* mode) {
    part_ = FilePtr(std::fopen(part_path_.c_str(), mode), &std::fclose);
    if (!part_) {
      failure_ = "cannot write '" + part_path_ + "'";
      return false;
    }
    progress_.start(written_, expected_size_.value_or(0));
    return true;
  }

  bool on_data(const char* data, size_t size) {
    if (std::fwrite(data, 1, size, part_.get()) != size) {
      failure_ = "cannot write '" + part_path_ + "' (disk full?)";
      return false;
    }
    hasher_.update(data, size);
    written_ += size;
    progress_.advance(size);
    return true;
  }

  void close_part() {
    if (part_ && std::fclose(part_.release()) != 0 && failure_.empty()) failure_ = "cannot write '" + part_path_ + "'";
  }

  std::string resume_hint() const {
    std::error_code ec;
    if (!fs::exists(part_path_, ec) || fs::file_size(part_path_, ec) == 0) return "";
    return "; the " + std::to_string(fs::file_size(part_path_, ec)) + " bytes received are kept in " + part_path_ +
           " and the same command resumes from there";
  }

  const std::string url_, part_path_;
  const DownloadOptions options_;
  TransferProgress progress_;
  Sha256 hasher_;
  FilePtr part_{nullptr, &std::fclose};
  uint64_t kept_ = 0, written_ = 0;
  bool restarted_ = false;
  int status_ = 0;
  std::string failure_;  // why a callback stopped the transfer
  std::optional<uint64_t> expected_size_, range_total_;
};

}  // namespace

bool is_url(const std::string& source) { return source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0; }

std::string url_file_name(const std::string& url) {
  const std::string target = split_url(url).target;
  const std::string path = target.substr(0, target.find('?'));
  return path.substr(path.rfind('/') + 1);
}

DownloadResult download(const std::string& url, const std::string& part_path, const DownloadOptions& options) {
  Transfer first(url, part_path, options);
  if (first.run() == Transfer::Outcome::Complete) return first.result();
  // 416: nothing lies past what the .part holds. Either it is already the whole
  // file, or it is not this file at all (longer, or the file changed): start over.
  if (first.reported_total() == first.kept()) return first.result();
  std::filesystem::remove(part_path);
  Transfer again(url, part_path, options);
  if (again.run() != Transfer::Outcome::Complete) fail("download of ", url, " failed: the server refused the whole file (HTTP 416)");
  return again.result();
}

TransferProgress::TransferProgress(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled), terminal_(enabled && isatty(fileno(stderr))) {}

void TransferProgress::start(uint64_t done, uint64_t total) {
  done_ = start_done_ = done;
  total_ = total;
  started_ = true;
  finished_ = false;
  start_time_ = last_draw_ = Clock::now();
  next_report_ = total_ > 0 ? (done_ * 10 / total_ + 1) * total_ / 10 : done_ + kUnknownTotalReportBytes;
}

void TransferProgress::advance(uint64_t bytes) {
  done_ += bytes;
  if (!enabled_) return;
  if (terminal_) {
    if (Clock::now() - last_draw_ >= std::chrono::milliseconds(100)) report(false);
  } else if (done_ >= next_report_) {
    report(false);
    next_report_ = total_ > 0 ? (done_ * 10 / total_ + 1) * total_ / 10 : done_ + kUnknownTotalReportBytes;
  }
}

void TransferProgress::finish() {
  if (!enabled_ || !started_ || finished_) return;
  finished_ = true;
  if (terminal_ || done_ != last_reported_) report(true);
  if (terminal_) std::fputc('\n', stderr);
}

void TransferProgress::report(bool final) {
  last_draw_ = Clock::now();
  last_reported_ = done_;
  const double seconds = std::chrono::duration<double>(last_draw_ - start_time_).count();
  const double rate = seconds > 0 ? mib(done_ - start_done_) / seconds : 0.0;
  const int percent = total_ > 0 ? int(std::min<uint64_t>(100, done_ * 100 / total_)) : -1;
  std::string line = label_;
  if (terminal_ && percent >= 0) {
    constexpr int kWidth = 30;
    const int filled = percent * kWidth / 100;
    line += " [" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "]";
  }
  char numbers[128];
  if (percent >= 0)
    std::snprintf(numbers, sizeof numbers, " %3d%%  %.1f/%.1f MiB  %.1f MiB/s", percent, mib(done_), mib(total_), rate);
  else
    std::snprintf(numbers, sizeof numbers, " %.1f MiB  %.1f MiB/s", mib(done_), rate);
  line += numbers;
  if (terminal_)
    std::fprintf(stderr, "\r%s\033[K", line.c_str());  // erase what a longer earlier line left
  else
    std::fprintf(stderr, "%s%s\n", line.c_str(), final && percent < 0 ? " (done)" : "");
  std::fflush(stderr);
}

}  // namespace tandem::model_store
