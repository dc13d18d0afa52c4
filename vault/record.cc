// vault/record.cc: the TLV encoding of ingest payloads. Tags are listed in
// docs/vault_format.md; keep the two in step.
#include "vault/record.h"

#include <array>
#include <climits>
#include <cstring>
#include <string_view>

#include "vault/coding.h"

namespace custodia::vault {
namespace {

// Field tags, in the order they must appear. New fields need a new entry
// type or ledger version: readers reject unknown tags rather than skip them,
// so nothing in a hashed entry goes unread.
enum Tag : std::uint8_t {
  kTagDocId = 1,
  kTagSealedMicros = 2,
  kTagActor = 3,
  kTagSource = 4,
  kTagPages = 5,
  kTagType = 6,
  kTagStatus = 7,
  kTagFieldsJson = 8,
  kTagOriginalSize = 9,
  kTagOriginalHash = 10,
  kTagOriginalBlob = 11,
  kTagOriginalKey = 12,
  kTagTextSize = 13,
  kTagTextBlob = 14,
  kTagTextKey = 15,
};

void PutField(Bytes& out, Tag tag, std::span<const std::uint8_t> value) {
  out.push_back(tag);
  PutU32(out, static_cast<std::uint32_t>(value.size()));
  PutBytes(out, value);
}

void PutField(Bytes& out, Tag tag, std::string_view value) {
  PutField(out, tag,
           std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(value.data()),
                                         value.size()));
}

void PutFieldU64(Bytes& out, Tag tag, std::uint64_t v) {
  Bytes value;
  PutU64(value, v);
  PutField(out, tag, value);
}

void PutFieldU32(Bytes& out, Tag tag, std::uint32_t v) {
  Bytes value;
  PutU32(value, v);
  PutField(out, tag, value);
}

// Reads fields in order, demanding each expected tag in turn.
class FieldReader {
 public:
  explicit FieldReader(std::span<const std::uint8_t> payload) : rest_(payload) {}

  Result<std::span<const std::uint8_t>> Next(Tag tag) {
    if (rest_.size() < 5) return Missing(tag);
    if (rest_[0] != tag) {
      return Fail(Code::kCorruption, "payload: field " + std::to_string(rest_[0]) +
                                         " where field " + std::to_string(tag) + " belongs");
    }
    const std::uint32_t size = GetU32(rest_.data() + 1);
    if (rest_.size() - 5 < size) return Missing(tag);
    std::span<const std::uint8_t> value = rest_.subspan(5, size);
    rest_ = rest_.subspan(5 + size);
    return value;
  }

  Result<std::string> String(Tag tag) {
    CU_ASSIGN_OR_RETURN(auto value, Next(tag));
    return std::string(reinterpret_cast<const char*>(value.data()), value.size());
  }

  template <std::size_t N>
  Result<std::array<std::uint8_t, N>> Fixed(Tag tag) {
    CU_ASSIGN_OR_RETURN(auto value, Next(tag));
    if (value.size() != N) return WrongSize(tag);
    std::array<std::uint8_t, N> out;
    std::memcpy(out.data(), value.data(), N);
    return out;
  }

  Result<std::uint64_t> U64(Tag tag) {
    CU_ASSIGN_OR_RETURN(auto value, Next(tag));
    if (value.size() != 8) return WrongSize(tag);
    return GetU64(value.data());
  }

  Result<std::uint32_t> U32(Tag tag) {
    CU_ASSIGN_OR_RETURN(auto value, Next(tag));
    if (value.size() != 4) return WrongSize(tag);
    return GetU32(value.data());
  }

  Status Finish() const {
    if (!rest_.empty()) {
      return Fail(Code::kCorruption, "payload: " + std::to_string(rest_.size()) +
                                         " unexpected bytes after the last field");
    }
    return Ok();
  }

 private:
  static Unexpected Missing(Tag tag) {
    return Fail(Code::kCorruption,
                "payload: field " + std::to_string(tag) + " missing or cut short");
  }
  static Unexpected WrongSize(Tag tag) {
    return Fail(Code::kCorruption, "payload: field " + std::to_string(tag) + " has the wrong size");
  }

  std::span<const std::uint8_t> rest_;
};

}  // namespace

Bytes EncodeIngest(const IngestEntry& e) {
  Bytes out;
  PutField(out, kTagDocId, e.doc_id);
  PutFieldU64(out, kTagSealedMicros, static_cast<std::uint64_t>(e.sealed_micros));
  PutField(out, kTagActor, e.actor);
  PutField(out, kTagSource, e.source);
  PutFieldU32(out, kTagPages, e.pages);
  PutField(out, kTagType, e.type);
  PutField(out, kTagStatus, e.status);
  PutField(out, kTagFieldsJson, e.fields_json);
  PutFieldU64(out, kTagOriginalSize, e.original_size);
  PutField(out, kTagOriginalHash, e.original_hash);
  PutField(out, kTagOriginalBlob, e.original_blob);
  PutField(out, kTagOriginalKey, e.original_key);
  PutFieldU64(out, kTagTextSize, e.text_size);
  PutField(out, kTagTextBlob, e.text_blob);
  PutField(out, kTagTextKey, e.text_key);
  return out;
}

Result<IngestEntry> DecodeIngest(std::span<const std::uint8_t> payload) {
  FieldReader r(payload);
  IngestEntry e;
  CU_ASSIGN_OR_RETURN(e.doc_id, r.String(kTagDocId));
  CU_ASSIGN_OR_RETURN(const std::uint64_t micros, r.U64(kTagSealedMicros));
  e.sealed_micros = static_cast<std::int64_t>(micros);
  CU_ASSIGN_OR_RETURN(e.actor, r.String(kTagActor));
  CU_ASSIGN_OR_RETURN(e.source, r.String(kTagSource));
  CU_ASSIGN_OR_RETURN(e.pages, r.U32(kTagPages));
  if (e.pages > INT_MAX) return Fail(Code::kCorruption, "payload: page count out of range");
  CU_ASSIGN_OR_RETURN(e.type, r.String(kTagType));
  CU_ASSIGN_OR_RETURN(e.status, r.String(kTagStatus));
  CU_ASSIGN_OR_RETURN(e.fields_json, r.String(kTagFieldsJson));
  CU_ASSIGN_OR_RETURN(e.original_size, r.U64(kTagOriginalSize));
  CU_ASSIGN_OR_RETURN(e.original_hash, r.Fixed<kHashSize>(kTagOriginalHash));
  CU_ASSIGN_OR_RETURN(e.original_blob, r.Fixed<kHashSize>(kTagOriginalBlob));
  CU_ASSIGN_OR_RETURN(e.original_key, r.Fixed<kWrappedKeySize>(kTagOriginalKey));
  CU_ASSIGN_OR_RETURN(e.text_size, r.U64(kTagTextSize));
  CU_ASSIGN_OR_RETURN(e.text_blob, r.Fixed<kHashSize>(kTagTextBlob));
  CU_ASSIGN_OR_RETURN(e.text_key, r.Fixed<kWrappedKeySize>(kTagTextKey));
  CU_TRY(r.Finish());
  return e;
}

Record ToRecord(const IngestEntry& e, std::uint64_t seq) {
  Record r;
  r.id = e.doc_id;
  r.seq = seq;
  r.sealed_micros = e.sealed_micros;
  r.source = e.source;
  r.pages = static_cast<int>(e.pages);
  r.type = e.type;
  r.status = e.status;
  r.fields_json = e.fields_json;
  r.actor = e.actor;
  r.original_hash = Hex(e.original_hash);
  r.original_size = e.original_size;
  r.original_blob = Hex(e.original_blob);
  r.text_blob = Hex(e.text_blob);
  return r;
}

}  // namespace custodia::vault
