// vault/ledger.cc: encode and scan ledger headers and entries. The byte
// layout is in docs/vault_format.md; keep the two in step.
#include "vault/ledger.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "vault/coding.h"

namespace custodia::vault {
namespace {

constexpr std::string_view kLedgerMagic = "CUSTLEDG";
constexpr std::string_view kHeaderDomain = "custodia.vault.ledger-header.v1";
constexpr std::string_view kEntryDomain = "custodia.vault.ledger-entry.v1";

// Offsets inside an entry.
constexpr std::size_t kTypeOffset = 8;
constexpr std::size_t kSeqOffset = 9;
constexpr std::size_t kPrevOffset = 17;
constexpr std::size_t kPayloadOffset = 49;

// The length field is followed by its complement. A torn append leaves an
// entry shorter than its frame says; a damaged length field would look the
// same, and without this check a flipped length byte in the last entry
// would be "repaired" by cutting the entry away. With it, damage to the
// length is an error and only a genuine short tail is cut.
std::uint32_t LengthCheck(std::uint32_t length) { return ~length; }

bool AllZero(std::span<const std::uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

bool KnownType(std::uint8_t type) { return type == static_cast<std::uint8_t>(EntryType::kIngest); }

}  // namespace

Bytes EncodeLedgerHeader(const Hash& archive_id, const Hash& key_id, LedgerHeader* header) {
  Bytes out;
  out.reserve(kLedgerHeaderSize);
  PutString(out, kLedgerMagic);
  PutU32(out, kLedgerVersion);
  PutU32(out, 0);  // flags: none defined
  PutBytes(out, archive_id);
  PutBytes(out, key_id);
  const Hash hash = DomainHash(kHeaderDomain, out);
  PutBytes(out, hash);
  CU_CHECK(out.size() == kLedgerHeaderSize);
  if (header != nullptr) {
    header->archive_id = archive_id;
    header->key_id = key_id;
    header->hash = hash;
  }
  return out;
}

EncodedEntry EncodeEntry(EntryType type, std::uint64_t seq, const Hash& prev_hash,
                         std::span<const std::uint8_t> payload) {
  CU_CHECK(payload.size() <= kMaxPayloadSize);
  const auto length = static_cast<std::uint32_t>(payload.size());
  EncodedEntry entry;
  entry.bytes.reserve(kEntryOverhead + payload.size());
  PutU32(entry.bytes, length);
  PutU32(entry.bytes, LengthCheck(length));
  entry.bytes.push_back(static_cast<std::uint8_t>(type));
  PutU64(entry.bytes, seq);
  PutBytes(entry.bytes, prev_hash);
  PutBytes(entry.bytes, payload);
  entry.hash = DomainHash(kEntryDomain, entry.bytes);
  PutBytes(entry.bytes, entry.hash);
  return entry;
}

Result<LedgerScan> ScanLedger(std::span<const std::uint8_t> bytes, TailPolicy tail) {
  if (bytes.size() < kLedgerHeaderSize) {
    return Fail(Code::kCorruption, "vault: ledger header incomplete (" +
                                       std::to_string(bytes.size()) + " of " +
                                       std::to_string(kLedgerHeaderSize) + " bytes)");
  }
  if (std::memcmp(bytes.data(), kLedgerMagic.data(), kLedgerMagic.size()) != 0) {
    return Fail(Code::kCorruption, "vault: ledger header: not a custodia ledger (bad magic)");
  }
  const std::uint32_t version = GetU32(bytes.data() + 8);
  if (version != kLedgerVersion) {
    return Fail(Code::kCorruption, "vault: ledger header: format version " +
                                       std::to_string(version) +
                                       " is not supported by this custodia");
  }
  if (GetU32(bytes.data() + 12) != 0) {
    return Fail(Code::kCorruption, "vault: ledger header: unknown flags");
  }
  LedgerScan scan;
  std::memcpy(scan.header.archive_id.data(), bytes.data() + 16, kHashSize);
  std::memcpy(scan.header.key_id.data(), bytes.data() + 48, kHashSize);
  std::memcpy(scan.header.hash.data(), bytes.data() + 80, kHashSize);
  if (!HashEquals(scan.header.hash, DomainHash(kHeaderDomain, bytes.first(80)))) {
    return Fail(Code::kTampered, "vault: ledger header: hash mismatch");
  }

  std::size_t pos = kLedgerHeaderSize;
  std::uint64_t seq = 1;
  Hash prev = scan.header.hash;  // the chain's genesis
  while (pos < bytes.size()) {
    const std::span<const std::uint8_t> rest = bytes.subspan(pos);
    const std::string where =
        "vault: entry " + std::to_string(seq) + " at offset " + std::to_string(pos);
    bool torn = false;
    std::uint32_t length = 0;
    if (rest.size() < kEntryFrameSize || AllZero(rest)) {
      // Too short for a frame, or a crash extended the file without its
      // data reaching the disk.
      torn = true;
    } else {
      length = GetU32(rest.data());
      if (GetU32(rest.data() + 4) != LengthCheck(length)) {
        return Fail(Code::kCorruption, where + ": damaged length field");
      }
      if (length > kMaxPayloadSize) {
        return Fail(Code::kCorruption, where + ": length " + std::to_string(length) +
                                           " exceeds the limit of " +
                                           std::to_string(kMaxPayloadSize));
      }
      torn = rest.size() < kEntryOverhead + length;
    }
    if (torn) {
      if (tail == TailPolicy::kStrict) {
        return Fail(Code::kCorruption, where + ": incomplete (" + std::to_string(rest.size()) +
                                           " bytes at the end of the ledger)");
      }
      break;
    }

    const std::size_t hashed = kPayloadOffset + length;
    Entry entry;
    entry.offset = pos;
    std::memcpy(entry.hash.data(), rest.data() + hashed, kHashSize);
    if (!HashEquals(entry.hash, DomainHash(kEntryDomain, rest.first(hashed)))) {
      return Fail(Code::kTampered, where + ": hash mismatch");
    }
    const std::uint8_t type = rest[kTypeOffset];
    if (!KnownType(type)) {
      return Fail(Code::kCorruption, where + ": unknown entry type " + std::to_string(type) +
                                         " (written by a newer custodia?)");
    }
    entry.type = static_cast<EntryType>(type);
    entry.seq = GetU64(rest.data() + kSeqOffset);
    if (entry.seq != seq) {
      return Fail(Code::kTampered, where + ": sequence number " + std::to_string(entry.seq) +
                                       ", expected " + std::to_string(seq));
    }
    std::memcpy(entry.prev_hash.data(), rest.data() + kPrevOffset, kHashSize);
    if (!HashEquals(entry.prev_hash, prev)) {
      return Fail(Code::kTampered,
                  where + (seq == 1 ? ": does not chain to the ledger header"
                                    : ": does not chain to entry " + std::to_string(seq - 1)));
    }
    entry.payload = rest.subspan(kPayloadOffset, length);
    prev = entry.hash;
    scan.entries.push_back(entry);
    pos += kEntryOverhead + length;
    ++seq;
  }
  scan.end = pos;
  return scan;
}

}  // namespace custodia::vault
