// vault/record.cc: the TLV encoding of entry payloads. Tags are listed in
// docs/vault_format.md; keep the two in step.
#include "vault/record.h"

#include <array>
#include <climits>
#include <cstring>
#include <string_view>

#include "vault/coding.h"

namespace custodia::vault {
namespace {

// Every payload is a sequence of fields `tag:u8 size:u32le value`, tags
// 1, 2, 3, ... in order, each exactly once. New fields need a new entry
// type or ledger version: readers reject unknown tags rather than skip
// them, so nothing in a signed entry goes unread.
class FieldWriter {
 public:
  void Raw(std::span<const std::uint8_t> value) {
    out_.push_back(++tag_);
    PutU32(out_, static_cast<std::uint32_t>(value.size()));
    PutBytes(out_, value);
  }
  void String(std::string_view value) {
    Raw({reinterpret_cast<const std::uint8_t*>(value.data()), value.size()});
  }
  void U64(std::uint64_t v) {
    Bytes value;
    PutU64(value, v);
    Raw(value);
  }
  void U32(std::uint32_t v) {
    Bytes value;
    PutU32(value, v);
    Raw(value);
  }
  void U8(std::uint8_t v) { Raw(std::span<const std::uint8_t>(&v, 1)); }
  void Sealed(const std::optional<SealedKey>& key) {
    if (key) {
      Raw(*key);
    } else {
      Raw({});
    }
  }
  Bytes Finish() { return std::move(out_); }

 private:
  Bytes out_;
  std::uint8_t tag_ = 0;
};

// Reads fields in order, demanding each expected tag in turn.
class FieldReader {
 public:
  explicit FieldReader(std::span<const std::uint8_t> payload) : rest_(payload) {}

  Result<std::span<const std::uint8_t>> Next() {
    const std::uint8_t tag = ++tag_;
    if (rest_.size() < 5) return Missing();
    if (rest_[0] != tag) {
      return Fail(Code::kCorruption, "payload: field " + std::to_string(rest_[0]) +
                                         " where field " + std::to_string(tag) + " belongs");
    }
    const std::uint32_t size = GetU32(rest_.data() + 1);
    if (rest_.size() - 5 < size) return Missing();
    std::span<const std::uint8_t> value = rest_.subspan(5, size);
    rest_ = rest_.subspan(5 + size);
    return value;
  }

  Result<std::string> String() {
    CU_ASSIGN_OR_RETURN(auto value, Next());
    return std::string(reinterpret_cast<const char*>(value.data()), value.size());
  }

  template <std::size_t N>
  Result<std::array<std::uint8_t, N>> Fixed() {
    CU_ASSIGN_OR_RETURN(auto value, Next());
    if (value.size() != N) return WrongSize();
    std::array<std::uint8_t, N> out;
    std::memcpy(out.data(), value.data(), N);
    return out;
  }

  Result<std::uint64_t> U64() {
    CU_ASSIGN_OR_RETURN(auto value, Next());
    if (value.size() != 8) return WrongSize();
    return GetU64(value.data());
  }

  Result<std::uint32_t> U32() {
    CU_ASSIGN_OR_RETURN(auto value, Next());
    if (value.size() != 4) return WrongSize();
    return GetU32(value.data());
  }

  bool AtEnd() const { return rest_.empty(); }

  Result<std::uint8_t> U8() {
    CU_ASSIGN_OR_RETURN(auto value, Next());
    if (value.size() != 1) return WrongSize();
    return value[0];
  }

  // Empty (no key) or exactly kSealedKeySize bytes.
  Result<std::optional<SealedKey>> Sealed() {
    CU_ASSIGN_OR_RETURN(auto value, Next());
    if (value.empty()) return std::optional<SealedKey>();
    if (value.size() != kSealedKeySize) return WrongSize();
    SealedKey out;
    std::memcpy(out.data(), value.data(), kSealedKeySize);
    return std::optional<SealedKey>(out);
  }

  Status Finish() const {
    if (!rest_.empty()) {
      return Fail(Code::kCorruption, "payload: " + std::to_string(rest_.size()) +
                                         " unexpected bytes after the last field");
    }
    return Ok();
  }

 private:
  Unexpected Missing() const {
    return Fail(Code::kCorruption,
                "payload: field " + std::to_string(tag_) + " missing or cut short");
  }
  Unexpected WrongSize() const {
    return Fail(Code::kCorruption,
                "payload: field " + std::to_string(tag_) + " has the wrong size");
  }

  std::span<const std::uint8_t> rest_;
  std::uint8_t tag_ = 0;
};

}  // namespace

Bytes EncodeIngest(const IngestEntry& e) {
  FieldWriter w;
  w.String(e.doc_id);
  w.String(e.source);
  w.U32(e.pages);
  w.String(e.type);
  w.String(e.status);
  w.String(e.fields_json);
  w.U32(e.key_epoch);
  w.U64(e.original_size);
  w.Raw(e.original_hash);
  w.Raw(e.original_blob);
  w.Raw(e.original_key);
  w.U64(e.text_size);
  w.Raw(e.text_blob);
  w.Raw(e.text_key);
  if (!e.extras.empty()) {
    Bytes packed;
    packed.push_back(static_cast<std::uint8_t>(e.extras.size()));
    for (const BlobRef& x : e.extras) {
      packed.push_back(x.kind);
      PutU64(packed, x.size);
      packed.insert(packed.end(), x.blob.begin(), x.blob.end());
      packed.insert(packed.end(), x.key.begin(), x.key.end());
    }
    w.Raw(packed);
  }
  return w.Finish();
}

Result<IngestEntry> DecodeIngest(std::span<const std::uint8_t> payload) {
  FieldReader r(payload);
  IngestEntry e;
  CU_ASSIGN_OR_RETURN(e.doc_id, r.String());
  CU_ASSIGN_OR_RETURN(e.source, r.String());
  CU_ASSIGN_OR_RETURN(e.pages, r.U32());
  if (e.pages > INT_MAX) return Fail(Code::kCorruption, "payload: page count out of range");
  CU_ASSIGN_OR_RETURN(e.type, r.String());
  CU_ASSIGN_OR_RETURN(e.status, r.String());
  CU_ASSIGN_OR_RETURN(e.fields_json, r.String());
  CU_ASSIGN_OR_RETURN(e.key_epoch, r.U32());
  CU_ASSIGN_OR_RETURN(e.original_size, r.U64());
  CU_ASSIGN_OR_RETURN(e.original_hash, r.Fixed<kHashSize>());
  CU_ASSIGN_OR_RETURN(e.original_blob, r.Fixed<kHashSize>());
  CU_ASSIGN_OR_RETURN(e.original_key, r.Fixed<kWrappedKeySize>());
  CU_ASSIGN_OR_RETURN(e.text_size, r.U64());
  CU_ASSIGN_OR_RETURN(e.text_blob, r.Fixed<kHashSize>());
  CU_ASSIGN_OR_RETURN(e.text_key, r.Fixed<kWrappedKeySize>());
  if (!r.AtEnd()) {
    // count:u8, then (kind:u8 size:u64le blob:32 key:72) x count.
    constexpr std::size_t kItem = 1 + 8 + kHashSize + kWrappedKeySize;
    CU_ASSIGN_OR_RETURN(auto packed, r.Next());
    if (packed.empty() || packed[0] == 0 || packed.size() != 1 + packed[0] * kItem) {
      return Fail(Code::kCorruption, "payload: malformed artefact list");
    }
    std::uint8_t seen = 0;  // bit per kind
    for (std::size_t i = 0, at = 1; i < packed[0]; ++i, at += kItem) {
      BlobRef x;
      x.kind = packed[at];
      if (x.kind <= static_cast<std::uint8_t>(BlobKind::kText) || x.kind > kMaxBlobKind ||
          (seen & (1u << x.kind)) != 0) {
        return Fail(Code::kCorruption, "payload: artefact kind " + std::to_string(x.kind) +
                                           " unknown or repeated");
      }
      seen = static_cast<std::uint8_t>(seen | (1u << x.kind));
      x.size = GetU64(packed.data() + at + 1);
      std::memcpy(x.blob.data(), packed.data() + at + 9, kHashSize);
      std::memcpy(x.key.data(), packed.data() + at + 9 + kHashSize, kWrappedKeySize);
      e.extras.push_back(x);
    }
  }
  CU_TRY(r.Finish());
  return e;
}

std::vector<BlobRef> BlobsOf(const IngestEntry& e) {
  std::vector<BlobRef> out;
  out.reserve(2 + e.extras.size());
  out.push_back(BlobRef{static_cast<std::uint8_t>(BlobKind::kOriginal), e.original_size,
                        e.original_blob, e.original_key});
  out.push_back(BlobRef{static_cast<std::uint8_t>(BlobKind::kText), e.text_size, e.text_blob,
                        e.text_key});
  out.insert(out.end(), e.extras.begin(), e.extras.end());
  return out;
}

Bytes EncodeAccess(const AccessEntry& e) {
  FieldWriter w;
  w.String(e.doc_id);
  w.U8(e.artefact);
  w.String(e.purpose);
  return w.Finish();
}

Result<AccessEntry> DecodeAccess(std::span<const std::uint8_t> payload) {
  FieldReader r(payload);
  AccessEntry e;
  CU_ASSIGN_OR_RETURN(e.doc_id, r.String());
  CU_ASSIGN_OR_RETURN(e.artefact, r.U8());
  CU_ASSIGN_OR_RETURN(e.purpose, r.String());
  CU_TRY(r.Finish());
  return e;
}

Bytes EncodeCorrection(const CorrectionEntry& e) {
  FieldWriter w;
  w.String(e.doc_id);
  w.String(e.field);
  w.String(e.old_value);
  w.String(e.new_value);
  return w.Finish();
}

Result<CorrectionEntry> DecodeCorrection(std::span<const std::uint8_t> payload) {
  FieldReader r(payload);
  CorrectionEntry e;
  CU_ASSIGN_OR_RETURN(e.doc_id, r.String());
  CU_ASSIGN_OR_RETURN(e.field, r.String());
  CU_ASSIGN_OR_RETURN(e.old_value, r.String());
  CU_ASSIGN_OR_RETURN(e.new_value, r.String());
  CU_TRY(r.Finish());
  return e;
}

Bytes ReviewAd(const ReviewEntry& e) {
  FieldWriter w;
  w.String("custodia review v1");
  w.String(e.doc_id);
  w.U8(e.action);
  w.String(e.field);
  return w.Finish();
}

Bytes EncodeReview(const ReviewEntry& e) {
  FieldWriter w;
  w.String(e.doc_id);
  w.U8(e.action);
  w.String(e.field);
  w.String(e.type);
  w.String(e.status);
  w.Raw(e.sealed);
  return w.Finish();
}

Result<ReviewEntry> DecodeReview(std::span<const std::uint8_t> payload) {
  FieldReader r(payload);
  ReviewEntry e;
  CU_ASSIGN_OR_RETURN(e.doc_id, r.String());
  CU_ASSIGN_OR_RETURN(e.action, r.U8());
  CU_ASSIGN_OR_RETURN(e.field, r.String());
  CU_ASSIGN_OR_RETURN(e.type, r.String());
  CU_ASSIGN_OR_RETURN(e.status, r.String());
  CU_ASSIGN_OR_RETURN(auto sealed, r.Next());
  e.sealed.assign(sealed.begin(), sealed.end());
  CU_TRY(r.Finish());
  return e;
}

Bytes EncodeBatch(const BatchEntry& e) {
  FieldWriter w;
  w.String(e.source);
  if (e.source_hash) {
    w.Raw(*e.source_hash);
  } else {
    w.Raw({});
  }
  w.U8(e.outcome);
  w.String(e.reason);
  w.U32(e.pages);
  w.U32(e.blank_pages);
  w.U32(e.separators);
  Bytes documents;
  PutU32(documents, static_cast<std::uint32_t>(e.documents.size()));
  for (const BatchEntryDocument& d : e.documents) {
    CU_CHECK(d.id.size() <= UINT8_MAX && d.case_file.size() <= UINT8_MAX);
    documents.push_back(static_cast<std::uint8_t>(d.id.size()));
    PutString(documents, d.id);
    documents.push_back(static_cast<std::uint8_t>(d.case_file.size()));
    PutString(documents, d.case_file);
    PutU32(documents, d.first_page);
    PutU32(documents, d.pages);
    documents.push_back(d.duplicate);
  }
  w.Raw(documents);
  return w.Finish();
}

Result<BatchEntry> DecodeBatch(std::span<const std::uint8_t> payload) {
  FieldReader r(payload);
  BatchEntry e;
  CU_ASSIGN_OR_RETURN(e.source, r.String());
  CU_ASSIGN_OR_RETURN(auto hash, r.Next());
  if (hash.size() == kHashSize) {
    e.source_hash.emplace();
    std::memcpy(e.source_hash->data(), hash.data(), kHashSize);
  } else if (!hash.empty()) {
    return Fail(Code::kCorruption, "payload: field 2 has the wrong size");
  }
  CU_ASSIGN_OR_RETURN(e.outcome, r.U8());
  CU_ASSIGN_OR_RETURN(e.reason, r.String());
  CU_ASSIGN_OR_RETURN(e.pages, r.U32());
  CU_ASSIGN_OR_RETURN(e.blank_pages, r.U32());
  CU_ASSIGN_OR_RETURN(e.separators, r.U32());
  CU_ASSIGN_OR_RETURN(auto documents, r.Next());
  CU_TRY(r.Finish());
  // count:u32le (id_size:u8 id case_size:u8 case_file first_page:u32le
  // pages:u32le duplicate:u8){count}. The count is not trusted for sizing:
  // each document is read only once its bytes are there.
  const Unexpected bad = Fail(Code::kCorruption, "payload: malformed batch document list");
  if (documents.size() < 4) return bad;
  const std::uint32_t count = GetU32(documents.data());
  documents = documents.subspan(4);
  for (std::uint32_t i = 0; i < count; ++i) {
    BatchEntryDocument d;
    if (documents.empty() || documents.size() < 1u + documents[0]) return bad;
    d.id.assign(reinterpret_cast<const char*>(documents.data() + 1), documents[0]);
    documents = documents.subspan(1 + d.id.size());
    if (documents.empty() || documents.size() < 1u + documents[0] + 4 + 4 + 1) return bad;
    d.case_file.assign(reinterpret_cast<const char*>(documents.data() + 1), documents[0]);
    documents = documents.subspan(1 + d.case_file.size());
    d.first_page = GetU32(documents.data());
    d.pages = GetU32(documents.data() + 4);
    d.duplicate = documents[8];
    documents = documents.subspan(9);
    e.documents.push_back(std::move(d));
  }
  if (!documents.empty()) return bad;
  return e;
}

Bytes EncodeCheckout(const CheckoutEntry& e) {
  FieldWriter w;
  w.String(e.doc_id);
  w.String(e.to);
  w.String(e.due);
  w.String(e.reason);
  return w.Finish();
}

Result<CheckoutEntry> DecodeCheckout(std::span<const std::uint8_t> payload) {
  FieldReader r(payload);
  CheckoutEntry e;
  CU_ASSIGN_OR_RETURN(e.doc_id, r.String());
  CU_ASSIGN_OR_RETURN(e.to, r.String());
  CU_ASSIGN_OR_RETURN(e.due, r.String());
  CU_ASSIGN_OR_RETURN(e.reason, r.String());
  CU_TRY(r.Finish());
  return e;
}

Bytes EncodeReturn(const ReturnEntry& e) {
  FieldWriter w;
  w.String(e.doc_id);
  w.String(e.note);
  return w.Finish();
}

Result<ReturnEntry> DecodeReturn(std::span<const std::uint8_t> payload) {
  FieldReader r(payload);
  ReturnEntry e;
  CU_ASSIGN_OR_RETURN(e.doc_id, r.String());
  CU_ASSIGN_OR_RETURN(e.note, r.String());
  CU_TRY(r.Finish());
  return e;
}

Bytes EncodeUserAdded(const UserAddedEntry& e) {
  FieldWriter w;
  w.String(e.name);
  w.Raw(e.sign_public);
  w.Raw(e.box_public);
  w.U8(e.roles);
  w.U32(e.epoch);
  w.Sealed(e.sealed_key);
  return w.Finish();
}

Result<UserAddedEntry> DecodeUserAdded(std::span<const std::uint8_t> payload) {
  FieldReader r(payload);
  UserAddedEntry e;
  CU_ASSIGN_OR_RETURN(e.name, r.String());
  CU_ASSIGN_OR_RETURN(e.sign_public, r.Fixed<kSignPublicKeySize>());
  CU_ASSIGN_OR_RETURN(e.box_public, r.Fixed<kBoxPublicKeySize>());
  CU_ASSIGN_OR_RETURN(e.roles, r.U8());
  CU_ASSIGN_OR_RETURN(e.epoch, r.U32());
  CU_ASSIGN_OR_RETURN(e.sealed_key, r.Sealed());
  CU_TRY(r.Finish());
  return e;
}

Bytes EncodeRole(const RoleEntry& e) {
  FieldWriter w;
  w.String(e.name);
  w.U8(e.role);
  w.U32(e.epoch);
  w.Sealed(e.sealed_key);
  return w.Finish();
}

Result<RoleEntry> DecodeRole(std::span<const std::uint8_t> payload) {
  FieldReader r(payload);
  RoleEntry e;
  CU_ASSIGN_OR_RETURN(e.name, r.String());
  CU_ASSIGN_OR_RETURN(e.role, r.U8());
  CU_ASSIGN_OR_RETURN(e.epoch, r.U32());
  CU_ASSIGN_OR_RETURN(e.sealed_key, r.Sealed());
  CU_TRY(r.Finish());
  return e;
}

Bytes EncodeUserRevoked(const UserRevokedEntry& e) {
  FieldWriter w;
  w.String(e.name);
  return w.Finish();
}

Result<UserRevokedEntry> DecodeUserRevoked(std::span<const std::uint8_t> payload) {
  FieldReader r(payload);
  UserRevokedEntry e;
  CU_ASSIGN_OR_RETURN(e.name, r.String());
  CU_TRY(r.Finish());
  return e;
}

Bytes EncodeRotation(const RotationEntry& e) {
  FieldWriter w;
  w.U32(e.epoch);
  w.Raw(e.key_id);
  w.Raw(e.key_file_hash);
  Bytes grants;
  PutU32(grants, static_cast<std::uint32_t>(e.grants.size()));
  for (const KeyGrant& g : e.grants) {
    grants.push_back(static_cast<std::uint8_t>(g.name.size()));
    PutString(grants, g.name);
    PutBytes(grants, g.sealed);
  }
  w.Raw(grants);
  return w.Finish();
}

Result<RotationEntry> DecodeRotation(std::span<const std::uint8_t> payload) {
  FieldReader r(payload);
  RotationEntry e;
  CU_ASSIGN_OR_RETURN(e.epoch, r.U32());
  CU_ASSIGN_OR_RETURN(e.key_id, r.Fixed<kHashSize>());
  CU_ASSIGN_OR_RETURN(e.key_file_hash, r.Fixed<kHashSize>());
  CU_ASSIGN_OR_RETURN(auto grants, r.Next());
  CU_TRY(r.Finish());
  const Unexpected bad = Fail(Code::kCorruption, "payload: malformed key grants");
  if (grants.size() < 4) return bad;
  const std::uint32_t count = GetU32(grants.data());
  grants = grants.subspan(4);
  for (std::uint32_t i = 0; i < count; ++i) {
    if (grants.empty()) return bad;
    const std::size_t name_size = grants[0];
    if (grants.size() < 1 + name_size + kSealedKeySize) return bad;
    KeyGrant g;
    g.name.assign(reinterpret_cast<const char*>(grants.data() + 1), name_size);
    std::memcpy(g.sealed.data(), grants.data() + 1 + name_size, kSealedKeySize);
    e.grants.push_back(std::move(g));
    grants = grants.subspan(1 + name_size + kSealedKeySize);
  }
  if (!grants.empty()) return bad;
  return e;
}

Bytes EncodeCheckpoint(const CheckpointEntry& e) {
  FieldWriter w;
  w.U64(e.tree_size);
  w.Raw(e.root);
  return w.Finish();
}

Result<CheckpointEntry> DecodeCheckpoint(std::span<const std::uint8_t> payload) {
  FieldReader r(payload);
  CheckpointEntry e;
  CU_ASSIGN_OR_RETURN(e.tree_size, r.U64());
  CU_ASSIGN_OR_RETURN(e.root, r.Fixed<kHashSize>());
  CU_TRY(r.Finish());
  return e;
}

Record ToRecord(const IngestEntry& e, std::uint64_t seq, std::int64_t micros,
                const std::string& actor) {
  Record r;
  r.id = e.doc_id;
  r.seq = seq;
  r.sealed_micros = micros;
  r.source = e.source;
  r.pages = static_cast<int>(e.pages);
  r.type = e.type;
  r.status = e.status;
  r.sealed_type = e.type;
  r.sealed_status = e.status;
  r.fields_json = e.fields_json;
  r.actor = actor;
  r.original_hash = Hex(e.original_hash);
  r.original_size = e.original_size;
  r.original_blob = Hex(e.original_blob);
  r.text_blob = Hex(e.text_blob);
  for (const BlobRef& b : BlobsOf(e)) r.artefacts.push_back(KindName(static_cast<BlobKind>(b.kind)));
  return r;
}

}  // namespace custodia::vault
