// vault/blob_fuzz.cc: libFuzzer target over the blob reader (issue 8):
// a blob file's label, length and secretstream chunks, decrypted with a
// fixed key. Any bytes must give the plaintext or an error, never a crash,
// a hang or a leak, and what does not authenticate must be refused.
//
// An input that begins with 'C' (as "CUSTBLOB" does) is a blob file: it is
// checked and decrypted against the label it claims and against a wrong
// one. Any other input drives a round trip from a FuzzedDataProvider: a
// label and a plaintext of up to four 64 KiB chunks are encoded, must
// decode to the same plaintext, and must be refused once a byte is
// flipped, a byte is cut off or one is appended. Built with -DCU_FUZZ=ON
// (clang); seeds by vault_fuzz_seeds (scripts/fuzz.sh): blobs of the
// samples under the same key.
#include <fuzzer/FuzzedDataProvider.h>
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "vault/blob.h"
#include "vault/coding.h"
#include "vault/crypto.h"

using namespace custodia;
using namespace custodia::vault;

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "blob_fuzz: %s\n", what);
  ::abort();
}

// vault_fuzz_seeds seals its seeds under this key too.
const SecretKey& TheKey() {
  static const SecretKey* key = [] {
    if (!InitCrypto()) Die("no libsodium");
    const std::vector<std::uint8_t> bytes(kKeySize, 0x42);
    auto made = SecretKey::FromBytes(bytes);
    if (!made) Die("no key");
    return new SecretKey(std::move(made).value());
  }();
  return *key;
}

// The label a blob file claims (docs/vault_format.md, "Blobs": magic:8
// version:u32le kind:u8 plaintext_size:u64le id_size:u8 id), read without
// any check, so that the reader's checks are the ones under test.
BlobLabel ClaimedLabel(std::span<const std::uint8_t> blob) {
  BlobLabel label{"D000001", BlobKind::kOriginal, 0};
  if (blob.size() < 22) return label;
  label.kind = static_cast<BlobKind>(blob[12]);
  label.plaintext_size = GetU64(blob.data() + 13);
  const std::size_t id_size = std::min<std::size_t>(blob[21], blob.size() - 22);
  label.doc_id.assign(reinterpret_cast<const char*>(blob.data() + 22), id_size);
  return label;
}

void ReadFile(std::span<const std::uint8_t> blob) {
  const BlobLabel claimed = ClaimedLabel(blob);
  (void)CheckBlobShape(blob, claimed);
  auto plain = DecodeBlob(blob, claimed, TheKey());
  if (plain && plain->size() != claimed.plaintext_size) Die("plaintext of another size than its label");
  BlobLabel other = claimed;
  other.kind = static_cast<BlobKind>(static_cast<std::uint8_t>(claimed.kind) % kMaxBlobKind + 1);
  if (DecodeBlob(blob, other, TheKey())) Die("a blob decodes under a label it does not carry");
  if (CheckBlobShape(blob, other)) Die("a blob passes the shape check under another label");
}

void RoundTrip(FuzzedDataProvider& in) {
  BlobLabel label;
  label.doc_id = in.ConsumeBytesAsString(in.ConsumeIntegralInRange<std::size_t>(1, kMaxDocIdSize));
  if (label.doc_id.empty()) label.doc_id = "D";
  label.kind = static_cast<BlobKind>(in.ConsumeIntegralInRange<std::uint8_t>(1, kMaxBlobKind));
  const std::size_t chunks = in.ConsumeIntegralInRange<std::size_t>(0, 3);
  const std::size_t extra = in.ConsumeIntegralInRange<std::size_t>(0, 255) * 257;
  const std::size_t flip_at = in.ConsumeIntegral<std::size_t>();
  const std::uint8_t flip = in.ConsumeIntegralInRange<std::uint8_t>(1, 255);
  std::vector<std::uint8_t> pattern = in.ConsumeRemainingBytes<std::uint8_t>();
  if (pattern.empty()) pattern.push_back(0);
  std::vector<std::uint8_t> plaintext(chunks * kChunkSize + extra % kChunkSize);
  for (std::size_t i = 0; i < plaintext.size(); ++i) plaintext[i] = pattern[i % pattern.size()];
  label.plaintext_size = plaintext.size();

  Bytes blob = EncodeBlob(label, plaintext, TheKey());
  if (!CheckBlobShape(blob, label)) Die("a fresh blob fails the shape check");
  auto decoded = DecodeBlob(blob, label, TheKey());
  if (!decoded || *decoded != plaintext) Die("a fresh blob does not decode to its plaintext");

  Bytes flipped = blob;
  flipped[flip_at % flipped.size()] ^= flip;
  if (DecodeBlob(flipped, label, TheKey())) Die("a blob with a flipped byte decodes");
  Bytes cut(blob.begin(), blob.end() - 1);
  if (DecodeBlob(cut, label, TheKey())) Die("a blob missing its last byte decodes");
  Bytes longer = blob;
  longer.push_back(flip);
  if (DecodeBlob(longer, label, TheKey())) Die("a blob with a trailing byte decodes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 0 && data[0] == 'C') {
    ReadFile({data, size});
    return 0;
  }
  FuzzedDataProvider in(data, size);
  RoundTrip(in);
  return 0;
}
