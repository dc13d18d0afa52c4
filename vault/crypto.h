// vault/crypto.h (internal): the vault's thin layer over libsodium: one-time
// initialisation, SecretKey, BLAKE2b hashing, hex, and blob-key wrapping.
// No libsodium header or type appears here; all of it stays in crypto.cc.
#ifndef CUSTODIA_VAULT_CRYPTO_H_
#define CUSTODIA_VAULT_CRYPTO_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/env.h"
#include "base/result.h"

namespace custodia::vault {

inline constexpr std::size_t kHashSize = 32;       // BLAKE2b-256
inline constexpr std::size_t kKeySize = 32;        // every symmetric key we use
inline constexpr std::size_t kWrapNonceSize = 24;  // XChaCha20-Poly1305 nonce
inline constexpr std::size_t kWrapMacSize = 16;    // Poly1305 tag
// nonce || ciphertext(key) || tag
inline constexpr std::size_t kWrappedKeySize = kWrapNonceSize + kKeySize + kWrapMacSize;

inline constexpr std::size_t kSignPublicKeySize = 32;  // Ed25519
inline constexpr std::size_t kSignSecretKeySize = 64;  // Ed25519 seed || public key
inline constexpr std::size_t kSignatureSize = 64;
inline constexpr std::size_t kBoxPublicKeySize = 32;  // X25519
inline constexpr std::size_t kBoxSecretKeySize = 32;
// crypto_box_seal of a 32-byte key: ephemeral public key, ciphertext, tag.
inline constexpr std::size_t kSealedKeySize = 32 + kKeySize + 16;
inline constexpr std::size_t kSaltSize = 16;  // crypto_pwhash_SALTBYTES

using Hash = std::array<std::uint8_t, kHashSize>;
using WrappedKey = std::array<std::uint8_t, kWrappedKeySize>;
using SignPublicKey = std::array<std::uint8_t, kSignPublicKeySize>;
using Signature = std::array<std::uint8_t, kSignatureSize>;
using BoxPublicKey = std::array<std::uint8_t, kBoxPublicKeySize>;
using SealedKey = std::array<std::uint8_t, kSealedKeySize>;

// Runs sodium_init() once per process (a function-local static) and reports
// whether libsodium is usable. kUnavailable if it is not. Every entry point
// of the vault calls this before any other libsodium function.
Status InitCrypto();

struct Identity;

// A 32-byte symmetric key in sodium_malloc'd memory (guard pages, locked,
// wiped and freed by the destructor). Non-copyable, movable; a moved-from key
// is empty and may only be destroyed or assigned to.
// WARNING: never log or copy the bytes of a key into ordinary memory.
class SecretKey {
 public:
  // A fresh key from randombytes_buf. kUnavailable if no secure memory.
  static Result<SecretKey> Random();
  // A key holding a copy of `bytes`. kCorruption if `bytes` is not
  // kKeySize long. The caller still owns (and must wipe) `bytes`.
  static Result<SecretKey> FromBytes(std::span<const std::uint8_t> bytes);

  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();

  // REQUIRES: !empty(). The key's kKeySize bytes, valid while *this lives.
  std::span<const std::uint8_t, kKeySize> bytes() const;
  bool empty() const { return data_ == nullptr; }

 private:
  // Unwraps straight into secure memory.
  friend Result<SecretKey> UnwrapKey(const WrappedKey&, const SecretKey&, std::uint32_t,
                                     const Hash&);
  friend Result<SecretKey> OpenSealedKey(const SealedKey&, const Identity&);
  friend Result<SecretKey> DeriveKey(const SecretKey&, std::string_view);
  friend Result<SecretKey> PassphraseKey(std::string_view, std::span<const std::uint8_t, kSaltSize>,
                                         std::uint64_t, std::uint64_t);
  explicit SecretKey(std::uint8_t* data) : data_(data) {}
  void Reset();
  std::uint8_t* data_ = nullptr;  // sodium_malloc(kKeySize), or null
};

// A fixed-size secret of any length in sodium_malloc'd memory, writable,
// wiped and freed by the destructor: signing and X25519 secret keys.
// Non-copyable, movable; a moved-from one is empty.
// WARNING: never log or copy these bytes into ordinary memory.
class SecretBytes {
 public:
  // `size` zero bytes. kUnavailable if no secure memory.
  static Result<SecretBytes> Allocate(std::size_t size);

  SecretBytes() = default;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  // REQUIRES: !empty().
  std::span<std::uint8_t> mutable_bytes();
  std::span<const std::uint8_t> bytes() const;
  bool empty() const { return data_ == nullptr; }

 private:
  void Reset();
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// A person's (or station's) key pairs: Ed25519 to sign ledger entries,
// X25519 to receive the archive's epoch keys (crypto_box_seal).
struct Identity {
  SecretBytes sign_secret;  // kSignSecretKeySize
  SecretBytes box_secret;   // kBoxSecretKeySize
  SignPublicKey sign_public{};
  BoxPublicKey box_public{};
};

// Fresh key pairs. kUnavailable if no secure memory.
Result<Identity> NewIdentity();
// Rebuilds an identity from its secret halves (as a user key file holds
// them), deriving the public keys. kCorruption for wrong sizes.
Result<Identity> IdentityFromSecrets(std::span<const std::uint8_t> sign_secret,
                                     std::span<const std::uint8_t> box_secret);

// Ed25519 detached signature of `message`.
Signature Sign(const Identity& identity, std::span<const std::uint8_t> message);
// Whether `signature` is `public_key`'s signature of `message`.
bool VerifySignature(const SignPublicKey& public_key, std::span<const std::uint8_t> message,
                     const Signature& signature);

// Seals `key` to `to` (crypto_box_seal): only the holder of the matching
// X25519 secret key can open it.
SealedKey SealKey(const SecretKey& key, const BoxPublicKey& to);
// Reverses SealKey. kTampered if it does not open under `identity`.
Result<SecretKey> OpenSealedKey(const SealedKey& sealed, const Identity& identity);

// Argon2id (crypto_pwhash, ALG_ARGON2ID13) of `passphrase` into a 32-byte
// key. kUnavailable if the memory limit cannot be met.
Result<SecretKey> PassphraseKey(std::string_view passphrase,
                                std::span<const std::uint8_t, kSaltSize> salt,
                                std::uint64_t opslimit, std::uint64_t memlimit);
// The Argon2id limits new user key files use (OPSLIMIT/MEMLIMIT_INTERACTIVE)
// and the most a reader accepts (..._SENSITIVE), so that a forged file cannot
// make Login spend unbounded memory or time.
std::uint64_t PwhashOpsLimit();
std::uint64_t PwhashMemLimit();
bool PwhashLimitsAcceptable(std::uint64_t opslimit, std::uint64_t memlimit);

// XChaCha20-Poly1305 (ietf) with a random nonce: nonce:24 || ciphertext || tag:16.
Bytes Encrypt(std::span<const std::uint8_t> plaintext, std::span<const std::uint8_t> ad,
              const SecretKey& key);
// Reverses Encrypt into secure memory. kTampered if it does not authenticate.
Result<SecretBytes> Decrypt(std::span<const std::uint8_t> sealed, std::span<const std::uint8_t> ad,
                            const SecretKey& key);

// The functions below that return no Result abort (CU_CHECK) if libsodium
// cannot be initialised; callers on fallible paths call InitCrypto() first.

// A key for one purpose derived from `key`: keyed BLAKE2b-256 of `context`.
// Different contexts give independent keys. kUnavailable if no secure memory.
Result<SecretKey> DeriveKey(const SecretKey& key, std::string_view context);

// Overwrites `bytes` with zeros in a way the compiler cannot elide.
void Wipe(std::span<std::uint8_t> bytes);

// Fills `out` with random bytes (randombytes_buf).
void RandomBytes(std::span<std::uint8_t> out);

// BLAKE2b-256 of `data` (crypto_generichash, no key).
Hash HashBytes(std::span<const std::uint8_t> data);

// HashBytes over data given in pieces: Update(a); Update(b); Final() equals
// HashBytes(a || b).
class Hasher {
 public:
  Hasher();
  void Update(std::span<const std::uint8_t> data);
  // Once only; the Hasher is spent afterwards.
  Hash Final();

 private:
  // crypto_generichash_state, kept opaque so this header names no sodium type.
  alignas(64) unsigned char state_[384];
};

// BLAKE2b-256 of `domain` || 0x00 || `data`: hashes whose inputs could
// otherwise be confused are kept apart by a distinct domain string.
Hash DomainHash(std::string_view domain, std::span<const std::uint8_t> data);

// Keyed BLAKE2b-256 of a fixed string under `key`: names a key without
// revealing it, so a wrong or swapped epoch key is told from a damaged vault.
Hash KeyId(const SecretKey& key);

// Constant-time equality (crypto_verify_32).
// WARNING: compare hashes and MACs only with this, never with == or memcmp.
bool HashEquals(const Hash& a, const Hash& b);

// Lower-case hex of `bytes`.
std::string Hex(std::span<const std::uint8_t> bytes);
// Parses 64 hex digits (either case); nullopt if `hex` is anything else.
std::optional<Hash> ParseHashHex(std::string_view hex);

// Encrypts `blob_key` under `epoch_key` with a random nonce
// (crypto_aead_xchacha20poly1305_ietf), authenticating the epoch and the
// blob's name as additional data so a wrapped key opens only the blob it
// was made for, in the epoch it was made for.
WrappedKey WrapKey(const SecretKey& blob_key, const SecretKey& epoch_key, std::uint32_t epoch,
                   const Hash& blob_name);
// Reverses WrapKey. kTampered if the wrapped key does not authenticate
// under `epoch_key` for `epoch` and `blob_name`.
Result<SecretKey> UnwrapKey(const WrappedKey& wrapped, const SecretKey& epoch_key,
                            std::uint32_t epoch, const Hash& blob_name);
// Rewraps blob keys from one epoch key to the next (RotateKey's loop over
// every blob). Each key is opened into one writable secure buffer
// (sodium_malloc'd, mlocked, guarded), wrapped again under the new key with
// a fresh nonce, and wiped at once. Unlike a SecretKey, the buffer is not
// mprotect'ed between keys: that costs two system calls per key, which at a
// million keys is most of the work.
class KeyRewrapper {
 public:
  // `from` and `to` must outlive the rewrapper. kUnavailable without secure
  // memory.
  static Result<KeyRewrapper> New(const SecretKey& from, std::uint32_t from_epoch,
                                  const SecretKey& to, std::uint32_t to_epoch);
  // kTampered if `wrapped` does not open under the old key for `blob_name`.
  Result<WrappedKey> Rewrap(const WrappedKey& wrapped, const Hash& blob_name);

 private:
  KeyRewrapper(const SecretKey& from, std::uint32_t from_epoch, const SecretKey& to,
               std::uint32_t to_epoch, SecretBytes scratch)
      : from_(&from), to_(&to), from_epoch_(from_epoch), to_epoch_(to_epoch),
        scratch_(std::move(scratch)) {}
  const SecretKey* from_;
  const SecretKey* to_;
  std::uint32_t from_epoch_;
  std::uint32_t to_epoch_;
  SecretBytes scratch_;  // one blob key at a time, wiped after each
};

}  // namespace custodia::vault

#endif  // CUSTODIA_VAULT_CRYPTO_H_
