// vault/blob.cc: encode and decode encrypted blobs. The byte layout is in
// docs/vault_format.md; keep the two in step.
#include "vault/blob.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <string_view>
#include <utility>

#include "vault/coding.h"

namespace custodia::vault {
namespace {

constexpr std::string_view kBlobMagic = "CUSTBLOB";
// magic:8 version:u32le kind:u8 plaintext_size:u64le id_size:u8, then the id.
constexpr std::size_t kLabelFixedSize = 8 + 4 + 1 + 8 + 1;
constexpr std::size_t kStreamHeaderSize = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
constexpr std::size_t kChunkOverhead = crypto_secretstream_xchacha20poly1305_ABYTES;

static_assert(kStreamHeaderSize == 24 && kChunkOverhead == 17,
              "docs/vault_format.md describes these sizes");

// Holds a secretstream state (which contains the stream's subkey) and wipes
// it on every path out of the scope.
class StreamState {
 public:
  StreamState() = default;
  StreamState(const StreamState&) = delete;
  StreamState& operator=(const StreamState&) = delete;
  ~StreamState() { sodium_memzero(&state_, sizeof state_); }
  crypto_secretstream_xchacha20poly1305_state* get() { return &state_; }

 private:
  crypto_secretstream_xchacha20poly1305_state state_{};
};

const char* KindName(BlobKind kind) {
  switch (kind) {
    case BlobKind::kOriginal:
      return "original";
    case BlobKind::kText:
      return "text";
  }
  return "unknown";
}

bool ValidDocId(std::string_view id) { return !id.empty() && id.size() <= kMaxDocIdSize; }

// Chunks for `size` plaintext bytes: at least one, so that even an empty
// blob ends with an authenticated TAG_FINAL chunk.
std::uint64_t ChunkCount(std::uint64_t size) {
  return size == 0 ? 1 : (size + kChunkSize - 1) / kChunkSize;
}

std::string Describe(const BlobLabel& label) {
  return label.doc_id + " " + KindName(label.kind) + " of " + std::to_string(label.plaintext_size) +
         " bytes";
}

Bytes EncodeLabel(const BlobLabel& label) {
  Bytes out;
  out.reserve(kLabelFixedSize + label.doc_id.size());
  PutString(out, kBlobMagic);
  PutU32(out, kBlobVersion);
  out.push_back(static_cast<std::uint8_t>(label.kind));
  PutU64(out, label.plaintext_size);
  out.push_back(static_cast<std::uint8_t>(label.doc_id.size()));
  PutString(out, label.doc_id);
  return out;
}

struct ParsedLabel {
  BlobLabel label;
  std::size_t size = 0;  // bytes of the label on disk
};

Result<ParsedLabel> ParseLabel(std::span<const std::uint8_t> blob) {
  if (blob.size() < kLabelFixedSize) {
    return Fail(Code::kCorruption, "label incomplete (" + std::to_string(blob.size()) + " bytes)");
  }
  if (std::memcmp(blob.data(), kBlobMagic.data(), kBlobMagic.size()) != 0) {
    return Fail(Code::kCorruption, "not a custodia blob (bad magic)");
  }
  const std::uint32_t version = GetU32(blob.data() + 8);
  if (version != kBlobVersion) {
    return Fail(Code::kCorruption,
                "blob format version " + std::to_string(version) + " is not supported");
  }
  const std::uint8_t kind = blob[12];
  if (kind != static_cast<std::uint8_t>(BlobKind::kOriginal) &&
      kind != static_cast<std::uint8_t>(BlobKind::kText)) {
    return Fail(Code::kCorruption, "unknown artefact kind " + std::to_string(kind));
  }
  const std::uint64_t plaintext_size = GetU64(blob.data() + 13);
  const std::size_t id_size = blob[21];
  if (id_size == 0 || id_size > kMaxDocIdSize || blob.size() < kLabelFixedSize + id_size) {
    return Fail(Code::kCorruption, "bad document id in label");
  }
  ParsedLabel parsed;
  parsed.label.doc_id.assign(reinterpret_cast<const char*>(blob.data()) + kLabelFixedSize, id_size);
  parsed.label.kind = static_cast<BlobKind>(kind);
  parsed.label.plaintext_size = plaintext_size;
  parsed.size = kLabelFixedSize + id_size;
  return parsed;
}

// Parses the label, checks it against `expected` and checks the length of
// the whole blob. Returns the label's size on disk.
Result<std::size_t> CheckLabelAndSize(std::span<const std::uint8_t> blob,
                                      const BlobLabel& expected) {
  CU_ASSIGN_OR_RETURN(ParsedLabel parsed, ParseLabel(blob));
  const BlobLabel& got = parsed.label;
  if (got.doc_id != expected.doc_id || got.kind != expected.kind ||
      got.plaintext_size != expected.plaintext_size) {
    return Fail(Code::kTampered,
                "labelled as " + Describe(got) + ", expected " + Describe(expected));
  }
  // The plaintext cannot be longer than the file; checking this first keeps
  // the arithmetic below far from overflow.
  const std::uint64_t size = got.plaintext_size;
  if (size > blob.size()) {
    return Fail(Code::kTampered, "blob is " + std::to_string(blob.size()) +
                                     " bytes, too short for its label (truncated)");
  }
  const std::uint64_t want =
      parsed.size + kStreamHeaderSize + size + ChunkCount(size) * kChunkOverhead;
  if (blob.size() < want) {
    return Fail(Code::kTampered, "blob is " + std::to_string(blob.size()) + " bytes, expected " +
                                     std::to_string(want) + " (truncated)");
  }
  if (blob.size() > want) {
    return Fail(Code::kTampered, "blob is " + std::to_string(blob.size()) + " bytes, expected " +
                                     std::to_string(want) + " (trailing bytes)");
  }
  return parsed.size;
}

}  // namespace

Bytes EncodeBlob(const BlobLabel& label, std::span<const std::uint8_t> plaintext,
                 const SecretKey& key) {
  CU_CHECK(InitCrypto());
  CU_CHECK(label.plaintext_size == plaintext.size());
  CU_CHECK(ValidDocId(label.doc_id));
  Bytes out = EncodeLabel(label);
  const std::size_t label_size = out.size();
  const std::size_t size = plaintext.size();
  const std::size_t chunks = ChunkCount(size);
  out.resize(label_size + kStreamHeaderSize + size + chunks * kChunkOverhead);

  StreamState state;
  crypto_secretstream_xchacha20poly1305_init_push(state.get(), out.data() + label_size,
                                                  key.bytes().data());
  static const std::uint8_t kNothing = 0;  // a valid pointer for empty input
  std::size_t in = 0;
  std::size_t pos = label_size + kStreamHeaderSize;
  for (std::size_t i = 0; i < chunks; ++i) {
    const std::size_t n = std::min(kChunkSize, size - in);
    const bool last = i + 1 == chunks;
    // The label is the additional data of the first chunk only: that binds
    // it to the stream, whose later chunks are bound to the first by the
    // stream's own nonce sequence.
    unsigned long long written = 0;
    crypto_secretstream_xchacha20poly1305_push(
        state.get(), out.data() + pos, &written, n == 0 ? &kNothing : plaintext.data() + in, n,
        i == 0 ? out.data() : nullptr, i == 0 ? label_size : 0,
        last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
             : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
    pos += static_cast<std::size_t>(written);
    in += n;
  }
  CU_CHECK(pos == out.size());
  return out;
}

Status CheckBlobShape(std::span<const std::uint8_t> blob, const BlobLabel& expected) {
  CU_TRY(CheckLabelAndSize(blob, expected));
  return Ok();
}

Result<Bytes> DecodeBlob(std::span<const std::uint8_t> blob, const BlobLabel& expected,
                         const SecretKey& key) {
  CU_TRY(InitCrypto());
  // The size check makes the per-chunk checks below unreachable for a blob
  // that is merely cut or extended; they stay as the format's own rules
  // (TAG_FINAL last, then end of file), checked on what we decrypt.
  CU_ASSIGN_OR_RETURN(const std::size_t label_size, CheckLabelAndSize(blob, expected));
  const std::size_t size = expected.plaintext_size;
  const std::size_t chunks = ChunkCount(size);

  StreamState state;
  if (crypto_secretstream_xchacha20poly1305_init_pull(state.get(), blob.data() + label_size,
                                                      key.bytes().data()) != 0) {
    return Fail(Code::kTampered, "bad stream header");
  }
  Bytes out(size);
  std::uint8_t scratch = 0;  // a valid pointer for empty chunks
  std::size_t produced = 0;
  std::size_t pos = label_size + kStreamHeaderSize;
  for (std::size_t i = 0; i < chunks; ++i) {
    const std::size_t n = std::min(kChunkSize, size - produced);
    const std::size_t want = n + kChunkOverhead;
    const std::string where = "chunk " + std::to_string(i + 1) + " of " + std::to_string(chunks);
    if (blob.size() - pos < want) return Fail(Code::kTampered, where + ": truncated");
    unsigned long long got = 0;
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(
            state.get(), n == 0 ? &scratch : out.data() + produced, &got, &tag, blob.data() + pos,
            want, i == 0 ? blob.data() : nullptr, i == 0 ? label_size : 0) != 0 ||
        got != n) {
      return Fail(Code::kTampered,
                  where + ": does not authenticate (altered, reordered, relabelled or wrong key)");
    }
    const bool last = i + 1 == chunks;
    if (last && tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
      return Fail(Code::kTampered, where + ": last chunk is not marked final (blob cut short)");
    }
    if (!last && tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
      return Fail(Code::kTampered, where + ": unexpected tag " + std::to_string(tag));
    }
    produced += n;
    pos += want;
  }
  if (pos != blob.size()) {
    return Fail(Code::kTampered,
                std::to_string(blob.size() - pos) + " bytes after the final chunk");
  }
  return out;
}

}  // namespace custodia::vault
