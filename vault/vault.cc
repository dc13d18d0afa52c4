// vault/vault.cc: the Vault: directory layout, sealing, reading, opening and
// verifying. File formats live in blob.cc, ledger.cc and record.cc; this
// file decides what is written where, in which order.
#include "vault/vault.h"

#include <cctype>
#include <cstdio>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "vault/blob.h"
#include "vault/crypto.h"
#include "vault/ledger.h"
#include "vault/record.h"

namespace custodia::vault {
namespace {

namespace fs = std::filesystem;

constexpr char kFormatFile[] = "FORMAT";
constexpr char kKeyFile[] = "archive.key";
constexpr char kLedgerFile[] = "ledger";
constexpr char kLockFile[] = "LOCK";
constexpr char kBlobDir[] = "blobs";
constexpr std::string_view kFormatPrefix = "custodia-vault-format ";
constexpr int kFormatVersion = 1;

std::string FormatLine() {
  return std::string(kFormatPrefix) + std::to_string(kFormatVersion) + "\n";
}

std::span<const std::uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// "D000001": documents are numbered from 1 in ledger order.
std::string DocId(std::uint64_t number) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "D%06llu", static_cast<unsigned long long>(number));
  return buf;
}

std::string EntryWhere(const Entry& entry) {
  return "vault: entry " + std::to_string(entry.seq) + " at offset " + std::to_string(entry.offset);
}

fs::path BlobPath(const fs::path& dir, const Hash& name) {
  const std::string hex = Hex(name);
  return dir / kBlobDir / hex.substr(0, 2) / hex;
}

// Decodes the payloads of all entries of `scan` and checks that documents
// are numbered 1, 2, ... in ledger order.
Result<std::vector<IngestEntry>> DecodeEntries(const LedgerScan& scan) {
  std::vector<IngestEntry> out;
  out.reserve(scan.entries.size());
  for (const Entry& entry : scan.entries) {
    // EntryType::kIngest is the only type so far; ScanLedger rejects others.
    auto decoded = DecodeIngest(entry.payload);
    if (!decoded) return Wrap(decoded.error(), EntryWhere(entry));
    const std::string want = DocId(out.size() + 1);
    if (decoded->doc_id != want) {
      return Fail(Code::kCorruption,
                  EntryWhere(entry) + ": document id " + decoded->doc_id + ", expected " + want);
    }
    out.push_back(std::move(decoded).value());
  }
  return out;
}

// Checks the FORMAT file. kUnsupported for another format version.
Status CheckFormat(Env* env, const fs::path& dir) {
  const fs::path path = dir / kFormatFile;
  auto bytes = env->ReadFile(path);
  if (!bytes) return Wrap(bytes.error(), "vault");
  const std::string text(bytes->begin(), bytes->end());
  if (text == FormatLine()) return Ok();
  if (text.starts_with(kFormatPrefix)) {
    return Fail(Code::kUnsupported, "vault: " + dir.string() + ": vault format " +
                                        text.substr(kFormatPrefix.size(), 8) +
                                        " is not supported by this custodia (it reads format " +
                                        std::to_string(kFormatVersion) + ")");
  }
  return Fail(Code::kCorruption, "vault: " + path.string() + ": not a custodia format file");
}

// Reads the archive key file into secure memory, wiping the ordinary
// buffer it passed through on every path.
Result<SecretKey> ReadArchiveKey(Env* env, const fs::path& dir) {
  const fs::path path = dir / kKeyFile;
  auto bytes = env->ReadFile(path);
  if (!bytes) return Wrap(bytes.error(), "vault: archive key");
  auto key = SecretKey::FromBytes(*bytes);
  Wipe(*bytes);
  if (!key) return Wrap(key.error(), "vault: " + path.string());
  return key;
}

// Whether `dir` holds anything but a LOCK file.
Result<bool> HasContents(Env* env, const fs::path& dir) {
  auto names = env->ListDir(dir);
  if (!names) return Wrap(names.error(), "vault");
  for (const std::string& name : *names) {
    if (name != kLockFile) return true;
  }
  return false;
}

// Refuses a `dir` that holds a vault or anything else.
Status CheckFreshDir(Env* env, const fs::path& dir) {
  if (env->Exists(dir / kFormatFile)) {
    return Fail(Code::kAlreadyExists, "vault: " + dir.string() +
                                          ": already holds a vault; open it, or choose another "
                                          "directory");
  }
  CU_ASSIGN_OR_RETURN(const bool busy, HasContents(env, dir));
  if (busy) {
    return Fail(Code::kAlreadyExists,
                "vault: " + dir.string() + ": directory is not empty; choose a new or empty one");
  }
  return Ok();
}

}  // namespace

// One sealed document: its ledger entry and the public record made from it.
struct SealedDoc {
  IngestEntry entry;
  Record record;
};

struct Vault::Impl {
  Impl(fs::path d, Env* e, std::unique_ptr<FileLock> l, SecretKey k)
      : dir(std::move(d)), env(e), lock(std::move(l)), archive_key(std::move(k)) {}

  // Adds a document whose entry is durable to the in-memory catalog.
  void Add(IngestEntry entry, std::uint64_t seq) {
    Record record = ToRecord(entry, seq);
    const std::size_t index = docs.size();
    by_id.emplace(record.id, index);
    by_hash.emplace(record.original_hash, index);  // the first seal of a hash wins
    docs.push_back(SealedDoc{std::move(entry), std::move(record)});
  }

  const SealedDoc* FindDoc(const std::string& id) const {
    auto it = by_id.find(id);
    return it == by_id.end() ? nullptr : &docs[it->second];
  }

  // Encrypts `plaintext` under a fresh key and writes it durably as a blob.
  // Returns its name and its key wrapped under the archive key.
  Result<std::pair<Hash, WrappedKey>> WriteBlob(const BlobLabel& label,
                                                std::span<const std::uint8_t> plaintext) {
    CU_ASSIGN_OR_RETURN(SecretKey key, SecretKey::Random());
    const Bytes blob = EncodeBlob(label, plaintext, key);
    const Hash name = HashBytes(blob);
    const WrappedKey wrapped = WrapKey(key, archive_key, name);
    const fs::path path = BlobPath(dir, name);
    const fs::path parent = path.parent_path();
    if (!env->Exists(parent)) {
      // The new fan-out directory must be durable before the blob in it is.
      Status made = env->CreateDir(parent);
      if (made) made = env->SyncDir(dir / kBlobDir);
      if (!made) return Wrap(made.error(), "vault: blob " + Hex(name));
    }
    Status written = env->WriteFileAtomic(path, blob);
    if (!written) return Wrap(written.error(), "vault: blob " + Hex(name));
    return std::pair{name, wrapped};
  }

  // Checks what needs no key: the blob exists, hashes to its name, and is
  // shaped as its label promises.
  Result<Bytes> ReadCheckedBlob(const Hash& name, const BlobLabel& label, std::uint64_t seq) const {
    const std::string where = "vault: blob " + Hex(name);
    const fs::path path = BlobPath(dir, name);
    if (!env->Exists(path)) {
      return Fail(Code::kTampered, where + ": missing, referenced by entry " + std::to_string(seq));
    }
    auto bytes = env->ReadFile(path);
    if (!bytes) return Wrap(bytes.error(), where);
    if (!HashEquals(HashBytes(*bytes), name)) {
      return Fail(Code::kTampered,
                  where + ": hash mismatch, referenced by entry " + std::to_string(seq));
    }
    Status shape = CheckBlobShape(*bytes, label);
    if (!shape) return Wrap(shape.error(), where);
    return bytes;
  }

  // Reads, checks and decrypts one of a document's blobs.
  Result<Bytes> ReadBlob(const SealedDoc& doc, BlobKind kind) const {
    const bool original = kind == BlobKind::kOriginal;
    const Hash& name = original ? doc.entry.original_blob : doc.entry.text_blob;
    const WrappedKey& wrapped = original ? doc.entry.original_key : doc.entry.text_key;
    const BlobLabel label{doc.entry.doc_id, kind,
                          original ? doc.entry.original_size : doc.entry.text_size};
    CU_ASSIGN_OR_RETURN(Bytes blob, ReadCheckedBlob(name, label, doc.record.seq));
    const std::string where = "vault: blob " + Hex(name);
    auto key = UnwrapKey(wrapped, archive_key, name);
    if (!key) return Wrap(key.error(), where + " (entry " + std::to_string(doc.record.seq) + ")");
    auto plaintext = DecodeBlob(blob, label, *key);
    if (!plaintext) return Wrap(plaintext.error(), where);
    return plaintext;
  }

  // Members are destroyed in reverse order: the lock is released last,
  // after the ledger is closed and the key wiped.
  const fs::path dir;
  Env* const env;
  std::unique_ptr<FileLock> lock;
  SecretKey archive_key;
  LedgerHeader header;
  std::unique_ptr<AppendableFile> ledger;
  std::uint64_t ledger_size = 0;  // bytes of header and complete entries
  std::uint64_t next_seq = 1;
  Hash last_hash{};  // of the last entry, or the header's hash
  std::vector<SealedDoc> docs;
  std::unordered_map<std::string, std::size_t> by_id;
  std::unordered_map<std::string, std::size_t> by_hash;
  std::uint64_t torn_tail_bytes = 0;
  // Set when a failed append could not be rolled back: the ledger's tail is
  // unknown, so further appends are refused until the vault is reopened
  // (and Open cuts or rejects the tail).
  bool broken = false;
};

Vault::Vault(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Vault::Vault(Vault&&) noexcept = default;
Vault& Vault::operator=(Vault&&) noexcept = default;
Vault::~Vault() = default;

Status Vault::Create(const fs::path& dir, const Options& options) {
  CU_TRY(InitCrypto());
  Env* env = options.env;
  CU_CHECK(env != nullptr);
  if (env->Exists(dir)) CU_TRY(CheckFreshDir(env, dir));
  Status made = env->CreateDir(dir);
  if (!made) return Wrap(made.error(), "vault");
  auto lock = env->LockFile(dir / kLockFile);
  if (!lock) return Wrap(lock.error(), "vault");
  // Again under the lock: a concurrent Create may have got here first.
  CU_TRY(CheckFreshDir(env, dir));

  // Order matters for crash safety: FORMAT is written last, so a directory
  // without it was never a usable vault (Open says kNotFound and Create
  // refuses it as not empty; remove it by hand and retry).
  Status s = env->CreateDir(dir / kBlobDir);
  CU_ASSIGN_OR_RETURN(const SecretKey key, SecretKey::Random());
  // WARNING: this writes the archive key in clear beside the data it
  // protects. Issue 3 replaces this file with passphrase-wrapped key epochs.
  if (s) s = env->WriteFileAtomic(dir / kKeyFile, key.bytes());
  Hash archive_id;
  RandomBytes(archive_id);
  const Bytes header = EncodeLedgerHeader(archive_id, KeyId(key), nullptr);
  if (s) s = env->WriteFileAtomic(dir / kLedgerFile, header);
  if (s) s = env->WriteFileAtomic(dir / kFormatFile, AsBytes(FormatLine()));
  // WriteFileAtomic synced `dir`; its own entry lives in the parent.
  const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
  if (s) s = env->SyncDir(parent);
  if (!s) return Wrap(s.error(), "vault: create " + dir.string());
  return Ok();
}

Result<Vault> Vault::Open(const fs::path& dir, const Options& options) {
  CU_TRY(InitCrypto());
  Env* env = options.env;
  CU_CHECK(env != nullptr);
  if (!env->Exists(dir / kFormatFile)) {
    return Fail(Code::kNotFound,
                "vault: " + dir.string() + ": no vault here; create one with custodia init");
  }
  auto lock = env->LockFile(dir / kLockFile);
  if (!lock) return Wrap(lock.error(), "vault");
  CU_TRY(CheckFormat(env, dir));
  CU_ASSIGN_OR_RETURN(SecretKey key, ReadArchiveKey(env, dir));

  const fs::path ledger_path = dir / kLedgerFile;
  auto bytes = env->ReadFile(ledger_path);
  if (!bytes) return Wrap(bytes.error(), "vault: ledger");
  CU_ASSIGN_OR_RETURN(LedgerScan scan, ScanLedger(*bytes, TailPolicy::kCutTorn));
  if (!HashEquals(scan.header.key_id, KeyId(key))) {
    return Fail(Code::kPermissionDenied, "vault: " + (dir / kKeyFile).string() +
                                             ": not the key of this vault; restore the vault's "
                                             "own key file");
  }
  CU_ASSIGN_OR_RETURN(std::vector<IngestEntry> entries, DecodeEntries(scan));

  // A crash during an append leaves a partial last entry. Seal had not
  // returned for it, so cutting it loses nothing that was acknowledged;
  // anything wrong before it was rejected above and is never repaired.
  const std::uint64_t torn = bytes->size() - scan.end;
  if (torn > 0) {
    Status cut = env->Truncate(ledger_path, scan.end);
    if (!cut) return Wrap(cut.error(), "vault: cutting a torn ledger tail");
  }
  auto file = env->NewAppendableFile(ledger_path);
  if (!file) return Wrap(file.error(), "vault: ledger");

  auto impl = std::make_unique<Impl>(dir, env, std::move(lock).value(), std::move(key));
  impl->header = scan.header;
  impl->ledger = std::move(file).value();
  impl->ledger_size = scan.end;
  impl->torn_tail_bytes = torn;
  impl->last_hash = scan.entries.empty() ? scan.header.hash : scan.entries.back().hash;
  impl->next_seq = scan.entries.size() + 1;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    impl->Add(std::move(entries[i]), scan.entries[i].seq);
  }
  return Vault(std::move(impl));
}

Result<Record> Vault::Seal(const SealRequest& request) {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  if (im.broken) {
    return Fail(Code::kFailedPrecondition,
                "vault: an earlier ledger write failed and could not be undone; reopen the vault");
  }
  if (request.pages < 0) return Fail(Code::kInvalidArgument, "vault: seal: negative page count");

  IngestEntry e;
  e.doc_id = DocId(im.docs.size() + 1);
  e.sealed_micros = im.env->NowMicros();
  e.actor = request.actor;
  e.source = request.source;
  e.pages = static_cast<std::uint32_t>(request.pages);
  e.type = request.type;
  e.status = request.status;
  e.fields_json = request.fields_json;
  e.original_size = request.original.size();
  e.original_hash = HashBytes(request.original);
  e.text_size = request.text.size();
  // The payload's size does not depend on the blobs: refuse an oversized
  // record before writing anything.
  if (EncodeIngest(e).size() > kMaxPayloadSize) {
    return Fail(Code::kInvalidArgument, "vault: seal: record of " + request.source +
                                            " is larger than the ledger's entry limit");
  }

  // Crash safety: both blobs are durable before the entry that names them
  // is appended; the entry is durable before we return. A crash in between
  // leaves at most unreferenced blobs, never an entry without its blobs.
  CU_ASSIGN_OR_RETURN(
      std::tie(e.original_blob, e.original_key),
      im.WriteBlob(BlobLabel{e.doc_id, BlobKind::kOriginal, e.original_size}, request.original));
  CU_ASSIGN_OR_RETURN(
      std::tie(e.text_blob, e.text_key),
      im.WriteBlob(BlobLabel{e.doc_id, BlobKind::kText, e.text_size}, AsBytes(request.text)));

  const EncodedEntry encoded =
      EncodeEntry(EntryType::kIngest, im.next_seq, im.last_hash, EncodeIngest(e));
  Status appended = im.ledger->Append(encoded.bytes);
  if (appended) appended = im.ledger->Sync();
  if (!appended) {
    // Undo a partial append so the next one does not land after garbage.
    if (!im.env->Truncate(im.dir / kLedgerFile, im.ledger_size)) im.broken = true;
    return Wrap(appended.error(), "vault: ledger append");
  }
  im.ledger_size += encoded.bytes.size();
  im.last_hash = encoded.hash;
  const std::uint64_t seq = im.next_seq++;
  im.Add(std::move(e), seq);
  return im.docs.back().record;
}

std::string Vault::HashHex(std::span<const std::uint8_t> bytes) { return Hex(HashBytes(bytes)); }

Result<Record> Vault::Find(const std::string& id) const {
  CU_CHECK(impl_ != nullptr);
  const SealedDoc* doc = impl_->FindDoc(id);
  if (doc == nullptr) return Fail(Code::kNotFound, "vault: no document " + id);
  return doc->record;
}

std::optional<Record> Vault::FindByHash(const std::string& original_hash) const {
  CU_CHECK(impl_ != nullptr);
  std::string key = original_hash;
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = impl_->by_hash.find(key);
  if (it == impl_->by_hash.end()) return std::nullopt;
  return impl_->docs[it->second].record;
}

std::vector<Record> Vault::List() const {
  CU_CHECK(impl_ != nullptr);
  std::vector<Record> out;
  out.reserve(impl_->docs.size());
  for (const SealedDoc& doc : impl_->docs) out.push_back(doc.record);
  return out;
}

Result<std::vector<std::uint8_t>> Vault::ReadOriginal(const std::string& id) const {
  CU_CHECK(impl_ != nullptr);
  const SealedDoc* doc = impl_->FindDoc(id);
  if (doc == nullptr) return Fail(Code::kNotFound, "vault: no document " + id);
  CU_ASSIGN_OR_RETURN(Bytes plaintext, impl_->ReadBlob(*doc, BlobKind::kOriginal));
  // Defence in depth: the blob authenticated, and it must also be the very
  // file that was sealed.
  if (!HashEquals(HashBytes(plaintext), doc->entry.original_hash)) {
    return Fail(Code::kTampered, "vault: " + id + ": original does not match its recorded hash");
  }
  return plaintext;
}

Result<std::string> Vault::ReadText(const std::string& id) const {
  CU_CHECK(impl_ != nullptr);
  const SealedDoc* doc = impl_->FindDoc(id);
  if (doc == nullptr) return Fail(Code::kNotFound, "vault: no document " + id);
  CU_ASSIGN_OR_RETURN(Bytes plaintext, impl_->ReadBlob(*doc, BlobKind::kText));
  return std::string(plaintext.begin(), plaintext.end());
}

Result<VerifyReport> Vault::Verify() const {
  CU_CHECK(impl_ != nullptr);
  const Impl& im = *impl_;
  auto bytes = im.env->ReadFile(im.dir / kLedgerFile);
  if (!bytes) return Wrap(bytes.error(), "vault: ledger");
  // Strict: Open already cut any torn tail, and we hold the lock, so every
  // byte of the file must belong to a complete entry.
  CU_ASSIGN_OR_RETURN(const LedgerScan scan, ScanLedger(*bytes, TailPolicy::kStrict));
  if (!HashEquals(scan.header.hash, im.header.hash)) {
    return Fail(Code::kTampered, "vault: ledger header: replaced since the vault was opened");
  }
  const std::uint64_t known = im.next_seq - 1;
  if (scan.entries.size() != known) {
    return Fail(Code::kTampered, "vault: ledger holds " + std::to_string(scan.entries.size()) +
                                     " entries, but " + std::to_string(known) +
                                     " were read or written since the vault was opened");
  }
  if (known > 0 && !HashEquals(scan.entries.back().hash, im.last_hash)) {
    return Fail(Code::kTampered, "vault: ledger rewritten since the vault was opened (entry " +
                                     std::to_string(known) + " differs)");
  }
  CU_ASSIGN_OR_RETURN(const std::vector<IngestEntry> entries, DecodeEntries(scan));

  VerifyReport report;
  report.entries = scan.entries.size();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const IngestEntry& e = entries[i];
    const std::uint64_t seq = scan.entries[i].seq;
    CU_TRY(im.ReadCheckedBlob(e.original_blob,
                              BlobLabel{e.doc_id, BlobKind::kOriginal, e.original_size}, seq));
    CU_TRY(im.ReadCheckedBlob(e.text_blob, BlobLabel{e.doc_id, BlobKind::kText, e.text_size}, seq));
    report.blobs += 2;
  }
  return report;
}

std::uint64_t Vault::torn_tail_bytes() const {
  CU_CHECK(impl_ != nullptr);
  return impl_->torn_tail_bytes;
}

}  // namespace custodia::vault
