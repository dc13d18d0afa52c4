// index/keys.cc: keyed-hash terms and sealed values (index/keys.h).
#include "index/keys.h"

#include <sodium.h>

#include <cstring>
#include <utility>

namespace custodia::index {
namespace {

constexpr std::size_t kSubkey = crypto_shorthash_KEYBYTES;  // 16
static_assert(kSubkey == 16);
constexpr std::size_t kNonce = 7;
constexpr std::size_t kTermBytes = 6;
constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "cuindex_";

enum Subkey : std::uint64_t { kTerms = 1, kValues = 2, kCheck = 3 };

}  // namespace

Result<Keys> Keys::FromKey(std::span<const std::uint8_t, 32> key) {
  static_assert(crypto_kdf_KEYBYTES == 32);
  if (sodium_init() < 0) return Fail(Code::kUnavailable, "index: libsodium failed to start");
  Keys keys;
  keys.secret_ = static_cast<std::uint8_t*>(sodium_malloc(3 * kSubkey));
  if (keys.secret_ == nullptr) {
    return Fail(Code::kUnavailable, "index: no secure memory for the index key");
  }
  for (std::uint64_t id : {kTerms, kValues, kCheck}) {
    crypto_kdf_derive_from_key(keys.secret_ + (id - 1) * kSubkey, kSubkey, id, kKdfContext,
                               key.data());
  }
  randombytes_buf(&keys.next_nonce_, sizeof keys.next_nonce_);
  return keys;
}

Keys Keys::Plain() { return Keys(); }

Keys::Keys(Keys&& other) noexcept
    : secret_(std::exchange(other.secret_, nullptr)), next_nonce_(other.next_nonce_) {}

Keys& Keys::operator=(Keys&& other) noexcept {
  if (this != &other) {
    if (secret_ != nullptr) sodium_free(secret_);
    secret_ = std::exchange(other.secret_, nullptr);
    next_nonce_ = other.next_nonce_;
  }
  return *this;
}

Keys::~Keys() {
  if (secret_ != nullptr) sodium_free(secret_);  // wipes first
}

void Keys::AppendTerm(std::string_view word, std::string* out) const {
  if (plain()) {
    out->append(word);
    return;
  }
  std::uint8_t h[crypto_shorthash_BYTES];
  crypto_shorthash(h, reinterpret_cast<const unsigned char*>(word.data()), word.size(),
                   secret_);
  h[0] |= 0x80;
  out->append(reinterpret_cast<const char*>(h), kTermBytes);
}

std::string Keys::Term(std::string_view word) const {
  std::string out;
  AppendTerm(word, &out);
  return out;
}

std::string Keys::Check() const {
  if (plain()) return "plain";
  static constexpr char kProbe[] = "custodia index key check v1";
  std::uint8_t h[crypto_shorthash_BYTES];
  crypto_shorthash(h, reinterpret_cast<const unsigned char*>(kProbe), sizeof kProbe - 1,
                   secret_ + 2 * kSubkey);
  std::string out;
  for (std::uint8_t b : h) {
    out.push_back("0123456789abcdef"[b >> 4]);
    out.push_back("0123456789abcdef"[b & 15]);
  }
  return out;
}

namespace {

// XORs `data` with the keystream of (nonce, slot): block i is the SipHash
// of nonce || slot || i under the value key.
void Xor(const std::uint8_t* key, const std::uint8_t* nonce, std::uint32_t slot, char* data,
         std::size_t size) {
  std::uint8_t input[kNonce + 4 + 4];
  std::memcpy(input, nonce, kNonce);
  for (int i = 0; i < 4; ++i) input[kNonce + i] = static_cast<std::uint8_t>(slot >> (8 * i));
  for (std::size_t block = 0; block * 8 < size; ++block) {
    for (int i = 0; i < 4; ++i) {
      input[kNonce + 4 + i] = static_cast<std::uint8_t>(block >> (8 * i));
    }
    std::uint8_t stream[crypto_shorthash_BYTES];
    crypto_shorthash(stream, input, sizeof input, key);
    for (std::size_t i = 0; i < 8 && block * 8 + i < size; ++i) {
      data[block * 8 + i] = static_cast<char>(data[block * 8 + i] ^ stream[i]);
    }
  }
}

}  // namespace

std::string Keys::Seal(std::uint32_t slot, std::string_view plain) {
  if (this->plain()) return std::string(plain);
  std::string out(kNonce + plain.size(), '\0');
  auto* nonce = reinterpret_cast<std::uint8_t*>(out.data());
  const std::uint64_t n = next_nonce_++;
  for (std::size_t i = 0; i < kNonce; ++i) nonce[i] = static_cast<std::uint8_t>(n >> (8 * i));
  std::memcpy(out.data() + kNonce, plain.data(), plain.size());
  Xor(secret_ + kSubkey, nonce, slot, out.data() + kNonce, plain.size());
  return out;
}

std::optional<std::string> Keys::Open(std::uint32_t slot, std::string_view sealed) const {
  std::string out;
  if (!OpenInto(slot, sealed, &out)) return std::nullopt;
  return out;
}

bool Keys::OpenInto(std::uint32_t slot, std::string_view sealed, std::string* out) const {
  if (plain()) {
    out->assign(sealed);
    return true;
  }
  if (sealed.size() < kNonce) return false;
  out->assign(sealed.substr(kNonce));
  Xor(secret_ + kSubkey, reinterpret_cast<const std::uint8_t*>(sealed.data()), slot, out->data(),
      out->size());
  return true;
}

std::optional<std::int64_t> Keys::OpenSortable(std::uint32_t slot, std::string_view sealed) const {
  const std::size_t nonce = plain() ? 0 : kNonce;
  if (sealed.size() != nonce + 8) return std::nullopt;
  char buf[8];
  std::memcpy(buf, sealed.data() + nonce, 8);
  if (!plain()) {
    Xor(secret_ + kSubkey, reinterpret_cast<const std::uint8_t*>(sealed.data()), slot, buf, 8);
  }
  return DecodeSortable(std::string_view(buf, 8));
}

std::string EncodeSortable(std::int64_t n) {
  const std::uint64_t u = static_cast<std::uint64_t>(n) ^ (std::uint64_t{1} << 63);
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(u >> (56 - 8 * i));
  return out;
}

std::optional<std::int64_t> DecodeSortable(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  std::uint64_t u = 0;
  for (char c : bytes) u = (u << 8) | static_cast<std::uint8_t>(c);
  return static_cast<std::int64_t>(u ^ (std::uint64_t{1} << 63));
}

}  // namespace custodia::index
