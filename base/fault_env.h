// base/fault_env.h (test support, library custodia_base_testing): an Env
// that wraps another and fails the Nth write point, or simulates a crash
// that loses what was never made durable (LevelDB's FaultInjectionTestEnv,
// SQLite's test6.c). Never linked into the custodia binary.
#ifndef CUSTODIA_BASE_FAULT_ENV_H_
#define CUSTODIA_BASE_FAULT_ENV_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/result.h"

namespace custodia {

// A call through which an Env changes the file system: a write point.
// WriteFileAtomic is several (create, append, sync, rename, sync dir), so a
// fault can land between its steps.
enum class WriteOp : std::uint8_t {
  kCreate,  // NewAppendableFile of a file that did not exist
  kAppend,  // AppendableFile::Append
  kSync,    // AppendableFile::Sync
  kRename,
  kRemove,
  kCreateDir,  // once for each directory it creates
  kSyncDir,
  kTruncate,
};
// "create", "append", "sync", "rename", "remove", "create-dir", "sync-dir",
// "truncate".
const char* WriteOpName(WriteOp op);

struct WritePoint {
  WriteOp op = WriteOp::kAppend;
  std::filesystem::path path;  // the file or directory it changes (a rename's target)
};

enum class Fault : std::uint8_t {
  // That write point fails with EIO and does nothing (a failed Append
  // writes the first half of its data first: a torn write). Later ones
  // succeed: a transient error.
  kEio,
  // The first write point from there on that needs space (create, append,
  // create dir) fails with ENOSPC, and so does every later one, until
  // ClearFault: a full disk. A failed Append is torn as under kEio.
  kEnospc,
  // The process "dies" there: that write point and every later one fail
  // and do nothing, until SimulateCrash.
  kCrash,
  // kEio there, then kCrash from the next write point on: the process dies
  // in the error path (the truncate or remove that undoes a failed write).
  kEioThenCrash,
};

// What a crash leaves of bytes appended to a file but never synced.
enum class UnsyncedData : std::uint8_t {
  kDrop,      // nothing: the file is cut back to its synced length
  kKeepHalf,  // the first half of them (a write that reached the disk in part)
  kZeros,     // as many zero bytes (the size reached the disk, the data did not)
};

// Forwards to `base`, counting write points and tracking what is durable:
// per file, how many bytes were synced; per directory entry (a file or
// directory created, renamed or removed), whether the directory was synced
// since. fsyncs are recorded, never passed on: durability is what
// SimulateCrash models, and the tests stay fast. Files found on disk when
// first touched count as durable. `base` must be an Env over a real
// directory tree (SimulateCrash drops directories with std::filesystem,
// which Env cannot) and must outlive this one.
// Reads and write points may come from several threads; the counts then
// follow their order.
class FaultEnv final : public Env {
 public:
  explicit FaultEnv(Env* base = Env::Default());
  ~FaultEnv() override;

  // Write points since construction or the last SimulateCrash, in order.
  std::vector<WritePoint> write_points() const;
  std::uint64_t write_count() const;

  // Makes write point number `n` (1-based, counted as write_count counts)
  // fail as `fault` says. One fault at a time; REQUIRES: n > write_count().
  void InjectFault(std::uint64_t n, Fault fault);
  // Ends an injected fault (the disk has room again; the process lives on).
  void ClearFault();
  // Whether the injected fault has fired (at write point n).
  bool fault_fired() const;
  // The write point where it fired; REQUIRES: fault_fired().
  WritePoint fault_point() const;

  // Brings the files this Env wrote to what a crash now would leave: every
  // file cut back to its synced length (plus what `unsynced` keeps), and
  // each directory entry made, renamed or removed since its directory's
  // last SyncDir undone (a renamed-over or removed file comes back with
  // its durable bytes; a directory whose entry was not synced is dropped
  // with all it holds). Then forgets all of it (what is on disk now is
  // durable), ends any fault and resets the counts. Files must be closed
  // first (objects made by this Env may be destroyed afterwards, never used).
  Status SimulateCrash(UnsyncedData unsynced = UnsyncedData::kDrop);

  Result<Bytes> ReadFile(const std::filesystem::path& path) override;
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::filesystem::path& path) override;
  Result<std::unique_ptr<AppendableFile>> NewAppendableFile(
      const std::filesystem::path& path) override;
  Status WriteFileAtomic(const std::filesystem::path& path,
                         std::span<const std::uint8_t> data) override;
  Result<std::vector<std::string>> ListDir(const std::filesystem::path& dir) override;
  Status Rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status Remove(const std::filesystem::path& path) override;
  Status CreateDir(const std::filesystem::path& dir) override;
  Status SyncDir(const std::filesystem::path& dir) override;
  bool Exists(const std::filesystem::path& path) override;
  Result<std::uint64_t> FileSize(const std::filesystem::path& path) override;
  Status Truncate(const std::filesystem::path& path, std::uint64_t size) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::filesystem::path& path) override;
  std::int64_t NowMicros() override;

 private:
  class File;
  // One file's life (an inode): how much was written to it, and how much
  // of that was synced.
  struct Node {
    std::uint64_t size = 0;    // bytes in it now
    std::uint64_t synced = 0;  // of which durable
    bool saved = false;        // unlinked while a durable entry named it:
    Bytes bytes;               // its bytes then
  };
  using NodePtr = std::shared_ptr<Node>;

  // Counts a write point; an error if it is to fail (EIO, ENOSPC or the
  // crash). REQUIRES: mu_ held.
  Status Pass(WriteOp op, const std::filesystem::path& path);
  // Starts tracking `path` (a file), as found on disk. REQUIRES: mu_ held.
  void TouchFile(const std::filesystem::path& path);
  void TouchDir(const std::filesystem::path& dir);
  // Keeps the bytes of the node at `path` if a durable entry names it and
  // it is about to be unlinked. REQUIRES: mu_ held.
  void SaveIfDurable(const std::filesystem::path& path);
  Status AppendTo(const NodePtr& node, AppendableFile& file, const std::filesystem::path& path,
                  std::span<const std::uint8_t> data);
  Status SyncNode(const NodePtr& node, const std::filesystem::path& path);
  Status RenameLocked(const std::filesystem::path& from, const std::filesystem::path& to);
  Status RemoveLocked(const std::filesystem::path& path);

  Env* base_;
  mutable std::mutex mu_;
  std::vector<WritePoint> points_;
  std::uint64_t fault_at_ = 0;  // 0: none
  Fault fault_ = Fault::kEio;
  bool fired_ = false;
  WritePoint fired_point_;
  std::uint64_t fired_at_ = 0;  // its number
  // Tracked files: what each path names now, and what it would name after
  // a crash (null: nothing).
  std::map<std::filesystem::path, NodePtr> current_;
  std::map<std::filesystem::path, NodePtr> durable_;
  // Tracked directories: whether each exists now and after a crash.
  std::map<std::filesystem::path, bool> current_dirs_;
  std::map<std::filesystem::path, bool> durable_dirs_;
};

}  // namespace custodia

#endif  // CUSTODIA_BASE_FAULT_ENV_H_
