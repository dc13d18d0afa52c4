// vault/replay.h (internal): the state a ledger describes (people, roles,
// key epochs, documents, loans), built by replaying its entries in order,
// and the checks each entry must pass against the state before it: its
// signature, its signer's standing, and what its payload claims
// (docs/vault_format.md, "Replay"). Open, Verify and every append share it.
#ifndef CUSTODIA_VAULT_REPLAY_H_
#define CUSTODIA_VAULT_REPLAY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "vault/crypto.h"
#include "vault/ledger.h"
#include "vault/record.h"
#include "vault/vault.h"

namespace custodia::vault {

inline constexpr std::uint8_t kAllRoles = 15;
// Roles whose holders receive the epoch key.
inline constexpr std::uint8_t kKeyRoles = static_cast<std::uint8_t>(Role::kStation) |
                                          static_cast<std::uint8_t>(Role::kArchivist) |
                                          static_cast<std::uint8_t>(Role::kAdmin);

struct UserState {
  std::string name;
  SignPublicKey sign_public{};
  BoxPublicKey box_public{};
  std::uint8_t roles = 0;
  bool revoked = false;
  std::uint64_t added_seq = 0;
  std::uint64_t revoked_seq = 0;
  std::map<std::uint32_t, SealedKey> sealed;  // epoch -> latest epoch key sealed to them
};

struct DocState {
  IngestEntry entry;
  Record record;  // type and status as the last review left them
  std::vector<ReviewEntry> reviews;  // in ledger order, beside record.reviews
  std::vector<std::size_t> batches;  // indices into LedgerState::batches() of those naming it
};

inline constexpr std::size_t kMaxBatchSourceSize = 4096;
inline constexpr std::size_t kMaxBatchReasonSize = 4096;
inline constexpr std::size_t kMaxCaseFileSize = 64;

// Whether `id` is a case file id: 1..64 bytes of [A-Za-z0-9._/-].
bool ValidCaseFile(std::string_view id);

// "D000001": documents are numbered from 1 in ledger order.
std::string DocId(std::uint64_t number);
// Whether `date` is a real calendar date written YYYY-MM-DD.
bool ValidDate(std::string_view date);
// "ana is an auditor", "bo is a station and an archivist", "cy holds no role".
std::string DescribeRoles(const UserState& user);

// Whether Check verifies an entry's Ed25519 signature. kAlreadyVerified is
// only for an entry whose bytes, and those of every entry before it, are
// identical to ones this process has already checked in full against the
// same header (so the signer and the outcome are the same); every other
// check still runs.
//
// kDeferred leaves the signature to the caller: Check resolves the signer's
// key into `*signer` and runs every other check. Only ReplayEntries uses it,
// and it verifies the deferred signatures before reporting anything.
enum class SignatureCheck { kVerify, kAlreadyVerified, kDeferred };

class LedgerState {
 public:
  explicit LedgerState(const LedgerHeader& header);

  // Checks `entry`, the next entry of the ledger, against the state without
  // changing it. kTampered for a bad signature, an unknown or revoked signer,
  // a signer without the role, or an impossible event (a second check-out,
  // a return of what is not out, a grant to an unknown user, ...);
  // kCorruption for a payload that does not decode. Messages begin
  // "vault: entry <seq> at offset <n>: ".
  // With kDeferred, `*signer` receives the signer's key as soon as it is
  // known (set even when a later check fails; left alone when the signer
  // cannot be resolved).
  Status Check(const Entry& entry, SignatureCheck sig = SignatureCheck::kVerify,
               std::optional<SignPublicKey>* signer = nullptr) const;
  // Check, then updates the state. Nothing changes on error.
  Status Apply(const Entry& entry, SignatureCheck sig = SignatureCheck::kVerify,
               std::optional<SignPublicKey>* signer = nullptr);

  // Whether `actor` may now sign an entry of `type`: kPermissionDenied
  // ("ana is an auditor; exporting needs the archivist role", "no user ana",
  // "ana was revoked at entry 7") if not. No "vault:" prefix.
  Status MayAct(const std::string& actor, EntryType type) const;

  // Why the batch entry `e` could not be recorded now ("names unknown
  // document D000009"; no prefix), or "" if it may. The writer's refusal
  // and the reader's check are this one function, so the vault never
  // writes a batch entry it would refuse to read.
  std::string BatchDefect(const BatchEntry& e) const;

  const LedgerHeader& header() const { return header_; }
  const UserState* FindUser(const std::string& name) const;
  const std::map<std::string, UserState>& users() const { return users_; }
  const std::vector<DocState>& docs() const { return docs_; }
  const DocState* FindDoc(const std::string& id) const;
  const DocState* FindByHash(const std::string& hex) const;
  const std::map<std::string, Loan>& loans() const { return loans_; }
  const std::vector<Batch>& batches() const { return batches_; }
  const std::vector<Event>& events() const { return events_; }
  std::uint32_t epoch() const { return epoch_; }
  const Hash& key_id(std::uint32_t epoch) const { return key_ids_.at(epoch); }
  // The current epoch's key file commitment (zero in epoch 1), the entry
  // that made it, and how many documents it covers.
  const Hash& key_file_hash() const { return key_file_hash_; }
  std::uint64_t rotation_seq() const { return rotation_seq_; }
  std::uint64_t rewrapped_docs() const { return rewrapped_docs_; }
  std::uint64_t entries() const { return entries_; }

 private:
  Status CheckPayload(const Entry& entry) const;
  void Mutate(const Entry& entry);

  LedgerHeader header_;
  std::map<std::string, UserState> users_;
  std::vector<DocState> docs_;
  std::unordered_map<std::string, std::size_t> by_id_;
  std::unordered_map<std::string, std::size_t> by_hash_;
  std::map<std::string, Loan> loans_;  // by document id
  std::vector<Batch> batches_;         // in ledger order
  std::vector<Event> events_;
  std::uint32_t epoch_ = 1;
  std::map<std::uint32_t, Hash> key_ids_;
  Hash key_file_hash_{};
  std::uint64_t rotation_seq_ = 0;
  std::uint64_t rewrapped_docs_ = 0;
  std::uint64_t entries_ = 0;
};

// Replays `entries`, in ledger order, into `state`: every check Apply makes,
// with the Ed25519 signatures (the bulk of the work: about 55 us each)
// verified on `threads` threads (this one included), block by block as soon
// as the in-order checks have resolved their signers. `already_verified(i)` says
// that entry i may skip its signature (SignatureCheck::kAlreadyVerified's
// rule); `after(i)` runs once entry i is applied, for checks kept outside the
// state (Merkle roots), and may fail. Either may be empty.
//
// The error returned is the one a one-entry-at-a-time replay would return:
// the first defect in ledger order, a bad signature included. On error the
// state holds the entries before the first non-signature defect, so a
// caller must discard it.
Status ReplayEntries(LedgerState& state, std::span<const Entry> entries, int threads,
                     const std::function<bool(std::size_t)>& already_verified,
                     const std::function<Status(std::size_t)>& after);

}  // namespace custodia::vault

#endif  // CUSTODIA_VAULT_REPLAY_H_
