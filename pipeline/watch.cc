// pipeline/watch.cc: `custodia watch` (docs/watch.md). A supervisor takes
// complete batches from the hot folders (capture::HotFolder) and hands each
// to a worker process, which archives it (Archive::IngestBatch) and records
// it in the ledger; the supervisor then releases the source to done/, or
// moves it to quarantine/ with its reason. The worker is a separate
// process so that a file that hangs or crashes a decoder (Poppler,
// Leptonica, Tesseract) costs one batch, never the watcher: it is killed
// after the per-document time limit, the batch is quarantined, and a fresh
// worker carries on.
//
// Crash safety, in order for each batch: claim (rename into
// INBOX/.custodia/claimed/), seal every document (durable), record the
// batch entry (durable), release the source. A crash before the release
// leaves the batch claimed; the next start archives it again, which finds
// every document sealed already (by content hash) and the batch recorded,
// and only releases it.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "base/env.h"
#include "capture/capture.h"
#include "pipeline/archive_impl.h"

namespace custodia::pipeline {
namespace {

namespace fs = std::filesystem;
using detail::Input;
using nlohmann::json;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Files a batch folder may hold that are not documents: left out.
bool IsJunk(const std::string& name, const std::string& marker) {
  return name.empty() || name[0] == '.' || name == marker || name == "Thumbs.db" ||
         name == "desktop.ini";
}


// Lists a folder batch's files (relative paths, sorted), never following
// a link. Returns why the batch cannot be archived, or "".
std::string ListBatchFolder(const fs::path& root, const fs::path& rel, const std::string& marker,
                            int depth, std::vector<std::string>* files) {
  if (depth > 16) return rel.string() + ": folders nested more than 16 deep";
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(root / rel, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) return (rel.empty() ? std::string(".") : rel.string()) + ": cannot list: " + ec.message();
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    if (IsJunk(name, depth == 0 ? marker : "")) continue;
    const fs::path r = rel / name;
    struct stat st;
    if (::lstat((root / r).c_str(), &st) != 0) return r.string() + ": " + std::strerror(errno);
    if (S_ISDIR(st.st_mode)) {
      std::string why = ListBatchFolder(root, r, marker, depth + 1, files);
      if (!why.empty()) return why;
    } else if (S_ISREG(st.st_mode)) {
      files->push_back(r.string());
    } else {
      return capture::EscapeName(r.string()) + " is " + capture::DescribeFileKind(st.st_mode) +
             "; a batch may hold only files and folders";
    }
  }
  return "";
}

}  // namespace

// --- The worker's side: one batch ----------------------------------------

Status Archive::PrepareBatches() {
  // Once per process: this Archive holds the archive's lock, so neither the
  // model (`custodia train`) nor the vault changes under it between batches.
  if (impl_->batch_ready) return Ok();
  CU_TRY(impl_->LoadModel());
  auto reindexed = impl_->CatchUpIndex();
  if (!reindexed) return Wrap(reindexed.error(), "index: bringing it in step with the vault");
  impl_->batch_ready = true;
  return Ok();
}

Result<BatchResult> Archive::IngestBatch(const fs::path& path, const std::string& source,
                                         bool resumed, const IngestOptions& options,
                                         const std::function<void(const IngestResult&)>& on_result) {
  const auto start = std::chrono::steady_clock::now();
  BatchResult out;
  out.source = source;
  CU_TRY(PrepareBatches());

  auto quarantine = [&](std::string reason, const std::string& hash) -> Result<BatchResult> {
    if (reason.size() > 4000) reason.resize(4000);
    vault::BatchRequest request;
    request.source = source;
    request.source_hash = hash;
    request.outcome = vault::BatchOutcome::kQuarantined;
    request.reason = reason;
    {
      std::lock_guard lock(impl_->mu);
      CU_TRY(impl_->vault.RecordBatch(request));
    }
    out.outcome = "quarantined";
    out.reason = std::move(reason);
    out.seconds = SecondsSince(start);
    return out;
  };

  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    return Fail(Code::kNotFound, path.string() + ": " + std::strerror(errno));
  }
  std::vector<Input> inputs;
  std::string hash;
  if (S_ISREG(st.st_mode)) {
    inputs.push_back({path.string(), source, ""});
    auto hashed = vault::Vault::HashFileHex(path);
    if (!hashed) return quarantine("cannot read it: " + hashed.error().message, "");
    hash = hashed->first;
  } else if (S_ISDIR(st.st_mode)) {
    std::vector<std::string> files;
    std::string why = ListBatchFolder(path, "", options.batch_marker, 0, &files);
    if (!why.empty()) return quarantine(why, "");
    if (files.empty()) return quarantine("the folder holds no files", "");
    // A folder's hash: of its manifest, each file's relative path and hash.
    std::string manifest;
    for (const std::string& rel : files) {
      auto hashed = vault::Vault::HashFileHex(path / rel);
      if (!hashed) return quarantine(rel + ": cannot read it: " + hashed.error().message, "");
      manifest += rel;
      manifest += '\0';
      manifest += hashed->first;
      manifest += '\n';
      inputs.push_back({(path / rel).string(), source + "/" + rel, ""});
    }
    hash = vault::Vault::HashHex(
        {reinterpret_cast<const std::uint8_t*>(manifest.data()), manifest.size()});
  } else {
    return quarantine(capture::DescribeFileKind(st.st_mode), "");
  }

  // Recorded archived already: a crash came between the ledger and the
  // release. Nothing to do again. (The same file dropped again later is not
  // resumed: it is archived again, its documents recorded as duplicates.)
  if (resumed) {
    std::lock_guard lock(impl_->mu);
    for (const vault::Batch& b : impl_->vault.Batches()) {
      if (b.source == source && b.source_hash == hash &&
          b.outcome == vault::BatchOutcome::kArchived) {
        out.outcome = "archived";
        out.already_recorded = true;
        out.documents = static_cast<int>(b.documents.size());
        out.pages = static_cast<int>(b.pages);
        out.seconds = SecondsSince(start);
        return out;
      }
    }
  }

  std::vector<IngestResult> results;
  IngestSummary summary;
  IngestInputs(inputs, options, [&](const IngestResult& r) {
    results.push_back(r);
    if (on_result) on_result(r);
  }, &summary);

  vault::BatchRequest request;
  request.source = source;
  request.source_hash = hash;
  std::string failure;
  // Pages of the batch before the current file, and the current file's.
  std::uint32_t offset = 0, file_pages = 0;
  {
    std::lock_guard lock(impl_->mu);
    for (const IngestResult& r : results) {
      if (r.first_of_file) {
        offset += file_pages;
        file_pages = static_cast<std::uint32_t>(std::max(r.file_pages, r.pages));
      }
      // A file that failed counts no blank pages: none is dropped.
      if (!r.failed()) out.blank_pages += r.blank_pages;
      out.separators += r.separators;
      const std::uint32_t first = offset + static_cast<std::uint32_t>(std::max(r.first_page, 1));
      if (r.failed()) {
        if (failure.empty()) {
          failure = (inputs.size() > 1 ? r.source + ": " : std::string()) + r.error;
        }
        continue;
      }
      vault::BatchDocument doc;
      doc.id = r.id;
      doc.first_page = first;
      doc.pages = static_cast<std::uint32_t>(r.pages);
      doc.case_file = r.case_file;
      if (r.status == "duplicate") {
        // Sealed from this very batch by a run a crash interrupted: ours.
        auto existing = impl_->vault.Find(r.id);
        doc.duplicate = !resumed || !existing || existing->source != r.source;
      }
      if (doc.duplicate) ++out.duplicates;
      request.documents.push_back(std::move(doc));
    }
  }
  out.pages = static_cast<int>(offset + file_pages);
  out.documents = static_cast<int>(request.documents.size());
  request.pages = static_cast<std::uint32_t>(out.pages);
  request.blank_pages = static_cast<std::uint32_t>(out.blank_pages);
  request.separators = static_cast<std::uint32_t>(out.separators);
  if (failure.size() > 4000) failure.resize(4000);
  if (!failure.empty()) {
    request.outcome = vault::BatchOutcome::kQuarantined;
    request.reason = failure;
    out.outcome = "quarantined";
    out.reason = failure;
  } else {
    request.outcome = vault::BatchOutcome::kArchived;
    out.outcome = "archived";
  }
  {
    std::lock_guard lock(impl_->mu);
    CU_TRY(impl_->vault.RecordBatch(request));
    // The index follows: documents are found by their batch (lote:) and
    // case files (expediente:). A projection: `rebuild` and later ingests
    // repair it.
    bool changed = false;
    for (const vault::BatchDocument& doc : request.documents) {
      auto record = impl_->vault.Find(doc.id);
      if (!record) continue;
      Status set = impl_->index.SetBatch(doc.id, record->batch, record->case_files,
                                         record->changed_seq);
      if (!set && set.error().code == Code::kNotFound) continue;  // CatchUpIndex adds it
      if (!set) return Wrap(set.error(), doc.id + " is filed in its batch but not indexed so");
      changed = true;
    }
    if (changed) CU_TRY(impl_->index.Commit());
  }
  out.seconds = SecondsSince(start);
  return out;
}

Result<std::map<std::string, std::vector<CaseDocument>>> Archive::CaseFiles(
    const std::string& case_file) {
  std::map<std::string, std::vector<CaseDocument>> cases;
  std::lock_guard lock(impl_->mu);
  for (const vault::Record& r : impl_->vault.List()) {
    for (const std::string& c : r.case_files) {
      if (!case_file.empty() && c != case_file) continue;
      cases[c].push_back({r.id, r.type, r.status, r.source, FormatUtc(r.sealed_micros)});
    }
  }
  if (!case_file.empty() && cases.empty()) {
    return Fail(Code::kNotFound, "no document is filed in case " + case_file +
                                     "; `custodia cases` lists the case files");
  }
  return cases;
}

Status Archive::RecordRefusedBatch(const std::string& source, const std::string& reason) {
  vault::BatchRequest request;
  request.source = source;
  request.outcome = vault::BatchOutcome::kQuarantined;
  request.reason = reason.empty() ? "refused" : reason.substr(0, 4000);
  std::lock_guard lock(impl_->mu);
  CU_TRY(impl_->vault.RecordBatch(request));
  return Ok();
}

namespace {

json ResultJson(const IngestResult& r) {
  json j = {{"source", r.source}, {"pages", r.pages}, {"seconds", r.seconds}};
  if (!r.id.empty()) j["id"] = r.id;
  if (!r.type.empty()) j["type"] = r.type;
  if (!r.status.empty()) j["status"] = r.status;
  if (r.failed()) j["error"] = r.error;
  if (r.blank_pages > 0) j["blank_pages"] = r.blank_pages;
  if (r.first_page != 1) j["first_page"] = r.first_page;
  if (!r.case_file.empty()) j["case_file"] = r.case_file;
  if (r.separators > 0) j["separators"] = r.separators;
  return j;
}

json BatchJson(const BatchResult& b) {
  json j = {{"source", b.source},     {"outcome", b.outcome},   {"documents", b.documents},
            {"duplicates", b.duplicates}, {"pages", b.pages}, {"blank_pages", b.blank_pages},
            {"separators", b.separators}, {"seconds", b.seconds}};
  if (!b.reason.empty()) j["reason"] = b.reason;
  if (b.already_recorded) j["already_recorded"] = true;
  return j;
}

void Say(const json& j) {
  std::cout << j.dump() << "\n" << std::flush;
}

}  // namespace

int WatchWorker(const fs::path& archive_dir, const std::string& user) {
  // The supervisor writes the passphrase first; it never appears in argv.
  std::string passphrase;
  if (!std::getline(std::cin, passphrase)) {
    Say({{"error", "no passphrase on stdin"}});
    return 2;
  }
  auto archive = Archive::Open(archive_dir);
  if (!archive) {
    Say({{"error", archive.error().message}, {"code", static_cast<int>(archive.error().code)}});
    return 1;
  }
  Status in = archive->Login(user, passphrase);
  std::fill(passphrase.begin(), passphrase.end(), '\0');
  if (!in) {
    Say({{"error", in.error().message}, {"code", static_cast<int>(in.error().code)}});
    return 1;
  }
  auto config = LoadConfig(archive_dir);
  if (!config) {
    Say({{"error", config.error().message}, {"code", static_cast<int>(config.error().code)}});
    return 1;
  }
  IngestOptions options = IngestOptionsFrom(*config);
  // Before "ready": a batch's time limit (document_timeout_seconds) is for
  // the batch, not for loading the model or catching the index up.
  if (Status prepared = archive->PrepareBatches(); !prepared) {
    Say({{"error", prepared.error().message}, {"code", static_cast<int>(prepared.error().code)}});
    return 1;
  }
  Say({{"ready", true}});
  std::string line;
  while (std::getline(std::cin, line)) {
    json request = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!request.is_object()) {
      Say({{"error", "bad request line"}});
      return 2;
    }
    if (request.contains("refused")) {
      Status s = archive->RecordRefusedBatch(request["refused"].get<std::string>(),
                                             request["reason"].get<std::string>());
      if (!s) {
        Say({{"error", s.error().message}});
        return 1;
      }
      Say({{"recorded", true}});
      continue;
    }
    auto batch = archive->IngestBatch(request["path"].get<std::string>(),
                                      request["source"].get<std::string>(),
                                      request.value("resumed", false), options,
                                      [](const IngestResult& r) { Say({{"document", ResultJson(r)}}); });
    if (!batch) {
      // The archive itself failed (disk, ledger): not the batch's fault.
      Say({{"error", batch.error().message}, {"code", static_cast<int>(batch.error().code)}});
      return 1;
    }
    Say({{"batch", BatchJson(*batch)}});
  }
  return 0;
}

// --- The supervisor ---------------------------------------------------------

namespace {

// One worker process, logged in as one station.
class Worker {
 public:
  ~Worker() { Kill(); }

  Status Start(const std::string& self, const fs::path& archive, const std::string& user,
               const std::string& passphrase, std::int64_t memory_limit_mb) {
    int to_child[2], from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) {
      return Fail(Code::kIo, std::string("pipe: ") + std::strerror(errno));
    }
    const pid_t pid = ::fork();
    if (pid < 0) return Fail(Code::kIo, std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      // The worker dies with the watcher, as a crash of the whole would.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(to_child[0], 0);
      ::dup2(from_child[1], 1);
      if (memory_limit_mb > 0) {
        struct rlimit limit;
        limit.rlim_cur = limit.rlim_max = static_cast<rlim_t>(memory_limit_mb) << 20;
        ::setrlimit(RLIMIT_AS, &limit);
      }
      const std::string archive_arg = archive.string();
      ::execl(self.c_str(), "custodia", "--archive", archive_arg.c_str(), "--user", user.c_str(),
              "watch-worker", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    pid_ = pid;
    in_ = to_child[1];
    out_ = from_child[0];
    user_ = user;
    std::string first = passphrase + "\n";
    CU_TRY(Send(first));
    std::fill(first.begin(), first.end(), '\0');
    auto ready = ReadLine(120.0);
    if (!ready) {
      Kill();
      return Unexpected{ready.error()};
    }
    json j = json::parse(*ready, nullptr, false);
    if (!j.is_object() || !j.contains("ready")) {
      Kill();
      const std::string msg = j.is_object() && j.contains("error") ? j["error"].get<std::string>()
                                                                     : "worker did not start";
      const Code code = j.is_object() && j.contains("code") ? static_cast<Code>(j["code"].get<int>())
                                                            : Code::kInternal;
      return Fail(code, "station " + user + ": " + msg);
    }
    return Ok();
  }

  bool running() const { return pid_ > 0; }
  const std::string& user() const { return user_; }

  Status Send(const std::string& line) {
    std::size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = ::write(in_, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Fail(Code::kUnavailable, "the worker is gone");
      done += static_cast<std::size_t>(n);
    }
    return Ok();
  }

  // The next line, waiting at most `seconds`. kUnavailable when the worker
  // died (with how), "timed out", or "stopping" once *stop is set.
  Result<std::string> ReadLine(double seconds, const volatile int* stop = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::microseconds(static_cast<std::int64_t>(seconds * 1e6));
    for (;;) {
      const std::size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) return Fail(Code::kUnavailable, "timed out");
      if (stop != nullptr && *stop) return Fail(Code::kUnavailable, "stopping");
      struct pollfd p = {out_, POLLIN, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left, 1000)));
      if (rc < 0 && errno != EINTR) return Fail(Code::kIo, std::string("poll: ") + std::strerror(errno));
      if (rc <= 0) continue;
      char chunk[65536];
      const ssize_t n = ::read(out_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Fail(Code::kUnavailable, "the worker " + Reap());
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    Reap();
  }

  // Ends an idle worker: its standard input closed, it closes the archive
  // (releasing the lock, wiping its keys) and exits; killed after 10 s.
  void Close() {
    if (pid_ <= 0) return;
    if (in_ >= 0) ::close(in_);
    in_ = -1;
    for (int i = 0; i < 1000; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        if (out_ >= 0) ::close(out_);
        out_ = -1;
        buffer_.clear();
        return;
      }
      ::poll(nullptr, 0, 10);
    }
    Kill();
  }

 private:
  // Waits for the worker to end; says how it ended.
  std::string Reap() {
    if (pid_ <= 0) return "ended";
    if (in_ >= 0) ::close(in_);
    if (out_ >= 0) ::close(out_);
    in_ = out_ = -1;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    buffer_.clear();
    if (WIFSIGNALED(status)) {
      const int sig = WTERMSIG(status);
      return std::string("was killed by signal ") + std::to_string(sig) + " (" + strsignal(sig) +
             (sig == SIGKILL || sig == SIGSEGV || sig == SIGABRT ? "; out of memory or a crash" : "") + ")";
    }
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  }

  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  std::string user_;
  std::string buffer_;
};

struct Inbox {
  capture::HotFolder folder;
  std::string station;
  std::string passphrase;
};

struct Pending {
  std::size_t inbox = 0;
  std::string name;
  bool resumed = false;  // claimed before this watcher started
};

Result<std::string> ReadFirstLine(const std::string& file) {
  CU_ASSIGN_OR_RETURN(Bytes bytes, Env::Default()->ReadFile(file));
  std::string s(bytes.begin(), bytes.end());
  std::fill(bytes.begin(), bytes.end(), 0);
  const std::size_t nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  if (!s.empty() && s.back() == '\r') s.pop_back();
  if (s.empty()) return Fail(Code::kInvalidArgument, file + ": empty; put the passphrase on its first line");
  return s;
}

}  // namespace

Status Watch(const WatchRequest& request, const std::function<void(const std::string&)>& log,
             const volatile int* stop) {
  CU_ASSIGN_OR_RETURN(Config config, LoadConfig(request.archive));
  const WatchConfig& wc = config.watch;
  capture::HotFolderOptions hot;
  hot.settle_seconds = wc.settle_seconds;
  hot.marker = wc.marker;
  hot.require_marker = wc.require_marker;

  std::vector<InboxConfig> wanted;
  if (!request.inboxes.empty()) {
    for (const std::string& dir : request.inboxes) wanted.push_back({dir, "", "", ""});
  } else {
    wanted = wc.inboxes;
  }
  if (wanted.empty()) {
    return Fail(Code::kInvalidArgument,
                "no inbox to watch: give --inbox DIR, or [[watch.inbox]] path = \"DIR\" in " +
                    (request.archive / "custodia.toml").string());
  }
  std::vector<Inbox> inboxes;
  std::vector<std::unique_ptr<FileLock>> inbox_locks;
  std::set<std::string> labels;
  for (const InboxConfig& c : wanted) {
    fs::path dir = c.path;
    if (dir.is_relative() && request.inboxes.empty()) dir = request.archive / dir;
    CU_ASSIGN_OR_RETURN(capture::HotFolder folder, capture::HotFolder::Open(dir, hot, c.label));
    // One watcher per inbox: another would take this one's claimed batches
    // for a crashed watcher's and archive them a second time.
    const fs::path inbox_lock = folder.ClaimedPath("x").parent_path().parent_path() / "LOCK";
    auto held = Env::Default()->LockFile(inbox_lock);
    if (!held) {
      return Fail(held.error().code, "inbox " + dir.string() + ": " + held.error().message +
                                         " (another custodia watch takes this inbox; stop it, or "
                                         "give this one another inbox)");
    }
    inbox_locks.push_back(std::move(held).value());
    if (!labels.insert(folder.label()).second) {
      return Fail(Code::kInvalidArgument, "two inboxes named " + folder.label() +
                                              "; give each a label in custodia.toml");
    }
    Inbox inbox{std::move(folder), c.station.empty() ? request.user : c.station, ""};
    if (!c.passphrase_file.empty()) {
      CU_ASSIGN_OR_RETURN(inbox.passphrase, ReadFirstLine(c.passphrase_file));
    } else if (inbox.station == request.user) {
      inbox.passphrase = request.passphrase;
    } else {
      return Fail(Code::kInvalidArgument, "inbox " + dir.string() + ": station " + inbox.station +
                                              " needs passphrase_file in custodia.toml");
    }
    Status watching = inbox.folder.Watch();
    if (!watching) log("note: " + watching.error().message + "; looking every " +
                       std::to_string(wc.rescan_seconds) + " s instead");
    inboxes.push_back(std::move(inbox));
  }

  auto say = [&](const json& j, const std::string& text) { log(request.json ? j.dump() : text); };

  Worker worker;
  auto ensure_worker = [&](const Inbox& inbox) -> Status {
    if (worker.running() && worker.user() == inbox.station) return Ok();
    worker.Kill();
    // Another process may hold the archive (another watcher archiving a
    // batch, an archivist's command, a watcher killed a moment ago whose
    // worker is still dying): say so, and wait for it; `--once` waits up
    // to a minute, a watcher as long as it takes (saying so every minute).
    const auto start = std::chrono::steady_clock::now();
    auto next_note = start;
    for (;;) {
      Status started = worker.Start(request.self, request.archive, inbox.station, inbox.passphrase,
                                    wc.memory_limit_mb);
      const auto now = std::chrono::steady_clock::now();
      if (started || started.error().code != Code::kFailedPrecondition || *stop ||
          (request.once && now - start > std::chrono::seconds(60))) {
        if (started && next_note != start) say({{"lock", "free"}}, "the archive is free again; going on");
        if (!started && started.error().code == Code::kFailedPrecondition) {
          return Fail(Code::kFailedPrecondition,
                      started.error().message + " (waited " +
                          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - start).count()) +
                          " s; run watch again once it is done)");
        }
        return started;
      }
      if (now >= next_note) {
        say({{"waiting_for_lock", started.error().message}},
            "waiting for the archive: " + started.error().message +
            " (another watcher archiving a batch, or an archivist's command); retrying every 0.5 s");
        next_note = now + std::chrono::seconds(60);
      }
      ::poll(nullptr, 0, 500);
    }
  };
  // Start at once, so that a wrong passphrase or a locked archive shows now.
  CU_TRY(ensure_worker(inboxes[0]));

  auto quarantine = [&](Inbox& inbox, const std::string& name, const std::string& reason,
                        bool claimed, bool record) -> Status {
    const std::string source = inbox.folder.label() + "/" + capture::EscapeName(name);
    if (record) {
      // The ledger first: a crash before the move leaves the batch to be tried again.
      CU_TRY(ensure_worker(inbox));
      CU_TRY(worker.Send(json{{"refused", source}, {"reason", reason}}.dump() + "\n"));
      CU_ASSIGN_OR_RETURN(std::string line, worker.ReadLine(60));
      json j = json::parse(line, nullptr, false);
      if (!j.is_object() || !j.contains("recorded")) {
        return Fail(Code::kIo, "recording the quarantine of " + source + ": " +
                                   (j.is_object() && j.contains("error") ? j["error"].get<std::string>() : line));
      }
    }
    CU_ASSIGN_OR_RETURN(std::string moved, inbox.folder.Quarantine(name, reason, claimed));
    say({{"quarantined", source}, {"reason", reason}, {"moved_to", "quarantine/" + moved}},
        "quarantined " + source + ": " + reason);
    return Ok();
  };

  // Archives one claimed batch. Errors are the archive's, not the batch's.
  auto process = [&](Inbox& inbox, const std::string& name, bool resumed) -> Status {
    const std::string source = inbox.folder.label() + "/" + name;
    CU_TRY(ensure_worker(inbox));
    CU_TRY(worker.Send(json{{"path", inbox.folder.ClaimedPath(name).string()},
                            {"source", source},
                            {"resumed", resumed}}
                           .dump() +
                       "\n"));
    for (;;) {
      auto line = worker.ReadLine(wc.document_timeout_seconds, stop);
      if (!line && *stop) {
        // SIGTERM: stop now; the batch stays claimed and is archived on
        // the next start (what was sealed is found by its hash).
        worker.Kill();
        return Ok();
      }
      if (!line) {
        // Hung or crashed on this batch: it is the batch's doing.
        const bool timed_out = line.error().message == "timed out";
        worker.Kill();
        const std::string reason =
            timed_out ? "no document finished within " + std::to_string(static_cast<int>(wc.document_timeout_seconds)) +
                            " s (watch.document_timeout_seconds); the file may be damaged or far too large"
                      : "archiving it stopped: " + line.error().message;
        return quarantine(inbox, name, reason, /*claimed=*/true, /*record=*/true);
      }
      json j = json::parse(*line, nullptr, false);
      if (!j.is_object()) continue;
      if (j.contains("document")) {
        const json& d = j["document"];
        std::string text;
        if (d.contains("error")) {
          text = d["source"].get<std::string>() + ": failed: " + d["error"].get<std::string>();
        } else {
          text = d["source"].get<std::string>() + ": " + d.value("id", "") + " " + d.value("type", "") +
                 " " + d.value("status", "") + ", " + std::to_string(d.value("pages", 0)) + " pages, " +
                 std::to_string(d.value("seconds", 0.0)).substr(0, 5) + " s";
        }
        say(d, text);
        continue;
      }
      if (j.contains("error")) {
        worker.Kill();
        const Code code = static_cast<Code>(j.value("code", static_cast<int>(Code::kIo)));
        const std::string error = j["error"].get<std::string>();
        // The disk, the ledger or the lock: stop, and let a person (or
        // systemd's restart) see to it; the batch stays claimed. Anything
        // else came from this batch: set it aside and carry on, or every
        // restart would stop on it again.
        if (code == Code::kIo || code == Code::kUnavailable || code == Code::kFailedPrecondition ||
            code == Code::kTampered || code == Code::kPermissionDenied) {
          return Fail(code, "archiving " + source + ": " + error);
        }
        return quarantine(inbox, name, "archiving it failed: " + error, /*claimed=*/true,
                          /*record=*/true);
      }
      if (!j.contains("batch")) continue;
      const json& b = j["batch"];
      if (b["outcome"] == "archived") {
        CU_TRY(inbox.folder.Release(name, wc.delete_sources));
        say(b, "archived " + source + ": " + std::to_string(b["documents"].get<int>()) + " documents" +
                   (b["duplicates"].get<int>() > 0
                        ? " (" + std::to_string(b["duplicates"].get<int>()) + " already archived)"
                        : "") +
                   ", " + std::to_string(b["pages"].get<int>()) + " pages" +
                   (b.value("already_recorded", false) ? " (recorded before a restart)" : ""));
      } else {
        // Recorded in the ledger by the worker already.
        CU_TRY(quarantine(inbox, name, b["reason"].get<std::string>(), true, /*record=*/false));
      }
      return Ok();
    }
  };

  // After a crash: what was claimed and not released comes first.
  std::deque<Pending> queue;
  for (std::size_t i = 0; i < inboxes.size(); ++i) {
    CU_ASSIGN_OR_RETURN(std::vector<std::string> claimed, inboxes[i].folder.Claimed());
    for (std::string& name : claimed) {
      say({{"resumed", inboxes[i].folder.label() + "/" + name}},
          "resuming " + inboxes[i].folder.label() + "/" + name + " (claimed before a restart)");
      queue.push_back({i, std::move(name), /*resumed=*/true});
    }
  }

  std::int64_t next_rescan = 0;
  // Scans are spaced so that they take at most a tenth of the time: while
  // a station copies 10,000 files, each inotify event does not cost a scan
  // of everything copied so far (which would be quadratic).
  std::int64_t earliest_scan = 0;
  for (;;) {
    if (*stop) return Ok();
    if (const std::int64_t early = earliest_scan - Env::Default()->NowMicros(); early > 0) {
      ::poll(nullptr, 0, static_cast<int>(early / 1000 + 1));
      if (*stop) return Ok();
    }
    const std::int64_t now = Env::Default()->NowMicros();
    std::int64_t next_check = 0;
    int waiting = 0;
    std::int64_t scanning = 0;  // µs spent in Scan (claims and quarantines not counted)
    for (std::size_t i = 0; i < inboxes.size(); ++i) {
      const std::int64_t scan_start = Env::Default()->NowMicros();
      CU_ASSIGN_OR_RETURN(capture::ScanResult scan, inboxes[i].folder.Scan(now));
      scanning += Env::Default()->NowMicros() - scan_start;
      for (const capture::InboxEntry& e : scan.refused) {
        CU_TRY(quarantine(inboxes[i], e.name, e.refused, /*claimed=*/false, /*record=*/true));
      }
      for (const capture::InboxEntry& e : scan.ready) {
        auto claimed = inboxes[i].folder.Claim(e.name);
        if (claimed) {
          queue.push_back({i, e.name, /*resumed=*/false});
        } else if (claimed.error().code != Code::kNotFound && claimed.error().code != Code::kAlreadyExists) {
          log("note: " + claimed.error().message);
        }
      }
      waiting += scan.waiting;
      if (scan.next_check_micros != 0 && (next_check == 0 || scan.next_check_micros < next_check)) {
        next_check = scan.next_check_micros;
      }
    }
    next_rescan = now + static_cast<std::int64_t>(wc.rescan_seconds * 1e6);
    earliest_scan = now + std::max<std::int64_t>(20'000, 10 * scanning);
    while (!queue.empty()) {
      if (*stop) return Ok();
      Pending p = queue.front();
      queue.pop_front();
      CU_TRY(process(inboxes[p.inbox], p.name, p.resumed));
    }
    if (request.once) {
      // What just came in may have made more batches complete; otherwise done.
      bool more = false;
      for (Inbox& inbox : inboxes) {
        CU_ASSIGN_OR_RETURN(capture::ScanResult scan, inbox.folder.Scan(Env::Default()->NowMicros()));
        if (!scan.ready.empty() || !scan.refused.empty()) more = true;
      }
      if (more) continue;
      if (waiting > 0) {
        say({{"waiting", waiting}}, std::to_string(waiting) +
                                        " entries not complete yet (still changing, open, or "
                                        "waiting for a marker): left for the next run");
      }
      return Ok();
    }
    // Nothing to archive now: the worker ends and so lets go of the archive,
    // so that searches, check-outs and another watcher are not locked out
    // while this one waits. The next batch starts a fresh one (its login
    // takes a moment; a batch of OCR takes far longer).
    worker.Close();
    // Sleep until an inotify event, the next settle deadline, or the rescan.
    std::vector<struct pollfd> fds;
    for (Inbox& inbox : inboxes) {
      if (inbox.folder.fd() >= 0) fds.push_back({inbox.folder.fd(), POLLIN, 0});
    }
    std::int64_t wake = next_rescan;
    if (next_check != 0) wake = std::min(wake, next_check);
    const std::int64_t wait_ms =
        std::clamp<std::int64_t>((wake - Env::Default()->NowMicros()) / 1000 + 1, 0, 60'000);
    ::poll(fds.data(), fds.size(), static_cast<int>(wait_ms));
  }
}

}  // namespace custodia::pipeline
