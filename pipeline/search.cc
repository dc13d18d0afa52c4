// pipeline/search.cc: search, similar documents and rebuilding the index.
// The index answers with ids (docs/index_schema.md); the vault gives each
// hit its source and type, and its text for the snippet, a logged read.
#include <cstdio>

#include "pipeline/archive_impl.h"

namespace custodia::pipeline {
namespace {

Result<index::SortBy> ParseSort(const std::string& sort) {
  if (sort == "relevance" || sort == "relevancia") return index::SortBy::kRelevance;
  if (sort == "fecha" || sort == "date") return index::SortBy::kDate;
  if (sort == "importe" || sort == "amount") return index::SortBy::kAmount;
  return Fail(Code::kInvalidArgument,
              "--sort: \"" + sort + "\" is not an order; use relevance, fecha or importe");
}

std::string Amount(std::int64_t cents) {
  char buf[32];
  const char* sign = cents < 0 ? "-" : "";
  const std::int64_t a = cents < 0 ? -cents : cents;
  std::snprintf(buf, sizeof buf, "%s%lld.%02lld", sign, static_cast<long long>(a / 100),
                static_cast<long long>(a % 100));
  return buf;
}

Status NeedKeyedIndex(const index::Index& index) {
  if (index.unlocked()) return Ok();
  return Fail(Code::kPermissionDenied,
              "search needs an archivist: the index is keyed under the archive key, which "
              "auditors do not hold (they verify; they do not read)");
}

// The hits of `result` as people see them: source and type from the vault,
// a snippet of each text when asked (one durable, logged read for all).
Result<SearchPage> ToPage(vault::Vault& vault, const index::Index& index,
                          const index::SearchResult& result, const SearchOptions& options,
                          const std::string& snippet_query, const std::string& purpose) {
  SearchPage page;
  page.matches = result.matches;
  std::vector<std::string> texts;
  if (options.snippets && !result.hits.empty()) {
    std::vector<std::string> ids;
    for (const index::Hit& hit : result.hits) ids.push_back(hit.id);
    CU_ASSIGN_OR_RETURN(texts, vault.ReadTexts(ids, purpose));
  }
  for (std::size_t i = 0; i < result.hits.size(); ++i) {
    const index::Hit& hit = result.hits[i];
    CU_ASSIGN_OR_RETURN(vault::Record record, vault.Find(hit.id));
    SearchHit h;
    h.id = hit.id;
    h.source = record.source;
    h.type = record.type;
    h.status = record.status;
    h.date = hit.date;
    if (hit.has_amount) h.amount = Amount(hit.cents);
    h.rank = hit.rank;
    h.percent = hit.percent;
    if (!texts.empty()) {
      h.snippet = index.Snippet(snippet_query, texts[i], 160, options.mark_start, options.mark_end);
    }
    page.hits.push_back(std::move(h));
  }
  return page;
}

}  // namespace

Result<SearchPage> Archive::Search(const SearchOptions& options) {
  CU_ASSIGN_OR_RETURN(index::SortBy sort, ParseSort(options.sort));
  index::SearchRequest request;
  request.query = options.query;
  request.sort = sort;
  request.ascending = options.ascending;
  request.offset = options.offset;
  request.limit = options.limit;
  request.facets = options.facets;
  std::lock_guard lock(impl_->mu);
  CU_TRY(NeedKeyedIndex(impl_->index));
  CU_ASSIGN_OR_RETURN(index::SearchResult result, impl_->index.Search(request));
  CU_ASSIGN_OR_RETURN(SearchPage page, ToPage(impl_->vault, impl_->index, result, options,
                                              options.query, "search snippet"));
  if (options.facets) {
    page.facets["tipo"] = result.facets.type;
    page.facets["estado"] = result.facets.status;
    page.facets["año"] = result.facets.year;
  }
  return page;
}

Result<SearchPage> Archive::Similar(const std::string& id, const SearchOptions& options) {
  std::lock_guard lock(impl_->mu);
  CU_TRY(NeedKeyedIndex(impl_->index));
  if (auto record = impl_->vault.Find(id); !record) return Unexpected{record.error()};
  CU_ASSIGN_OR_RETURN(index::SearchResult result,
                      impl_->index.Similar(id, options.offset, options.limit));
  return ToPage(impl_->vault, impl_->index, result, options, "", "similar snippet");
}

Result<std::uint64_t> Archive::Rebuild() {
  std::lock_guard lock(impl_->mu);
  return impl_->RebuildLocked();
}

Result<std::uint64_t> Archive::Impl::RebuildLocked() {
  CU_TRY(index.Clear());
  CU_TRY(KeyIndex());
  CU_TRY(index.Commit());
  CU_ASSIGN_OR_RETURN(int count, CatchUpIndexLocked("rebuild"));
  if (index.size() != vault.List().size()) {
    return Fail(Code::kPermissionDenied,
                "rebuild: " + std::to_string(index.size()) + " of " +
                    std::to_string(vault.List().size()) +
                    " documents indexed: reading the texts needs an archivist; log in as one "
                    "and run `custodia rebuild` again");
  }
  return static_cast<std::uint64_t>(count);
}

}  // namespace custodia::pipeline
