// vault/ledger.h (internal): framing of the append-only, hash-chained
// ledger file (docs/vault_format.md, "Ledger"). This layer knows headers,
// entries and hashes; what an entry's payload means is record.h's business.
#ifndef CUSTODIA_VAULT_LEDGER_H_
#define CUSTODIA_VAULT_LEDGER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/env.h"
#include "base/result.h"
#include "vault/crypto.h"

namespace custodia::vault {

inline constexpr std::uint32_t kLedgerVersion = 1;
// magic:8 version:u32le flags:u32le archive_id:32 key_id:32 hash:32
inline constexpr std::size_t kLedgerHeaderSize = 8 + 4 + 4 + 32 + 32 + 32;
// length:u32le length_check:u32le type:u8 seq:u64le prev_hash:32 ... hash:32
inline constexpr std::size_t kEntryFrameSize = 8;
inline constexpr std::size_t kEntryOverhead = 4 + 4 + 1 + 8 + 32 + 32;
// Larger payloads are refused by the writer and treated as damage by readers.
inline constexpr std::uint32_t kMaxPayloadSize = 16u << 20;

enum class EntryType : std::uint8_t {
  kIngest = 1,  // a document was sealed (record.h)
};

struct LedgerHeader {
  Hash archive_id{};  // random, chosen at Create
  Hash key_id{};      // KeyId() of the archive key
  Hash hash{};        // over the bytes above; the first entry's prev_hash
};

// One entry as read from a ledger. `payload` points into the scanned bytes.
struct Entry {
  EntryType type = EntryType::kIngest;
  std::uint64_t seq = 0;
  std::uint64_t offset = 0;  // of the entry's first byte in the file
  Hash prev_hash{};
  std::span<const std::uint8_t> payload;
  Hash hash{};
};

// The kLedgerHeaderSize bytes that begin a new ledger; `*header` (optional)
// receives their parsed form.
Bytes EncodeLedgerHeader(const Hash& archive_id, const Hash& key_id, LedgerHeader* header);

struct EncodedEntry {
  Bytes bytes;
  Hash hash{};
};
// REQUIRES: payload.size() <= kMaxPayloadSize.
EncodedEntry EncodeEntry(EntryType type, std::uint64_t seq, const Hash& prev_hash,
                         std::span<const std::uint8_t> payload);

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
// framing, hash, sequence number and link to the previous entry. A tail
// that looks like an interrupted append (shorter than the length its frame
// declares, shorter than a frame, or all zero bytes) is not an error under
// kCutTorn: `end` stops before it. Anything else is: kCorruption for
// malformed bytes (bad magic, version, length field, unknown type),
// kTampered for well-formed bytes that do not verify (hash, seq, chain),
// named "vault: entry <seq> at offset <n>: ...".
// The result's spans point into `bytes`, which must outlive it.
Result<LedgerScan> ScanLedger(std::span<const std::uint8_t> bytes, TailPolicy tail);

}  // namespace custodia::vault

#endif  // CUSTODIA_VAULT_LEDGER_H_
