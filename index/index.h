// index/index.h: the search index, a Xapian database on disk. A projection
// of the vault: it can always be rebuilt from it. Stores document ids only
// as document data; snippets are made by the caller from the vault's text.
#ifndef CUSTODIA_INDEX_INDEX_H_
#define CUSTODIA_INDEX_INDEX_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace custodia::index {

struct Doc {
  std::string id;
  std::string text;  // full text, indexed with Spanish stemming, accents folded
  std::string type;
  std::string status;
  std::string source;   // not indexed (a file name can be as telling as the text)
  std::string station;  // who sealed it
  std::string batch;    // source batch id, "" when not ingested as a batch
  std::int64_t ingest_micros = 0;
  std::map<std::string, std::string> fields;  // name -> canonical value
  std::vector<std::string> case_files;         // expedientes it is filed in
  bool on_loan = false;                        // checked out now
  // The ledger's count of events about this document when this view was
  // made (ingest, corrections, check-outs, returns); stored in clear so that
  // `verify`, holding no key, can tell a stale index entry.
  std::uint64_t version = 0;
};

// The key every term and sealed value is derived from (docs/index_schema.md):
// 32 secret bytes, derived by the vault from the archive key of `epoch`.
// Copied into secure memory by Unlock; the caller wipes its own copy.
struct KeyView {
  std::span<const std::uint8_t, 32> bytes;
  std::uint32_t epoch = 0;
};

struct Hit {
  std::string id;
  int rank = 0;     // 0-based, counted from the first hit of the whole result
  int percent = 0;  // Xapian's relevance percentage (0 when sorted by a value)
  double weight = 0;
  std::string date;         // the document's date, YYYY-MM-DD, or ""
  std::int64_t cents = 0;   // its amount in cents, when has_amount
  bool has_amount = false;
};

enum class SortBy { kRelevance, kDate, kAmount };

struct SearchRequest {
  // The query language (docs/index_schema.md, "Query language"): words,
  // "phrases", AND OR NOT ( ), tipo: estado: expediente: nif: iban: numero:
  // cups: lote: puesto: prestado:si|no, fecha:A..B, importe:A..B. Empty
  // matches every document.
  std::string query;
  SortBy sort = SortBy::kRelevance;  // date and amount: newest / largest first
  bool ascending = false;            // for kDate and kAmount only
  int offset = 0;
  int limit = 20;
  bool facets = false;
};

struct Facets {
  std::map<std::string, std::uint64_t> type;    // type -> documents
  std::map<std::string, std::uint64_t> status;  // status -> documents
  std::map<std::string, std::uint64_t> year;    // "2024" (or "sin fecha") -> documents
};

struct SearchResult {
  std::vector<Hit> hits;
  std::uint64_t matches = 0;  // documents matching (exact when facets were asked)
  Facets facets;              // filled when asked
};

class Index {
 public:
  // Opens (creating when `create`) the database in `dir`. kNotFound if it
  // does not exist and !create; kFailedPrecondition if another writer holds it;
  // kIo if it cannot be created, kCorruption if Xapian finds it damaged.
  // Nothing but Contains, size and Versions works before Unlock.
  static Result<Index> Open(const std::filesystem::path& dir, bool create);

  Index(Index&&) noexcept;
  Index& operator=(Index&&) noexcept;
  ~Index();

  // Gives the index its key. An empty index takes the key's epoch; an index
  // built under another epoch's key is kFailedPrecondition ("rebuild the
  // index") and the key is not kept; an index built with plain terms
  // (UsePlainTerms) is kFailedPrecondition too.
  Status Unlock(const KeyView& key);
  // BENCHMARKS ONLY: terms and values in clear instead of keyed hashes, to
  // measure what hashing costs. Only on an empty index; recorded in it, so a
  // keyed Unlock later refuses it.
  Status UsePlainTerms();
  // Whether Unlock (or UsePlainTerms) succeeded.
  bool unlocked() const;
  // The key epoch the index was built under; 0 when empty or plain.
  std::uint32_t epoch() const;

  // Adds or replaces (by id) one document. Durable, and visible to other
  // processes, after Commit; this Index's own searches may see it before.
  // kInvalidArgument for an empty id, a field name holding ':' or a term
  // too long for Xapian (docs/index_schema.md); nothing is changed then.
  // Every kCommitEvery documents Put without a Commit, Put commits (a
  // rebuild, a catch-up): Xapian's own default of 10,000 keeps its pending
  // changes in maps too large for the processor's caches and indexes about
  // a quarter slower (docs/index_bench.md); a failing commit is Put's error.
  Status Put(const Doc& doc);
  static constexpr int kCommitEvery = 2000;
  // Tests and benchmarks: commit every `documents` Puts instead (at least 1).
  void set_commit_every(int documents);
  // Replaces everything but the text terms of document doc.id (a review
  // decision, a check-out, a return, a batch entry changed them); doc.text
  // is not read. kNotFound if it is not indexed; otherwise as Put.
  Status Relabel(const Doc& doc);
  // Replaces the batch and case-file terms of document `id` (a batch entry
  // named it) and its version, keeping everything else. kNotFound if it is
  // not indexed.
  Status SetBatch(const std::string& id, const std::string& batch,
                  const std::vector<std::string>& case_files, std::uint64_t version);
  // Marks document `id` on loan or not (a check-out, a return) and sets its
  // version. kNotFound if it is not indexed.
  Status SetLoan(const std::string& id, bool on_loan, std::uint64_t version);
  // Removes every document (for a rebuild); the key epoch is forgotten.
  Status Clear();
  // kIo (or kCorruption) when Xapian cannot write the changes.
  Status Commit();
  // The number of documents, uncommitted ones included.
  std::uint64_t size() const;
  // Whether a document with this id is in the index (uncommitted included).
  bool Contains(const std::string& id) const;
  // id -> Doc::version of every indexed document (needs no key).
  Result<std::map<std::string, std::uint64_t>> Versions() const;

  // Ranked (or sorted) hits. kInvalidArgument with a reason that names the
  // problem for a malformed query, a wildcard (the index holds no words to
  // expand), a bad range or a non-positive limit or negative offset.
  Result<SearchResult> Search(const SearchRequest& request) const;
  // Old form: request.query = query, limit.
  Result<std::vector<Hit>> Search(const std::string& query, int limit) const;
  // Documents like document `id` (relevance feedback on its text terms),
  // best first, `id` itself left out. kNotFound if it is not indexed.
  Result<SearchResult> Similar(const std::string& id, int offset, int limit) const;

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
