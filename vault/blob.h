// vault/blob.h (internal): the encrypted blob format (docs/vault_format.md,
// "Blobs"): a plaintext label authenticated with the first chunk, then a
// crypto_secretstream_xchacha20poly1305 stream of 64 KiB chunks.
#ifndef CUSTODIA_VAULT_BLOB_H_
#define CUSTODIA_VAULT_BLOB_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "base/env.h"
#include "base/result.h"
#include "vault/crypto.h"

namespace custodia::vault {

inline constexpr std::size_t kChunkSize = 64 * 1024;  // plaintext bytes per chunk
inline constexpr std::uint32_t kBlobVersion = 1;
inline constexpr std::size_t kMaxDocIdSize = 32;

// The artefacts of a document (numbered as vault.h's Artefact).
enum class BlobKind : std::uint8_t { kOriginal = 1, kText = 2, kHocr = 3, kPdf = 4, kFields = 5 };
inline constexpr std::uint8_t kMaxBlobKind = 5;
// "original", "text", "hocr", "pdf", "fields"; "unknown" otherwise.
const char* KindName(BlobKind kind);

// What a blob claims to be. Written in clear at the start of the blob and
// authenticated as the additional data of the first chunk.
struct BlobLabel {
  std::string doc_id;  // "D000001"; 1..kMaxDocIdSize bytes
  BlobKind kind = BlobKind::kOriginal;
  std::uint64_t plaintext_size = 0;
};

// Receives a blob's bytes, in order, a piece at a time.
using BlobSink = std::function<Status(std::span<const std::uint8_t>)>;

// Plaintext bytes per piece StreamBlob hands its sink (16 chunks).
inline constexpr std::size_t kStreamSegment = 16 * kChunkSize;

// Writes the blob for `plaintext` under `key` to `sink`, never holding more
// than a few segments of ciphertext, and returns the BLAKE2b-256 of all its
// bytes: the blob's name. With `pipelined`, a second thread hashes and feeds
// the sink while this one encrypts (worth it from a few MiB on). The first
// sink error stops the stream and is returned.
// REQUIRES: label.plaintext_size == plaintext.size(), a valid doc_id.
Result<Hash> StreamBlob(const BlobLabel& label, std::span<const std::uint8_t> plaintext,
                        const SecretKey& key, const BlobSink& sink, bool pipelined = false);

// Fills `out` with the next out.size() plaintext bytes, in order.
using BlobSource = std::function<Status(std::span<std::uint8_t> out)>;

// StreamBlob over label.plaintext_size bytes read from `source` a segment at
// a time, so a large original is never held whole. The first source error
// stops the stream and is returned.
Result<Hash> StreamBlob(const BlobLabel& label, const BlobSource& source, const SecretKey& key,
                        const BlobSink& sink, bool pipelined = false);

// The blob file bytes for `plaintext` under `key` (StreamBlob into memory).
// REQUIRES: as StreamBlob.
Bytes EncodeBlob(const BlobLabel& label, std::span<const std::uint8_t> plaintext,
                 const SecretKey& key);

// Checks what can be checked without the key: the label parses, equals
// `expected`, and the file is exactly as long as that plaintext size
// implies. kCorruption for an unparseable label, kTampered otherwise.
Status CheckBlobShape(std::span<const std::uint8_t> blob, const BlobLabel& expected);

// Decrypts `blob`, which must carry the label `expected`. Every chunk must
// authenticate, in order, with TAG_FINAL on the last one and nothing after
// it. kCorruption for an unparseable label; kTampered for anything else
// (relabelled, truncated, reordered, trailing bytes, wrong key).
// Messages carry no "vault: blob <name>" prefix; the caller adds it.
Result<Bytes> DecodeBlob(std::span<const std::uint8_t> blob, const BlobLabel& expected,
                         const SecretKey& key);

}  // namespace custodia::vault

#endif  // CUSTODIA_VAULT_BLOB_H_
