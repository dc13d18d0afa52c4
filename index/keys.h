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

  // The term for `word`: 13 characters of lower-case base32 (the 64-bit
  // SipHash of `word`), or `word` itself when plain. Never starts with an
  // upper-case letter, so it cannot be taken for a prefixed term.
  std::string Term(std::string_view word) const;
  // Appends Term(word) to `out`.
  void AppendTerm(std::string_view word, std::string* out) const;

  // A keyed hash of a fixed string: stored in the database so that a wrong
  // key (another archive, another epoch) is noticed. "plain" when plain.
  std::string Check() const;

  // Value slots: `plain` sealed under a fresh 8-byte nonce as
  // nonce || plain XOR keystream(nonce, slot); `plain` as is when plain.
  std::string Seal(std::uint32_t slot, std::string_view plain) const;
  // The plain bytes of a sealed value; nullopt for one too short.
  std::optional<std::string> Open(std::uint32_t slot, std::string_view sealed) const;

 private:
  Keys() = default;
  // sodium_malloc'd: term key (16), value key (16), check key (16).
  std::uint8_t* secret_ = nullptr;
};

// Sortable 8-byte encodings of signed integers (big-endian, sign bit
// flipped): byte order is numeric order, so sorted values sort numbers.
std::string EncodeSortable(std::int64_t n);
std::optional<std::int64_t> DecodeSortable(std::string_view bytes);

}  // namespace custodia::index

#endif  // CUSTODIA_INDEX_KEYS_H_
