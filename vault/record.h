// vault/record.h (internal): the payload of an ingest entry, a TLV encoding
// of a sealed document's record and its wrapped blob keys
// (docs/vault_format.md, "Ingest payload").
#ifndef CUSTODIA_VAULT_RECORD_H_
#define CUSTODIA_VAULT_RECORD_H_

#include <cstdint>
#include <span>
#include <string>

#include "base/env.h"
#include "base/result.h"
#include "vault/crypto.h"
#include "vault/vault.h"

namespace custodia::vault {

struct IngestEntry {
  std::string doc_id;
  std::int64_t sealed_micros = 0;
  std::string actor;
  std::string source;
  std::uint32_t pages = 0;
  std::string type;
  std::string status;
  std::string fields_json;
  std::uint64_t original_size = 0;
  Hash original_hash{};  // BLAKE2b-256 of the original plaintext
  Hash original_blob{};  // the original's blob name
  WrappedKey original_key{};
  std::uint64_t text_size = 0;
  Hash text_blob{};
  WrappedKey text_key{};
};

Bytes EncodeIngest(const IngestEntry& entry);

// Parses a payload written by EncodeIngest. kCorruption (message without a
// "vault:" prefix; the caller names the entry) if any field is missing, out
// of order, of the wrong size, unknown, or followed by extra bytes.
Result<IngestEntry> DecodeIngest(std::span<const std::uint8_t> payload);

// The public view of an ingest entry with sequence number `seq`.
Record ToRecord(const IngestEntry& entry, std::uint64_t seq);

}  // namespace custodia::vault

#endif  // CUSTODIA_VAULT_RECORD_H_
