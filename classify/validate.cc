// classify/validate.cc: the rules behind classify/validate.h. Each rule is
// stated once more, in prose, in docs/validators.md.
#include "classify/validate.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>

namespace custodia::classify {
namespace {

// Longer text is refused before any work: no field value comes near these
// sizes, and the bound keeps every function cheap on hostile input.
constexpr std::size_t kMaxIdText = 256;
constexpr std::size_t kMaxShortText = 64;  // dates, amounts, periods

// The most positions RepairId substitutes in one candidate.
constexpr std::size_t kMaxSubstitutions = 3;

// ---------------------------------------------------------------------------
// Characters

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
char ToUpper(char c) { return IsLower(c) ? static_cast<char>(c - 'a' + 'A') : c; }
char ToLower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
bool AllDigits(std::string_view s) { return std::all_of(s.begin(), s.end(), IsDigit); }
bool Contains(std::string_view set, char c) { return set.find(c) != std::string_view::npos; }

// U+00A0 NO-BREAK SPACE in UTF-8, common in text taken from PDFs.
bool IsNbspAt(std::string_view s, std::size_t i) {
  return i + 1 < s.size() && s[i] == '\xC2' && s[i + 1] == '\xA0';
}

// Strips ASCII whitespace and no-break spaces from both ends.
std::string_view Trim(std::string_view s) {
  while (!s.empty()) {
    if (IsSpace(s.front())) {
      s.remove_prefix(1);
    } else if (IsNbspAt(s, 0)) {
      s.remove_prefix(2);
    } else {
      break;
    }
  }
  while (!s.empty()) {
    if (IsSpace(s.back())) {
      s.remove_suffix(1);
    } else if (s.size() >= 2 && IsNbspAt(s, s.size() - 2)) {
      s.remove_suffix(2);
    } else {
      break;
    }
  }
  return s;
}

// `s` with each no-break space replaced by ' ' (which RE2's \s matches).
std::string NbspToSpace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (IsNbspAt(s, i)) {
      out.push_back(' ');
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// `prefix` is lower-case ASCII.
bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (ToLower(s[i]) != prefix[i]) return false;
  }
  return true;
}

bool EndsWithNoCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && StartsWithNoCase(s.substr(s.size() - suffix.size()), suffix);
}

// REQUIRES: `digits` holds at most 19 ASCII digits.
std::uint64_t ToNumber(std::string_view digits) {
  std::uint64_t n = 0;
  for (char c : digits) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  return n;
}

std::string Str(char c) { return std::string(1, c); }

// ---------------------------------------------------------------------------
// Verdicts

Verdict Valid() { return Verdict{}; }

Verdict Invalid(Flaw flaw, std::string_view name, const std::string& what) {
  return Verdict{flaw, std::string(name) + ": " + what};
}

// ---------------------------------------------------------------------------
// DNI, NIE, K/L/M NIF, CIF

constexpr std::string_view kDniLetters = "TRWAGMYFPDXBNJZSQVHLCKE";
constexpr std::string_view kNiePrefixes = "XYZ";  // read as 0, 1, 2
constexpr std::string_view kKlmPrefixes = "KLM";
// Entity letters of a CIF (Orden EHA/451/2008). K, L and M are personal NIFs
// with a DNI-style letter (CheckKlm); I, O and T are not used.
constexpr std::string_view kCifEntities = "ABCDEFGHJNPQRSUVW";
// The control digit 0..9 written as a letter.
constexpr std::string_view kCifControlLetters = "JABCDEFGHI";

// The letter closes a DNI, a NIE and a K/L/M NIF alike: kDniLetters[number
// mod 23], where `number` is the DNI's 8 digits, the NIE's 7 digits after X,
// Y or Z read as 0, 1 or 2, or the 7 digits of a K/L/M NIF alone.
Verdict CheckLetter(std::string_view name, std::string_view id, std::uint64_t number) {
  if (!IsUpper(id[8])) return Invalid(Flaw::kFormat, name, "the last character should be a letter");
  char want = kDniLetters[number % 23];
  if (id[8] != want) {
    return Invalid(Flaw::kChecksum, name,
                   "check letter should be " + Str(want) + ", not " + Str(id[8]));
  }
  return Valid();
}

Verdict LengthNine(std::string_view name, std::string_view id) {
  return Invalid(Flaw::kLength, name, "9 characters expected, got " + std::to_string(id.size()));
}

Verdict CheckDni(std::string_view name, std::string_view id) {
  if (id.size() != 9) return LengthNine(name, id);
  if (!AllDigits(id.substr(0, 8))) {
    return Invalid(Flaw::kFormat, name, "8 digits expected before the letter");
  }
  return CheckLetter(name, id, ToNumber(id.substr(0, 8)));
}

Verdict CheckNie(std::string_view name, std::string_view id) {
  if (id.size() != 9) return LengthNine(name, id);
  std::size_t prefix = kNiePrefixes.find(id[0]);
  if (prefix == std::string_view::npos) {
    return Invalid(Flaw::kFormat, name, "should start with X, Y or Z");
  }
  if (!AllDigits(id.substr(1, 7))) {
    return Invalid(Flaw::kFormat, name, "7 digits expected after the first letter");
  }
  return CheckLetter(name, id, prefix * 10'000'000 + ToNumber(id.substr(1, 7)));
}

Verdict CheckKlm(std::string_view name, std::string_view id) {
  if (id.size() != 9) return LengthNine(name, id);
  if (!Contains(kKlmPrefixes, id[0])) {
    return Invalid(Flaw::kFormat, name, "should start with K, L or M");
  }
  if (!AllDigits(id.substr(1, 7))) {
    return Invalid(Flaw::kFormat, name, "7 digits expected after the first letter");
  }
  return CheckLetter(name, id, ToNumber(id.substr(1, 7)));
}

enum class Control { kDigit, kLetter, kEither };

// Which form a CIF's control character takes, by entity letter. P, Q, R, S
// (public bodies, religious bodies), N (foreign entities) and W (permanent
// establishments of non-residents) take a letter; A, B, E, H (companies,
// joint ownerships) a digit; the others either.
Control CifControl(char entity) {
  if (Contains("PQRSNW", entity)) return Control::kLetter;
  if (Contains("ABEH", entity)) return Control::kDigit;
  return Control::kEither;
}

// The control digit over a CIF's 7 digits: digits in odd places (1st, 3rd,
// 5th, 7th) are doubled and their two digits added, those in even places
// added as they are; the control is 10 minus the last digit of the sum, 10
// being 0. REQUIRES: 7 digits.
int CifControlDigit(std::string_view digits) {
  int sum = 0;
  for (std::size_t i = 0; i < 7; ++i) {
    int d = digits[i] - '0';
    if (i % 2 == 0) {
      d *= 2;
      d = d / 10 + d % 10;
    }
    sum += d;
  }
  return (10 - sum % 10) % 10;
}

Verdict CheckCif(std::string_view name, std::string_view id) {
  if (id.size() != 9) return LengthNine(name, id);
  if (!Contains(kCifEntities, id[0])) {
    return Invalid(Flaw::kFormat, name, Str(id[0]) + " is not a CIF entity letter");
  }
  if (!AllDigits(id.substr(1, 7))) {
    return Invalid(Flaw::kFormat, name, "7 digits expected after the entity letter");
  }
  char got = id[8];
  if (!IsDigit(got) && !IsUpper(got)) {
    return Invalid(Flaw::kFormat, name, "the last character should be a digit or a letter");
  }
  int control = CifControlDigit(id.substr(1, 7));
  char as_digit = static_cast<char>('0' + control);
  char as_letter = kCifControlLetters[static_cast<std::size_t>(control)];
  std::string want;
  switch (CifControl(id[0])) {
    case Control::kLetter:
      if (got == as_letter) return Valid();
      want = Str(as_letter);
      break;
    case Control::kDigit:
      if (got == as_digit) return Valid();
      want = Str(as_digit);
      break;
    case Control::kEither:
      if (got == as_digit || got == as_letter) return Valid();
      want = Str(as_digit) + " or " + Str(as_letter);
      break;
  }
  return Invalid(Flaw::kChecksum, name,
                 "control character should be " + want + ", not " + Str(got));
}

// Any tax id: the first character says which rule applies.
Verdict CheckNif(std::string_view name, std::string_view id) {
  if (id.size() != 9) return LengthNine(name, id);
  if (IsDigit(id[0])) return CheckDni(name, id);
  if (Contains(kNiePrefixes, id[0])) return CheckNie(name, id);
  if (Contains(kKlmPrefixes, id[0])) return CheckKlm(name, id);
  return CheckCif(name, id);
}

// ---------------------------------------------------------------------------
// CCC and IBAN

// One CCC check digit over 10 digits, weighted 1, 2, 4, 8, 5, 10, 9, 7, 3, 6
// (2^i mod 11): 11 minus the sum mod 11, where 10 is written 1 and 11 is 0.
int CccDigit(const char* ten) {
  static constexpr int kWeights[10] = {1, 2, 4, 8, 5, 10, 9, 7, 3, 6};
  int sum = 0;
  for (int i = 0; i < 10; ++i) sum += (ten[i] - '0') * kWeights[i];
  int d = 11 - sum % 11;
  return d == 11 ? 0 : d == 10 ? 1 : d;
}

// The two check digits of a CCC: the first over "00" + entity + office, the
// second over the 10-digit account number. REQUIRES: 20 digits.
std::string CccCheckDigits(std::string_view ccc) {
  char first[10] = {'0', '0'};
  std::copy_n(ccc.data(), 8, first + 2);
  return {static_cast<char>('0' + CccDigit(first)),
          static_cast<char>('0' + CccDigit(ccc.data() + 10))};
}

Verdict CheckCcc(std::string_view name, std::string_view id) {
  if (id.size() != 20) {
    return Invalid(Flaw::kLength, name, "20 digits expected, got " + std::to_string(id.size()));
  }
  if (!AllDigits(id)) return Invalid(Flaw::kFormat, name, "only digits may appear");
  std::string want = CccCheckDigits(id);
  if (id.substr(8, 2) != want) {
    return Invalid(Flaw::kChecksum, name,
                   "check digits should be " + want + ", not " + std::string(id.substr(8, 2)));
  }
  return Valid();
}

struct IbanCountry {
  std::string_view code;
  int length;             // of the whole IBAN
  std::string_view bban;  // registry notation: "4!n" four digits, "a" letters, "c" either
};

// The SWIFT IBAN registry (release 102): every country, its IBAN length and
// the structure of its BBAN. New countries are added here.
constexpr std::array<IbanCountry, 89> kIbanCountries = {{
    {"AD", 24, "4!n4!n12!c"},
    {"AE", 23, "3!n16!n"},
    {"AL", 28, "8!n16!c"},
    {"AT", 20, "5!n11!n"},
    {"AZ", 28, "4!a20!c"},
    {"BA", 20, "3!n3!n8!n2!n"},
    {"BE", 16, "3!n7!n2!n"},
    {"BG", 22, "4!a4!n2!n8!c"},
    {"BH", 22, "4!a14!c"},
    {"BI", 27, "5!n5!n11!n2!n"},
    {"BR", 29, "8!n5!n10!n1!a1!c"},
    {"BY", 28, "4!c4!n16!c"},
    {"CH", 21, "5!n12!c"},
    {"CR", 22, "4!n14!n"},
    {"CY", 28, "3!n5!n16!c"},
    {"CZ", 24, "4!n16!n"},
    {"DE", 22, "8!n10!n"},
    {"DJ", 27, "5!n5!n11!n2!n"},
    {"DK", 18, "4!n9!n1!n"},
    {"DO", 28, "4!c20!n"},
    {"EE", 20, "2!n14!n"},
    {"EG", 29, "4!n4!n17!n"},
    {"ES", 24, "4!n4!n1!n1!n10!n"},
    {"FI", 18, "3!n11!n"},
    {"FK", 18, "2!a12!n"},
    {"FO", 18, "4!n9!n1!n"},
    {"FR", 27, "5!n5!n11!c2!n"},
    {"GB", 22, "4!a6!n8!n"},
    {"GE", 22, "2!a16!n"},
    {"GI", 23, "4!a15!c"},
    {"GL", 18, "4!n9!n1!n"},
    {"GR", 27, "3!n4!n16!c"},
    {"GT", 28, "4!c20!c"},
    {"HN", 28, "4!a20!n"},
    {"HR", 21, "7!n10!n"},
    {"HU", 28, "3!n4!n1!n15!n1!n"},
    {"IE", 22, "4!a6!n8!n"},
    {"IL", 23, "3!n3!n13!n"},
    {"IQ", 23, "4!a3!n12!n"},
    {"IS", 26, "4!n2!n6!n10!n"},
    {"IT", 27, "1!a5!n5!n12!c"},
    {"JO", 30, "4!a4!n18!c"},
    {"KW", 30, "4!a22!c"},
    {"KZ", 20, "3!n13!c"},
    {"LB", 28, "4!n20!c"},
    {"LC", 32, "4!a24!c"},
    {"LI", 21, "5!n12!c"},
    {"LT", 20, "5!n11!n"},
    {"LU", 20, "3!n13!c"},
    {"LV", 21, "4!a13!c"},
    {"LY", 25, "3!n3!n15!n"},
    {"MC", 27, "5!n5!n11!c2!n"},
    {"MD", 24, "2!c18!c"},
    {"ME", 22, "3!n13!n2!n"},
    {"MK", 19, "3!n10!c2!n"},
    {"MN", 20, "4!n12!n"},
    {"MR", 27, "5!n5!n11!n2!n"},
    {"MT", 31, "4!a5!n18!c"},
    {"MU", 30, "4!a2!n2!n12!n3!n3!a"},
    {"NI", 28, "4!a20!n"},
    {"NL", 18, "4!a10!n"},
    {"NO", 15, "4!n6!n1!n"},
    {"OM", 23, "3!n16!c"},
    {"PK", 24, "4!a16!c"},
    {"PL", 28, "8!n16!n"},
    {"PS", 29, "4!a21!c"},
    {"PT", 25, "4!n4!n11!n2!n"},
    {"QA", 29, "4!a21!c"},
    {"RO", 24, "4!a16!c"},
    {"RS", 22, "3!n13!n2!n"},
    {"RU", 33, "9!n5!n15!c"},
    {"SA", 24, "2!n18!c"},
    {"SC", 31, "4!a2!n2!n16!n3!a"},
    {"SD", 18, "2!n12!n"},
    {"SE", 24, "3!n16!n1!n"},
    {"SI", 19, "5!n8!n2!n"},
    {"SK", 24, "4!n6!n10!n"},
    {"SM", 27, "1!a5!n5!n12!c"},
    {"SO", 23, "4!n3!n12!n"},
    {"ST", 25, "4!n4!n11!n2!n"},
    {"SV", 28, "4!a20!n"},
    {"TL", 23, "3!n14!n2!n"},
    {"TN", 24, "2!n3!n13!n2!n"},
    {"TR", 26, "5!n1!n16!c"},
    {"UA", 29, "6!n19!c"},
    {"VA", 22, "3!n15!n"},
    {"VG", 24, "4!a16!n"},
    {"XK", 20, "4!n10!n2!n"},
    {"YE", 30, "4!a4!n18!c"},
}};

// The number of characters a BBAN structure describes; -1 if malformed.
constexpr int BbanLength(std::string_view spec) {
  int total = 0;
  int count = 0;
  bool bang = false;
  for (char c : spec) {
    if (c >= '0' && c <= '9' && !bang) {
      count = count * 10 + (c - '0');
    } else if (c == '!' && count > 0 && !bang) {
      bang = true;
    } else if ((c == 'n' || c == 'a' || c == 'c') && bang) {
      total += count;
      count = 0;
      bang = false;
    } else {
      return -1;
    }
  }
  return count == 0 && !bang ? total : -1;
}

constexpr bool IbanTableIsSound() {
  for (std::size_t i = 0; i < kIbanCountries.size(); ++i) {
    const IbanCountry& c = kIbanCountries[i];
    if (c.code.size() != 2 || BbanLength(c.bban) + 4 != c.length) return false;
    if (i > 0 && !(kIbanCountries[i - 1].code < c.code)) return false;  // sorted, unique
  }
  return true;
}
static_assert(IbanTableIsSound(), "every IBAN length is 4 + its BBAN's, codes sorted");

const IbanCountry* FindIbanCountry(std::string_view code) {
  auto it = std::lower_bound(kIbanCountries.begin(), kIbanCountries.end(), code,
                             [](const IbanCountry& c, std::string_view k) { return c.code < k; });
  return it != kIbanCountries.end() && it->code == code ? &*it : nullptr;
}

// One class per BBAN character: 'n' digit, 'a' upper-case letter, 'c' either.
// REQUIRES: BbanLength(spec) >= 0.
std::string ExpandBban(std::string_view spec) {
  std::string classes;
  int count = 0;
  for (char c : spec) {
    if (IsDigit(c)) {
      count = count * 10 + (c - '0');
    } else if (c != '!') {
      classes.append(static_cast<std::size_t>(count), c);
      count = 0;
    }
  }
  return classes;
}

// ISO 7064 mod 97-10 over the IBAN with its first four characters moved to
// the end and each letter read as two digits (A = 10 ... Z = 35).
// REQUIRES: upper-case letters and digits only.
int IbanMod97(std::string_view iban) {
  int r = 0;
  auto add = [&r](char c) {
    r = IsDigit(c) ? (r * 10 + (c - '0')) % 97 : (r * 100 + (c - 'A' + 10)) % 97;
  };
  for (char c : iban.substr(4)) add(c);
  for (char c : iban.substr(0, 4)) add(c);
  return r;
}

Verdict CheckIban(std::string_view name, std::string_view id) {
  if (id.size() < 5) return Invalid(Flaw::kLength, name, "too short");
  if (!IsUpper(id[0]) || !IsUpper(id[1])) {
    return Invalid(Flaw::kFormat, name, "should start with a country code");
  }
  const IbanCountry* country = FindIbanCountry(id.substr(0, 2));
  if (country == nullptr) {
    return Invalid(Flaw::kComponent, name, "unknown country " + std::string(id.substr(0, 2)));
  }
  if (id.size() != static_cast<std::size_t>(country->length)) {
    return Invalid(Flaw::kLength, name,
                   std::string(country->code) + " needs " + std::to_string(country->length) +
                       " characters, got " + std::to_string(id.size()));
  }
  if (!IsDigit(id[2]) || !IsDigit(id[3])) {
    return Invalid(Flaw::kFormat, name, "check digits should be digits");
  }
  std::string classes = ExpandBban(country->bban);
  for (std::size_t i = 0; i < classes.size(); ++i) {
    char c = id[4 + i];
    bool fits = classes[i] == 'n'   ? IsDigit(c)
                : classes[i] == 'a' ? IsUpper(c)
                                    : IsDigit(c) || IsUpper(c);
    if (!fits) {
      return Invalid(Flaw::kFormat, name,
                     "character " + std::to_string(5 + i) + " should be " +
                         (classes[i] == 'n' ? "a digit" : "a letter"));
    }
  }
  // 00, 01 and 99 pass mod 97 when 97, 98 and 02 do, but are never issued.
  int check = (id[2] - '0') * 10 + (id[3] - '0');
  if (check < 2 || check > 98) {
    return Invalid(Flaw::kChecksum, name, "check digits 00, 01 and 99 are never issued");
  }
  if (IbanMod97(id) != 1) return Invalid(Flaw::kChecksum, name, "mod-97 check fails");
  if (country->code == "ES") {
    std::string_view ccc = id.substr(4);
    std::string want = CccCheckDigits(ccc);
    if (ccc.substr(8, 2) != want) {
      return Invalid(
          Flaw::kChecksum, name,
          "ccc check digits should be " + want + ", not " + std::string(ccc.substr(8, 2)));
    }
  }
  return Valid();
}

// ---------------------------------------------------------------------------
// CUPS

constexpr std::string_view kCupsPointTypes = "FPRCXYZ";

// "ES" + 16 digits + 2 control letters (+ a border point: a digit and one
// of kCupsPointTypes). The letters: n = the 16 digits mod 529; then
// kDniLetters[n / 23] and kDniLetters[n % 23].
Verdict CheckCups(std::string_view name, std::string_view id) {
  if (id.size() != 20 && id.size() != 22) {
    return Invalid(Flaw::kLength, name,
                   "20 or 22 characters expected, got " + std::to_string(id.size()));
  }
  if (id.substr(0, 2) != "ES") return Invalid(Flaw::kComponent, name, "should start with ES");
  if (!AllDigits(id.substr(2, 16)))
    return Invalid(Flaw::kFormat, name, "16 digits expected after ES");
  if (!IsUpper(id[18]) || !IsUpper(id[19])) {
    return Invalid(Flaw::kFormat, name, "2 control letters expected after the digits");
  }
  if (id.size() == 22) {
    if (!IsDigit(id[20]))
      return Invalid(Flaw::kFormat, name, "border point number should be a digit");
    if (!Contains(kCupsPointTypes, id[21])) {
      return Invalid(Flaw::kFormat, name, "border point type should be one of F, P, R, C, X, Y, Z");
    }
  }
  std::uint64_t n = ToNumber(id.substr(2, 16)) % 529;
  std::string want = {kDniLetters[n / 23], kDniLetters[n % 23]};
  if (id.substr(18, 2) != want) {
    return Invalid(Flaw::kChecksum, name,
                   "control letters should be " + want + ", not " + std::string(id.substr(18, 2)));
  }
  return Valid();
}

// ---------------------------------------------------------------------------
// Ids: canonical form and dispatch

std::string_view KindName(IdKind kind) {
  switch (kind) {
    case IdKind::kDni:
      return "dni";
    case IdKind::kNie:
      return "nie";
    case IdKind::kCif:
      return "cif";
    case IdKind::kNif:
      return "nif";
    case IdKind::kIban:
      return "iban";
    case IdKind::kCcc:
      return "ccc";
    case IdKind::kCups:
      return "cups";
  }
  return "id";
}

bool IsTaxId(IdKind kind) {
  return kind == IdKind::kDni || kind == IdKind::kNie || kind == IdKind::kCif ||
         kind == IdKind::kNif;
}

// An id as read, without separators and prefixes, its letters in the case
// they were read; or why it is no id.
struct Compacted {
  std::string id;
  Flaw flaw = Flaw::kNone;
  const char* why = "";
};

// Each prefix is dropped once; a value that still starts with it is refused,
// so that a canonical form canonicalises to itself.
Compacted CompactId(IdKind kind, std::string_view text) {
  Compacted c;
  static_assert(kMaxIdText == 256, "the reason below names the limit");
  if (text.size() > kMaxIdText) {
    c.flaw = Flaw::kLength;
    c.why = "longer than 256 bytes";
    return c;
  }
  c.id.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    // ':' only for an IBAN, as in "IBAN: ES91 ...".
    if (IsSpace(ch) || ch == '.' || ch == '-' || (ch == ':' && kind == IdKind::kIban)) continue;
    if (IsNbspAt(text, i)) {
      ++i;
      continue;
    }
    if (!IsDigit(ch) && !IsUpper(ch) && !IsLower(ch)) {
      c.flaw = Flaw::kFormat;
      c.why = "only letters, digits and separators may appear";
      return c;
    }
    c.id.push_back(ch);
  }
  // A VAT number is the NIF behind "ES". No NIF starts with "ES" (a CIF's
  // entity letter is followed by digits), so dropping it loses nothing.
  // "IBAN" is the paper form's prefix; no country code is "IB".
  std::string_view prefix = IsTaxId(kind) ? "es" : kind == IdKind::kIban ? "iban" : "";
  if (!prefix.empty() && StartsWithNoCase(c.id, prefix)) {
    c.id.erase(0, prefix.size());
    if (StartsWithNoCase(c.id, prefix)) {
      c.flaw = Flaw::kFormat;
      c.why = IsTaxId(kind) ? "a second ES prefix" : "a second IBAN prefix";
      return c;
    }
  }
  if (c.id.empty()) {
    c.flaw = Flaw::kLength;
    c.why = "empty";
  }
  return c;
}

std::string UpperCase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ToUpper);
  return s;
}

// REQUIRES: `id` is canonical (upper-case letters and digits).
Verdict CheckCanonical(IdKind kind, std::string_view id) {
  std::string_view name = KindName(kind);
  switch (kind) {
    case IdKind::kDni:
      return CheckDni(name, id);
    case IdKind::kNie:
      return CheckNie(name, id);
    case IdKind::kCif:
      return CheckCif(name, id);
    case IdKind::kNif:
      return CheckNif(name, id);
    case IdKind::kIban:
      return CheckIban(name, id);
    case IdKind::kCcc:
      return CheckCcc(name, id);
    case IdKind::kCups:
      return CheckCups(name, id);
  }
  return Invalid(Flaw::kFormat, name, "unknown kind");
}

// ---------------------------------------------------------------------------
// OCR repair

std::optional<char> AsDigit(char c) {
  switch (c) {
    case 'O':
    case 'o':
      return '0';
    case 'I':
    case 'l':
      return '1';
    case 'S':
    case 's':
      return '5';
    case 'B':
      return '8';
    case 'Z':
    case 'z':
      return '2';
    default:
      return std::nullopt;
  }
}

std::optional<char> AsLetter(char c) {
  switch (c) {
    case '0':
      return 'O';
    case '1':
      return 'I';
    case '5':
      return 'S';
    case '8':
      return 'B';
    case '2':
      return 'Z';
    default:
      return std::nullopt;
  }
}

// The letter `c` stands for where a letter is expected; 0 if none.
char LetterAt(char c) {
  if (IsUpper(c) || IsLower(c)) return ToUpper(c);
  return AsLetter(c).value_or('\0');
}

// A format is one class per character: 'd' a digit, 'l' a letter, '*'
// either. Only 'd' and 'l' positions are ever substituted.
std::string CifFormat(std::string_view token) {
  std::string format = "lddddddd*";
  switch (CifControl(LetterAt(token[0]))) {
    case Control::kLetter:
      format[8] = 'l';
      break;
    case Control::kDigit:
      format[8] = 'd';
      break;
    case Control::kEither:
      break;
  }
  return format;
}

// The formats `token` may have been meant in; several for a NIF, since its
// first character decides its rule.
std::vector<std::string> Formats(IdKind kind, std::string_view token) {
  const std::string dni = "ddddddddl";
  const std::string nie = "ldddddddl";  // also a K/L/M NIF
  switch (kind) {
    case IdKind::kDni:
      return {dni};
    case IdKind::kNie:
      return {nie};
    case IdKind::kCif:
      return {CifFormat(token)};
    case IdKind::kNif:
      return {dni, nie, CifFormat(token)};
    case IdKind::kCcc:
      return {std::string(20, 'd')};
    case IdKind::kCups:
      return {"ll" + std::string(16, 'd') + (token.size() == 22 ? "lldl" : "ll")};
    case IdKind::kIban: {
      std::string code = {LetterAt(token[0]), LetterAt(token[1])};
      const IbanCountry* country = FindIbanCountry(code);
      if (country == nullptr) return {};
      std::string format = "lldd";
      for (char c : ExpandBban(country->bban))
        format.push_back(c == 'n' ? 'd' : c == 'a' ? 'l' : '*');
      return {format};
    }
  }
  return {};
}

// The one candidate `token` gives under `format`, with its substitutions;
// nullopt if a character cannot take the class its position wants.
std::optional<Repair> Candidate(std::string_view token, std::string_view format) {
  if (format.size() != token.size()) return std::nullopt;
  Repair r{UpperCase(std::string(token)), {}};
  for (std::size_t i = 0; i < token.size(); ++i) {
    char c = token[i];
    std::optional<char> to;
    if (format[i] == 'd' && !IsDigit(c)) {
      to = AsDigit(c);
    } else if (format[i] == 'l' && IsDigit(c)) {
      to = AsLetter(c);
    } else {
      continue;
    }
    if (!to || r.substitutions.size() == kMaxSubstitutions) return std::nullopt;
    r.value[i] = *to;
    r.substitutions.push_back(Substitution{i, c, *to});
  }
  return r;
}

// ---------------------------------------------------------------------------
// Dates, amounts, periods

constexpr int kPosixPivot = 69;  // 2-digit years: 69-99 are 19yy, 00-68 are 20yy (POSIX %y)

struct MonthName {
  std::string_view name;
  int month;
};

// Spanish names and abbreviations, and English ones (invoices from abroad).
constexpr MonthName kMonthNames[] = {
    {"enero", 1},      {"ene", 1},        {"january", 1},   {"jan", 1},        {"febrero", 2},
    {"feb", 2},        {"february", 2},   {"marzo", 3},     {"mar", 3},        {"march", 3},
    {"abril", 4},      {"abr", 4},        {"april", 4},     {"apr", 4},        {"mayo", 5},
    {"may", 5},        {"junio", 6},      {"jun", 6},       {"june", 6},       {"julio", 7},
    {"jul", 7},        {"july", 7},       {"agosto", 8},    {"ago", 8},        {"august", 8},
    {"aug", 8},        {"septiembre", 9}, {"setiembre", 9}, {"sep", 9},        {"sept", 9},
    {"set", 9},        {"september", 9},  {"octubre", 10},  {"oct", 10},       {"october", 10},
    {"noviembre", 11}, {"nov", 11},       {"november", 11}, {"diciembre", 12}, {"dic", 12},
    {"december", 12},  {"dec", 12},
};

// 1..12, or 0 if `word` (ASCII, any case) names no month.
int MonthFromName(std::string_view word) {
  std::string lower(word);
  std::transform(lower.begin(), lower.end(), lower.begin(), ToLower);
  for (const MonthName& m : kMonthNames) {
    if (m.name == lower) return m.month;
  }
  return 0;
}

// REQUIRES: 1 or 2 digits (a day or month), or 2 or 4 digits (a year).
int ToInt(const std::string& digits) { return static_cast<int>(ToNumber(digits)); }

int ToYear(const std::string& digits) {
  int y = ToInt(digits);
  if (digits.size() == 2) y += y < kPosixPivot ? 2000 : 1900;
  return y;
}

// REQUIRES: 0 <= value < 10^width.
void AppendPadded(std::string& out, int value, int width) {
  std::string digits = std::to_string(value);
  out.append(static_cast<std::size_t>(width) - digits.size(), '0');
  out += digits;
}

std::optional<std::string> FormatDate(int year, int month, int day) {
  if (!IsValidDate(year, month, day)) return std::nullopt;
  std::string out;
  AppendPadded(out, year, 4);
  out += '-';
  AppendPadded(out, month, 2);
  out += '-';
  AppendPadded(out, day, 2);
  return out;
}

std::optional<std::string> FormatPeriod(int year, int month) {
  if (!IsValidDate(year, month, 1)) return std::nullopt;
  std::string out;
  AppendPadded(out, year, 4);
  out += '-';
  AppendPadded(out, month, 2);
  return out;
}

// Patterns are built once and never destroyed; RE2 matches in linear time
// and is safe to share between threads.
const RE2& DayMonthYear() {
  static const RE2* re = new RE2(R"((\d{1,2})\s*([-/.])\s*(\d{1,2})\s*([-/.])\s*(\d{4}|\d{2}))");
  return *re;
}
const RE2& YearMonthDay() {
  static const RE2* re = new RE2(R"((\d{4})\s*([-/.])\s*(\d{1,2})\s*([-/.])\s*(\d{1,2}))");
  return *re;
}
// "12 de marzo de 2024", "1º de marzo del 2024", "12 MAR 2024", "12-mar-24".
const RE2& DayNameYear() {
  static const RE2* re = new RE2(
      R"((?i)(\d{1,2})\s*(?:º|ª|°)?\s*(?:de\s+|[-/.]\s*)?([a-z]{3,10})\.?\s*(?:del?\s+|[-/.,]\s*)?(\d{4}|\d{2}))");
  return *re;
}
// "marzo 2024", "MARZO DE 2024", "mar. 2024", "Marzo-2024".
const RE2& NameYear() {
  static const RE2* re = new RE2(R"((?i)([a-z]{3,10})\.?\s*(?:del?\s+|[-/.,]\s*)?(\d{4}))");
  return *re;
}
const RE2& MonthYear() {
  static const RE2* re = new RE2(R"((\d{1,2})\s*[-/.]\s*(\d{4}))");
  return *re;
}
const RE2& YearMonth() {
  static const RE2* re = new RE2(R"((\d{4})\s*[-/.]\s*(\d{1,2}))");
  return *re;
}

// Strips one of `marks` (lower case) from the front of `s`; true if it did.
bool ConsumePrefix(std::string_view& s, std::initializer_list<std::string_view> marks) {
  for (std::string_view m : marks) {
    if (StartsWithNoCase(s, m)) {
      s = Trim(s.substr(m.size()));
      return true;
    }
  }
  return false;
}

bool ConsumeSuffix(std::string_view& s, std::initializer_list<std::string_view> marks) {
  for (std::string_view m : marks) {
    if (EndsWithNoCase(s, m)) {
      s = Trim(s.substr(0, s.size() - m.size()));
      return true;
    }
  }
  return false;
}

constexpr std::string_view kEuroSign = "\xE2\x82\xAC";   // U+20AC
constexpr std::string_view kMinusSign = "\xE2\x88\x92";  // U+2212

// The digits and separators of an amount: runs of digits, each pair split
// by one separator ('.', ',' or ' ', a no-break space counting as ' ').
struct Numeral {
  std::vector<std::string_view> groups;
  std::vector<char> separators;  // separators[i] is between groups[i] and groups[i + 1]
};

std::optional<Numeral> SplitNumeral(std::string_view s) {
  Numeral n;
  std::size_t i = 0;
  while (true) {
    std::size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return std::nullopt;  // a separator must sit between digits
    n.groups.push_back(s.substr(start, i - start));
    if (i == s.size()) return n;
    if (s[i] == '.' || s[i] == ',' || s[i] == ' ') {
      n.separators.push_back(s[i]);
      ++i;
    } else if (IsNbspAt(s, i)) {
      n.separators.push_back(' ');
      i += 2;
    } else {
      return std::nullopt;
    }
  }
}

// Thousands groups: the first of 1 to 3 digits, not starting with 0, the
// others of exactly 3.
bool IsGrouped(const std::vector<std::string_view>& groups) {
  if (groups.size() == 1) return true;
  if (groups[0].size() > 3 || groups[0][0] == '0') return false;
  return std::all_of(groups.begin() + 1, groups.end(),
                     [](std::string_view g) { return g.size() == 3; });
}

}  // namespace

// ---------------------------------------------------------------------------
// Public functions

Verdict Validate(IdKind kind, std::string_view text) {
  Compacted c = CompactId(kind, text);
  if (c.flaw != Flaw::kNone) return Invalid(c.flaw, KindName(kind), c.why);
  return CheckCanonical(kind, UpperCase(std::move(c.id)));
}

bool IsValidDate(int year, int month, int day) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

std::optional<std::string> CanonicaliseId(IdKind kind, std::string_view text) {
  Compacted c = CompactId(kind, text);
  if (c.flaw != Flaw::kNone) return std::nullopt;
  return UpperCase(std::move(c.id));
}

std::optional<std::string> CanonicaliseDate(std::string_view text) {
  if (text.size() > kMaxShortText) return std::nullopt;
  const std::string spaced = NbspToSpace(Trim(text));
  re2::StringPiece s(spaced);
  std::string a, sep1, b, sep2, c;
  if (RE2::FullMatch(s, DayMonthYear(), &a, &sep1, &b, &sep2, &c)) {
    if (sep1 != sep2) return std::nullopt;  // "12/03-2024": not a date we know
    return FormatDate(ToYear(c), ToInt(b), ToInt(a));
  }
  if (RE2::FullMatch(s, YearMonthDay(), &a, &sep1, &b, &sep2, &c)) {
    if (sep1 != sep2) return std::nullopt;
    return FormatDate(ToInt(a), ToInt(b), ToInt(c));
  }
  if (RE2::FullMatch(s, DayNameYear(), &a, &b, &c)) {
    int month = MonthFromName(b);
    if (month == 0) return std::nullopt;
    return FormatDate(ToYear(c), month, ToInt(a));
  }
  return std::nullopt;
}

std::optional<std::string> CanonicaliseAmount(std::string_view text) {
  if (text.size() > kMaxShortText) return std::nullopt;
  std::string_view s = Trim(text);
  // At most one currency mark (euros only: another currency is not this
  // field's) and one sign, leading or trailing ("12,00-", as SAP prints).
  bool currency = ConsumePrefix(s, {"eur", kEuroSign});
  bool negative = false;
  bool sign = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    sign = true;
    s = Trim(s.substr(1));
  } else if (s.substr(0, kMinusSign.size()) == kMinusSign) {
    negative = sign = true;
    s = Trim(s.substr(kMinusSign.size()));
  }
  if (!currency) currency = ConsumePrefix(s, {"eur", kEuroSign});
  if (!currency) currency = ConsumeSuffix(s, {"euros", "euro", "eur", kEuroSign});
  if (!sign && !s.empty() && s.back() == '-') {
    negative = true;
    s = Trim(s.substr(0, s.size() - 1));
  }

  std::optional<Numeral> n = SplitNumeral(s);
  if (!n) return std::nullopt;
  const auto& seps = n->separators;
  auto count = [&seps](char c) { return std::count(seps.begin(), seps.end(), c); };
  const auto dots = count('.');
  const auto commas = count(',');
  const auto spaces = count(' ');

  // Which separator, if any, is the decimal one. It is always the last.
  bool has_decimal = false;
  if (dots > 0 && commas > 0) {
    // Both marks: the last is the decimal one and appears once.
    char last = seps.back();
    if (last == ' ' || count(last) != 1) return std::nullopt;
    has_decimal = true;
  } else if (commas == 1) {
    if (seps.back() != ',') return std::nullopt;
    has_decimal = true;  // Spanish decimal comma, whatever follows
  } else if (dots == 1) {
    if (seps.back() != '.') return std::nullopt;
    // Spanish convention: "1.234" is a thousand and more. A '.' followed by
    // anything but 3 digits, or after a group that cannot lead thousands
    // ("0.125", "1234.567"), is a decimal point.
    bool thousands = n->groups.back().size() == 3 && IsGrouped(n->groups);
    if (thousands && spaces > 0) return std::nullopt;  // "1 234.567": mixed marks
    has_decimal = !thousands;
  }
  // Otherwise: several '.' or several ',' (thousands), spaces, or no mark.

  std::vector<std::string_view> int_groups = n->groups;
  std::string_view fraction;
  if (has_decimal) {
    fraction = int_groups.back();
    int_groups.pop_back();
  }
  // The remaining separators all group thousands: one kind of mark only.
  std::size_t thousands_seps = int_groups.size() - 1;
  for (std::size_t i = 1; i < thousands_seps; ++i) {
    if (seps[i] != seps[0]) return std::nullopt;
  }
  if (!IsGrouped(int_groups)) return std::nullopt;

  std::string digits;
  for (std::string_view g : int_groups) digits.append(g);
  std::size_t nonzero = digits.find_first_not_of('0');
  digits.erase(0, std::min(nonzero, digits.size() - 1));
  std::string frac(fraction);
  if (frac.size() < 2) frac.append(2 - frac.size(), '0');
  bool zero = digits == "0" && frac.find_first_not_of('0') == std::string::npos;
  return (negative && !zero ? "-" : "") + digits + "." + frac;
}

std::optional<std::string> CanonicalisePeriod(std::string_view text) {
  if (text.size() > kMaxShortText) return std::nullopt;
  const std::string spaced = NbspToSpace(Trim(text));
  re2::StringPiece s(spaced);
  std::string a, b;
  if (RE2::FullMatch(s, NameYear(), &a, &b)) {
    int month = MonthFromName(a);
    if (month == 0) return std::nullopt;
    return FormatPeriod(ToInt(b), month);
  }
  if (RE2::FullMatch(s, MonthYear(), &a, &b)) return FormatPeriod(ToInt(b), ToInt(a));
  if (RE2::FullMatch(s, YearMonth(), &a, &b)) return FormatPeriod(ToInt(a), ToInt(b));
  return std::nullopt;
}

std::optional<Repair> RepairId(IdKind kind, std::string_view text) {
  Compacted c = CompactId(kind, text);
  if (c.flaw != Flaw::kNone) return std::nullopt;
  const std::string& token = c.id;
  std::string canonical = UpperCase(token);
  if (CheckCanonical(kind, canonical).ok()) return Repair{std::move(canonical), {}};
  if (token.size() < 4) return std::nullopt;  // too short for any kind; Formats reads [0], [1]
  std::optional<Repair> found;
  for (const std::string& format : Formats(kind, token)) {
    std::optional<Repair> r = Candidate(token, format);
    if (!r || r->substitutions.empty() || !CheckCanonical(kind, r->value).ok()) continue;
    if (found && found->value != r->value) return std::nullopt;  // ambiguous
    if (!found) found = std::move(r);
  }
  return found;
}

}  // namespace custodia::classify
