// vault/merkle.cc: the RFC 6962 / RFC 9162 Merkle tree, its proofs and their
// verification, over libsodium's SHA-256.
#include "vault/merkle.h"

#include <sodium.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <string>

#include "vault/crypto.h"

namespace custodia::vault::tlog {
namespace {

static_assert(kHashSize == crypto_hash_sha256_BYTES);

constexpr std::uint8_t kLeafPrefix = 0x00;
constexpr std::uint8_t kNodePrefix = 0x01;

// The largest power of two strictly smaller than n, the split point k of
// RFC 6962's recursion. REQUIRES: n >= 2.
std::uint64_t SplitPoint(std::uint64_t n) { return std::bit_floor(n - 1); }

std::string Str(std::uint64_t v) { return std::to_string(v); }

}  // namespace

Hash EmptyRoot() {
  CU_CHECK(InitCrypto());
  Hash out;
  crypto_hash_sha256(out.data(), nullptr, 0);
  return out;
}

Hash LeafHash(std::span<const std::uint8_t> leaf) {
  CU_CHECK(InitCrypto());
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, &kLeafPrefix, 1);
  crypto_hash_sha256_update(&state, leaf.data(), leaf.size());
  Hash out;
  crypto_hash_sha256_final(&state, out.data());
  return out;
}

Hash NodeHash(const Hash& left, const Hash& right) {
  CU_CHECK(InitCrypto());
  std::array<std::uint8_t, 1 + 2 * kHashSize> in;
  in[0] = kNodePrefix;
  std::copy(left.begin(), left.end(), in.begin() + 1);
  std::copy(right.begin(), right.end(), in.begin() + 1 + kHashSize);
  Hash out;
  crypto_hash_sha256(out.data(), in.data(), in.size());
  return out;
}

bool HashEquals(const Hash& a, const Hash& b) {
  return sodium_memcmp(a.data(), b.data(), kHashSize) == 0;
}

void MerkleTree::Append(const Hash& leaf_hash) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf_hash);
  // A level that now holds an even number of nodes has completed a pair,
  // hence one more node on the level above; stop at the first odd level.
  for (std::size_t k = 0; levels_[k].size() % 2 == 0; ++k) {
    if (levels_.size() == k + 1) levels_.emplace_back();
    const std::vector<Hash>& level = levels_[k];
    Hash parent = NodeHash(level[level.size() - 2], level[level.size() - 1]);
    levels_[k + 1].push_back(parent);
  }
}

const Hash& MerkleTree::leaf(std::uint64_t index) const {
  CU_CHECK(index < size());
  return levels_[0][index];
}

Hash MerkleTree::RangeRoot(std::uint64_t begin, std::uint64_t end) const {
  assert(begin < end && end <= size());
  assert(begin % std::bit_ceil(end - begin) == 0);
  // The range splits into complete subtrees, largest first, one per set bit
  // of its size. RFC 6962's MTH puts the largest on the left and recurses on
  // the rest, so the root folds them together from the right.
  const std::uint64_t n = end - begin;
  Hash acc{};
  bool have_acc = false;
  std::uint64_t offset = end;
  for (int k = 0; k < 64; ++k) {
    const std::uint64_t width = std::uint64_t{1} << k;
    if ((n & width) == 0) continue;
    offset -= width;
    const Hash& piece = levels_[k][offset >> k];
    acc = have_acc ? NodeHash(piece, acc) : piece;
    have_acc = true;
    if (offset == begin) break;
  }
  return acc;
}

Hash MerkleTree::Root() const { return size() == 0 ? EmptyRoot() : RangeRoot(0, size()); }

Result<Hash> MerkleTree::Root(std::uint64_t tree_size) const {
  if (tree_size > size()) {
    return Fail(Code::kInvalidArgument,
                "merkle: root of size " + Str(tree_size) + " asked of a tree of " + Str(size()));
  }
  return tree_size == 0 ? EmptyRoot() : RangeRoot(0, tree_size);
}

// PATH(m, D[n]) of RFC 6962 section 2.1.1, unrolled: walk down from the root
// towards leaf m, taking the sibling subtree at each split. The walk meets
// the siblings top-down; the proof lists them bottom-up.
Result<std::vector<Hash>> MerkleTree::InclusionProof(std::uint64_t index,
                                                     std::uint64_t tree_size) const {
  if (tree_size > size() || index >= tree_size) {
    return Fail(Code::kInvalidArgument, "merkle: no inclusion proof for leaf " + Str(index) +
                                            " of size " + Str(tree_size) + " in a tree of " +
                                            Str(size()));
  }
  std::vector<Hash> proof;
  std::uint64_t lo = 0;
  std::uint64_t hi = tree_size;
  while (hi - lo > 1) {
    const std::uint64_t k = SplitPoint(hi - lo);
    if (index < lo + k) {
      proof.push_back(RangeRoot(lo + k, hi));
      hi = lo + k;
    } else {
      proof.push_back(RangeRoot(lo, lo + k));
      lo += k;
    }
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

// SUBPROOF(m, D[n], true) of RFC 6962 section 2.1.2, unrolled the same way.
// `complete` is SUBPROOF's b: true while the old tree is still the left edge
// of the subtree the walk is in, i.e. its root is known to the verifier.
Result<std::vector<Hash>> MerkleTree::ConsistencyProof(std::uint64_t old_size,
                                                       std::uint64_t new_size) const {
  if (new_size > size() || old_size > new_size) {
    return Fail(Code::kInvalidArgument, "merkle: no consistency proof from size " + Str(old_size) +
                                            " to " + Str(new_size) + " in a tree of " +
                                            Str(size()));
  }
  std::vector<Hash> proof;
  if (old_size == 0 || old_size == new_size) return proof;
  std::uint64_t lo = 0;
  std::uint64_t hi = new_size;
  bool complete = true;
  while (old_size != hi) {
    const std::uint64_t k = SplitPoint(hi - lo);
    if (old_size <= lo + k) {
      proof.push_back(RangeRoot(lo + k, hi));
      hi = lo + k;
    } else {
      proof.push_back(RangeRoot(lo, lo + k));
      lo += k;
      complete = false;
    }
  }
  if (!complete) proof.push_back(RangeRoot(lo, hi));
  std::reverse(proof.begin(), proof.end());
  return proof;
}

Status VerifyInclusion(const Hash& leaf_hash, std::uint64_t index, std::uint64_t tree_size,
                       std::span<const Hash> proof, const Hash& root) {
  const std::string what =
      "merkle: inclusion proof for leaf " + Str(index) + " of size " + Str(tree_size);
  // Step 1.
  if (index >= tree_size) return Fail(Code::kInvalidArgument, what + ": leaf beyond the tree");
  // Steps 2-4. fn and sn are the positions of the current node and of the
  // tree's last node on the current level.
  std::uint64_t fn = index;
  std::uint64_t sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) {
      return Fail(Code::kTampered, what + ": " + Str(proof.size()) + " hashes, more than the path");
    }
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  // Step 5.
  if (sn != 0) {
    return Fail(Code::kTampered, what + ": " + Str(proof.size()) + " hashes, fewer than the path");
  }
  if (!HashEquals(r, root)) return Fail(Code::kTampered, what + ": does not lead to the root");
  return Ok();
}

Status VerifyConsistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root,
                         const Hash& new_root, std::span<const Hash> proof) {
  const std::string what =
      "merkle: consistency proof from size " + Str(old_size) + " to " + Str(new_size);
  if (old_size > new_size) return Fail(Code::kInvalidArgument, what + ": the tree shrank");
  // RFC 9162 states the algorithm for 0 < old_size < new_size; the two
  // trivial cases need no hashes, so any proof offered for them is wrong.
  if (old_size == new_size || old_size == 0) {
    if (!proof.empty()) {
      return Fail(Code::kTampered, what + ": " + Str(proof.size()) + " hashes, expected none");
    }
    if (old_size == new_size && !HashEquals(old_root, new_root)) {
      return Fail(Code::kTampered, what + ": same size, different roots");
    }
    if (old_size == 0 && !HashEquals(old_root, EmptyRoot())) {
      return Fail(Code::kTampered, what + ": the old root is not the empty tree's");
    }
    return Ok();
  }
  // Step 1.
  if (proof.empty()) return Fail(Code::kTampered, what + ": empty proof");
  // Step 2: when the old tree is a complete subtree the proof leaves out its
  // root, which the verifier has.
  const bool old_is_complete = std::has_single_bit(old_size);
  const std::size_t count = proof.size() + (old_is_complete ? 1 : 0);
  auto path = [&](std::size_t i) -> const Hash& {
    if (old_is_complete) return i == 0 ? old_root : proof[i - 1];
    return proof[i];
  };
  // Steps 3-4.
  std::uint64_t fn = old_size - 1;
  std::uint64_t sn = new_size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  // Steps 5-6. fr rebuilds the old root, sr the new one.
  Hash fr = path(0);
  Hash sr = path(0);
  for (std::size_t i = 1; i < count; ++i) {
    const Hash& c = path(i);
    if (sn == 0) {
      return Fail(Code::kTampered, what + ": " + Str(proof.size()) + " hashes, more than needed");
    }
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  // Step 7.
  if (sn != 0) {
    return Fail(Code::kTampered, what + ": " + Str(proof.size()) + " hashes, fewer than needed");
  }
  if (!HashEquals(fr, old_root)) {
    return Fail(Code::kTampered, what + ": does not lead to the old root");
  }
  if (!HashEquals(sr, new_root)) {
    return Fail(Code::kTampered, what + ": does not lead to the new root");
  }
  return Ok();
}

}  // namespace custodia::vault::tlog
