// vault/checkpoint_fuzz.cc: libFuzzer target over the checkpoint and proof
// formats a person hands custodia (issue 8): signed notes, checkpoints,
// verifier keys and tlog-proof files, strictly parsed, encoded again and
// verified; and the RFC 9162 inclusion and consistency proof algorithms.
// Any bytes must give a result or an error, never a crash, a hang or a leak.
//
// An input that begins with byte 0 drives the proof algorithms from a
// FuzzedDataProvider: a real tree of up to 300 leaves, its genuine proofs
// (which must verify), the same proofs damaged, and arbitrary 64-bit sizes
// and indices. Any other input is text: each parser reads it, and what
// parses must encode back to the same value. With CUSTODIA_FUZZ_ARCHIVE
// naming an archive (scripts/fuzz.sh sets it to the one vault_fuzz_seeds
// made, whose notes and proof are the seeds) the text is also checked as
// `custodia verify --checkpoint` and `--proof` check a file.
// Built with -DCU_FUZZ=ON (clang).
#include <fuzzer/FuzzedDataProvider.h>
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vault/checkpoint.h"
#include "vault/merkle.h"
#include "vault/vault.h"

using namespace custodia;
using namespace custodia::vault;
using namespace custodia::vault::tlog;

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "checkpoint_fuzz: %s\n", what);
  ::abort();
}

// The archive to check notes against, if any; its first user's key.
struct Archive {
  std::optional<Vault> vault;
  std::optional<VerifierKey> key;
};

Archive& TheArchive() {
  static Archive* archive = [] {
    auto* a = new Archive;
    const char* dir = ::getenv("CUSTODIA_FUZZ_ARCHIVE");
    if (dir == nullptr || *dir == '\0') return a;
    auto vault = Vault::Open(dir);
    if (!vault) Die("CUSTODIA_FUZZ_ARCHIVE does not open");
    auto text = vault->VerifierKey(vault->Users().front().name);
    if (!text) Die("no verifier key");
    auto key = ParseVerifierKey(*text);
    if (!key) Die("the archive's verifier key does not parse");
    a->vault.emplace(std::move(vault).value());
    a->key = *key;
    return a;
  }();
  return *archive;
}

Hash HashFrom(FuzzedDataProvider& in) {
  Hash h{};
  const std::vector<std::uint8_t> bytes = in.ConsumeBytes<std::uint8_t>(kHashSize);
  std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

Hash LeafOf(std::uint64_t i) {
  const std::uint8_t bytes[8] = {static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8)};
  return LeafHash(bytes);
}

// Damages one hash of `proof` or its length, as `in` says. Returns whether
// it changed anything.
bool Damage(FuzzedDataProvider& in, std::vector<Hash>& proof) {
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
      if (proof.empty()) return false;
      proof[in.ConsumeIntegralInRange<std::size_t>(0, proof.size() - 1)]
           [in.ConsumeIntegralInRange<std::size_t>(0, kHashSize - 1)] ^=
          in.ConsumeIntegralInRange<std::uint8_t>(1, 255);
      return true;
    case 1:
      if (proof.empty()) return false;
      proof.pop_back();
      return true;
    case 2:
      proof.push_back(HashFrom(in));
      return true;
    default:
      return false;
  }
}

void Algorithms(FuzzedDataProvider& in) {
  MerkleTree tree;
  const std::uint64_t n = in.ConsumeIntegralInRange<std::uint64_t>(0, 300);
  for (std::uint64_t i = 0; i < n; ++i) tree.Append(LeafOf(i));
  if (n > 0) {
    const std::uint64_t size = in.ConsumeIntegralInRange<std::uint64_t>(1, n);
    const std::uint64_t index = in.ConsumeIntegralInRange<std::uint64_t>(0, size - 1);
    auto proof = tree.InclusionProof(index, size);
    auto root = tree.Root(size);
    if (!proof || !root) Die("no inclusion proof inside the tree");
    if (!VerifyInclusion(tree.leaf(index), index, size, *proof, *root)) {
      Die("a genuine inclusion proof does not verify");
    }
    if (Damage(in, *proof) && VerifyInclusion(tree.leaf(index), index, size, *proof, *root)) {
      Die("a damaged inclusion proof verifies");
    }
    const std::uint64_t old_size = in.ConsumeIntegralInRange<std::uint64_t>(0, size);
    auto consistency = tree.ConsistencyProof(old_size, size);
    auto old_root = tree.Root(old_size);
    if (!consistency || !old_root) Die("no consistency proof inside the tree");
    if (!VerifyConsistency(old_size, size, *old_root, *root, *consistency)) {
      Die("a genuine consistency proof does not verify");
    }
    if (Damage(in, *consistency) &&
        VerifyConsistency(old_size, size, *old_root, *root, *consistency)) {
      Die("a damaged consistency proof verifies");
    }
  }
  // Anything at all: sizes and indices to the ends of 64 bits.
  const auto a = in.ConsumeIntegral<std::uint64_t>();
  const auto b = in.ConsumeIntegral<std::uint64_t>();
  std::vector<Hash> proof(in.ConsumeIntegralInRange<std::size_t>(0, 70));
  for (Hash& h : proof) h = HashFrom(in);
  const Hash x = HashFrom(in);
  const Hash y = HashFrom(in);
  (void)VerifyInclusion(x, a, b, proof, y);
  (void)VerifyConsistency(a, b, x, y, proof);
  (void)tree.InclusionProof(a, b);
  (void)tree.ConsistencyProof(a, b);
  (void)tree.Root(a);
}

void Text(std::string_view text) {
  if (auto checkpoint = ParseCheckpoint(text)) {
    auto encoded = EncodeCheckpoint(*checkpoint);
    if (!encoded || *encoded != text) Die("a parsed checkpoint does not encode back to its text");
  }
  if (auto note = ParseNote(text)) {
    auto encoded = EncodeNote(*note);
    if (!encoded || *encoded != text) Die("a parsed note does not encode back to its bytes");
  }
  if (auto key = ParseVerifierKey(text)) {
    if (EncodeVerifierKey(*key) != text) Die("a parsed verifier key does not encode back");
  }
  auto proof = ParseTlogProof(text);
  if (proof) {
    auto encoded = EncodeTlogProof(*proof);
    if (!encoded || *encoded != text) Die("a parsed proof does not encode back to its text");
  }

  Archive& archive = TheArchive();
  if (!archive.vault) return;
  const std::string origin = archive.vault->origin();
  (void)VerifyCheckpoint(text, origin, *archive.key);
  if (proof) (void)VerifyTlogProof(*proof, Hash{}, origin, *archive.key);
  (void)archive.vault->VerifyCheckpoint(text);
  (void)archive.vault->VerifyProof(text, "D000001");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 0 && data[0] == 0) {
    FuzzedDataProvider in(data + 1, size - 1);
    Algorithms(in);
    return 0;
  }
  Text(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
