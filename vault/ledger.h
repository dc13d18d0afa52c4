// vault/ledger.h (internal): framing of the append-only, hash-chained,
// signed ledger file (docs/vault_format.md, "Ledger"). This layer knows
// headers, entries, hashes and the bytes that are signed; what an entry's
// payload means, and whose key must have signed it, is replay.h's business.
#ifndef CUSTODIA_VAULT_LEDGER_H_
#define CUSTODIA_VAULT_LEDGER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "base/result.h"
#include "vault/crypto.h"

namespace custodia::vault {

inline constexpr std::uint32_t kLedgerVersion = 2;
// magic:8 version:u32le flags:u32le archive_id:32 key_id:32 hash:32
inline constexpr std::size_t kLedgerHeaderSize = 8 + 4 + 4 + 32 + 32 + 32;
// length:u32le length_check:u32le
inline constexpr std::size_t kEntryFrameSize = 8;
// body := type:u8 seq:u64le time:u64le prev_hash:32 actor_size:u8 actor payload
inline constexpr std::size_t kBodyFixedSize = 1 + 8 + 8 + 32 + 1;
// frame, then body:length, then signature:64 hash:32
inline constexpr std::size_t kEntryOverhead = kEntryFrameSize + kSignatureSize + kHashSize;
// Larger bodies are refused by the writer and treated as damage by readers.
inline constexpr std::uint32_t kMaxBodySize = 16u << 20;
inline constexpr std::size_t kMaxNameSize = 32;  // user names (actors)

enum class EntryType : std::uint8_t {
  kIngest = 1,      // a document was sealed
  kView = 2,        // an artefact was decrypted for reading
  kExport = 3,      // an artefact was decrypted to leave the archive
  kCorrection = 4,  // retired: a correction with its values in clear (read, never written)
  kCheckout = 5,    // a document went out on loan
  kReturn = 6,      // it came back
  kUserAdded = 7,
  kRoleGranted = 8,
  kRoleRevoked = 9,
  kUserRevoked = 10,
  kKeyRotation = 11,  // a new key epoch began
  kCheckpoint = 12,   // a signed checkpoint was issued
  kReview = 13,       // an archivist's decision on a document in review
  kBatch = 14,        // what became of one batch a scanning station dropped in a hot folder
};
inline constexpr std::uint8_t kMaxEntryType = 14;

// A lower-case name for `type` ("ingest", "user-added").
const char* EntryTypeName(EntryType type);

struct LedgerHeader {
  Hash archive_id{};  // random, chosen at Create
  Hash key_id{};      // KeyId() of the epoch 1 key
  Hash hash{};        // over the bytes above; the first entry's prev_hash
};

// One entry as read from a ledger. Spans point into the scanned bytes.
struct Entry {
  EntryType type = EntryType::kIngest;
  std::uint64_t seq = 0;
  std::int64_t micros = 0;   // UTC
  std::uint64_t offset = 0;  // of the entry's first byte in the file
  Hash prev_hash{};
  std::string actor;
  std::span<const std::uint8_t> payload;
  Signature signature{};
  std::span<const std::uint8_t> signed_part;  // frame and body: what the signature covers
  std::span<const std::uint8_t> bytes;        // the whole entry, hash included
  Hash hash{};
};

// The kLedgerHeaderSize bytes that begin a new ledger; `*header` (optional)
// receives their parsed form.
Bytes EncodeLedgerHeader(const Hash& archive_id, const Hash& key_id, LedgerHeader* header);

// The message an entry's Ed25519 signature covers:
// "custodia.vault.entry-sig.v2" || 0x00 || archive_id || `signed_part`.
Bytes SignedMessage(const Hash& archive_id, std::span<const std::uint8_t> signed_part);

struct EntryFields {
  EntryType type = EntryType::kIngest;
  std::uint64_t seq = 0;
  std::int64_t micros = 0;
  Hash prev_hash{};
  std::string actor;
  Bytes payload;
};

struct EncodedEntry {
  Bytes bytes;
  Hash hash{};
};
// Frames, signs (as `signer`, for archive `archive_id`) and hashes one entry.
// REQUIRES: 1 <= actor.size() <= kMaxNameSize, the body within kMaxBodySize.
EncodedEntry EncodeEntry(const EntryFields& fields, const Hash& archive_id, const Identity& signer);

// Whether an entry with this actor and payload fits kMaxBodySize.
bool EntryFits(std::string_view actor, std::size_t payload_size);

// What to do with an incomplete last entry.
enum class TailPolicy {
  kCutTorn,  // report it in LedgerScan::end (Open truncates the file there)
  kStrict,   // an error (Verify: the open vault cut it already)
};

struct LedgerScan {
  LedgerHeader header;
  std::vector<Entry> entries;  // seq 1, 2, ... in file order
  std::uint64_t end = 0;       // bytes of the header and complete entries
};

// Checks `bytes`, a whole ledger file: header, then for every entry its
// framing, hash, sequence number and link to the previous entry. It does
// not check signatures (that needs the users, replay.h). A tail that looks
// like an interrupted append (shorter than the length its frame declares,
// shorter than a frame, or all zero bytes) is not an error under kCutTorn:
// `end` stops before it. Anything else is: kCorruption for malformed bytes
// (bad magic, version, length field, unknown type, bad actor), kTampered
// for well-formed bytes that do not verify (hash, seq, chain), named
// "vault: entry <seq> at offset <n>: ...".
// The result's spans point into `bytes`, which must outlive it.
Result<LedgerScan> ScanLedger(std::span<const std::uint8_t> bytes, TailPolicy tail);

// Parses the single complete entry `bytes` (as EncodeEntry wrote it) at
// `offset`. The spans point into `bytes`.
Result<Entry> ParseEntry(std::span<const std::uint8_t> bytes, std::uint64_t offset);

}  // namespace custodia::vault

#endif  // CUSTODIA_VAULT_LEDGER_H_
