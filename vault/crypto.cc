// vault/crypto.cc: the only place besides blob.cc that calls libsodium
// directly for keys, hashing and key wrapping.
#include "vault/crypto.h"

#include <sodium.h>

#include <cstring>
#include <utility>

namespace custodia::vault {
namespace {

static_assert(kHashSize == crypto_generichash_BYTES);
static_assert(kKeySize == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kKeySize == crypto_secretstream_xchacha20poly1305_KEYBYTES);
static_assert(kKeySize <= crypto_generichash_KEYBYTES_MAX);
static_assert(kWrapNonceSize == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(kWrapMacSize == crypto_aead_xchacha20poly1305_ietf_ABYTES);

static_assert(kSignPublicKeySize == crypto_sign_PUBLICKEYBYTES);
static_assert(kSignSecretKeySize == crypto_sign_SECRETKEYBYTES);
static_assert(kSignatureSize == crypto_sign_BYTES);
static_assert(kBoxPublicKeySize == crypto_box_PUBLICKEYBYTES);
static_assert(kBoxSecretKeySize == crypto_box_SECRETKEYBYTES);
static_assert(kSealedKeySize == crypto_box_SEALBYTES + kKeySize);
static_assert(kSaltSize == crypto_pwhash_SALTBYTES);

constexpr std::string_view kKeyIdDomain = "custodia.vault.key-id.v1";
constexpr std::string_view kWrapDomain = "custodia.vault.blob-key.v2";
constexpr std::size_t kWrapAdSize = kWrapDomain.size() + 1 + 4 + kHashSize;

// The additional data of a wrapped key:
// kWrapDomain || 0x00 || epoch:u32le || blob name.
std::array<std::uint8_t, kWrapAdSize> WrapAd(std::uint32_t epoch, const Hash& blob_name) {
  std::array<std::uint8_t, kWrapAdSize> ad{};
  std::memcpy(ad.data(), kWrapDomain.data(), kWrapDomain.size());
  ad[kWrapDomain.size()] = 0;
  for (int i = 0; i < 4; ++i) {
    ad[kWrapDomain.size() + 1 + i] = static_cast<std::uint8_t>(epoch >> (8 * i));
  }
  std::memcpy(ad.data() + kWrapDomain.size() + 5, blob_name.data(), kHashSize);
  return ad;
}

std::uint8_t* AllocateKey() {
  if (!InitCrypto()) return nullptr;
  return static_cast<std::uint8_t*>(sodium_malloc(kKeySize));
}

Unexpected NoSecureMemory() {
  return Fail(Code::kUnavailable, "vault: cannot allocate secure memory for a key (sodium_malloc)");
}

}  // namespace

Status InitCrypto() {
  // sodium_init() is thread-safe and idempotent, but calling it once keeps
  // the check in one place. It returns 0 the first time, 1 afterwards, and
  // -1 when libsodium cannot be used (no entropy source, for instance).
  static const int init = sodium_init();
  if (init < 0) return Fail(Code::kUnavailable, "vault: libsodium failed to initialise");
  return Ok();
}

Result<SecretKey> SecretKey::Random() {
  std::uint8_t* data = AllocateKey();
  if (data == nullptr) return NoSecureMemory();
  randombytes_buf(data, kKeySize);
  sodium_mprotect_readonly(data);
  return SecretKey(data);
}

Result<SecretKey> SecretKey::FromBytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kKeySize) {
    return Fail(Code::kCorruption, "key is " + std::to_string(bytes.size()) + " bytes, expected " +
                                       std::to_string(kKeySize));
  }
  std::uint8_t* data = AllocateKey();
  if (data == nullptr) return NoSecureMemory();
  std::memcpy(data, bytes.data(), kKeySize);
  sodium_mprotect_readonly(data);
  return SecretKey(data);
}

SecretKey::SecretKey(SecretKey&& other) noexcept : data_(std::exchange(other.data_, nullptr)) {}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    Reset();
    data_ = std::exchange(other.data_, nullptr);
  }
  return *this;
}

SecretKey::~SecretKey() { Reset(); }

void SecretKey::Reset() {
  // sodium_free makes the region writable again, wipes it and unmaps it.
  if (data_ != nullptr) sodium_free(data_);
  data_ = nullptr;
}

std::span<const std::uint8_t, kKeySize> SecretKey::bytes() const {
  CU_CHECK(data_ != nullptr);
  return std::span<const std::uint8_t, kKeySize>(data_, kKeySize);
}

void Wipe(std::span<std::uint8_t> bytes) {
  if (!bytes.empty()) sodium_memzero(bytes.data(), bytes.size());
}

void RandomBytes(std::span<std::uint8_t> out) {
  CU_CHECK(InitCrypto());
  randombytes_buf(out.data(), out.size());
}

Hash HashBytes(std::span<const std::uint8_t> data) {
  CU_CHECK(InitCrypto());
  Hash out;
  crypto_generichash(out.data(), out.size(), data.data(), data.size(), nullptr, 0);
  return out;
}

static_assert(sizeof(crypto_generichash_state) <= sizeof(Hasher) &&
                  alignof(crypto_generichash_state) <= 64,
              "Hasher::state_ must hold a crypto_generichash_state");

Hasher::Hasher() {
  CU_CHECK(InitCrypto());
  crypto_generichash_init(reinterpret_cast<crypto_generichash_state*>(state_), nullptr, 0,
                          kHashSize);
}

void Hasher::Update(std::span<const std::uint8_t> data) {
  crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(state_), data.data(),
                            data.size());
}

Hash Hasher::Final() {
  Hash out;
  crypto_generichash_final(reinterpret_cast<crypto_generichash_state*>(state_), out.data(),
                           out.size());
  return out;
}

Hash DomainHash(std::string_view domain, std::span<const std::uint8_t> data) {
  CU_CHECK(InitCrypto());
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kHashSize);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(domain.data()),
                            domain.size());
  const unsigned char zero = 0;
  crypto_generichash_update(&state, &zero, 1);
  crypto_generichash_update(&state, data.data(), data.size());
  Hash out;
  crypto_generichash_final(&state, out.data(), out.size());
  return out;
}

Result<SecretKey> DeriveKey(const SecretKey& key, std::string_view context) {
  CU_TRY(InitCrypto());
  std::uint8_t* data = AllocateKey();
  if (data == nullptr) return NoSecureMemory();
  crypto_generichash(data, kKeySize, reinterpret_cast<const unsigned char*>(context.data()),
                     context.size(), key.bytes().data(), kKeySize);
  sodium_mprotect_readonly(data);
  return SecretKey(data);
}

Hash KeyId(const SecretKey& key) {
  CU_CHECK(InitCrypto());
  Hash out;
  crypto_generichash(out.data(), out.size(),
                     reinterpret_cast<const unsigned char*>(kKeyIdDomain.data()),
                     kKeyIdDomain.size(), key.bytes().data(), kKeySize);
  return out;
}

bool HashEquals(const Hash& a, const Hash& b) { return crypto_verify_32(a.data(), b.data()) == 0; }

std::string Hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::optional<Hash> ParseHashHex(std::string_view hex) {
  if (hex.size() != kHashSize * 2) return std::nullopt;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Hash out;
  for (std::size_t i = 0; i < kHashSize; ++i) {
    int hi = digit(hex[2 * i]);
    int lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

WrappedKey WrapKey(const SecretKey& blob_key, const SecretKey& archive_key, std::uint32_t epoch,
                   const Hash& blob_name) {
  CU_CHECK(InitCrypto());
  WrappedKey out;
  randombytes_buf(out.data(), kWrapNonceSize);
  const auto ad = WrapAd(epoch, blob_name);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out.data() + kWrapNonceSize, &written, blob_key.bytes().data(), kKeySize, ad.data(),
      ad.size(), nullptr, out.data(), archive_key.bytes().data());
  CU_CHECK(written == kKeySize + kWrapMacSize);
  return out;
}

Result<SecretKey> UnwrapKey(const WrappedKey& wrapped, const SecretKey& archive_key,
                            std::uint32_t epoch, const Hash& blob_name) {
  CU_TRY(InitCrypto());
  std::uint8_t* data = AllocateKey();
  if (data == nullptr) return NoSecureMemory();
  // Owned from here on: freed (and wiped) on every path.
  SecretKey key(data);
  const auto ad = WrapAd(epoch, blob_name);
  unsigned long long written = 0;
  sodium_mprotect_readwrite(data);
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      data, &written, nullptr, wrapped.data() + kWrapNonceSize, kKeySize + kWrapMacSize, ad.data(),
      ad.size(), wrapped.data(), archive_key.bytes().data());
  if (rc != 0 || written != kKeySize) sodium_memzero(data, kKeySize);
  sodium_mprotect_readonly(data);
  if (rc != 0 || written != kKeySize) {
    return Fail(Code::kTampered,
                "wrapped key does not open under the key of epoch " + std::to_string(epoch));
  }
  return key;
}

Result<KeyRewrapper> KeyRewrapper::New(const SecretKey& from, std::uint32_t from_epoch,
                                       const SecretKey& to, std::uint32_t to_epoch) {
  CU_ASSIGN_OR_RETURN(SecretBytes scratch, SecretBytes::Allocate(kKeySize));
  return KeyRewrapper(from, from_epoch, to, to_epoch, std::move(scratch));
}

Result<WrappedKey> KeyRewrapper::Rewrap(const WrappedKey& wrapped, const Hash& blob_name) {
  std::uint8_t* key = scratch_.mutable_bytes().data();
  const auto from_ad = WrapAd(from_epoch_, blob_name);
  unsigned long long written = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      key, &written, nullptr, wrapped.data() + kWrapNonceSize, kKeySize + kWrapMacSize,
      from_ad.data(), from_ad.size(), wrapped.data(), from_->bytes().data());
  if (rc != 0 || written != kKeySize) {
    sodium_memzero(key, kKeySize);
    return Fail(Code::kTampered,
                "wrapped key does not open under the key of epoch " + std::to_string(from_epoch_));
  }
  WrappedKey out;
  randombytes_buf(out.data(), kWrapNonceSize);
  const auto to_ad = WrapAd(to_epoch_, blob_name);
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kWrapNonceSize, &written, key, kKeySize,
                                             to_ad.data(), to_ad.size(), nullptr, out.data(),
                                             to_->bytes().data());
  sodium_memzero(key, kKeySize);
  CU_CHECK(written == kKeySize + kWrapMacSize);
  return out;
}

Result<SecretBytes> SecretBytes::Allocate(std::size_t size) {
  CU_TRY(InitCrypto());
  CU_CHECK(size > 0);
  auto* data = static_cast<std::uint8_t*>(sodium_malloc(size));
  if (data == nullptr) return NoSecureMemory();
  sodium_memzero(data, size);
  SecretBytes out;
  out.data_ = data;
  out.size_ = size;
  return out;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes() { Reset(); }

void SecretBytes::Reset() {
  if (data_ != nullptr) sodium_free(data_);  // wipes
  data_ = nullptr;
  size_ = 0;
}

std::span<std::uint8_t> SecretBytes::mutable_bytes() {
  CU_CHECK(data_ != nullptr);
  return {data_, size_};
}

std::span<const std::uint8_t> SecretBytes::bytes() const {
  CU_CHECK(data_ != nullptr);
  return {data_, size_};
}

Result<Identity> NewIdentity() {
  Identity id;
  CU_ASSIGN_OR_RETURN(id.sign_secret, SecretBytes::Allocate(kSignSecretKeySize));
  CU_ASSIGN_OR_RETURN(id.box_secret, SecretBytes::Allocate(kBoxSecretKeySize));
  crypto_sign_keypair(id.sign_public.data(), id.sign_secret.mutable_bytes().data());
  crypto_box_keypair(id.box_public.data(), id.box_secret.mutable_bytes().data());
  return id;
}

Result<Identity> IdentityFromSecrets(std::span<const std::uint8_t> sign_secret,
                                     std::span<const std::uint8_t> box_secret) {
  if (sign_secret.size() != kSignSecretKeySize || box_secret.size() != kBoxSecretKeySize) {
    return Fail(Code::kCorruption, "secret keys of the wrong size");
  }
  Identity id;
  CU_ASSIGN_OR_RETURN(id.sign_secret, SecretBytes::Allocate(kSignSecretKeySize));
  CU_ASSIGN_OR_RETURN(id.box_secret, SecretBytes::Allocate(kBoxSecretKeySize));
  std::memcpy(id.sign_secret.mutable_bytes().data(), sign_secret.data(), kSignSecretKeySize);
  std::memcpy(id.box_secret.mutable_bytes().data(), box_secret.data(), kBoxSecretKeySize);
  crypto_sign_ed25519_sk_to_pk(id.sign_public.data(), id.sign_secret.bytes().data());
  crypto_scalarmult_base(id.box_public.data(), id.box_secret.bytes().data());
  return id;
}

Signature Sign(const Identity& identity, std::span<const std::uint8_t> message) {
  CU_CHECK(InitCrypto());
  Signature sig;
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(),
                       identity.sign_secret.bytes().data());
  return sig;
}

bool VerifySignature(const SignPublicKey& public_key, std::span<const std::uint8_t> message,
                     const Signature& signature) {
  CU_CHECK(InitCrypto());
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     public_key.data()) == 0;
}

SealedKey SealKey(const SecretKey& key, const BoxPublicKey& to) {
  CU_CHECK(InitCrypto());
  SealedKey out;
  CU_CHECK(crypto_box_seal(out.data(), key.bytes().data(), kKeySize, to.data()) == 0);
  return out;
}

Result<SecretKey> OpenSealedKey(const SealedKey& sealed, const Identity& identity) {
  CU_TRY(InitCrypto());
  std::uint8_t* data = AllocateKey();
  if (data == nullptr) return NoSecureMemory();
  SecretKey key(data);  // owned, wiped on every path
  if (crypto_box_seal_open(data, sealed.data(), sealed.size(), identity.box_public.data(),
                           identity.box_secret.bytes().data()) != 0) {
    return Fail(Code::kTampered, "sealed epoch key does not open under this user's key");
  }
  sodium_mprotect_readonly(data);
  return key;
}

Result<SecretKey> PassphraseKey(std::string_view passphrase,
                                std::span<const std::uint8_t, kSaltSize> salt,
                                std::uint64_t opslimit, std::uint64_t memlimit) {
  CU_TRY(InitCrypto());
  std::uint8_t* data = AllocateKey();
  if (data == nullptr) return NoSecureMemory();
  SecretKey key(data);
  if (crypto_pwhash(data, kKeySize, passphrase.data(), passphrase.size(), salt.data(), opslimit,
                    static_cast<std::size_t>(memlimit), crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Fail(Code::kUnavailable, "argon2id: out of memory");
  }
  sodium_mprotect_readonly(data);
  return key;
}

std::uint64_t PwhashOpsLimit() { return crypto_pwhash_OPSLIMIT_INTERACTIVE; }
std::uint64_t PwhashMemLimit() { return crypto_pwhash_MEMLIMIT_INTERACTIVE; }

bool PwhashLimitsAcceptable(std::uint64_t opslimit, std::uint64_t memlimit) {
  return opslimit >= crypto_pwhash_OPSLIMIT_MIN && opslimit <= crypto_pwhash_OPSLIMIT_SENSITIVE &&
         memlimit >= crypto_pwhash_MEMLIMIT_MIN && memlimit <= crypto_pwhash_MEMLIMIT_SENSITIVE;
}

Bytes Encrypt(std::span<const std::uint8_t> plaintext, std::span<const std::uint8_t> ad,
              const SecretKey& key) {
  CU_CHECK(InitCrypto());
  Bytes out(kWrapNonceSize + plaintext.size() + kWrapMacSize);
  randombytes_buf(out.data(), kWrapNonceSize);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kWrapNonceSize, &written,
                                             plaintext.data(), plaintext.size(), ad.data(),
                                             ad.size(), nullptr, out.data(), key.bytes().data());
  CU_CHECK(written == plaintext.size() + kWrapMacSize);
  return out;
}

Result<SecretBytes> Decrypt(std::span<const std::uint8_t> sealed, std::span<const std::uint8_t> ad,
                            const SecretKey& key) {
  CU_TRY(InitCrypto());
  if (sealed.size() <= kWrapNonceSize + kWrapMacSize) {
    return Fail(Code::kCorruption, "encrypted secret too short");
  }
  CU_ASSIGN_OR_RETURN(SecretBytes out,
                      SecretBytes::Allocate(sealed.size() - kWrapNonceSize - kWrapMacSize));
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          out.mutable_bytes().data(), &written, nullptr, sealed.data() + kWrapNonceSize,
          sealed.size() - kWrapNonceSize, ad.data(), ad.size(), sealed.data(),
          key.bytes().data()) != 0) {
    return Fail(Code::kTampered, "does not authenticate");
  }
  return out;
}

}  // namespace custodia::vault
