// index/xapian_index.cc: the search index on Xapian. The schema (prefixes,
// value slots, folding, stemming, keyed terms) is described in
// docs/index_schema.md; change both together.
#include <xapian.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "index/index.h"
#include "index/keys.h"
#include "index/text.h"

namespace custodia::index {
namespace {

// Term prefixes (Xapian's conventions: Q is the unique id term, X starts a
// user-defined prefix). Everything after a prefix is a keyed hash
// (Keys::Term), except after Q: ids are public (the ledger lists them).
constexpr char kPrefixId[] = "Q";
constexpr char kPrefixType[] = "XT";
constexpr char kPrefixStatus[] = "XS";
constexpr char kPrefixField[] = "XF";  // XF<kind>:<hash of the value>
constexpr char kPrefixCase[] = "XC";
constexpr char kPrefixBatch[] = "XB";
constexpr char kPrefixStation[] = "XN";
constexpr char kPrefixLoan[] = "XL";  // XL<hash of "si"> while on loan
constexpr char kPrefixLanguage[] = "XG";  // XG<hash of "en"> on English text
// The document's date, coarsely, for ranges: decade ("202"), year
// ("2024"), month ("2024-03"); each a keyed hash like every term.
constexpr char kPrefixDecade[] = "XD";
constexpr char kPrefixYear[] = "XY";
constexpr char kPrefixMonth[] = "XM";

// Value slots. 0 and 5 are in clear (the ledger tells both to anyone);
// 1 to 3 are sealed (Keys::Seal). 4 is no longer written.
constexpr Xapian::valueno kSlotIngestMicros = 0;  // sortable_serialise(double)
constexpr Xapian::valueno kSlotDate = 1;          // EncodeSortable(days since 1970-01-01)
constexpr Xapian::valueno kSlotAmount = 2;        // EncodeSortable(cents)
constexpr Xapian::valueno kSlotFacets = 3;        // PackFacets(type, status, year codes)
constexpr Xapian::valueno kSlotVersion = 5;       // EncodeSortable(Doc::version)
// Type and status names as small codes (0: none), kept in the database's
// metadata, sealed: the facets of a document are then one 8-byte value.
constexpr char kMetaFacetNames[] = "custodia.facet-names";
constexpr std::uint32_t kFacetNamesSlot = 100;  // keystream domain of the sealed list

std::int64_t PackFacets(std::uint16_t type, std::uint16_t status, std::uint16_t year) {
  return (static_cast<std::int64_t>(type) << 32) | (static_cast<std::int64_t>(status) << 16) |
         year;
}

// Database metadata: the key check (Keys::Check) and the key epoch.
constexpr char kMetaKeys[] = "custodia.keys";
constexpr char kMetaEpoch[] = "custodia.epoch";
// The term and value encoding (docs/index_schema.md). An index written in
// another one is rebuilt: its terms would silently match nothing.
constexpr char kMetaFormat[] = "custodia.format";
constexpr char kFormat[] = "4";

// Glass refuses longer terms (a zero byte counts twice).
constexpr std::size_t kMaxTermBytes = 245;

constexpr unsigned kParserFlags =
    Xapian::QueryParser::FLAG_PHRASE | Xapian::QueryParser::FLAG_BOOLEAN |
    Xapian::QueryParser::FLAG_LOVEHATE | Xapian::QueryParser::FLAG_BOOLEAN_ANY_CASE;

// The Spanish Snowball stemmer, applied to folded words. Snowball matches
// some suffixes only with their accent: "información" stems to "inform" but
// "informacion" stays whole, so that "informacion" and "informaciones"
// would not meet. Spanish writes every word in -ión with the accent, so the
// accent is put back on a final "ion" before stemming; every other suffix
// stems alike with or without its accent. The result is folded again
// (Snowball keeps ñ; nothing else is accented after stemming).
class FoldedSpanishStemmer {
 public:
  std::string operator()(const std::string& folded) {
    std::string input = folded;
    if (input.size() > 3 && input.ends_with("ion")) {
      input.replace(input.size() - 2, 1, "\xc3\xb3");  // o -> ó
    }
    return Fold(spanish_(input));
  }

 private:
  Xapian::Stem spanish_{"spanish"};
};

// What the TermGenerator and the QueryParser call for every word (STEM_ALL):
// folds (accents; the word comes lower-cased), stems by the rules of one
// language, and hashes. So every text term in the database is a keyed hash
// of a stem, and a query word meets it only through the same key. English
// stems are hashed in a domain of their own ("en" and a separator first), so
// that an English term never meets a Spanish one: a query is parsed once
// per language and each half sees only its language's documents (Parse).
// Words repeat (Zipf), so results are cached; the cache lives in memory only
// and is cleared when it grows.
class HashingStemmer : public Xapian::StemImplementation {
 public:
  HashingStemmer(const Keys* keys, Language language) : keys_(keys), language_(language) {}

  std::string operator()(const std::string& word) override {
    auto it = cache_.find(word);
    if (it != cache_.end()) return it->second;
    if (cache_.size() >= kMaxCached) cache_.clear();
    std::string term = Uncached(word);
    cache_.emplace(word, term);
    return term;
  }
  // The same term, not cached: for Put, which keeps a cache of its own.
  std::string Uncached(const std::string& word) {
    return language_ == Language::kSpanish ? keys_->Term(spanish_(Fold(word)))
                                           : keys_->Term("en\x1f" + english_(Fold(word)));
  }
  std::string get_description() const override {
    return language_ == Language::kSpanish ? "custodia_keyed_spanish" : "custodia_keyed_english";
  }

 private:
  static constexpr std::size_t kMaxCached = 1 << 18;
  const Keys* keys_;
  const Language language_;
  FoldedSpanishStemmer spanish_;
  Xapian::Stem english_{"english"};
  std::unordered_map<std::string, std::string> cache_;
};

// The function words of one language, which the TermGenerator leaves out
// (STOP_ALL: no term, no position) and the QueryParser drops from a query
// that has other words.
class FunctionWords : public Xapian::Stopper {
 public:
  explicit FunctionWords(Language language) : language_(language) {}
  bool operator()(const std::string& word) const override { return IsStopword(language_, word); }

 private:
  Language language_;
};

// `query` with the function words taken out of its phrases: the parser
// keeps them there, and the index holds none, so "factura de la luz" would
// match nothing. The index numbers the positions of the words it keeps
// (factura 1, luz 2), so the phrase of the rest, at distance one, is the
// right one. A phrase of function words only is left as it is (it matches
// nothing). `stop` holds the terms the function words become. Sets
// *changed when it took something out (and only then builds a new query).
Xapian::Query StripFunctionWords(const Xapian::Query& query, const std::set<std::string>& stop,
                                 bool* changed) {
  const std::size_t n = query.get_num_subqueries();
  const Xapian::Query::op op = query.get_type();
  if (n == 0) return query;
  std::vector<Xapian::Query> parts;
  parts.reserve(n);
  if (op == Xapian::Query::OP_PHRASE) {
    for (std::size_t i = 0; i < n; ++i) {
      Xapian::Query part = query.get_subquery(i);
      if (part.get_type() == Xapian::Query::LEAF_TERM &&
          stop.count(*part.get_terms_begin()) > 0) {
        continue;
      }
      parts.push_back(std::move(part));
    }
    if (parts.size() == n || parts.empty()) return query;
    *changed = true;
    if (parts.size() == 1) return parts[0];
    return Xapian::Query(op, parts.begin(), parts.end(),
                         static_cast<Xapian::termcount>(parts.size()));
  }
  // The operators the parser puts above a phrase; any other is kept whole.
  switch (op) {
    case Xapian::Query::OP_AND:
    case Xapian::Query::OP_OR:
    case Xapian::Query::OP_AND_NOT:
    case Xapian::Query::OP_AND_MAYBE:
    case Xapian::Query::OP_FILTER:
      break;
    default:
      return query;
  }
  bool below = false;
  for (std::size_t i = 0; i < n; ++i) {
    parts.push_back(StripFunctionWords(query.get_subquery(i), stop, &below));
  }
  if (!below) return query;
  *changed = true;
  return Xapian::Query(op, parts.begin(), parts.end());
}

Xapian::Query WithoutFunctionWords(const Xapian::Query& query, const std::set<std::string>& stop) {
  bool changed = false;
  return StripFunctionWords(query, stop, &changed);
}

// Hashes the words of a text for the word -> term caches of Put (lookups
// by string_view, so a word is not copied to be looked up).
struct WordHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view word) const {
    return std::hash<std::string_view>{}(word);
  }
};

bool TermFits(const std::string& term) {
  return term.size() + static_cast<std::size_t>(std::count(term.begin(), term.end(), '\0')) <=
         kMaxTermBytes;
}

// Converts a Xapian exception into our error, with `context` first.
Unexpected FromXapian(const Xapian::Error& e, const std::string& context) {
  const std::string message = "index: " + context + ": " + e.get_msg();
  const std::string_view type = e.get_type();
  if (type == "DatabaseLockError") return Fail(Code::kFailedPrecondition, message);
  if (type == "DatabaseNotFoundError") return Fail(Code::kNotFound, message);
  if (type == "DatabaseCorruptError") return Fail(Code::kCorruption, message);
  if (type == "DatabaseVersionError") return Fail(Code::kUnsupported, message);
  if (type == "QueryParserError" || type == "InvalidArgumentError") {
    return Fail(Code::kInvalidArgument, message);
  }
  // Xapian::Error is not polymorphic; its type name tells the family.
  if (type.starts_with("Database")) return Fail(Code::kIo, message);
  return Fail(Code::kInternal, message);
}

// ---- Fields, dates and amounts ----

// The search kind of a field (docs/index_schema.md, "Fields"), "" for a
// field that gets no term: tax ids, IBANs, CUPS and document numbers.
std::string FieldKind(const std::string& type, const std::string& name) {
  if (name == "iban" || name.starts_with("iban_")) return "iban";
  if (name == "nif" || name == "cif" || name == "nie" || name.ends_with("_nif") ||
      name.ends_with("_cif") || (type == "dni" && name == "numero")) {
    return "nif";
  }
  if (name == "cups") return "cups";
  if (name == "numero" || name == "pedido" || name == "referencia") return "numero";
  return "";
}

// The folded value a field term hashes; ids, IBANs and CUPS lose the
// spaces, dots and dashes people type inside them.
std::string CanonicalValue(const std::string& kind, const std::string& value) {
  std::string folded = Fold(value);
  if (kind == "nif" || kind == "iban" || kind == "cups") {
    std::erase_if(folded, [](char c) { return c == ' ' || c == '-' || c == '.'; });
  }
  return folded;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil), and back.
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t y;
  unsigned m;
  unsigned d;
};

Civil CivilFromDays(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return Civil{static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

std::int64_t YearOfDays(std::int64_t z) { return CivilFromDays(z).y; }

// Date range terms cover these years (docs/index_schema.md).
constexpr std::int64_t kFirstYear = 1800;
constexpr std::int64_t kLastYear = 2199;

std::string MonthKey(std::int64_t y, unsigned m) {
  return std::to_string(y) + (m < 10 ? "-0" : "-") + std::to_string(m);
}

bool LeapYear(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && LeapYear(y) ? 29 : kDays[m - 1];
}

std::optional<unsigned> Digits(std::string_view s) {
  unsigned v = 0;
  if (s.empty()) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

// "YYYY", "YYYY-MM" or "YYYY-MM-DD" as days; a partial date is its first
// day, or its last when `last`. nullopt for anything else or a date that
// does not exist.
std::optional<std::int64_t> ParseDate(std::string_view s, bool last) {
  if (s.size() != 4 && s.size() != 7 && s.size() != 10) return std::nullopt;
  auto y = Digits(s.substr(0, 4));
  if (!y) return std::nullopt;
  unsigned m = last ? 12 : 1;
  if (s.size() >= 7) {
    auto mm = s[4] == '-' ? Digits(s.substr(5, 2)) : std::nullopt;
    if (!mm || *mm < 1 || *mm > 12) return std::nullopt;
    m = *mm;
  }
  unsigned d = last ? DaysInMonth(*y, m) : 1;
  if (s.size() == 10) {
    auto dd = s[7] == '-' ? Digits(s.substr(8, 2)) : std::nullopt;
    if (!dd || *dd < 1 || *dd > DaysInMonth(*y, m)) return std::nullopt;
    d = *dd;
  }
  return DaysFromCivil(*y, m, d);
}

// An amount in cents: "1234.56", "1234,56", "1.234,56", "-5", at most two
// decimals. nullopt for anything else.
std::optional<std::int64_t> ParseCents(std::string_view s) {
  std::string t(s);
  if (t.find(',') != std::string::npos) {  // Spanish: '.' groups, ',' decimals
    std::erase(t, '.');
    std::replace(t.begin(), t.end(), ',', '.');
  }
  bool negative = false;
  if (!t.empty() && t[0] == '-') {
    negative = true;
    t.erase(0, 1);
  }
  const std::size_t dot = t.find('.');
  const std::string whole = t.substr(0, dot);
  const std::string frac = dot == std::string::npos ? "" : t.substr(dot + 1);
  if (whole.empty() || whole.size() > 15 || frac.size() > 2) return std::nullopt;
  std::int64_t cents = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    cents = cents * 10 + (c - '0');
  }
  cents *= 100;
  if (!frac.empty()) {
    auto f = Digits(frac);
    if (!f) return std::nullopt;
    cents += frac.size() == 1 ? *f * 10 : *f;
  }
  return negative ? -cents : cents;
}

// The document's date: `fecha`, else the first day of `periodo`.
std::optional<std::int64_t> DocDate(const Doc& doc) {
  if (auto it = doc.fields.find("fecha"); it != doc.fields.end()) {
    if (it->second.size() == 10) return ParseDate(it->second, false);
  }
  if (auto it = doc.fields.find("periodo"); it != doc.fields.end()) {
    if (it->second.size() == 7) return ParseDate(it->second, false);
  }
  return std::nullopt;
}

// The document's amount: total, importe, neto, bruto, the first present.
std::optional<std::int64_t> DocAmount(const Doc& doc) {
  for (const char* name : {"total", "importe", "neto", "bruto"}) {
    if (auto it = doc.fields.find(name); it != doc.fields.end()) {
      if (auto cents = ParseCents(it->second)) return cents;
    }
  }
  return std::nullopt;
}

// ---- Xapian extensions over sealed values ----

// The documents whose sealed value in `slot` is within [lo, hi].
class SealedRangeSource : public Xapian::ValuePostingSource {
 public:
  SealedRangeSource(Xapian::valueno value_slot, std::int64_t lo, std::int64_t hi, const Keys* keys)
      : ValuePostingSource(value_slot), lo_(lo), hi_(hi), keys_(keys) {}

  void init(const Xapian::Database& database) override {
    ValuePostingSource::init(database);
    set_termfreq_min(0);
    set_termfreq_est(get_termfreq_max() / 2);
  }
  void next(double min_wt) override {
    ValuePostingSource::next(min_wt);
    SkipOutOfRange();
  }
  void skip_to(Xapian::docid did, double min_wt) override {
    ValuePostingSource::skip_to(did, min_wt);
    SkipOutOfRange();
  }
  // Inside an AND (a month term, a word), only the documents the other side
  // matches are opened: true at `did` when its value is in range, false
  // ("indeterminate": the next next() or skip_to() moves on) when it is not
  // or `did` has none.
  bool check(Xapian::docid did, double min_wt) override {
    if (!ValuePostingSource::check(did, min_wt)) return false;
    if (at_end()) return true;
    if (get_docid() != did) {
      SkipOutOfRange();
      return true;
    }
    return InRange();
  }
  SealedRangeSource* clone() const override {
    return new SealedRangeSource(get_slot(), lo_, hi_, keys_);
  }
  std::string get_description() const override { return "SealedRangeSource"; }

 private:
  bool InRange() const {
    const std::optional<std::int64_t> n = keys_->OpenSortable(get_slot(), get_value());
    return n && *n >= lo_ && *n <= hi_;
  }
  void SkipOutOfRange() {
    while (!at_end() && !InRange()) ValuePostingSource::next(0);
  }

  std::int64_t lo_;
  std::int64_t hi_;
  const Keys* keys_;
};

// Our processors do not throw through Xapian's parser (an exception there
// leaks the parser's partial state): they note the first problem here and
// match nothing, and Parse turns the note into the error.
void NoteProblem(std::string* problems, const std::string& problem) {
  if (problems->empty()) *problems = problem;
}

// fecha:A..B and importe:A..B, either end open.
class SealedRangeProcessor : public Xapian::RangeProcessor {
 public:
  enum class Kind { kDate, kAmount };
  SealedRangeProcessor(Kind kind, const Keys* keys, std::string* problems)
      : RangeProcessor(kind == Kind::kDate ? kSlotDate : kSlotAmount,
                       kind == Kind::kDate ? "fecha:" : "importe:"),
        kind_(kind),
        keys_(keys),
        problems_(problems) {}

  Xapian::Query operator()(const std::string& begin, const std::string& end) override {
    const std::optional<std::int64_t> lo =
        Bound(begin, false, std::numeric_limits<std::int64_t>::min());
    const std::optional<std::int64_t> hi =
        Bound(end, true, std::numeric_limits<std::int64_t>::max());
    if (!lo || !hi) return Xapian::Query::MatchNothing;
    if (*lo > *hi) {
      NoteProblem(problems_, std::string(Name()) + ": the range " + begin + ".." + end +
                                 " is empty (its start is after its end)");
      return Xapian::Query::MatchNothing;
    }
    if (kind_ == Kind::kDate) return DateQuery(*lo, *hi);
    return Xapian::Query((new SealedRangeSource(slot, *lo, *hi, keys_))->release());
  }

 private:
  const char* Name() const { return kind_ == Kind::kDate ? "fecha" : "importe"; }

  Xapian::Query Term(const char* prefix, const std::string& value) const {
    std::string term = prefix;
    keys_->AppendTerm(value, &term);
    return Xapian::Query(term);
  }

  // Days [lo, hi] as whole decades, years and months (one term each, no
  // value opened) and, at the ends, the days of a partial month (that
  // month's term ANDed with the sealed-value check, so only its documents
  // are opened). Open ends stop at 1800-01-01 and 2199-12-31.
  Xapian::Query DateQuery(std::int64_t lo, std::int64_t hi) const {
    lo = std::max(lo, DaysFromCivil(kFirstYear, 1, 1));
    hi = std::min(hi, DaysFromCivil(kLastYear, 12, 31));
    std::vector<Xapian::Query> parts;
    for (std::int64_t at = lo; at <= hi;) {
      const Civil c = CivilFromDays(at);
      const std::int64_t decade_end = DaysFromCivil(c.y - c.y % 10 + 9, 12, 31);
      const std::int64_t year_end = DaysFromCivil(c.y, 12, 31);
      const std::int64_t month_end = DaysFromCivil(c.y, c.m, DaysInMonth(c.y, c.m));
      if (c.m == 1 && c.d == 1 && c.y % 10 == 0 && decade_end <= hi) {
        parts.push_back(Term(kPrefixDecade, std::to_string(c.y / 10)));
        at = decade_end + 1;
      } else if (c.m == 1 && c.d == 1 && year_end <= hi) {
        parts.push_back(Term(kPrefixYear, std::to_string(c.y)));
        at = year_end + 1;
      } else if (c.d == 1 && month_end <= hi) {
        parts.push_back(Term(kPrefixMonth, MonthKey(c.y, c.m)));
        at = month_end + 1;
      } else {
        const std::int64_t end = std::min(hi, month_end);
        parts.emplace_back(Xapian::Query::OP_AND, Term(kPrefixMonth, MonthKey(c.y, c.m)),
                           Xapian::Query((new SealedRangeSource(slot, at, end, keys_))->release()));
        at = end + 1;
      }
    }
    if (parts.empty()) return Xapian::Query::MatchNothing;
    return Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end());
  }

  std::optional<std::int64_t> Bound(const std::string& s, bool last, std::int64_t open) const {
    if (s.empty()) return open;
    std::optional<std::int64_t> v =
        kind_ == Kind::kDate ? ParseDate(s, last) : ParseCents(s);
    if (!v) {
      NoteProblem(problems_, std::string(Name()) + ": \"" + s + "\" is not " +
                                 (kind_ == Kind::kDate ? "a date (YYYY-MM-DD, YYYY-MM or YYYY)"
                                                       : "an amount (1234.56 or 1.234,56)"));
    }
    return v;
  }

  Kind kind_;
  const Keys* keys_;
  std::string* problems_;
};

// fecha:2024, fecha:2024-03, fecha:2024-03-15, importe:121,00: one date
// (a whole year or month) or one amount, as the range from it to itself.
class SingleValueProcessor : public Xapian::FieldProcessor {
 public:
  SingleValueProcessor(SealedRangeProcessor::Kind kind, const Keys* keys, std::string* problems)
      : range_(kind, keys, problems) {}
  Xapian::Query operator()(const std::string& value) override { return range_(value, value); }

 private:
  SealedRangeProcessor range_;
};

// tipo:, estado:, nif: ... : the term of a folded, canonical value.
class HashedFieldProcessor : public Xapian::FieldProcessor {
 public:
  HashedFieldProcessor(std::string prefix, std::string kind, const Keys* keys)
      : prefix_(std::move(prefix)), kind_(std::move(kind)), keys_(keys) {}
  Xapian::Query operator()(const std::string& value) override {
    std::string term = prefix_;
    keys_->AppendTerm(CanonicalValue(kind_, value), &term);
    return Xapian::Query(term);
  }

 private:
  std::string prefix_;
  std::string kind_;
  const Keys* keys_;
};

// prestado:si / prestado:no.
class LoanFieldProcessor : public Xapian::FieldProcessor {
 public:
  LoanFieldProcessor(const Keys* keys, std::string* problems)
      : keys_(keys), problems_(problems) {}
  Xapian::Query operator()(const std::string& value) override {
    const std::string folded = Fold(value);
    const Xapian::Query on_loan(kPrefixLoan + keys_->Term("si"));
    if (folded == "si") return on_loan;
    if (folded == "no") return Xapian::Query(Xapian::Query::OP_AND_NOT, Xapian::Query::MatchAll, on_loan);
    NoteProblem(problems_, "prestado: use prestado:si or prestado:no, not \"" + value + "\"");
    return Xapian::Query::MatchNothing;
  }

 private:
  const Keys* keys_;
  std::string* problems_;
};

// Orders by a sealed value; documents without one sort first.
class SealedKeyMaker : public Xapian::KeyMaker {
 public:
  SealedKeyMaker(Xapian::valueno slot, const Keys* keys) : slot_(slot), keys_(keys) {}
  std::string operator()(const Xapian::Document& doc) const override {
    const std::optional<std::int64_t> n = keys_->OpenSortable(slot_, doc.get_value(slot_));
    return n ? EncodeSortable(*n) : std::string();
  }

 private:
  Xapian::valueno slot_;
  const Keys* keys_;
};

std::optional<std::int64_t> OpenNumber(const Keys& keys, const Xapian::Document& doc,
                                       Xapian::valueno slot) {
  return keys.OpenSortable(slot, doc.get_value(slot));
}

std::string DateString(std::int64_t days) {
  const Civil c = CivilFromDays(days);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(c.y), c.m, c.d);
  return buf;
}

// Counts types, statuses and years over every matching document: one
// 8-byte value of codes each (slot 3), read without allocating and named
// from the sealed list at the end.
class FacetSpy : public Xapian::MatchSpy {
 public:
  void operator()(const Xapian::Document& doc, double) override {
    value_ = doc.get_value(kSlotFacets);
    const std::int64_t packed = DecodeSortable(value_).value_or(0);
    Bump(type_, static_cast<std::size_t>((packed >> 32) & 0xffff));
    Bump(status_, static_cast<std::size_t>((packed >> 16) & 0xffff));
    Bump(year_, static_cast<std::size_t>(packed & 0xffff));
  }
  // The counts, named from `names` (code -> name; code 0 and unknown
  // codes: "-").
  Facets Take(const std::vector<std::string>& names) const {
    Facets out;
    auto name = [&](std::size_t code) {
      return code > 0 && code < names.size() ? names[code] : std::string("-");
    };
    for (std::size_t c = 0; c < type_.size(); ++c) {
      if (type_[c] > 0) out.type[name(c)] += type_[c];
    }
    for (std::size_t c = 0; c < status_.size(); ++c) {
      if (status_[c] > 0) out.status[name(c)] += status_[c];
    }
    for (std::size_t c = 0; c < year_.size(); ++c) {
      if (year_[c] > 0) out.year[c == 0 ? std::string("sin fecha") : name(c)] += year_[c];
    }
    return out;
  }

 private:
  static void Bump(std::vector<std::uint64_t>& counts, std::size_t code) {
    if (code >= counts.size()) counts.resize(code + 1);
    ++counts[code];
  }

  std::vector<std::uint64_t> type_;
  std::vector<std::uint64_t> status_;
  std::vector<std::uint64_t> year_;  // by code, 0: no date
  std::string value_;                // reused for every document
};

// Relevance feedback keeps only text terms (prefixed terms start with an
// upper-case letter; keyed and plain text terms never do).
class TextTermsOnly : public Xapian::ExpandDecider {
 public:
  bool operator()(const std::string& term) const override {
    return !term.empty() && !(term[0] >= 'A' && term[0] <= 'Z');
  }
};

// A '*' anywhere: Xapian would expand a wildcard over the words in the
// index, and the index holds none.
bool HasWildcard(const std::string& query) { return query.find('*') != std::string::npos; }

}  // namespace

struct Index::Impl {
  std::filesystem::path dir;
  Xapian::WritableDatabase db;
  std::optional<Keys> keys;  // set by Unlock / UsePlainTerms
  // By Language: HashingStemmers over *keys, the function words, and the
  // terms the function words become (for WithoutFunctionWords).
  Xapian::Stem stemmers[2];
  HashingStemmer* hashers[2] = {nullptr, nullptr};  // what stemmers hold (Put's misses)
  const FunctionWords function_words[2] = {FunctionWords(Language::kSpanish),
                                           FunctionWords(Language::kEnglish)};
  std::set<std::string> function_terms[2];
  std::string english_term;  // on documents indexed as English
  // Documents Put since the last Commit, which Put commits every
  // commit_every of (Index::kCommitEvery unless set).
  int uncommitted = 0;
  int commit_every = Index::kCommitEvery;
  // Put cuts a text with CutIndexWords and turns each word into its term
  // through these caches, by Language ("" for a word that makes no term: a
  // function word); the TermGenerator would give the same terms at the
  // same positions (IndexTest.PutIndexesWhatTheTermGeneratorWould) in
  // about twice the instructions (Xapian's add_posting aside). Cleared
  // with the keys.
  std::unordered_map<std::string, std::string, WordHash, std::equal_to<>> word_terms[2];
  std::string words;                     // Put's scratch: the words of a text,
  std::vector<std::uint32_t> word_ends;  // and where each ends
  // Xapian cuts CJK text into n-grams when this is set (and reads it only
  // once, as here); CutIndexWords does not, so Put leaves such a process to
  // the TermGenerator.
  const bool cjk_ngram = [] {
    const char* p = std::getenv("XAPIAN_CJK_NGRAM");
    return p != nullptr && *p != '\0';
  }();
  Xapian::TermGenerator generator;
  // Facet codes: names[code] (names[0] = ""), and back; facet_names_dirty
  // when a name was added since the metadata was last written.
  std::vector<std::string> facet_names{""};
  std::map<std::string, std::uint16_t> facet_codes;
  bool facet_names_dirty = false;

  // Takes the keys and the facet names stored under them. Throws
  // Xapian::Error when the metadata cannot be read (the keys are not kept).
  void SetKeys(Keys k) {
    const std::string stored = db.get_metadata(kMetaFacetNames);
    keys.emplace(std::move(k));
    for (Language language : {Language::kSpanish, Language::kEnglish}) {
      const int l = static_cast<int>(language);
      hashers[l] = new HashingStemmer(&*keys, language);
      stemmers[l] = Xapian::Stem(hashers[l]);  // which owns it
    }
    english_term = kPrefixLanguage + keys->Term("en");
    for (auto& cache : word_terms) cache.clear();
    for (Language language : {Language::kSpanish, Language::kEnglish}) {
      const int l = static_cast<int>(language);
      function_terms[l].clear();
      for (std::string_view word : Stopwords(language)) {
        function_terms[l].insert(stemmers[l](std::string(word)));
      }
    }
    generator.set_stopper_strategy(Xapian::TermGenerator::STOP_ALL);
    generator.set_stemming_strategy(Xapian::TermGenerator::STEM_ALL);
    LoadFacetNames(stored);
  }

  void LoadFacetNames(const std::string& stored) {
    facet_names.assign(1, "");
    facet_codes.clear();
    facet_names_dirty = false;
    if (stored.empty()) return;
    std::string list;
    if (!keys->OpenInto(kFacetNamesSlot, stored, &list)) return;
    std::size_t at = 0;
    while (at <= list.size()) {
      const std::size_t end = std::min(list.find('\n', at), list.size());
      facet_names.push_back(list.substr(at, end - at));
      facet_codes.emplace(facet_names.back(), static_cast<std::uint16_t>(facet_names.size() - 1));
      at = end + 1;
    }
  }

  // The code of a type or status name, adding it when new (0 for "").
  std::uint16_t FacetCode(const std::string& name) {
    if (name.empty()) return 0;
    if (auto it = facet_codes.find(name); it != facet_codes.end()) return it->second;
    if (facet_names.size() >= 0xffff) return 0;
    facet_names.push_back(name);
    const auto code = static_cast<std::uint16_t>(facet_names.size() - 1);
    facet_codes.emplace(name, code);
    facet_names_dirty = true;
    return code;
  }

  // Writes the facet names into the metadata (committed with the
  // documents that use them).
  void SaveFacetNames() {
    if (!facet_names_dirty || !keys) return;
    std::string list;
    for (std::size_t i = 1; i < facet_names.size(); ++i) {
      if (i > 1) list += '\n';
      list += facet_names[i];
    }
    db.set_metadata(kMetaFacetNames, keys->Seal(kFacetNamesSlot, list));
    facet_names_dirty = false;
  }

  // The words of `text` into *xdoc as terms with positions (Put).
  void IndexText(const std::string& text, Language language, Xapian::Document* xdoc);

  Status NeedKeys(const std::string& what) const {
    if (keys) return Ok();
    return Fail(Code::kFailedPrecondition,
                "index: " + what + " needs the index key: log in as a station or archivist");
  }

  // A parser whose processors note problems in *problems.
  Xapian::QueryParser Parser(std::string* problems, Language language) const {
    Xapian::QueryParser parser;
    parser.set_stemmer(stemmers[static_cast<int>(language)]);
    parser.set_stopper(&function_words[static_cast<int>(language)]);
    parser.set_stemming_strategy(Xapian::QueryParser::STEM_ALL);
    // An archivist narrowing a search adds words and expects fewer hits.
    parser.set_default_op(Xapian::Query::OP_AND);
    const Keys* k = &*keys;
    auto field = [&](const char* name, const char* prefix, const char* kind) {
      parser.add_boolean_prefix(name, (new HashedFieldProcessor(prefix, kind, k))->release());
    };
    field("tipo", kPrefixType, "");
    field("estado", kPrefixStatus, "");
    field("expediente", kPrefixCase, "");
    field("lote", kPrefixBatch, "");
    field("puesto", kPrefixStation, "");
    for (const char* kind : {"nif", "iban", "cups", "numero"}) {
      field(kind, (std::string(kPrefixField) + kind + ":").c_str(), kind);
    }
    field("nie", "XFnif:", "nif");
    field("cif", "XFnif:", "nif");
    field("dni", "XFnif:", "nif");
    using Kind = SealedRangeProcessor::Kind;
    parser.add_boolean_prefix("prestado", (new LoanFieldProcessor(k, problems))->release());
    parser.add_boolean_prefix(
        "fecha", (new SingleValueProcessor(Kind::kDate, k, problems))->release());
    parser.add_boolean_prefix(
        "importe", (new SingleValueProcessor(Kind::kAmount, k, problems))->release());
    parser.add_rangeprocessor((new SealedRangeProcessor(Kind::kDate, k, problems))->release());
    parser.add_rangeprocessor((new SealedRangeProcessor(Kind::kAmount, k, problems))->release());
    return parser;
  }

  // The parsed query; kInvalidArgument naming the problem. While the index
  // holds English documents, a query with words is parsed twice, and asks
  // for Spanish documents that match its Spanish stems or English ones that
  // match its English stems: "NOT word" in one language then never lets the
  // other language's documents through.
  Result<Xapian::Query> Parse(const std::string& query) const {
    if (HasWildcard(query)) {
      return Fail(Code::kInvalidArgument,
                  "index: bad query \"" + query +
                      "\": wildcards (*) cannot work here: the index holds keyed hashes of "
                      "words, never the words, so there is nothing to expand; write whole words");
    }
    const std::string folded = Fold(query);
    if (folded.find_first_not_of(" \t\r\n") == std::string::npos) return Xapian::Query::MatchAll;
    std::string problems;
    Xapian::Query parsed;
    try {
      parsed = Parser(&problems, Language::kSpanish).parse_query(folded, kParserFlags);
    } catch (const Xapian::QueryParserError& e) {
      return Fail(Code::kInvalidArgument, "index: bad query \"" + query + "\": " + e.get_msg());
    }
    if (!problems.empty()) {
      return Fail(Code::kInvalidArgument, "index: bad query \"" + query + "\": " + problems);
    }
    try {
      parsed = WithoutFunctionWords(parsed, function_terms[0]);
      if (db.get_termfreq(english_term) == 0) return parsed;
      // The same string parsed once already: this parse cannot fail on it.
      const Xapian::Query english = WithoutFunctionWords(
          Parser(&problems, Language::kEnglish).parse_query(folded, kParserFlags),
          function_terms[1]);
      // Text terms differ between the two (their hash domains do); labels
      // and ranges do not. Without words, one parse serves both languages.
      if (std::equal(parsed.get_unique_terms_begin(), parsed.get_unique_terms_end(),
                     english.get_unique_terms_begin(), english.get_unique_terms_end())) {
        return parsed;
      }
      const Xapian::Query is_english(english_term);
      return Xapian::Query(Xapian::Query::OP_OR,
                           Xapian::Query(Xapian::Query::OP_AND_NOT, parsed, is_english),
                           Xapian::Query(Xapian::Query::OP_FILTER, english, is_english));
    } catch (const Xapian::Error& e) {
      return FromXapian(e, "query \"" + query + "\"");
    }
  }

  // The term a word of a text in `language` becomes.
  std::string TextTerm(const std::string& word, Language language) const {
    try {
      return stemmers[static_cast<int>(language)](word);
    } catch (const Xapian::Error&) {
      return std::string();
    }
  }

  // The terms a snippet highlights: those of the parsed query, or, when it
  // does not parse, each word of it. Never throws.
  std::set<std::string> QueryTerms(const std::string& query) const {
    std::set<std::string> terms;
    if (!keys) return terms;
    if (auto parsed = Parse(query)) {
      for (auto it = parsed->get_unique_terms_begin(); it != parsed->get_unique_terms_end(); ++it) {
        terms.insert(*it);
      }
      return terms;
    }
    for (const Word& word : SplitWords(query)) {
      terms.insert(TextTerm(word.term, Language::kSpanish));
      terms.insert(TextTerm(word.term, Language::kEnglish));
    }
    return terms;
  }

  // Everything but the text terms: labels, field terms, values.
  Status AddLabels(const Doc& doc, Xapian::Document* xdoc);
};

Index::Index(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Index::Index(Index&&) noexcept = default;
Index& Index::operator=(Index&&) noexcept = default;
Index::~Index() = default;

Result<Index> Index::Open(const std::filesystem::path& dir, bool create) {
  const std::string where = dir.string();
  if (create) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Fail(Code::kIo, "index: cannot create " + where + ": " + ec.message());
  }
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  try {
    impl->db =
        Xapian::WritableDatabase(where, create ? Xapian::DB_CREATE_OR_OPEN : Xapian::DB_OPEN);
  } catch (const Xapian::DatabaseLockError&) {
    return Fail(Code::kFailedPrecondition,
                "index: " + where + " is locked by another custodia process");
  } catch (const Xapian::DatabaseNotFoundError&) {
    return Fail(Code::kNotFound, "index: no index in " + where);
  } catch (const Xapian::Error& e) {
    return FromXapian(e, where);
  }
  return Index(std::move(impl));
}

Status Index::Unlock(const KeyView& key) {
  CU_ASSIGN_OR_RETURN(Keys keys, Keys::FromKey(key.bytes));
  try {
    const std::string stored = impl_->db.get_metadata(kMetaKeys);
    const std::string check = keys.Check();
    if (stored.empty()) {
      if (impl_->db.get_doccount() > 0) {
        return Fail(Code::kFailedPrecondition,
                    "index: " + impl_->dir.string() +
                        " holds documents indexed without a key (by an older custodia); "
                        "rebuild it from the vault: custodia rebuild");
      }
      impl_->db.set_metadata(kMetaKeys, check);
      impl_->db.set_metadata(kMetaEpoch, std::to_string(key.epoch));
      impl_->db.set_metadata(kMetaFormat, kFormat);
    } else if (const std::string format = impl_->db.get_metadata(kMetaFormat); format != kFormat) {
      return Fail(Code::kFailedPrecondition,
                  "index: " + impl_->dir.string() + " is in index format " +
                      (format.empty() ? "1" : format) + ", this custodia writes format " +
                      kFormat + "; rebuild it from the vault: custodia rebuild");
    } else if (stored == "plain") {
      return Fail(Code::kFailedPrecondition,
                  "index: " + impl_->dir.string() +
                      " was built with plain terms (a benchmark); rebuild it: custodia rebuild");
    } else if (stored != check) {
      const std::string epoch = impl_->db.get_metadata(kMetaEpoch);
      return Fail(Code::kFailedPrecondition,
                  "index: " + impl_->dir.string() + " was built under key epoch " +
                      (epoch.empty() ? "?" : epoch) + ", not this archive's epoch " +
                      std::to_string(key.epoch) +
                      " (a key rotation that did not finish, or another archive's index); "
                      "rebuild it from the vault: custodia rebuild");
    }
    impl_->SetKeys(std::move(keys));
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "unlock " + impl_->dir.string());
  }
  return Ok();
}

Status Index::UsePlainTerms() {
  try {
    const std::string stored = impl_->db.get_metadata(kMetaKeys);
    if (stored != "plain") {
      if (!stored.empty() || impl_->db.get_doccount() > 0) {
        return Fail(Code::kFailedPrecondition,
                    "index: plain terms only on an empty index: " + impl_->dir.string());
      }
      impl_->db.set_metadata(kMetaKeys, "plain");
      impl_->db.set_metadata(kMetaFormat, kFormat);
    }
    impl_->SetKeys(Keys::Plain());
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "plain terms " + impl_->dir.string());
  }
  return Ok();
}

bool Index::unlocked() const { return impl_->keys.has_value(); }

std::uint32_t Index::epoch() const {
  try {
    const std::string epoch = impl_->db.get_metadata(kMetaEpoch);
    std::uint32_t n = 0;
    std::from_chars(epoch.data(), epoch.data() + epoch.size(), n);
    return n;
  } catch (const Xapian::Error&) {
    return 0;
  }
}

Status Index::Impl::AddLabels(const Doc& doc, Xapian::Document* xdoc) {
  const std::string context = "document " + doc.id;
  std::vector<std::string> terms;
  auto add = [&](const std::string& prefix, const std::string& value) {
    if (value.empty()) return;
    std::string term = prefix;
    keys->AppendTerm(value, &term);
    terms.push_back(std::move(term));
  };
  add(kPrefixType, Fold(doc.type));
  add(kPrefixStatus, Fold(doc.status));
  add(kPrefixStation, Fold(doc.station));
  add(kPrefixBatch, Fold(doc.batch));
  if (doc.on_loan) add(kPrefixLoan, "si");
  for (const auto& [name, value] : doc.fields) {
    if (name.empty() || name.find(':') != std::string::npos) {
      return Fail(Code::kInvalidArgument,
                  "index: " + context + ": bad field name \"" + name + "\"");
    }
    const std::string kind = FieldKind(doc.type, Fold(name));
    if (kind.empty()) continue;
    add(kPrefixField + kind + ":", CanonicalValue(kind, value));
  }
  for (const std::string& case_file : doc.case_files) add(kPrefixCase, Fold(case_file));
  for (const std::string& term : terms) {
    if (!TermFits(term)) {
      return Fail(Code::kInvalidArgument,
                  "index: " + context + ": term too long: " + term.substr(0, 40) + "...");
    }
    xdoc->add_boolean_term(term);
  }
  for (Xapian::valueno slot : {kSlotDate, kSlotAmount, kSlotFacets, kSlotVersion}) {
    xdoc->add_value(slot, std::string());  // an empty value is no value
  }
  const std::optional<std::int64_t> days = DocDate(doc);
  if (days) xdoc->add_value(kSlotDate, keys->Seal(kSlotDate, EncodeSortable(*days)));
  if (days) {
    const Civil c = CivilFromDays(*days);
    for (const auto& [prefix, value] :
         {std::pair{kPrefixDecade, std::to_string(c.y / 10)},
          std::pair{kPrefixYear, std::to_string(c.y)}, std::pair{kPrefixMonth, MonthKey(c.y, c.m)}}) {
      std::string term = prefix;
      keys->AppendTerm(value, &term);
      xdoc->add_boolean_term(term);
    }
  }
  if (auto cents = DocAmount(doc)) {
    xdoc->add_value(kSlotAmount, keys->Seal(kSlotAmount, EncodeSortable(*cents)));
  }
  const std::uint16_t type_code = FacetCode(doc.type);  // codes in the order first seen
  const std::uint16_t status_code = FacetCode(doc.status);
  const std::uint16_t year_code = days ? FacetCode(std::to_string(YearOfDays(*days))) : 0;
  // In clear: codes in the order first seen tell no more than the keyed
  // XT, XS and XY terms' posting lists already do (which documents share a
  // type, a status, a year); their names are sealed in the metadata.
  const std::int64_t facets = PackFacets(type_code, status_code, year_code);
  xdoc->add_value(kSlotFacets, EncodeSortable(facets));
  xdoc->add_value(kSlotVersion, EncodeSortable(static_cast<std::int64_t>(doc.version)));
  // A name new to the index goes into the metadata now, so that whichever
  // commit writes this document (Commit, Put's own, Xapian's flush) writes
  // the name of its facet code too.
  SaveFacetNames();
  return Ok();
}

void Index::Impl::IndexText(const std::string& text, Language language, Xapian::Document* xdoc) {
  const int l = static_cast<int>(language);
  if (cjk_ngram) {
    generator.set_stemmer(stemmers[l]);
    generator.set_stopper(&function_words[l]);
    generator.set_document(*xdoc);
    generator.index_text(text);
    return;
  }
  // What the TermGenerator does with each word under STEM_ALL and
  // STOP_ALL: a word over its 64-byte limit or a function word is left out
  // without taking a position; any other becomes its stemmer's term.
  constexpr std::size_t kMaxWordBytes = 64;
  constexpr std::size_t kMaxCached = 1 << 18;
  auto& cache = word_terms[l];
  CutIndexWords(text, &words, &word_ends);
  Xapian::termpos position = 0;
  std::uint32_t begin = 0;
  for (const std::uint32_t end : word_ends) {
    const std::string_view word(words.data() + begin, end - begin);
    begin = end;
    if (word.size() > kMaxWordBytes) continue;
    auto it = cache.find(word);
    if (it == cache.end()) {
      if (cache.size() >= kMaxCached) cache.clear();
      const std::string w(word);
      it = cache.emplace(w, function_words[l](w) ? std::string() : hashers[l]->Uncached(w)).first;
    }
    if (it->second.empty()) continue;
    xdoc->add_posting(it->second, ++position);
  }
}

Status Index::Put(const Doc& doc) {
  if (doc.id.empty()) return Fail(Code::kInvalidArgument, "index: document without an id");
  CU_TRY(impl_->NeedKeys("indexing"));
  const std::string context = "document " + doc.id;
  const std::string id_term = kPrefixId + doc.id;
  if (!TermFits(id_term)) {
    return Fail(Code::kInvalidArgument, "index: " + context + ": id too long for a term");
  }
  try {
    Xapian::Document xdoc;
    // WARNING: document data is the id and nothing else, and every term but
    // the id is a keyed hash: the index must give no word away.
    xdoc.set_data(doc.id);
    xdoc.add_boolean_term(id_term);
    const Language language = DetectLanguage(doc.text);
    if (language == Language::kEnglish) xdoc.add_boolean_term(impl_->english_term);
    impl_->IndexText(doc.text, language, &xdoc);  // with positions, for phrases
    CU_TRY(impl_->AddLabels(doc, &xdoc));
    xdoc.add_value(kSlotIngestMicros,
                   Xapian::sortable_serialise(static_cast<double>(doc.ingest_micros)));
    impl_->db.replace_document(id_term, xdoc);
  } catch (const Xapian::Error& e) {
    return FromXapian(e, context);
  }
  if (++impl_->uncommitted >= impl_->commit_every) return Commit();
  return Ok();
}

namespace {

// Finds document `id`, removes its terms that `drop` selects, lets `add`
// put the new ones, and stores it again. kNotFound if it is not indexed.
Status ReplaceTerms(Xapian::WritableDatabase& db, const std::string& id,
                    const std::function<bool(const std::string&)>& drop,
                    const std::function<Status(Xapian::Document*)>& add) {
  const std::string context = "document " + id;
  const std::string id_term = kPrefixId + id;
  try {
    Xapian::PostingIterator it = db.postlist_begin(id_term);
    if (it == db.postlist_end(id_term)) {
      return Fail(Code::kNotFound, "index: " + context + " is not indexed");
    }
    Xapian::Document xdoc = db.get_document(*it);
    std::vector<std::string> old;
    for (auto t = xdoc.termlist_begin(); t != xdoc.termlist_end(); ++t) {
      if (drop(*t)) old.push_back(*t);
    }
    for (const std::string& term : old) xdoc.remove_term(term);
    CU_TRY(add(&xdoc));
    db.replace_document(id_term, xdoc);
  } catch (const Xapian::Error& e) {
    return FromXapian(e, context);
  }
  return Ok();
}

}  // namespace

Status Index::Relabel(const Doc& doc) {
  CU_TRY(impl_->NeedKeys("indexing"));
  return ReplaceTerms(
      impl_->db, doc.id, [](const std::string& term) { return term.starts_with("X"); },
      [&](Xapian::Document* xdoc) { return impl_->AddLabels(doc, xdoc); });
}

Status Index::SetBatch(const std::string& id, const std::string& batch,
                       const std::vector<std::string>& case_files, std::uint64_t version) {
  CU_TRY(impl_->NeedKeys("indexing"));
  return ReplaceTerms(
      impl_->db, id,
      [](const std::string& term) {
        return term.starts_with(kPrefixCase) || term.starts_with(kPrefixBatch);
      },
      [&](Xapian::Document* xdoc) -> Status {
        std::vector<std::string> terms;
        for (const std::string& case_file : case_files) {
          if (!case_file.empty()) terms.push_back(kPrefixCase + impl_->keys->Term(Fold(case_file)));
        }
        if (!batch.empty()) terms.push_back(kPrefixBatch + impl_->keys->Term(Fold(batch)));
        for (const std::string& term : terms) xdoc->add_boolean_term(term);
        xdoc->add_value(kSlotVersion, EncodeSortable(static_cast<std::int64_t>(version)));
        return Ok();
      });
}

Status Index::SetLoan(const std::string& id, bool on_loan, std::uint64_t version) {
  CU_TRY(impl_->NeedKeys("indexing"));
  return ReplaceTerms(
      impl_->db, id, [](const std::string& term) { return term.starts_with(kPrefixLoan); },
      [&](Xapian::Document* xdoc) -> Status {
        if (on_loan) xdoc->add_boolean_term(kPrefixLoan + impl_->keys->Term("si"));
        xdoc->add_value(kSlotVersion, EncodeSortable(static_cast<std::int64_t>(version)));
        return Ok();
      });
}

Status Index::Clear() {
  try {
    std::vector<Xapian::docid> ids;
    for (auto it = impl_->db.postlist_begin(""); it != impl_->db.postlist_end(""); ++it) {
      ids.push_back(*it);
    }
    for (Xapian::docid id : ids) impl_->db.delete_document(id);
    impl_->db.set_metadata(kMetaKeys, "");
    impl_->db.set_metadata(kMetaEpoch, "");
    impl_->db.set_metadata(kMetaFormat, "");
    impl_->db.set_metadata(kMetaFacetNames, "");
    impl_->facet_names.assign(1, "");
    impl_->facet_codes.clear();
    impl_->facet_names_dirty = false;
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "clear " + impl_->dir.string());
  }
  impl_->keys.reset();
  // The stemmers hash under the keys just dropped.
  for (Xapian::Stem& stemmer : impl_->stemmers) stemmer = Xapian::Stem();
  for (HashingStemmer*& hasher : impl_->hashers) hasher = nullptr;
  impl_->generator.set_stemmer(Xapian::Stem());
  for (auto& cache : impl_->word_terms) cache.clear();  // terms under those keys
  impl_->english_term.clear();
  for (std::set<std::string>& terms : impl_->function_terms) terms.clear();
  return Ok();
}

void Index::set_commit_every(int documents) { impl_->commit_every = std::max(documents, 1); }

Status Index::Commit() {
  impl_->uncommitted = 0;
  try {
    impl_->SaveFacetNames();
    impl_->db.commit();
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "commit " + impl_->dir.string());
  }
  return Ok();
}

std::uint64_t Index::size() const {
  try {
    return impl_->db.get_doccount();
  } catch (const Xapian::Error&) {
    return 0;
  }
}

bool Index::Contains(const std::string& id) const {
  try {
    return impl_->db.term_exists(kPrefixId + id);
  } catch (const Xapian::Error&) {
    return false;
  }
}

Result<std::map<std::string, std::uint64_t>> Index::Versions() const {
  std::map<std::string, std::uint64_t> out;
  try {
    // Every document in docid order, the version slot's stream alongside,
    // and the document data (the id) of each: sequential reads, not a term
    // lookup and a document fetch per id.
    Xapian::Database& db = impl_->db;
    Xapian::ValueIterator v = db.valuestream_begin(kSlotVersion);
    const Xapian::ValueIterator v_end = db.valuestream_end(kSlotVersion);
    for (auto d = db.postlist_begin(""); d != db.postlist_end(""); ++d) {
      if (v != v_end) v.skip_to(*d);
      std::optional<std::int64_t> version;
      if (v != v_end && v.get_docid() == *d) version = DecodeSortable(*v);
      out.emplace(db.get_document(*d, Xapian::DOC_ASSUME_VALID).get_data(),
                  version ? static_cast<std::uint64_t>(*version) : 0);
    }
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "reading " + impl_->dir.string());
  }
  return out;
}

namespace {

SearchResult ToResult(const Keys& keys, const Xapian::MSet& mset) {
  SearchResult result;
  result.matches = mset.get_matches_estimated();
  for (auto it = mset.begin(); it != mset.end(); ++it) {
    Hit hit;
    const Xapian::Document doc = it.get_document();
    hit.id = doc.get_data();
    if (auto days = OpenNumber(keys, doc, kSlotDate)) hit.date = DateString(*days);
    if (auto cents = OpenNumber(keys, doc, kSlotAmount)) {
      hit.cents = *cents;
      hit.has_amount = true;
    }
    hit.rank = static_cast<int>(it.get_rank());
    hit.percent = it.get_percent();
    hit.weight = it.get_weight();
    result.hits.push_back(std::move(hit));
  }
  return result;
}

Status CheckWindow(int offset, int limit) {
  if (limit <= 0) return Fail(Code::kInvalidArgument, "index: search limit must be positive");
  if (offset < 0) return Fail(Code::kInvalidArgument, "index: search offset must not be negative");
  return Ok();
}

}  // namespace

Result<SearchResult> Index::Search(const SearchRequest& request) const {
  CU_TRY(CheckWindow(request.offset, request.limit));
  CU_TRY(impl_->NeedKeys("searching"));
  CU_ASSIGN_OR_RETURN(Xapian::Query query, impl_->Parse(request.query));
  try {
    Xapian::Enquire enquire(impl_->db);
    enquire.set_query(query);
    const Keys* keys = &*impl_->keys;
    SealedKeyMaker by_date(kSlotDate, keys);
    SealedKeyMaker by_amount(kSlotAmount, keys);
    switch (request.sort) {
      case SortBy::kRelevance:
        // Nothing to rank by: newest first.
        if (query.get_type() == Xapian::Query::LEAF_MATCH_ALL) {
          enquire.set_sort_by_value(kSlotIngestMicros, /*reverse=*/true);
        }
        break;
      case SortBy::kDate:
        enquire.set_sort_by_key_then_relevance(&by_date, !request.ascending);
        break;
      case SortBy::kAmount:
        enquire.set_sort_by_key_then_relevance(&by_amount, !request.ascending);
        break;
    }
    FacetSpy spy;
    Xapian::doccount check_at_least = 0;
    if (request.facets) {
      enquire.add_matchspy(&spy);
      check_at_least = impl_->db.get_doccount();
    }
    const Xapian::MSet mset =
        enquire.get_mset(static_cast<Xapian::doccount>(request.offset),
                         static_cast<Xapian::doccount>(request.limit), check_at_least);
    SearchResult result = ToResult(*keys, mset);
    if (request.facets) result.facets = spy.Take(impl_->facet_names);
    return result;
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "search \"" + request.query + "\"");
  }
}

Result<std::vector<Hit>> Index::Search(const std::string& query, int limit) const {
  SearchRequest request;
  request.query = query;
  request.limit = limit;
  CU_ASSIGN_OR_RETURN(SearchResult result, Search(request));
  return std::move(result.hits);
}

Result<SearchResult> Index::Similar(const std::string& id, int offset, int limit) const {
  CU_TRY(CheckWindow(offset, limit));
  CU_TRY(impl_->NeedKeys("searching"));
  const std::string id_term = kPrefixId + id;
  try {
    Xapian::Database& db = impl_->db;
    Xapian::PostingIterator it = db.postlist_begin(id_term);
    if (it == db.postlist_end(id_term)) {
      return Fail(Code::kNotFound, "index: document " + id + " is not indexed");
    }
    Xapian::RSet rset;
    rset.add_document(*it);
    Xapian::Enquire enquire(db);
    enquire.set_query(Xapian::Query(id_term));
    const TextTermsOnly text_terms;
    const Xapian::ESet eset = enquire.get_eset(40, rset, &text_terms);
    SearchResult result;
    if (eset.empty()) return result;  // a document without text
    std::vector<std::string> terms(eset.begin(), eset.end());
    const Xapian::Query like(Xapian::Query::OP_OR, terms.begin(), terms.end());
    enquire.set_query(Xapian::Query(Xapian::Query::OP_AND_NOT, like, Xapian::Query(id_term)));
    return ToResult(*impl_->keys, enquire.get_mset(static_cast<Xapian::doccount>(offset),
                                     static_cast<Xapian::doccount>(limit)));
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "similar " + id);
  }
}

namespace {

// Builds a snippet: copies text, collapsing every run of white space and
// control characters to one space, and counts the characters it wrote
// (marks excluded).
class SnippetWriter {
 public:
  SnippetWriter(std::string_view text, std::size_t limit) : text_(text), limit_(limit) {}

  std::size_t chars() const { return chars_; }
  std::string Take() { return std::move(out_); }

  // The characters `text[begin, end)` would add, spaces collapsed.
  std::size_t Cost(std::size_t begin, std::size_t end) const {
    std::size_t cost = 0;
    bool space = pending_space_;
    ForEachChar(begin, end, [&](unsigned ch, std::size_t, std::size_t) {
      if (IsSpace(ch)) {
        space = chars_ + cost > 0;
        return true;
      }
      cost += space ? 2 : 1;
      space = false;
      return true;
    });
    return cost;
  }

  // Appends `text[begin, end)`, stopping before the character that would
  // pass the limit. Returns whether all of it fitted.
  bool Append(std::size_t begin, std::size_t end) {
    bool fitted = true;
    ForEachChar(begin, end, [&](unsigned ch, std::size_t b, std::size_t e) {
      if (IsSpace(ch)) {
        pending_space_ = chars_ > 0;
        return true;
      }
      const std::size_t need = pending_space_ ? 2 : 1;
      if (chars_ + need > limit_) {
        fitted = false;
        return false;
      }
      if (pending_space_) out_.push_back(' ');
      pending_space_ = false;
      out_.append(text_.substr(b, e - b));
      chars_ += need;
      return true;
    });
    return fitted;
  }

  void Mark(const std::string& mark) {
    if (pending_space_ && chars_ + 1 <= limit_) {
      out_.push_back(' ');
      ++chars_;
    }
    pending_space_ = false;
    out_ += mark;
  }

 private:
  template <class F>
  void ForEachChar(std::size_t begin, std::size_t end, F f) const {
    Xapian::Utf8Iterator it(text_.data() + begin, end - begin);
    const Xapian::Utf8Iterator stop;
    while (it != stop) {
      const std::size_t b = static_cast<std::size_t>(it.raw() - text_.data());
      const unsigned ch = *it;
      ++it;
      const std::size_t e = it == stop ? end : static_cast<std::size_t>(it.raw() - text_.data());
      if (!f(ch, b, e)) return;
    }
  }

  std::string_view text_;
  std::size_t limit_;
  std::string out_;
  std::size_t chars_ = 0;
  bool pending_space_ = false;
};

// OCR text breaks lines inside sentences, so a single newline is no end;
// a blank line or a page break (form feed) is.
bool EndsSentence(std::string_view gap) {
  return gap.find_first_of(".!?\f") != std::string_view::npos ||
         gap.find("\n\n") != std::string_view::npos;
}

}  // namespace

std::string Index::Snippet(const std::string& query, const std::string& text, int length,
                           const std::string& mark_start, const std::string& mark_end) const {
  if (length <= 0 || text.empty()) return std::string();
  const auto limit = static_cast<std::size_t>(length);
  const std::set<std::string> terms = impl_->QueryTerms(query);
  const std::vector<Word> words = SplitWords(text);
  const Language language = DetectLanguage(text);  // as Put decided

  std::vector<bool> matched(words.size(), false);
  std::size_t first = words.size();
  for (std::size_t i = 0; i < words.size(); ++i) {
    matched[i] = !terms.empty() && terms.count(impl_->TextTerm(words[i].term, language)) > 0;
    if (matched[i] && first == words.size()) first = i;
  }

  SnippetWriter writer(text, limit);
  if (words.empty()) {
    writer.Append(0, text.size());
    return writer.Take();
  }

  // Start at the first match, backed up over whole words to show up to a
  // quarter of the snippet before it, but not past the start of a sentence.
  std::size_t start = 0;
  if (first < words.size()) {
    start = first;
    while (start > 0) {
      const std::string_view gap(text.data() + words[start - 1].end,
                                 words[start].begin - words[start - 1].end);
      if (EndsSentence(gap)) break;
      if (SnippetWriter(text, limit).Cost(words[start - 1].begin, words[first].begin) > limit / 4) {
        break;
      }
      --start;
    }
  }

  // What comes before the first word shown: all of it at the very start of
  // the text, else the punctuation that opens the word ("«Núñez»").
  std::size_t pos = 0;
  if (start > 0) {
    const std::size_t gap_begin = words[start - 1].end;
    pos = words[start].begin;
    std::size_t lead = gap_begin;
    for (Xapian::Utf8Iterator it(text.data() + gap_begin, pos - gap_begin);
         it != Xapian::Utf8Iterator(); ++it) {
      if (!IsSpace(*it)) continue;
      Xapian::Utf8Iterator next = it;
      ++next;
      lead =
          next == Xapian::Utf8Iterator() ? pos : static_cast<std::size_t>(next.raw() - text.data());
    }
    if (writer.Cost(lead, words[start].end) <= limit) pos = lead;
  }
  std::size_t i = start;
  for (; i < words.size(); ++i) {
    const Word& word = words[i];
    const bool first_shown = i == start;
    if (!first_shown && writer.chars() + writer.Cost(pos, word.end) > limit) break;
    writer.Append(pos, word.begin);
    if (matched[i]) writer.Mark(mark_start);
    // Only a first word longer than the whole snippet is cut, and then at a
    // character boundary.
    writer.Append(word.begin, word.end);
    if (matched[i]) writer.Mark(mark_end);
    pos = word.end;
  }
  // Punctuation right after the last word shown (up to the next space).
  const std::size_t next_begin = i < words.size() ? words[i].begin : text.size();
  std::size_t tail = pos;
  for (Xapian::Utf8Iterator it(text.data() + pos, next_begin - pos);
       it != Xapian::Utf8Iterator() && !IsSpace(*it); ++it) {
    Xapian::Utf8Iterator next = it;
    ++next;
    tail = next == Xapian::Utf8Iterator() ? next_begin
                                          : static_cast<std::size_t>(next.raw() - text.data());
  }
  if (tail > pos && writer.chars() + writer.Cost(pos, tail) <= limit) writer.Append(pos, tail);
  return writer.Take();
}

}  // namespace custodia::index
