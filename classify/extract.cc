// classify/extract.cc: the label-anchored field extractors of
// classify/extract.h. Each field is a list of rules (a label pattern, the
// section of the document it must lie in, how sure a match is); the first
// rule that reads a value wins. Values go through validate.h. The rules in
// prose: docs/extraction.md.
#include "classify/extract.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

#include "base/result.h"

namespace custodia::classify {
namespace {

// The most text after a label that is read for its value, and the most
// matches of one label that are looked at: both keep hostile input linear.
constexpr std::size_t kMaxValueText = 256;
constexpr int kMaxMatchesPerRule = 32;
// A value on the line after its label, or found by a weaker rule, is less sure.
constexpr double kNextLineFactor = 0.9;
constexpr double kRepairFactor = 0.8;           // per substituted character
constexpr double kConflictFactor = 0.6;         // another label gave another value
// CheckConsistency: a factura's amounts that satisfy both rules.
constexpr double kArithmeticConfidence = 0.9;
constexpr double kArithmeticMinBase = 10;
constexpr std::string_view kArithmeticReason =
    "confirmed by base + iva = total and iva = base x iva_pct";
constexpr double kUnknownWordConfidence = 0.5;  // a value word not among `words`

// ---------------------------------------------------------------------------
// Text

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiAlnum(char c) { return IsDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Strips punctuation that OCR and layout put around a value: "(", ":", "·".
std::string_view StripPunct(std::string_view s) {
  constexpr std::string_view kLead = "([{:;,.'\"|_*";
  constexpr std::string_view kTrail = ")]}:;,.'\"|_*";
  while (!s.empty() && kLead.find(s.front()) != std::string_view::npos) s.remove_prefix(1);
  while (!s.empty() && kTrail.find(s.back()) != std::string_view::npos) s.remove_suffix(1);
  // A trailing middle dot (U+00B7), as in "CIF: B123 · Tel.".
  while (s.size() >= 2 && s[s.size() - 2] == '\xC2' && s.back() == '\xB7') s.remove_suffix(2);
  return s;
}

std::vector<std::string_view> SplitWords(std::string_view s, std::size_t max_words) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < s.size() && words.size() < max_words) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    std::size_t j = i;
    while (j < s.size() && !IsSpace(s[j])) ++j;
    if (j > i) words.push_back(s.substr(i, j - i));
    i = j;
  }
  return words;
}

// The text with line ends made '\n', other control whitespace and no-break
// spaces made ' ', and NUL made ' ', so that every pattern sees one form.
std::string Normalise(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') continue;
      out.push_back('\n');
    } else if (c == '\t' || c == '\f' || c == '\v' || c == '\0') {
      out.push_back(' ');
    } else if (c == '\xC2' && i + 1 < text.size() && text[i + 1] == '\xA0') {
      out.push_back(' ');
      ++i;
    } else {
      out.push_back(c);
    }
  }
  return out;
}


std::string CollapseSpaces(std::string_view s) {
  std::string out;
  for (char c : Trim(s)) {
    if (IsSpace(c)) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::unique_ptr<RE2> Compile(std::string_view pattern) {
  RE2::Options options;
  options.set_case_sensitive(false);
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  CU_CHECK(re->ok());
  return re;
}

// Finds `re` in text[from, to). On success `match` is the whole match and
// `group` (if any) the first group.
bool Find(const RE2& re, std::string_view text, std::size_t from, std::size_t to,
          std::string_view* match, std::string_view* group = nullptr) {
  if (from > to || to > text.size()) return false;
  re2::StringPiece sub[2];
  int n = group != nullptr ? 2 : 1;
  if (re.NumberOfCapturingGroups() < n - 1) n = 1;
  if (!re.Match(re2::StringPiece(text.data(), text.size()), from, to, RE2::UNANCHORED, sub, n)) {
    return false;
  }
  *match = std::string_view(sub[0].data(), sub[0].size());
  if (group != nullptr) {
    *group = n == 2 && sub[1].data() != nullptr ? std::string_view(sub[1].data(), sub[1].size())
                                                : std::string_view();
  }
  return true;
}

// ---------------------------------------------------------------------------
// Values

using Kind = FieldKind;

enum class Pick { kFirst, kLast };

struct Candidate {
  std::string value;
  std::string raw;
  bool valid = false;
  std::string reason;
  std::vector<Substitution> repairs;
  std::size_t offset = 0;  // of `raw` in the text it was read from
  std::string doubt;       // why the value may be wrong although it parses
};

// A value read with a doubt (`Candidate::doubt`) keeps this much of its
// confidence: under any routing threshold, so a person looks at it.
constexpr double kDoubtFactor = 0.5;

// Spanish given names and surnames written with an accent or Ñ. The small
// print of an ID card often comes out of OCR without them (MARTINEZ for
// MARTÍNEZ, PENA for PEÑA). A name read so is doubted, never "repaired":
// PENA and MARTIN are names too, and only a person can tell.
const std::map<std::string, std::string>& AccentedNames() {
  static const auto* names = [] {
    static const char* const kNames[] = {
        // Surnames (the most frequent in Spain with an accent or Ñ).
        "GARCÍA", "FERNÁNDEZ", "GONZÁLEZ", "RODRÍGUEZ", "LÓPEZ", "MARTÍNEZ", "SÁNCHEZ",
        "PÉREZ", "GÓMEZ", "MARTÍN", "JIMÉNEZ", "HERNÁNDEZ", "DÍAZ", "MUÑOZ", "ÁLVAREZ",
        "GUTIÉRREZ", "DOMÍNGUEZ", "VÁZQUEZ", "RAMÍREZ", "SUÁREZ", "MARÍN", "NÚÑEZ",
        "CORTÉS", "MÉNDEZ", "LEÓN", "MÁRQUEZ", "PEÑA", "IBÁÑEZ", "BENÍTEZ", "ROMÁN", "SÁEZ",
        "ORDÓÑEZ", "BERMÚDEZ", "ZÚÑIGA", "ARGÜELLES", "ECHEVARRÍA", "MUÑIZ", "QUIÑONES",
        "BELTRÁN", "VÉLEZ", "CHÁVEZ", "GÁLVEZ", "VELÁZQUEZ", "ESTÉVEZ", "NARVÁEZ",
        "CALDERÓN", "RINCÓN", "PAVÓN", "CHACÓN", "ARAGÓN", "GALÁN", "ROLDÁN", "MILLÁN",
        "DURÁN", "SOLÍS", "RÍOS", "TOMÁS", "SIMÓN", "RAMÓN", "ACUÑA", "YÁÑEZ", "CASTAÑO",
        "AGÜERO", "PATIÑO", "TÉLLEZ", "MONTAÑÉS", "CASTAÑEDA", "CERDÁN", "LUCÍA",
        // Given names.
        "MARÍA", "JOSÉ", "JESÚS", "ÁNGEL", "ÁNGELA", "ÁNGELES", "JOAQUÍN", "MÓNICA",
        "VERÓNICA", "RAÚL", "RUBÉN", "IVÁN", "ADRIÁN", "ANDRÉS", "NICOLÁS", "SEBASTIÁN",
        "MATÍAS", "ÓSCAR", "CÉSAR", "HÉCTOR", "VÍCTOR", "FÉLIX", "ÁLVARO", "INÉS", "ROCÍO",
        "SOFÍA", "JULIÁN", "FABIÁN", "CRISTIÁN", "ELÍAS", "EFRÉN", "ASUNCIÓN", "ENCARNACIÓN",
        "CONCEPCIÓN", "BELÉN", "ÍÑIGO", "FERMÍN", "GERMÁN", "AGUSTÍN", "MAITÉ", "BEGOÑA",
        "ARÁNZAZU", "NOEMÍ", "ZOÉ",
    };
    auto* map = new std::map<std::string, std::string>;
    for (const char* n : kNames) {
      std::string plain;
      for (const char* p = n; *p != 0; ++p) {
        const auto b = static_cast<unsigned char>(*p);
        if (b == 0xC3 && p[1] != 0) {
          switch (static_cast<unsigned char>(*++p)) {
            case 0x81: plain += 'A'; break;
            case 0x89: plain += 'E'; break;
            case 0x8D: plain += 'I'; break;
            case 0x93: plain += 'O'; break;
            case 0x9A: case 0x9C: plain += 'U'; break;
            case 0x91: plain += 'N'; break;
            default: plain += "?"; break;
          }
        } else {
          plain += *p;
        }
      }
      if (plain != n) map->emplace(plain, n);
    }
    return map;
  }();
  return *names;
}

// "PENA may have lost its accent (PEÑA?)" for the first word of `name`
// (upper case) that is a known accented name written without its accent;
// also any surname in -EZ of two syllables or more with no accent at all
// (LOPEZ, MARTINEZ: the Spanish patronymics carry one). "" if none.
std::string LostAccent(std::string_view name) {
  for (std::string_view word : SplitWords(name, 8)) {
    const std::string w(word);
    if (auto it = AccentedNames().find(w); it != AccentedNames().end()) {
      return w + " may have lost its accent (" + it->second + "?)";
    }
    const bool ascii = std::all_of(w.begin(), w.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    const auto vowels = std::count_if(w.begin(), w.end(), [](char c) {
      return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U';
    });
    if (ascii && w.size() >= 5 && w.ends_with("EZ") && vowels >= 2) {
      return w + " may have lost its accent";
    }
  }
  return "";
}

const RE2& DateRe() {
  static const auto* re = Compile(R"(\b(\d{1,2}\s?[/.\-]\s?\d{1,2}\s?[/.\-]\s?\d{2,4})\b)"
                                  R"(|\b(\d{1,2}º?\s+de\s+\pL+\.?\s+del?\s+\d{4})\b)"
                                  R"(|\b(\d{1,2}\s+\pL{3,10}\.?\s+\d{4})\b)"
                                  R"(|\b(\d{4}-\d{1,2}-\d{1,2})\b)"
                                  R"(|\b(\d{2}\s+\d{2}\s+\d{4})\b)"
                                  R"(|\b(\d{8})\b)")
                              .release();
  return *re;
}

std::optional<Candidate> ParseDate(std::string_view rest) {
  re2::StringPiece sub[7];
  if (!DateRe().Match(re2::StringPiece(rest.data(), rest.size()), 0, rest.size(), RE2::UNANCHORED,
                      sub, 7)) {
    return std::nullopt;
  }
  Candidate c;
  c.raw = std::string(sub[0].data(), sub[0].size());
  c.offset = static_cast<std::size_t>(sub[0].data() - rest.data());
  std::string text;
  if (sub[1].data() != nullptr) {
    for (char ch : c.raw) {
      if (!IsSpace(ch)) text.push_back(ch);
    }
  } else if (sub[5].data() != nullptr) {  // "01 05 1958", as an identity card prints it
    for (char ch : CollapseSpaces(c.raw)) text.push_back(ch == ' ' ? '/' : ch);
  } else if (sub[6].data() != nullptr) {
    // "01032031": a card's "01 03 2031" with the spaces lost by OCR. Read
    // as DDMMYYYY, and doubted: the digits could be something else.
    text = c.raw.substr(0, 2) + "/" + c.raw.substr(2, 2) + "/" + c.raw.substr(4);
    c.doubt = "read " + c.raw + " as a date with its spaces lost";
  } else {
    text = CollapseSpaces(c.raw);
  }
  if (auto date = CanonicaliseDate(text)) {
    c.value = *date;
    c.valid = true;
  } else {
    c.value = text;
    c.reason = "not a calendar date: " + c.raw;
  }
  return c;
}

const RE2& AmountRe() {
  static const auto* re = Compile(R"((?:^|[^\d.,])([-−]?\d(?:[\d.,]*\d)?))").release();
  return *re;
}

// OCR splits an amount at its thousands separator: "14. 200,00",
// "38. 050, 00" or "14 200,00" for 14.200,00. Joined again (the space only) when exactly
// three digits and the decimals follow, so "24 200,00" in a list of
// numbers is the one case read wrong either way.
std::string JoinSplitThousands(std::string_view rest) {
  static const auto* re = Compile(R"((\d[.,]?) (\d{3}[.,]) ?(\d{2})\b)").release();
  // ... and after the decimal separator too: "38.050, 00".
  static const auto* cents = Compile(R"((\d[.,]\d{3}[.,]) (\d{2})\b)").release();
  std::string out(rest);
  RE2::GlobalReplace(&out, *re, R"(\1\2\3)");
  RE2::GlobalReplace(&out, *cents, R"(\1\2)");
  return out;
}

std::optional<Candidate> ParseAmount(std::string_view rest_in, Pick pick) {
  const std::string joined = JoinSplitThousands(rest_in);
  const std::string_view rest = joined;
  std::optional<Candidate> found;
  std::size_t pos = 0;
  std::string_view match, group;
  while (Find(AmountRe(), rest, pos, rest.size(), &match, &group)) {
    Candidate c;
    c.raw = std::string(group);
    c.offset = static_cast<std::size_t>(group.data() - rest.data());
    if (auto amount = CanonicaliseAmount(group)) {
      c.value = *amount;
      c.valid = true;
    } else {
      c.value = c.raw;
      c.reason = "not an amount: " + c.raw;
    }
    if (joined.size() != rest_in.size()) {
      c.doubt = "joined an amount OCR split at its thousands";
      // Offsets are into `rest_in`: a join before the amount moved it.
      c.offset = std::min(c.offset, rest_in.size());
    }
    found = std::move(c);
    if (pick == Pick::kFirst) break;
    pos = static_cast<std::size_t>(match.data() - rest.data()) + match.size();
  }
  return found;
}

// Reads an id of `kind` from the words of `rest`: the first word, or the
// first two joined (OCR splits ids). Ids are repaired only when the repair
// validates.
std::optional<Candidate> ParseTaxId(std::string_view rest) {
  auto words = SplitWords(rest, 2);
  if (words.empty()) return std::nullopt;
  std::string first(StripPunct(words[0]));
  std::vector<std::string> tries = {first};
  if (words.size() > 1) tries.push_back(first + std::string(StripPunct(words[1])));
  for (const auto& t : tries) {
    if (auto repair = RepairId(IdKind::kNif, t)) {
      Candidate c;
      c.raw = t;
      c.value = repair->value;
      c.repairs = repair->substitutions;
      c.valid = true;
      c.offset = static_cast<std::size_t>(words[0].data() - rest.data());
      return c;
    }
  }
  // Read but invalid: kept only when it looks like an id (7 to 12 letters
  // and digits, at least 5 of them digits), so that the reviewer sees it.
  std::size_t alnum = 0, digits = 0;
  for (char ch : first) {
    if (IsAsciiAlnum(ch)) ++alnum;
    if (IsDigit(ch)) ++digits;
  }
  if (alnum < 7 || alnum > 12 || digits < 5) return std::nullopt;
  Candidate c;
  c.raw = first;
  c.value = CanonicaliseId(IdKind::kNif, first).value_or(UpperCase(first));
  c.reason = Validate(IdKind::kNif, first).reason;
  c.offset = static_cast<std::size_t>(words[0].data() - rest.data());
  return c;
}

// IBANs and CUPS are printed in groups: the words of `rest` are joined while
// they are letters and digits, and the longest run that validates (repaired
// if need be) wins.
std::optional<Candidate> ParseGrouped(IdKind kind, std::string_view rest) {
  const std::size_t max_len = kind == IdKind::kIban ? 34 : 22;
  const std::size_t min_len = kind == IdKind::kIban ? 15 : 20;
  auto words = SplitWords(rest, 12);
  std::vector<std::size_t> ends;  // compact length after each word
  std::string compact;
  std::size_t raw_end = 0;
  std::vector<std::size_t> raw_ends;
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::string_view w = StripPunct(words[i]);
    if (i == 0 && kind == IdKind::kIban && (w == "IBAN" || w == "iban")) continue;
    if (w.empty() || !std::all_of(w.begin(), w.end(), IsAsciiAlnum)) break;
    if (compact.size() + w.size() > max_len + 4) break;
    compact += w;
    ends.push_back(compact.size());
    raw_end = static_cast<std::size_t>(w.data() - rest.data()) + w.size();
    raw_ends.push_back(raw_end);
  }
  if (compact.size() < min_len) return std::nullopt;
  if (!IsAsciiAlnum(compact[0]) || !IsAsciiAlnum(compact[1])) return std::nullopt;
  std::size_t start =
      static_cast<std::size_t>(std::find_if(rest.begin(), rest.end(), IsAsciiAlnum) - rest.begin());
  for (std::size_t k = ends.size(); k-- > 0;) {
    if (ends[k] < min_len || ends[k] > max_len) continue;
    std::string_view prefix(compact.data(), ends[k]);
    if (auto repair = RepairId(kind, prefix)) {
      Candidate c;
      c.raw = CollapseSpaces(rest.substr(start, raw_ends[k] - start));
      c.value = repair->value;
      c.repairs = repair->substitutions;
      c.valid = true;
      c.offset = start;
      return c;
    }
  }
  // Read but invalid: the longest run that fits the kind.
  std::size_t k = ends.size();
  while (k > 0 && ends[k - 1] > max_len) --k;
  if (k == 0 || ends[k - 1] < min_len) return std::nullopt;
  std::string_view prefix(compact.data(), ends[k - 1]);
  Candidate c;
  c.raw = CollapseSpaces(rest.substr(start, raw_ends[k - 1] - start));
  c.value = CanonicaliseId(kind, prefix).value_or(UpperCase(prefix));
  c.reason = Validate(kind, prefix).reason;
  c.offset = start;
  return c;
}

std::optional<Candidate> ParseRef(std::string_view rest) {
  auto words = SplitWords(rest, 1);
  if (words.empty()) return std::nullopt;
  std::string_view w = StripPunct(words[0]);
  if (w.empty() || w.size() > 40 || !IsAsciiAlnum(w[0])) return std::nullopt;
  bool digit = false;
  for (char ch : w) {
    if (!IsAsciiAlnum(ch) && ch != '/' && ch != '-' && ch != '.' && ch != '_') {
      return std::nullopt;
    }
    digit = digit || IsDigit(ch);
  }
  if (!digit) return std::nullopt;
  Candidate c;
  c.raw = std::string(w);
  c.value = c.raw;
  c.valid = true;
  c.offset = static_cast<std::size_t>(w.data() - rest.data());
  // A number that ends in a separator was cut by OCR ("REC-2022- 932290")
  // or caught a speck ("P20234082-"): joined with the next word when there
  // is one, else the separator dropped; either way a person checks it.
  const char last = w.back();
  if (last == '-' || last == '/' || last == '.' || last == '_') {
    auto two = SplitWords(rest, 2);
    std::string_view next = two.size() > 1 ? StripPunct(two[1]) : std::string_view();
    if (!next.empty() && std::all_of(next.begin(), next.end(), IsAsciiAlnum)) {
      c.raw = std::string(w) + " " + std::string(next);
      c.value = std::string(w) + std::string(next);
      c.doubt = "joined a number OCR split after '" + std::string(1, last) + "'";
    } else {
      c.value = c.raw.substr(0, c.raw.size() - 1);
      c.doubt = "dropped a trailing '" + std::string(1, last) + "'";
    }
  }
  return c;
}

// "(febrero de 2025)", "febrero 2025", "03/2025", or two dates of one month:
// "del 01/02/2025 al 28/02/2025".
std::optional<Candidate> ParsePeriod(std::string_view rest) {
  static const auto* named = Compile(R"(\b(\pL{3,10}\.?\s+(?:del?\s+)?\d{4})\b)").release();
  static const auto* numeric = Compile(R"(\b(\d{1,2}[/.\-]\d{4})\b)").release();
  std::string_view match, group;
  for (const RE2* re : {named, numeric}) {
    std::size_t pos = 0;
    int tries = 0;
    while (tries++ < 8 && Find(*re, rest, pos, rest.size(), &match, &group)) {
      if (auto period = CanonicalisePeriod(group)) {
        Candidate c;
        c.raw = std::string(group);
        c.value = *period;
        c.valid = true;
        c.offset = static_cast<std::size_t>(group.data() - rest.data());
        return c;
      }
      pos = static_cast<std::size_t>(match.data() - rest.data()) + match.size();
    }
  }
  auto first = ParseDate(rest);
  if (!first || !first->valid) return std::nullopt;
  auto second = ParseDate(rest.substr(first->offset + first->raw.size()));
  if (!second || !second->valid || second->value.substr(0, 7) != first->value.substr(0, 7)) {
    return std::nullopt;
  }
  Candidate c;
  c.raw = first->raw;
  c.value = first->value.substr(0, 7);
  c.valid = true;
  c.offset = first->offset;
  return c;
}

std::optional<Candidate> ParsePercent(std::string_view rest) {
  static const auto* re = Compile(R"(^\s*(\d{1,3}(?:[.,]\d{1,2})?)\s*%)").release();
  // "IVA (21 1.132,74": OCR lost the "%)"; a whole rate followed by a space.
  static const auto* bare = Compile(R"(^\s*(\d{1,2})(?:\s|$))").release();
  std::string_view match, group;
  std::string doubt;
  if (!Find(*re, rest, 0, rest.size(), &match, &group)) {
    if (!Find(*bare, rest, 0, rest.size(), &match, &group) || !IsSpanishVatRate(group)) {
      return std::nullopt;
    }
    doubt = "read " + std::string(group) + " as the rate: its % sign is lost";
  }
  Candidate c;
  c.doubt = doubt;
  c.raw = std::string(Trim(match));
  std::string v(group);
  std::replace(v.begin(), v.end(), ',', '.');
  if (v.find('.') != std::string::npos) {
    while (v.back() == '0') v.pop_back();
    if (v.back() == '.') v.pop_back();
  }
  c.value = v;
  c.valid = IsSpanishVatRate(v);
  if (!c.valid) c.reason = v + " is not a Spanish VAT rate";
  c.offset = static_cast<std::size_t>(group.data() - rest.data());
  return c;
}

// A person's name as printed on an identity card: letters, spaces, hyphens
// and apostrophes, in upper case.
Candidate MakeName(std::string_view raw) {
  Candidate c;
  c.raw = CollapseSpaces(raw);
  std::string v = UpperCase(StripPunct(c.raw));
  c.value = v;
  bool ok = v.size() >= 2;
  for (std::size_t i = 0; ok && i < v.size(); ++i) {
    char ch = v[i];
    auto b = static_cast<unsigned char>(ch);
    ok = (ch >= 'A' && ch <= 'Z') || ch == ' ' || ch == '-' || ch == '\'' || b >= 0x80;
  }
  c.valid = ok;
  if (!ok) c.reason = "not a name: " + c.raw;
  return c;
}

std::optional<Candidate> ParseValue(Kind kind, Pick pick, std::string_view rest) {
  switch (kind) {
    case Kind::kDate:
      return ParseDate(rest);
    case Kind::kAmount:
      return ParseAmount(rest, pick);
    case Kind::kTaxId:
      return ParseTaxId(rest);
    case Kind::kIban:
      return ParseGrouped(IdKind::kIban, rest);
    case Kind::kCups:
      return ParseGrouped(IdKind::kCups, rest);
    case Kind::kRef:
      return ParseRef(rest);
    case Kind::kPeriod:
      return ParsePeriod(rest);
    case Kind::kPercent:
      return ParsePercent(rest);
    case Kind::kName: {
      auto words = SplitWords(rest, 8);
      if (words.empty()) return std::nullopt;
      return MakeName(Trim(rest));
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Rules

// A label: the text before a value. `from` and `to` bound the section it
// must lie in (patterns; "" for the start or end of the document). With
// `from` set but not found the rule does not apply: a role is never given
// by position alone. `anchored`: the value must start right after the label.
struct RuleSpec {
  const char* label;
  double confidence = 1.0;
  const char* from = "";
  const char* to = "";
  bool anchored = false;
  const char* unless = "";  // the rule does not apply if the section holds this
};

struct FieldSpec {
  const char* name;
  Kind kind;
  Pick pick;
  std::vector<RuleSpec> rules;
};

struct Rule {
  std::unique_ptr<RE2> label, from, to, unless;
  double confidence;
  bool anchored;
};

struct Field {
  std::string name;
  Kind kind;
  Pick pick;
  std::vector<Rule> rules;
};

struct TypeSpec {
  std::string type;
  std::vector<std::string> names;
  std::vector<Field> fields;
};

// "Nº", "N°", "No.", "Núm.", "Número", and OCR's "N2", "N9": a number mark.
#define CU_NUM \
  R"((?:^|[^\pL\pN])(?:n[uú]mero|n[uú]m\.?|n\s?[º°oª029?*"'^]?\s?\.?)\s*(?:de(?:l)?\s+)?)"
// "CIF", "C.I.F.", "NIF", "N.I.F.", "NIE", "DNI".
#define CU_CIF R"(\bC\.?\s?I\.?\s?F\b\.?)"
#define CU_NIF \
  R"(\b(?:N\.?\s?I\.?\s?F|N\.?\s?[IT]\.?\s?E|D\.?\s?N\.?\s?I)\b\.?(?:\s*/\s*(?:NIF|N[IT]E|CIF))?)"
#define CU_ANY_ID "(?:" CU_CIF "|" CU_NIF ")"
#define CU_TOWN_DATE R"((?m)^\s*En\s+[^,\n]{2,40},\s+a\s+)"

std::vector<FieldSpec> Specs(std::string_view type) {
  using K = Kind;
  const Pick F = Pick::kFirst, L = Pick::kLast;
  if (type == "factura") {
    const char* client = R"(DATOS\s+DEL\s+CLIENTE|(?m)^\s*CLIENTE\b|\bFACTURAR\s+A\b)";
    const char* client_end = R"(\bDescripci[oó]n\b|\bConcepto\b|\bBase\s+imponible\b)";
    return {
        {"numero", K::kRef, F, {{CU_NUM R"(factura\b)"}}},
        {"fecha",
         K::kDate,
         F,
         {{R"(\bfecha\s+(?:de\s+)?(?:factura|emisi[oó]n|expedici[oó]n)\b)"},
          {R"((?m)^\s*fecha\s*[:;.])", 0.9}}},
        {"emisor_cif", K::kTaxId, F, {{CU_ANY_ID, 1.0, "", client}}},
        {"cliente_nif", K::kTaxId, F, {{CU_ANY_ID, 1.0, client, client_end}}},
        {"base", K::kAmount, L, {{R"(\bbase\s+imponible\b)"}}},
        {"iva_pct", K::kPercent, F, {{R"(\bI\.?V\.?A\.?['"`]?\s*\(?)", 1.0, "", "", true}}},
        {"iva", K::kAmount, L, {{R"(\bI\.?V\.?A\b\.?(?:\s*\([^)\n]{0,12}\))?)"}}},
        {"total",
         K::kAmount,
         L,
         {{R"(\btotal\s+(?:factura|a\s+pagar)\b)"},
          {R"((?m)^\s*total\b\s*(?:\(?EUR\)?)?\s*[:;.])", 0.9}}},
        {"iban", K::kIban, F, {{R"(\bIBAN\b)"}}},
    };
  }
  if (type == "dni") {
    return {
        {"numero", K::kTaxId, F, {{R"(\b(?:DNI|NIE|D\.N\.I\.)\b)"}}},
        {"nombre", K::kName, F, {}},     // read by ReadCardNames
        {"apellidos", K::kName, F, {}},  // read by ReadCardNames
        {"nacimiento",
         K::kDate,
         F,
         {{R"(\bfecha[\s:;.\-]*de\s+nacimiento\b(?:\s*/?\s*date\s+of\s+birth)?)"}}},
        {"caducidad",
         K::kDate,
         F,
         {{R"(\bv[aá]lid[oa]\s+hasta\b(?:\s*/?\s*expiry)?)"}, {R"(\bcaducidad\b)", 0.9}}},
    };
  }
  if (type == "justificante_bancario") {
    const char* ordenante = R"(\bDATOS\s+DEL\s+ORDENANTE\b)";
    const char* beneficiario = R"(\bDATOS\s+DEL\s+BENEFICIARIO\b)";
    return {
        {"fecha",
         K::kDate,
         F,
         {{R"(\bfecha\s+(?:de\s+(?:la\s+)?)?operaci[oó]n\b)"},
          {R"(\bfecha\s+(?:de\s+)?(?:emisi[oó]n|ejecuci[oó]n)\b)", 0.9},
          {R"((?m)^\s*fecha\s*[:;.])", 0.9}}},
        {"importe",
         K::kAmount,
         F,
         {{R"((?m)^\s*importe\s*[:;.])", 1.0, "", "", true},
          {R"((?m)^\s*importe\s+(?:de\s+la\s+)?(?:transferencia|operaci[oó]n|ordenado)\b)", 1.0, "",
           "", true},
          {R"((?m)^\s*importe\b)", 0.9, "", "", true}}},
        {"iban_ordenante",
         K::kIban,
         F,
         {{R"(\bcuenta\s+(?:de\s+)?cargo\b(?:\s*\(?\s*IBAN\s*\)?)?)"},
          {R"(\bIBAN\b)", 0.9, ordenante, beneficiario}}},
        {"iban_beneficiario",
         K::kIban,
         F,
         {{R"(\bcuenta\s+(?:de\s+)?abono\b(?:\s*\(?\s*IBAN\s*\)?)?)"},
          {R"(\bIBAN\b)", 0.9, beneficiario, R"(\bDETALLE\b|\bIMPORTE\b)"}}},
        {"referencia", K::kRef, F, {{CU_NUM R"(referencia\b)"}, {R"(\breferencia\b)", 0.9}}},
    };
  }
  if (type == "nomina") {
    const char* worker = R"(\btrabajador(?:/a|a)?\b)";
    const char* worker_end = R"(\bper[ií]odo\b|\bDEVENGOS\b)";
    return {
        {"empresa_cif", K::kTaxId, F, {{CU_ANY_ID, 1.0, "", worker}}},
        {"trabajador_nif", K::kTaxId, F, {{CU_ANY_ID, 1.0, worker, worker_end}}},
        {"periodo", K::kPeriod, F, {{R"(\bper[ií]odo(?:\s+de\s+liquidaci[oó]n)?\b)"}}},
        {"bruto",
         K::kAmount,
         L,
         {{R"(\btotal\s+devengado\b)"}, {R"(\b(?:salario|total)\s+bruto\b)", 0.9}}},
        {"neto",
         K::kAmount,
         L,
         {{R"(\bl[ií]quido\s+(?:total\s+)?a\s+percibir\b(?:\s*\(\s*A\s*-\s*B\s*\))?)"},
          {R"(\b(?:salario|total)\s+neto\b|\bneto\s+a\s+percibir\b)", 0.9}}},
        {"iban", K::kIban, F, {{R"(\bIBAN\b)"}}},
    };
  }
  if (type == "contrato") {
    const char* first = R"(\bde\s+una\s+parte\b)";
    const char* prestador = R"(\ben\s+adelante,?\s+(?:el|la)\s+PRESTADOR(?:A)?\b)";
    const char* second = R"(\bde\s+otra\s+parte\b)";
    const char* cliente = R"(\ben\s+adelante,?\s+(?:el|la)\s+CLIENTE\b)";
    return {
        {"fecha",
         K::kDate,
         F,
         {{CU_TOWN_DATE, 1.0, "", "", true}, {R"(\bfecha\s*(?:del\s+contrato)?\s*:)", 0.9}}},
        {"prestador_cif", K::kTaxId, F, {{CU_CIF, 1.0, first, prestador}}},
        {"cliente_nif",
         K::kTaxId,
         F,
         {{CU_CIF, 1.0, second, cliente},
          {CU_NIF, 1.0, second, cliente, false, R"(\brepresentaci[oó]n\b)"}}},
        {"importe",
         K::kAmount,
         F,
         {{R"(\basciende\s+a\b)", 1.0, "", "", true},
          {R"(\b(?:precio|importe)(?:\s+total)?\s*:)", 0.9, "", "", true}}},
    };
  }
  if (type == "reclamacion") {
    const char* reclamante = R"(\bDATOS\s+DEL\s+RECLAMANTE\b)";
    const char* suministro = R"(\bDATOS\s+DEL\s+SUMINISTRO\b)";
    return {
        {"numero", K::kRef, F, {{CU_NUM R"(reclamaci[oó]n\b)"}}},
        {"fecha",
         K::kDate,
         F,
         {{R"((?m)^\s*fecha(?:\s+de\s+(?:la\s+)?reclamaci[oó]n)?\s*[:;.]?)", 1.0, "", "", true},
          {CU_TOWN_DATE, 0.9, "", "", true}}},
        {"reclamante_nif", K::kTaxId, F, {{CU_NIF, 1.0, reclamante, suministro}, {CU_NIF, 0.8}}},
        {"cups", K::kCups, F, {{R"(\bCUPS\b)"}}},
    };
  }
  if (type == "albaran") {
    const char* client = R"((?m)^\s*cliente\b|\bDATOS\s+DEL\s+CLIENTE\b|\bdestinatario\b)";
    return {
        {"numero", K::kRef, F, {{CU_NUM R"(albar[aá]n\b)"}}},
        {"pedido",
         K::kRef,
         F,
         {{R"(\b(?:su\s+)?pedido(?:\s+(?:n[uú]mero|n[uú]m\.?|n\s?(?:[º°oª029?*"'^e]|®)?\.?))?)"},
          {CU_NUM R"(pedido\b)"}}},
        {"fecha",
         K::kDate,
         F,
         {{R"((?m)^\s*fecha(?:\s+de\s+(?:entrega|albar[aá]n|emisi[oó]n))?\s*[:;.]?)", 1.0, "", "",
           true}}},
        {"emisor_cif", K::kTaxId, F, {{CU_ANY_ID, 1.0, "", client}}},
    };
  }
  return {};
}

#undef CU_NUM
#undef CU_CIF
#undef CU_NIF
#undef CU_ANY_ID
#undef CU_TOWN_DATE

std::unique_ptr<RE2> CompileOrNull(const char* pattern) {
  if (pattern == nullptr || *pattern == '\0') return nullptr;
  return Compile(pattern);
}

const std::vector<TypeSpec>& Types() {
  static const auto* types = [] {
    auto* out = new std::vector<TypeSpec>;
    for (const char* type : {"factura", "dni", "justificante_bancario", "nomina", "contrato",
                             "reclamacion", "albaran"}) {
      TypeSpec t;
      t.type = type;
      for (auto& f : Specs(type)) {
        Field field{f.name, f.kind, f.pick, {}};
        for (const auto& r : f.rules) {
          // After a label: an optional colon (OCR may drop it or read ';' '.').
          std::string label = std::string("(?:") + r.label + R"()\s*[:;.]?[ \t]*)";
          field.rules.push_back(Rule{Compile(label), CompileOrNull(r.from), CompileOrNull(r.to),
                                     CompileOrNull(r.unless), r.confidence, r.anchored});
        }
        t.names.push_back(f.name);
        t.fields.push_back(std::move(field));
      }
      out->push_back(std::move(t));
    }
    return out;
  }();
  return *types;
}

const TypeSpec* FindType(std::string_view type) {
  for (const auto& t : Types()) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// Matching

// The value text after a label that ends at `pos`: the rest of its line (at
// most kMaxValueText bytes), or the next non-blank line (within two) when the
// rest is blank. `next_line` says which.
std::string_view ValueText(std::string_view text, std::size_t pos, bool* next_line) {
  *next_line = false;
  auto line_at = [&](std::size_t p) {
    std::size_t limit = std::min(text.size(), p + kMaxValueText);
    const void* nl = std::memchr(text.data() + p, '\n', limit - p);
    std::size_t end = nl != nullptr
                          ? static_cast<std::size_t>(static_cast<const char*>(nl) - text.data())
                          : limit;
    return std::pair<std::string_view, bool>(text.substr(p, end - p),
                                             nl != nullptr);  // complete line?
  };
  // A line with no letter or digit ("-", ":", a speck OCR read as ".") holds
  // no value: the value is on a line after it.
  auto blank = [](std::string_view line) {
    return std::none_of(line.begin(), line.end(), [](char c) {
      const auto b = static_cast<unsigned char>(c);
      return std::isalnum(b) != 0 || b >= 0x80;
    });
  };
  auto [rest, complete] = line_at(pos);
  if (!blank(rest) || !complete) return rest;
  std::size_t p = pos + rest.size() + 1;
  for (int skip = 0; skip < 3 && p < text.size(); ++skip) {
    auto [line, ok] = line_at(p);
    if (!blank(line)) {
      *next_line = true;
      return line;
    }
    if (!ok) break;
    p += line.size() + 1;
  }
  return {};
}

struct Found {
  Candidate candidate;
  double confidence = 1.0;
  std::vector<std::string> why;  // why the confidence is below the rule's
};

class WordIndex {
 public:
  explicit WordIndex(const std::vector<WordConfidence>& words) {
    double sum = 0;
    for (const auto& w : words) {
      std::string key(StripPunct(w.text));
      if (key.empty()) continue;
      float conf = std::clamp(w.confidence, 0.0F, 100.0F);
      auto [it, inserted] = min_.emplace(std::move(key), conf);
      if (!inserted) it->second = std::min(it->second, conf);
      sum += conf;
    }
    empty_ = words.empty();
    mean_ = words.empty() ? 100.0 : sum / static_cast<double>(words.size());
  }

  // The OCR confidence (0..1) of the words that make `raw`: the least of
  // them. A word OCR did not give as such (split or merged) counts as
  // kUnknownWordConfidence of the page's mean.
  double Confidence(std::string_view raw) const {
    if (empty_) return 1.0;
    double least = 1.0;
    for (auto w : SplitWords(raw, 16)) {
      std::string key(StripPunct(w));
      if (key.empty()) continue;
      auto it = min_.find(key);
      double c = it != min_.end() ? it->second / 100.0 : kUnknownWordConfidence * mean_ / 100.0;
      least = std::min(least, c);
    }
    return least;
  }

 private:
  std::unordered_map<std::string, float> min_;
  double mean_ = 100;
  bool empty_ = true;
};

// Applies the rules of `field` to `text`; the first rule that reads a value
// wins. Returns nullopt, with the reason in `note`, when none does.
std::optional<Found> ReadField(const Field& field, std::string_view text, std::string* note) {
  bool label_seen = false;
  bool section_missing = false;
  for (const auto& rule : field.rules) {
    std::size_t begin = 0, end = text.size();
    std::string_view m;
    if (rule.from != nullptr) {
      if (!Find(*rule.from, text, 0, text.size(), &m)) {
        section_missing = true;
        continue;
      }
      begin = static_cast<std::size_t>(m.data() - text.data()) + m.size();
    }
    if (rule.to != nullptr && Find(*rule.to, text, begin, text.size(), &m)) {
      end = static_cast<std::size_t>(m.data() - text.data());
    }
    if (rule.unless != nullptr && Find(*rule.unless, text, begin, end, &m)) continue;
    std::vector<Found> found;
    std::size_t pos = begin;
    for (int n = 0; n < kMaxMatchesPerRule && Find(*rule.label, text, pos, end, &m); ++n) {
      label_seen = true;
      std::size_t after = static_cast<std::size_t>(m.data() - text.data()) + m.size();
      pos = after > pos ? after : pos + 1;
      bool next_line = false;
      std::string_view rest = ValueText(text, after, &next_line);
      auto c = ParseValue(field.kind, field.pick, rest);
      if (!c) continue;
      if (rule.anchored && !Trim(rest.substr(0, c->offset)).empty()) continue;
      Found f{std::move(*c), rule.confidence, {}};
      if (next_line) {
        f.confidence *= kNextLineFactor;
        f.why.push_back("value on the line after its label");
      }
      found.push_back(std::move(f));
    }
    if (found.empty()) continue;
    // The first valid reading wins; another valid reading of a different
    // value lowers the confidence and is named.
    auto best =
        std::find_if(found.begin(), found.end(), [](const Found& f) { return f.candidate.valid; });
    if (best == found.end()) best = found.begin();
    Found out = *best;
    for (const auto& f : found) {
      if (f.candidate.valid && f.candidate.value != out.candidate.value) {
        out.confidence *= kConflictFactor;
        out.why.push_back("another label reads " + f.candidate.value);
        break;
      }
    }
    return out;
  }
  if (section_missing && !label_seen) {
    *note = field.name + ": its section was not found";
  } else if (label_seen) {
    *note = field.name + ": label found, but no value could be read after it";
  } else {
    *note = field.name + ": no label found";
  }
  return std::nullopt;
}

// The names of an identity card: "APELLIDOS / SURNAMES" over one or two
// lines of surnames, "NOMBRE / NAME" over the given name.
void ReadCardNames(std::string_view text, std::map<std::string, Found>* out,
                   std::vector<std::string>* notes) {
  // OCR reads the card's slash as "I", "l", "|", "1" or a backslash now
  // and then.
  static const auto* surnames =
      Compile(R"((?m)^[ \t]*apellidos\b(?:\s*[/|\\il1]?\s*surnames?\b)?[ \t]*:?[ \t]*)")
          .release();
  static const auto* name =
      Compile(R"((?m)^[ \t]*nombre\b(?:\s*[/|\\il1]?\s*name\b)?[ \t]*:?[ \t]*)").release();
  static const auto* label_line =
      Compile(R"(^\s*(?:nombre|name|sexo|sex|fecha|apellidos)\b)").release();
  std::string_view m;
  if (Find(*surnames, text, 0, text.size(), &m)) {
    std::size_t after = static_cast<std::size_t>(m.data() - text.data()) + m.size();
    bool next_line = false;
    std::string_view first = ValueText(text, after, &next_line);
    std::string_view tmp;
    if (!Trim(first).empty() && !Find(*label_line, first, 0, first.size(), &tmp)) {
      std::string joined(Trim(first));
      // A second surname on the next line, unless that line is a label.
      std::size_t p = static_cast<std::size_t>(first.data() - text.data()) + first.size();
      if (p < text.size()) {
        bool unused = false;
        std::string_view second = ValueText(text, p, &unused);
        if (Trim(second).empty() && p + 1 <= text.size()) {
          second = ValueText(text, p + 1, &unused);
        }
        if (!Trim(second).empty() && !Find(*label_line, second, 0, second.size(), &tmp) &&
            SplitWords(second, 4).size() <= 3) {
          joined += " ";
          joined += Trim(second);
        }
      }
      Found f{MakeName(joined), next_line ? kNextLineFactor : 1.0, {}};
      if (next_line) f.why.push_back("value on the line after its label");
      (*out)["apellidos"] = std::move(f);
    } else {
      notes->push_back("apellidos: label found, but no value could be read after it");
    }
  } else {
    notes->push_back("apellidos: no label found");
  }
  if (Find(*name, text, 0, text.size(), &m)) {
    std::size_t after = static_cast<std::size_t>(m.data() - text.data()) + m.size();
    bool next_line = false;
    std::string_view line = ValueText(text, after, &next_line);
    std::string_view tmp;
    if (!Trim(line).empty() && !Find(*label_line, line, 0, line.size(), &tmp)) {
      Found f{MakeName(line), next_line ? kNextLineFactor : 1.0, {}};
      if (next_line) f.why.push_back("value on the line after its label");
      (*out)["nombre"] = std::move(f);
    } else {
      notes->push_back("nombre: label found, but no value could be read after it");
    }
  } else {
    notes->push_back("nombre: no label found");
  }
}

// The number of an identity card from its machine-readable zone when no
// "DNI"/"NIE" label gave it: line 1 of a TD1 MRZ is "IDESP" (or "IRESP"),
// 9 characters of support number, a check digit, then the number.
std::optional<Found> ReadMrzNumber(std::string_view text) {
  static const auto* re = Compile(R"((?m)^\s*I[DR]ESP[A-Z0-9<]{10}([A-Z0-9]{9})<)").release();
  std::string_view m, group;
  if (!Find(*re, text, 0, text.size(), &m, &group)) return std::nullopt;
  auto repair = RepairId(IdKind::kNif, group);
  if (!repair) return std::nullopt;
  Candidate c;
  c.raw = std::string(group);
  c.value = repair->value;
  c.repairs = repair->substitutions;
  c.valid = true;
  return Found{std::move(c), 0.8, {"read from the machine-readable zone"}};
}

std::optional<double> ToDouble(const std::string& s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string Cents(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace

const std::vector<std::string>& FieldNames(std::string_view type) {
  static const std::vector<std::string> kNone;
  const TypeSpec* t = FindType(type);
  return t != nullptr ? t->names : kNone;
}

std::optional<FieldKind> KindOf(std::string_view type, std::string_view field) {
  const TypeSpec* t = FindType(type);
  if (t == nullptr) return std::nullopt;
  for (const auto& f : t->fields) {
    if (f.name == field) return f.kind;
  }
  return std::nullopt;
}

// ASCII upper case, and the Latin-1 lower-case letters (á é í ó ú ñ ü ...,
// U+00E0..U+00FE but not U+00F7) in their upper-case form.
std::string UpperCase(std::string_view s) {
  std::string out(s);
  for (std::size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    if (c >= 'a' && c <= 'z') {
      out[i] = static_cast<char>(c - 'a' + 'A');
    } else if (c == '\xC3' && i + 1 < out.size()) {
      auto b = static_cast<unsigned char>(out[i + 1]);
      if (b >= 0xA0 && b <= 0xBE && b != 0xB7) out[i + 1] = static_cast<char>(b - 0x20);
      ++i;
    }
  }
  return out;
}

bool IsSpanishVatRate(std::string_view pct) {
  for (std::string_view r : {"0", "4", "5", "7", "8", "10", "16", "18", "21"}) {
    if (pct == r) return true;
  }
  return false;
}

Extraction ExtractFields(std::string_view type, std::string_view text,
                         const std::vector<WordConfidence>& words) {
  Extraction out;
  const TypeSpec* spec = FindType(type);
  if (spec == nullptr) return out;
  const std::string doc = Normalise(text);
  const WordIndex index(words);
  std::map<std::string, Found> found;
  std::vector<std::string> notes;
  if (spec->type == "dni") ReadCardNames(doc, &found, &notes);
  for (const auto& field : spec->fields) {
    if (field.rules.empty()) continue;
    std::string note;
    auto f = ReadField(field, doc, &note);
    if (!f && spec->type == "dni" && field.name == "numero") {
      f = ReadMrzNumber(doc);
      if (f) note.clear();
    }
    if (f) {
      found[field.name] = std::move(*f);
    } else {
      notes.push_back(note);
    }
  }
  for (auto& [name, f] : found) {
    ExtractedField e;
    e.value = f.candidate.value;
    e.raw = f.candidate.raw;
    e.valid = f.candidate.valid;
    e.repairs = f.candidate.repairs;
    double confidence = f.confidence * index.Confidence(e.raw);
    if (index.Confidence(e.raw) < 0.8) f.why.push_back("OCR is unsure of its words");
    // OCR of names drops accents: doubted, not guessed (text layers are exact).
    if (f.candidate.doubt.empty() && e.valid && !words.empty() &&
        (name == "nombre" || name == "apellidos")) {
      f.candidate.doubt = LostAccent(e.value);
    }
    if (!f.candidate.doubt.empty()) {
      e.doubted = true;
      confidence *= kDoubtFactor;
      f.why.push_back(f.candidate.doubt);
    }
    if (!e.repairs.empty()) {
      confidence *= std::pow(kRepairFactor, static_cast<double>(e.repairs.size()));
      f.why.push_back("repaired " + std::to_string(e.repairs.size()) + " OCR confusion" +
                      (e.repairs.size() > 1 ? "s" : ""));
    }
    e.confidence = std::clamp(confidence, 0.0, 1.0);
    if (!e.valid) {
      // Named once: a validator of the same name ("iban: mod-97 check
      // fails") already says it.
      const std::string& why = f.candidate.reason;
      e.reason = why.starts_with(name + ": ") ? why : name + ": " + why;
    } else {
      for (const auto& w : f.why) e.reason += (e.reason.empty() ? "" : "; ") + w;
    }
    out.fields[name] = std::move(e);
  }
  for (const auto& name : spec->names) {
    if (out.fields.count(name) == 0) out.missing.push_back(name);
  }
  out.notes = std::move(notes);
  for (auto& problem : CheckConsistency(type, &out.fields)) out.notes.push_back(std::move(problem));
  return out;
}

std::vector<std::string> CheckConsistency(std::string_view type,
                                          std::map<std::string, ExtractedField>* fields) {
  std::vector<std::string> problems;
  auto number = [&](const char* name) -> std::optional<double> {
    auto it = fields->find(name);
    if (it == fields->end() || !it->second.valid) return std::nullopt;
    return ToDouble(it->second.value);
  };
  struct Broken {
    std::vector<const char*> names;
    std::string reason;
  };
  std::vector<Broken> broken;
  constexpr double kTolerance = 0.01 + 1e-9;
  if (type == "factura") {
    auto base = number("base"), iva = number("iva"), total = number("total");
    auto pct = number("iva_pct");
    if (base && iva && total && std::fabs(*base + *iva - *total) > kTolerance) {
      broken.push_back(
          {{"base", "iva", "total"},
           "factura: base + iva is " + Cents(*base + *iva) + ", not total " + Cents(*total)});
    }
    if (base && iva && pct && std::fabs(*base * *pct / 100 - *iva) > kTolerance) {
      broken.push_back({{"base", "iva_pct", "iva"},
                        "factura: base x iva_pct / 100 is " + Cents(*base * *pct / 100) +
                            ", not iva " + Cents(*iva)});
    }
    if (base && iva && total && pct && broken.empty() && *base >= kArithmeticMinBase) {
      for (const char* name : {"base", "iva", "total", "iva_pct"}) {
        ExtractedField& f = (*fields)[name];
        if (f.confidence >= kArithmeticConfidence) continue;
        f.confidence = kArithmeticConfidence;
        if (f.reason.find(kArithmeticReason) == std::string::npos) {
          f.reason += (f.reason.empty() ? "" : "; ") + std::string(kArithmeticReason);
        }
      }
    }
  } else if (type == "nomina") {
    auto bruto = number("bruto"), neto = number("neto");
    if (bruto && neto && *neto > *bruto + 1e-9) {
      broken.push_back({{"bruto", "neto"},
                        "nomina: neto " + Cents(*neto) + " is more than bruto " + Cents(*bruto)});
    }
  }
  for (const auto& b : broken) {
    for (const char* name : b.names) {
      auto& f = (*fields)[name];
      f.valid = false;
      f.reason = f.reason.empty() ? b.reason : f.reason + "; " + b.reason;
    }
    problems.push_back(b.reason);
  }
  return problems;
}

}  // namespace custodia::classify
