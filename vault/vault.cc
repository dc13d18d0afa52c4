// vault/vault.cc: the Vault: directory layout, sealing, reading, opening and
// verifying, people and their keys, reads that are logged, loans. File
// formats live in blob.cc, ledger.cc, record.cc and identity.cc; what the
// ledger means is replay.cc's; this file decides what is written where, in
// which order, and who may ask for it.
#include "vault/vault.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <cstdio>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include "vault/blob.h"
#include "vault/checkpoint.h"
#include "vault/crypto.h"
#include "vault/identity.h"
#include "vault/ledger.h"
#include "vault/merkle.h"
#include "vault/record.h"
#include "vault/replay.h"

namespace custodia::vault {
namespace {

namespace fs = std::filesystem;

constexpr char kFormatFile[] = "FORMAT";
constexpr char kUsersDir[] = "users";
constexpr char kKeysDir[] = "keys";
constexpr std::string_view kKeyFileMagic = "CUSTKEYS";
constexpr std::uint32_t kKeyFileVersion = 2;  // 1: a pair of keys per document
constexpr std::size_t kKeyFileHeaderSize = 8 + 4 + 4 + 8;
constexpr char kLedgerFile[] = "ledger";
constexpr char kLockFile[] = "LOCK";
constexpr char kBlobDir[] = "blobs";
// Where a blob is written before its name (its hash) is known.
constexpr char kTmpDir[] = "tmp";
// Blobs from this size on are encrypted and hashed on two threads.
constexpr std::size_t kPipelineMinBytes = 4 << 20;
// Bytes written to a blob between two writeback requests.
constexpr std::uint64_t kWritebackBytes = 8 << 20;
constexpr std::string_view kFormatPrefix = "custodia-vault-format ";
constexpr int kFormatVersion = 2;

std::string FormatLine() {
  return std::string(kFormatPrefix) + std::to_string(kFormatVersion) + "\n";
}

std::span<const std::uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

fs::path BlobPath(const fs::path& dir, const Hash& name) {
  const std::string hex = Hex(name);
  return dir / kBlobDir / hex.substr(0, 2) / hex;
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

// "a, b, c".
std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

fs::path KeyFilePath(const fs::path& dir, std::uint32_t epoch) {
  char name[32];
  std::snprintf(name, sizeof name, "epoch-%06u", epoch);
  return dir / kKeysDir / name;
}

// keyfile := magic:8 version:u32le epoch:u32le count:u64le wrapped_key:72{count}
// The blob keys of the documents the rotation covered, in ledger order, each
// document's in BlobsOf order (original, text, then its extras).
Bytes EncodeKeyFile(std::uint32_t epoch, const std::vector<WrappedKey>& keys) {
  Bytes out;
  out.reserve(kKeyFileHeaderSize + keys.size() * kWrappedKeySize);
  out.insert(out.end(), kKeyFileMagic.begin(), kKeyFileMagic.end());
  for (std::uint64_t v : {std::uint64_t{kKeyFileVersion}, std::uint64_t{epoch}}) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  const std::uint64_t count = keys.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(count >> (8 * i)));
  for (const WrappedKey& k : keys) out.insert(out.end(), k.begin(), k.end());
  return out;
}

Result<std::vector<WrappedKey>> DecodeKeyFile(std::span<const std::uint8_t> bytes,
                                              std::uint32_t epoch, std::uint64_t count) {
  auto u = [&](std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = v << 8 | bytes[at + static_cast<std::size_t>(i)];
    return v;
  };
  if (bytes.size() != kKeyFileHeaderSize + count * kWrappedKeySize ||
      !std::equal(kKeyFileMagic.begin(), kKeyFileMagic.end(), bytes.begin()) ||
      u(8, 4) != kKeyFileVersion || u(12, 4) != epoch || u(16, 8) != count) {
    return Fail(Code::kCorruption, "malformed key file");
  }
  std::vector<WrappedKey> out(count);
  std::size_t at = kKeyFileHeaderSize;
  for (WrappedKey& k : out) {
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(at), kWrappedKeySize, k.begin());
    at += kWrappedKeySize;
  }
  return out;
}

// The checkpoint origin: "custodia.local/archive/" and the first 16 hex
// digits (64 bits) of the archive id.
std::string OriginOf(const LedgerHeader& header) {
  return "custodia.local/archive/" + Hex(header.archive_id).substr(0, 16);
}

// The signed-note key name under which `user` signs this archive's
// checkpoints. User names hold no space and no '+', so it is a valid one.
std::string KeyNameOf(const LedgerHeader& header, const std::string& user) {
  return OriginOf(header) + "/" + user;
}

// The Merkle tree's leaf for a ledger entry: its complete bytes as on disk.
// Threads that check the Ed25519 signatures of a replay: one per core.
int VerifyThreads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

// Runs check(0) .. check(n - 1) on `threads` threads and returns the
// failure of the lowest i that failed (every check below it ran and
// passed), as one loop in order would. Checks above a known failure are
// skipped. `check` must be safe to call from several threads at once.
Status CheckAllInOrder(std::size_t n, int threads, const std::function<Status(std::size_t)>& check) {
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::size_t failed_at = n;  // guarded by mu
  Status failure = Ok();      // guarded by mu
  auto work = [&] {
    for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (i > failed_at) return;
      }
      Status s = check(i);
      if (!s) {
        std::lock_guard<std::mutex> lock(mu);
        if (i < failed_at) {
          failed_at = i;
          failure = std::move(s);
        }
      }
    }
  };
  std::vector<std::thread> pool;
  const std::size_t helpers = n < 16 ? 0 : static_cast<std::size_t>(std::max(threads, 1)) - 1;
  for (std::size_t w = 0; w < helpers; ++w) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  return failure;
}

tlog::Hash LeafOf(std::span<const std::uint8_t> entry_bytes) { return tlog::LeafHash(entry_bytes); }

// Checks that a checkpoint entry records the root `tree` (holding the
// leaves of the entries before it) has at the recorded size.
// REQUIRES: replay accepted the entry (its payload decodes, its size is
// below its own sequence number, hence within the tree).
Status CheckRecordedRoot(const Entry& entry, const tlog::MerkleTree& tree) {
  if (entry.type != EntryType::kCheckpoint) return Ok();
  auto e = DecodeCheckpoint(entry.payload);
  CU_CHECK(e.has_value());
  auto root = tree.Root(e->tree_size);
  CU_CHECK(root.has_value());
  if (!tlog::HashEquals(*root, e->root)) {
    return Fail(Code::kTampered, "vault: entry " + std::to_string(entry.seq) + " at offset " +
                                     std::to_string(entry.offset) + ": checkpoint root of " +
                                     std::to_string(e->tree_size) +
                                     " entries does not match the ledger's");
  }
  return Ok();
}

fs::path UserKeyPath(const fs::path& dir, const std::string& name) {
  return dir / kUsersDir / (name + ".key");
}

std::uint8_t RoleBits(const std::vector<Role>& roles) {
  std::uint8_t bits = 0;
  for (Role r : roles) bits |= static_cast<std::uint8_t>(r);
  return bits;
}

std::vector<Role> RolesOf(std::uint8_t bits) {
  std::vector<Role> out;
  for (Role r : {Role::kStation, Role::kArchivist, Role::kAuditor, Role::kAdmin}) {
    if ((bits & static_cast<std::uint8_t>(r)) != 0) out.push_back(r);
  }
  return out;
}

Status CheckNewUser(const std::string& name, std::string_view passphrase) {
  if (!ValidUserName(name)) {
    return Fail(Code::kInvalidArgument,
                "vault: user name \"" + name +
                    "\": use 1-32 of a-z 0-9 . _ -, starting with a letter or digit");
  }
  if (passphrase.empty()) {
    return Fail(Code::kInvalidArgument, "vault: an empty passphrase is not accepted");
  }
  return Ok();
}

// Writes `users/<name>.key` for a fresh identity; returns the identity.
Result<Identity> WriteNewIdentity(Env* env, const fs::path& dir, const std::string& name,
                                  std::string_view passphrase) {
  CU_ASSIGN_OR_RETURN(Identity identity, NewIdentity());
  CU_ASSIGN_OR_RETURN(const Bytes file, EncodeUserKeyFile(name, identity, passphrase));
  Status s = env->CreateDir(dir / kUsersDir);
  if (s) s = env->WriteFileAtomic(UserKeyPath(dir, name), file);
  if (!s) return Wrap(s.error(), "vault: key file of " + name);
  return identity;
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kStation:
      return "station";
    case Role::kArchivist:
      return "archivist";
    case Role::kAuditor:
      return "auditor";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

Result<Role> ParseRole(const std::string& name) {
  for (Role r : {Role::kStation, Role::kArchivist, Role::kAuditor, Role::kAdmin}) {
    if (name == RoleName(r)) return r;
  }
  return Fail(Code::kInvalidArgument,
              "vault: unknown role \"" + name + "\"; roles are station, archivist, auditor, admin");
}

// The logged-in person: their keys, wiped when the session ends.
struct Session {
  std::string name;
  Identity identity;
  std::optional<SecretKey> epoch_key;  // when a role needs it
  std::uint32_t epoch = 0;
};

struct Vault::Impl {
  Impl(fs::path d, Env* e, std::unique_ptr<FileLock> l, const LedgerHeader& h)
      : dir(std::move(d)), env(e), lock(std::move(l)), state(h) {}

  // Refuses unless someone is logged in who may sign an entry of `type`.
  Status Require(EntryType type) const {
    if (!session) return Fail(Code::kPermissionDenied, "vault: nobody is logged in; log in first");
    Status may = state.MayAct(session->name, type);
    if (!may) return Wrap(may.error(), "vault");
    return Ok();
  }

  Status Writable() const {
    if (!broken.empty()) {
      return Fail(Code::kFailedPrecondition, "vault: " + broken + "; reopen the vault");
    }
    return Ok();
  }

  // After a failed fsync the page cache cannot be trusted (a retry may
  // report success for data that never reached the disk): this Vault
  // writes nothing more. PosixEnv aborts the process first; this is for
  // any Env that reports the failure instead.
  void SyncFailed(const Error& error) {
    if (broken.empty()) broken = "an earlier fsync failed (" + error.message + ")";
  }

  const SecretKey& EpochKey() const {
    CU_CHECK(session && session->epoch_key.has_value());
    return *session->epoch_key;
  }

  // Signs and appends an entry of `type` as the logged-in user, fsyncs it,
  // and applies it to the state. REQUIRES: Require(type) passed.
  // Makes every entry appended so far durable, if any is not yet.
  Status SyncLedger() {
    if (!unsynced) return Ok();
    Status synced = ledger->Sync();
    if (!synced) {
      SyncFailed(synced.error());
      return Wrap(synced.error(), "vault: ledger sync");
    }
    unsynced = false;
    return Ok();
  }

  // Signs, checks, writes and applies one entry; fsyncs it, unless a Batch
  // is open (then Commit does), or `defer_sync` says the caller syncs it
  // before acting on it (ReadTexts).
  Status Append(EntryType type, Bytes payload, bool defer_sync = false) {
    CU_TRY(Writable());
    CU_CHECK(session.has_value());
    if (!EntryFits(session->name, payload.size())) {
      return Fail(Code::kInvalidArgument, "vault: entry larger than the ledger's entry limit");
    }
    EntryFields f;
    f.type = type;
    f.seq = state.entries() + 1;
    f.micros = env->NowMicros();
    f.prev_hash = last_hash;
    f.actor = session->name;
    f.payload = std::move(payload);
    const EncodedEntry encoded = EncodeEntry(f, header.archive_id, session->identity);
    {
      // The same checks as a reader's, before anything is written: the
      // vault never writes an entry it would refuse to read.
      auto parsed = ParseEntry(encoded.bytes, ledger_bytes.size());
      if (!parsed) return Wrap(parsed.error(), "vault: internal");
      Status checked = state.Check(*parsed);
      if (!checked) {
        return Fail(Code::kInternal, "vault: refusing to write: " + checked.error().message);
      }
    }
    Status appended = ledger->Append(encoded.bytes);
    // Under a Batch the fsync waits for Commit, except for reads: no
    // plaintext leaves before its view entry is durable.
    const bool read = type == EntryType::kView || type == EntryType::kExport;
    const bool sync_now = !defer_sync && !(in_batch && !read);
    if (appended && sync_now) {
      appended = ledger->Sync();
      if (appended) {
        unsynced = false;
      } else {
        SyncFailed(appended.error());
      }
    } else if (appended) {
      unsynced = true;
    }
    if (!appended) {
      // Undo a partial append so the next one does not land after garbage.
      if (!env->Truncate(dir / kLedgerFile, ledger_bytes.size()) && broken.empty()) {
        broken = "an earlier ledger write failed and could not be undone";
      }
      return Wrap(appended.error(), "vault: ledger append");
    }
    const std::size_t offset = ledger_bytes.size();
    ledger_bytes.insert(ledger_bytes.end(), encoded.bytes.begin(), encoded.bytes.end());
    entry_spans.emplace_back(offset, encoded.bytes.size());
    tree.Append(LeafOf(encoded.bytes));
    last_hash = encoded.hash;
    auto parsed = ParseEntry(std::span(ledger_bytes).subspan(offset), offset);
    CU_CHECK(parsed.has_value());
    // The same bytes passed Check, signature included, just above.
    CU_CHECK(state.Apply(*parsed, SignatureCheck::kAlreadyVerified).has_value());
    return Ok();
  }

  // Encrypts `plaintext` under a fresh key and writes it durably as a blob.
  // Returns its name and its key wrapped under the epoch key. The blob is
  // streamed to tmp/ (its name is the hash of bytes not yet written), then
  // fsynced and renamed into its fan-out directory, which is fsynced: a
  // crash leaves either nothing under blobs/ or the whole blob.
  // Writes the blob of `plaintext`, or, when `source` is given, of the
  // label.plaintext_size bytes it reads. `check`, when given, runs after the
  // blob is written and synced but before it takes its name: its failure
  // leaves no blob behind.
  Result<std::pair<Hash, WrappedKey>> WriteBlob(const BlobLabel& label,
                                                std::span<const std::uint8_t> plaintext,
                                                const BlobSource* source = nullptr,
                                                const std::function<Status()>& check = {}) {
    CU_ASSIGN_OR_RETURN(SecretKey key, SecretKey::Random());
    const fs::path tmp_dir = dir / kTmpDir;
    const fs::path tmp = tmp_dir / "blob.tmp";
    Status ready = env->CreateDir(tmp_dir);  // archives made before tmp/ existed
    if (ready && env->Exists(tmp)) ready = env->Remove(tmp);  // left by a crash
    if (!ready) return Wrap(ready.error(), "vault: writing a blob");
    auto file = env->NewAppendableFile(tmp);
    if (!file) return Wrap(file.error(), "vault: writing a blob");
    // Large blobs: the disk starts writing every few MiB while we encrypt,
    // instead of all at the final fsync.
    std::uint64_t unflushed = 0;
    auto sink = [&](std::span<const std::uint8_t> piece) -> Status {
      CU_TRY((*file)->Append(piece));
      unflushed += piece.size();
      if (unflushed >= kWritebackBytes) {
        (*file)->StartWriteback();
        unflushed = 0;
      }
      return Ok();
    };
    const bool pipelined = label.plaintext_size >= kPipelineMinBytes;
    auto streamed = source != nullptr ? StreamBlob(label, *source, key, sink, pipelined)
                                      : StreamBlob(label, plaintext, key, sink, pipelined);
    Status done = streamed ? (*file)->Sync() : Status(Unexpected{streamed.error()});
    if (streamed && !done) SyncFailed(done.error());
    if (done && check) done = check();
    Status closed = (*file)->Close();
    if (done) done = closed;
    if (!done) {
      (void)env->Remove(tmp);
      return Wrap(done.error(), "vault: writing a blob");
    }
    const Hash name = *streamed;
    const WrappedKey wrapped = WrapKey(key, EpochKey(), session->epoch, name);
    const fs::path path = BlobPath(dir, name);
    const fs::path parent = path.parent_path();
    if (!env->Exists(parent)) {
      // The new fan-out directory must be durable before the blob in it is.
      Status made = env->CreateDir(parent);
      if (made) {
        made = env->SyncDir(dir / kBlobDir);
        if (!made) SyncFailed(made.error());
      }
      if (!made) return Wrap(made.error(), "vault: blob " + Hex(name));
    }
    Status moved = env->Rename(tmp, path);
    if (moved) {
      moved = env->SyncDir(parent);
      if (!moved) SyncFailed(moved.error());
    }
    if (!moved) return Wrap(moved.error(), "vault: blob " + Hex(name));
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

  // The current epoch's key file, checked against the rotation entry that
  // committed to it. Needs no key.
  // The blob keys of the documents a rotation covers, and where each
  // document's first key is in the key file.
  struct KeyTable {
    std::vector<WrappedKey> keys;
    std::vector<std::uint64_t> first;  // by document index
  };

  Result<KeyTable> ReadKeyFile(const LedgerState& st) const {
    const fs::path path = KeyFilePath(dir, st.epoch());
    const std::string where = "vault: key file " + path.filename().string();
    if (!env->Exists(path)) {
      return Fail(Code::kTampered,
                  where + ": missing, committed by entry " + std::to_string(st.rotation_seq()));
    }
    auto bytes = env->ReadFile(path);
    if (!bytes) return Wrap(bytes.error(), where);
    if (!HashEquals(HashBytes(*bytes), st.key_file_hash())) {
      return Fail(Code::kTampered, where + ": hash mismatch, committed by entry " +
                                       std::to_string(st.rotation_seq()));
    }
    KeyTable table;
    std::uint64_t count = 0;
    for (std::uint64_t i = 0; i < st.rewrapped_docs(); ++i) {
      table.first.push_back(count);
      count += 2 + st.docs()[i].entry.extras.size();
    }
    auto keys = DecodeKeyFile(*bytes, st.epoch(), count);
    if (!keys) return Wrap(keys.error(), where);
    table.keys = std::move(keys).value();
    return table;
  }

  // Which of `doc`'s artefacts is of `kind`, in BlobsOf order; kNotFound if
  // it has none (documents sealed without OCR have no hOCR or PDF).
  static Result<std::size_t> BlobIndex(const DocState& doc, BlobKind kind) {
    if (kind == BlobKind::kOriginal) return 0;
    if (kind == BlobKind::kText) return 1;
    for (std::size_t i = 0; i < doc.entry.extras.size(); ++i) {
      if (doc.entry.extras[i].kind == static_cast<std::uint8_t>(kind)) return 2 + i;
    }
    return Fail(Code::kNotFound, "vault: " + doc.entry.doc_id + " has no " + KindName(kind) +
                                     " (only what it was sealed with: " +
                                     JoinNames(doc.record.artefacts) + ")");
  }

  // The wrapped key of a document's artefact under the current epoch.
  // `blob` is the index of the artefact in BlobsOf(doc.entry).
  Result<WrappedKey> CurrentWrappedKey(const DocState& doc, std::size_t blob) const {
    if (doc.entry.key_epoch == state.epoch()) {
      // Not BlobsOf: RotateKey asks for every key of every document.
      if (blob == 0) return doc.entry.original_key;
      if (blob == 1) return doc.entry.text_key;
      return doc.entry.extras.at(blob - 2).key;
    }
    if (!rewrapped) {
      CU_ASSIGN_OR_RETURN(KeyTable table, ReadKeyFile(state));
      rewrapped = std::move(table);
    }
    const auto index = static_cast<std::size_t>(&doc - state.docs().data());
    CU_CHECK(index < rewrapped->first.size());
    return rewrapped->keys[rewrapped->first[index] + blob];
  }

  // Reads, checks and decrypts one of a document's blobs.
  Result<Bytes> ReadBlob(const DocState& doc, BlobKind kind) const {
    const bool original = kind == BlobKind::kOriginal;
    CU_ASSIGN_OR_RETURN(const std::size_t index, BlobIndex(doc, kind));
    const BlobRef ref = BlobsOf(doc.entry)[index];
    const Hash& name = ref.blob;
    CU_ASSIGN_OR_RETURN(const WrappedKey wrapped, CurrentWrappedKey(doc, index));
    const BlobLabel label{doc.entry.doc_id, kind, ref.size};
    CU_ASSIGN_OR_RETURN(Bytes blob, ReadCheckedBlob(name, label, doc.record.seq));
    const std::string where = "vault: blob " + Hex(name);
    auto key = UnwrapKey(wrapped, EpochKey(), session->epoch, name);
    if (!key) return Wrap(key.error(), where + " (entry " + std::to_string(doc.record.seq) + ")");
    auto plaintext = DecodeBlob(blob, label, *key);
    if (!plaintext) return Wrap(plaintext.error(), where);
    if (original && !HashEquals(HashBytes(*plaintext), doc.entry.original_hash)) {
      // Defence in depth: the blob authenticated, and it must also be the
      // very file that was sealed.
      return Fail(Code::kTampered,
                  "vault: " + doc.entry.doc_id + ": original does not match its recorded hash");
    }
    return plaintext;
  }

  // The key that seals a document's review values: derived from its text
  // blob key, which every document has and every rotation rewraps.
  Result<SecretKey> ReviewKey(const DocState& doc) const {
    CU_ASSIGN_OR_RETURN(const std::size_t index, BlobIndex(doc, BlobKind::kText));
    CU_ASSIGN_OR_RETURN(const WrappedKey wrapped, CurrentWrappedKey(doc, index));
    const Hash name = BlobsOf(doc.entry)[index].blob;  // a copy: BlobsOf returns a temporary
    auto key = UnwrapKey(wrapped, EpochKey(), session->epoch, name);
    if (!key) return Wrap(key.error(), "vault: " + doc.entry.doc_id + ": review key");
    return DeriveKey(*key, "custodia review values v1");
  }

  // Decrypts an artefact, logs the access (`type` view or export) durably,
  // and only then hands the plaintext back.
  Result<Bytes> Access(const std::string& id, BlobKind kind, EntryType type,
                       std::string_view purpose) {
    CU_TRY(Require(type));
    const DocState* doc = state.FindDoc(id);
    if (doc == nullptr) return Fail(Code::kNotFound, "vault: no document " + id);
    CU_ASSIGN_OR_RETURN(Bytes plaintext, ReadBlob(*doc, kind));
    AccessEntry e{id, static_cast<std::uint8_t>(kind), std::string(purpose)};
    Status logged = Append(type, EncodeAccess(e));
    if (!logged) {
      Wipe(plaintext);
      return Wrap(logged.error(),
                  "vault: " + id + ": the read could not be logged, so it is refused");
    }
    return plaintext;
  }

  // A checkpoint of the ledger as it is now, signed by the logged-in user.
  // REQUIRES: someone is logged in.
  Result<std::string> SignTreeHead() const {
    CU_CHECK(session.has_value());
    const tlog::Checkpoint checkpoint{OriginOf(header), tree.size(), tree.Root(), {}};
    auto note = tlog::SignCheckpoint(checkpoint, KeyNameOf(header, session->name),
                                     session->identity.sign_secret.bytes());
    if (!note) return Wrap(note.error(), "vault: checkpoint");
    return note;
  }

  struct CheckedNote {
    tlog::Checkpoint checkpoint;
    tlog::VerifierKey key;
    std::string signer;
  };

  // Parses a signed checkpoint and checks its signature by a user of this
  // archive and its origin; then that today's ledger extends it.
  Result<CheckedNote> CheckNote(std::string_view text) const {
    auto note = tlog::ParseNote(text);
    if (!note) return Wrap(note.error(), "vault: checkpoint");
    const std::string origin = OriginOf(header);
    const std::string prefix = origin + "/";
    std::optional<CheckedNote> found;
    for (const tlog::NoteSignature& sig : note->signatures) {
      if (!sig.key_name.starts_with(prefix)) continue;
      const UserState* user = state.FindUser(sig.key_name.substr(prefix.size()));
      if (user == nullptr) continue;
      auto key = tlog::MakeVerifierKey(sig.key_name, user->sign_public);
      if (!key || key->key_id != sig.key_id) continue;
      found = CheckedNote{{}, *key, user->name};
      break;
    }
    if (!found) {
      std::string why =
          "vault: checkpoint: not signed by any user of this archive (" + origin + ")";
      // Unauthenticated, but the likelier story when the signer's own
      // user entry was cut away with the rest.
      auto claimed = tlog::ParseCheckpoint(note->text);
      if (claimed && claimed->origin == origin && claimed->size > tree.size()) {
        why += "; it claims " + std::to_string(claimed->size) + " entries and the ledger holds " +
               std::to_string(tree.size()) + ": truncated or rolled back?";
      }
      return Fail(Code::kTampered, why);
    }
    auto checkpoint = tlog::VerifyCheckpoint(text, origin, found->key);
    if (!checkpoint) return Wrap(checkpoint.error(), "vault: checkpoint by " + found->signer);
    found->checkpoint = std::move(checkpoint).value();
    const tlog::Checkpoint& cp = found->checkpoint;
    if (cp.size > tree.size()) {
      return Fail(Code::kTampered,
                  "vault: checkpoint by " + found->signer +
                      ": the ledger is shorter than a checkpoint saved earlier: truncated or "
                      "rolled back (the checkpoint covers " +
                      std::to_string(cp.size) + " entries, the ledger holds " +
                      std::to_string(tree.size()) + ")");
    }
    auto proof = tree.ConsistencyProof(cp.size, tree.size());
    CU_CHECK(proof.has_value());
    Status consistent = tlog::VerifyConsistency(cp.size, tree.size(), cp.root, tree.Root(), *proof);
    if (!consistent) {
      return Fail(Code::kTampered,
                  "vault: checkpoint by " + found->signer + ": today's ledger does not extend " +
                      "the checkpoint of " + std::to_string(cp.size) +
                      " entries (an entry it covers was changed, or the ledger was rolled back "
                      "and rewritten): " +
                      consistent.error().message);
    }
    return std::move(found).value();
  }

  // Admins still active after taking `role_bits` from `name` (all of them
  // when `role_bits` is 0xff).
  int AdminsLeftWithout(const std::string& name, std::uint8_t role_bits) const {
    int n = 0;
    for (const auto& [user_name, user] : state.users()) {
      std::uint8_t roles = user.roles;
      if (user_name == name) roles &= static_cast<std::uint8_t>(~role_bits);
      if (!user.revoked && (roles & static_cast<std::uint8_t>(Role::kAdmin)) != 0) ++n;
    }
    return n;
  }

  // Members are destroyed in reverse order: the lock is released last,
  // after the ledger is closed and the keys wiped.
  const fs::path dir;
  Env* const env;
  std::unique_ptr<FileLock> lock;
  LedgerHeader header;
  std::unique_ptr<AppendableFile> ledger;
  Bytes ledger_bytes;  // header and complete entries, as on disk
  std::vector<std::pair<std::size_t, std::size_t>> entry_spans;  // offset, size
  tlog::MerkleTree tree;  // leaf i: LeafOf(entry i), for every complete entry
  Hash last_hash{};       // of the last entry, or the header's hash
  LedgerState state;
  std::optional<Session> session;
  // The current epoch's rewrapped keys, read on first use.
  mutable std::optional<KeyTable> rewrapped;
  std::uint64_t torn_tail_bytes = 0;
  // Why writes are refused until the vault is reopened (and Open cuts or
  // rejects the tail); empty when they are not. Set when a failed append
  // could not be rolled back (the ledger's tail is unknown), or an fsync
  // failed (SyncFailed).
  std::string broken;
  // A Batch is open: appends other than reads are not fsynced one by one.
  bool in_batch = false;
  // Entries were appended after the last fsync of the ledger.
  bool unsynced = false;
};

Vault::Vault(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Vault::Vault(Vault&&) noexcept = default;
Vault& Vault::operator=(Vault&&) noexcept = default;
Vault::~Vault() = default;

Status Vault::Create(const fs::path& dir, const std::string& first_user,
                     std::string_view passphrase, const Options& options) {
  CU_TRY(InitCrypto());
  CU_TRY(CheckNewUser(first_user, passphrase));
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
  if (s) s = env->CreateDir(dir / kTmpDir);
  if (!s) return Wrap(s.error(), "vault: create " + dir.string());
  CU_ASSIGN_OR_RETURN(const Identity identity, WriteNewIdentity(env, dir, first_user, passphrase));
  // The epoch 1 key exists only sealed to the first user, in the genesis
  // entry; never in clear on disk.
  CU_ASSIGN_OR_RETURN(const SecretKey epoch_key, SecretKey::Random());
  Hash archive_id;
  RandomBytes(archive_id);
  LedgerHeader header;
  Bytes ledger = EncodeLedgerHeader(archive_id, KeyId(epoch_key), &header);
  UserAddedEntry genesis;
  genesis.name = first_user;
  genesis.sign_public = identity.sign_public;
  genesis.box_public = identity.box_public;
  genesis.roles = static_cast<std::uint8_t>(Role::kAdmin) |
                  static_cast<std::uint8_t>(Role::kArchivist) |
                  static_cast<std::uint8_t>(Role::kStation);
  genesis.epoch = 1;
  genesis.sealed_key = SealKey(epoch_key, identity.box_public);
  EntryFields f;
  f.type = EntryType::kUserAdded;
  f.seq = 1;
  f.micros = env->NowMicros();
  f.prev_hash = header.hash;
  f.actor = first_user;
  f.payload = EncodeUserAdded(genesis);
  const EncodedEntry entry = EncodeEntry(f, archive_id, identity);
  ledger.insert(ledger.end(), entry.bytes.begin(), entry.bytes.end());
  s = env->WriteFileAtomic(dir / kLedgerFile, ledger);
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

  const fs::path ledger_path = dir / kLedgerFile;
  auto bytes = env->ReadFile(ledger_path);
  if (!bytes) return Wrap(bytes.error(), "vault: ledger");
  CU_ASSIGN_OR_RETURN(LedgerScan scan, ScanLedger(*bytes, TailPolicy::kCutTorn));
  auto impl = std::make_unique<Impl>(dir, env, std::move(lock).value(), scan.header);
  impl->header = scan.header;
  auto grow_tree = [&](std::size_t i) -> Status {
    const Entry& entry = scan.entries[i];
    CU_TRY(CheckRecordedRoot(entry, impl->tree));
    impl->entry_spans.emplace_back(entry.offset, entry.bytes.size());
    impl->tree.Append(LeafOf(entry.bytes));
    return Ok();
  };
  CU_TRY(ReplayEntries(impl->state, scan.entries, VerifyThreads(), {}, grow_tree));
  if (scan.entries.empty()) {
    return Fail(Code::kTampered, "vault: ledger holds no entries; the genesis entry is missing");
  }

  // A crash during an append leaves a partial last entry. The append had
  // not returned for it, so cutting it loses nothing that was acknowledged;
  // anything wrong before it was rejected above and is never repaired.
  const std::uint64_t torn = bytes->size() - scan.end;
  if (torn > 0) {
    Status cut = env->Truncate(ledger_path, scan.end);
    if (!cut) return Wrap(cut.error(), "vault: cutting a torn ledger tail");
  }
  auto file = env->NewAppendableFile(ledger_path);
  if (!file) return Wrap(file.error(), "vault: ledger");

  impl->ledger = std::move(file).value();
  impl->torn_tail_bytes = torn;
  impl->last_hash = scan.entries.back().hash;
  bytes->resize(scan.end);
  impl->ledger_bytes = std::move(bytes).value();
  return Vault(std::move(impl));
}

Status Vault::Login(const std::string& name, std::string_view passphrase) {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  im.session.reset();
  const UserState* user = im.state.FindUser(name);
  if (user == nullptr) return Fail(Code::kPermissionDenied, "vault: no user " + name);
  if (user->revoked) {
    return Fail(Code::kPermissionDenied,
                "vault: " + name + " was revoked at entry " + std::to_string(user->revoked_seq));
  }
  const fs::path path = UserKeyPath(im.dir, name);
  if (!im.env->Exists(path)) {
    return Fail(Code::kNotFound, "vault: " + path.string() + ": key file of " + name + " missing");
  }
  auto file = im.env->ReadFile(path);
  if (!file) return Wrap(file.error(), "vault: key file of " + name);
  auto pub = DecodeUserKeyFilePublic(*file);
  if (!pub) return Wrap(pub.error(), "vault: " + path.string());
  if (pub->name != name || pub->sign_public != user->sign_public ||
      pub->box_public != user->box_public) {
    return Fail(Code::kTampered,
                "vault: " + path.string() + ": does not hold the keys the ledger gave " + name);
  }
  auto identity = UnlockUserKeyFile(*file, passphrase);
  if (!identity) return Wrap(identity.error(), "vault");
  Session session{name, std::move(identity).value(), std::nullopt, 0};
  if ((user->roles & kKeyRoles) != 0) {
    const std::uint32_t epoch = im.state.epoch();
    auto sealed = user->sealed.find(epoch);
    if (sealed == user->sealed.end()) {
      return Fail(Code::kFailedPrecondition, "vault: no key of epoch " + std::to_string(epoch) +
                                                 " was sealed to " + name + "; ask an admin");
    }
    auto key = OpenSealedKey(sealed->second, session.identity);
    if (!key) return Wrap(key.error(), "vault: " + name);
    if (!HashEquals(KeyId(*key), im.state.key_id(epoch))) {
      return Fail(Code::kTampered, "vault: the key sealed to " + name +
                                       " is not the key of epoch " + std::to_string(epoch));
    }
    session.epoch_key.emplace(std::move(key).value());
    session.epoch = epoch;
  }
  im.session.emplace(std::move(session));
  return Ok();
}

void Vault::Logout() {
  CU_CHECK(impl_ != nullptr);
  impl_->session.reset();
}

std::string Vault::user() const {
  CU_CHECK(impl_ != nullptr);
  return impl_->session ? impl_->session->name : std::string();
}

Status Vault::WithIndexKey(
    const std::function<Status(std::span<const std::uint8_t, 32>, std::uint32_t)>& use) const {
  CU_CHECK(impl_ != nullptr);
  const Impl& im = *impl_;
  if (!im.session || !im.session->epoch_key.has_value()) {
    return Fail(Code::kPermissionDenied,
                "vault: the search index needs a station, archivist or admin logged in");
  }
  CU_ASSIGN_OR_RETURN(const SecretKey key, DeriveKey(im.EpochKey(), "custodia index v1"));
  static_assert(kKeySize == 32);
  return use(key.bytes(), im.session->epoch);
}

Result<std::string> Vault::Enroll(const std::string& name, std::string_view passphrase) {
  CU_CHECK(impl_ != nullptr);
  CU_TRY(CheckNewUser(name, passphrase));
  const fs::path path = UserKeyPath(impl_->dir, name);
  if (impl_->env->Exists(path) || impl_->state.FindUser(name) != nullptr) {
    return Fail(Code::kAlreadyExists, "vault: " + name + " is already enrolled");
  }
  CU_ASSIGN_OR_RETURN(const Identity identity,
                      WriteNewIdentity(impl_->env, impl_->dir, name, passphrase));
  return Hex(identity.sign_public);
}

Status Vault::AddUser(const std::string& name, const std::vector<Role>& roles) {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  CU_TRY(im.Require(EntryType::kUserAdded));
  if (!ValidUserName(name)) return Fail(Code::kInvalidArgument, "vault: bad user name " + name);
  if (im.state.FindUser(name) != nullptr) {
    return Fail(Code::kAlreadyExists, "vault: " + name + " is already a user");
  }
  const std::uint8_t bits = RoleBits(roles);
  if (bits == 0) return Fail(Code::kInvalidArgument, "vault: a user needs at least one role");
  const fs::path path = UserKeyPath(im.dir, name);
  if (!im.env->Exists(path)) {
    return Fail(Code::kNotFound, "vault: " + name + " has not enrolled (no " + path.string() + ")");
  }
  CU_ASSIGN_OR_RETURN(const Bytes file, im.env->ReadFile(path));
  auto pub = DecodeUserKeyFilePublic(file);
  if (!pub) return Wrap(pub.error(), "vault: " + path.string());
  if (pub->name != name) {
    return Fail(Code::kTampered, "vault: " + path.string() + ": names " + pub->name);
  }
  UserAddedEntry e;
  e.name = name;
  e.sign_public = pub->sign_public;
  e.box_public = pub->box_public;
  e.roles = bits;
  if ((bits & kKeyRoles) != 0) {
    e.epoch = im.session->epoch;
    e.sealed_key = SealKey(im.EpochKey(), pub->box_public);
  }
  return im.Append(EntryType::kUserAdded, EncodeUserAdded(e));
}

Status Vault::GrantRole(const std::string& name, Role role) {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  CU_TRY(im.Require(EntryType::kRoleGranted));
  const UserState* user = im.state.FindUser(name);
  if (user == nullptr) return Fail(Code::kNotFound, "vault: no user " + name);
  if (user->revoked) return Fail(Code::kFailedPrecondition, "vault: " + name + " was revoked");
  const auto bit = static_cast<std::uint8_t>(role);
  if ((user->roles & bit) != 0) {
    return Fail(Code::kFailedPrecondition,
                "vault: " + name + " already holds the " + RoleName(role) + " role");
  }
  RoleEntry e;
  e.name = name;
  e.role = bit;
  if ((bit & kKeyRoles) != 0) {
    e.epoch = im.session->epoch;
    e.sealed_key = SealKey(im.EpochKey(), user->box_public);
  }
  return im.Append(EntryType::kRoleGranted, EncodeRole(e));
}

Status Vault::RevokeRole(const std::string& name, Role role) {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  CU_TRY(im.Require(EntryType::kRoleRevoked));
  const UserState* user = im.state.FindUser(name);
  if (user == nullptr) return Fail(Code::kNotFound, "vault: no user " + name);
  const auto bit = static_cast<std::uint8_t>(role);
  if (user->revoked || (user->roles & bit) == 0) {
    return Fail(Code::kFailedPrecondition,
                "vault: " + name + " does not hold the " + RoleName(role) + " role");
  }
  if (role == Role::kAdmin && im.AdminsLeftWithout(name, bit) == 0) {
    return Fail(Code::kFailedPrecondition, "vault: " + name + " is the last admin");
  }
  RoleEntry e;
  e.name = name;
  e.role = bit;
  return im.Append(EntryType::kRoleRevoked, EncodeRole(e));
}

Status Vault::RevokeUser(const std::string& name) {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  CU_TRY(im.Require(EntryType::kUserRevoked));
  const UserState* user = im.state.FindUser(name);
  if (user == nullptr) return Fail(Code::kNotFound, "vault: no user " + name);
  if (user->revoked)
    return Fail(Code::kFailedPrecondition, "vault: " + name + " is already revoked");
  if (im.AdminsLeftWithout(name, 0xff) == 0) {
    return Fail(Code::kFailedPrecondition, "vault: " + name + " is the last admin");
  }
  return im.Append(EntryType::kUserRevoked, EncodeUserRevoked(UserRevokedEntry{name}));
}

Result<std::uint32_t> Vault::RotateKey() {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  CU_TRY(im.Writable());
  CU_TRY(im.Require(EntryType::kKeyRotation));
  const std::uint32_t epoch = im.state.epoch() + 1;
  CU_ASSIGN_OR_RETURN(SecretKey new_key, SecretKey::Random());
  // Every blob key, unwrapped under the current epoch and rewrapped under
  // the new one. Blobs are not touched.
  std::vector<WrappedKey> keys;
  keys.reserve(im.state.docs().size() * 2);
  // One secure buffer holds each blob key in turn, wiped after each.
  CU_ASSIGN_OR_RETURN(KeyRewrapper rewrapper,
                      KeyRewrapper::New(im.EpochKey(), im.session->epoch, new_key, epoch));
  for (const DocState& doc : im.state.docs()) {
    const std::vector<BlobRef> blobs = BlobsOf(doc.entry);
    for (std::size_t i = 0; i < blobs.size(); ++i) {
      CU_ASSIGN_OR_RETURN(const WrappedKey wrapped, im.CurrentWrappedKey(doc, i));
      auto rewrapped = rewrapper.Rewrap(wrapped, blobs[i].blob);
      if (!rewrapped) {
        return Wrap(rewrapped.error(), "vault: rotate: blob " + Hex(blobs[i].blob));
      }
      keys.push_back(*rewrapped);
    }
  }
  const Bytes file = EncodeKeyFile(epoch, keys);
  // The key file is durable before the entry that commits to it, and so is
  // keys/ itself, made by the first rotation: its entry is in the vault
  // directory, which WriteFileAtomic does not sync.
  Status s = Ok();
  if (!im.env->Exists(im.dir / kKeysDir)) {
    s = im.env->CreateDir(im.dir / kKeysDir);
    if (s) {
      s = im.env->SyncDir(im.dir);
      if (!s) im.SyncFailed(s.error());
    }
  }
  if (s) s = im.env->WriteFileAtomic(KeyFilePath(im.dir, epoch), file);
  if (!s) return Wrap(s.error(), "vault: rotate: key file");
  RotationEntry e;
  e.epoch = epoch;
  e.key_id = KeyId(new_key);
  e.key_file_hash = HashBytes(file);
  for (const auto& [name, user] : im.state.users()) {
    if (!user.revoked && (user.roles & kKeyRoles) != 0) {
      e.grants.push_back(KeyGrant{name, SealKey(new_key, user.box_public)});
    }
  }
  CU_TRY(im.Append(EntryType::kKeyRotation, EncodeRotation(e)));
  im.session->epoch_key.emplace(std::move(new_key));
  im.session->epoch = epoch;
  Impl::KeyTable table;
  table.keys = std::move(keys);
  std::uint64_t first = 0;
  for (const DocState& doc : im.state.docs()) {
    table.first.push_back(first);
    first += 2 + doc.entry.extras.size();
  }
  im.rewrapped = std::move(table);
  return epoch;
}

std::vector<User> Vault::Users() const {
  CU_CHECK(impl_ != nullptr);
  std::vector<User> out;
  for (const auto& [name, u] : impl_->state.users()) {
    out.push_back(User{name, RolesOf(u.roles), u.revoked, u.added_seq, Hex(u.sign_public)});
  }
  std::sort(out.begin(), out.end(),
            [](const User& a, const User& b) { return a.added_seq < b.added_seq; });
  return out;
}

Result<Record> Vault::Seal(const SealRequest& request) {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  CU_TRY(im.Writable());
  CU_TRY(im.Require(EntryType::kIngest));
  if (request.pages < 0) return Fail(Code::kInvalidArgument, "vault: seal: negative page count");

  IngestEntry e;
  e.doc_id = DocId(im.state.docs().size() + 1);
  e.source = request.source;
  e.pages = static_cast<std::uint32_t>(request.pages);
  e.type = request.type;
  e.status = request.status;
  e.fields_json = request.fields_json;
  e.key_epoch = im.session->epoch;
  e.original_size = request.original.size();
  if (!request.original_file.empty()) {
    if (request.original_hash.empty() || !request.original.empty()) {
      return Fail(Code::kInvalidArgument, "vault: seal: " + request.source +
                                              ": original_file needs original_hash and no "
                                              "original bytes");
    }
    auto size = im.env->FileSize(request.original_file);
    if (!size) return Wrap(size.error(), "vault: seal: " + request.source);
    e.original_size = *size;
  }
  if (request.original_hash.empty()) {
    e.original_hash = HashBytes(request.original);
  } else {
    auto given = ParseHashHex(request.original_hash);
    if (!given) {
      return Fail(Code::kInvalidArgument, "vault: seal: original_hash of " + request.source +
                                              " is not 64 hex digits");
    }
    e.original_hash = *given;
  }
  e.text_size = request.text.size();
  std::uint8_t kinds = 0;
  for (const ExtraArtefact& x : request.extras) {
    const auto kind = static_cast<std::uint8_t>(x.kind);
    if ((x.kind != Artefact::kHocr && x.kind != Artefact::kPdf && x.kind != Artefact::kFields) ||
        (kinds & (1u << kind)) != 0) {
      return Fail(Code::kInvalidArgument, std::string("vault: seal: extra artefact ") +
                                              ArtefactName(x.kind) + " of " + request.source +
                                              " is not hocr, pdf or fields, or is given twice");
    }
    kinds = static_cast<std::uint8_t>(kinds | (1u << kind));
    e.extras.push_back(BlobRef{kind, x.bytes.size(), {}, {}});
  }
  // The payload's size does not depend on the blobs: refuse an oversized
  // record before writing anything.
  if (!EntryFits(im.session->name, EncodeIngest(e).size())) {
    return Fail(Code::kInvalidArgument, "vault: seal: record of " + request.source +
                                            " is larger than the ledger's entry limit");
  }

  // Crash safety: both blobs are durable before the entry that names them
  // is appended; the entry is durable before we return. A crash in between
  // leaves at most unreferenced blobs, never an entry without its blobs.
  const BlobLabel original_label{e.doc_id, BlobKind::kOriginal, e.original_size};
  if (request.original_file.empty()) {
    CU_ASSIGN_OR_RETURN(std::tie(e.original_blob, e.original_key),
                        im.WriteBlob(original_label, request.original));
  } else {
    // Streamed from the file, hashed as it is read: the blob is kept only if
    // the file is still exactly what was hashed (a scanner or a person may
    // rewrite an input while it is being archived).
    const std::string changed = "vault: seal: " + request.source +
                                " changed while it was being archived (it is not what was "
                                "hashed); nothing was sealed: ingest it again";
    auto in = im.env->NewSequentialFile(request.original_file);
    if (!in) return Wrap(in.error(), "vault: seal: " + request.source);
    Hasher plain;
    const BlobSource source = [&](std::span<std::uint8_t> out) -> Status {
      for (std::size_t filled = 0; filled < out.size();) {
        CU_ASSIGN_OR_RETURN(std::size_t n, (*in)->Read(out.subspan(filled)));
        if (n == 0) return Fail(Code::kFailedPrecondition, changed);
        filled += n;
      }
      plain.Update(out);
      return Ok();
    };
    const auto check = [&]() -> Status {
      std::uint8_t more = 0;
      CU_ASSIGN_OR_RETURN(std::size_t n, (*in)->Read({&more, 1}));
      if (n != 0 || plain.Final() != e.original_hash) {
        return Fail(Code::kFailedPrecondition, changed);
      }
      return Ok();
    };
    CU_ASSIGN_OR_RETURN(std::tie(e.original_blob, e.original_key),
                        im.WriteBlob(original_label, {}, &source, check));
  }
  CU_ASSIGN_OR_RETURN(
      std::tie(e.text_blob, e.text_key),
      im.WriteBlob(BlobLabel{e.doc_id, BlobKind::kText, e.text_size}, AsBytes(request.text)));
  for (std::size_t i = 0; i < request.extras.size(); ++i) {
    BlobRef& x = e.extras[i];
    CU_ASSIGN_OR_RETURN(std::tie(x.blob, x.key),
                        im.WriteBlob(BlobLabel{e.doc_id, static_cast<BlobKind>(x.kind), x.size},
                                     request.extras[i].bytes));
  }
  CU_TRY(im.Append(EntryType::kIngest, EncodeIngest(e)));
  return im.state.docs().back().record;
}

const char* ArtefactName(Artefact artefact) { return KindName(static_cast<BlobKind>(artefact)); }

std::optional<Artefact> ParseArtefact(std::string_view name) {
  for (std::uint8_t k = 1; k <= kMaxBlobKind; ++k) {
    if (name == KindName(static_cast<BlobKind>(k))) return static_cast<Artefact>(k);
  }
  return std::nullopt;
}

std::string Vault::HashHex(std::span<const std::uint8_t> bytes) { return Hex(HashBytes(bytes)); }

Result<std::pair<std::string, std::uint64_t>> Vault::HashFileHex(const fs::path& path, Env* env) {
  if (env == nullptr) env = Env::Default();
  CU_ASSIGN_OR_RETURN(std::unique_ptr<SequentialFile> in, env->NewSequentialFile(path));
  Hasher hasher;
  std::uint64_t size = 0;
  Bytes buffer(kStreamSegment);
  for (;;) {
    CU_ASSIGN_OR_RETURN(std::size_t n, in->Read(buffer));
    if (n == 0) break;
    hasher.Update(std::span(buffer).first(n));
    size += n;
  }
  return std::pair{Hex(hasher.Final()), size};
}

Result<Record> Vault::Find(const std::string& id) const {
  CU_CHECK(impl_ != nullptr);
  const DocState* doc = impl_->state.FindDoc(id);
  if (doc == nullptr) return Fail(Code::kNotFound, "vault: no document " + id);
  return doc->record;
}

std::optional<Record> Vault::FindByHash(const std::string& original_hash) const {
  CU_CHECK(impl_ != nullptr);
  std::string key = original_hash;
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const DocState* doc = impl_->state.FindByHash(key);
  if (doc == nullptr) return std::nullopt;
  return doc->record;
}

std::vector<Record> Vault::List() const {
  CU_CHECK(impl_ != nullptr);
  std::vector<Record> out;
  out.reserve(impl_->state.docs().size());
  for (const DocState& doc : impl_->state.docs()) out.push_back(doc.record);
  return out;
}

Result<std::uint64_t> Vault::RecordBatch(const BatchRequest& request) {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  CU_TRY(im.Writable());
  CU_TRY(im.Require(EntryType::kBatch));
  const std::string what = "vault: batch " + request.source.substr(0, 256) + ": ";
  BatchEntry e;
  e.source = request.source;
  if (!request.source_hash.empty()) {
    e.source_hash = ParseHashHex(request.source_hash);
    if (!e.source_hash) {
      return Fail(Code::kInvalidArgument, what + "source_hash is neither empty nor 64 hex digits");
    }
  }
  e.outcome = static_cast<std::uint8_t>(request.outcome);
  e.reason = request.reason;
  e.pages = request.pages;
  e.blank_pages = request.blank_pages;
  e.separators = request.separators;
  e.documents.reserve(request.documents.size());
  for (const BatchDocument& d : request.documents) {
    // Sizes the encoding could not hold are refused here; every other rule
    // is BatchDefect's, the same check replay makes.
    if (im.state.FindDoc(d.id) == nullptr) {
      return Fail(Code::kInvalidArgument, what + "names unknown document " + d.id.substr(0, 64));
    }
    if (d.case_file.size() > kMaxCaseFileSize) {
      return Fail(Code::kInvalidArgument, what + "document " + d.id + ": case file longer than " +
                                              std::to_string(kMaxCaseFileSize) + " bytes");
    }
    e.documents.push_back(BatchEntryDocument{d.id, d.case_file, d.first_page, d.pages,
                                             static_cast<std::uint8_t>(d.duplicate ? 1 : 0)});
  }
  const std::string defect = im.state.BatchDefect(e);
  if (!defect.empty()) return Fail(Code::kInvalidArgument, what + defect);
  CU_TRY(im.Append(EntryType::kBatch, EncodeBatch(e)));
  return im.state.entries();
}

std::vector<Batch> Vault::Batches() const {
  CU_CHECK(impl_ != nullptr);
  return impl_->state.batches();
}

Result<std::vector<Batch>> Vault::BatchesOf(const std::string& id) const {
  CU_CHECK(impl_ != nullptr);
  const DocState* doc = impl_->state.FindDoc(id);
  if (doc == nullptr) return Fail(Code::kNotFound, "vault: no document " + id);
  std::vector<vault::Batch> out;
  out.reserve(doc->batches.size());
  for (std::size_t i : doc->batches) out.push_back(impl_->state.batches()[i]);
  return out;
}

Result<std::vector<std::uint8_t>> Vault::ReadOriginal(const std::string& id,
                                                      std::string_view purpose) {
  CU_CHECK(impl_ != nullptr);
  return impl_->Access(id, BlobKind::kOriginal, EntryType::kView, purpose);
}

Result<std::string> Vault::ReadText(const std::string& id, std::string_view purpose) {
  CU_CHECK(impl_ != nullptr);
  CU_ASSIGN_OR_RETURN(Bytes plaintext,
                      impl_->Access(id, BlobKind::kText, EntryType::kView, purpose));
  std::string text(plaintext.begin(), plaintext.end());
  Wipe(plaintext);
  return text;
}

Result<std::vector<std::string>> Vault::ReadTexts(const std::vector<std::string>& ids,
                                                  std::string_view purpose) {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  CU_TRY(im.Require(EntryType::kView));
  std::vector<std::string> texts;
  texts.reserve(ids.size());
  auto wipe_all = [&] {
    for (std::string& t : texts) Wipe(std::span(reinterpret_cast<std::uint8_t*>(t.data()), t.size()));
    texts.clear();
  };
  {
    for (const std::string& id : ids) {
      const DocState* doc = im.state.FindDoc(id);
      if (doc == nullptr) {
        wipe_all();
        return Fail(Code::kNotFound, "vault: no document " + id);
      }
      auto plaintext = im.ReadBlob(*doc, BlobKind::kText);
      if (!plaintext) {
        wipe_all();
        return Unexpected{plaintext.error()};
      }
      texts.emplace_back(plaintext->begin(), plaintext->end());
      Wipe(*plaintext);
      AccessEntry e{id, static_cast<std::uint8_t>(BlobKind::kText), std::string(purpose)};
      // Synced together, below, before any text is returned.
      Status logged = im.Append(EntryType::kView, EncodeAccess(e), /*defer_sync=*/true);
      if (!logged) {
        wipe_all();
        return Wrap(logged.error(), "vault: " + id + ": the read could not be logged, so it is refused");
      }
    }
    Status durable = im.SyncLedger();
    if (!durable) {
      wipe_all();
      return Wrap(durable.error(), "vault: the reads could not be logged, so they are refused");
    }
  }
  return texts;
}

Vault::Batch::Batch(Vault& vault) : vault_(&vault) {
  CU_CHECK(vault_->impl_ != nullptr);
  CU_CHECK(!vault_->impl_->in_batch);  // one Batch at a time
  vault_->impl_->in_batch = true;
}

Vault::Batch::~Batch() {
  if (vault_ != nullptr) vault_->impl_->in_batch = false;
}

Status Vault::Batch::Commit() {
  CU_CHECK(vault_ != nullptr);  // once only
  Impl& im = *vault_->impl_;
  im.in_batch = false;
  vault_ = nullptr;
  return im.SyncLedger();
}

Result<std::vector<std::uint8_t>> Vault::Export(const std::string& id, Artefact artefact,
                                                std::string_view purpose) {
  CU_CHECK(impl_ != nullptr);
  return impl_->Access(id, static_cast<BlobKind>(artefact), EntryType::kExport, purpose);
}

Status Vault::Review(const std::string& id, ReviewAction action, const std::string& field,
                     const std::string& type, const std::string& status, std::string_view values) {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  CU_TRY(im.Writable());
  CU_TRY(im.Require(EntryType::kReview));
  const DocState* doc = im.state.FindDoc(id);
  if (doc == nullptr) return Fail(Code::kNotFound, "vault: no document " + id);
  const bool set_field = action == ReviewAction::kSetField;
  if (set_field == field.empty() || type.empty() || (status != "review" && status != "approved") ||
      (action == ReviewAction::kApprove) != values.empty()) {
    return Fail(Code::kInvalidArgument,
                "vault: review of " + id +
                    ": a field name for a field correction only, a type, status review or "
                    "approved, and values for a correction only");
  }
  ReviewEntry e{id, static_cast<std::uint8_t>(action), field, type, status, {}};
  if (!values.empty()) {
    CU_ASSIGN_OR_RETURN(SecretKey key, im.ReviewKey(*doc));
    e.sealed = Encrypt(AsBytes(values), ReviewAd(e), key);
  }
  return im.Append(EntryType::kReview, EncodeReview(e));
}

Result<FieldsRead> Vault::ReadFields(const std::string& id, std::string_view purpose) {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  CU_TRY(im.Require(EntryType::kView));
  const DocState* doc = im.state.FindDoc(id);
  if (doc == nullptr) return Fail(Code::kNotFound, "vault: no document " + id);
  FieldsRead out;
  const auto& artefacts = doc->record.artefacts;
  if (std::find(artefacts.begin(), artefacts.end(), "fields") != artefacts.end()) {
    CU_ASSIGN_OR_RETURN(Bytes plaintext, im.ReadBlob(*doc, BlobKind::kFields));
    out.sealed.assign(plaintext.begin(), plaintext.end());
    Wipe(plaintext);
  }
  out.reviews = doc->record.reviews;
  if (!doc->reviews.empty()) {
    CU_ASSIGN_OR_RETURN(SecretKey key, im.ReviewKey(*doc));
    for (std::size_t i = 0; i < out.reviews.size(); ++i) {
      const ReviewEntry& e = doc->reviews[i];
      if (e.sealed.empty()) continue;
      auto opened = Decrypt(e.sealed, ReviewAd(e), key);
      if (!opened) {
        return Fail(Code::kTampered, "vault: review entry " + std::to_string(out.reviews[i].seq) +
                                         " of " + id + ": its values do not open (" +
                                         opened.error().message + ")");
      }
      const auto bytes = opened->bytes();
      out.reviews[i].values.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
  }
  // As every read: logged durably before anything is handed back.
  const AccessEntry e{id, static_cast<std::uint8_t>(BlobKind::kFields), std::string(purpose)};
  Status logged = im.Append(EntryType::kView, EncodeAccess(e));
  if (!logged) {
    return Wrap(logged.error(), "vault: " + id + ": the read could not be logged, so it is refused");
  }
  return out;
}

Status Vault::Checkout(const std::string& id, const std::string& to, const std::string& due,
                       const std::string& reason) {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  CU_TRY(im.Require(EntryType::kCheckout));
  if (im.state.FindDoc(id) == nullptr) return Fail(Code::kNotFound, "vault: no document " + id);
  if (to.empty()) return Fail(Code::kInvalidArgument, "vault: checkout: say to whom");
  if (!ValidDate(due)) {
    return Fail(Code::kInvalidArgument,
                "vault: checkout: due date \"" + due + "\" is not a date written YYYY-MM-DD");
  }
  if (auto it = im.state.loans().find(id); it != im.state.loans().end()) {
    return Fail(Code::kFailedPrecondition, "vault: " + id + " is already on loan to " +
                                               it->second.to + ", due " + it->second.due +
                                               "; return it first");
  }
  return im.Append(EntryType::kCheckout, EncodeCheckout(CheckoutEntry{id, to, due, reason}));
}

Status Vault::Return(const std::string& id, const std::string& note) {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  CU_TRY(im.Require(EntryType::kReturn));
  if (im.state.FindDoc(id) == nullptr) return Fail(Code::kNotFound, "vault: no document " + id);
  if (im.state.loans().find(id) == im.state.loans().end()) {
    return Fail(Code::kFailedPrecondition, "vault: " + id + " is not on loan");
  }
  return im.Append(EntryType::kReturn, EncodeReturn(ReturnEntry{id, note}));
}

std::vector<Loan> Vault::Loans() const {
  CU_CHECK(impl_ != nullptr);
  std::vector<Loan> out;
  for (const auto& [id, loan] : impl_->state.loans()) out.push_back(loan);
  std::sort(out.begin(), out.end(), [](const Loan& a, const Loan& b) { return a.seq < b.seq; });
  return out;
}

Result<std::vector<Loan>> Vault::Overdue(const std::string& today) const {
  if (!ValidDate(today)) {
    return Fail(Code::kInvalidArgument,
                "vault: overdue: \"" + today + "\" is not a date written YYYY-MM-DD");
  }
  std::vector<Loan> out;
  for (Loan& loan : Loans()) {
    if (loan.due < today) out.push_back(std::move(loan));  // YYYY-MM-DD sorts as dates do
  }
  return out;
}

Status Vault::RecordCheckpoint(std::uint64_t tree_size, std::span<const std::uint8_t> root) {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  CU_TRY(im.Require(EntryType::kCheckpoint));
  if (tree_size > im.state.entries()) {
    return Fail(Code::kInvalidArgument, "vault: checkpoint of " + std::to_string(tree_size) +
                                            " entries, but the ledger has " +
                                            std::to_string(im.state.entries()));
  }
  if (root.size() != kHashSize) {
    return Fail(Code::kInvalidArgument, "vault: checkpoint root must be 32 bytes");
  }
  CheckpointEntry e;
  e.tree_size = tree_size;
  std::copy(root.begin(), root.end(), e.root.begin());
  auto actual = im.tree.Root(tree_size);
  CU_CHECK(actual.has_value());
  if (!tlog::HashEquals(*actual, e.root)) {
    return Fail(Code::kInvalidArgument, "vault: checkpoint root is not the ledger's root at " +
                                            std::to_string(tree_size) + " entries");
  }
  return im.Append(EntryType::kCheckpoint, EncodeCheckpoint(e));
}

std::string Vault::origin() const {
  CU_CHECK(impl_ != nullptr);
  return OriginOf(impl_->header);
}

Result<std::string> Vault::IssueCheckpoint() {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  CU_TRY(im.Writable());
  CU_TRY(im.Require(EntryType::kCheckpoint));
  // The note first: if it cannot be signed, nothing is recorded.
  CU_ASSIGN_OR_RETURN(std::string note, im.SignTreeHead());
  CheckpointEntry e;
  e.tree_size = im.tree.size();
  e.root = im.tree.Root();
  CU_TRY(im.Append(EntryType::kCheckpoint, EncodeCheckpoint(e)));
  return note;
}

Result<std::string> Vault::VerifierKey(const std::string& user) const {
  CU_CHECK(impl_ != nullptr);
  const UserState* u = impl_->state.FindUser(user);
  if (u == nullptr) return Fail(Code::kNotFound, "vault: no user " + user);
  auto key = tlog::MakeVerifierKey(KeyNameOf(impl_->header, user), u->sign_public);
  if (!key) return Wrap(key.error(), "vault: verifier key of " + user);
  return tlog::EncodeVerifierKey(*key);
}

Result<std::string> Vault::Prove(const std::string& id) {
  CU_CHECK(impl_ != nullptr);
  Impl& im = *impl_;
  CU_TRY(im.Require(EntryType::kCheckpoint));
  const DocState* doc = im.state.FindDoc(id);
  if (doc == nullptr) return Fail(Code::kNotFound, "vault: no document " + id);
  tlog::TlogProof proof;
  proof.index = doc->record.seq - 1;
  auto path = im.tree.InclusionProof(proof.index, im.tree.size());
  CU_CHECK(path.has_value());
  proof.proof = std::move(path).value();
  CU_ASSIGN_OR_RETURN(proof.checkpoint, im.SignTreeHead());
  auto text = tlog::EncodeTlogProof(proof);
  if (!text) return Wrap(text.error(), "vault: proof of " + id);
  return text;
}

Result<CheckpointCheck> Vault::VerifyCheckpoint(std::string_view note) const {
  CU_CHECK(impl_ != nullptr);
  CU_ASSIGN_OR_RETURN(const Impl::CheckedNote checked, impl_->CheckNote(note));
  return CheckpointCheck{checked.checkpoint.size, impl_->tree.size(), checked.signer};
}

Result<CheckpointCheck> Vault::VerifyProof(std::string_view proof, const std::string& id) const {
  CU_CHECK(impl_ != nullptr);
  const Impl& im = *impl_;
  auto parsed = tlog::ParseTlogProof(proof);
  if (!parsed) return Wrap(parsed.error(), "vault: proof");
  const DocState* doc = im.state.FindDoc(id);
  if (doc == nullptr) return Fail(Code::kNotFound, "vault: no document " + id);
  CU_ASSIGN_OR_RETURN(const Impl::CheckedNote checked, im.CheckNote(parsed->checkpoint));
  const std::uint64_t index = doc->record.seq - 1;
  if (parsed->index != index) {
    return Fail(Code::kTampered, "vault: proof: for leaf " + std::to_string(parsed->index) +
                                     ", but the ingest entry of " + id + " is leaf " +
                                     std::to_string(index));
  }
  auto verified =
      tlog::VerifyTlogProof(*parsed, im.tree.leaf(index), OriginOf(im.header), checked.key);
  if (!verified) return Wrap(verified.error(), "vault: proof of " + id);
  return CheckpointCheck{checked.checkpoint.size, im.tree.size(), checked.signer};
}

std::vector<Event> Vault::Log() const {
  CU_CHECK(impl_ != nullptr);
  return impl_->state.events();
}

std::size_t Vault::entry_count() const {
  CU_CHECK(impl_ != nullptr);
  return impl_->entry_spans.size();
}

std::span<const std::uint8_t> Vault::entry_bytes(std::size_t index) const {
  CU_CHECK(impl_ != nullptr && index < impl_->entry_spans.size());
  const auto [offset, size] = impl_->entry_spans[index];
  return std::span<const std::uint8_t>(impl_->ledger_bytes).subspan(offset, size);
}

std::string Vault::archive_id() const {
  CU_CHECK(impl_ != nullptr);
  return Hex(impl_->header.archive_id);
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
  const std::uint64_t known = im.state.entries();
  if (scan.entries.size() != known) {
    return Fail(Code::kTampered, "vault: ledger holds " + std::to_string(scan.entries.size()) +
                                     " entries, but " + std::to_string(known) +
                                     " were read or written since the vault was opened");
  }
  if (known > 0 && !HashEquals(scan.entries.back().hash, im.last_hash)) {
    return Fail(Code::kTampered, "vault: ledger rewritten since the vault was opened (entry " +
                                     std::to_string(known) + " differs)");
  }
  // Replayed from scratch: signatures, roles, loans; the Merkle tree
  // rebuilt, and every checkpoint entry's root checked against it.
  // An Ed25519 signature is not checked again for an entry that is, with
  // the header and every entry before it, byte for byte what this vault
  // already checked in full (Open's replay, or an append's own check): the
  // state it is checked against is then the same, and so is the outcome.
  // The first entry that differs, and every one after it, is checked in
  // full; every other check runs for every entry.
  const std::span<const std::uint8_t> checked(im.ledger_bytes);
  const std::span<const std::uint8_t> file(*bytes);
  bool same = !scan.entries.empty() && scan.entries.front().offset <= checked.size() &&
              scan.entries.front().offset <= file.size() &&
              std::equal(file.begin(), file.begin() + scan.entries.front().offset, checked.begin());
  // `same` is decided in order: ReplayEntries asks about entry i only after
  // it has asked about every entry before it.
  LedgerState state(scan.header);
  tlog::MerkleTree tree;
  auto already_verified = [&](std::size_t i) {
    const Entry& entry = scan.entries[i];
    if (same) {
      same = i < im.entry_spans.size() && im.entry_spans[i].first == entry.offset &&
             im.entry_spans[i].second == entry.bytes.size() &&
             entry.offset + entry.bytes.size() <= checked.size() &&
             std::equal(entry.bytes.begin(), entry.bytes.end(), checked.begin() + entry.offset);
    }
    return same;
  };
  auto grow_tree = [&](std::size_t i) -> Status {
    const Entry& entry = scan.entries[i];
    CU_TRY(CheckRecordedRoot(entry, tree));
    tree.Append(LeafOf(entry.bytes));
    return Ok();
  };
  CU_TRY(ReplayEntries(state, scan.entries, VerifyThreads(), already_verified, grow_tree));
  if (!tlog::HashEquals(tree.Root(), im.tree.Root())) {
    return Fail(Code::kTampered, "vault: ledger's Merkle root differs from the open vault's");
  }

  VerifyReport report;
  report.entries = scan.entries.size();
  // Every blob a document names: present, named by its hash, well formed.
  // Checked on every core (reading and hashing them is most of this part);
  // the defect reported is the first in ledger order.
  struct BlobCheck {
    BlobRef ref;
    const IngestEntry* entry;
    std::uint64_t seq;
  };
  std::vector<BlobCheck> blobs;
  std::set<std::string> referenced;
  for (const DocState& doc : state.docs()) {
    for (const BlobRef& b : BlobsOf(doc.entry)) {
      blobs.push_back({b, &doc.entry, doc.record.seq});
      referenced.insert(Hex(b.blob));
    }
  }
  auto check_blob = [&](std::size_t i) -> Status {
    const BlobCheck& c = blobs[i];
    const BlobLabel label{c.entry->doc_id, static_cast<BlobKind>(c.ref.kind), c.ref.size};
    CU_TRY(im.ReadCheckedBlob(c.ref.blob, label, c.seq));
    return Ok();
  };
  CU_TRY(CheckAllInOrder(blobs.size(), VerifyThreads(), check_blob));
  report.blobs = blobs.size();
  if (state.rotation_seq() > 0) CU_TRY(im.ReadKeyFile(state));
  // Every file under blobs/ that no entry names (a crash between a blob
  // write and its entry leaves one; so does a planted file).
  auto fans = im.env->ListDir(im.dir / kBlobDir);
  if (!fans) return Wrap(fans.error(), "vault: blobs");
  for (const std::string& fan : *fans) {
    auto names = im.env->ListDir(im.dir / kBlobDir / fan);
    if (!names) {
      report.unreferenced_blobs.push_back(fan);
      continue;
    }
    for (const std::string& name : *names) {
      if (name.ends_with(".tmp")) continue;  // an interrupted atomic write
      if (!name.starts_with(fan) || referenced.count(name) == 0) {
        report.unreferenced_blobs.push_back(fan + "/" + name);
      }
    }
  }
  report.users = state.users().size();
  report.loans = state.loans().size();
  return report;
}

Result<VerifyReport> Vault::VerifyDeep() const {
  CU_CHECK(impl_ != nullptr);
  const Impl& im = *impl_;
  constexpr auto kMayDecrypt =
      static_cast<std::uint8_t>(Role::kArchivist) | static_cast<std::uint8_t>(Role::kAdmin);
  const UserState* user = im.session ? im.state.FindUser(im.session->name) : nullptr;
  if (user == nullptr || user->revoked || (user->roles & kMayDecrypt) == 0 ||
      !im.session->epoch_key.has_value()) {
    return Fail(Code::kPermissionDenied,
                "vault: deep verification decrypts; it needs the archivist or admin role");
  }
  // The public checks first: the ledger the keys come from must be sound.
  CU_ASSIGN_OR_RETURN(VerifyReport report, Verify());
  for (const DocState& doc : im.state.docs()) {
    for (const BlobRef& b : BlobsOf(doc.entry)) {
      // ReadBlob: hash and shape, unwrap under the current epoch, every
      // chunk authenticated up to TAG_FINAL and EOF, and the original's
      // hash. Nothing is appended: the plaintext never leaves this loop.
      CU_ASSIGN_OR_RETURN(Bytes plaintext, im.ReadBlob(doc, static_cast<BlobKind>(b.kind)));
      const std::uint64_t got = plaintext.size();
      Wipe(plaintext);
      if (got != b.size) {
        return Fail(Code::kTampered, "vault: blob " + Hex(b.blob) + ": decrypts to " +
                                         std::to_string(got) + " bytes, entry " +
                                         std::to_string(doc.record.seq) + " records " +
                                         std::to_string(b.size));
      }
      ++report.decrypted;
    }
  }
  return report;
}

std::uint64_t Vault::torn_tail_bytes() const {
  CU_CHECK(impl_ != nullptr);
  return impl_->torn_tail_bytes;
}

}  // namespace custodia::vault
