// index/index.h: the search index, a Xapian database on disk. A projection
// of the vault: it can always be rebuilt from it. Stores document ids only
// as document data; snippets are made by the caller from the vault's text.
#ifndef CUSTODIA_INDEX_INDEX_H_
#define CUSTODIA_INDEX_INDEX_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace custodia::index {

struct Doc {
  std::string id;
  std::string text;  // full text, indexed with Spanish stemming, accents folded
  std::string type;
  std::string status;
  std::string source;
  std::int64_t ingest_micros = 0;
  std::map<std::string, std::string> fields;  // name -> canonical value
  std::vector<std::string> case_files;         // expedientes it is filed in
};

struct Hit {
  std::string id;
  int rank = 0;     // 0-based
  int percent = 0;  // Xapian's relevance percentage
  double weight = 0;
};

class Index {
 public:
  // Opens (creating when `create`) the database in `dir`. kNotFound if it
  // does not exist and !create; kFailedPrecondition if another writer holds it;
  // kIo if it cannot be created, kCorruption if Xapian finds it damaged.
  static Result<Index> Open(const std::filesystem::path& dir, bool create);

  Index(Index&&) noexcept;
  Index& operator=(Index&&) noexcept;
  ~Index();

  // Adds or replaces (by id) one document. Durable, and visible to other
  // processes, after Commit; this Index's own searches may see it before.
  // kInvalidArgument for an empty id, a field name holding ':' or a term
  // too long for Xapian (docs/index_schema.md); nothing is changed then.
  Status Put(const Doc& doc);
  // Replaces the type, status and field terms of document doc.id (a review
  // changed them), keeping its text terms; doc.text is not read. kNotFound
  // if it is not indexed; otherwise as Put.
  Status Relabel(const Doc& doc);
  // Replaces the case-file terms of document `id` (a batch entry filed it),
  // keeping everything else. kNotFound if it is not indexed.
  Status SetCaseFiles(const std::string& id, const std::vector<std::string>& case_files);
  // kIo (or kCorruption) when Xapian cannot write the changes.
  Status Commit();
  // The number of documents, uncommitted ones included.
  std::uint64_t size() const;
  // Whether a document with this id is in the index (uncommitted included).
  bool Contains(const std::string& id) const;

  // Ranked hits for a query in Xapian QueryParser syntax (free text, quoted
  // phrases, AND/OR/NOT, parentheses), Spanish stemming, accents and case
  // folded; words are ANDed by default. At most `limit` hits, best first.
  // kInvalidArgument, with the parser's reason, for a bad query or a
  // non-positive limit.
  Result<std::vector<Hit>> Search(const std::string& query, int limit) const;

  // A snippet of `text` around the words of `query`, with matches (folded
  // and stemmed as in Search) wrapped in `mark_start` / `mark_end`: whole
  // words from the original text, white space collapsed, at most `length`
  // characters (marks not counted), starting near the first match, or at
  // the start of the text when nothing matches. Not HTML-escaped.
  std::string Snippet(const std::string& query, const std::string& text, int length,
                      const std::string& mark_start, const std::string& mark_end) const;

 private:
  struct Impl;
  explicit Index(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Lower-cases and strips accents from UTF-8 text ("Facturación" ->
// "facturacion", "Núñez" -> "nunez"); what the index does to every word and
// query term.
std::string Fold(const std::string& text);

}  // namespace custodia::index

#endif  // CUSTODIA_INDEX_INDEX_H_
