// vault/vault.h: the encrypted, hash-chained custody store, the archive's
// only source of truth. Originals and extracted text are sealed as encrypted
// blobs; every seal is an entry of an append-only, hash-chained ledger.
// A Vault is not thread-safe; one process holds it at a time (the directory
// is locked while it is open).
#ifndef CUSTODIA_VAULT_VAULT_H_
#define CUSTODIA_VAULT_VAULT_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/result.h"

namespace custodia::vault {

struct Options {
  Env* env = Env::Default();
};

// What the caller hands over to be sealed.
struct SealRequest {
  std::span<const std::uint8_t> original;  // the file's bytes, exactly
  std::string text;                        // extracted text, pages separated by '\f'
  std::string source;                      // the path as the user gave it
  int pages = 0;
  std::string type;                        // document type ("unclassified" for now)
  std::string status;                      // routing status
  std::string fields_json;                 // extracted fields, a JSON object
  std::string actor;                       // who sealed it ("admin")
};

// One sealed document, as the ledger records it.
struct Record {
  std::string id;              // "D000001"
  std::uint64_t seq = 0;       // ledger sequence number of its ingest entry
  std::int64_t sealed_micros = 0;
  std::string source;
  int pages = 0;
  std::string type;
  std::string status;
  std::string fields_json;
  std::string actor;
  std::string original_hash;   // hex BLAKE2b-256 of the original plaintext
  std::uint64_t original_size = 0;
  std::string original_blob;   // hex name of the original's blob
  std::string text_blob;       // hex name of the text's blob
};

struct VerifyReport {
  std::uint64_t entries = 0;
  std::uint64_t blobs = 0;
};

class Vault {
 public:
  // Creates a new vault in `dir` (which must not exist, or be empty) with a
  // fresh archive key. kAlreadyExists if `dir` already holds a vault or
  // anything else; kIo (and friends) if the file system refuses. The layout
  // is in docs/vault_format.md.
  static Status Create(const std::filesystem::path& dir, const Options& options = {});

  // Opens the vault in `dir`, locking it and reading the ledger. kNotFound if
  // there is none; kFailedPrecondition if another process (or another Vault
  // in this one) holds it; kCorruption or kTampered if the ledger does not
  // verify; kPermissionDenied if the key file is not this vault's;
  // kUnsupported for another format version. An incomplete last entry (a
  // crash mid-append) is cut off, see torn_tail_bytes(); nothing else is
  // ever repaired.
  static Result<Vault> Open(const std::filesystem::path& dir, const Options& options = {});

  // A moved-from Vault may only be destroyed or assigned to.
  Vault(Vault&&) noexcept;
  Vault& operator=(Vault&&) noexcept;
  ~Vault();

  // Encrypts and writes the original and the text, fsyncs them, appends an
  // ingest entry and fsyncs the ledger. When this returns, the document is
  // durable. Does not deduplicate: callers ask FindByHash first.
  // kInvalidArgument for a negative page count or a record over the
  // ledger's entry limit; kIo if a write fails (nothing is sealed then);
  // kFailedPrecondition after a failed append that could not be undone.
  Result<Record> Seal(const SealRequest& request);

  // Hex BLAKE2b-256 of `bytes`, as Record::original_hash holds it.
  static std::string HashHex(std::span<const std::uint8_t> bytes);

  // The record of a document; kNotFound if unknown.
  Result<Record> Find(const std::string& id) const;
  // The document whose original has this hash, if any.
  std::optional<Record> FindByHash(const std::string& original_hash) const;
  // All documents in ledger order.
  std::vector<Record> List() const;

  // Decrypts a document's original or text. kNotFound if the id is
  // unknown; kTampered if its blob is missing, altered or relabelled, or
  // (original) its plaintext does not match original_hash; kCorruption if
  // the blob is malformed.
  Result<std::vector<std::uint8_t>> ReadOriginal(const std::string& id) const;
  Result<std::string> ReadText(const std::string& id) const;

  // Re-reads the whole ledger and checks framing, sequence and hash chain,
  // that every referenced blob exists and hashes to its name. The first
  // defect is the error (naming the entry or blob).
  Result<VerifyReport> Verify() const;

  // Bytes of an incomplete last ledger entry (an append interrupted by a
  // crash) that Open cut off; 0 normally. Nothing acknowledged is lost by
  // the cut, since Seal returns only after the whole entry is synced, but
  // callers should log it.
  std::uint64_t torn_tail_bytes() const;

 private:
  struct Impl;
  explicit Vault(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custodia::vault

#endif  // CUSTODIA_VAULT_VAULT_H_
