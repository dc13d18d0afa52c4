// capture/hot_folder.h: one inbox ("hot folder") that scanning stations
// write batches into. It decides when a batch is complete, claims it with
// an atomic rename so that no two watchers take the same file, and releases
// or quarantines it once the caller is done. POSIX only (inotify on Linux),
// no third-party type. Included by capture/capture.h.
//
// Layout, all on the inbox's own filesystem so that every move is a rename
// (atomic even on NFS, where the server does it; a rename across
// filesystems would be a copy that a crash can leave half done):
//
//   INBOX/NAME                    a batch: a file, or a folder of files
//   INBOX/NAME.ready              optional marker: NAME is complete
//   INBOX/NAME/batch.ready        optional marker of a folder batch
//   INBOX/.custodia/claimed/NAME  taken, being archived (resumed after a crash)
//   INBOX/done/NAME               archived (unless sources are deleted)
//   INBOX/quarantine/NAME         refused or failed, with NAME.reason.txt
//
// Names starting with '.', the done/ and quarantine/ folders, and names
// ending in ".part", ".tmp", ".crdownload" or "~" (files still being
// copied under a temporary name) are never taken.
#ifndef CUSTODIA_CAPTURE_HOT_FOLDER_H_
#define CUSTODIA_CAPTURE_HOT_FOLDER_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace custodia::capture {

struct HotFolderOptions {
  // A batch is complete when nothing in it changed for this long (size,
  // modification time, number of files; an inotify event counts as a
  // change) and, on a local filesystem, no process has one of its files
  // open for writing. Network filesystems show no inotify events for other
  // machines' writes: there the periodic rescan sees the changes.
  double settle_seconds = 5;
  // A station that writes a marker makes its batch complete at once: a
  // folder batch holding a file of this name, or a file NAME with a NAME.ready
  // beside it. Empty: markers are not used.
  std::string marker = "batch.ready";
  // Take batches only when their marker is there (settling is not enough).
  bool require_marker = false;
};

// An entry of the inbox found by Scan.
struct InboxEntry {
  std::string name;     // as in the inbox (always valid UTF-8 when ready)
  bool folder = false;  // a folder batch
  // Why it can never be taken (a symbolic link, a FIFO, a device, a name
  // with control characters or invalid UTF-8, ...); empty otherwise. Such
  // entries are moved to quarantine as they are (links are never followed).
  std::string refused;
};

struct ScanResult {
  std::vector<InboxEntry> ready;    // complete: claim them (in name order)
  std::vector<InboxEntry> refused;  // quarantine them
  int waiting = 0;                  // still changing, open for writing, or waiting for a marker
  // When the next waiting entry may be complete (µs since the epoch);
  // 0 when none is waiting.
  std::int64_t next_check_micros = 0;
};

// What a directory entry of mode `mode` (st_mode) is, for a refusal: "a
// symbolic link (never followed)", "a FIFO (named pipe)", "a socket", "a
// character device", "a block device".
std::string DescribeFileKind(unsigned mode);

// The escaped form of a name for logs, reason files and the quarantine:
// control characters and bytes that are not UTF-8 as %XX, '%' as %25.
std::string EscapeName(const std::string& name);

class HotFolder {
 public:
  // Opens the inbox `dir` (which must exist and be a folder) and creates
  // its .custodia/claimed, done and quarantine folders (mode 0700) when
  // missing. kNotFound / kInvalidArgument naming `dir` otherwise.
  // `label` names the inbox in ledger sources ("scanner-2"); empty: the
  // folder's own name.
  static Result<HotFolder> Open(const std::filesystem::path& dir, const HotFolderOptions& options,
                                std::string label = "");

  HotFolder(HotFolder&&) noexcept;
  HotFolder& operator=(HotFolder&&) noexcept;
  ~HotFolder();

  const std::filesystem::path& dir() const;
  const std::string& label() const;

  // Starts watching the inbox with inotify (IN_CLOSE_WRITE, IN_MOVED_TO,
  // ...) so that Scan learns of changes at once; fd() becomes readable when
  // there are events (read them with DrainEvents). Without it Scan still
  // works (by polling). kUnavailable when inotify cannot be used (limits).
  Status Watch();
  int fd() const;  // -1 when not watching
  // Reads the pending inotify events; returns how many there were.
  int DrainEvents();

  // Looks at the inbox. `now_micros`: the clock (Env::NowMicros()).
  Result<ScanResult> Scan(std::int64_t now_micros);

  // Takes `name` by renaming it (and its marker, if any) into
  // .custodia/claimed/. kNotFound when it is gone (another watcher took
  // it); kAlreadyExists when a batch of that name is still claimed (it is
  // left in the inbox and taken after that one is released).
  Result<std::filesystem::path> Claim(const std::string& name);
  // Batches claimed and not yet released or quarantined, in name order:
  // after a crash, these are processed again.
  Result<std::vector<std::string>> Claimed();
  std::filesystem::path ClaimedPath(const std::string& name) const;

  // A claimed batch was archived durably: move it to done/ (a name taken
  // there already gets ".1", ".2", ... before its extension) or, when
  // `remove` is set, delete it. Claim and Release do not fsync: a crash may
  // undo either (atomically), and the ledger then tells what was done.
  Status Release(const std::string& name, bool remove);
  // Moves a claimed batch (or, when `claimed` is false, an inbox entry
  // Scan refused) to quarantine/ under its escaped name, with
  // NAME.reason.txt holding `reason`. Returns the name it got there.
  Result<std::string> Quarantine(const std::string& name, const std::string& reason, bool claimed);

 private:
  struct Impl;
  explicit HotFolder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custodia::capture

#endif  // CUSTODIA_CAPTURE_HOT_FOLDER_H_
