// index/keys.h (internal): what keeps words out of the index files. Every
// term is a keyed hash (SipHash-2-4, crypto_shorthash) of the folded,
// stemmed word or of a field value, and every value slot that tells
// something about a document (date, amount, type, status) is sealed with a
// keystream under a fresh nonce. docs/index_schema.md, "No plaintext".
#ifndef CUSTODIA_INDEX_KEYS_H_
#define CUSTODIA_INDEX_KEYS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"

namespace custodia::index {

class Keys {
 public:
  // Subkeys of the 32-byte index key (crypto_kdf, context "cuindex_"): one
  // for terms, one for values, one for the check stored in the database.
  static Result<Keys> FromKey(std::span<const std::uint8_t, 32> key);
  // BENCHMARKS ONLY: terms and values in clear.
  static Keys Plain();

  Keys(Keys&&) noexcept;
  Keys& operator=(Keys&&) noexcept;
  Keys(const Keys&) = delete;
  Keys& operator=(const Keys&) = delete;
  ~Keys();  // wipes and frees the subkeys

  bool plain() const { return secret_ == nullptr; }

  // The term for `word`: the first 6 bytes of its SipHash-2-4, the top bit
  // of the first set (47 bits of hash), or `word` itself when plain. A
  // keyed term's first byte is >= 0x80, so it is never taken for a prefixed
  // term (those start with an upper-case ASCII letter). Short terms keep
  // the position and term-list tables small: the hash costs no more disk
  // than the stem it replaces.
  std::string Term(std::string_view word) const;
  // Appends Term(word) to `out`.
  void AppendTerm(std::string_view word, std::string* out) const;

  // A keyed hash of a fixed string: stored in the database so that a wrong
  // key (another archive, another epoch) is noticed. "plain" when plain.
  std::string Check() const;

  // Value slots: `plain` sealed under a fresh 7-byte nonce as
  // nonce || plain XOR keystream(nonce, slot); `plain` as is when plain.
  // Nonces count up from a random start (unique within a process, and
  // between processes with odds of about n/2^56). A sealed 8-byte number is
  // 15 bytes: short enough for std::string to hold without allocating.
  std::string Seal(std::uint32_t slot, std::string_view plain);
  // The plain bytes of a sealed value; nullopt for one too short.
  std::optional<std::string> Open(std::uint32_t slot, std::string_view sealed) const;
  // Open into *out, reusing its memory; false for a value too short.
  bool OpenInto(std::uint32_t slot, std::string_view sealed, std::string* out) const;
  // Open + DecodeSortable without allocating: the hot path of ranges,
  // sorting and facets.
  std::optional<std::int64_t> OpenSortable(std::uint32_t slot, std::string_view sealed) const;

 private:
  Keys() = default;
  // sodium_malloc'd: term key (16), value key (16), check key (16).
  std::uint8_t* secret_ = nullptr;
  std::uint64_t next_nonce_ = 0;
};

// Sortable 8-byte encodings of signed integers (big-endian, sign bit
// flipped): byte order is numeric order, so sorted values sort numbers.
std::string EncodeSortable(std::int64_t n);
std::optional<std::int64_t> DecodeSortable(std::string_view bytes);

}  // namespace custodia::index

#endif  // CUSTODIA_INDEX_KEYS_H_
