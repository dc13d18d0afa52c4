// base/env.h: the seam between custodia and the file system and clock
// (LevelDB's Env, kept small). Tests may wrap it to inject faults.
#ifndef CUSTODIA_BASE_ENV_H_
#define CUSTODIA_BASE_ENV_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace custodia {

using Bytes = std::vector<std::uint8_t>;

// A file opened for appending. Not thread-safe.
class AppendableFile {
 public:
  virtual ~AppendableFile() = default;
  virtual Status Append(std::span<const std::uint8_t> data) = 0;
  // Makes everything appended so far durable (fdatasync).
  virtual Status Sync() = 0;
  // A hint: start writing what was appended so far to the disk now, without
  // waiting, so that a later Sync has less left to do. Durability still
  // comes only from Sync. The default does nothing.
  virtual void StartWriteback() {}
  virtual Status Close() = 0;
};

// A file opened for reading from start to end. Not thread-safe.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to out.size() bytes into `out`; returns how many (0 at the end).
  virtual Result<std::size_t> Read(std::span<std::uint8_t> out) = 0;
};

// Held while an advisory lock on a file is held; unlocks when destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

// An Env is shared by the threads of one process: the vault reads blobs on
// several threads at once, so an implementation's ReadFile and Exists must be
// safe to call concurrently (the POSIX one is: it keeps no state).
class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX environment. Never destroyed.
  static Env* Default();

  virtual Result<Bytes> ReadFile(const std::filesystem::path& path) = 0;
  // Opens `path` to read it a piece at a time (a large input is never held
  // whole). kInvalidArgument for a directory.
  virtual Result<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::filesystem::path& path) = 0;
  // Opens `path` for appending, creating it (mode 0600) when missing.
  virtual Result<std::unique_ptr<AppendableFile>> NewAppendableFile(
      const std::filesystem::path& path) = 0;
  // Writes `data` to a temporary file beside `path`, fsyncs it, renames it
  // over `path` and fsyncs the directory: afterwards `path` holds either
  // the old contents or all of `data`, even across a crash.
  virtual Status WriteFileAtomic(const std::filesystem::path& path,
                                 std::span<const std::uint8_t> data) = 0;
  // Names (not paths) of the entries of `dir`, sorted.
  virtual Result<std::vector<std::string>> ListDir(const std::filesystem::path& dir) = 0;
  virtual Status Rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  virtual Status Remove(const std::filesystem::path& path) = 0;
  // Creates `dir` and its parents with mode 0700; fine if it exists.
  virtual Status CreateDir(const std::filesystem::path& dir) = 0;
  virtual Status SyncDir(const std::filesystem::path& dir) = 0;
  virtual bool Exists(const std::filesystem::path& path) = 0;
  virtual Result<std::uint64_t> FileSize(const std::filesystem::path& path) = 0;
  // Truncates `path` to `size` bytes and syncs it.
  virtual Status Truncate(const std::filesystem::path& path, std::uint64_t size) = 0;
  // Takes an exclusive advisory lock on `path` (created if missing).
  // kFailedPrecondition when another process holds it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::filesystem::path& path) = 0;
  // Microseconds since the Unix epoch, UTC.
  virtual std::int64_t NowMicros() = 0;
};

// Formats `micros` since the epoch as "2026-11-27T22:35:38Z".
std::string FormatUtc(std::int64_t micros);

}  // namespace custodia

#endif  // CUSTODIA_BASE_ENV_H_
