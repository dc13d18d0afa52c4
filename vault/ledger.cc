// vault/ledger.cc: encode and scan ledger headers and entries. The byte
// layout is in docs/vault_format.md; keep the two in step.
#include "vault/ledger.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "vault/coding.h"

namespace custodia::vault {
namespace {

constexpr std::string_view kLedgerMagic = "CUSTLEDG";
constexpr std::string_view kHeaderDomain = "custodia.vault.ledger-header.v2";
constexpr std::string_view kEntryDomain = "custodia.vault.ledger-entry.v2";
constexpr std::string_view kSignatureDomain = "custodia.vault.entry-sig.v2";

// Offsets inside an entry (from its first byte).
constexpr std::size_t kTypeOffset = 8;
constexpr std::size_t kSeqOffset = 9;
constexpr std::size_t kTimeOffset = 17;
constexpr std::size_t kPrevOffset = 25;
constexpr std::size_t kActorSizeOffset = 57;
constexpr std::size_t kActorOffset = 58;

// The length field is followed by its complement. A torn append leaves an
// entry shorter than its frame says; a damaged length field would look the
// same, and without this check a flipped length byte in the last entry
// would be "repaired" by cutting the entry away. With it, damage to the
// length is an error and only a genuine short tail is cut.
std::uint32_t LengthCheck(std::uint32_t length) { return ~length; }

bool AllZero(std::span<const std::uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

bool KnownType(std::uint8_t type) { return type >= 1 && type <= kMaxEntryType; }

// Outcome of looking at the bytes where an entry should start.
struct Parsed {
  bool torn = false;
  Entry entry;
};

// Parses the entry at the start of `rest` (file offset `offset`) without
// checking its sequence number or chain link. `where` names it in errors.
Result<Parsed> ParseAt(std::span<const std::uint8_t> rest, std::uint64_t offset,
                       const std::string& where) {
  Parsed out;
  if (rest.size() < kEntryFrameSize || AllZero(rest)) {
    // Too short for a frame, or a crash extended the file without its
    // data reaching the disk.
    out.torn = true;
    return out;
  }
  const std::uint32_t length = GetU32(rest.data());
  if (GetU32(rest.data() + 4) != LengthCheck(length)) {
    return Fail(Code::kCorruption, where + ": damaged length field");
  }
  if (length > kMaxBodySize) {
    return Fail(Code::kCorruption, where + ": length " + std::to_string(length) +
                                       " exceeds the limit of " + std::to_string(kMaxBodySize));
  }
  if (length < kBodyFixedSize + 1) {
    return Fail(Code::kCorruption, where + ": length " + std::to_string(length) + " is too short");
  }
  if (rest.size() < kEntryOverhead + length) {
    out.torn = true;
    return out;
  }
  const std::size_t signed_size = kEntryFrameSize + length;
  const std::size_t hashed = signed_size + kSignatureSize;
  Entry& entry = out.entry;
  entry.offset = offset;
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
  entry.micros = static_cast<std::int64_t>(GetU64(rest.data() + kTimeOffset));
  std::memcpy(entry.prev_hash.data(), rest.data() + kPrevOffset, kHashSize);
  const std::size_t actor_size = rest[kActorSizeOffset];
  if (actor_size == 0 || actor_size > kMaxNameSize || kBodyFixedSize + actor_size > length) {
    return Fail(Code::kCorruption, where + ": bad actor name size " + std::to_string(actor_size));
  }
  entry.actor.assign(reinterpret_cast<const char*>(rest.data() + kActorOffset), actor_size);
  entry.payload = rest.subspan(kActorOffset + actor_size, signed_size - kActorOffset - actor_size);
  std::memcpy(entry.signature.data(), rest.data() + signed_size, kSignatureSize);
  entry.signed_part = rest.first(signed_size);
  entry.bytes = rest.first(hashed + kHashSize);
  return out;
}

}  // namespace

const char* EntryTypeName(EntryType type) {
  switch (type) {
    case EntryType::kIngest:
      return "ingest";
    case EntryType::kView:
      return "view";
    case EntryType::kExport:
      return "export";
    case EntryType::kCorrection:
      return "correction";
    case EntryType::kCheckout:
      return "checkout";
    case EntryType::kReturn:
      return "return";
    case EntryType::kUserAdded:
      return "user-added";
    case EntryType::kRoleGranted:
      return "role-granted";
    case EntryType::kRoleRevoked:
      return "role-revoked";
    case EntryType::kUserRevoked:
      return "user-revoked";
    case EntryType::kKeyRotation:
      return "key-rotation";
    case EntryType::kCheckpoint:
      return "checkpoint";
    case EntryType::kReview:
      return "review";
    case EntryType::kBatch:
      return "batch";
  }
  return "unknown";
}

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

Bytes SignedMessage(const Hash& archive_id, std::span<const std::uint8_t> signed_part) {
  Bytes out;
  out.reserve(kSignatureDomain.size() + 1 + kHashSize + signed_part.size());
  PutString(out, kSignatureDomain);
  out.push_back(0);
  PutBytes(out, archive_id);
  PutBytes(out, signed_part);
  return out;
}

bool EntryFits(std::string_view actor, std::size_t payload_size) {
  return kBodyFixedSize + actor.size() + payload_size <= kMaxBodySize;
}

EncodedEntry EncodeEntry(const EntryFields& f, const Hash& archive_id, const Identity& signer) {
  CU_CHECK(!f.actor.empty() && f.actor.size() <= kMaxNameSize);
  CU_CHECK(EntryFits(f.actor, f.payload.size()));
  const auto length =
      static_cast<std::uint32_t>(kBodyFixedSize + f.actor.size() + f.payload.size());
  EncodedEntry entry;
  Bytes& b = entry.bytes;
  b.reserve(kEntryOverhead + length);
  PutU32(b, length);
  PutU32(b, LengthCheck(length));
  b.push_back(static_cast<std::uint8_t>(f.type));
  PutU64(b, f.seq);
  PutU64(b, static_cast<std::uint64_t>(f.micros));
  PutBytes(b, f.prev_hash);
  b.push_back(static_cast<std::uint8_t>(f.actor.size()));
  PutString(b, f.actor);
  PutBytes(b, f.payload);
  const Signature sig = Sign(signer, SignedMessage(archive_id, b));
  PutBytes(b, sig);
  entry.hash = DomainHash(kEntryDomain, b);
  PutBytes(b, entry.hash);
  return entry;
}

Result<Entry> ParseEntry(std::span<const std::uint8_t> bytes, std::uint64_t offset) {
  CU_ASSIGN_OR_RETURN(Parsed parsed,
                      ParseAt(bytes, offset, "vault: entry at offset " + std::to_string(offset)));
  if (parsed.torn || parsed.entry.bytes.size() != bytes.size()) {
    return Fail(Code::kCorruption,
                "vault: entry at offset " + std::to_string(offset) + ": not exactly one entry");
  }
  return parsed.entry;
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
    CU_ASSIGN_OR_RETURN(Parsed parsed, ParseAt(rest, pos, where));
    if (parsed.torn) {
      if (tail == TailPolicy::kStrict) {
        return Fail(Code::kCorruption, where + ": incomplete (" + std::to_string(rest.size()) +
                                           " bytes at the end of the ledger)");
      }
      break;
    }
    Entry& entry = parsed.entry;
    if (entry.seq != seq) {
      return Fail(Code::kTampered, where + ": sequence number " + std::to_string(entry.seq) +
                                       ", expected " + std::to_string(seq));
    }
    if (!HashEquals(entry.prev_hash, prev)) {
      return Fail(Code::kTampered,
                  where + (seq == 1 ? ": does not chain to the ledger header"
                                    : ": does not chain to entry " + std::to_string(seq - 1)));
    }
    prev = entry.hash;
    pos += entry.bytes.size();
    scan.entries.push_back(std::move(entry));
    ++seq;
  }
  scan.end = pos;
  return scan;
}

}  // namespace custodia::vault
