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

using Hash = std::array<std::uint8_t, kHashSize>;
using WrappedKey = std::array<std::uint8_t, kWrappedKeySize>;

// Runs sodium_init() once per process (a function-local static) and reports
// whether libsodium is usable. kUnavailable if it is not. Every entry point
// of the vault calls this before any other libsodium function.
Status InitCrypto();

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
  friend Result<SecretKey> UnwrapKey(const WrappedKey&, const SecretKey&, const Hash&);
  explicit SecretKey(std::uint8_t* data) : data_(data) {}
  void Reset();
  std::uint8_t* data_ = nullptr;  // sodium_malloc(kKeySize), or null
};

// The functions below that return no Result abort (CU_CHECK) if libsodium
// cannot be initialised; callers on fallible paths call InitCrypto() first.

// Overwrites `bytes` with zeros in a way the compiler cannot elide.
void Wipe(std::span<std::uint8_t> bytes);

// Fills `out` with random bytes (randombytes_buf).
void RandomBytes(std::span<std::uint8_t> out);

// BLAKE2b-256 of `data` (crypto_generichash, no key).
Hash HashBytes(std::span<const std::uint8_t> data);

// BLAKE2b-256 of `domain` || 0x00 || `data`: hashes whose inputs could
// otherwise be confused are kept apart by a distinct domain string.
Hash DomainHash(std::string_view domain, std::span<const std::uint8_t> data);

// Keyed BLAKE2b-256 of a fixed string under `key`: names a key without
// revealing it, so Open can tell a wrong key file from a damaged vault.
Hash KeyId(const SecretKey& key);

// Constant-time equality (crypto_verify_32).
// WARNING: compare hashes and MACs only with this, never with == or memcmp.
bool HashEquals(const Hash& a, const Hash& b);

// Lower-case hex of `bytes`.
std::string Hex(std::span<const std::uint8_t> bytes);
// Parses 64 hex digits (either case); nullopt if `hex` is anything else.
std::optional<Hash> ParseHashHex(std::string_view hex);

// Encrypts `blob_key` under `archive_key` with a random nonce
// (crypto_aead_xchacha20poly1305_ietf), authenticating the blob's name as
// additional data so a wrapped key opens only the blob it was made for.
WrappedKey WrapKey(const SecretKey& blob_key, const SecretKey& archive_key, const Hash& blob_name);
// Reverses WrapKey. kTampered if the wrapped key does not authenticate
// under `archive_key` for `blob_name`.
Result<SecretKey> UnwrapKey(const WrappedKey& wrapped, const SecretKey& archive_key,
                            const Hash& blob_name);

}  // namespace custodia::vault

#endif  // CUSTODIA_VAULT_CRYPTO_H_
