// vault/identity.h (internal): user key files, users/<name>.key
// (docs/vault_format.md, "User key files"): a person's public keys in
// clear and their secret keys encrypted under their passphrase (Argon2id).
#ifndef CUSTODIA_VAULT_IDENTITY_H_
#define CUSTODIA_VAULT_IDENTITY_H_

#include <span>
#include <string>
#include <string_view>

#include "base/env.h"
#include "base/result.h"
#include "vault/crypto.h"

namespace custodia::vault {

// Whether `name` is a valid user name: 1..32 bytes of a-z 0-9 . _ -,
// starting with a letter or digit (it names a file).
bool ValidUserName(std::string_view name);

// The key file for `identity`, named `name`, locked under `passphrase`
// with Argon2id at these limits (tests that log in hundreds of times lower
// them; a reader accepts anything PwhashLimitsAcceptable does).
// REQUIRES: ValidUserName(name).
Result<Bytes> EncodeUserKeyFile(const std::string& name, const Identity& identity,
                                std::string_view passphrase,
                                std::uint64_t opslimit = PwhashOpsLimit(),
                                std::uint64_t memlimit = PwhashMemLimit());

struct UserKeyFilePublic {
  std::string name;
  SignPublicKey sign_public{};
  BoxPublicKey box_public{};
};
// The clear part of a key file. kCorruption if malformed.
Result<UserKeyFilePublic> DecodeUserKeyFilePublic(std::span<const std::uint8_t> file);

// Unlocks a key file. kPermissionDenied for a wrong passphrase (or a file
// altered after it was written, which cannot be told apart); kCorruption if
// malformed or its limits are out of range; kTampered if the secret keys do
// not match the public keys beside them.
Result<Identity> UnlockUserKeyFile(std::span<const std::uint8_t> file, std::string_view passphrase);

}  // namespace custodia::vault

#endif  // CUSTODIA_VAULT_IDENTITY_H_
