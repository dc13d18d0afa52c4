// classify/validate.h: checks and canonical forms for the fields of Spanish
// back-office documents (tax ids, bank accounts, supply points, dates,
// amounts, periods), and the repair of OCR letter/digit confusions in ids.
// Pure functions of their inputs. Any bytes are accepted (empty, huge,
// invalid UTF-8); none is worse than linear. The rules: docs/validators.md.
#ifndef CUSTODIA_CLASSIFY_VALIDATE_H_
#define CUSTODIA_CLASSIFY_VALIDATE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace custodia::classify {

// Identifiers that carry check characters.
enum class IdKind {
  kDni,   // 8 digits + check letter: "12345678Z"
  kNie,   // X, Y or Z + 7 digits + check letter: "X1234567L"
  kCif,   // entity letter + 7 digits + check digit or letter: "B64717838"
  kNif,   // any tax id: a DNI, a NIE, a K/L/M personal NIF or a CIF
  kIban,  // any country of the IBAN registry; a Spanish one also checks its CCC
  kCcc,   // Spanish bank account: entity, office, 2 check digits, account (20 digits)
  kCups,  // Spanish energy supply point: "ES" + 16 digits + 2 letters [+ digit, letter]
};

enum class Flaw {
  kNone,
  kFormat,     // a character of the wrong class, or not allowed where it is
  kLength,     // too short or too long for the kind (or the IBAN's country)
  kComponent,  // a part with an unknown value: IBAN country, CUPS prefix
  kChecksum,   // well formed, but a check character does not match
};

struct Verdict {
  Flaw flaw = Flaw::kNone;
  std::string reason;  // "" if valid, else e.g. "dni: check letter should be K, not Z"
  bool ok() const { return flaw == Flaw::kNone; }
};

// Canonicalises `text` as CanonicaliseId does, then checks it against the
// rules of `kind`. Text that does not canonicalise is kFormat, or kLength
// when empty or over 256 bytes.
Verdict Validate(IdKind kind, std::string_view text);

// True if the date exists in the Gregorian calendar (leap years included),
// for years 1 to 9999.
bool IsValidDate(int year, int month, int day);

// Each canonicaliser returns nullopt rather than guess; none checks validity.
// Ids: ASCII upper case without separators (whitespace, no-break space, '.',
// '-'; also ':' in an IBAN). Tax ids lose an "ES" VAT prefix and an IBAN its
// "IBAN" prefix; a second such prefix is refused.
std::optional<std::string> CanonicaliseId(IdKind kind, std::string_view text);
// "YYYY-MM-DD" from day-first numeric dates (d/m/yy: 69-99 is 19yy, 00-68 is
// 20yy), "12 de marzo de 2024", "12 MAR 2024" and year-first "2024-03-12".
std::optional<std::string> CanonicaliseDate(std::string_view text);
// "1234.56" (at least two decimals) from "1.234,56 €", "EUR 1.234,56",
// "1,234.56", "-12,00". One ',' is a decimal comma; one '.' is a thousands
// separator when exactly three digits follow it and 1-3 digits (not 0...)
// precede it, else a decimal point.
std::optional<std::string> CanonicaliseAmount(std::string_view text);
// "YYYY-MM" from "marzo 2024", "MARZO DE 2024", "03/2024", "2024-03".
std::optional<std::string> CanonicalisePeriod(std::string_view text);

struct Substitution {
  std::size_t position;  // in the canonical value
  char from;             // as read
  char to;
};

struct Repair {
  std::string value;                        // canonical and valid
  std::vector<Substitution> substitutions;  // empty when `text` was valid as read
};

// Repairs OCR confusions (O/0, I/1, l/1, S/5, B/8, Z/2) in an id of `kind`,
// only at positions where the format wants the other class (digit or letter),
// at most 3 of them. Returns the canonical value if it is valid as read, the
// repair if exactly one candidate is valid, and nullopt otherwise (none valid,
// or several: an ambiguity is never resolved by choice).
std::optional<Repair> RepairId(IdKind kind, std::string_view text);

}  // namespace custodia::classify

#endif  // CUSTODIA_CLASSIFY_VALIDATE_H_
