// vault/record.h (internal): the payloads of ledger entries, one strict TLV
// encoding per entry type (docs/vault_format.md, "Payloads").
#ifndef CUSTODIA_VAULT_RECORD_H_
#define CUSTODIA_VAULT_RECORD_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/result.h"
#include "vault/blob.h"
#include "vault/crypto.h"
#include "vault/vault.h"

namespace custodia::vault {

// One sealed artefact of a document: its kind, plaintext size, blob name and
// blob key wrapped under the entry's epoch.
struct BlobRef {
  std::uint8_t kind = 0;  // BlobKind
  std::uint64_t size = 0;
  Hash blob{};
  WrappedKey key{};
};

struct IngestEntry {
  std::string doc_id;
  std::string source;
  std::uint32_t pages = 0;
  std::string type;
  std::string status;
  std::string fields_json;
  std::uint32_t key_epoch = 0;  // the epoch whose key wrapped the blob keys
  std::uint64_t original_size = 0;
  Hash original_hash{};  // BLAKE2b-256 of the original plaintext
  Hash original_blob{};  // the original's blob name
  WrappedKey original_key{};
  std::uint64_t text_size = 0;
  Hash text_blob{};
  WrappedKey text_key{};
  // Further artefacts (hOCR, searchable PDF), each kind at most once, in the
  // order sealed. Encoded only when there are some, so an entry without
  // them is byte for byte what format 2 always wrote.
  std::vector<BlobRef> extras;
};

// Every artefact of `entry` in key order: original, text, then the extras.
std::vector<BlobRef> BlobsOf(const IngestEntry& entry);

// A view (type 2) or an export (type 3).
struct AccessEntry {
  std::string doc_id;
  std::uint8_t artefact = 0;  // BlobKind: 1 original, 2 text, 3 hocr, 4 pdf
  std::string purpose;
};

struct CorrectionEntry {
  std::string doc_id;
  std::string field;
  std::string old_value;
  std::string new_value;
};

// A review decision (type 13). The values a person typed are document
// content: they travel in `sealed`, encrypted under a key derived from the
// document's text blob key (so only its readers can open them, and a key
// rotation, which rewraps that key, keeps them readable).
struct ReviewEntry {
  std::string doc_id;
  std::uint8_t action = 0;  // 1 set a field, 2 set the type, 3 approve
  std::string field;        // action 1: the field's name; empty otherwise
  std::string type;         // the document's type afterwards
  std::string status;       // its status afterwards: "review" or "approved"
  Bytes sealed;             // empty (approve), or Encrypt(values, ReviewAd(...))
};

// The additional data `sealed` is bound to: the document, action and field.
Bytes ReviewAd(const ReviewEntry& entry);

// One document of a batch entry. `duplicate` is the byte as read (0 or 1
// when sound; replay judges it).
struct BatchEntryDocument {
  std::string id;
  std::string case_file;  // empty, or 1..64 bytes of [A-Za-z0-9._/-]
  std::uint32_t first_page = 0;
  std::uint32_t pages = 0;
  std::uint8_t duplicate = 0;
};

// What became of one batch a station dropped in a hot folder (type 14).
// Source, reason and case files are in clear; no document content.
struct BatchEntry {
  std::string source;
  std::optional<Hash> source_hash;  // none when the batch could not be read
  std::uint8_t outcome = 0;         // BatchOutcome: 1 archived, 2 quarantined
  std::string reason;               // quarantined: why; archived: empty
  std::uint32_t pages = 0;
  std::uint32_t blank_pages = 0;
  std::uint32_t separators = 0;
  std::vector<BatchEntryDocument> documents;
};

struct CheckoutEntry {
  std::string doc_id;
  std::string to;
  std::string due;  // YYYY-MM-DD
  std::string reason;
};

struct ReturnEntry {
  std::string doc_id;
  std::string note;
};

struct UserAddedEntry {
  std::string name;
  SignPublicKey sign_public{};
  BoxPublicKey box_public{};
  std::uint8_t roles = 0;               // Role bits
  std::uint32_t epoch = 0;              // of sealed_key
  std::optional<SealedKey> sealed_key;  // present iff a role needs the key
};

// A role granted (type 8) or revoked (type 9; epoch 0, no sealed key).
struct RoleEntry {
  std::string name;
  std::uint8_t role = 0;  // one Role bit
  std::uint32_t epoch = 0;
  std::optional<SealedKey> sealed_key;
};

struct UserRevokedEntry {
  std::string name;
};

struct KeyGrant {
  std::string name;
  SealedKey sealed{};
};

struct RotationEntry {
  std::uint32_t epoch = 0;
  Hash key_id{};
  Hash key_file_hash{};  // BLAKE2b of keys/epoch-<n>; zero when no blob was rewrapped
  std::vector<KeyGrant> grants;
};

struct CheckpointEntry {
  std::uint64_t tree_size = 0;
  Hash root{};
};

// Each Decode* parses a payload written by its Encode*. kCorruption (message
// without a "vault:" prefix; the caller names the entry) if any field is
// missing, out of order, of the wrong size, unknown, or followed by extra
// bytes.
Bytes EncodeIngest(const IngestEntry& entry);
Result<IngestEntry> DecodeIngest(std::span<const std::uint8_t> payload);
Bytes EncodeAccess(const AccessEntry& entry);
Result<AccessEntry> DecodeAccess(std::span<const std::uint8_t> payload);
Bytes EncodeCorrection(const CorrectionEntry& entry);
Result<CorrectionEntry> DecodeCorrection(std::span<const std::uint8_t> payload);
Bytes EncodeReview(const ReviewEntry& entry);
Result<ReviewEntry> DecodeReview(std::span<const std::uint8_t> payload);
Bytes EncodeBatch(const BatchEntry& entry);
Result<BatchEntry> DecodeBatch(std::span<const std::uint8_t> payload);
Bytes EncodeCheckout(const CheckoutEntry& entry);
Result<CheckoutEntry> DecodeCheckout(std::span<const std::uint8_t> payload);
Bytes EncodeReturn(const ReturnEntry& entry);
Result<ReturnEntry> DecodeReturn(std::span<const std::uint8_t> payload);
Bytes EncodeUserAdded(const UserAddedEntry& entry);
Result<UserAddedEntry> DecodeUserAdded(std::span<const std::uint8_t> payload);
Bytes EncodeRole(const RoleEntry& entry);
Result<RoleEntry> DecodeRole(std::span<const std::uint8_t> payload);
Bytes EncodeUserRevoked(const UserRevokedEntry& entry);
Result<UserRevokedEntry> DecodeUserRevoked(std::span<const std::uint8_t> payload);
Bytes EncodeRotation(const RotationEntry& entry);
Result<RotationEntry> DecodeRotation(std::span<const std::uint8_t> payload);
Bytes EncodeCheckpoint(const CheckpointEntry& entry);
Result<CheckpointEntry> DecodeCheckpoint(std::span<const std::uint8_t> payload);

// The public view of an ingest entry.
Record ToRecord(const IngestEntry& entry, std::uint64_t seq, std::int64_t micros,
                const std::string& actor);

}  // namespace custodia::vault

#endif  // CUSTODIA_VAULT_RECORD_H_
