// capture/hot_folder.cc: see hot_folder.h. docs/watch.md describes the
// rules from a station's point of view.
#include "capture/hot_folder.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <utility>

namespace custodia::capture {
namespace {

namespace fs = std::filesystem;

constexpr const char* kWorkDir = ".custodia";
constexpr const char* kDoneDir = "done";
constexpr const char* kQuarantineDir = "quarantine";
constexpr const char* kReadySuffix = ".ready";

Error SysError(Code code, const std::string& what, int err) {
  return Error{code, what + ": " + strerror(err)};
}

// Length of the UTF-8 sequence starting at s[i], or 0 when it is not one
// (overlong forms, surrogates and code points over U+10FFFF included).
std::size_t Utf8Length(const std::string& s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

// Why `name` cannot be used as a batch name; empty when it can.
std::string BadName(const std::string& name) {
  if (name.size() > 200) return "name longer than 200 bytes";
  for (std::size_t i = 0; i < name.size();) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7F) return "name holds a control character (a newline, a tab, ...)";
    const std::size_t n = Utf8Length(name, i);
    if (n == 0) return "name is not valid UTF-8";
    i += n;
  }
  return "";
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Names a station uses while a file is still being written.
bool IsTemporaryName(const std::string& name) {
  return EndsWith(name, ".part") || EndsWith(name, ".tmp") || EndsWith(name, ".crdownload") ||
         EndsWith(name, "~");
}

}  // namespace

std::string DescribeFileKind(unsigned mode) {
  if (S_ISLNK(mode)) return "a symbolic link (never followed)";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file or folder";
}

namespace {

std::int64_t MtimeMicros(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000 + st.st_mtim.tv_nsec / 1000;
}

// What Scan compares between looks: a change in any of it restarts the
// settle time.
struct Signature {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
  std::int64_t newest_micros = 0;  // latest modification or status change
  bool operator==(const Signature&) const = default;
};

// Whether a process on this machine has `path` open for writing: a read
// lease is refused (EAGAIN) while any writer has it open. Leases need the
// file's owner or CAP_LEASE, and local filesystems: where they cannot be
// taken, settling alone decides (false).
bool OpenForWriting(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  bool busy = false;
  if (::fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
    ::fcntl(fd, F_SETLEASE, F_UNLCK);
  } else if (errno == EAGAIN) {
    busy = true;
  }
  ::close(fd);
  return busy;
}

// Whether a file below `dir` (links not followed) is open for writing.
bool FolderOpenForWriting(const fs::path& dir, int depth) {
  std::error_code ec;
  if (depth > 16) return false;
  for (fs::directory_iterator it(dir, fs::directory_options::none, ec), end; !ec && it != end;
       it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode) && FolderOpenForWriting(it->path(), depth + 1)) return true;
    if (S_ISREG(st.st_mode) && OpenForWriting(it->path())) return true;
  }
  return false;
}

// Adds up a folder batch without following links. What it holds that can
// never be archived (a link, a FIFO) is found when the batch is archived:
// the whole batch goes to quarantine then.
void WalkFolder(const fs::path& dir, Signature* sig, int depth = 0) {
  std::error_code ec;
  if (depth > 16) return;
  for (fs::directory_iterator it(dir, fs::directory_options::none, ec), end; !ec && it != end;
       it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    ++sig->files;
    sig->newest_micros = std::max(sig->newest_micros, MtimeMicros(st));
    sig->newest_micros = std::max(
        sig->newest_micros,
        static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000 + st.st_ctim.tv_nsec / 1000);
    if (S_ISDIR(st.st_mode)) {
      WalkFolder(it->path(), sig, depth + 1);
    } else if (S_ISREG(st.st_mode)) {
      sig->bytes += static_cast<std::uint64_t>(st.st_size);
    }
  }
}

// rename(2) that never replaces `to`: EEXIST when it exists. Filesystems
// without RENAME_NOREPLACE fall back to link + unlink for files (atomic and
// no-replace on NFS too) and to a check before the rename for folders.
int RenameNoReplace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return errno;
  struct stat st;
  if (::lstat(from.c_str(), &st) != 0) return errno;
  if (!S_ISDIR(st.st_mode)) {
    if (::link(from.c_str(), to.c_str()) != 0) return errno;
    if (::unlink(from.c_str()) != 0) return errno;
    return 0;
  }
  if (::lstat(to.c_str(), &st) == 0) return EEXIST;
  if (::rename(from.c_str(), to.c_str()) != 0) return errno;
  return 0;
}

Status SyncDir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unexpected{SysError(Code::kIo, dir.string(), errno)};
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Unexpected{SysError(Code::kIo, "fsync " + dir.string(), err)};
  return Ok();
}

// "a.pdf" -> "a.1.pdf", "a.2.pdf", ...; "lote" -> "lote.1".
std::string Numbered(const std::string& name, int n) {
  const std::size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return name + "." + std::to_string(n);
  return name.substr(0, dot) + "." + std::to_string(n) + name.substr(dot);
}

// Moves `from` to `dir`/`name` (or a numbered variant when taken). Returns
// the name used.
Result<std::string> MoveInto(const fs::path& from, const fs::path& dir, const std::string& name) {
  for (int n = 0; n < 10000; ++n) {
    const std::string candidate = n == 0 ? name : Numbered(name, n);
    const int err = RenameNoReplace(from, dir / candidate);
    if (err == 0) return candidate;
    if (err != EEXIST && err != ENOTEMPTY) {
      return Unexpected{SysError(Code::kIo, "moving " + from.string() + " to " + dir.string(), err)};
    }
  }
  return Fail(Code::kAlreadyExists, dir.string() + ": 10000 entries named like " + name +
                                        " already; clear the folder");
}

}  // namespace

std::string EscapeName(const std::string& name) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < name.size();) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    const std::size_t n = Utf8Length(name, i);
    if (c < 0x20 || c == 0x7F || c == '%' || n == 0) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
      ++i;
      continue;
    }
    out.append(name, i, n);
    i += n;
  }
  return out;
}

struct HotFolder::Impl {
  fs::path dir;
  std::string label;
  HotFolderOptions options;
  int inotify_fd = -1;
  struct Seen {
    Signature sig;
    std::int64_t changed_micros = 0;
  };
  std::map<std::string, Seen> seen;
  std::set<std::string> touched;  // names inotify reported since the last Scan

  ~Impl() {
    if (inotify_fd >= 0) ::close(inotify_fd);
  }
  fs::path claimed_dir() const { return dir / kWorkDir / "claimed"; }
};

HotFolder::HotFolder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HotFolder::HotFolder(HotFolder&&) noexcept = default;
HotFolder& HotFolder::operator=(HotFolder&&) noexcept = default;
HotFolder::~HotFolder() = default;

Result<HotFolder> HotFolder::Open(const fs::path& dir, const HotFolderOptions& options,
                                  std::string label) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    return Unexpected{SysError(errno == ENOENT ? Code::kNotFound : Code::kIo,
                               "inbox " + dir.string(), errno)};
  }
  if (!S_ISDIR(st.st_mode)) return Fail(Code::kInvalidArgument, "inbox " + dir.string() + ": not a folder");
  if (options.settle_seconds < 0) {
    return Fail(Code::kInvalidArgument, "inbox " + dir.string() + ": settle time must be >= 0");
  }
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  impl->label = label.empty() ? fs::absolute(dir).lexically_normal().filename().string() : label;
  if (impl->label.empty()) impl->label = "inbox";
  for (const fs::path& sub : {dir / kWorkDir, impl->claimed_dir(), dir / kDoneDir, dir / kQuarantineDir}) {
    if (::mkdir(sub.c_str(), 0700) != 0 && errno != EEXIST) {
      return Unexpected{SysError(Code::kIo, "inbox " + dir.string() + ": cannot create " +
                                                sub.filename().string() + "/ (the watcher needs write access)",
                                 errno)};
    }
    struct stat sub_st;
    if (::lstat(sub.c_str(), &sub_st) != 0 || !S_ISDIR(sub_st.st_mode)) {
      return Fail(Code::kInvalidArgument, "inbox " + dir.string() + ": " + sub.string() +
                                              " must be a folder (rename what is there)");
    }
    if (sub_st.st_dev != st.st_dev) {
      return Fail(Code::kInvalidArgument,
                  "inbox " + dir.string() + ": " + sub.string() +
                      " is on another filesystem; claiming needs an atomic rename within one");
    }
  }
  return HotFolder(std::move(impl));
}

const fs::path& HotFolder::dir() const { return impl_->dir; }
const std::string& HotFolder::label() const { return impl_->label; }
int HotFolder::fd() const { return impl_->inotify_fd; }
fs::path HotFolder::ClaimedPath(const std::string& name) const { return impl_->claimed_dir() / name; }

Status HotFolder::Watch() {
  if (impl_->inotify_fd >= 0) return Ok();
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return Unexpected{SysError(Code::kUnavailable, "inotify", errno)};
  const std::uint32_t mask = IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
                             IN_ATTRIB | IN_DELETE | IN_ONLYDIR;
  if (::inotify_add_watch(fd, impl_->dir.c_str(), mask) < 0) {
    const int err = errno;
    ::close(fd);
    return Unexpected{SysError(Code::kUnavailable,
                               "inotify on " + impl_->dir.string() +
                                   " (raise fs.inotify.max_user_watches? the rescan still works)",
                               err)};
  }
  impl_->inotify_fd = fd;
  return Ok();
}

int HotFolder::DrainEvents() {
  if (impl_->inotify_fd < 0) return 0;
  int events = 0;
  alignas(struct inotify_event) char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(impl_->inotify_fd, buffer, sizeof buffer);
    if (n <= 0) break;
    for (char* p = buffer; p < buffer + n;) {
      const auto* e = reinterpret_cast<const struct inotify_event*>(p);
      if (e->len > 0) impl_->touched.insert(std::string(e->name));
      ++events;
      p += sizeof(struct inotify_event) + e->len;
    }
  }
  return events;
}

Result<ScanResult> HotFolder::Scan(std::int64_t now) {
  Impl& d = *impl_;
  DrainEvents();
  const auto settle = static_cast<std::int64_t>(d.options.settle_seconds * 1e6);
  ScanResult out;
  std::vector<std::string> names;
  {
    std::error_code ec;
    fs::directory_iterator it(d.dir, ec);
    if (ec) return Fail(Code::kIo, "inbox " + d.dir.string() + ": " + ec.message());
    for (fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    if (ec) return Fail(Code::kIo, "inbox " + d.dir.string() + ": " + ec.message());
  }
  std::sort(names.begin(), names.end());
  const std::set<std::string> present(names.begin(), names.end());
  std::map<std::string, Impl::Seen> still_seen;
  for (const std::string& name : names) {
    if (name.empty() || name[0] == '.' || name == kDoneDir || name == kQuarantineDir) continue;
    const fs::path path = d.dir / name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;  // gone since the listing
    if (std::string bad = BadName(name); !bad.empty()) {
      out.refused.push_back({name, false, bad});
      continue;
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
      out.refused.push_back({name, false, DescribeFileKind(st.st_mode)});
      continue;
    }
    if (IsTemporaryName(name)) continue;
    const bool folder = S_ISDIR(st.st_mode);
    bool marked = false;
    if (!d.options.marker.empty()) {
      if (!folder && EndsWith(name, kReadySuffix)) {
        // A marker: waits for its batch; one left alone is harmless.
        const std::string batch = name.substr(0, name.size() - std::string(kReadySuffix).size());
        if (present.count(batch)) continue;
      }
      struct stat marker_st;
      const fs::path marker = folder ? path / d.options.marker : d.dir / (name + kReadySuffix);
      marked = ::lstat(marker.c_str(), &marker_st) == 0 && S_ISREG(marker_st.st_mode);
    }

    Signature sig;
    sig.newest_micros = std::max(MtimeMicros(st), static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000 +
                                                      st.st_ctim.tv_nsec / 1000);
    if (folder) {
      WalkFolder(path, &sig);
    } else {
      sig.files = 1;
      sig.bytes = static_cast<std::uint64_t>(st.st_size);
    }
    Impl::Seen seen;
    auto it = d.seen.find(name);
    if (it == d.seen.end()) {
      // First sight: it last changed when its files say (never later than now).
      seen.sig = sig;
      seen.changed_micros = std::min(sig.newest_micros, now);
    } else {
      seen = it->second;
      if (!(seen.sig == sig)) {
        seen.sig = sig;
        seen.changed_micros = now;
      }
    }
    if (d.touched.count(name)) seen.changed_micros = now;
    const bool settled = now - seen.changed_micros >= settle;
    // Only what would be taken now is checked for writers (it opens every
    // file): a fresh drop of 10,000 files costs no more than their stats.
    bool busy = false;
    if (marked || (settled && !d.options.require_marker)) {
      busy = folder ? FolderOpenForWriting(path, 0) : OpenForWriting(path);
      if (!busy) {
        still_seen[name] = seen;
        out.ready.push_back({name, folder, ""});
        continue;
      }
      seen.changed_micros = now;
    }
    still_seen[name] = seen;
    ++out.waiting;
    if (!d.options.require_marker || busy) {
      const std::int64_t at = busy ? now + std::max<std::int64_t>(settle, 200'000)
                                   : seen.changed_micros + settle;
      if (out.next_check_micros == 0 || at < out.next_check_micros) out.next_check_micros = at;
    }
  }
  d.seen = std::move(still_seen);
  d.touched.clear();
  return out;
}

Result<fs::path> HotFolder::Claim(const std::string& name) {
  Impl& d = *impl_;
  if (!BadName(name).empty() || name.empty() || name[0] == '.' || name.find('/') != std::string::npos) {
    return Fail(Code::kInvalidArgument, "inbox " + d.dir.string() + ": cannot claim " + EscapeName(name));
  }
  const fs::path from = d.dir / name;
  const fs::path to = d.claimed_dir() / name;
  // Checked again on what is taken: the entry may have been replaced
  // since Scan looked.
  struct stat st;
  if (::lstat(from.c_str(), &st) != 0) {
    if (errno == ENOENT) return Fail(Code::kNotFound, "inbox " + d.dir.string() + ": " + name + " is gone");
    return Unexpected{SysError(Code::kIo, from.string(), errno)};
  }
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    return Fail(Code::kInvalidArgument, from.string() + ": " + DescribeFileKind(st.st_mode));
  }
  const int err = RenameNoReplace(from, to);
  if (err == EEXIST || err == ENOTEMPTY) {
    return Fail(Code::kAlreadyExists, "inbox " + d.dir.string() + ": a batch named " + name +
                                          " is still being archived; this one waits for it");
  }
  if (err == ENOENT) return Fail(Code::kNotFound, "inbox " + d.dir.string() + ": " + name + " is gone");
  if (err != 0) return Unexpected{SysError(Code::kIo, "claiming " + from.string(), err)};
  d.seen.erase(name);
  // Not synced: a claim a crash forgets puts the batch back in the inbox,
  // whole (a rename is atomic), to be taken again; what was sealed from it
  // is found by its hash. Durability lives in the ledger, not here.
  if (!d.options.marker.empty() && S_ISREG(st.st_mode)) {
    const fs::path marker = d.dir / (name + kReadySuffix);
    ::unlink(marker.c_str());  // its job is done; a missing one is fine
  }
  return to;
}

Result<std::vector<std::string>> HotFolder::Claimed() {
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(impl_->claimed_dir(), ec);
  if (ec) return Fail(Code::kIo, impl_->claimed_dir().string() + ": " + ec.message());
  for (fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) return Fail(Code::kIo, impl_->claimed_dir().string() + ": " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

Status HotFolder::Release(const std::string& name, bool remove) {
  Impl& d = *impl_;
  const fs::path claimed = d.claimed_dir() / name;
  if (remove) {
    std::error_code ec;
    fs::remove_all(claimed, ec);
    if (ec) return Fail(Code::kIo, "removing " + claimed.string() + ": " + ec.message());
  } else {
    auto moved = MoveInto(claimed, d.dir / kDoneDir, name);
    if (!moved) return Unexpected{moved.error()};
  }
  // Not synced either: a release a crash forgets leaves the batch claimed,
  // and the next start finds it recorded in the ledger and releases it
  // again.
  return Ok();
}

Result<std::string> HotFolder::Quarantine(const std::string& name, const std::string& reason,
                                          bool claimed) {
  Impl& d = *impl_;
  const fs::path from = claimed ? d.claimed_dir() / name : d.dir / name;
  const fs::path qdir = d.dir / kQuarantineDir;
  CU_ASSIGN_OR_RETURN(std::string moved, MoveInto(from, qdir, EscapeName(name)));
  if (!claimed) d.seen.erase(name);
  // The reason beside it, written whole or not at all.
  const fs::path reason_path = qdir / (moved + ".reason.txt");
  const fs::path tmp = qdir / ("." + moved + ".reason.tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Unexpected{SysError(Code::kIo, tmp.string(), errno)};
  const std::string text = "source: " + EscapeName(name) + "\nreason: " + reason + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), reason_path.c_str()) != 0) {
    return Unexpected{SysError(Code::kIo, reason_path.string(), errno)};
  }
  CU_TRY(SyncDir(qdir));
  if (claimed) CU_TRY(SyncDir(d.claimed_dir()));
  return moved;
}

}  // namespace custodia::capture
