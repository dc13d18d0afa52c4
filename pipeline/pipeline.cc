// pipeline/pipeline.cc: one file from claim to index, and the archivist's
// read paths over the vault and the index.
#include "pipeline/pipeline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <system_error>
#include <thread>

#include "base/watchdog.h"
#include "capture/capture.h"
#include "classify/classify.h"
#include "index/index.h"
#include "ocr/ocr.h"
#include "pipeline/archive_impl.h"
#include "vault/vault.h"

namespace custodia::pipeline {
namespace {

using detail::IndexDoc;
using detail::Input;
using detail::ReadClassification;

namespace fs = std::filesystem;

constexpr const char* kVaultDir = "vault";
constexpr const char* kIndexDir = "index";
// IngestOptions::second_reading: longer scans are not read twice.
constexpr int kMaxPagesReadAgain = 4;

bool HasDocumentExtension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".tif" || ext == ".tiff" ||
         ext == ".pdf";
}

bool IsHidden(const fs::path& path) {
  std::string name = path.filename().string();
  return !name.empty() && name[0] == '.';
}

// Expands folders (recursively, sorted) into files of the four formats we
// read. Files named explicitly are always tried: their content decides.
std::vector<Input> ExpandInputs(const std::vector<std::string>& paths, int* skipped) {
  std::vector<Input> inputs;
  for (const std::string& given : paths) {
    std::error_code ec;
    fs::file_status st = fs::status(given, ec);
    if (ec || !fs::exists(st)) {
      inputs.push_back({given, given, "no such file or directory; check the path"});
      continue;
    }
    if (!fs::is_directory(st)) {
      inputs.push_back({given, given, ""});
      continue;
    }
    std::vector<std::string> found;
    fs::recursive_directory_iterator it(given, fs::directory_options::skip_permission_denied, ec),
        end;
    for (; !ec && it != end; it.increment(ec)) {
      const fs::path& p = it->path();
      if (IsHidden(p)) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      if (HasDocumentExtension(p)) {
        found.push_back(p.string());
      } else {
        ++*skipped;
      }
    }
    if (ec) {
      inputs.push_back({given, given, std::string("cannot list folder: ") + ec.message()});
      continue;
    }
    std::sort(found.begin(), found.end());
    for (std::string& f : found) inputs.push_back({f, f, ""});
  }
  return inputs;
}

// The cleanup options IngestOptions asks for. kInvalidArgument for a stage
// name capture does not know.
Result<capture::CleanupOptions> CleanupOptionsFor(const IngestOptions& options) {
  capture::CleanupOptions c;
  c.blank_max_ink = options.blank_max_ink;
  const std::pair<const char*, bool*> stages[] = {
      {"gray", &c.gray},           {"resolution", &c.resolution},
      {"deskew", &c.deskew},       {"borders", &c.borders},
      {"holes", &c.punch_holes},   {"illumination", &c.illumination},
      {"contrast", &c.contrast},   {"denoise", &c.denoise},
      {"binarize", &c.binarize}};
  for (const std::string& skip : options.skip_stages) {
    bool known = false;
    for (const auto& [name, flag] : stages) {
      if (skip == name) {
        *flag = false;
        known = true;
      }
    }
    if (!known) {
      return Fail(Code::kInvalidArgument,
                  "unknown cleanup stage '" + skip +
                      "'; the stages are gray, resolution, deskew, borders, holes, "
                      "illumination, contrast, denoise, binarize");
    }
  }
  return c;
}

// Writes a stage's image for --keep-stages. Best effort: a picture that
// cannot be written never stops the ingest (Ingest checked the folder).
void KeepStage(const std::string& dir, const std::string& source, int page, int* step,
               std::string_view stage, const Image& image) {
  auto png = capture::EncodePng(image);
  if (!png) return;
  char name[64];
  std::snprintf(name, sizeof name, ".p%d.%d-", page + 1, (*step)++);
  const fs::path path =
      fs::path(dir) / (fs::path(source).filename().string() + name + std::string(stage) + ".png");
  (void)Env::Default()->WriteFileAtomic(path, *png);
}

// One scanned page through cleanup and OCR: prepared (gray, resolution),
// turned upright, cleaned, and read, with hOCR and a one-page PDF when
// asked. nullopt for a blank page; `*quarter_turns` set to the clockwise
// quarter turns that made it upright. When `unbinarized` is not null, it
// gets the cleaned page as it was before binarization, upright (what the
// second reading reads), if cleanup ran a stage before binarizing.
// Errors name the stage that failed.
Result<std::optional<ocr::Page>> ReadScannedPage(const Image& image, int index,
                                                 const std::string& source,
                                                 const IngestOptions& options,
                                                 std::chrono::steady_clock::time_point deadline,
                                                 ocr::Engine* engine, int* quarter_turns,
                                                 std::optional<Image>* unbinarized) {
  CU_ASSIGN_OR_RETURN(capture::CleanupOptions cleanup, CleanupOptionsFor(options));
  int step = 0;
  if (!options.keep_stages_dir.empty()) {
    cleanup.on_stage = [&](std::string_view stage, const Image& img) {
      KeepStage(options.keep_stages_dir, source, index, &step, stage, img);
    };
    KeepStage(options.keep_stages_dir, source, index, &step, "input", image);
  }
  // Clean's stages before "binarize", in its order: the last one that runs
  // hands over the image the second reading would make again.
  const char* before_binarize = !cleanup.binarize      ? nullptr
                                : cleanup.denoise      ? "denoise"
                                : cleanup.contrast     ? "contrast"
                                : cleanup.illumination ? "illumination"
                                : cleanup.punch_holes  ? "holes"
                                : cleanup.borders      ? "borders"
                                : cleanup.deskew       ? "deskew"
                                                       : nullptr;
  if (unbinarized != nullptr && before_binarize != nullptr) {
    cleanup.on_stage = [keep = std::move(cleanup.on_stage), before_binarize, unbinarized](
                           std::string_view stage, const Image& img) {
      if (keep) keep(stage, img);
      if (stage == before_binarize) *unbinarized = img;
    };
  }
  ocr::ReadOptions read;
  read.hocr = options.ocr_outputs;
  read.pdf = options.ocr_outputs;
  read.page_number = index;
  read.deadline = deadline;
  if (!options.cleanup) {
    read.orient = options.orient;
    CU_ASSIGN_OR_RETURN(ocr::Page page, engine->Read(image, read));
    *quarter_turns = page.orientation.quarter_turns;
    return std::optional<ocr::Page>(std::move(page));
  }
  auto prepared = capture::Prepare(image, cleanup);
  if (!prepared) return Wrap(prepared.error(), "cleanup");
  if (options.orient) {
    auto orientation = engine->DetectOrientation(prepared->image);
    if (!orientation) return Wrap(orientation.error(), "orientation");
    if (orientation->quarter_turns != 0) {
      auto turned = capture::RotateQuarterTurns(prepared->image, orientation->quarter_turns);
      if (!turned) return Wrap(turned.error(), "orientation");
      prepared->image = std::move(turned).value();
      *quarter_turns = orientation->quarter_turns;
      if (cleanup.on_stage) cleanup.on_stage("orient", prepared->image);
    }
  }
  auto cleaned = capture::Clean(std::move(prepared).value(), cleanup);
  if (!cleaned) return Wrap(cleaned.error(), "cleanup");
  if (cleaned->report.blank) return std::optional<ocr::Page>();
  CU_ASSIGN_OR_RETURN(ocr::Page page, engine->Read(cleaned->image, read));
  return std::optional<ocr::Page>(std::move(page));
}

// Opens the worker's OCR engine the first time it is needed.
Status OpenEngine(const IngestOptions& options, std::optional<ocr::Engine>* engine) {
  if (engine->has_value()) return Ok();
  ocr::Options ocr_options;
  ocr_options.languages = options.languages;
  CU_ASSIGN_OR_RETURN(ocr::Engine opened, ocr::Engine::Open(ocr_options));
  engine->emplace(std::move(opened));
  return Ok();
}

// The second reading of a scanned page (IngestOptions::second_reading): the
// same cleanup but for binarization, Tesseract thresholding the cleaned gray
// page itself, turned as the first reading found. Text and words only. Used
// when the first reading did not keep that image (PageOut::unbinarized).
Result<ocr::Page> ReadPageAgain(const Image& image, int quarter_turns, const IngestOptions& options,
                                std::chrono::steady_clock::time_point deadline,
                                ocr::Engine* engine) {
  CU_ASSIGN_OR_RETURN(capture::CleanupOptions cleanup, CleanupOptionsFor(options));
  cleanup.binarize = false;
  auto prepared = capture::Prepare(image, cleanup);
  if (!prepared) return Wrap(prepared.error(), "cleanup");
  if (quarter_turns != 0) {
    auto turned = capture::RotateQuarterTurns(prepared->image, quarter_turns);
    if (!turned) return Wrap(turned.error(), "orientation");
    prepared->image = std::move(turned).value();
  }
  auto cleaned = capture::Clean(std::move(prepared).value(), cleanup);
  if (!cleaned) return Wrap(cleaned.error(), "cleanup");
  ocr::ReadOptions read;
  read.deadline = deadline;
  return engine->Read(cleaned->image, read);
}

std::string FormatSeconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", seconds);
  return text;
}

// When a document opened at `start` must be done (IngestOptions::
// document_timeout_seconds); max() when there is no limit.
std::chrono::steady_clock::time_point DeadlineOf(std::chrono::steady_clock::time_point start,
                                                 const IngestOptions& options) {
  if (options.document_timeout_seconds <= 0) return std::chrono::steady_clock::time_point::max();
  return start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                     std::chrono::duration<double>(options.document_timeout_seconds));
}

// "not read: the document took longer than 20 s (...)", the reason a page
// is not read when its document is over its time limit.
std::string OverTimeLimit(const IngestOptions& options, const std::string& how) {
  return "not read: the document took longer than " +
         FormatSeconds(options.document_timeout_seconds) + " (" + how +
         "; document_timeout_seconds); the file may be damaged or far too large";
}

// What a document fails with when an allocation past the memory limit
// (RLIMIT_AS: `ingest --memory-limit-mb`, watch.memory_limit_mb) fails.
constexpr char kOutOfMemory[] =
    "out of memory reading it (over the process's memory limit, --memory-limit-mb or "
    "watch.memory_limit_mb); the file may be a decompression bomb or far too large";
constexpr char kOutOfMemorySealing[] =
    "out of memory classifying or sealing it (over the process's memory limit, "
    "--memory-limit-mb or watch.memory_limit_mb); not sealed: ingest it again with a higher limit";

}  // namespace

namespace detail {

// The index's view of a sealed document: field values from its
// classification (classify::ToJson, the sealed "fields" artefact).
index::Doc IndexDoc(const vault::Record& record, std::string text,
                    const classify::Classification& c, bool on_loan) {
  index::Doc doc;
  doc.id = record.id;
  doc.text = std::move(text);
  doc.type = record.type;
  doc.status = record.status;
  doc.source = record.source;
  doc.station = record.actor;
  doc.batch = record.batch;
  doc.ingest_micros = record.sealed_micros;
  for (const auto& [name, field] : c.fields) doc.fields[name] = field.value;
  doc.case_files = record.case_files;
  doc.on_loan = on_loan;
  doc.version = record.changed_seq;
  return doc;
}

bool OnLoan(const vault::Vault& vault, const std::string& id) {
  for (const vault::Loan& loan : vault.Loans()) {
    if (loan.id == id) return true;
  }
  return false;
}

}  // namespace detail

std::string LibraryVersions() {
  return ocr::LibraryVersions() + "; OpenMP thread limit " +
         std::to_string(ocr::LibraryThreadLimit());
}

Archive::Archive(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Archive::Archive(Archive&&) noexcept = default;
Archive& Archive::operator=(Archive&&) noexcept = default;
Archive::~Archive() = default;

Status Archive::Create(const fs::path& dir, const std::string& user,
                       const std::string& passphrase) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec))
      return Fail(Code::kAlreadyExists,
                  dir.string() + " exists and is not a folder; choose another --archive");
    if (!fs::is_empty(dir, ec))
      return Fail(Code::kAlreadyExists,
                  dir.string() +
                      " already exists and is not empty; init never touches existing files: "
                      "choose another --archive or remove it");
  }
  Env* env = Env::Default();
  CU_TRY(env->CreateDir(dir));
  CU_TRY(vault::Vault::Create(dir / kVaultDir, user, passphrase));
  auto index = index::Index::Open(dir / kIndexDir, /*create=*/true);
  if (!index) return Wrap(index.error(), "init");
  CU_TRY(index->Commit());
  return Ok();
}

Result<Archive> Archive::Open(const fs::path& dir, Env* env) {
  std::error_code ec;
  if (!fs::exists(dir / kVaultDir, ec))
    return Fail(Code::kNotFound,
                "no archive at " + dir.string() +
                    ": create one with `custodia init`, or name it with --archive or "
                    "$CUSTODIA_ARCHIVE");
  vault::Options vault_options;
  if (env != nullptr) vault_options.env = env;
  auto vault = vault::Vault::Open(dir / kVaultDir, vault_options);
  if (!vault) return Unexpected{vault.error()};
  // The index is a projection: a missing one is made again (empty, then
  // filled from the vault at the next archivist's login).
  auto index = index::Index::Open(dir / kIndexDir, /*create=*/true);
  if (!index) return Unexpected{index.error()};
  auto impl = std::make_unique<Impl>(dir, std::move(*vault), std::move(*index));
  if (std::uint64_t cut = impl->vault.torn_tail_bytes(); cut > 0) {
    impl->notices.push_back("vault: cut " + std::to_string(cut) +
                            " bytes of an interrupted append from the end of the ledger; nothing "
                            "that was reported as ingested is lost");
  }
  return Archive(std::move(impl));
}

const std::vector<std::string>& Archive::notices() const { return impl_->notices; }

Status Archive::Login(const std::string& user, const std::string& passphrase) {
  std::lock_guard lock(impl_->mu);
  CU_TRY(impl_->vault.Login(user, passphrase));
  return impl_->UnlockIndex();
}

// Gives the index its key when the logged-in person holds one (auditors do
// not: they search nothing). An index keyed under another epoch (a key
// rotation interrupted before the index was rebuilt, or a folder copied
// from elsewhere) or built by an older custodia is emptied, keyed afresh
// and filled again from the vault by whoever may read the texts.
Status Archive::Impl::UnlockIndex() {
  Status unlocked = KeyIndex();
  if (!unlocked && unlocked.error().code == Code::kPermissionDenied) return Ok();
  if (unlocked && index.size() == 0 && !vault.List().empty()) {
    // Lost or emptied: filled again from the vault.
    CU_ASSIGN_OR_RETURN(int reindexed, CatchUpIndexLocked("rebuild"));
    if (reindexed > 0) {
      notices.push_back("index: it was empty; " + std::to_string(reindexed) +
                        " documents indexed again from the vault");
    }
    return Ok();
  }
  if (unlocked || unlocked.error().code != Code::kFailedPrecondition) return unlocked;
  auto rebuilt = RebuildLocked();
  if (!rebuilt && rebuilt.error().code != Code::kPermissionDenied) return Unexpected{rebuilt.error()};
  notices.push_back(unlocked.error().message + " -- " +
                    (rebuilt ? "done: " + std::to_string(*rebuilt) + " documents indexed again"
                             : rebuilt.error().message));
  return Ok();
}

Status Archive::Impl::KeyIndex() {
  return vault.WithIndexKey([&](std::span<const std::uint8_t, 32> key, std::uint32_t epoch) {
    return index.Unlock(index::KeyView{key, epoch});
  });
}

// Re-indexes, from the vault, documents a crash left sealed but not indexed,
// or indexed as they were before a later ledger entry changed them (see
// docs/design.md, Recovery). Returns how many. Reading their text is a
// logged archivist read: for anyone else (a station) the documents stay
// as they are, with a notice, until an archivist ingests or rebuilds.
Result<int> Archive::Impl::CatchUpIndex() {
  std::lock_guard lock(mu);
  return CatchUpIndexLocked("reindex");
}

Result<int> Archive::Impl::CatchUpIndexLocked(const std::string& purpose) {
  if (!index.unlocked()) return 0;
  CU_ASSIGN_OR_RETURN(const auto versions, index.Versions());
  int count = 0;
  for (const vault::Record& record : vault.List()) {
    auto it = versions.find(record.id);
    if (it != versions.end() && it->second == record.changed_seq) continue;
    auto text = vault.ReadText(record.id, purpose);
    if (!text && text.error().code == Code::kPermissionDenied) {
      notices.push_back("index: " + record.id +
                        " and perhaps others are not indexed as the ledger stands; an "
                        "archivist's next ingest or `custodia rebuild` re-indexes them");
      break;
    }
    if (!text) return Unexpected{text.error()};
    CU_ASSIGN_OR_RETURN(classify::Classification c, ReadClassification(vault, record, purpose));
    CU_TRY(index.Put(IndexDoc(record, std::move(*text), c, detail::OnLoan(vault, record.id))));
    ++count;
  }
  if (count > 0) CU_TRY(index.Commit());
  return count;
}

// One page's outcome, kept until its document is sealed.
struct Archive::Impl::PageOut {
  std::string error;  // "page N: ..." when it failed
  bool separator = false;  // a separator sheet: ends a document, not kept
  std::string case_file;   // the case file a separator opens
  bool has_text = false;
  bool ocr = false;
  bool blank = false;
  int quarter_turns = 0;  // clockwise, to make a scanned page upright
  std::string text;
  std::vector<classify::OcrWord> words;  // OCR'd pages: every word and its confidence
  std::string hocr;
  std::vector<std::uint8_t> pdf;
  // A scanned page of a document short enough for the second reading: the
  // page cleaned but not binarized, which that reading reads.
  std::optional<Image> unbinarized;
};

// One input on its way through ingest. Its pages are handed to whichever
// worker is free, so the pages of one long PDF are read on every core.
struct Archive::Impl::Job {
  std::size_t index = 0;  // in the input list: results are reported in this order
  IngestResult result;
  std::chrono::steady_clock::time_point start;
  // The input is never held whole: hashed a piece at a time, read by capture
  // as pages need it, streamed into the vault.
  std::string path;
  std::string hash;
  std::optional<capture::Document> document;
  std::mutex read_mu;  // a Document reads one page at a time (Poppler is not thread-safe)
  // The rest is guarded by the ingest's scheduling mutex.
  int page_count = 0;
  int next_page = 0;  // pages are handed out in order
  int in_flight = 0;
  bool stop = false;  // a page failed: hand out no more
  std::vector<PageOut> pages;
  std::set<int> workers;  // who read its pages
  // One per document when separator sheets split the file; empty: `result`.
  std::vector<IngestResult> documents;

  void Finish(std::string error) {
    result.error = std::move(error);
    if (!result.error.empty()) result.status = "failed";
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
};

Result<IngestSummary> Archive::Ingest(const std::vector<std::string>& paths,
                                      const IngestOptions& options,
                                      const std::function<void(const IngestResult&)>& on_result) {
  auto start = std::chrono::steady_clock::now();
  IngestSummary summary;
  // Bad options are refused before anything is read or sealed.
  auto cleanup = CleanupOptionsFor(options);
  if (!cleanup) return Unexpected{cleanup.error()};
  if (!options.keep_stages_dir.empty()) {
    Status made = Env::Default()->CreateDir(options.keep_stages_dir);
    if (!made) return Wrap(made.error(), "--keep-stages");
  }
  // The type model `custodia train` wrote, if any: only ingest needs it, so
  // a damaged one stops ingest, not an auditor's verify.
  CU_TRY(impl_->LoadModel());
  auto reindexed = impl_->CatchUpIndex();
  if (!reindexed) return Wrap(reindexed.error(), "index: bringing it in step with the vault");
  summary.reindexed = *reindexed;
  std::vector<Input> inputs = ExpandInputs(paths, &summary.skipped);
  IngestInputs(inputs, options, on_result, &summary);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

void Archive::IngestInputs(const std::vector<Input>& inputs, const IngestOptions& options,
                           const std::function<void(const IngestResult&)>& on_result,
                           IngestSummary* summary_out) {
  IngestSummary& summary = *summary_out;

  const int jobs = std::max(
      1, options.jobs > 0 ? options.jobs : static_cast<int>(std::thread::hardware_concurrency()));
  // One page per worker: OpenCV's own threads would only compete with them.
  capture::SetCleanupThreads(jobs > 1 ? 1 : 0);

  // The unit of work is a page. A free worker takes the next page of the
  // earliest open document; when there is none it opens the next input. So
  // at most about one document per worker is open at a time (memory is
  // bounded by the workers, not the batch), and a long PDF's pages spread
  // over every worker. A document is sealed by the worker that finishes its
  // last page; results are reported in input order as soon as every earlier
  // input has been reported.
  std::mutex mu;
  std::condition_variable work_cv;  // a document opened, or the last one is being opened
  std::size_t next_input = 0;
  int opening = 0;  // inputs being opened (outside the lock)
  std::vector<std::unique_ptr<Impl::Job>> open;
  std::vector<std::optional<std::vector<IngestResult>>> results(inputs.size());
  std::size_t reported = 0;
  IngestProgress progress;
  progress.files = static_cast<int>(inputs.size());
  const auto begun = std::chrono::steady_clock::now();
  // REQUIRES: mu held.
  auto tell = [&] {
    if (!options.on_progress) return;
    progress.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begun).count();
    options.on_progress(progress);
  };

  // REQUIRES: mu held.
  auto complete = [&](Impl::Job& job) {
    if (job.documents.empty()) job.documents.push_back(std::move(job.result));
    results[job.index] = std::move(job.documents);
    while (reported < results.size() && results[reported]) {
      for (const IngestResult& done : *results[reported]) {
        if (done.failed()) {
          ++summary.failed;
        } else if (done.status == "duplicate") {
          ++summary.duplicates;
        } else {
          ++summary.sealed;
          summary.pages += done.pages;
        }
        if (on_result) on_result(done);
      }
      results[reported]->clear();
      ++reported;
      ++progress.files_done;
      tell();
    }
  };

  // What each worker is on, for options.on_stuck.
  std::optional<Watchdog> watchdog;
  if (options.on_stuck && options.document_timeout_seconds > 0) {
    watchdog.emplace(jobs,
                     std::chrono::duration_cast<Watchdog::Clock::duration>(
                         std::chrono::duration<double>(std::max(0.0, options.stuck_grace_seconds))),
                     [&](const Watchdog::Overdue& o) { options.on_stuck(o.what, o.seconds); });
  }
  auto watch = [&](int worker, const std::string& what,
                   std::chrono::steady_clock::time_point start) {
    if (!watchdog) return;
    // Sealing may begin past the limit (its last page ended near it): it
    // gets the grace from its start.
    watchdog->Begin(worker, what, start,
                    std::max(DeadlineOf(start, options), std::chrono::steady_clock::now()));
  };
  auto watched = [&](int worker) {
    if (watchdog) watchdog->End(worker);
  };

  auto work = [&](int worker) {
    std::optional<ocr::Engine> engine;  // opened on the first page that needs OCR
    std::unique_lock lock(mu);
    for (;;) {
      Impl::Job* job = nullptr;
      int page = 0;
      for (const auto& j : open) {
        if (!j->stop && j->next_page < j->page_count) {
          job = j.get();
          page = job->next_page++;
          ++job->in_flight;
          job->workers.insert(worker);
          break;
        }
      }
      if (job == nullptr) {
        if (next_input < inputs.size()) {
          const std::size_t i = next_input++;
          ++opening;
          lock.unlock();
          std::unique_ptr<Impl::Job> started;
          watch(worker, inputs[i].source + ": opening it", std::chrono::steady_clock::now());
          try {
            started = impl_->StartJob(inputs[i], options);
          } catch (const std::bad_alloc&) {
            started = std::make_unique<Impl::Job>();
            started->start = std::chrono::steady_clock::now();
            started->result.source = inputs[i].source;
            started->result.error = kOutOfMemory;
          }
          started->index = i;
          if (started->page_count == 0) impl_->FinishJob(*started, options, nullptr);  // ended early
          watched(worker);
          lock.lock();
          --opening;
          ++progress.files_opened;
          progress.pages_known += started->page_count;
          if (started->page_count == 0) {
            complete(*started);
          } else {
            open.push_back(std::move(started));
          }
          work_cv.notify_all();
          continue;
        }
        // Nothing to take: wait while a document being opened may bring pages.
        if (opening == 0) return;
        work_cv.wait(lock);
        continue;
      }
      lock.unlock();
      Impl::PageOut out;
      watch(worker, job->result.source + ": reading page " + std::to_string(page + 1), job->start);
      try {
        out = impl_->ReadJobPage(*job, page, options, &engine);
      } catch (const std::bad_alloc&) {
        out = Impl::PageOut{};
        out.error = "page " + std::to_string(page + 1) + ": " + kOutOfMemory;
      }
      watched(worker);
      lock.lock();
      if (!out.error.empty()) job->stop = true;
      job->pages[page] = std::move(out);
      --job->in_flight;
      ++progress.pages_done;
      tell();
      if (job->in_flight > 0 || (!job->stop && job->next_page < job->page_count)) continue;
      // This was the document's last page: seal it, outside the lock.
      auto it = std::find_if(open.begin(), open.end(), [&](const auto& j) { return j.get() == job; });
      std::unique_ptr<Impl::Job> owned = std::move(*it);
      open.erase(it);
      lock.unlock();
      owned->result.workers = static_cast<int>(owned->workers.size());
      watch(worker, owned->result.source + ": sealing it", owned->start);
      try {
        impl_->FinishJob(*owned, options, &engine);
      } catch (const std::bad_alloc&) {
        // What the file's earlier documents (split by separators) got
        // stands; the one being sealed fails.
        IngestResult failed;
        failed.source = owned->result.source;
        failed.file_pages = owned->page_count;
        failed.first_of_file = owned->documents.empty();
        failed.error = kOutOfMemorySealing;
        failed.status = "failed";
        if (owned->documents.empty()) {
          owned->result = std::move(failed);
        } else {
          owned->documents.push_back(std::move(failed));
        }
      }
      owned->document.reset();
      watched(worker);
      lock.lock();
      complete(*owned);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < jobs; ++t) threads.emplace_back(work, t);
  work(0);
  for (std::thread& t : threads) t.join();
}

// Reads the input, looks for a duplicate, and opens it. A job that ends
// here (failed or duplicate) has page_count 0 and result.error or status set.
std::unique_ptr<Archive::Impl::Job> Archive::Impl::StartJob(const Input& input,
                                                            const IngestOptions& options) {
  auto job = std::make_unique<Job>();
  job->start = std::chrono::steady_clock::now();
  job->result.source = input.source;
  auto fail = [&](std::string error) {
    job->result.error = std::move(error);
    return std::move(job);
  };
  if (!input.missing.empty()) return fail(input.missing);

  job->path = input.path;
  auto hashed = vault::Vault::HashFileHex(input.path);
  if (!hashed) return fail("cannot read it: " + hashed.error().message);
  if (hashed->second == 0) {
    return fail("empty file (0 bytes): nothing to archive; check what wrote it");
  }
  job->hash = std::move(hashed->first);
  {
    std::lock_guard lock(mu);
    if (auto existing = vault.FindByHash(job->hash)) {
      job->result.id = existing->id;
      job->result.pages = existing->pages;
      job->result.type = existing->type;
      job->result.status = "duplicate";
      return job;
    }
  }

  capture::Options capture_options;
  capture_options.max_pixels = options.max_pixels;
  // A separator sheet in a PDF with a text layer has a short caption: such
  // pages are rendered too, to look for its code.
  if (options.split) capture_options.sparse_text_chars = 300;
  auto document = capture::Document::OpenFile(input.path, capture_options);
  if (!document) return fail(document.error().message);
  job->document.emplace(std::move(document).value());
  job->page_count = job->document->page_count();
  job->pages.resize(static_cast<std::size_t>(job->page_count));
  return job;
}

Archive::Impl::PageOut Archive::Impl::ReadJobPage(Job& job, int i, const IngestOptions& options,
                                                  std::optional<ocr::Engine>* engine) {
  PageOut out;
  const std::string where = "page " + std::to_string(i + 1) + ": ";
  if (options.document_timeout_seconds > 0) {
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - job.start).count();
    if (took > options.document_timeout_seconds) {
      out.error =
          where + OverTimeLimit(options, std::to_string(i) + " of " +
                                             std::to_string(job.page_count) + " pages read");
      return out;
    }
  }
  Result<capture::Page> page = [&] {
    std::lock_guard lock(job.read_mu);
    return job.document->ReadPage(i);
  }();
  if (!page) {
    // capture names the page itself ("capture: page 3: ..."): said once.
    const std::string named = "capture: " + where;
    const std::string& message = page.error().message;
    out.error = message.starts_with(named) ? where + "capture: " + message.substr(named.size())
                                           : where + message;
    return out;
  }
  if (options.split && !page->image.pixels.empty()) {
    // A scanned page, or a text page with little text (a separator sheet
    // in a PDF with a text layer).
    capture::SeparatorOptions sep;
    sep.payloads = options.separator_payloads;
    sep.patch_t = options.separator_patch_t;
    sep.case_prefix = options.case_prefix;
    auto found = capture::FindSeparator(page->image, sep);
    if (!found) {
      out.error = where + found.error().message;
      return out;
    }
    if (found->found) {
      out.separator = true;
      out.case_file = std::move(found->case_file);
      return out;
    }
  }
  if (page->has_text) {
    out.has_text = true;
    out.text = std::move(page->text);
    return out;
  }
  if (Status opened = OpenEngine(options, engine); !opened) {
    out.error = opened.error().message;
    return out;
  }
  const bool may_read_again = options.second_reading && job.page_count <= kMaxPagesReadAgain;
  auto read =
      ReadScannedPage(page->image, i, job.result.source, options, DeadlineOf(job.start, options),
                      &**engine, &out.quarter_turns, may_read_again ? &out.unbinarized : nullptr);
  if (!read && read.error().code == Code::kDeadlineExceeded) {
    out.error = where + OverTimeLimit(options, "stopped while this page was read");
    return out;
  }
  if (!read) {
    out.error = where + read.error().message;
    return out;
  }
  if (!read->has_value()) {
    out.blank = true;  // recorded, not OCR'd
    return out;
  }
  out.ocr = true;
  out.text = std::move((*read)->text);
  out.words.reserve((*read)->words.size());
  for (ocr::Word& w : (*read)->words) out.words.push_back({std::move(w.text), w.confidence});
  if (options.ocr_outputs) {
    out.hocr = std::move((*read)->hocr);
    out.pdf = std::move((*read)->pdf);
  }
  return out;
}

void Archive::Impl::ReadAgain(Job& job, const std::vector<int>& indexes,
                              const IngestOptions& options, std::optional<ocr::Engine>* engine,
                              classify::Classification* c) {
  const classify::RoutingPolicy policy;
  if (classify::FieldsOf(c->type).empty() || c->type_confidence < policy.min_type_confidence) {
    return;  // a person decides the type first
  }
  if (!OpenEngine(options, engine)) return;
  std::string text;
  std::vector<classify::OcrWord> words;
  bool first = true;
  for (int i : indexes) {
    const PageOut& out = job.pages[static_cast<std::size_t>(i)];
    if (!first) text += '\f';
    first = false;
    if (out.has_text) {
      text += out.text;
      continue;
    }
    if (!out.ocr) continue;  // blank
    // Past the document's time limit the first reading stands.
    Result<ocr::Page> read = Fail(Code::kInternal, "not read");
    if (out.unbinarized) {
      ocr::ReadOptions again;
      again.deadline = DeadlineOf(job.start, options);
      read = (*engine)->Read(*out.unbinarized, again);
    } else {
      Result<capture::Page> page = [&] {
        std::lock_guard lock(job.read_mu);
        return job.document->ReadPage(i);
      }();
      if (!page || page->image.pixels.empty()) return;
      read = ReadPageAgain(page->image, out.quarter_turns, options, DeadlineOf(job.start, options),
                           &**engine);
    }
    if (!read) return;
    text += read->text;
    for (ocr::Word& w : read->words) words.push_back({std::move(w.text), w.confidence});
  }
  classify::Confirm(c, classify::ClassifyAs(c->type, text, words, policy), policy);
}

// Assembles the pages (the first failed one, in page order, fails the
// file), splits them at separator sheets, classifies and seals each
// document. Sets job.result, or job.documents when the file was split.
void Archive::Impl::FinishJob(Job& job, const IngestOptions& options,
                              std::optional<ocr::Engine>* engine) {
  if (!job.result.error.empty() || job.result.status == "duplicate") return job.Finish(job.result.error);
  for (PageOut& page : job.pages) {
    if (!page.error.empty()) return job.Finish(std::move(page.error));
  }
  job.result.pages = job.page_count;
  job.result.file_pages = job.page_count;
  int separators = 0;
  for (const PageOut& page : job.pages) separators += page.separator;
  if (separators == 0) {
    // One document: the file itself, byte for byte.
    std::vector<int> all(static_cast<std::size_t>(job.page_count));
    for (int i = 0; i < job.page_count; ++i) all[static_cast<std::size_t>(i)] = i;
    SealPages(job, all, /*whole=*/true, options, engine, &job.result);
    job.pages.clear();
    job.document.reset();  // every page is read: let Poppler's caches go
    return job.Finish(job.result.error);
  }

  // Split: each run of pages between separator sheets is a document, its
  // blank pages dropped; a case file given by a separator holds until the
  // next one gives another.
  struct Segment {
    std::vector<int> pages;
    std::string case_file;
  };
  std::vector<Segment> segments(1);
  std::string case_file;
  int blank_outside = 0;  // blank pages of segments that hold nothing else
  for (int i = 0; i < job.page_count; ++i) {
    const PageOut& page = job.pages[static_cast<std::size_t>(i)];
    if (page.separator) {
      if (!page.case_file.empty()) case_file = page.case_file;
      segments.push_back({{}, case_file});
      continue;
    }
    segments.back().pages.push_back(i);
  }
  const auto start = job.start;
  for (Segment& segment : segments) {
    std::vector<int> kept;
    for (int i : segment.pages) {
      if (!job.pages[static_cast<std::size_t>(i)].blank) kept.push_back(i);
    }
    if (kept.empty()) {
      blank_outside += static_cast<int>(segment.pages.size());
      continue;
    }
    IngestResult r;
    r.source = job.result.source;
    r.file_pages = job.page_count;
    r.first_of_file = job.documents.empty();
    r.first_page = kept.front() + 1;
    r.case_file = segment.case_file;
    r.blank_pages = static_cast<int>(segment.pages.size() - kept.size());
    const int last = kept.back() + 1;
    r.source += r.first_page == last ? " (page " + std::to_string(last) + ")"
                                     : " (pages " + std::to_string(r.first_page) + "-" +
                                           std::to_string(last) + ")";
    SealPages(job, kept, /*whole=*/false, options, engine, &r);
    if (!r.error.empty()) r.status = "failed";
    r.workers = job.result.workers;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    job.documents.push_back(std::move(r));
  }
  job.pages.clear();
  job.document.reset();
  if (job.documents.empty()) {
    return job.Finish("only separator sheets and blank pages (" + std::to_string(separators) +
                      " separators, " + std::to_string(blank_outside) +
                      " blank): no document to archive; check the batch");
  }
  job.documents.front().separators = separators;
  job.Finish("");
}

// Classifies and seals the document made of `indexes` (pages of
// job.pages, read already): the whole file when `whole`, else those pages
// copied out of it (capture::Document::ExtractPages). Sets *result.
void Archive::Impl::SealPages(Job& job, const std::vector<int>& indexes, bool whole,
                              const IngestOptions& options, std::optional<ocr::Engine>* engine,
                              IngestResult* result) {
  std::string text;
  std::vector<classify::OcrWord> words;
  std::vector<std::string> hocr_pages;
  std::vector<std::vector<std::uint8_t>> pdf_pages;
  bool all_ocr = true;  // every page scanned: a searchable PDF can be made
  bool first = true;
  for (int i : indexes) {
    PageOut& page = job.pages[static_cast<std::size_t>(i)];
    if (!first) text += '\f';
    first = false;
    if (page.quarter_turns != 0) ++result->turned_pages;
    if (page.has_text) {
      text += page.text;
      all_ocr = false;
      continue;
    }
    if (page.blank) {
      ++result->blank_pages;
      continue;
    }
    text += page.text;
    words.insert(words.end(), std::make_move_iterator(page.words.begin()),
                 std::make_move_iterator(page.words.end()));
    ++result->ocr_pages;
    if (options.ocr_outputs) {
      hocr_pages.push_back(std::move(page.hocr));
      pdf_pages.push_back(std::move(page.pdf));
    }
  }
  result->pages = static_cast<int>(indexes.size());

  std::vector<std::uint8_t> original;
  std::string hash = job.hash;
  if (!whole) {
    auto extracted = [&] {
      std::lock_guard lock(job.read_mu);
      return job.document->ExtractPages(indexes);
    }();
    if (!extracted) {
      result->error = extracted.error().message;
      return;
    }
    original = std::move(extracted).value();
    hash = vault::Vault::HashHex(original);
  }

  // hOCR for every document with OCR'd pages; a searchable PDF when every
  // page was scanned (a born-digital PDF is searchable already).
  std::string hocr;
  std::vector<std::uint8_t> pdf;
  if (options.ocr_outputs && !hocr_pages.empty()) {
    hocr = ocr::MergeHocr(hocr_pages, fs::path(job.path).filename().string());
    hocr_pages.clear();  // a 500-page scan's pages hold tens of MiB
    if (all_ocr) {
      auto merged = ocr::MergePdfs(pdf_pages);
      if (!merged) {
        result->error = "searchable PDF: " + merged.error().message;
        return;
      }
      pdf = std::move(merged).value();
    }
  }
  pdf_pages.clear();

  classify::Classification c = classify::Classify(text, words, model.get());
  if (options.second_reading && options.cleanup && c.status == "review" &&
      result->ocr_pages > 0 && result->ocr_pages <= kMaxPagesReadAgain && engine != nullptr) {
    ReadAgain(job, indexes, options, engine, &c);
  }
  Status sealed = Seal(whole ? job.path : "", original, hash, text, hocr, pdf, c, result);
  if (!sealed) result->error = sealed.error().message;
}

Status Archive::Impl::Seal(const std::string& original_file,
                           std::span<const std::uint8_t> original, const std::string& hash,
                           const std::string& text, const std::string& hocr,
                           const std::vector<std::uint8_t>& pdf,
                           const classify::Classification& c, IngestResult* result) {
  std::lock_guard lock(mu);
  if (seal_interrupted) {
    return Fail(Code::kFailedPrecondition,
                "not sealed: an earlier document ran out of memory while it was being sealed, and "
                "nothing more is sealed in this run; ingest this file again");
  }
  // Checked again under the lock: two copies of one file in the same batch.
  if (auto existing = vault.FindByHash(hash)) {
    result->id = existing->id;
    result->type = existing->type;
    result->status = "duplicate";
    return Ok();
  }
  vault::SealRequest request;
  // Streamed from the file and hashed again as it is sealed: a file
  // rewritten since it was read is refused, never sealed under the old hash.
  // A document split out of a file comes as bytes.
  if (original_file.empty()) {
    request.original = original;
  } else {
    request.original_file = original_file;
  }
  request.text = text;
  request.source = result->source;
  request.pages = result->pages;
  request.type = c.type;
  request.status = c.status;
  // Field values are document content: sealed, never in the ledger.
  const std::string fields = classify::ToJson(c);
  request.extras.push_back(
      {vault::Artefact::kFields,
       {reinterpret_cast<const std::uint8_t*>(fields.data()), fields.size()}});
  request.original_hash = hash;  // hashed once, to look for duplicates above
  if (!hocr.empty()) {
    request.extras.push_back(
        {vault::Artefact::kHocr,
         {reinterpret_cast<const std::uint8_t*>(hocr.data()), hocr.size()}});
  }
  if (!pdf.empty()) request.extras.push_back({vault::Artefact::kPdf, pdf});
  Result<vault::Record> sealed = [&]() -> Result<vault::Record> {
    try {
      return vault.Seal(request);
    } catch (const std::bad_alloc&) {
      seal_interrupted = true;
      return Fail(Code::kFailedPrecondition,
                  "out of memory while it was being sealed (over the process's memory limit, "
                  "--memory-limit-mb or watch.memory_limit_mb); it may or may not be archived: "
                  "ingest it again (if it was, it shows as a duplicate)");
    }
  }();
  if (!sealed) return Unexpected{sealed.error()};
  const vault::Record& record = *sealed;
  result->id = record.id;
  result->type = record.type;
  result->status = record.status;

  // The document is durable from here on; the index is a projection that
  // `verify` checks and a later ingest or rebuild brings back in step.
  Status put = [&]() -> Status {
    try {
      CU_TRY(index.Put(IndexDoc(record, text, c, /*on_loan=*/false)));
      return index.Commit();
    } catch (const std::bad_alloc&) {
      return Fail(Code::kFailedPrecondition, "out of memory");
    }
  }();
  if (!put) return Wrap(put.error(), record.id + " is sealed but not indexed");
  return Ok();
}

Result<Document> Archive::Show(const std::string& id, bool with_text) {
  std::lock_guard lock(impl_->mu);
  CU_ASSIGN_OR_RETURN(vault::Record record, impl_->vault.Find(id));
  std::string text;
  if (with_text) {
    CU_ASSIGN_OR_RETURN(text, impl_->vault.ReadText(id, "show"));
  }
  std::vector<ReviewStep> steps;
  CU_ASSIGN_OR_RETURN(classify::Classification c,
                      ReadClassification(impl_->vault, record, "show", &steps));
  Document d = detail::ToDocument(record, c, std::move(steps));
  d.text = std::move(text);
  return d;
}

Result<std::vector<std::uint8_t>> Archive::Export(const std::string& id,
                                                  const std::string& artefact) {
  auto kind = vault::ParseArtefact(artefact);
  if (!kind) {
    return Fail(Code::kInvalidArgument,
                "unknown format '" + artefact + "'; use original, text, hocr or pdf");
  }
  std::lock_guard lock(impl_->mu);
  return impl_->vault.Export(id, *kind, "export " + artefact);
}

Result<std::vector<std::uint8_t>> Archive::ExportOriginal(const std::string& id) {
  std::lock_guard lock(impl_->mu);
  return impl_->vault.Export(id, vault::Artefact::kOriginal, "export");
}

Result<VerifyReport> Archive::Verify() { return VerifyArchive(/*deep=*/false); }

Result<VerifyReport> Archive::VerifyDeep() { return VerifyArchive(/*deep=*/true); }

Result<VerifyReport> Archive::VerifyArchive(bool deep) {
  std::lock_guard lock(impl_->mu);
  CU_ASSIGN_OR_RETURN(vault::VerifyReport vault_report,
                      deep ? impl_->vault.VerifyDeep() : impl_->vault.Verify());
  VerifyReport report;
  report.decrypted = vault_report.decrypted;
  report.entries = vault_report.entries;
  report.blobs = vault_report.blobs;
  report.users = vault_report.users;
  report.loans = vault_report.loans;
  report.unreferenced_blobs = vault_report.unreferenced_blobs;
  std::vector<vault::Record> records = impl_->vault.List();
  CU_ASSIGN_OR_RETURN(const auto versions, impl_->index.Versions());
  for (const vault::Record& record : records) {
    auto it = versions.find(record.id);
    if (it == versions.end()) {
      ++report.not_indexed;
    } else if (it->second != record.changed_seq) {
      ++report.stale;
      if (report.stale_ids.size() < 10) report.stale_ids.push_back(record.id);
    }
  }
  report.indexed = impl_->index.size();
  if (report.indexed + report.not_indexed != records.size())
    return Fail(Code::kCorruption,
                "index: holds " + std::to_string(report.indexed) + " documents, of which " +
                    std::to_string(report.indexed + report.not_indexed - records.size()) +
                    " are not in the vault; rebuild the index");
  return report;
}

namespace {

std::vector<std::string> RoleNames(const std::vector<vault::Role>& roles) {
  std::vector<std::string> names;
  for (vault::Role r : roles) names.push_back(vault::RoleName(r));
  return names;
}

Loan ToLoan(const vault::Loan& l) {
  return Loan{l.id, l.to, l.due, l.reason, l.by, FormatUtc(l.micros)};
}

}  // namespace

Status Archive::AddUser(const std::string& name, const std::vector<std::string>& roles,
                        const std::string& passphrase) {
  std::vector<vault::Role> parsed;
  for (const std::string& r : roles) {
    CU_ASSIGN_OR_RETURN(vault::Role role, vault::ParseRole(r));
    parsed.push_back(role);
  }
  std::lock_guard lock(impl_->mu);
  auto enrolled = impl_->vault.Enroll(name, passphrase);
  if (!enrolled && enrolled.error().code != Code::kAlreadyExists)
    return Unexpected{enrolled.error()};
  return impl_->vault.AddUser(name, parsed);
}

Status Archive::GrantRole(const std::string& name, const std::string& role) {
  CU_ASSIGN_OR_RETURN(vault::Role r, vault::ParseRole(role));
  std::lock_guard lock(impl_->mu);
  return impl_->vault.GrantRole(name, r);
}

Status Archive::RevokeRole(const std::string& name, const std::string& role) {
  CU_ASSIGN_OR_RETURN(vault::Role r, vault::ParseRole(role));
  std::lock_guard lock(impl_->mu);
  return impl_->vault.RevokeRole(name, r);
}

Status Archive::RevokeUser(const std::string& name) {
  std::lock_guard lock(impl_->mu);
  return impl_->vault.RevokeUser(name);
}

std::vector<User> Archive::Users() {
  std::lock_guard lock(impl_->mu);
  std::vector<User> users;
  for (const vault::User& u : impl_->vault.Users())
    users.push_back(User{u.name, RoleNames(u.roles), u.revoked, u.sign_public_key});
  return users;
}

// The index's terms derive from the epoch key: a new epoch means a new
// index key, so the index is rebuilt under it at once (whoever copied the
// old index and key learns nothing of documents ingested from now on).
Result<std::uint32_t> Archive::RotateKey() {
  std::lock_guard lock(impl_->mu);
  CU_ASSIGN_OR_RETURN(std::uint32_t epoch, impl_->vault.RotateKey());
  auto rebuilt = impl_->RebuildLocked();
  if (!rebuilt) {
    impl_->notices.push_back("index: not rebuilt under the new key (" + rebuilt.error().message +
                             "); the next login of an archivist rebuilds it");
  }
  return epoch;
}

// A check-out or return changes what search shows (prestado:si): the
// index follows at once.
Status Archive::Impl::FollowLoan(const std::string& id, bool on_loan) {
  CU_ASSIGN_OR_RETURN(const vault::Record record, vault.Find(id));
  Status set = index.SetLoan(id, on_loan, record.changed_seq);
  if (set) set = index.Commit();
  if (!set && set.error().code != Code::kNotFound) {
    return Wrap(set.error(), "the loan of " + id +
                                 " is recorded in the ledger, but the index did not follow; "
                                 "run `custodia rebuild`");
  }
  return Ok();
}

Status Archive::Checkout(const std::string& id, const std::string& to, const std::string& due,
                         const std::string& reason) {
  std::lock_guard lock(impl_->mu);
  CU_TRY(impl_->vault.Checkout(id, to, due, reason));
  return impl_->FollowLoan(id, true);
}

Status Archive::Return(const std::string& id, const std::string& note) {
  std::lock_guard lock(impl_->mu);
  CU_TRY(impl_->vault.Return(id, note));
  return impl_->FollowLoan(id, false);
}

std::vector<Loan> Archive::Loans() {
  std::lock_guard lock(impl_->mu);
  std::vector<Loan> loans;
  for (const vault::Loan& l : impl_->vault.Loans()) loans.push_back(ToLoan(l));
  return loans;
}

Result<std::vector<Loan>> Archive::Overdue(const std::string& today) {
  std::lock_guard lock(impl_->mu);
  CU_ASSIGN_OR_RETURN(std::vector<vault::Loan> overdue, impl_->vault.Overdue(today));
  std::vector<Loan> loans;
  for (const vault::Loan& l : overdue) loans.push_back(ToLoan(l));
  return loans;
}

std::vector<Event> Archive::Log() {
  std::lock_guard lock(impl_->mu);
  std::vector<Event> events;
  for (const vault::Event& e : impl_->vault.Log())
    events.push_back(Event{e.seq, FormatUtc(e.micros), e.actor, e.type, e.detail});
  return events;
}

Result<std::string> Archive::IssueCheckpoint() {
  std::lock_guard lock(impl_->mu);
  return impl_->vault.IssueCheckpoint();
}

Result<std::string> Archive::Prove(const std::string& id) {
  std::lock_guard lock(impl_->mu);
  return impl_->vault.Prove(id);
}

namespace {
CheckpointCheck ToCheck(const vault::CheckpointCheck& c) {
  return CheckpointCheck{c.size, c.current_size, c.signer};
}
}  // namespace

Result<CheckpointCheck> Archive::VerifyCheckpoint(const std::string& note) {
  std::lock_guard lock(impl_->mu);
  CU_ASSIGN_OR_RETURN(vault::CheckpointCheck c, impl_->vault.VerifyCheckpoint(note));
  return ToCheck(c);
}

Result<CheckpointCheck> Archive::VerifyProof(const std::string& proof, const std::string& id) {
  std::lock_guard lock(impl_->mu);
  CU_ASSIGN_OR_RETURN(vault::CheckpointCheck c, impl_->vault.VerifyProof(proof, id));
  return ToCheck(c);
}

Result<std::string> Archive::VerifierKey(const std::string& user) {
  std::lock_guard lock(impl_->mu);
  return impl_->vault.VerifierKey(user);
}

}  // namespace custodia::pipeline
