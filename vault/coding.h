// vault/coding.h (internal): little-endian integers in byte buffers, the
// only integer encoding of the vault's files (LevelDB's util/coding.h).
#ifndef CUSTODIA_VAULT_CODING_H_
#define CUSTODIA_VAULT_CODING_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/env.h"

namespace custodia::vault {

inline void PutU32(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

inline void PutU64(Bytes& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

inline void PutBytes(Bytes& out, std::span<const std::uint8_t> bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

inline void PutString(Bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

// REQUIRES: p points at 4 (GetU32) or 8 (GetU64) readable bytes.
inline std::uint32_t GetU32(const std::uint8_t* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

inline std::uint64_t GetU64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

}  // namespace custodia::vault

#endif  // CUSTODIA_VAULT_CODING_H_
