// pipeline/pipeline.h: start here. The one place where the modules meet: an
// Archive takes files from capture through OCR and classification into the
// vault, then the index, and answers the archivist's questions.
//
// An Archive directory holds `vault/` (the source of truth, see
// docs/vault_format.md) and `index/` (a Xapian projection of it). One process
// opens an Archive at a time; a second one is refused with a clear error.
#ifndef CUSTODIA_PIPELINE_PIPELINE_H_
#define CUSTODIA_PIPELINE_PIPELINE_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/result.h"

namespace custodia::pipeline {

namespace detail {
struct Input;
}  // namespace detail

struct IngestOptions {
  int jobs = 0;  // worker threads; 0: one per core
  std::int64_t max_pixels = 100'000'000;
  std::string languages = "spa+eng";
  // Scanned pages: turned upright (Tesseract OSD, else OCR confidence) and
  // cleaned (capture's Prepare and Clean: gray, resolution, deskew, borders,
  // punch holes, illumination, contrast, denoise, binarize) before OCR.
  bool orient = true;
  bool cleanup = true;
  // Stage names to skip ("deskew", "denoise", ... as capture::CleanupOptions
  // names them); an unknown name is refused.
  std::vector<std::string> skip_stages;
  // When set, every stage's image of every scanned page is written there as
  // PNG: <file name>.p<page>.<k>-<stage>.png.
  std::string keep_stages_dir;
  // Seal hOCR (word boxes, confidences) and a searchable PDF (page images
  // with an invisible text layer) for documents whose pages were all OCR'd.
  bool ocr_outputs = true;
  // Separator sheets (docs/separators.md): a scanned page whose barcode or
  // QR code holds one of `separator_payloads` (or Code 39 "PATCHT" when
  // `separator_patch_t`) ends one document and starts the next, and is not
  // kept; a 2-D code "<case_prefix><id>" does the same and files the
  // documents after it in case file <id>. A file without separators is one
  // document, sealed byte for byte; a split document's original holds its
  // own pages only (separators and blank pages dropped).
  bool split = true;
  std::vector<std::string> separator_payloads = {"CUSTODIA-SEP"};
  bool separator_patch_t = true;
  std::string case_prefix = "EXP:";
  // A folder batch's marker file (IngestBatch leaves it out).
  std::string batch_marker = "batch.ready";
  // A scanned document of at most 4 pages that would go to review for its
  // fields is read a second time, each page cleaned without binarization,
  // and each field settled from both readings (classify::Confirm): a value
  // both read alike is surer, one only the second read is taken, two that
  // differ are doubted. Costs another OCR of those pages.
  bool second_reading = true;
  // A cleaned page with at most this much ink is blank: recorded, not OCR'd.
  double blank_max_ink = 0.0001;
  // A document still unfinished this long after it was opened fails: its
  // next page is not read, and OCR stops inside the page it is reading
  // ("took longer than ..."); 0: no limit. What cannot be stopped from
  // inside (Poppler or Leptonica stuck on one page) is reported to
  // `on_stuck`.
  double document_timeout_seconds = 0;
  // Called (from a thread of its own, once per task) when a worker is still
  // on a document `stuck_grace_seconds` past its time limit: opening it,
  // reading one page or sealing it. `what` names the file and the task
  // ("scan.pdf: reading page 3"). The worker cannot be stopped; the caller
  // may report it and end the process (`custodia ingest` does; `watch`
  // kills its worker). Empty, or no time limit: not watched.
  std::function<void(const std::string& what, double seconds)> on_stuck;
  double stuck_grace_seconds = 60;  // how long past the limit before on_stuck
  // Called after each page is read (from a worker thread, one call at a
  // time), e.g. for a progress bar. Empty: not called.
  std::function<void(const struct IngestProgress&)> on_progress;
};

// How far an Ingest has got.
struct IngestProgress {
  int files = 0;         // inputs in all
  int files_opened = 0;  // inputs opened so far (their pages are known)
  int files_done = 0;
  int pages_known = 0;   // pages of the inputs opened so far
  int pages_done = 0;
  double seconds = 0;    // since Ingest started
};

// The outcome of one input file.
struct IngestResult {
  std::string source;  // the path as the user gave it (or as found in a folder)
  std::string id;      // empty when failed
  int pages = 0;
  int ocr_pages = 0;    // pages read by OCR (the rest had a text layer)
  int blank_pages = 0;  // scanned pages found blank: recorded, not OCR'd
  int turned_pages = 0; // scanned pages turned upright before OCR
  int workers = 0;      // how many of the ingest's workers read its pages
  std::string type;
  std::string status;  // routing status; "duplicate" when already archived; "failed"
  std::string error;   // set when failed: what was wrong and what to do
  double seconds = 0;
  // A document split out of a file by separator sheets: its first page in
  // the file (1-based; 1 otherwise), the case file a separator gave it, and
  // (on the file's first document) how many separator sheets the file held.
  int first_page = 1;
  std::string case_file;
  int separators = 0;
  int file_pages = 0;         // pages of the file it came from (0 if not opened)
  bool first_of_file = true;  // the file's first document (or its only result)
  bool failed() const { return !error.empty(); }
};

struct IngestSummary {
  int sealed = 0;
  int duplicates = 0;
  int failed = 0;
  int skipped = 0;    // files in folders that are not PNG/JPEG/TIFF/PDF
  int reindexed = 0;  // sealed documents an interrupted run left out of the index
  int pages = 0;
  double seconds = 0;
};

// One decision of a document's review, as `show` presents it.
struct ReviewStep {
  std::string at;      // UTC, ISO 8601
  std::string actor;   // the archivist who signed it
  std::string action;  // "set", "type" or "approve"
  std::string field;   // "set": the field
  std::string old_value;  // "set": the value before; "type": the type before
  std::string new_value;  // "set": the value now (canonical); "type": the type now
  std::string status;     // the document's status afterwards
};

// One document as `show` presents it.
struct Document {
  std::string id;
  std::string source;
  int pages = 0;
  std::string type;
  std::string status;
  // What classify found: {"type_confidence", "reasons": [...], "fields":
  // {name: {"value", "confidence", "valid", "reason"?, "raw"?, "repairs"?}}}
  std::string classification_json;
  std::string text;           // pages separated by '\f'
  std::string original_hash;  // hex BLAKE2b-256 of the original bytes
  std::uint64_t original_size = 0;
  std::string sealed_at;  // UTC, ISO 8601
  std::string actor;
  std::vector<ReviewStep> reviews;  // in order; empty if never reviewed
};

// A document waiting in the review queue.
struct ReviewItem {
  std::string id;
  std::string source;
  std::string type;
  std::string sealed_at;  // UTC, ISO 8601
  std::string due_at;     // sealed_at + its type's due time
  double age_hours = 0;
  bool overdue = false;
  int decisions = 0;  // review decisions recorded so far
};

// How long a document of each type may wait in review: `custodia.toml` in
// the archive, table [review.due_hours] (docs/review.md), over these
// defaults.
struct ReviewPolicy {
  std::map<std::string, double> due_hours;  // by type; "otro" and unknown types use default_hours
  double default_hours = 24;
};

// `custodia watch`: one inbox (docs/watch.md).
struct InboxConfig {
  std::string path;             // absolute, or relative to the archive folder
  std::string label;            // names it in ledger sources; empty: the folder's name
  std::string station;          // the user it ingests as (station role); empty: watch's --user
  std::string passphrase_file;  // that user's passphrase, first line; empty: as for --user
};

// Half the machine's physical memory in MiB (at least 1024), so that one
// document (a decompression bomb) cannot take the machine down with it.
std::int64_t DefaultMemoryLimitMb();

// Limits this process's address space (RLIMIT_AS) to `mb` MiB; 0: none.
// An allocation past it fails: the document being read fails with "out of
// memory", the process goes on.
Status LimitMemory(std::int64_t mb);

struct WatchConfig {
  std::vector<InboxConfig> inboxes;
  double settle_seconds = 5;     // unchanged this long (and closed): complete
  double rescan_seconds = 10;    // look again even without inotify events (network filesystems)
  std::string marker = "batch.ready";  // FOLDER/batch.ready or FILE.ready: complete at once
  bool require_marker = false;
  bool delete_sources = false;   // sources = "delete"; default "keep": moved to INBOX/done/
  double document_timeout_seconds = 600;  // a document taking longer is quarantined
  // Address space of the ingest process (RLIMIT_AS); 0: none. Default:
  // DefaultMemoryLimitMb().
  std::int64_t memory_limit_mb = DefaultMemoryLimitMb();
};

// custodia.toml in the archive folder (docs/config.md). Every key is
// optional; an unknown key is an error, so that a typo never goes unseen.
struct Config {
  std::string file;     // the file read (empty when there is none)
  ReviewPolicy review;  // [review.due_hours]
  WatchConfig watch;    // [watch], [[watch.inbox]]
  // [separators]: a page with a barcode or QR code holding one of these is
  // a separator sheet; Code 39 "PATCHT" too when patch_t; a 2-D code
  // "<case_prefix><id>" opens case file <id>.
  std::vector<std::string> separator_payloads = {"CUSTODIA-SEP"};
  bool patch_t = true;
  std::string case_prefix = "EXP:";
  double blank_max_ink = 0.0001;  // [pages]: see capture::CleanupOptions
  int jobs = 0;                   // [ingest]
  std::string languages = "spa+eng";
};

// Reads ARCHIVE/custodia.toml (defaults when there is none).
// kInvalidArgument naming the file, the line and the key, and what to do.
Result<Config> LoadConfig(const std::filesystem::path& archive_dir);

// The ingest settings of `config` ([ingest], [separators], [pages]).
IngestOptions IngestOptionsFrom(const Config& config);

// `custodia report`: what the ledger says about the documents sealed from
// `since` on (docs/review.md defines each figure). Reads no document
// content.
struct TypeFigures {
  int documents = 0;
  int automated = 0;      // routed auto at ingest, never touched in review
  int corrected = 0;      // at least one field set in review
  int typed_by_hand = 0;  // type set in review
  int waiting = 0;        // in review now
  std::map<std::string, int> fields_corrected;  // field -> documents where it was set
};
struct Report {
  std::string since;  // UTC, ISO 8601; empty: from the start
  int documents = 0;
  int pages = 0;
  TypeFigures all;
  std::map<std::string, TypeFigures> by_type;  // by the type the document has now
  int queue = 0;  // documents in review now
  double queue_oldest_hours = 0;
  double queue_median_hours = 0;
  int overdue = 0;  // in review now, past their due time
  int approved_late = 0;  // approved after their due time
  double pages_per_hour = 0;  // pages / hours from the first to the last seal (0 if under a minute)
};

struct TrainSummary {
  int from_archive = 0;  // documents whose type a person decided
  int from_folders = 0;  // labelled texts
  std::map<std::string, int> per_type;
  std::string model;  // the file written
};

struct SearchHit {
  std::string id;
  std::string source;
  std::string type;
  std::string status;
  std::string date;    // the document's date (fecha, or its periodo), YYYY-MM-DD, or ""
  std::string amount;  // its amount (total, importe, neto), "1234.56", or ""
  int rank = 0;        // 0-based over the whole result
  int percent = 0;     // relevance; 0 when sorted by a value
  std::string snippet;  // matches between the marks given to Search
};

// A search (docs/cli.md, `custodia search`): the query language of
// docs/index_schema.md.
struct SearchOptions {
  std::string query;
  std::string sort = "relevance";  // relevance, fecha or importe (also date, amount)
  bool ascending = false;          // fecha / importe: oldest / smallest first
  int offset = 0;
  int limit = 10;
  bool facets = false;
  bool snippets = true;  // false: no text is read (nor logged)
  std::string mark_start = "[";
  std::string mark_end = "]";
};

struct SearchPage {
  std::uint64_t matches = 0;  // estimated; exact with facets
  std::vector<SearchHit> hits;
  // "tipo", "estado", "año" -> value -> documents; empty unless asked.
  std::map<std::string, std::map<std::string, std::uint64_t>> facets;
};

struct VerifyReport {
  std::uint64_t entries = 0;
  std::uint64_t blobs = 0;
  std::uint64_t users = 0;
  std::uint64_t loans = 0;  // open at the end of the ledger
  std::uint64_t indexed = 0;
  // Sealed documents not in the index yet (a run interrupted between seal
  // and index): the projection lags, nothing is lost; the next ingest or
  // archivist command re-indexes them.
  std::uint64_t not_indexed = 0;
  // Indexed documents whose entry is older than the ledger's last change
  // to them (a correction, check-out, return or filing the index missed):
  // search would show them as they were. The next ingest or `rebuild`
  // brings them in step. The first few ids.
  std::uint64_t stale = 0;
  std::vector<std::string> stale_ids;
  std::vector<std::string> unreferenced_blobs;
  std::uint64_t decrypted = 0;  // blobs decrypted in full (VerifyDeep only)
};

// What a checkpoint (or proof) check established: signed by `signer`, it
// covers the first `size` entries of today's `current_size`.
struct CheckpointCheck {
  std::uint64_t size = 0;
  std::uint64_t current_size = 0;
  std::string signer;
};

// A person or station (docs/vault_format.md, "People and roles").
struct User {
  std::string name;
  std::vector<std::string> roles;  // "station", "archivist", "auditor", "admin"
  bool revoked = false;
  std::string sign_public_key;  // hex Ed25519
};

struct Loan {
  std::string id;
  std::string to;
  std::string due;  // YYYY-MM-DD
  std::string reason;
  std::string by;
  std::string since;  // UTC, ISO 8601
};

// One ledger entry, for people reading the log.
struct Event {
  std::uint64_t seq = 0;
  std::string time;  // UTC, ISO 8601
  std::string actor;
  std::string type;
  std::string detail;
};

// A document filed in a case file, as `custodia cases` lists it.
struct CaseDocument {
  std::string id;
  std::string type;
  std::string status;
  std::string source;
  std::string sealed_at;  // UTC, ISO 8601
};

// What became of one batch from a hot folder (`custodia watch`).
struct BatchResult {
  std::string source;   // "label/name" as the ledger records it
  std::string outcome;  // "archived" or "quarantined"
  std::string reason;   // quarantined: why (names the file and what to do)
  int documents = 0;    // documents it holds, duplicates included
  int duplicates = 0;   // already archived from another source: not stored twice
  int pages = 0;
  int blank_pages = 0;
  int separators = 0;
  bool already_recorded = false;  // a run before a crash had recorded it: nothing done again
  double seconds = 0;
};

// `custodia watch` (docs/watch.md).
struct WatchRequest {
  std::filesystem::path archive;
  std::string user;        // the station inboxes without their own `station` ingest as
  std::string passphrase;  // that user's
  std::vector<std::string> inboxes;  // --inbox; empty: custodia.toml's [[watch.inbox]]
  bool once = false;       // take what is complete now, archive it, and return
  bool json = false;       // log lines as JSON
  std::string self;        // this program, run again as the ingest worker
};

// Watches the inboxes until `*stop` becomes nonzero (a signal handler sets
// it) or, with `once`, until nothing complete is left. Each batch is
// archived by a worker process (`self` run as `watch-worker`) under a time
// limit per document and the configured memory limit, so that a file that
// hangs or crashes a decoder is quarantined and the watcher carries on.
// `log` gets one line per document, per quarantined batch and per notice.
// Errors: bad configuration, an inbox that cannot be used, a station that
// cannot log in (kPermissionDenied), the archive unusable.
Status Watch(const WatchRequest& request, const std::function<void(const std::string&)>& log,
             const volatile int* stop);

// The worker side of Watch: reads the passphrase of `user` and then one
// request per line on stdin, answers on stdout (docs/watch.md). Returns the
// process exit status.
int WatchWorker(const std::filesystem::path& archive, const std::string& user);

// The OCR libraries and the OpenMP thread limit this process runs under
// (see ocr::LibraryThreadLimit: it should be 1).
std::string LibraryVersions();

class Archive {
 public:
  // Creates an empty archive in `dir` whose first user, `user`, holds the
  // admin, archivist and station roles under `passphrase`. kAlreadyExists
  // if `dir` exists and is not empty: init never touches existing files;
  // kInvalidArgument for a bad user name or an empty passphrase.
  static Status Create(const std::filesystem::path& dir, const std::string& user,
                       const std::string& passphrase);
  // Opens the archive in `dir`, nobody logged in: Verify needs nobody;
  // Ingest needs a station, Show, Search and ExportOriginal an archivist
  // (Login). kNotFound if there is none there. `env`, nullptr for the real
  // one, is what the vault writes through (tests fail its writes:
  // base/fault_env.h); the index writes through Xapian, outside it.
  static Result<Archive> Open(const std::filesystem::path& dir, Env* env = nullptr);

  // Acts as `user` from now on (vault::Vault::Login): kPermissionDenied for
  // an unknown or revoked user or a wrong passphrase.
  Status Login(const std::string& user, const std::string& passphrase);

  // What Open repaired and a person should know (an interrupted ledger
  // append that was cut off), one line each; empty normally.
  const std::vector<std::string>& notices() const;

  Archive(Archive&&) noexcept;
  Archive& operator=(Archive&&) noexcept;
  ~Archive();

  // Ingests files and folders (searched recursively for PNG, JPEG, TIFF and
  // PDF files). Each file becomes one document, sealed durably before it is
  // reported, by the logged-in user (a station). `on_result` is called once
  // per file, in input order. A file
  // that fails (a missing path included) does not stop the others. First
  // brings the index back in step with the vault when an interrupted run
  // sealed documents without indexing them. Returns an error only when that
  // fails.
  Result<IngestSummary> Ingest(const std::vector<std::string>& paths, const IngestOptions& options,
                               const std::function<void(const IngestResult&)>& on_result);

  // Show, Search (for its snippets) and ExportOriginal decrypt, so each
  // read is logged in the ledger under the logged-in archivist's name.
  // Without `with_text`, the text is not read (nor logged): `review show`.
  Result<Document> Show(const std::string& id, bool with_text = true);
  // Search (archivist): kInvalidArgument naming the problem for a bad query
  // or sort. Snippets come from the hits' texts, read (and logged) for it.
  Result<SearchPage> Search(const SearchOptions& options);
  // Documents like `id` (relevance feedback on its words), snippets from
  // the start of their texts. kNotFound for an unknown id.
  Result<SearchPage> Similar(const std::string& id, const SearchOptions& options);
  // Recreates the index from the vault alone (archivist): every document's
  // text and fields read (logged reads, purpose "rebuild"). Returns how
  // many were indexed.
  Result<std::uint64_t> Rebuild();
  Result<std::vector<std::uint8_t>> ExportOriginal(const std::string& id);
  // Any artefact the document was sealed with: "original", "text", "hocr"
  // or "pdf" (the last two for OCR'd documents). kInvalidArgument for
  // another name, kNotFound when the document has no such artefact.
  Result<std::vector<std::uint8_t>> Export(const std::string& id, const std::string& artefact);

  // People (admin). AddUser enrolls `name` under `passphrase` when they have
  // no key file yet, then adds them with `roles`.
  Status AddUser(const std::string& name, const std::vector<std::string>& roles,
                 const std::string& passphrase);
  Status GrantRole(const std::string& name, const std::string& role);
  Status RevokeRole(const std::string& name, const std::string& role);
  Status RevokeUser(const std::string& name);
  std::vector<User> Users();
  // Admin: a new key epoch; returns its number.
  Result<std::uint32_t> RotateKey();

  // Loans (archivist). Overdue lists loans due before `today` (YYYY-MM-DD).
  Status Checkout(const std::string& id, const std::string& to, const std::string& due,
                  const std::string& reason);
  Status Return(const std::string& id, const std::string& note);
  std::vector<Loan> Loans();
  Result<std::vector<Loan>> Overdue(const std::string& today);

  // The review queue (docs/review.md). ReviewQueue lists the documents in
  // review, most urgent first (due time, then age); it reads no content.
  // ReviewSet parses `value` as `field` of the document's type
  // (classify::ParseCorrection: canonical form, validated; a wrong value
  // is refused, kInvalidArgument, naming the field and the form expected),
  // ReviewType re-reads the fields as `type`, ReviewApprove accepts the
  // document (kFailedPrecondition, with the reasons, while a field of its
  // type is missing or invalid). Each decision is a ledger entry signed by
  // the logged-in archivist, its values sealed (vault::Vault::Review); the
  // index follows at once. Each returns the document as Show would.
  Result<std::vector<ReviewItem>> ReviewQueue();
  Result<Document> ReviewSet(const std::string& id, const std::string& field,
                             const std::string& value);
  Result<Document> ReviewType(const std::string& id, const std::string& type);
  Result<Document> ReviewApprove(const std::string& id);
  // `custodia train` (archivist): teaches the default type model the
  // documents whose type a person decided (typed in review, or approved;
  // their texts are logged reads) and the labelled texts under `folders`
  // (FOLDER/TYPE/*.txt), each counted `weight` times, and writes it to
  // ARCHIVE/model/types.model, which ingest uses from then on. Always starts
  // from the default model, so training again does not count a correction
  // twice. kFailedPrecondition when there is nothing to learn from.
  Result<TrainSummary> Train(const std::vector<std::string>& folders, int weight);
  // The due times in force: custodia.toml's, over the defaults.
  // kInvalidArgument naming the file and key for a bad config.
  Result<ReviewPolicy> Policy() const;
  // Documents sealed at or after `since_micros` (0: all).
  Result<Report> MakeReport(std::int64_t since_micros);

  // What IngestBatch does once per process: loads the type model and brings
  // the index in step with the vault. A watcher's worker calls it before it
  // says it is ready, so a batch's time limit counts the batch alone.
  // IngestBatch calls it when nobody did.
  Status PrepareBatches();

  // Archives one batch a hot folder claimed: the file `path`, or every file
  // in the folder `path` (in name order; hidden files, the marker and
  // Thumbs.db/desktop.ini left out), recorded as `source`. Each document is
  // sealed as Ingest seals it and reported to `on_result`; then the batch
  // is recorded in the ledger (a batch entry, signed by the station):
  // archived when every file was sealed or was a duplicate, else
  // quarantined with the first failure as its reason. `resumed`: the batch
  // was claimed before a crash; one the ledger already records as archived
  // (same source, same hash) is then not recorded again, and its documents
  // sealed by the interrupted run are its own, not duplicates. A folder
  // holding a link, a FIFO or a device is quarantined without reading
  // anything.
  Result<BatchResult> IngestBatch(const std::filesystem::path& path, const std::string& source,
                                  bool resumed, const IngestOptions& options,
                                  const std::function<void(const IngestResult&)>& on_result);
  // Case files (expedientes) and the documents filed in each, from the
  // batch entries of the ledger (no document is read): every case file
  // when `case_file` is empty, else that one (kNotFound when no document is
  // filed in it).
  Result<std::map<std::string, std::vector<CaseDocument>>> CaseFiles(const std::string& case_file);
  // Records a batch refused before it could be read (a link, a bad name, a
  // worker that crashed or ran out of time on it) as quarantined.
  Status RecordRefusedBatch(const std::string& source, const std::string& reason);

  // The ledger, one event per entry (auditors read it; no key needed).
  std::vector<Event> Log();

  // Checkpoints and proofs (docs/vault_format.md): a signed C2SP checkpoint
  // of the ledger by the logged-in person (any role), recorded in the
  // ledger; an inclusion proof (c2sp.org/tlog-proof@v1) of a document's
  // ingest entry. Verifying either needs no key: kTampered when today's
  // ledger does not extend the checkpoint (truncated, rolled back, altered).
  Result<std::string> IssueCheckpoint();
  Result<std::string> Prove(const std::string& id);
  Result<CheckpointCheck> VerifyCheckpoint(const std::string& note);
  Result<CheckpointCheck> VerifyProof(const std::string& proof, const std::string& id);
  // "<origin>/<user>+<key id>+<base64 key>", for tools outside custodia.
  Result<std::string> VerifierKey(const std::string& user);

  // Checks the vault without any key (ledger chain, signatures, roles,
  // loans, every blob) and the index against it: a document in the index
  // but not in the vault is an error; one sealed but not yet indexed is
  // counted in not_indexed. The first defect is the error.
  Result<VerifyReport> Verify();
  // Verify, then every blob decrypted in full and checked
  // (vault::Vault::VerifyDeep); writes nothing to the ledger.
  // kPermissionDenied unless the logged-in user is an archivist or admin.
  Result<VerifyReport> VerifyDeep();

 private:
  struct Impl;
  explicit Archive(std::unique_ptr<Impl> impl);
  // Ingest's work once its inputs are listed (the index is in step and
  // the model loaded): adds to *summary.
  void IngestInputs(const std::vector<detail::Input>& inputs, const IngestOptions& options,
                    const std::function<void(const IngestResult&)>& on_result,
                    IngestSummary* summary);
  Result<VerifyReport> VerifyArchive(bool deep);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custodia::pipeline

#endif  // CUSTODIA_PIPELINE_PIPELINE_H_
