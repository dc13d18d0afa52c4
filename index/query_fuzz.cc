// index/query_fuzz.cc: libFuzzer target over what an archivist types into
// `custodia search` and what the index makes of a document's text: the
// query parser with custodia's processors (filters, date and amount ranges,
// function words, the two languages), the search on a small keyed index,
// snippets, folding and word splitting, language detection. The input's
// first line is the query, the rest a text. Any bytes must give a result
// or a clear error, never a crash, a hang or a leak (issue 8). Built with
// -DCU_FUZZ=ON (clang); run by scripts/fuzz.sh.
#include <stdlib.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <system_error>
#include <string>
#include <string_view>

#include "index/index.h"
#include "index/text.h"

using namespace custodia::index;

namespace {

std::string* temp_dir = nullptr;

void RemoveTempDir() {
  std::error_code ec;
  if (temp_dir != nullptr) std::filesystem::remove_all(*temp_dir, ec);
}

// One index for the whole run, in a fresh temporary directory (removed at
// exit), holding a Spanish and an English document so that queries run
// both parses.
Index& TheIndex() {
  static Index* index = [] {
    temp_dir = new std::string(
        (std::filesystem::temp_directory_path() / "custodia-query-fuzz-XXXXXX").string());
    if (::mkdtemp(temp_dir->data()) == nullptr) ::abort();
    std::atexit(RemoveTempDir);
    auto opened = Index::Open(std::filesystem::path(*temp_dir) / "index", /*create=*/true);
    if (!opened) ::abort();
    static std::array<std::uint8_t, 32> key;
    key.fill(0x5a);
    if (!opened->Unlock(KeyView{std::span<const std::uint8_t, 32>(key), 1})) ::abort();
    Doc es;
    es.id = "D000001";
    es.type = "factura";
    es.status = "auto";
    es.text = "Factura FAC-2024-001 de la luz de Castilla-La Mancha, total 1.234,56 EUR";
    es.fields = {{"numero", "FAC-2024-001"}, {"fecha", "2024-03-12"}, {"total", "1234.56"},
                 {"cliente_nif", "12345678Z"}};
    Doc en;
    en.id = "D000002";
    en.type = "contrato";
    en.status = "review";
    en.text = "The contract for the supply of gas to the office is signed by both parties";
    en.fields = {{"fecha", "2023-01-31"}, {"importe", "99.00"}};
    if (!opened->Put(es) || !opened->Put(en) || !opened->Commit()) ::abort();
    return new Index(std::move(opened).value());
  }();
  return *index;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string query = input.substr(0, newline);
  const std::string text = newline == std::string::npos ? input : input.substr(newline + 1);

  Index& index = TheIndex();
  SearchRequest request;
  request.query = query;
  request.limit = 5;
  const SortBy sorts[] = {SortBy::kRelevance, SortBy::kDate, SortBy::kAmount};
  request.sort = sorts[size % 3];
  request.ascending = (size & 4) != 0;
  request.facets = (size & 8) != 0;
  (void)index.Search(request);
  (void)index.Snippet(query, text, 120, "[", "]");
  (void)Fold(text);
  (void)SplitWords(text);
  (void)DetectLanguage(text);
  return 0;
}
