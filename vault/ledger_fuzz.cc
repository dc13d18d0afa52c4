// vault/ledger_fuzz.cc: libFuzzer target over the bytes of a ledger file
// (issue 8): the framing scan under both tail policies, the single-entry
// parser, every payload decoder, the replay of the entries into the state
// (people, roles, epochs, documents, batches, loans), and the whole of
// Vault::Open on the file with the public reads and Verify after it. Any
// bytes must give a result or an error, never a crash, a hang or a leak.
//
// The input is taken twice: as it is, and with its hashes made right (the
// header's hash, each entry's hash and its link to the one before), since
// no mutation gets past a BLAKE2b check otherwise. Signatures are not
// forged: Vault::Open stops at the first entry whose signature fails, so
// the replay is also run with SignatureCheck::kAlreadyVerified, which is
// every check but the signature. Built with -DCU_FUZZ=ON (clang); seeds by
// vault_fuzz_seeds (scripts/fuzz.sh): a real ledger and its prefixes.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "vault/coding.h"
#include "vault/crypto.h"
#include "vault/ledger.h"
#include "vault/record.h"
#include "vault/replay.h"
#include "vault/vault.h"

using namespace custodia;
using namespace custodia::vault;
namespace fs = std::filesystem;

namespace {

// docs/vault_format.md, "Ledger": the domains of the header's and the
// entries' hashes. Init() checks them against EncodeLedgerHeader and
// EncodeEntry, so a change of format cannot leave this target behind.
constexpr std::string_view kHeaderDomain = "custodia.vault.ledger-header.v2";
constexpr std::string_view kEntryDomain = "custodia.vault.ledger-entry.v2";
constexpr std::size_t kPrevOffset = 25;  // of prev_hash in an entry

// Rewrites the hashes of `ledger` in place so that they verify: the header's
// hash, and for each entry whose frame fits, its prev_hash and its hash. The
// length field and everything else are left as they are.
void FixHashes(Bytes& ledger) {
  if (ledger.size() < kLedgerHeaderSize) return;
  Hash prev = DomainHash(kHeaderDomain, std::span(ledger).first(80));
  std::memcpy(ledger.data() + 80, prev.data(), kHashSize);
  std::size_t pos = kLedgerHeaderSize;
  while (ledger.size() - pos >= kEntryFrameSize) {
    const std::uint32_t length = GetU32(ledger.data() + pos);
    if (length > kMaxBodySize || length < kBodyFixedSize ||
        ledger.size() - pos < kEntryOverhead + length) {
      return;
    }
    std::memcpy(ledger.data() + pos + kPrevOffset, prev.data(), kHashSize);
    const std::size_t hashed = kEntryFrameSize + length + kSignatureSize;
    prev = DomainHash(kEntryDomain, std::span(ledger).subspan(pos, hashed));
    std::memcpy(ledger.data() + pos + hashed, prev.data(), kHashSize);
    pos += kEntryOverhead + length;
  }
}

std::string* vault_dir = nullptr;

void RemoveVaultDir() {
  std::error_code ec;
  if (vault_dir != nullptr) fs::remove_all(fs::path(*vault_dir).parent_path(), ec);
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "ledger_fuzz: %s\n", what);
  ::abort();
}

// A vault in a fresh temporary directory (removed at exit), whose ledger
// each input replaces, and the self-check of FixHashes.
void Init() {
  if (!InitCrypto()) Die("no libsodium");
  std::string root = (fs::temp_directory_path() / "custodia-ledger-fuzz-XXXXXX").string();
  if (::mkdtemp(root.data()) == nullptr) Die("mkdtemp");
  vault_dir = new std::string((fs::path(root) / "vault").string());
  std::atexit(RemoveVaultDir);
  if (!Vault::Create(*vault_dir, "ana", "fuzz")) Die("cannot create a vault");

  Hash archive_id{}, key_id{};
  archive_id.fill(1);
  Bytes ledger = EncodeLedgerHeader(archive_id, key_id, nullptr);
  auto identity = NewIdentity();
  if (!identity) Die("no identity");
  EntryFields f;
  f.type = EntryType::kCheckpoint;
  f.seq = 1;
  f.actor = "ana";
  f.prev_hash = DomainHash(kHeaderDomain, std::span(ledger).first(80));
  f.payload = EncodeCheckpoint(CheckpointEntry{});
  const EncodedEntry entry = EncodeEntry(f, archive_id, *identity);
  PutBytes(ledger, entry.bytes);
  Bytes broken = ledger;
  broken[80] ^= 1;
  broken.back() ^= 1;
  FixHashes(broken);
  if (broken != ledger || !ScanLedger(broken, TailPolicy::kStrict)) {
    Die("FixHashes no longer matches the ledger format: update kHeaderDomain, kEntryDomain");
  }
}

void DecodeEveryPayload(std::span<const std::uint8_t> bytes) {
  (void)DecodeIngest(bytes);
  (void)DecodeAccess(bytes);
  (void)DecodeCorrection(bytes);
  (void)DecodeReview(bytes);
  (void)DecodeBatch(bytes);
  (void)DecodeCheckout(bytes);
  (void)DecodeReturn(bytes);
  (void)DecodeUserAdded(bytes);
  (void)DecodeRole(bytes);
  (void)DecodeUserRevoked(bytes);
  (void)DecodeRotation(bytes);
  (void)DecodeCheckpoint(bytes);
}

// Replays `scan` entry by entry without the signatures, then reads the state.
void Replay(const LedgerScan& scan) {
  LedgerState state(scan.header);
  for (const Entry& entry : scan.entries) {
    DecodeEveryPayload(entry.payload);
    if (!state.Apply(entry, SignatureCheck::kAlreadyVerified)) break;
  }
  for (const auto& [name, user] : state.users()) {
    (void)DescribeRoles(user);
    for (EntryType type : {EntryType::kIngest, EntryType::kView, EntryType::kKeyRotation}) {
      (void)state.MayAct(name, type);
    }
  }
  for (const DocState& doc : state.docs()) {
    if (state.FindDoc(doc.record.id) == nullptr) {
      Die("a replayed document cannot be found by its id");
    }
  }
  (void)state.key_id(state.epoch());

  // The same through ReplayEntries, one thread, with its after() hook.
  LedgerState again(scan.header);
  std::size_t applied = 0;
  (void)ReplayEntries(
      again, scan.entries, 1, [](std::size_t) { return true; },
      [&](std::size_t) -> Status {
        ++applied;
        return Ok();
      });
  if (applied != again.entries()) Die("ReplayEntries ran after() for an entry it did not apply");
}

void OpenVault(std::span<const std::uint8_t> ledger) {
  {
    std::ofstream out(fs::path(*vault_dir) / "ledger", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(ledger.data()),
              static_cast<std::streamsize>(ledger.size()));
    if (!out) Die("cannot write the ledger");
  }
  auto vault = Vault::Open(*vault_dir);
  if (!vault) return;
  (void)vault->List();
  (void)vault->Users();
  (void)vault->Loans();
  (void)vault->Overdue("2031-01-01");
  (void)vault->Batches();
  (void)vault->Log();
  (void)vault->origin();
  for (const Record& r : vault->List()) {
    (void)vault->Find(r.id);
    (void)vault->BatchesOf(r.id);
  }
  for (const User& u : vault->Users()) (void)vault->VerifierKey(u.name);
  (void)vault->Verify();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool initialised = (Init(), true);
  (void)initialised;
  const std::span<const std::uint8_t> raw(data, size);

  (void)ScanLedger(raw, TailPolicy::kCutTorn);
  (void)ScanLedger(raw, TailPolicy::kStrict);
  (void)ParseEntry(raw, 0);
  DecodeEveryPayload(raw);

  Bytes fixed(raw.begin(), raw.end());
  FixHashes(fixed);
  auto scan = ScanLedger(fixed, TailPolicy::kCutTorn);
  if (!scan) return 0;
  for (const Entry& entry : scan->entries) {
    auto one = ParseEntry(entry.bytes, entry.offset);
    if (!one || one->hash != entry.hash) Die("ParseEntry refuses an entry ScanLedger accepted");
  }
  Replay(*scan);
  OpenVault(fixed);
  return 0;
}
