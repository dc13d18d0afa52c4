// vault/replay.cc: replay ledger entries into the state they describe,
// checking each against the state before it.
#include "vault/replay.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "vault/blob.h"
#include "vault/identity.h"

namespace custodia::vault {
namespace {

std::string Where(const Entry& entry) {
  return "vault: entry " + std::to_string(entry.seq) + " at offset " + std::to_string(entry.offset);
}

// What an entry type is, as refusals say it, and which roles may sign it.
struct Authority {
  const char* doing;
  std::uint8_t roles;
  const char* needs;
};

Authority AuthorityFor(EntryType type) {
  constexpr auto kStation = static_cast<std::uint8_t>(Role::kStation);
  constexpr auto kArchivist = static_cast<std::uint8_t>(Role::kArchivist);
  constexpr auto kAdmin = static_cast<std::uint8_t>(Role::kAdmin);
  switch (type) {
    case EntryType::kIngest:
      return {"ingesting", kStation, "the station role"};
    case EntryType::kView:
      return {"reading documents", kArchivist, "the archivist role"};
    case EntryType::kExport:
      return {"exporting", kArchivist, "the archivist role"};
    case EntryType::kCorrection:
      return {"correcting fields", kArchivist, "the archivist role"};
    case EntryType::kCheckout:
      return {"checking out", kArchivist, "the archivist role"};
    case EntryType::kReturn:
      return {"returning", kArchivist, "the archivist role"};
    case EntryType::kUserAdded:
      return {"adding users", kAdmin, "the admin role"};
    case EntryType::kRoleGranted:
      return {"granting roles", kAdmin, "the admin role"};
    case EntryType::kRoleRevoked:
      return {"revoking roles", kAdmin, "the admin role"};
    case EntryType::kUserRevoked:
      return {"revoking users", kAdmin, "the admin role"};
    case EntryType::kKeyRotation:
      return {"rotating keys", kAdmin, "the admin role"};
    case EntryType::kReview:
      return {"reviewing documents", kArchivist, "the archivist role"};
    case EntryType::kBatch:
      return {"recording batches", kStation, "the station role"};
    case EntryType::kCheckpoint:
      // Anyone with a role may sign and record a checkpoint: it reveals
      // nothing, and the more signers, the better.
      return {"recording checkpoints", kAllRoles, "a role"};
  }
  return {"acting", 0, "a role"};
}

bool IsSingleRole(std::uint8_t role) { return role == 1 || role == 2 || role == 4 || role == 8; }

const char* ArtefactName(std::uint8_t artefact) {
  return KindName(static_cast<BlobKind>(artefact));
}

Unexpected Impossible(const Entry& entry, const std::string& what) {
  return Fail(Code::kTampered, Where(entry) + ": " + what);
}

// "1 page", "3 pages".
std::string Count(std::uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// The log line of a batch entry: its source, outcome, documents and pages,
// and a quarantine's reason; never document content.
//   "scanner-2/lote-0017.pdf: archived, 3 documents (D000004, D000005,
//    D000006 dup), 12 pages, 1 blank, 2 separators"
//   "x.pdf: quarantined: not a PDF"
std::string BatchDetail(const BatchEntry& e) {
  const bool archived = e.outcome == static_cast<std::uint8_t>(BatchOutcome::kArchived);
  std::string out = e.source + (archived ? ": archived" : ": quarantined");
  if (archived || !e.documents.empty() || e.pages != 0) {
    out += ", " + Count(e.documents.size(), "document", "documents");
    for (std::size_t i = 0; i < e.documents.size(); ++i) {
      out += (i == 0 ? " (" : ", ") + e.documents[i].id + (e.documents[i].duplicate ? " dup" : "");
    }
    if (!e.documents.empty()) out += ")";
    out += ", " + Count(e.pages, "page", "pages") + ", " + std::to_string(e.blank_pages) +
           " blank, " + Count(e.separators, "separator", "separators");
  }
  if (!archived) out += ": " + e.reason;
  return out;
}

}  // namespace

std::string DocId(std::uint64_t number) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "D%06llu", static_cast<unsigned long long>(number));
  return buf;
}

bool ValidDate(std::string_view date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (date[i] < '0' || date[i] > '9') return false;
  }
  const int y = std::stoi(std::string(date.substr(0, 4)));
  const unsigned m = static_cast<unsigned>(std::stoi(std::string(date.substr(5, 2))));
  const unsigned d = static_cast<unsigned>(std::stoi(std::string(date.substr(8, 2))));
  return std::chrono::year_month_day(std::chrono::year(y), std::chrono::month(m),
                                     std::chrono::day(d))
      .ok();
}

std::string DescribeRoles(const UserState& user) {
  static const char* const kArticled[] = {"a station", "an archivist", "an auditor", "an admin"};
  std::string out;
  int n = 0;
  for (int bit = 0; bit < 4; ++bit) {
    if ((user.roles & (1u << bit)) == 0) continue;
    out += (n++ == 0 ? "" : " and ");
    out += kArticled[bit];
  }
  return n == 0 ? user.name + " holds no role" : user.name + " is " + out;
}

bool ValidCaseFile(std::string_view id) {
  if (id.empty() || id.size() > kMaxCaseFileSize) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '/' || c == '-';
  });
}

LedgerState::LedgerState(const LedgerHeader& header) : header_(header) {
  key_ids_[1] = header.key_id;
}

const UserState* LedgerState::FindUser(const std::string& name) const {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : &it->second;
}

const DocState* LedgerState::FindDoc(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &docs_[it->second];
}

const DocState* LedgerState::FindByHash(const std::string& hex) const {
  auto it = by_hash_.find(hex);
  return it == by_hash_.end() ? nullptr : &docs_[it->second];
}

Status LedgerState::MayAct(const std::string& actor, EntryType type) const {
  const Authority a = AuthorityFor(type);
  const UserState* user = FindUser(actor);
  if (user == nullptr) return Fail(Code::kPermissionDenied, "no user " + actor);
  if (user->revoked) {
    return Fail(Code::kPermissionDenied,
                actor + " was revoked at entry " + std::to_string(user->revoked_seq));
  }
  if ((user->roles & a.roles) == 0) {
    return Fail(Code::kPermissionDenied,
                DescribeRoles(*user) + "; " + a.doing + " needs " + a.needs);
  }
  return Ok();
}

std::string LedgerState::BatchDefect(const BatchEntry& e) const {
  if (e.source.empty() || e.source.size() > kMaxBatchSourceSize) {
    return "source name empty or longer than " + std::to_string(kMaxBatchSourceSize) + " bytes";
  }
  const auto outcome = static_cast<BatchOutcome>(e.outcome);
  if (outcome != BatchOutcome::kArchived && outcome != BatchOutcome::kQuarantined) {
    return "unknown outcome " + std::to_string(e.outcome);
  }
  if ((outcome == BatchOutcome::kQuarantined) == e.reason.empty()) {
    return "quarantined without a reason, or archived with one";
  }
  if (e.reason.size() > kMaxBatchReasonSize) {
    return "reason longer than " + std::to_string(kMaxBatchReasonSize) + " bytes";
  }
  if (std::uint64_t{e.blank_pages} + e.separators > e.pages) {
    return "counts do not add up: " + std::to_string(e.blank_pages) + " blank and " +
           std::to_string(e.separators) + " separator pages in " + std::to_string(e.pages) +
           " pages";
  }
  for (const BatchEntryDocument& d : e.documents) {
    if (FindDoc(d.id) == nullptr) return "names unknown document " + d.id;
    if (!d.case_file.empty() && !ValidCaseFile(d.case_file)) {
      return "document " + d.id + ": case file is not 1.." + std::to_string(kMaxCaseFileSize) +
             " bytes of A-Z a-z 0-9 . _ / -";
    }
    if (d.duplicate > 1) {
      return "document " + d.id + ": duplicate flag " + std::to_string(d.duplicate) +
             " is neither 0 nor 1";
    }
    if (d.first_page < 1 || std::uint64_t{d.first_page} - 1 + d.pages > e.pages) {
      return "document " + d.id + ": starts at page " + std::to_string(d.first_page) +
             " and spans " + std::to_string(d.pages) + ", outside the batch's " +
             std::to_string(e.pages) + " pages";
    }
  }
  return "";
}

Status LedgerState::Check(const Entry& entry, SignatureCheck sig,
                          std::optional<SignPublicKey>* deferred) const {
  CU_CHECK((sig == SignatureCheck::kDeferred) == (deferred != nullptr));
  if (entry.seq != entries_ + 1) {
    return Impossible(entry, "sequence number " + std::to_string(entry.seq) + ", expected " +
                                 std::to_string(entries_ + 1));
  }
  SignPublicKey signer{};
  if (users_.empty()) {
    // Genesis: the first entry adds the first user, who signs it with the
    // key it introduces and must hold the admin role.
    if (entry.type != EntryType::kUserAdded) {
      return Impossible(entry, "the first entry must add the first user");
    }
    auto added = DecodeUserAdded(entry.payload);
    if (!added) return Wrap(added.error(), Where(entry));
    if (added->name != entry.actor) {
      return Impossible(entry, "the first user must sign their own entry");
    }
    if ((added->roles & static_cast<std::uint8_t>(Role::kAdmin)) == 0) {
      return Impossible(entry, "the first user must hold the admin role");
    }
    signer = added->sign_public;
  } else {
    const UserState* user = FindUser(entry.actor);
    if (user == nullptr) return Impossible(entry, "signed by unknown user " + entry.actor);
    if (user->revoked) {
      return Impossible(entry, "signed by " + entry.actor + ", revoked at entry " +
                                   std::to_string(user->revoked_seq));
    }
    signer = user->sign_public;
  }
  if (sig == SignatureCheck::kDeferred) *deferred = signer;
  if (sig == SignatureCheck::kVerify &&
      !VerifySignature(signer, SignedMessage(header_.archive_id, entry.signed_part),
                       entry.signature)) {
    return Impossible(entry, "signature does not verify against " + entry.actor + "'s key");
  }
  if (!users_.empty()) {
    Status may = MayAct(entry.actor, entry.type);
    if (!may) return Impossible(entry, may.error().message);
  }
  return CheckPayload(entry);
}

Status LedgerState::CheckPayload(const Entry& entry) const {
  const std::string where = Where(entry);
  auto doc_known = [&](const std::string& id) -> Status {
    if (FindDoc(id) == nullptr) return Impossible(entry, "names unknown document " + id);
    return Ok();
  };
  auto sealed_ok = [&](std::uint8_t roles, std::uint32_t epoch,
                       const std::optional<SealedKey>& sealed) -> Status {
    if ((roles & kKeyRoles) != 0) {
      if (!sealed || epoch != epoch_) {
        return Impossible(entry, "a role that needs the key without the key of epoch " +
                                     std::to_string(epoch_) + " sealed to its holder");
      }
    } else if (sealed || epoch != 0) {
      return Impossible(entry, "seals the key to a user whose roles do not need it");
    }
    return Ok();
  };
  switch (entry.type) {
    case EntryType::kIngest: {
      auto e = DecodeIngest(entry.payload);
      if (!e) return Wrap(e.error(), where);
      const std::string want = DocId(docs_.size() + 1);
      if (e->doc_id != want) {
        return Fail(Code::kCorruption, where + ": document id " + e->doc_id + ", expected " + want);
      }
      if (e->key_epoch != epoch_) {
        return Impossible(entry, "blob keys wrapped for epoch " + std::to_string(e->key_epoch) +
                                     ", current is " + std::to_string(epoch_));
      }
      return Ok();
    }
    case EntryType::kView:
    case EntryType::kExport: {
      auto e = DecodeAccess(entry.payload);
      if (!e) return Wrap(e.error(), where);
      if (e->artefact == 0 || e->artefact > kMaxBlobKind) {
        return Fail(Code::kCorruption, where + ": unknown artefact " + std::to_string(e->artefact));
      }
      return doc_known(e->doc_id);
    }
    case EntryType::kCorrection: {
      auto e = DecodeCorrection(entry.payload);
      if (!e) return Wrap(e.error(), where);
      if (e->field.empty()) return Impossible(entry, "correction of an unnamed field");
      return doc_known(e->doc_id);
    }
    case EntryType::kReview: {
      auto e = DecodeReview(entry.payload);
      if (!e) return Wrap(e.error(), where);
      CU_TRY(doc_known(e->doc_id));
      if (e->action < 1 || e->action > 3) {
        return Impossible(entry, "unknown review action " + std::to_string(e->action));
      }
      if ((e->action == 1) == e->field.empty()) {
        return Impossible(entry, "a field named for a review action that takes none, or none "
                                 "for one that does");
      }
      if (e->type.empty() || e->type.size() > 64) {
        return Impossible(entry, "review leaves the document without a type");
      }
      if (e->status != "review" && e->status != "approved") {
        return Impossible(entry, "review status \"" + e->status + "\" is neither review nor approved");
      }
      // Corrections carry their values sealed (nonce and tag at least); an
      // approval carries none.
      constexpr std::size_t kMinSealed = 24 + 16;
      if ((e->action == 3) != e->sealed.empty() || (!e->sealed.empty() && e->sealed.size() < kMinSealed)) {
        return Impossible(entry, "review values missing, or given to an approval");
      }
      return Ok();
    }
    case EntryType::kBatch: {
      auto e = DecodeBatch(entry.payload);
      if (!e) return Wrap(e.error(), where);
      const std::string defect = BatchDefect(*e);
      if (!defect.empty()) return Impossible(entry, "batch: " + defect);
      return Ok();
    }
    case EntryType::kCheckout: {
      auto e = DecodeCheckout(entry.payload);
      if (!e) return Wrap(e.error(), where);
      CU_TRY(doc_known(e->doc_id));
      if (!ValidDate(e->due)) return Impossible(entry, "due date " + e->due + " is not a date");
      if (e->to.empty()) return Impossible(entry, "check-out to nobody");
      if (auto it = loans_.find(e->doc_id); it != loans_.end()) {
        return Impossible(entry, "impossible loan: " + e->doc_id +
                                     " checked out while on loan to " + it->second.to + " (due " +
                                     it->second.due + ", entry " + std::to_string(it->second.seq) +
                                     ")");
      }
      return Ok();
    }
    case EntryType::kReturn: {
      auto e = DecodeReturn(entry.payload);
      if (!e) return Wrap(e.error(), where);
      CU_TRY(doc_known(e->doc_id));
      if (loans_.find(e->doc_id) == loans_.end()) {
        return Impossible(entry,
                          "impossible loan: return of " + e->doc_id + ", which is not on loan");
      }
      return Ok();
    }
    case EntryType::kUserAdded: {
      auto e = DecodeUserAdded(entry.payload);
      if (!e) return Wrap(e.error(), where);
      if (!ValidUserName(e->name)) return Impossible(entry, "bad user name");
      if (FindUser(e->name) != nullptr) return Impossible(entry, e->name + " is already a user");
      if (e->roles == 0 || (e->roles & ~kAllRoles) != 0) return Impossible(entry, "bad roles");
      return sealed_ok(e->roles, e->epoch, e->sealed_key);
    }
    case EntryType::kRoleGranted:
    case EntryType::kRoleRevoked: {
      auto e = DecodeRole(entry.payload);
      if (!e) return Wrap(e.error(), where);
      if (!IsSingleRole(e->role)) return Impossible(entry, "bad role");
      const UserState* user = FindUser(e->name);
      if (user == nullptr || user->revoked) {
        return Impossible(entry, "names unknown or revoked user " + e->name);
      }
      const bool holds = (user->roles & e->role) != 0;
      if (entry.type == EntryType::kRoleGranted) {
        if (holds) return Impossible(entry, e->name + " already holds that role");
        return sealed_ok(e->role, e->epoch, e->sealed_key);
      }
      if (!holds) return Impossible(entry, e->name + " does not hold that role");
      if (e->sealed_key || e->epoch != 0) return Impossible(entry, "a revocation carries a key");
      return Ok();
    }
    case EntryType::kUserRevoked: {
      auto e = DecodeUserRevoked(entry.payload);
      if (!e) return Wrap(e.error(), where);
      const UserState* user = FindUser(e->name);
      if (user == nullptr || user->revoked) {
        return Impossible(entry, "names unknown or revoked user " + e->name);
      }
      return Ok();
    }
    case EntryType::kKeyRotation: {
      auto e = DecodeRotation(entry.payload);
      if (!e) return Wrap(e.error(), where);
      if (e->epoch != epoch_ + 1) {
        return Impossible(
            entry, "epoch " + std::to_string(e->epoch) + " after epoch " + std::to_string(epoch_));
      }
      // The new key goes to exactly the users whose roles need it now.
      std::set<std::string> want;
      for (const auto& [name, user] : users_) {
        if (!user.revoked && (user.roles & kKeyRoles) != 0) want.insert(name);
      }
      std::set<std::string> got;
      for (const KeyGrant& g : e->grants) {
        if (!got.insert(g.name).second) return Impossible(entry, "key sealed twice to " + g.name);
      }
      if (got != want) {
        return Impossible(entry, "new key not sealed to exactly the users entitled to it");
      }
      return Ok();
    }
    case EntryType::kCheckpoint: {
      auto e = DecodeCheckpoint(entry.payload);
      if (!e) return Wrap(e.error(), where);
      if (e->tree_size >= entry.seq) {
        return Impossible(entry, "checkpoint of " + std::to_string(e->tree_size) +
                                     " entries, beyond the entries before it");
      }
      return Ok();
    }
  }
  return Fail(Code::kCorruption, where + ": unknown entry type");
}

Status LedgerState::Apply(const Entry& entry, SignatureCheck sig,
                          std::optional<SignPublicKey>* signer) {
  CU_TRY(Check(entry, sig, signer));
  Mutate(entry);
  return Ok();
}

// REQUIRES: Check(entry) passed, so every decode below succeeds.
void LedgerState::Mutate(const Entry& entry) {
  Event ev{entry.seq, entry.micros, entry.actor, EntryTypeName(entry.type), ""};
  switch (entry.type) {
    case EntryType::kIngest: {
      IngestEntry e = DecodeIngest(entry.payload).value();
      Record record = ToRecord(e, entry.seq, entry.micros, entry.actor);
      record.changed_seq = entry.seq;
      ev.detail = e.doc_id + " from " + e.source;
      const std::size_t index = docs_.size();
      by_id_.emplace(record.id, index);
      by_hash_.emplace(record.original_hash, index);  // the first seal of a hash wins
      docs_.push_back(DocState{std::move(e), std::move(record), {}, {}});
      break;
    }
    case EntryType::kView:
    case EntryType::kExport: {
      const AccessEntry e = DecodeAccess(entry.payload).value();
      ev.detail = e.doc_id + " " + ArtefactName(e.artefact) + ": " + e.purpose;
      break;
    }
    case EntryType::kCorrection: {
      const CorrectionEntry e = DecodeCorrection(entry.payload).value();
      ev.detail = e.doc_id + " " + e.field + ": \"" + e.old_value + "\" -> \"" + e.new_value + "\"";
      break;
    }
    case EntryType::kReview: {
      ReviewEntry e = DecodeReview(entry.payload).value();
      const auto action = static_cast<ReviewAction>(e.action);
      // No values here: the log shows what was done, not what was typed.
      ev.detail = e.doc_id + (action == ReviewAction::kSetField  ? " set " + e.field
                              : action == ReviewAction::kSetType ? " typed " + e.type
                                                                 : " approved") +
                  " (" + e.status + ")";
      DocState& doc = docs_[by_id_.at(e.doc_id)];
      doc.record.type = e.type;
      doc.record.status = e.status;
      doc.record.changed_seq = entry.seq;
      doc.record.reviews.push_back(
          ReviewEvent{entry.seq, entry.micros, entry.actor, action, e.field, e.type, e.status, {}});
      doc.reviews.push_back(std::move(e));
      break;
    }
    case EntryType::kBatch: {
      BatchEntry e = DecodeBatch(entry.payload).value();
      ev.detail = BatchDetail(e);
      const std::size_t index = batches_.size();
      Batch b;
      b.source = std::move(e.source);
      b.source_hash = e.source_hash ? Hex(*e.source_hash) : "";
      b.outcome = static_cast<BatchOutcome>(e.outcome);
      b.reason = std::move(e.reason);
      b.pages = e.pages;
      b.blank_pages = e.blank_pages;
      b.separators = e.separators;
      b.seq = entry.seq;
      b.micros = entry.micros;
      b.actor = entry.actor;
      for (BatchEntryDocument& d : e.documents) {
        DocState& doc = docs_[by_id_.at(d.id)];
        doc.record.changed_seq = entry.seq;
        // A document named twice by one batch (a second copy of it later in
        // the same batch) lists the batch once.
        if (doc.batches.empty() || doc.batches.back() != index) doc.batches.push_back(index);
        if (!d.case_file.empty()) {
          std::vector<std::string>& files = doc.record.case_files;
          auto at = std::lower_bound(files.begin(), files.end(), d.case_file);
          if (at == files.end() || *at != d.case_file) files.insert(at, d.case_file);
        }
        if (doc.record.batch.empty() && d.duplicate == 0 && b.outcome == BatchOutcome::kArchived) {
          doc.record.batch = b.source;
        }
        b.documents.push_back(BatchDocument{std::move(d.id), std::move(d.case_file), d.first_page,
                                            d.pages, d.duplicate != 0});
      }
      batches_.push_back(std::move(b));
      break;
    }
    case EntryType::kCheckout: {
      const CheckoutEntry e = DecodeCheckout(entry.payload).value();
      ev.detail =
          e.doc_id + " to " + e.to + " until " + e.due + (e.reason.empty() ? "" : ": " + e.reason);
      loans_[e.doc_id] =
          Loan{e.doc_id, e.to, e.due, e.reason, entry.actor, entry.seq, entry.micros};
      docs_[by_id_.at(e.doc_id)].record.changed_seq = entry.seq;
      break;
    }
    case EntryType::kReturn: {
      const ReturnEntry e = DecodeReturn(entry.payload).value();
      ev.detail = e.doc_id + " from " + loans_[e.doc_id].to + (e.note.empty() ? "" : ": " + e.note);
      loans_.erase(e.doc_id);
      docs_[by_id_.at(e.doc_id)].record.changed_seq = entry.seq;
      break;
    }
    case EntryType::kUserAdded: {
      UserAddedEntry e = DecodeUserAdded(entry.payload).value();
      UserState user;
      user.name = e.name;
      user.sign_public = e.sign_public;
      user.box_public = e.box_public;
      user.roles = e.roles;
      user.added_seq = entry.seq;
      if (e.sealed_key) user.sealed[e.epoch] = *e.sealed_key;
      ev.detail = DescribeRoles(user);
      users_[e.name] = std::move(user);
      break;
    }
    case EntryType::kRoleGranted:
    case EntryType::kRoleRevoked: {
      const RoleEntry e = DecodeRole(entry.payload).value();
      UserState& user = users_[e.name];
      ev.detail = e.name + " " + RoleName(static_cast<Role>(e.role));
      if (entry.type == EntryType::kRoleGranted) {
        user.roles |= e.role;
        if (e.sealed_key) user.sealed[e.epoch] = *e.sealed_key;
      } else {
        user.roles &= static_cast<std::uint8_t>(~e.role);
      }
      break;
    }
    case EntryType::kUserRevoked: {
      const UserRevokedEntry e = DecodeUserRevoked(entry.payload).value();
      UserState& user = users_[e.name];
      user.revoked = true;
      user.revoked_seq = entry.seq;
      user.roles = 0;
      user.sealed.clear();
      ev.detail = e.name;
      break;
    }
    case EntryType::kKeyRotation: {
      const RotationEntry e = DecodeRotation(entry.payload).value();
      epoch_ = e.epoch;
      key_ids_[e.epoch] = e.key_id;
      key_file_hash_ = e.key_file_hash;
      rotation_seq_ = entry.seq;
      rewrapped_docs_ = docs_.size();
      for (const KeyGrant& g : e.grants) users_[g.name].sealed[e.epoch] = g.sealed;
      ev.detail = "epoch " + std::to_string(e.epoch) + ", key sealed to " +
                  std::to_string(e.grants.size()) + " users";
      break;
    }
    case EntryType::kCheckpoint: {
      const CheckpointEntry e = DecodeCheckpoint(entry.payload).value();
      ev.detail = "tree size " + std::to_string(e.tree_size) + ", root " + Hex(e.root);
      break;
    }
  }
  events_.push_back(std::move(ev));
  ++entries_;
}

Status ReplayEntries(LedgerState& state, std::span<const Entry> entries, int threads,
                     const std::function<bool(std::size_t)>& already_verified,
                     const std::function<Status(std::size_t)>& after) {
  // Two kinds of work, overlapped. The in-order pass (this thread) runs every
  // check but the signatures and resolves each signer's key; the signatures
  // (the bulk: about 55 us each) are verified by claimers of 64-entry blocks,
  // in ledger order, as soon as the in-order pass has resolved a block. With
  // T threads, T-1 helpers start at once and this thread joins them when its
  // pass is over, so T cores are busy and none is oversubscribed.
  const std::size_t count = entries.size();
  std::vector<std::optional<SignPublicKey>> signers(count);
  constexpr std::size_t kBlock = 64;
  // Entries [0, resolved) have been through the in-order pass (or never will
  // be: it is set to `count` when the pass ends, defect or not).
  std::atomic<std::size_t> resolved{0};
  std::atomic<std::size_t> next_block{0};
  // Only signatures up to the first non-signature defect (that entry
  // included: a one-at-a-time replay checks an entry's signature before its
  // role and payload) can matter; `limit` shrinks to that when it is found.
  std::atomic<std::size_t> limit{count};
  std::atomic<std::size_t> first_bad{count};
  // A copy: the in-order pass changes `state` while the helpers verify.
  const auto archive_id = state.header().archive_id;

  auto verify_blocks = [&] {
    for (;;) {
      const std::size_t begin = next_block.fetch_add(1) * kBlock;
      if (begin >= count) return;
      const std::size_t end = std::min(count, begin + kBlock);
      for (std::size_t r = resolved.load(std::memory_order_acquire); r < end;
           r = resolved.load(std::memory_order_acquire)) {
        resolved.wait(r, std::memory_order_acquire);
      }
      for (std::size_t i = begin; i < end; ++i) {
        if (i >= first_bad.load(std::memory_order_relaxed) ||
            i >= limit.load(std::memory_order_relaxed)) {
          return;  // blocks are claimed in order: every later one is past it too
        }
        if (!signers[i].has_value()) continue;
        const Entry& e = entries[i];
        if (!VerifySignature(*signers[i], SignedMessage(archive_id, e.signed_part),
                             e.signature)) {
          std::size_t seen = first_bad.load();
          while (i < seen && !first_bad.compare_exchange_weak(seen, i)) {
          }
          return;
        }
      }
    }
  };

  // Below a few hundred entries a thread costs more than it saves.
  const std::size_t helpers =
      count < 256 ? 0 : static_cast<std::size_t>(std::max(threads, 1)) - 1;
  std::vector<std::thread> pool;
  for (std::size_t w = 0; w < helpers; ++w) pool.emplace_back(verify_blocks);

  Status failure = Ok();
  for (std::size_t i = 0; i < count; ++i) {
    const bool skip = already_verified && already_verified(i);
    Status s = skip ? state.Apply(entries[i], SignatureCheck::kAlreadyVerified)
                    : state.Apply(entries[i], SignatureCheck::kDeferred, &signers[i]);
    if (s && after) s = after(i);
    if (!s) {
      limit.store(i + 1, std::memory_order_relaxed);
      failure = std::move(s);
      break;
    }
    // Publish in whole blocks: a waiter wakes once per block, not per entry.
    if ((i + 1) % kBlock == 0) {
      resolved.store(i + 1, std::memory_order_release);
      if (helpers > 0) resolved.notify_all();
    }
  }
  resolved.store(count, std::memory_order_release);
  resolved.notify_all();
  verify_blocks();
  for (std::thread& t : pool) t.join();

  // The first bad signature, if it comes before the first other defect, is
  // the error (`first_bad` < `limit` then, as no signature past it was
  // looked at).
  const std::size_t bad = first_bad.load();
  if (bad < limit.load()) {
    const Entry& e = entries[bad];
    return Impossible(e, "signature does not verify against " + e.actor + "'s key");
  }
  return failure;
}

}  // namespace custodia::vault
