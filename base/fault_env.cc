// base/fault_env.cc: the fault-injecting, crash-simulating Env of the tests.
#include "base/fault_env.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace custodia {
namespace {

namespace fs = std::filesystem;

// The key a path is tracked under: "a/./b/" and "a/b" are one.
fs::path Key(const fs::path& path) {
  fs::path p = path.lexically_normal();
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();
  return p;
}

fs::path Parent(const fs::path& key) {
  return key.has_parent_path() ? key.parent_path() : fs::path(".");
}

bool NeedsSpace(WriteOp op) {
  return op == WriteOp::kCreate || op == WriteOp::kAppend || op == WriteOp::kCreateDir;
}

Unexpected Injected(const fs::path& path, WriteOp op, int err) {
  return Fail(Code::kIo,
              path.string() + ": " + WriteOpName(op) + ": " + std::strerror(err) + " (injected)");
}

}  // namespace

const char* WriteOpName(WriteOp op) {
  switch (op) {
    case WriteOp::kCreate:
      return "create";
    case WriteOp::kAppend:
      return "append";
    case WriteOp::kSync:
      return "sync";
    case WriteOp::kRename:
      return "rename";
    case WriteOp::kRemove:
      return "remove";
    case WriteOp::kCreateDir:
      return "create-dir";
    case WriteOp::kSyncDir:
      return "sync-dir";
    case WriteOp::kTruncate:
      return "truncate";
  }
  return "unknown";
}

class FaultEnv::File final : public AppendableFile {
 public:
  File(FaultEnv* env, NodePtr node, std::unique_ptr<AppendableFile> base, fs::path path)
      : env_(env), node_(std::move(node)), base_(std::move(base)), path_(std::move(path)) {}
  Status Append(std::span<const std::uint8_t> data) override {
    return env_->AppendTo(node_, *base_, path_, data);
  }
  Status Sync() override { return env_->SyncNode(node_, path_); }
  Status Close() override { return base_->Close(); }

 private:
  FaultEnv* env_;
  NodePtr node_;
  std::unique_ptr<AppendableFile> base_;
  fs::path path_;
};

FaultEnv::FaultEnv(Env* base) : base_(base) {}
FaultEnv::~FaultEnv() = default;

std::vector<WritePoint> FaultEnv::write_points() const {
  std::lock_guard lock(mu_);
  return points_;
}

std::uint64_t FaultEnv::write_count() const {
  std::lock_guard lock(mu_);
  return points_.size();
}

void FaultEnv::InjectFault(std::uint64_t n, Fault fault) {
  std::lock_guard lock(mu_);
  CU_CHECK(n > points_.size());
  fault_at_ = n;
  fault_ = fault;
  fired_ = false;
}

void FaultEnv::ClearFault() {
  std::lock_guard lock(mu_);
  fault_at_ = 0;
  fired_ = false;
}

bool FaultEnv::fault_fired() const {
  std::lock_guard lock(mu_);
  return fired_;
}

WritePoint FaultEnv::fault_point() const {
  std::lock_guard lock(mu_);
  CU_CHECK(fired_);
  return fired_point_;
}

Status FaultEnv::Pass(WriteOp op, const fs::path& path) {
  points_.push_back(WritePoint{op, path});
  if (fault_at_ == 0) return Ok();
  if (!fired_ && points_.size() >= fault_at_ && (fault_ != Fault::kEnospc || NeedsSpace(op))) {
    fired_ = true;
    fired_point_ = points_.back();
    fired_at_ = points_.size();
    if (fault_ == Fault::kEio || fault_ == Fault::kEioThenCrash) return Injected(path, op, EIO);
  }
  if (!fired_) return Ok();
  if (fault_ == Fault::kCrash || (fault_ == Fault::kEioThenCrash && points_.size() > fired_at_)) {
    return Fail(Code::kIo, path.string() + ": " + WriteOpName(op) +
                               ": simulated crash (nothing more reaches the disk)");
  }
  if (fault_ == Fault::kEnospc && NeedsSpace(op)) return Injected(path, op, ENOSPC);
  return Ok();
}

void FaultEnv::TouchFile(const fs::path& key) {
  if (current_.count(key) != 0) return;
  NodePtr node;
  if (base_->Exists(key)) {
    auto size = base_->FileSize(key);
    node = std::make_shared<Node>();
    node->size = node->synced = size ? *size : 0;
  }
  current_[key] = node;
  durable_[key] = node;
}

void FaultEnv::TouchDir(const fs::path& key) {
  if (current_dirs_.count(key) != 0) return;
  const bool exists = base_->Exists(key);
  current_dirs_[key] = exists;
  durable_dirs_[key] = exists;
}

void FaultEnv::SaveIfDurable(const fs::path& key) {
  const NodePtr& node = current_[key];
  if (!node || node->saved) return;
  for (const auto& [path, durable] : durable_) {
    if (durable == node) {
      auto bytes = base_->ReadFile(key);
      node->bytes = bytes ? std::move(bytes).value() : Bytes();
      node->saved = true;
      return;
    }
  }
}

Status FaultEnv::AppendTo(const NodePtr& node, AppendableFile& file, const fs::path& path,
                          std::span<const std::uint8_t> data) {
  std::lock_guard lock(mu_);
  Status passed = Pass(WriteOp::kAppend, path);
  if (!passed) {
    const bool dead =
        fault_ == Fault::kCrash || (fault_ == Fault::kEioThenCrash && points_.size() > fired_at_);
    if (!dead) {
      // A torn write: part of the data reached the file before the error.
      const auto half = data.first(data.size() / 2);
      if (file.Append(half)) node->size += half.size();
    }
    return passed;
  }
  CU_TRY(file.Append(data));
  node->size += data.size();
  return Ok();
}

Status FaultEnv::SyncNode(const NodePtr& node, const fs::path& path) {
  std::lock_guard lock(mu_);
  CU_TRY(Pass(WriteOp::kSync, path));
  node->synced = node->size;
  return Ok();
}

Result<Bytes> FaultEnv::ReadFile(const fs::path& path) { return base_->ReadFile(path); }

Result<std::unique_ptr<SequentialFile>> FaultEnv::NewSequentialFile(const fs::path& path) {
  return base_->NewSequentialFile(path);
}

Result<std::unique_ptr<AppendableFile>> FaultEnv::NewAppendableFile(const fs::path& path) {
  std::lock_guard lock(mu_);
  const fs::path key = Key(path);
  TouchFile(key);
  const bool create = current_[key] == nullptr;
  if (create) CU_TRY(Pass(WriteOp::kCreate, path));
  auto file = base_->NewAppendableFile(path);
  if (!file) return Unexpected{file.error()};
  if (create) current_[key] = std::make_shared<Node>();
  return std::unique_ptr<AppendableFile>(
      new File(this, current_[key], std::move(file).value(), path));
}

// As PosixEnv does it, one write point at a time: temporary file, data,
// fsync, rename, directory fsync.
Status FaultEnv::WriteFileAtomic(const fs::path& path, std::span<const std::uint8_t> data) {
  fs::path tmp = path;
  tmp += ".tmp";
  if (Exists(tmp)) CU_TRY(Remove(tmp));
  CU_ASSIGN_OR_RETURN(std::unique_ptr<AppendableFile> file, NewAppendableFile(tmp));
  Status s = file->Append(data);
  if (s) s = file->Sync();
  Status closed = file->Close();
  if (s) s = closed;
  if (s) s = Rename(tmp, path);
  if (!s) {
    (void)Remove(tmp);
    return s;
  }
  return SyncDir(Parent(Key(path)));
}

Result<std::vector<std::string>> FaultEnv::ListDir(const fs::path& dir) {
  return base_->ListDir(dir);
}

Status FaultEnv::Rename(const fs::path& from, const fs::path& to) {
  std::lock_guard lock(mu_);
  return RenameLocked(from, to);
}

Status FaultEnv::RenameLocked(const fs::path& from, const fs::path& to) {
  const fs::path from_key = Key(from);
  const fs::path to_key = Key(to);
  TouchFile(from_key);
  TouchFile(to_key);
  CU_TRY(Pass(WriteOp::kRename, to));
  if (from_key == to_key) return base_->Rename(from, to);
  SaveIfDurable(to_key);
  CU_TRY(base_->Rename(from, to));
  current_[to_key] = std::exchange(current_[from_key], nullptr);
  return Ok();
}

Status FaultEnv::Remove(const fs::path& path) {
  std::lock_guard lock(mu_);
  return RemoveLocked(path);
}

Status FaultEnv::RemoveLocked(const fs::path& path) {
  const fs::path key = Key(path);
  TouchFile(key);
  CU_TRY(Pass(WriteOp::kRemove, path));
  SaveIfDurable(key);
  CU_TRY(base_->Remove(path));
  current_[key] = nullptr;
  return Ok();
}

Status FaultEnv::CreateDir(const fs::path& dir) {
  std::lock_guard lock(mu_);
  // The missing directories, outermost first: each is a write point.
  std::vector<fs::path> missing;
  for (fs::path d = Key(dir); !d.empty() && !base_->Exists(d); d = d.parent_path()) {
    missing.insert(missing.begin(), d);
    if (!d.has_parent_path()) break;
  }
  for (const fs::path& d : missing) {
    TouchDir(d);
    CU_TRY(Pass(WriteOp::kCreateDir, d));
    CU_TRY(base_->CreateDir(d));
    current_dirs_[d] = true;
  }
  return base_->CreateDir(dir);  // the mode of one that existed
}

Status FaultEnv::SyncDir(const fs::path& dir) {
  std::lock_guard lock(mu_);
  const fs::path key = Key(dir);
  CU_TRY(Pass(WriteOp::kSyncDir, dir));
  if (!base_->Exists(key)) {
    return Fail(Code::kNotFound, dir.string() + ": open directory: No such file or directory");
  }
  for (auto& [path, node] : current_) {
    if (Parent(path) == key) durable_[path] = node;
  }
  for (auto& [path, exists] : current_dirs_) {
    if (Parent(path) == key) durable_dirs_[path] = exists;
  }
  return Ok();
}

bool FaultEnv::Exists(const fs::path& path) { return base_->Exists(path); }

Result<std::uint64_t> FaultEnv::FileSize(const fs::path& path) { return base_->FileSize(path); }

Status FaultEnv::Truncate(const fs::path& path, std::uint64_t size) {
  std::lock_guard lock(mu_);
  const fs::path key = Key(path);
  TouchFile(key);
  CU_TRY(Pass(WriteOp::kTruncate, path));
  CU_TRY(base_->Truncate(path, size));
  if (const NodePtr& node = current_[key]) node->size = node->synced = size;  // it syncs
  return Ok();
}

Result<std::unique_ptr<FileLock>> FaultEnv::LockFile(const fs::path& path) {
  return base_->LockFile(path);
}

std::int64_t FaultEnv::NowMicros() { return base_->NowMicros(); }

Status FaultEnv::SimulateCrash(UnsyncedData unsynced) {
  std::lock_guard lock(mu_);
  // What each node that a durable entry names will hold: its bytes as
  // they are now (or were when it was unlinked), cut to what was synced.
  std::map<const Node*, fs::path> where;
  for (const auto& [path, node] : current_) {
    if (node) where[node.get()] = path;
  }
  std::map<const Node*, std::pair<Bytes, Bytes>> contents;  // now, after the crash
  for (const auto& [path, node] : durable_) {
    if (!node || contents.count(node.get()) != 0) continue;
    Bytes now;
    if (node->saved) {
      now = node->bytes;
    } else {
      auto it = where.find(node.get());
      if (it == where.end()) {
        return Fail(Code::kInternal,
                    "fault env: the durable file " + path.string() + " was lost without its bytes");
      }
      CU_ASSIGN_OR_RETURN(now, base_->ReadFile(it->second));
    }
    Bytes kept = now;
    const std::size_t synced = std::min<std::uint64_t>(node->synced, kept.size());
    const std::size_t extra = kept.size() - synced;
    switch (unsynced) {
      case UnsyncedData::kDrop:
        kept.resize(synced);
        break;
      case UnsyncedData::kKeepHalf:
        kept.resize(synced + extra / 2);
        break;
      case UnsyncedData::kZeros:
        std::fill(kept.begin() + static_cast<std::ptrdiff_t>(synced), kept.end(), 0);
        break;
    }
    contents[node.get()] = {std::move(now), std::move(kept)};
  }
  // Every file path to what a crash leaves there.
  for (const auto& [path, now] : current_) {
    const NodePtr& want = durable_[path];
    if (want == now &&
        (!want || (!want->saved && contents[want.get()].first == contents[want.get()].second))) {
      continue;  // nothing lost here
    }
    if (now) CU_TRY(base_->Remove(path));
    if (!want) continue;
    std::error_code ec;
    fs::create_directories(Parent(path), ec);  // dropped below if it was not durable
    CU_ASSIGN_OR_RETURN(std::unique_ptr<AppendableFile> file, base_->NewAppendableFile(path));
    CU_TRY(file->Append(contents[want.get()].second));
    CU_TRY(file->Close());
  }
  // Directories made since their parent's last sync are gone, with all in
  // them (outer ones come first in the map's order).
  for (const auto& [dir, exists] : current_dirs_) {
    if (!exists || durable_dirs_[dir]) continue;
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec) return Fail(Code::kIo, dir.string() + ": remove: " + ec.message());
  }
  points_.clear();
  fault_at_ = 0;
  fired_ = false;
  current_.clear();
  durable_.clear();
  current_dirs_.clear();
  durable_dirs_.clear();
  return Ok();
}

}  // namespace custodia
