// vault/merkle.h (internal): the RFC 6962 / RFC 9162 Merkle tree over
// SHA-256 that the ledger's entries are the leaves of, with inclusion and
// consistency proofs: the same hashes and proofs as Certificate Transparency
// and transparency-dev/merkle, so their verifiers accept ours.
//
// Namespace tlog ("transparency log") keeps these SHA-256 hashes apart from
// the BLAKE2b vault::Hash of vault/crypto.h; the two must never be mixed.
#ifndef CUSTODIA_VAULT_MERKLE_H_
#define CUSTODIA_VAULT_MERKLE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"

namespace custodia::vault::tlog {

inline constexpr std::size_t kHashSize = 32;  // SHA-256

// A SHA-256 value: a leaf hash, a node hash or a tree root.
using Hash = std::array<std::uint8_t, kHashSize>;

// The three hashes of RFC 6962 section 2.1, told apart by a one-byte prefix
// so that a leaf can never be passed off as an inner node (second preimage):
//   EmptyRoot()    = SHA-256("")                the root of the empty tree
//   LeafHash(d)    = SHA-256(0x00 || d)
//   NodeHash(l, r) = SHA-256(0x01 || l || r)
// These abort (CU_CHECK) if libsodium cannot be initialised.
Hash EmptyRoot();
Hash LeafHash(std::span<const std::uint8_t> leaf);
Hash NodeHash(const Hash& left, const Hash& right);

// Constant-time equality (sodium_memcmp). Roots and proofs are public, so
// timing is not the point; one comparison for all hashes is.
bool HashEquals(const Hash& a, const Hash& b);

// An append-only Merkle tree that keeps the hash of every complete subtree
// (2^k leaves starting at a multiple of 2^k), level by level: about 2n hashes,
// 64 MiB for a million leaves. Any earlier root and any proof is then made of
// O(log n) stored hashes plus at most O(log n) fresh NodeHash calls.
//
// Not thread-safe: a const MerkleTree may be read from several threads, but
// Append needs exclusive access.
class MerkleTree {
 public:
  MerkleTree() = default;

  // Appends one leaf, given as its LeafHash (never the raw bytes: a caller
  // that appends SHA-256(bytes) or the bytes' BLAKE2b gets a different tree
  // that no other verifier reproduces). Amortised O(1) hashes.
  void Append(const Hash& leaf_hash);

  // Number of leaves.
  std::uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }

  // REQUIRES: index < size(). The leaf hash at `index`.
  const Hash& leaf(std::uint64_t index) const;

  // The root of the whole tree (EmptyRoot() when empty).
  Hash Root() const;

  // The root the tree had when it held its first `tree_size` leaves.
  // kInvalidArgument if tree_size > size().
  Result<Hash> Root(std::uint64_t tree_size) const;

  // The audit path of RFC 9162 section 2.1.3.1 for leaf `index` in the tree
  // of the first `tree_size` leaves: sibling hashes from the leaf's level up
  // to the root's children, at most ceil(log2(tree_size)) of them.
  // kInvalidArgument unless index < tree_size <= size().
  Result<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t tree_size) const;

  // The consistency proof of RFC 9162 section 2.1.4.1 that the tree of the
  // first `old_size` leaves is a prefix of the tree of the first `new_size`.
  // Empty when old_size is 0 or equals new_size (nothing to prove).
  // kInvalidArgument unless old_size <= new_size <= size().
  Result<std::vector<Hash>> ConsistencyProof(std::uint64_t old_size, std::uint64_t new_size) const;

 private:
  // The root of leaves [begin, end). REQUIRES: begin < end <= size(), and
  // begin a multiple of the smallest power of two >= end - begin (every range
  // RFC 6962's recursion splits a tree into has that shape).
  Hash RangeRoot(std::uint64_t begin, std::uint64_t end) const;

  // levels_[k][i]: the root of the complete subtree of leaves
  // [i * 2^k, (i + 1) * 2^k). levels_[0] holds the leaf hashes.
  std::vector<std::vector<Hash>> levels_;
};

// Checks an inclusion proof with the algorithm of RFC 9162 section 2.1.3.2,
// step for step (so a proof with too many or too few hashes fails, as it
// does there). OK if `proof` proves that `leaf_hash` is leaf `index` of the
// tree of `tree_size` leaves whose root is `root`.
// kInvalidArgument if index >= tree_size (no proof can exist).
// kTampered if the proof does not verify; the message says whether it was
// too long, too short or led to another root.
Status VerifyInclusion(const Hash& leaf_hash, std::uint64_t index, std::uint64_t tree_size,
                       std::span<const Hash> proof, const Hash& root);

// Checks a consistency proof with the algorithm of RFC 9162 section 2.1.4.2,
// step for step. OK if `proof` proves that the tree of `old_size` leaves with
// root `old_root` is a prefix of the tree of `new_size` leaves with root
// `new_root`. The trivial cases are decided without a proof, which must then
// be empty: old_size == new_size needs old_root == new_root, and old_size == 0
// needs old_root == EmptyRoot() (any tree extends the empty one).
// kInvalidArgument if old_size > new_size.
// kTampered if the proof does not verify (with the reason).
Status VerifyConsistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root,
                         const Hash& new_root, std::span<const Hash> proof);

}  // namespace custodia::vault::tlog

#endif  // CUSTODIA_VAULT_MERKLE_H_
