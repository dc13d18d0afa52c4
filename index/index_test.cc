// index/index_test.cc: the search index against a real Xapian database in a
// fresh temporary directory per test.
#include "index/index.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <xapian.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace custodia::index {
namespace {

namespace fs = std::filesystem;

class IndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "custodia-index-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    root_ = templ;
    dir_ = root_ / "index";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  Index OpenOrDie() {
    Result<Index> index = Index::Open(dir_, /*create=*/true);
    if (!index) ADD_FAILURE() << index.error().message;
    return std::move(index).value();
  }

  static void Put(Index& index, const std::string& id, const std::string& text) {
    Doc doc;
    doc.id = id;
    doc.text = text;
    doc.type = "factura";
    doc.status = "accepted";
    Status status = index.Put(doc);
    ASSERT_TRUE(status) << status.error().message;
  }

  // Ids of the hits for `query`, in rank order; fails the test on an error.
  static std::vector<std::string> Ids(const Index& index, const std::string& query) {
    Result<std::vector<Hit>> hits = index.Search(query, 100);
    if (!hits) {
      ADD_FAILURE() << query << ": " << hits.error().message;
      return {};
    }
    std::vector<std::string> ids;
    for (const Hit& hit : *hits) ids.push_back(hit.id);
    return ids;
  }

  static std::vector<std::string> SortedIds(const Index& index, const std::string& query) {
    std::vector<std::string> ids = Ids(index, query);
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  fs::path root_;
  fs::path dir_;
};

using IdList = std::vector<std::string>;

TEST(FoldTest, LowerCasesAndStripsAccents) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"Facturación", "facturacion"},
      {"FACTURACIÓN", "facturacion"},
      {"ÁÉÍÓÚÜ áéíóúü", "aeiouu aeiouu"},
      {"Año NIÑO", "ano nino"},  // ñ folds to n: see docs/index_schema.md
      {"Çà ñ ü", "ca n u"},
      {"Œuvre Æther straße", "oeuvre aether strasse"},
      {"Łódź Škoda", "lodz skoda"},
      {"facturacio\xcc\x81n", "facturacion"},  // decomposed ó (o + U+0301)
      {"NIF 12345678Z, 1.234,56 €", "nif 12345678z, 1.234,56 €"},
      {"Ελλάδα", "ελλάδα"},  // other scripts: lower case only
      {"", ""},
      {"AND OR NOT \"x\" (y) -z +w", "and or not \"x\" (y) -z +w"},
  };
  for (const Case& c : cases) EXPECT_EQ(Fold(c.in), c.out) << c.in;
}

TEST_F(IndexTest, PutCommitSearchFindsByWord) {
  Index index = OpenOrDie();
  Put(index, "doc-1", "Factura número 2024-17 de Ferretería López");
  Put(index, "doc-2", "Nómina de marzo");
  ASSERT_TRUE(index.Commit());
  EXPECT_EQ(index.size(), 2u);
  EXPECT_EQ(Ids(index, "ferreteria"), IdList{"doc-1"});
  EXPECT_EQ(Ids(index, "marzo"), IdList{"doc-2"});
  EXPECT_EQ(Ids(index, "inexistente"), IdList{});

  Result<std::vector<Hit>> hits = index.Search("nomina", 10);
  ASSERT_TRUE(hits);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].rank, 0);
  EXPECT_GT((*hits)[0].percent, 0);
  EXPECT_GT((*hits)[0].weight, 0);
}

TEST_F(IndexTest, UnaccentedQueryFindsAccentedText) {
  Index index = OpenOrDie();
  Put(index, "a", "Dirección de Facturación");
  ASSERT_TRUE(index.Commit());
  EXPECT_EQ(Ids(index, "facturacion"), IdList{"a"});
  EXPECT_EQ(Ids(index, "direccion facturacion"), IdList{"a"});
}

TEST_F(IndexTest, AccentedUpperCaseQueryFindsUnaccentedText) {
  Index index = OpenOrDie();
  Put(index, "a", "direccion de facturacion");
  ASSERT_TRUE(index.Commit());
  EXPECT_EQ(Ids(index, "FACTURACIÓN"), IdList{"a"});
  EXPECT_EQ(Ids(index, "Dirección"), IdList{"a"});
}

TEST_F(IndexTest, StemmingMatchesOtherFormsOfAWord) {
  Index index = OpenOrDie();
  Put(index, "singular", "Adjuntamos la factura del mes");
  Put(index, "accent", "Datos de facturación");
  Put(index, "other", "Contrato de arrendamiento");
  ASSERT_TRUE(index.Commit());
  EXPECT_EQ(SortedIds(index, "facturas"), (IdList{"accent", "singular"}));
  // "-ión" stems alike with or without its accent (docs/index_schema.md).
  EXPECT_EQ(SortedIds(index, "facturaciones"), (IdList{"accent", "singular"}));
  EXPECT_EQ(Ids(index, "contratos"), IdList{"other"});
}

TEST_F(IndexTest, PhraseQueryNeedsTheWordsInOrder) {
  Index index = OpenOrDie();
  Put(index, "in-order", "Recibo de pago bancario");
  Put(index, "apart", "Pago del recibo bancario");
  ASSERT_TRUE(index.Commit());
  EXPECT_EQ(Ids(index, "\"recibo de pago\""), IdList{"in-order"});
  EXPECT_EQ(Ids(index, "\"RECIBO DE PAGO\""), IdList{"in-order"});
  EXPECT_EQ(SortedIds(index, "recibo pago"), (IdList{"apart", "in-order"}));
}

TEST_F(IndexTest, BooleanOperatorsInAnyCase) {
  Index index = OpenOrDie();
  Put(index, "fv", "factura de venta");
  Put(index, "fc", "factura de compra");
  Put(index, "n", "nómina de venta");
  ASSERT_TRUE(index.Commit());
  // The default operator is AND: more words, fewer hits.
  EXPECT_EQ(Ids(index, "factura venta"), IdList{"fv"});
  EXPECT_EQ(Ids(index, "factura AND venta"), IdList{"fv"});
  EXPECT_EQ(Ids(index, "factura and venta"), IdList{"fv"});
  EXPECT_EQ(SortedIds(index, "compra OR nomina"), (IdList{"fc", "n"}));
  EXPECT_EQ(SortedIds(index, "compra or nomina"), (IdList{"fc", "n"}));
  EXPECT_EQ(Ids(index, "factura NOT venta"), IdList{"fc"});
  EXPECT_EQ(Ids(index, "factura -venta"), IdList{"fc"});
  EXPECT_EQ(SortedIds(index, "(compra OR nomina) AND venta"), IdList{"n"});
}

TEST_F(IndexTest, PutOfTheSameIdReplacesTheDocument) {
  Index index = OpenOrDie();
  Put(index, "a", "borrador inicial");
  ASSERT_TRUE(index.Commit());
  Put(index, "a", "texto corregido");
  ASSERT_TRUE(index.Commit());
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(Ids(index, "borrador"), IdList{});
  EXPECT_EQ(Ids(index, "corregido"), IdList{"a"});
}

TEST_F(IndexTest, ReopenAfterCommitSeesDocuments) {
  {
    Index index = OpenOrDie();
    Put(index, "a", "albarán de entrega");
    ASSERT_TRUE(index.Commit());
  }
  Result<Index> reopened = Index::Open(dir_, /*create=*/false);
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ(reopened->size(), 1u);
  EXPECT_EQ(Ids(*reopened, "albaran"), IdList{"a"});
  EXPECT_TRUE(reopened->Contains("a"));
  EXPECT_FALSE(reopened->Contains("b"));
}

TEST_F(IndexTest, MalformedQueryIsInvalidArgumentWithTheReason) {
  Index index = OpenOrDie();
  Put(index, "a", "factura");
  ASSERT_TRUE(index.Commit());
  for (const char* query : {"AND AND", "factura AND AND pago", "NOT factura", "factura OR"}) {
    Result<std::vector<Hit>> hits = index.Search(query, 10);
    ASSERT_FALSE(hits) << query;
    EXPECT_EQ(hits.error().code, Code::kInvalidArgument) << query;
    EXPECT_NE(hits.error().message.find("Syntax:"), std::string::npos) << hits.error().message;
  }
  // Xapian forgives an unbalanced quote or parenthesis.
  EXPECT_EQ(Ids(index, "\"factura"), IdList{"a"});
  EXPECT_EQ(Ids(index, "(factura"), IdList{"a"});
  EXPECT_EQ(Ids(index, "\""), IdList{});
  EXPECT_EQ(Ids(index, ""), IdList{});
}

TEST_F(IndexTest, NonPositiveLimitIsInvalidArgument) {
  Index index = OpenOrDie();
  Result<std::vector<Hit>> hits = index.Search("factura", 0);
  ASSERT_FALSE(hits);
  EXPECT_EQ(hits.error().code, Code::kInvalidArgument);
}

TEST_F(IndexTest, LimitCapsTheHits) {
  Index index = OpenOrDie();
  for (int i = 0; i < 5; ++i) Put(index, "d" + std::to_string(i), "factura");
  ASSERT_TRUE(index.Commit());
  Result<std::vector<Hit>> hits = index.Search("factura", 3);
  ASSERT_TRUE(hits);
  ASSERT_EQ(hits->size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ((*hits)[i].rank, i);
}

TEST_F(IndexTest, SecondWriterIsFailedPrecondition) {
  Index index = OpenOrDie();
  Result<Index> second = Index::Open(dir_, /*create=*/true);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(second.error().message,
            "index: " + dir_.string() + " is locked by another custodia process");
}

TEST_F(IndexTest, OpenMissingWithoutCreateIsNotFound) {
  Result<Index> index = Index::Open(dir_, /*create=*/false);
  ASSERT_FALSE(index);
  EXPECT_EQ(index.error().code, Code::kNotFound);
  EXPECT_EQ(index.error().message, "index: no index in " + dir_.string());
}

TEST_F(IndexTest, PutWithoutIdIsInvalidArgument) {
  Index index = OpenOrDie();
  Status status = index.Put(Doc{});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, Code::kInvalidArgument);
}

TEST_F(IndexTest, PutWithBadFieldNameIsInvalidArgument) {
  Index index = OpenOrDie();
  Doc doc;
  doc.id = "a";
  doc.fields = {{"a:b", "x"}};
  Status status = index.Put(doc);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, Code::kInvalidArgument);
  EXPECT_EQ(index.size(), 0u);
}

TEST_F(IndexTest, StoresPrefixedTermsAndIngestTimeAsTheSchemaSays) {
  Index index = OpenOrDie();
  Doc doc;
  doc.id = "doc-7";
  doc.text = "Factura";
  doc.type = "factura";
  doc.status = "review";
  doc.ingest_micros = 1'700'000'000'000'000;
  doc.fields = {{"nif", "12345678Z"}, {"iban", "ES9121000418450200051332"}};
  ASSERT_TRUE(index.Put(doc));
  ASSERT_TRUE(index.Commit());

  Xapian::Database db(dir_.string());
  ASSERT_EQ(db.get_doccount(), 1u);
  for (const char* term : {"Qdoc-7", "XTfactura", "XSreview", "XFnif:12345678Z",
                           "XFiban:ES9121000418450200051332", "factura", "Zfactur"}) {
    EXPECT_TRUE(db.term_exists(term)) << term;
  }
  const Xapian::Document stored = db.get_document(*db.postlist_begin("Qdoc-7"));
  EXPECT_EQ(Xapian::sortable_unserialise(stored.get_value(0)), 1.7e15);
  EXPECT_EQ(stored.values_count(), 1u);
}

// A review changes type, status and fields: Relabel swaps those terms and
// keeps the text's, without the text.
TEST_F(IndexTest, RelabelReplacesTypeStatusAndFieldTermsAndKeepsTheText) {
  Index index = OpenOrDie();
  Doc doc;
  doc.id = "doc-7";
  doc.text = "Factura de Ferretería López";
  doc.type = "factura";
  doc.status = "review";
  doc.fields = {{"nif", "12345678Z"}, {"total", "10.00"}};
  ASSERT_TRUE(index.Put(doc));
  Doc relabel;
  relabel.id = "doc-7";
  relabel.type = "contrato";
  relabel.status = "approved";
  relabel.fields = {{"nif", "87654321X"}};
  ASSERT_TRUE(index.Relabel(relabel));
  ASSERT_TRUE(index.Commit());
  EXPECT_EQ(Ids(index, "ferreteria"), IdList{"doc-7"});
  Xapian::Database db(dir_.string());
  for (const char* gone : {"XTfactura", "XSreview", "XFnif:12345678Z", "XFtotal:10.00"}) {
    EXPECT_FALSE(db.term_exists(gone)) << gone;
  }
  for (const char* now : {"XTcontrato", "XSapproved", "XFnif:87654321X", "Qdoc-7", "lopez"}) {
    EXPECT_TRUE(db.term_exists(now)) << now;
  }
  relabel.id = "doc-8";
  auto missing = index.Relabel(relabel);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
}

TEST_F(IndexTest, DocumentDataHoldsTheIdOnly) {
  const std::string sentence = "El arrendatario abonará la renta mensual de 845 euros";
  {
    Index index = OpenOrDie();
    Put(index, "contrato-1", sentence);
    Put(index, "contrato-2", "Otro contrato cualquiera");
    ASSERT_TRUE(index.Commit());
  }
  Xapian::Database db(dir_.string());
  for (auto it = db.postlist_begin(""); it != db.postlist_end(""); ++it) {
    const std::string data = db.get_document(*it).get_data();
    EXPECT_TRUE(data == "contrato-1" || data == "contrato-2") << data;
  }
  // The words are still terms (issue 7 hashes them); the text as written is
  // stored nowhere.
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string bytes = buffer.str();
    EXPECT_EQ(bytes.find(sentence), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find("abonará la renta"), std::string::npos) << entry.path();
  }
}

// True when `s` is well-formed UTF-8.
bool IsUtf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80         ? 1
                          : (c >> 5) == 6  ? 2
                          : (c >> 4) == 14 ? 3
                          : (c >> 3) == 30 ? 4
                                           : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}

std::size_t CharCount(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) >> 6) != 2; }));
}

TEST_F(IndexTest, SnippetMarksMatchesInTheOriginalText) {
  Index index = OpenOrDie();
  EXPECT_EQ(index.Snippet("facturacion", "Datos de Facturación: pendiente", 100, "[", "]"),
            "Datos de [Facturación]: pendiente");
  EXPECT_EQ(index.Snippet("FACTURACIÓN", "dirección de facturacion", 100, "<b>", "</b>"),
            "dirección de <b>facturacion</b>");
  // Stemmed matches are marked too.
  EXPECT_EQ(index.Snippet("factura", "Facturas y facturación de la FACTURA", 100, "[", "]"),
            "[Facturas] y [facturación] de la [FACTURA]");
  EXPECT_EQ(index.Snippet("\"recibo de pago\"", "Un recibo de pago.", 100, "[", "]"),
            "Un [recibo] [de] [pago].");
  // A query that does not parse still marks its words.
  EXPECT_EQ(index.Snippet("nómina AND AND", "Nómina de abril", 100, "[", "]"), "[Nómina] de abril");
}

TEST_F(IndexTest, SnippetCollapsesWhiteSpace) {
  Index index = OpenOrDie();
  EXPECT_EQ(index.Snippet("pago", "  Página 1\nRecibo\tde   pago  \n", 100, "[", "]"),
            "Página 1 Recibo de [pago]");
  // A page break or a blank line starts a new sentence.
  EXPECT_EQ(index.Snippet("pago", "Página 1\fRecibo de pago", 100, "[", "]"), "Recibo de [pago]");
  EXPECT_EQ(index.Snippet("pago", "Página 1\n\nRecibo de pago", 100, "[", "]"), "Recibo de [pago]");
}

TEST_F(IndexTest, SnippetWithoutMatchIsTheStartOfTheText) {
  Index index = OpenOrDie();
  EXPECT_EQ(
      index.Snippet("inexistente", "Contrato de arrendamiento de local comercial", 20, "[", "]"),
      "Contrato de");
  EXPECT_EQ(index.Snippet("x", "", 20, "[", "]"), "");
  EXPECT_EQ(index.Snippet("x", "...", 20, "[", "]"), "...");
}

TEST_F(IndexTest, SnippetStartsNearTheFirstMatch) {
  Index index = OpenOrDie();
  std::string text;
  for (int i = 0; i < 50; ++i) text += "texto de relleno sin interés ";
  text += "y aquí aparece el IBAN del titular, seguido de más texto de relleno";
  const std::string snippet = index.Snippet("iban", text, 40, "[", "]");
  EXPECT_NE(snippet.find("[IBAN]"), std::string::npos) << snippet;
  EXPECT_LE(CharCount(snippet) - 2, 40u) << snippet;
  EXPECT_LE(snippet.find("[IBAN]"), 12u) << snippet;  // at most a quarter before it
}

TEST_F(IndexTest, SnippetStartsAtTheSentenceOfTheMatch) {
  Index index = OpenOrDie();
  EXPECT_EQ(index.Snippet("importe", "Fin. El importe total", 100, "[", "]"), "El [importe] total");
}

TEST_F(IndexTest, SnippetNeverExceedsLengthNorSplitsACharacter) {
  Index index = OpenOrDie();
  const std::string text =
      "Ñandú pagó la facturación: «Almacén Núñez», dirección Calle Cañón 3, "
      "importe 1.234,56 € — teléfono 912345678. Año 2024. Ελληνικά 中文字符";
  for (const std::string query : {"facturacion", "nunez", "ano", "inexistente", "中文字符"}) {
    for (int length = 1; length <= 130; ++length) {
      const std::string snippet = index.Snippet(query, text, length, "\x01", "\x02");
      ASSERT_TRUE(IsUtf8(snippet)) << query << " " << length << ": " << snippet;
      std::string plain = snippet;
      std::erase(plain, '\x01');
      std::erase(plain, '\x02');
      EXPECT_LE(CharCount(plain), static_cast<std::size_t>(length)) << query << ": " << snippet;
      EXPECT_EQ(std::count(snippet.begin(), snippet.end(), '\x01'),
                std::count(snippet.begin(), snippet.end(), '\x02'));
    }
  }
  EXPECT_EQ(index.Snippet("nunez", text, 30, "[", "]"), "«Almacén [Núñez]», dirección");
}

TEST_F(IndexTest, SnippetCutsAWordLongerThanTheSnippetAtACharacter) {
  Index index = OpenOrDie();
  EXPECT_EQ(index.Snippet("x", "ñññññ", 3, "[", "]"), "ñññ");
  EXPECT_EQ(index.Snippet("x", "ñññññ", 0, "[", "]"), "");
}

}  // namespace
}  // namespace custodia::index
