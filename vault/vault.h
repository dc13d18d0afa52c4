// vault/vault.h: the encrypted, hash-chained custody store, the archive's
// only source of truth. Originals and extracted text are sealed as encrypted
// blobs; every seal, read, export, correction, loan and change of people or
// keys is an entry of an append-only, hash-chained ledger, signed by the
// person who caused it.
// A Vault is not thread-safe; one process holds it at a time (the directory
// is locked while it is open).
#ifndef CUSTODIA_VAULT_VAULT_H_
#define CUSTODIA_VAULT_VAULT_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "base/result.h"

namespace custodia::vault {

struct Options {
  Env* env = Env::Default();
};

// What a person may do (docs/vault_format.md, "People and roles"):
// a station seals; an archivist reads, exports, corrects, checks out and
// returns; an auditor verifies and reads the ledger, and holds no key that
// decrypts anything; an admin manages people and keys.
enum class Role : std::uint8_t { kStation = 1, kArchivist = 2, kAuditor = 4, kAdmin = 8 };

// "station", "archivist", "auditor", "admin".
const char* RoleName(Role role);
// The role named `name`; kInvalidArgument for anything else.
Result<Role> ParseRole(const std::string& name);

// Which artefact of a document is read.
// What a document is sealed as: the original file, its text (pages
// separated by '\f'), and, for OCR'd documents, hOCR (word boxes and
// confidences) and a searchable PDF (page images with an invisible text
// layer), and what classify found in it (type confidence, review reasons
// and field values, a JSON object: field values are document content, so
// they are sealed like the text and never written to the ledger in clear).
enum class Artefact : std::uint8_t { kOriginal = 1, kText = 2, kHocr = 3, kPdf = 4, kFields = 5 };
// "original", "text", "hocr", "pdf", "fields".
const char* ArtefactName(Artefact artefact);
// The artefact named `name` (as ArtefactName gives it); nullopt otherwise.
std::optional<Artefact> ParseArtefact(std::string_view name);

// An artefact beyond the original and the text, handed to Seal.
struct ExtraArtefact {
  Artefact kind = Artefact::kHocr;  // kHocr, kPdf or kFields
  std::span<const std::uint8_t> bytes;
};

// What the caller hands over to be sealed. The sealer is the logged-in user.
struct SealRequest {
  std::span<const std::uint8_t> original;  // the file's bytes, exactly
  // Or, instead of `original`, the file to stream them from, never held
  // whole (a 500-page scan is hundreds of MiB). Needs original_hash: the
  // file is hashed again as it is sealed, and a file that changed since is
  // refused (kFailedPrecondition) with nothing written.
  std::filesystem::path original_file;
  std::string text;                        // extracted text, pages separated by '\f'
  std::string source;                      // the path as the user gave it
  int pages = 0;
  std::string type;    // document type ("factura", ..., "otro"), in clear in the ledger
  std::string status;  // routing status ("auto", "review"), in clear in the ledger
  // In clear in the ledger, so no document content: ingest leaves it empty
  // and seals the fields as the kFields extra artefact instead. Kept for
  // ledgers written before that (which hold "{}").
  std::string fields_json;
  // HashHex(original), when the caller has already computed it (ingest does,
  // to find duplicates before sealing); empty: Seal computes it. It must be
  // the hash of these very bytes: every read checks it, so a wrong one makes
  // the document unreadable.
  std::string original_hash;
  // hOCR and searchable PDF, when there are any: each kind at most once.
  std::vector<ExtraArtefact> extras;
};

// What an archivist did to a document in review (docs/review.md).
enum class ReviewAction : std::uint8_t { kSetField = 1, kSetType = 2, kApprove = 3 };

// One review entry of a document.
struct ReviewEvent {
  std::uint64_t seq = 0;
  std::int64_t micros = 0;
  std::string actor;
  ReviewAction action = ReviewAction::kApprove;
  std::string field;   // kSetField
  std::string type;    // the document's type afterwards
  std::string status;  // its status afterwards: "review" or "approved"
  std::string values;  // what the reviewer sealed; only ReadFields fills it
};

struct FieldsRead {
  std::string sealed;                // the fields artefact; empty if none was sealed
  std::vector<ReviewEvent> reviews;  // in ledger order, values opened
};

// One sealed document, as the ledger records it.
struct Record {
  std::string id;         // "D000001"
  std::uint64_t seq = 0;  // ledger sequence number of its ingest entry
  std::int64_t sealed_micros = 0;
  std::string source;
  int pages = 0;
  std::string type;    // now: as sealed, or as review last set it
  std::string status;  // now: "auto" or "review" as sealed, "approved" after review
  std::string sealed_type;    // as classified at ingest
  std::string sealed_status;  // as routed at ingest
  std::vector<ReviewEvent> reviews;  // in ledger order; values empty
  std::string fields_json;
  std::string actor;          // who sealed it
  std::string original_hash;  // hex BLAKE2b-256 of the original plaintext
  std::uint64_t original_size = 0;
  std::string original_blob;  // hex name of the original's blob
  std::string text_blob;      // hex name of the text's blob
  // Every artefact sealed for it, in the order sealed: "original", "text",
  // then "hocr" and "pdf" when it was OCR'd.
  std::vector<std::string> artefacts;
  // The case files (expedientes) it is filed in: sorted, distinct, from
  // every batch entry naming it. A document (an ID card copy) may be in
  // several.
  std::vector<std::string> case_files;
  // The source of the first archived batch entry naming it with
  // duplicate=false (the batch it was archived from); empty if none.
  std::string batch;
  // The seq of the last entry that changed what the search index shows of
  // it: its ingest, a review decision, a batch entry naming it, a check-out
  // or a return. The index stores it (Doc::version) so that `verify` can
  // tell a stale index entry without any key.
  std::uint64_t changed_seq = 0;
};

// One document of a batch, as its batch entry records it.
struct BatchDocument {
  std::string id;                // the document: sealed from this batch, or already archived
  std::string case_file;         // expediente given by an "EXP:<id>" separator sheet; empty if none
  std::uint32_t first_page = 0;  // 1-based page of the batch where the document starts
  std::uint32_t pages = 0;       // pages of the batch it spans
  bool duplicate = false;        // already archived from another source: not sealed again
};

// What became of a batch: its documents archived, or the batch set aside.
enum class BatchOutcome : std::uint8_t { kArchived = 1, kQuarantined = 2 };

// What a station records about one batch (a file or folder a scanning
// station dropped into a hot folder). Its source, reason and case files are
// in clear in the ledger; nothing in it is document content.
struct BatchRequest {
  // The batch's name as found in the inbox ("scanner-2/lote-0017.pdf"),
  // 1..4096 bytes.
  std::string source;
  // Hex BLAKE2b-256 of the batch's bytes (a folder: of its manifest); empty
  // when it could not be read.
  std::string source_hash;
  BatchOutcome outcome = BatchOutcome::kArchived;
  std::string reason;             // kQuarantined: why, 1..4096 bytes; kArchived: empty
  std::uint32_t pages = 0;        // pages found in the batch, separators and blanks included
  std::uint32_t blank_pages = 0;  // dropped as blank
  std::uint32_t separators = 0;   // separator sheets (dropped)
  // In batch order; empty when it was quarantined before any seal.
  std::vector<BatchDocument> documents;
};

// A batch entry of the ledger. Not to be confused with Vault::Batch, the
// group commit: inside class Vault, name this one vault::Batch.
struct Batch : BatchRequest {
  std::uint64_t seq = 0;  // the batch entry
  std::int64_t micros = 0;
  std::string actor;  // the station that recorded it
};

// A person or station, as the ledger's user entries make them.
struct User {
  std::string name;
  std::vector<Role> roles;  // held now (none once revoked)
  bool revoked = false;
  std::uint64_t added_seq = 0;  // entry that added them
  std::string sign_public_key;  // hex Ed25519 public key
};

// A document out on loan, replayed from check-out and return entries.
struct Loan {
  std::string id;   // the document
  std::string to;   // who has it
  std::string due;  // YYYY-MM-DD
  std::string reason;
  std::string by;         // who checked it out
  std::uint64_t seq = 0;  // the check-out entry
  std::int64_t micros = 0;
};

// One ledger entry, for people reading the log.
struct Event {
  std::uint64_t seq = 0;
  std::int64_t micros = 0;  // UTC
  std::string actor;
  std::string type;    // "ingest", "view", "export", "correction", "checkout", "return",
                       // "user-added", "role-granted", "role-revoked", "user-revoked",
                       // "key-rotation", "checkpoint", "review", "batch"
  std::string detail;  // one line: "D000003 text: show"
};

struct VerifyReport {
  std::uint64_t entries = 0;
  std::uint64_t blobs = 0;
  std::uint64_t users = 0;
  std::uint64_t loans = 0;  // open at the end of the ledger
  // Files in blobs/ that no entry references (left by a crash between a
  // blob write and its entry, or planted). Reported, not an error.
  std::vector<std::string> unreferenced_blobs;
  // Blobs decrypted and checked in full (VerifyDeep only; 0 for Verify).
  std::uint64_t decrypted = 0;
};

// What VerifyCheckpoint (and VerifyProof) established: a checkpoint signed
// by `signer`, a user of this archive, covering the first `size` entries,
// which today's ledger of `current_size` entries extends.
struct CheckpointCheck {
  std::uint64_t size = 0;
  std::uint64_t current_size = 0;
  std::string signer;
};

class Vault {
 public:
  // Creates a new vault in `dir` (which must not exist, or be empty): a fresh
  // archive id and epoch 1 key, and the first identity `first_user`, whose
  // secret keys are stored under `passphrase` (Argon2id), holding the admin,
  // archivist and station roles. The ledger's first entry adds that user and
  // is signed by them. kAlreadyExists if `dir` holds a vault or anything
  // else; kInvalidArgument for a bad user name or an empty passphrase; kIo
  // (and friends) if the file system refuses. Layout: docs/vault_format.md.
  static Status Create(const std::filesystem::path& dir, const std::string& first_user,
                       std::string_view passphrase, const Options& options = {});

  // Opens the vault in `dir`, locking it and replaying the ledger (framing,
  // chain, signatures, roles, loans). Nobody is logged in: the public view
  // (catalog, users, loans, log, Verify) needs no key. kNotFound if there is
  // no vault; kFailedPrecondition if another process (or another Vault in
  // this one) holds it; kCorruption or kTampered if the ledger does not
  // verify (including a checkpoint entry whose root does not match the
  // entries before it); kUnsupported for another format version. An
  // incomplete last entry (a crash mid-append) is cut off, see
  // torn_tail_bytes(); nothing else is ever repaired.
  static Result<Vault> Open(const std::filesystem::path& dir, const Options& options = {});

  // A moved-from Vault may only be destroyed or assigned to.
  Vault(Vault&&) noexcept;
  Vault& operator=(Vault&&) noexcept;
  ~Vault();

  // Acts as `name` from now on: unlocks their signing key with `passphrase`
  // and, when one of their roles needs it (station, archivist, admin), the
  // current epoch key sealed to them. Replaces any earlier login.
  // kPermissionDenied for an unknown or revoked user or a wrong passphrase;
  // kNotFound if their key file is missing; kTampered if the key file or
  // sealed key does not match the ledger.
  Status Login(const std::string& name, std::string_view passphrase);
  // Forgets the logged-in user's keys (wiped).
  void Logout();
  // The logged-in user, or "" when nobody is.
  std::string user() const;
  // Calls `use` with the search index's key for the current key epoch
  // (DeriveKey(epoch key, "custodia index v1"): 32 bytes in secure memory,
  // wiped when `use` returns) and that epoch, and returns what it returns.
  // kPermissionDenied when nobody holding the epoch key (a station,
  // archivist or admin) is logged in.
  Status WithIndexKey(
      const std::function<Status(std::span<const std::uint8_t, 32>, std::uint32_t)>& use) const;

  // Writes users/<name>.key: fresh key pairs for `name`, the secret halves
  // encrypted under `passphrase`. Needs no login: the person does this (so
  // the admin never learns the passphrase), then an admin adds them with
  // AddUser. Returns the hex Ed25519 public key (to compare out of band).
  // kAlreadyExists if the file exists; kInvalidArgument for a bad name
  // (1-32 of a-z 0-9 . _ -, starting with a letter or digit) or an empty
  // passphrase.
  Result<std::string> Enroll(const std::string& name, std::string_view passphrase);

  // Admin: adds the enrolled `name` with `roles` (a user-added entry), and
  // seals the epoch key to them if a role needs it. kNotFound if they did
  // not enroll; kAlreadyExists if they are (or were) a user.
  Status AddUser(const std::string& name, const std::vector<Role>& roles);
  // Admin: grants or revokes one role. kFailedPrecondition if they already
  // hold (do not hold) it, or it would leave no admin.
  Status GrantRole(const std::string& name, Role role);
  Status RevokeRole(const std::string& name, Role role);
  // Admin: revokes `name` for good: their later signatures are refused, and
  // the next key rotation leaves them out. kFailedPrecondition for the last
  // admin.
  Status RevokeUser(const std::string& name);
  std::vector<User> Users() const;

  // Admin: starts a new key epoch. A fresh epoch key is sealed to exactly
  // the active users whose roles need it (revoked users and lost roles are
  // left out); every blob key is unwrapped and rewrapped under it into
  // keys/epoch-<n> without touching any blob; a signed key-rotation entry
  // commits to that file's BLAKE2b. Returns the new epoch number.
  // kTampered if an existing wrapped key does not open; kIo if a write fails
  // (the old epoch stays current then).
  Result<std::uint32_t> RotateKey();

  // Station: encrypts and writes the original and the text, fsyncs them,
  // appends a signed ingest entry and fsyncs the ledger. When this returns,
  // the document is durable. Does not deduplicate: callers ask FindByHash
  // first. kPermissionDenied unless the logged-in user is a station;
  // kInvalidArgument for a negative page count or a record over the
  // ledger's entry limit; kIo if a write fails (nothing is sealed then);
  // kFailedPrecondition after a failed append that could not be undone, or
  // a failed fsync (then every write is refused until the vault is reopened).
  Result<Record> Seal(const SealRequest& request);

  // Hex BLAKE2b-256 of `bytes`, as Record::original_hash holds it.
  static std::string HashHex(std::span<const std::uint8_t> bytes);
  // HashHex of a file's contents, read a piece at a time through `env`
  // (Env::Default() when null); also gives the file's size.
  static Result<std::pair<std::string, std::uint64_t>> HashFileHex(const std::filesystem::path& path,
                                                                 Env* env = nullptr);

  // The record of a document; kNotFound if unknown.
  Result<Record> Find(const std::string& id) const;
  // The document whose original has this hash, if any.
  std::optional<Record> FindByHash(const std::string& original_hash) const;
  // All documents in ledger order.
  std::vector<Record> List() const;

  // Station: records what became of one batch (a batch entry, signed by
  // the logged-in user) and fsyncs it, like Seal (under a Batch, Commit
  // does). Returns the entry's seq. The documents it names must be sealed
  // first. kPermissionDenied unless the logged-in user is a station;
  // kInvalidArgument, with nothing written, for a source outside 1..4096
  // bytes, a source_hash that is neither empty nor 64 hex digits, a reason
  // that is empty for kQuarantined, not empty for kArchived or over 4096
  // bytes, blank_pages + separators > pages, a document that does not
  // exist, has a case_file that is neither empty nor 1..64 bytes of
  // [A-Za-z0-9._/-], or lies outside the batch's pages (first_page >= 1,
  // first_page - 1 + pages <= pages), or an entry over the ledger's entry
  // limit; kIo if the append fails; kFailedPrecondition after a failed
  // append that could not be undone, or a failed fsync.
  Result<std::uint64_t> RecordBatch(const BatchRequest& request);
  // Every batch entry, in ledger order.
  std::vector<vault::Batch> Batches() const;
  // The batch entries that name document `id`, in ledger order (its case
  // files are Record::case_files). kNotFound for an unknown id.
  Result<std::vector<vault::Batch>> BatchesOf(const std::string& id) const;

  // Archivist: decrypts a document's original or text, appends a view entry
  // (signed by the reader, naming the artefact and `purpose`) and fsyncs
  // it, and only then returns the plaintext. kPermissionDenied unless the
  // logged-in user is an archivist; kNotFound if the id is unknown;
  // kTampered if its blob is missing, altered or relabelled, or (original)
  // its plaintext does not match original_hash; kCorruption if the blob is
  // malformed; kIo if the view entry cannot be made durable (no plaintext
  // is returned then).
  Result<std::vector<std::uint8_t>> ReadOriginal(const std::string& id, std::string_view purpose);
  Result<std::string> ReadText(const std::string& id, std::string_view purpose);
  // Archivist: what classify found (the "fields" artefact, a JSON object;
  // empty if the document was sealed without one) and every review of the
  // document with its values opened: one read, logged as a view of its
  // fields before anything is returned. kTampered if review values do not
  // open.
  Result<FieldsRead> ReadFields(const std::string& id, std::string_view purpose);
  // Archivist: ReadText for several documents at once (search snippets):
  // one view entry each, made durable together with one fsync before any
  // text is returned (with a Batch open too). All or nothing: the first
  // error is returned and no text is; entries logged before it stay logged.
  Result<std::vector<std::string>> ReadTexts(const std::vector<std::string>& ids,
                                             std::string_view purpose);

  // Group commit. While a Batch is open, each append (a seal, a check-out, a
  // return, a correction, ...) is checked, written and applied at once, but
  // its fsync is left to Commit, which makes every one of them durable with
  // a single fsync: what an event costs is then mostly its signature, not
  // the disk. The caller must not report or act on an append made under a
  // batch before Commit has returned OK; a crash before that may lose them
  // (Open then cuts what is torn), never anything committed earlier. Reads
  // and exports are still made durable before they return plaintext (which
  // also makes durable every append before them). One Batch at a time.
  class Batch {
   public:
    explicit Batch(Vault& vault);
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    // Without a Commit, appends made under it become durable with the next
    // fsync of the ledger (any later append outside a batch), or are lost
    // in a crash before that; they were never to be acknowledged.
    ~Batch();
    // One fsync for every append since the batch began; the batch ends.
    // kIo if the ledger cannot be synced (PosixEnv aborts the process; with
    // an Env that reports it, the Vault refuses writes until reopened).
    Status Commit();

   private:
    Vault* vault_;
  };
  // Archivist: as ReadOriginal/ReadText, logged as an export (the bytes
  // leave the archive).
  Result<std::vector<std::uint8_t>> Export(const std::string& id, Artefact artefact,
                                           std::string_view purpose);

  // Archivist: records a review decision on document `id`: a field set, the
  // type set, or approval, with the type and status it leaves. `values`
  // (what was typed: the caller's JSON) is document content: it is sealed
  // in the entry under a key derived from the document's text key, never in
  // clear; it is required for kSetField and kSetType and must be empty for
  // kApprove. kNotFound for an unknown id; kInvalidArgument for an action
  // without what it needs, or a status other than "review" or "approved".
  Status Review(const std::string& id, ReviewAction action, const std::string& field,
                const std::string& type, const std::string& status, std::string_view values);
  // (ReadFields opens the values again.)

  // Archivist: checks document `id` out to `to` until `due` (YYYY-MM-DD).
  // kFailedPrecondition if it is already on loan (naming the holder and due
  // date); kInvalidArgument for a bad date or an empty `to`.
  Status Checkout(const std::string& id, const std::string& to, const std::string& due,
                  const std::string& reason);
  // Archivist: records the return of `id`. kFailedPrecondition if it is not
  // on loan.
  Status Return(const std::string& id, const std::string& note);
  // The loan book: documents out on loan, in check-out order.
  std::vector<Loan> Loans() const;
  // Loans due before `today` (YYYY-MM-DD). kInvalidArgument for a bad date.
  Result<std::vector<Loan>> Overdue(const std::string& today) const;

  // Any logged-in user (auditors included): records that a checkpoint of the
  // first `tree_size` entries with Merkle root `root` (32 bytes) was issued.
  // kInvalidArgument for a size beyond the ledger, or a root that is not the
  // ledger's root at that size. IssueCheckpoint is the usual way.
  Status RecordCheckpoint(std::uint64_t tree_size, std::span<const std::uint8_t> root);

  // --- Checkpoints and proofs (docs/vault_format.md, "Merkle tree,
  // checkpoints and proofs"). The ledger's entries are the leaves of an
  // RFC 6962 Merkle tree (SHA-256); checkpoints and proofs are C2SP
  // tlog-checkpoint signed notes and tlog-proof files, so generic tlog
  // tools can check them too.

  // The checkpoint origin of this archive:
  // "custodia.local/archive/<first 16 hex digits of archive_id()>".
  std::string origin() const;

  // Any logged-in user (any role; an auditor holds a signing key but no
  // decryption key): signs a checkpoint of the ledger as it is now (size =
  // entry_count(), root = the Merkle root of all entries) as a signed note,
  // under the key name "<origin>/<user>" with the user's Ed25519 ledger key,
  // then appends a checkpoint entry recording that size and root, and
  // returns the note (to be kept outside the archive). The entry itself is
  // therefore not covered by the note it records. kPermissionDenied if
  // nobody (or a revoked user) is logged in; kIo if the entry cannot be
  // made durable (no note is returned then).
  Result<std::string> IssueCheckpoint();

  // The signed-note verifier key of `user`'s checkpoints,
  // "<origin>/<user>+<key id>+<base64 key>", for tools outside custodia.
  // Needs no login. kNotFound for someone who never was a user.
  Result<std::string> VerifierKey(const std::string& user) const;

  // Any logged-in user: the inclusion proof of document `id`'s ingest entry
  // (leaf seq - 1) as a c2sp.org/tlog-proof@v1 file, against a checkpoint
  // of the ledger as it is now, freshly signed as IssueCheckpoint does but
  // NOT recorded in the ledger (a proof writes nothing). kNotFound for an
  // unknown id; kPermissionDenied as IssueCheckpoint.
  Result<std::string> Prove(const std::string& id);

  // Checks a checkpoint saved earlier against the ledger as this Vault read
  // and wrote it. Needs no key and no login. The note is parsed strictly
  // (kCorruption if malformed); it must carry a valid signature under
  // "<origin>/<user>" by a user the ledger knows (revoked ones included:
  // their old checkpoints stay valid) and name this archive's origin
  // (kTampered otherwise); its size must not exceed entry_count()
  // (kTampered, "the ledger is shorter than a checkpoint saved earlier:
  // truncated or rolled back"); and an RFC 9162 consistency proof from its
  // size to today's, built from the ledger, must verify from its root to
  // today's (kTampered: an entry it covers was changed, or the ledger was
  // rolled back and rewritten).
  Result<CheckpointCheck> VerifyCheckpoint(std::string_view note) const;

  // Checks a Prove output for document `id`: its checkpoint as
  // VerifyCheckpoint does, then that its audit path leads from the leaf
  // hash of `id`'s ingest entry (as today's ledger holds it) to the
  // checkpoint's root. kNotFound for an unknown id; kCorruption for a
  // malformed file; kTampered if it is for another leaf or does not verify.
  Result<CheckpointCheck> VerifyProof(std::string_view proof, const std::string& id) const;

  // The ledger, one line per entry, for people.
  std::vector<Event> Log() const;
  // The number of entries, and the complete bytes of entry `index` (0-based;
  // entry seq index + 1), as the Merkle tree's leaves hash them. The span is
  // valid until the next append. REQUIRES: index < entry_count().
  std::size_t entry_count() const;
  std::span<const std::uint8_t> entry_bytes(std::size_t index) const;
  // Hex of the archive's random id (the checkpoint origin's anchor).
  std::string archive_id() const;

  // Re-reads the whole ledger and replays it: framing, sequence, hash
  // chain, every signature against the signer's key, that each signer held
  // the role at that point, loans, and that every checkpoint entry records
  // a size below its own position and the Merkle root the entries before it
  // really have at that size; then that every referenced blob exists,
  // hashes to its name and is well formed. Needs no key and no login. The
  // first defect is the error (naming the entry or blob); unreferenced
  // blobs are listed in the report.
  Result<VerifyReport> Verify() const;

  // Everything Verify does, then decrypts every blob of every document
  // (original and text) in full with the current epoch's wrapped keys:
  // every chunk's tag, the final tag and nothing after it, the plaintext
  // size the entry records, and the original's hash against
  // original_hash. Plaintext is wiped as soon as it is checked and never
  // returned, so nothing is read out of the archive; the ledger is not
  // written (docs/vault_format.md, "Deep verification").
  // kPermissionDenied unless the logged-in user holds the archivist or
  // admin role (and so the epoch key); kTampered or kCorruption naming the
  // first blob that does not decrypt or does not match.
  Result<VerifyReport> VerifyDeep() const;

  // Bytes of an incomplete last ledger entry (an append interrupted by a
  // crash) that Open cut off; 0 normally. Nothing acknowledged is lost by
  // the cut, since appends return only after the whole entry is synced, but
  // callers should log it.
  std::uint64_t torn_tail_bytes() const;

 private:
  struct Impl;
  explicit Vault(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custodia::vault

#endif  // CUSTODIA_VAULT_VAULT_H_
