// index/xapian_index.cc: the search index on Xapian. The schema (prefixes,
// value slots, folding, stemming) is described in docs/index_schema.md;
// change both together.
#include <functional>
#include <xapian.h>

#include <algorithm>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>

#include "index/index.h"
#include "index/text.h"

namespace custodia::index {
namespace {

// Term prefixes (Xapian's conventions: Q is the unique id term, X starts a
// user-defined prefix).
constexpr char kPrefixId[] = "Q";
constexpr char kPrefixType[] = "XT";
constexpr char kPrefixStatus[] = "XS";
constexpr char kPrefixField[] = "XF";  // XF<name>:<value>
constexpr char kPrefixCase[] = "XC";   // XC<case file id>

// Value slots. Date and amount are reserved for issue 7 (range search and
// sorting) and not written yet.
constexpr Xapian::valueno kSlotIngestMicros = 0;
[[maybe_unused]] constexpr Xapian::valueno kSlotDate = 1;
[[maybe_unused]] constexpr Xapian::valueno kSlotAmount = 2;

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
class FoldedSpanishStemmer : public Xapian::StemImplementation {
 public:
  std::string operator()(const std::string& word) override {
    std::string input = word;
    if (input.size() > 3 && input.ends_with("ion")) {
      input.replace(input.size() - 2, 1, "\xc3\xb3");  // o -> ó
    }
    return Fold(spanish_(input));
  }
  std::string get_description() const override { return "custodia_folded_spanish"; }

 private:
  Xapian::Stem spanish_{"spanish"};
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

}  // namespace

struct Index::Impl {
  std::filesystem::path dir;
  Xapian::WritableDatabase db;
  Xapian::Stem stemmer{new FoldedSpanishStemmer()};

  Xapian::QueryParser Parser() const {
    Xapian::QueryParser parser;
    parser.set_stemmer(stemmer);
    parser.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    // An archivist narrowing a search adds words and expects fewer hits.
    parser.set_default_op(Xapian::Query::OP_AND);
    // Filters: expediente:2024-0001, tipo:factura, estado:review.
    parser.add_boolean_prefix("expediente", kPrefixCase);
    parser.add_boolean_prefix("tipo", kPrefixType);
    parser.add_boolean_prefix("estado", kPrefixStatus);
    return parser;
  }

  // The terms a snippet highlights: those of the parsed query, or, when it
  // does not parse, each word of it, unstemmed and stemmed. Never throws.
  std::set<std::string> QueryTerms(const std::string& query) const {
    std::set<std::string> terms;
    try {
      const Xapian::Query parsed = Parser().parse_query(Fold(query), kParserFlags);
      for (auto it = parsed.get_unique_terms_begin(); it != parsed.get_unique_terms_end(); ++it) {
        terms.insert(*it);
      }
      return terms;
    } catch (const Xapian::Error&) {
    }
    for (const Word& word : SplitWords(query)) {
      terms.insert(word.term);
      terms.insert(Stemmed(word.term));
    }
    return terms;
  }

  // The stemmed term that STEM_SOME makes of `term`.
  std::string Stemmed(const std::string& term) const {
    try {
      return "Z" + stemmer(term);
    } catch (const Xapian::Error&) {
      return std::string();
    }
  }
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

namespace {

// The type, status and field terms of `doc` (all boolean, all prefixed X...).
Status AddLabels(const Doc& doc, const std::string& context, Xapian::Document* xdoc) {
  std::vector<std::string> terms;
  if (!doc.type.empty()) terms.push_back(kPrefixType + doc.type);
  if (!doc.status.empty()) terms.push_back(kPrefixStatus + doc.status);
  for (const auto& [name, value] : doc.fields) {
    if (name.empty() || name.find(':') != std::string::npos) {
      return Fail(Code::kInvalidArgument,
                  "index: " + context + ": bad field name \"" + name + "\"");
    }
    if (value.empty()) continue;
    terms.push_back(kPrefixField + Fold(name) + ":" + value);
  }
  for (const std::string& case_file : doc.case_files) {
    if (!case_file.empty()) terms.push_back(kPrefixCase + case_file);
  }
  for (const std::string& term : terms) {
    if (!TermFits(term)) {
      return Fail(Code::kInvalidArgument,
                  "index: " + context + ": term too long: " + term.substr(0, 40) + "...");
    }
    xdoc->add_boolean_term(term);
  }
  return Ok();
}

}  // namespace

Status Index::Put(const Doc& doc) {
  if (doc.id.empty()) return Fail(Code::kInvalidArgument, "index: document without an id");
  const std::string context = "document " + doc.id;
  const std::string id_term = kPrefixId + doc.id;
  if (!TermFits(id_term)) {
    return Fail(Code::kInvalidArgument, "index: " + context + ": id too long for a term");
  }
  try {
    Xapian::Document xdoc;
    // WARNING: document data is the id and nothing else; the text stays in
    // the vault (issue 7 makes the terms keyed hashes too).
    xdoc.set_data(doc.id);
    xdoc.add_boolean_term(id_term);

    Xapian::TermGenerator generator;
    generator.set_stemmer(impl_->stemmer);
    generator.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    generator.set_document(xdoc);
    generator.index_text(Fold(doc.text));  // with positions, for phrases

    CU_TRY(AddLabels(doc, context, &xdoc));

    xdoc.add_value(kSlotIngestMicros,
                   Xapian::sortable_serialise(static_cast<double>(doc.ingest_micros)));
    impl_->db.replace_document(id_term, xdoc);
  } catch (const Xapian::Error& e) {
    return FromXapian(e, context);
  }
  return Ok();
}

namespace {

// Finds document `id`, removes its terms under `prefixes`, lets `add` put
// the new ones, and stores it again. kNotFound if it is not indexed.
Status ReplaceTerms(Xapian::WritableDatabase& db, const std::string& id,
                    std::initializer_list<const char*> prefixes,
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
    for (const char* prefix : prefixes) {
      auto t = xdoc.termlist_begin();
      t.skip_to(prefix);
      for (; t != xdoc.termlist_end() && (*t).starts_with(prefix); ++t) old.push_back(*t);
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
  return ReplaceTerms(impl_->db, doc.id, {kPrefixType, kPrefixStatus, kPrefixField, kPrefixCase},
                      [&](Xapian::Document* xdoc) { return AddLabels(doc, "document " + doc.id, xdoc); });
}

Status Index::SetCaseFiles(const std::string& id, const std::vector<std::string>& case_files) {
  return ReplaceTerms(impl_->db, id, {kPrefixCase}, [&](Xapian::Document* xdoc) -> Status {
    for (const std::string& case_file : case_files) {
      if (case_file.empty()) continue;
      const std::string term = kPrefixCase + case_file;
      if (!TermFits(term)) {
        return Fail(Code::kInvalidArgument, "index: document " + id + ": case file id too long");
      }
      xdoc->add_boolean_term(term);
    }
    return Ok();
  });
}

Status Index::Commit() {
  try {
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
    return impl_->db.term_exists("Q" + id);
  } catch (const Xapian::Error&) {
    return false;
  }
}

Result<std::vector<Hit>> Index::Search(const std::string& query, int limit) const {
  if (limit <= 0) return Fail(Code::kInvalidArgument, "index: search limit must be positive");
  std::vector<Hit> hits;
  try {
    Xapian::Query parsed;
    try {
      parsed = impl_->Parser().parse_query(Fold(query), kParserFlags);
    } catch (const Xapian::QueryParserError& e) {
      return Fail(Code::kInvalidArgument, "index: bad query \"" + query + "\": " + e.get_msg());
    }
    Xapian::Enquire enquire(impl_->db);
    enquire.set_query(parsed);
    const Xapian::MSet mset = enquire.get_mset(0, static_cast<Xapian::doccount>(limit));
    hits.reserve(mset.size());
    for (auto it = mset.begin(); it != mset.end(); ++it) {
      Hit hit;
      hit.id = it.get_document().get_data();
      hit.rank = static_cast<int>(it.get_rank());
      hit.percent = it.get_percent();
      hit.weight = it.get_weight();
      hits.push_back(std::move(hit));
    }
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "search \"" + query + "\"");
  }
  return hits;
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

  std::vector<bool> matched(words.size(), false);
  std::size_t first = words.size();
  for (std::size_t i = 0; i < words.size(); ++i) {
    matched[i] = terms.count(words[i].term) > 0 || terms.count(impl_->Stemmed(words[i].term)) > 0;
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
