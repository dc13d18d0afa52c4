// vault/identity.cc: encode, decode and unlock user key files. The byte
// layout is in docs/vault_format.md; keep the two in step.
#include "vault/identity.h"

#include <cstring>

#include "vault/coding.h"

namespace custodia::vault {
namespace {

constexpr std::string_view kMagic = "CUSTUSER";
constexpr std::uint32_t kVersion = 1;
constexpr std::string_view kDomain = "custodia.vault.user-key.v1";
constexpr std::size_t kSecretsSize = kSignSecretKeySize + kBoxSecretKeySize;
constexpr std::size_t kSealedSize = kWrapNonceSize + kSecretsSize + kWrapMacSize;

struct Layout {
  UserKeyFilePublic pub;
  std::span<const std::uint8_t, kSaltSize> salt;
  std::uint64_t opslimit = 0;
  std::uint64_t memlimit = 0;
  std::span<const std::uint8_t> clear;   // every byte before `sealed`
  std::span<const std::uint8_t> sealed;  // nonce || ciphertext || tag
};

Bytes Ad(std::span<const std::uint8_t> clear) {
  Bytes ad;
  PutString(ad, kDomain);
  ad.push_back(0);
  PutBytes(ad, clear);
  return ad;
}

Result<Layout> Parse(std::span<const std::uint8_t> file) {
  const Unexpected bad = Fail(Code::kCorruption, "not a custodia user key file");
  if (file.size() < 13 || std::memcmp(file.data(), kMagic.data(), kMagic.size()) != 0) return bad;
  if (GetU32(file.data() + 8) != kVersion) {
    return Fail(
        Code::kCorruption,
        "user key file version " + std::to_string(GetU32(file.data() + 8)) + " is not supported");
  }
  const std::size_t name_size = file[12];
  const std::size_t clear_size = 13 + name_size + 32 + 32 + kSaltSize + 8 + 8;
  if (file.size() != clear_size + kSealedSize) return bad;
  Layout l{.pub = {},
           .salt = file.subspan(13 + name_size + 64).first<kSaltSize>(),
           .opslimit = 0,
           .memlimit = 0,
           .clear = {},
           .sealed = {}};
  l.pub.name.assign(reinterpret_cast<const char*>(file.data() + 13), name_size);
  if (!ValidUserName(l.pub.name)) return bad;
  std::memcpy(l.pub.sign_public.data(), file.data() + 13 + name_size, 32);
  std::memcpy(l.pub.box_public.data(), file.data() + 13 + name_size + 32, 32);
  l.opslimit = GetU64(file.data() + 13 + name_size + 64 + kSaltSize);
  l.memlimit = GetU64(file.data() + 13 + name_size + 64 + kSaltSize + 8);
  l.clear = file.first(clear_size);
  l.sealed = file.subspan(clear_size);
  return l;
}

}  // namespace

bool ValidUserName(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

Result<Bytes> EncodeUserKeyFile(const std::string& name, const Identity& identity,
                                std::string_view passphrase, std::uint64_t opslimit,
                                std::uint64_t memlimit) {
  CU_CHECK(ValidUserName(name));
  Bytes out;
  PutString(out, kMagic);
  PutU32(out, kVersion);
  out.push_back(static_cast<std::uint8_t>(name.size()));
  PutString(out, name);
  PutBytes(out, identity.sign_public);
  PutBytes(out, identity.box_public);
  std::array<std::uint8_t, kSaltSize> salt;
  RandomBytes(salt);
  PutBytes(out, salt);
  PutU64(out, opslimit);
  PutU64(out, memlimit);
  CU_ASSIGN_OR_RETURN(const SecretKey key, PassphraseKey(passphrase, salt, opslimit, memlimit));
  CU_ASSIGN_OR_RETURN(SecretBytes secrets, SecretBytes::Allocate(kSecretsSize));
  std::memcpy(secrets.mutable_bytes().data(), identity.sign_secret.bytes().data(),
              kSignSecretKeySize);
  std::memcpy(secrets.mutable_bytes().data() + kSignSecretKeySize,
              identity.box_secret.bytes().data(), kBoxSecretKeySize);
  const Bytes sealed = Encrypt(secrets.bytes(), Ad(out), key);
  PutBytes(out, sealed);
  return out;
}

Result<UserKeyFilePublic> DecodeUserKeyFilePublic(std::span<const std::uint8_t> file) {
  CU_ASSIGN_OR_RETURN(Layout l, Parse(file));
  return l.pub;
}

Result<Identity> UnlockUserKeyFile(std::span<const std::uint8_t> file,
                                   std::string_view passphrase) {
  CU_ASSIGN_OR_RETURN(const Layout l, Parse(file));
  if (!PwhashLimitsAcceptable(l.opslimit, l.memlimit)) {
    return Fail(Code::kCorruption, "user key file: argon2id limits out of range");
  }
  CU_ASSIGN_OR_RETURN(const SecretKey key,
                      PassphraseKey(passphrase, l.salt, l.opslimit, l.memlimit));
  auto secrets = Decrypt(l.sealed, Ad(l.clear), key);
  if (!secrets) {
    return Fail(Code::kPermissionDenied, "wrong passphrase for " + l.pub.name);
  }
  CU_ASSIGN_OR_RETURN(Identity id,
                      IdentityFromSecrets(secrets->bytes().first(kSignSecretKeySize),
                                          secrets->bytes().subspan(kSignSecretKeySize)));
  if (id.sign_public != l.pub.sign_public || id.box_public != l.pub.box_public) {
    return Fail(Code::kTampered,
                "user key file of " + l.pub.name + ": secret keys do not match its public keys");
  }
  return id;
}

}  // namespace custodia::vault
