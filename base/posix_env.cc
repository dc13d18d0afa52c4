// base/posix_env.cc: the real Env, over POSIX calls with fsync where it counts.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "base/env.h"

namespace custodia {
namespace {

namespace fs = std::filesystem;

Unexpected PosixError(const fs::path& path, const char* what, int err) {
  Code code = Code::kIo;
  if (err == ENOENT) code = Code::kNotFound;
  if (err == EEXIST) code = Code::kAlreadyExists;
  if (err == EACCES || err == EPERM) code = Code::kPermissionDenied;
  return Fail(code, path.string() + ": " + what + ": " + std::strerror(err));
}

// Owns a file descriptor (ccache's util::Fd).
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

Status WriteAll(int fd, std::span<const std::uint8_t> data, const fs::path& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError(path, "write", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  return Ok();
}

// An fsync failure leaves the page cache in an unknown state (the
// "fsyncgate" lesson): retrying may report success for lost data. The
// only safe answer is to stop the process before anything is acknowledged.
void SyncOrDie(int fd, const fs::path& path) {
  while (::fsync(fd) != 0) {
    if (errno == EINTR) continue;
    if (errno == EINVAL || errno == EROFS) return;  // cannot be synced at all
    std::fprintf(stderr,
                 "custodia: fatal: fsync %s: %s; stopping before anything is acknowledged\n",
                 path.c_str(), std::strerror(errno));
    std::abort();
  }
}

class PosixAppendableFile final : public AppendableFile {
 public:
  PosixAppendableFile(UniqueFd fd, fs::path path) : fd_(std::move(fd)), path_(std::move(path)) {}
  Status Append(std::span<const std::uint8_t> data) override {
    if (fd_.get() < 0) return Fail(Code::kFailedPrecondition, path_.string() + ": file is closed");
    return WriteAll(fd_.get(), data, path_);
  }
  Status Sync() override {
    if (fd_.get() < 0) return Fail(Code::kFailedPrecondition, path_.string() + ": file is closed");
    SyncOrDie(fd_.get(), path_);
    return Ok();
  }
  void StartWriteback() override {
    // Errors surface at the Sync that must follow; this is only a hint.
    if (fd_.get() >= 0) (void)::sync_file_range(fd_.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
  }
  Status Close() override {
    int fd = fd_.release();
    if (fd >= 0 && ::close(fd) != 0) return PosixError(path_, "close", errno);
    return Ok();
  }

 private:
  UniqueFd fd_;
  fs::path path_;
};

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(UniqueFd fd, fs::path path) : fd_(std::move(fd)), path_(std::move(path)) {}

  Result<std::size_t> Read(std::span<std::uint8_t> out) override {
    for (;;) {
      ssize_t n = ::read(fd_.get(), out.data(), out.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return PosixError(path_, "read", errno);
    }
  }

 private:
  UniqueFd fd_;
  fs::path path_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  ~PosixFileLock() override { ::flock(fd_.get(), LOCK_UN); }

 private:
  UniqueFd fd_;
};

class PosixEnv final : public Env {
 public:
  Result<Bytes> ReadFile(const fs::path& path) override {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return PosixError(path, "open", errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return PosixError(path, "stat", errno);
    if (S_ISDIR(st.st_mode))
      return Fail(Code::kInvalidArgument, path.string() + ": is a directory");
    Bytes out;
    out.reserve(static_cast<std::size_t>(st.st_size));
    std::uint8_t buf[1 << 16];
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError(path, "read", errno);
      }
      if (n == 0) break;
      out.insert(out.end(), buf, buf + n);
    }
    return out;
  }

  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const fs::path& path) override {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return PosixError(path, "open", errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return PosixError(path, "stat", errno);
    if (S_ISDIR(st.st_mode))
      return Fail(Code::kInvalidArgument, path.string() + ": is a directory");
    return std::unique_ptr<SequentialFile>(new PosixSequentialFile(std::move(fd), path));
  }

  Result<std::unique_ptr<AppendableFile>> NewAppendableFile(const fs::path& path) override {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    if (fd.get() < 0) return PosixError(path, "open for append", errno);
    return std::unique_ptr<AppendableFile>(new PosixAppendableFile(std::move(fd), path));
  }

  Status WriteFileAtomic(const fs::path& path, std::span<const std::uint8_t> data) override {
    fs::path tmp = path;
    tmp += ".tmp";
    {
      UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
      if (fd.get() < 0) return PosixError(tmp, "create", errno);
      Status written = WriteAll(fd.get(), data, tmp);
      if (!written) {
        ::unlink(tmp.c_str());
        return written;
      }
      SyncOrDie(fd.get(), tmp);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return PosixError(path, "rename", err);
    }
    return SyncDir(path.has_parent_path() ? path.parent_path() : fs::path("."));
  }

  Result<std::vector<std::string>> ListDir(const fs::path& dir) override {
    std::error_code ec;
    std::vector<std::string> names;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    if (ec) return PosixError(dir, "list", ec.value());
    std::sort(names.begin(), names.end());
    return names;
  }

  Status Rename(const fs::path& from, const fs::path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return PosixError(from, "rename", errno);
    return Ok();
  }

  Status Remove(const fs::path& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError(path, "remove", errno);
    return Ok();
  }

  Status CreateDir(const fs::path& dir) override {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return PosixError(dir, "create directory", ec.value());
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec) return PosixError(dir, "chmod", ec.value());
    return Ok();
  }

  Status SyncDir(const fs::path& dir) override {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return PosixError(dir, "open directory", errno);
    SyncOrDie(fd.get(), dir);
    return Ok();
  }

  bool Exists(const fs::path& path) override {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
  }

  Result<std::uint64_t> FileSize(const fs::path& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError(path, "stat", errno);
    return static_cast<std::uint64_t>(st.st_size);
  }

  Status Truncate(const fs::path& path, std::uint64_t size) override {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd.get() < 0) return PosixError(path, "open", errno);
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
      return PosixError(path, "truncate", errno);
    SyncOrDie(fd.get(), path);
    return Ok();
  }

  Result<std::unique_ptr<FileLock>> LockFile(const fs::path& path) override {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (fd.get() < 0) return PosixError(path, "open lock", errno);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK)
        return Fail(Code::kFailedPrecondition,
                    path.string() + ": locked by another custodia process; wait for it to finish");
      return PosixError(path, "lock", errno);
    }
    return std::unique_ptr<FileLock>(new PosixFileLock(std::move(fd)));
  }

  std::int64_t NowMicros() override {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  }
};

}  // namespace

Env* Env::Default() {
  static Env* env = new PosixEnv;
  return env;
}

std::string FormatUtc(std::int64_t micros) {
  std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace custodia
