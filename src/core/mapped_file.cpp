#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace tandem {
namespace {

// Pages are brought in (or read) this much at a time, so progress moves smoothly
// even on a slow disk and a read() never asks for more than the kernel's cap.
constexpr size_t kChunkBytes = 16u << 20;

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }

 private:
  int fd_;
};

void read_all(int fd, uint8_t* into, size_t size, const std::string& path, const std::function<void(double)>& progress) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, into + done, std::min(kChunkBytes, size - done), off_t(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot read '", path, "': ", std::strerror(errno));
    if (n == 0) fail("cannot read '", path, "': the file shrank while it was read");
    done += size_t(n);
    if (progress) progress(double(done) / double(size));
  }
}

// Touches one byte per page so the kernel maps the whole file now, in chunks.
void prefault(const uint8_t* data, size_t size, const std::function<void(double)>& progress) {
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  volatile uint8_t sink = 0;
  for (size_t start = 0; start < size; start += kChunkBytes) {
    const size_t end = std::min(size, start + kChunkBytes);
    madvise(const_cast<uint8_t*>(data) + start / page * page, end - start / page * page, MADV_WILLNEED);
    for (size_t at = start; at < end; at += page) sink = sink + data[at];
    if (progress) progress(double(end) / double(size));
  }
}

std::string memlock_limit() {
  struct rlimit limit {};
  if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0) return "unknown";
  if (limit.rlim_cur == RLIM_INFINITY) return "unlimited";
  return std::to_string(limit.rlim_cur / 1024) + " KiB";
}

}  // namespace

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path, const MapOptions& options) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open '", path, "': ", std::strerror(errno));
  FdCloser closer(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0) fail("cannot stat '", path, "': ", std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail("'", path, "' is not a regular file");
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_ = static_cast<size_t>(st.st_size);
  if (file->size_ == 0) return file;

  if (options.use_mmap) {
    void* p = mmap(nullptr, file->size_, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) fail("cannot mmap '", path, "': ", std::strerror(errno));
    file->data_ = static_cast<const uint8_t*>(p);
    file->mapped_ = true;
    if (options.prefault || options.progress) prefault(file->data_, file->size_, options.progress);
  } else {
    // Anonymous pages rather than a std::vector: no zero-fill pass, and page-aligned
    // like a mapping, so tensor alignment is the same either way.
    void* p = mmap(nullptr, file->size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fail("cannot allocate ", file->size_, " bytes to read '", path, "' into: ", std::strerror(errno));
    file->data_ = static_cast<const uint8_t*>(p);
    file->anonymous_ = true;
    read_all(fd, static_cast<uint8_t*>(p), file->size_, path, options.progress);
    mprotect(p, file->size_, PROT_READ);
  }
  if (options.mlock) {
    if (::mlock(file->data_, file->size_) == 0) {
      file->locked_ = true;
    } else {
      const int err = errno;
      std::fprintf(stderr,
                   "warning: --mlock: cannot lock the %.1f MiB of '%s' in memory (%s; RLIMIT_MEMLOCK is %s). "
                   "Continuing unlocked; raise the limit (ulimit -l, or memlock in /etc/security/limits.conf) to lock.\n",
                   double(file->size_) / 1048576.0, path.c_str(), std::strerror(err), memlock_limit().c_str());
    }
  }
  return file;
}

std::shared_ptr<MappedFile> MappedFile::from_bytes(std::vector<uint8_t> bytes, std::string name) {
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->owned_ = std::move(bytes);
  file->data_ = file->owned_.data();
  file->size_ = file->owned_.size();
  file->path_ = std::move(name);
  return file;
}

void MappedFile::discard(const uint8_t* begin, size_t size) {
  if (!mapped_ && !anonymous_) return;  // a vector we own: nothing to give back piecewise
  const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  const uintptr_t first = ((uintptr_t)begin + page - 1) / page * page, last = ((uintptr_t)begin + size) / page * page;
  if (last <= first) return;
  if (locked_) munlock((void*)first, last - first);
  madvise((void*)first, last - first, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (locked_) munlock(data_, size_);
  if (mapped_ || anonymous_) munmap(const_cast<uint8_t*>(data_), size_);
}

std::function<void(double)> terminal_progress(const std::string& label) {
  if (!isatty(STDERR_FILENO)) return {};
  return [label, last = -1](double fraction) mutable {
    const int percent = int(fraction * 100.0);
    if (percent == last) return;
    last = percent;
    constexpr int kWidth = 30;
    const int filled = percent * kWidth / 100;
    std::fprintf(stderr, "\rloading %s [%s%s] %3d%%", label.c_str(), std::string(size_t(filled), '#').c_str(),
                 std::string(size_t(kWidth - filled), ' ').c_str(), percent);
    if (percent >= 100) std::fputs("\r\033[K", stderr);  // the bar goes away once loaded
    std::fflush(stderr);
  };
}

}  // namespace tandem
