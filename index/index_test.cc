// index/index_test.cc: the search index against a real Xapian database in a
// fresh temporary directory per test.
#include "index/index.h"

#include "index/keys.h"
#include "index/text.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xapian.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
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
    Status unlocked = index->Unlock(Key());
    if (!unlocked) ADD_FAILURE() << unlocked.error().message;
    return std::move(index).value();
  }

  static KeyView Key(std::uint8_t fill = 7, std::uint32_t epoch = 1) {
    static std::array<std::array<std::uint8_t, 32>, 256> keys;
    keys[fill].fill(fill);
    return KeyView{std::span<const std::uint8_t, 32>(keys[fill]), epoch};
  }

  // The term the index makes of `word` under Key().
  static std::string Hashed(const std::string& word) {
    Result<Keys> keys = Keys::FromKey(Key().bytes);
    return keys->Term(word);
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

TEST(LanguageTest, EnglishOnlyWhenPlainlyEnglish) {
  EXPECT_EQ(DetectLanguage("Factura de la luz del mes de marzo para el cliente"),
            Language::kSpanish);
  EXPECT_EQ(DetectLanguage("Invoice for the supply of goods to your company, payable on receipt"),
            Language::kEnglish);
  EXPECT_EQ(DetectLanguage("THE TOTAL OF THIS INVOICE IS DUE ON RECEIPT"), Language::kEnglish);
  // Too few function words: an ID card, a bare list of numbers.
  EXPECT_EQ(DetectLanguage("DNI 12345678Z GARCIA PEREZ ANA"), Language::kSpanish);
  EXPECT_EQ(DetectLanguage("the invoice"), Language::kSpanish);
  EXPECT_EQ(DetectLanguage(""), Language::kSpanish);
  // Spanish text quoting a few English words stays Spanish.
  EXPECT_EQ(DetectLanguage("Contrato de servicios con la empresa The Code of Things, en Madrid, "
                           "para el desarrollo de la web y el soporte"),
            Language::kSpanish);
  // Words glued to accented letters or digits are not function words.
  EXPECT_EQ(DetectLanguage("thé ofé and2 to9 inñ"), Language::kSpanish);
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

// English text is stemmed as English, Spanish as Spanish, and a query finds
// both; a NOT in one language never lets the other language's documents in.
TEST_F(IndexTest, EnglishTextIsStemmedAsEnglish) {
  Index index = OpenOrDie();
  Put(index, "en", "The invoices for the delivered goods were processed by the accounting team");
  Put(index, "es", "Las facturas de los bienes entregados fueron procesadas por contabilidad");
  ASSERT_TRUE(index.Commit());
  // Forms only English stemming joins ("invoice"/"invoices", "deliver"/"delivered").
  EXPECT_EQ(Ids(index, "invoice"), IdList{"en"});
  EXPECT_EQ(Ids(index, "deliver processing"), IdList{"en"});
  EXPECT_EQ(Ids(index, "\"delivered goods\""), IdList{"en"});
  EXPECT_EQ(Ids(index, "\"goods delivered\""), IdList{});
  EXPECT_EQ(Ids(index, "factura entregado"), IdList{"es"});
  EXPECT_EQ(SortedIds(index, "invoice OR factura"), (IdList{"en", "es"}));
  EXPECT_EQ(Ids(index, "tipo:factura NOT invoice"), IdList{"es"});
  EXPECT_EQ(Ids(index, "tipo:factura NOT facturas"), IdList{"en"});
  EXPECT_EQ(Ids(index, "tipo:factura -invoices -factura"), IdList{});
  // Filters alone: one parse, both languages.
  EXPECT_EQ(SortedIds(index, "tipo:factura"), (IdList{"en", "es"}));
  // Snippets mark English stems in English text.
  EXPECT_EQ(index.Snippet("invoice", "The invoices of the month were paid on time.", 100, "[", "]"),
            "The [invoices] of the month were paid on time.");
  EXPECT_EQ(index.Snippet("processing", "Invoices are processed by the team.", 100, "[", "]"),
            "Invoices are [processed] by the team.");
}

// Function words ("de", "la", "the", ...) get no term; phrases and hyphenated
// names that hold them still match, and the other words keep their order.
TEST_F(IndexTest, FunctionWordsAreLeftOutAndPhrasesStillMatch) {
  Index index = OpenOrDie();
  Put(index, "es", "Factura de la luz y el gas de Castilla-La Mancha para el mes de marzo");
  Put(index, "en", "The invoice of the month for the supply of gas to the office");
  ASSERT_TRUE(index.Commit());
  {
    Xapian::Database db(dir_.string());
    for (const char* word : {"de", "la", "y", "el", "para", "a"}) {
      EXPECT_EQ(db.get_termfreq(Hashed(word)), 0u) << word;
    }
    EXPECT_EQ(db.get_termfreq(Hashed("luz")), 1u);
    // Positions are numbered over the words kept: factura 1, luz 2, gas 3.
    const Xapian::docid es = *db.postlist_begin("Qes");
    ASSERT_EQ(db.positionlist_begin(es, Hashed("luz")) == db.positionlist_end(es, Hashed("luz")),
              false);
    EXPECT_EQ(*db.positionlist_begin(es, Hashed("luz")), 2u);
  }
  EXPECT_EQ(Ids(index, "\"factura de la luz\""), IdList{"es"});
  EXPECT_EQ(Ids(index, "factura de la luz"), IdList{"es"});
  EXPECT_EQ(Ids(index, "\"luz y el gas\""), IdList{"es"});
  EXPECT_EQ(Ids(index, "Castilla-La Mancha"), IdList{"es"});
  EXPECT_EQ(Ids(index, "\"castilla la mancha\" AND \"mes de marzo\""), IdList{"es"});
  EXPECT_EQ(Ids(index, "\"gas luz\""), IdList{});  // order still counts
  EXPECT_EQ(Ids(index, "\"factura gas\""), IdList{});  // and distance
  EXPECT_EQ(Ids(index, "\"the invoice of the month\""), IdList{"en"});
  EXPECT_EQ(Ids(index, "\"supply of gas\" office"), IdList{"en"});
  // A query of function words only finds nothing: they are not indexed.
  EXPECT_EQ(Ids(index, "de la"), IdList{});
  EXPECT_EQ(Ids(index, "\"de la\""), IdList{});
  // The words kept take their order from the query, function words or not.
  EXPECT_EQ(Ids(index, "\"factura luz\""), IdList{"es"});
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
  EXPECT_TRUE(reopened->Contains("a"));
  ASSERT_TRUE(reopened->Unlock(Key()));
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
  // An empty query matches every document.
  EXPECT_EQ(Ids(index, ""), IdList{"a"});
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

TEST_F(IndexTest, StoresKeyedTermsAndSealedValuesAsTheSchemaSays) {
  Index index = OpenOrDie();
  Doc doc;
  doc.id = "doc-7";
  doc.text = "Factura";
  doc.type = "factura";
  doc.status = "review";
  doc.station = "escaner1";
  doc.batch = "lote-9";
  doc.ingest_micros = 1'700'000'000'000'000;
  doc.version = 3;
  doc.fields = {{"cliente_nif", "12345678Z"},
                {"iban", "ES9121000418450200051332"},
                {"fecha", "2024-02-29"},
                {"total", "1234.56"}};
  ASSERT_TRUE(index.Put(doc));
  ASSERT_TRUE(index.Commit());

  Xapian::Database db(dir_.string());
  ASSERT_EQ(db.get_doccount(), 1u);
  const std::string expected[] = {"Qdoc-7",
                                  "XT" + Hashed("factura"),
                                  "XS" + Hashed("review"),
                                  "XN" + Hashed("escaner1"),
                                  "XB" + Hashed("lote-9"),
                                  "XFnif:" + Hashed("12345678z"),
                                  "XFiban:" + Hashed("es9121000418450200051332"),
                                  "XD" + Hashed("202"),
                                  "XY" + Hashed("2024"),
                                  "XM" + Hashed("2024-02"),
                                  Hashed("factur")};
  for (const std::string& term : expected) EXPECT_TRUE(db.term_exists(term)) << term;
  std::vector<std::string> all(db.allterms_begin(), db.allterms_end());
  EXPECT_EQ(all.size(), std::size(expected));
  for (const char* plain : {"XTfactura", "factura", "factur", "Zfactur", "XFnif:12345678Z"}) {
    EXPECT_FALSE(db.term_exists(plain)) << plain;
  }
  const Xapian::Document stored = db.get_document(*db.postlist_begin("Qdoc-7"));
  EXPECT_EQ(Xapian::sortable_unserialise(stored.get_value(0)), 1.7e15);
  EXPECT_EQ(stored.get_value(5), EncodeSortable(3));
  // Date and amount are sealed: 7 bytes of nonce, then the value XOR a
  // keystream. The facets are codes in the order first seen (type factura
  // 1, status review 2, year 2024 3), whose names are sealed.
  const std::string date = stored.get_value(1);
  const std::string amount = stored.get_value(2);
  const std::string facets = stored.get_value(3);
  ASSERT_EQ(date.size(), 15u);
  ASSERT_EQ(amount.size(), 15u);
  EXPECT_EQ(date.find(EncodeSortable(19782).substr(4)), std::string::npos);  // 2024-02-29
  EXPECT_EQ(amount.find(EncodeSortable(123456).substr(4)), std::string::npos);
  EXPECT_EQ(facets, EncodeSortable((std::int64_t{1} << 32) | (2 << 16) | 3));
  Result<Keys> keys = Keys::FromKey(Key().bytes);
  EXPECT_EQ(keys->Open(1, date), EncodeSortable(19782));
  EXPECT_EQ(keys->OpenSortable(2, amount), 123456);
  const std::string names = db.get_metadata("custodia.facet-names");
  EXPECT_EQ(names.size(), 7u + std::string("factura\nreview\n2024").size());
  EXPECT_EQ(names.find("factura"), std::string::npos);
  EXPECT_EQ(names.find("2024"), std::string::npos);
  EXPECT_EQ(keys->Open(100, names), "factura\nreview\n2024");
  EXPECT_NE(keys->Open(2, date), EncodeSortable(19782));  // the slot is in the keystream
  EXPECT_EQ(stored.values_count(), 5u);
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
  relabel.on_loan = true;
  relabel.fields = {{"nif", "87654321X"}, {"importe", "25.00"}};
  ASSERT_TRUE(index.Relabel(relabel));
  ASSERT_TRUE(index.Commit());
  EXPECT_EQ(Ids(index, "ferreteria"), IdList{"doc-7"});
  EXPECT_EQ(Ids(index, "tipo:factura"), IdList{});
  EXPECT_EQ(Ids(index, "estado:review"), IdList{});
  EXPECT_EQ(Ids(index, "nif:12345678Z"), IdList{});
  EXPECT_EQ(Ids(index, "importe:10..10"), IdList{});
  EXPECT_EQ(Ids(index, "tipo:contrato estado:approved nif:87654321X prestado:si lopez"),
            IdList{"doc-7"});
  EXPECT_EQ(Ids(index, "importe:25..25"), IdList{"doc-7"});
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
  // The text as written is stored nowhere (NoWordOfTheTextIsInTheIndexFiles
  // checks the words).
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
            "Un [recibo] de [pago].");  // function words are not searched, so not marked
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

// ---- Issue 7: keyed terms, the query language, facets, similar ----

// A small archive for the query-language tests.
class QueryTest : public IndexTest {
 protected:
  void SetUp() override {
    IndexTest::SetUp();
    index_.emplace(OpenOrDie());
    Add("f1", "factura", "auto", "2024-01-15", "total", "120.50",
        "Factura de Ferretería López por tornillos y clavos",
        {{"emisor_cif", "B12345674"}, {"cliente_nif", "12345678Z"}, {"numero", "FAC-2024-001"},
         {"iban", "ES9121000418450200051332"}});
    Add("f2", "factura", "review", "2024-03-31", "total", "1234.56",
        "Factura de Papelería Núñez por material de oficina", {{"numero", "FAC-2024-002"}});
    Add("f3", "factura", "auto", "2023-12-31", "total", "99.99",
        "Factura de Ferretería López por herramientas", {{"numero", "FAC-2023-117"}});
    Add("n1", "nomina", "auto", "", "neto", "1850.00",
        "Nómina de marzo de Ana García, empresa Construcciones Ebro",
        {{"periodo", "2024-03"}, {"trabajador_nif", "87654321X"}});
    Add("d1", "dni", "review", "", "", "", "Documento nacional de identidad García Pérez",
        {{"numero", "12345678Z"}});
    ASSERT_TRUE(index_->Commit());
  }

  void Add(const std::string& id, const std::string& type, const std::string& status,
           const std::string& fecha, const std::string& amount_name, const std::string& amount,
           const std::string& text, std::map<std::string, std::string> fields) {
    Doc doc;
    doc.id = id;
    doc.type = type;
    doc.status = status;
    doc.text = text;
    doc.fields = std::move(fields);
    if (!fecha.empty()) doc.fields["fecha"] = fecha;
    if (!amount_name.empty()) doc.fields[amount_name] = amount;
    doc.ingest_micros = static_cast<std::int64_t>(index_->size()) * 1000;
    doc.station = "escaner1";
    doc.batch = id == "f1" || id == "f2" ? "lote-a" : "lote-b";
    doc.case_files = id == "n1" || id == "d1" ? std::vector<std::string>{"EXP-2024-7"}
                                              : std::vector<std::string>{};
    doc.on_loan = id == "f3";
    doc.version = 1;
    Status put = index_->Put(doc);
    ASSERT_TRUE(put) << put.error().message;
  }

  IdList Sorted(const std::string& query) { return SortedIds(*index_, query); }

  Result<SearchResult> Run(SearchRequest request) { return index_->Search(request); }

  std::optional<Index> index_;
};

TEST_F(QueryTest, FieldPrefixesFindByCanonicalValue) {
  EXPECT_EQ(Sorted("nif:12345678Z"), (IdList{"d1", "f1"}));
  EXPECT_EQ(Sorted("nif:12345678-z"), (IdList{"d1", "f1"}));
  EXPECT_EQ(Sorted("dni:12345678Z"), (IdList{"d1", "f1"}));
  EXPECT_EQ(Sorted("cif:B12345674"), IdList{"f1"});
  EXPECT_EQ(Sorted("nif:87654321X"), IdList{"n1"});
  EXPECT_EQ(Sorted("iban:ES9121000418450200051332"), IdList{"f1"});
  EXPECT_EQ(Sorted("iban:\"ES91 2100 0418 4502 0005 1332\""), IdList{"f1"});
  EXPECT_EQ(Sorted("numero:FAC-2024-002"), IdList{"f2"});
  EXPECT_EQ(Sorted("numero:fac-2024-002"), IdList{"f2"});
  EXPECT_EQ(Sorted("numero:FAC-2024-999"), IdList{});
  EXPECT_EQ(Sorted("tipo:factura"), (IdList{"f1", "f2", "f3"}));
  EXPECT_EQ(Sorted("tipo:factura estado:review"), IdList{"f2"});
  EXPECT_EQ(Sorted("tipo:factura OR tipo:dni"), (IdList{"d1", "f1", "f2", "f3"}));
  EXPECT_EQ(Sorted("expediente:EXP-2024-7"), (IdList{"d1", "n1"}));
  EXPECT_EQ(Sorted("prestado:si"), IdList{"f3"});
  EXPECT_EQ(Sorted("prestado:sí"), IdList{"f3"});
  EXPECT_EQ(Sorted("tipo:factura prestado:no"), (IdList{"f1", "f2"}));
  EXPECT_EQ(Sorted("lote:lote-a"), (IdList{"f1", "f2"}));
  EXPECT_EQ(Sorted("puesto:escaner1 garcia"), (IdList{"d1", "n1"}));
  EXPECT_EQ(Sorted("ferreteria tipo:factura NOT herramientas"), IdList{"f1"});
}

TEST_F(QueryTest, DateAndAmountRangesWithOpenEnds) {
  EXPECT_EQ(Sorted("fecha:2024-01-01..2024-03-31"), (IdList{"f1", "f2", "n1"}));
  EXPECT_EQ(Sorted("fecha:2024-01-16..2024-03-30"), IdList{"n1"});  // periodo 2024-03
  EXPECT_EQ(Sorted("fecha:..2023-12-31"), IdList{"f3"});
  EXPECT_EQ(Sorted("fecha:2024-03-31.."), IdList{"f2"});
  EXPECT_EQ(Sorted("fecha:2023..2023"), IdList{"f3"});
  EXPECT_EQ(Sorted("fecha:2024-03..2024-03"), (IdList{"f2", "n1"}));
  EXPECT_EQ(Sorted("importe:100..500"), IdList{"f1"});
  EXPECT_EQ(Sorted("importe:1.234,56..1234,56"), IdList{"f2"});
  EXPECT_EQ(Sorted("importe:1000.."), (IdList{"f2", "n1"}));
  EXPECT_EQ(Sorted("importe:..99.99"), IdList{"f3"});
  EXPECT_EQ(Sorted("ferreteria importe:100.."), IdList{"f1"});
  EXPECT_EQ(Sorted("fecha:2024..2024 tipo:factura"), (IdList{"f1", "f2"}));
  // Decades, years, months and partial months at both ends.
  EXPECT_EQ(Sorted("fecha:2020..2029"), (IdList{"f1", "f2", "f3", "n1"}));
  EXPECT_EQ(Sorted("fecha:2010-06-15..2030-02-01"), (IdList{"f1", "f2", "f3", "n1"}));
  EXPECT_EQ(Sorted("fecha:2023-12-31..2024-01-15"), (IdList{"f1", "f3"}));
  EXPECT_EQ(Sorted("fecha:2023-12-30..2023-12-30"), IdList{});
  EXPECT_EQ(Sorted("fecha:1800..2023-12-30"), IdList{});
  EXPECT_EQ(Sorted("fecha:2024-03-31..2199-12-31"), IdList{"f2"});
  EXPECT_EQ(Sorted("ferreteria fecha:2024-01-15..2024-01-15"), IdList{"f1"});
  // One date, month or year; one amount.
  EXPECT_EQ(Sorted("fecha:2024-01-15"), IdList{"f1"});
  EXPECT_EQ(Sorted("fecha:2024-03"), (IdList{"f2", "n1"}));
  EXPECT_EQ(Sorted("fecha:2023"), IdList{"f3"});
  EXPECT_EQ(Sorted("importe:1.234,56"), IdList{"f2"});
  EXPECT_EQ(Sorted("importe:120.5 OR importe:99.99"), (IdList{"f1", "f3"}));
}

TEST_F(QueryTest, BadRangesAndWildcardsAreRefusedWithTheReason) {
  struct Case {
    const char* query;
    const char* says;
  } cases[] = {
      {"fecha:2024-02-30..2024-03-01", "\"2024-02-30\" is not a date"},
      {"fecha:ayer..hoy", "is not a date (YYYY-MM-DD"},
      {"fecha:ayer", "\"ayer\" is not a date"},
      {"importe:mucho", "\"mucho\" is not an amount"},
      {"importe:diez..20", "\"diez\" is not an amount"},
      {"importe:500..100", "is empty (its start is after its end)"},
      {"factur*", "wildcards (*) cannot work here"},
      {"prestado:quizas", "use prestado:si or prestado:no"},
      {"factura AND", "Syntax:"},
  };
  for (const Case& c : cases) {
    SearchRequest request;
    request.query = c.query;
    Result<SearchResult> result = Run(request);
    ASSERT_FALSE(result) << c.query;
    EXPECT_EQ(result.error().code, Code::kInvalidArgument) << c.query;
    EXPECT_NE(result.error().message.find(c.says), std::string::npos)
        << c.query << ": " << result.error().message;
  }
}

TEST_F(QueryTest, SortByDateOrAmountAndPageWithOffset) {
  SearchRequest request;
  request.query = "tipo:factura";
  request.sort = SortBy::kDate;
  auto ids = [&]() {
    IdList out;
    Result<SearchResult> result = Run(request);
    EXPECT_TRUE(result) << result.error().message;
    if (result) {
      for (const Hit& hit : result->hits) out.push_back(hit.id);
    }
    return out;
  };
  EXPECT_EQ(ids(), (IdList{"f2", "f1", "f3"}));
  request.ascending = true;
  EXPECT_EQ(ids(), (IdList{"f3", "f1", "f2"}));
  request.query = "";
  request.sort = SortBy::kAmount;
  request.ascending = false;
  EXPECT_EQ(ids(), (IdList{"n1", "f2", "f1", "f3", "d1"}));  // d1 has no amount
  request.offset = 1;
  request.limit = 2;
  EXPECT_EQ(ids(), (IdList{"f2", "f1"}));
  Result<SearchResult> page = Run(request);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->hits[0].rank, 1);
  EXPECT_EQ(page->hits[0].date, "2024-03-31");
  EXPECT_TRUE(page->hits[0].has_amount);
  EXPECT_EQ(page->hits[0].cents, 123456);
  EXPECT_EQ(page->matches, 5u);
  // No query, relevance: newest first.
  request = SearchRequest();
  EXPECT_EQ(ids(), (IdList{"d1", "n1", "f3", "f2", "f1"}));
  request.offset = -1;
  EXPECT_FALSE(Run(request));
}

TEST_F(QueryTest, FacetsCountTheWholeResultSet) {
  SearchRequest request;
  request.query = "";
  request.limit = 1;
  request.facets = true;
  Result<SearchResult> all = Run(request);
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->hits.size(), 1u);
  EXPECT_EQ(all->matches, 5u);
  EXPECT_EQ(all->facets.type, (std::map<std::string, std::uint64_t>{
                                  {"factura", 3}, {"nomina", 1}, {"dni", 1}}));
  EXPECT_EQ(all->facets.status,
            (std::map<std::string, std::uint64_t>{{"auto", 3}, {"review", 2}}));
  EXPECT_EQ(all->facets.year, (std::map<std::string, std::uint64_t>{
                                  {"2023", 1}, {"2024", 3}, {"sin fecha", 1}}));
  request.query = "ferreteria";
  Result<SearchResult> some = Run(request);
  ASSERT_TRUE(some);
  EXPECT_EQ(some->facets.type, (std::map<std::string, std::uint64_t>{{"factura", 2}}));
  EXPECT_EQ(some->facets.year,
            (std::map<std::string, std::uint64_t>{{"2023", 1}, {"2024", 1}}));
}

TEST_F(QueryTest, FacetNamesSurviveReopening) {
  index_.reset();
  Result<Index> reopened = Index::Open(dir_, /*create=*/false);
  ASSERT_TRUE(reopened);
  ASSERT_TRUE(reopened->Unlock(Key()));
  Doc doc;
  doc.id = "c1";
  doc.type = "contrato";
  doc.status = "auto";
  doc.text = "contrato de arrendamiento";
  ASSERT_TRUE(reopened->Put(doc));
  ASSERT_TRUE(reopened->Commit());
  SearchRequest request;
  request.facets = true;
  Result<SearchResult> all = reopened->Search(request);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->facets.type, (std::map<std::string, std::uint64_t>{
                                  {"factura", 3}, {"nomina", 1}, {"dni", 1}, {"contrato", 1}}));
  EXPECT_EQ(all->facets.status,
            (std::map<std::string, std::uint64_t>{{"auto", 4}, {"review", 2}}));
}

TEST_F(QueryTest, SimilarFindsDocumentsSharingWordsAndLeavesItselfOut) {
  Result<SearchResult> like = index_->Similar("f1", 0, 10);
  ASSERT_TRUE(like) << like.error().message;
  ASSERT_FALSE(like->hits.empty());
  EXPECT_EQ(like->hits[0].id, "f3");  // Ferretería López too
  for (const Hit& hit : like->hits) EXPECT_NE(hit.id, "f1");
  Result<SearchResult> missing = index_->Similar("nope", 0, 10);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
}

TEST_F(QueryTest, PhrasesMatchOnKeyedStems) {
  EXPECT_EQ(Sorted("\"ferreteria lopez\""), (IdList{"f1", "f3"}));
  EXPECT_EQ(Sorted("\"lopez ferreteria\""), IdList{});
  EXPECT_EQ(Sorted("\"papelerias nunez\""), IdList{"f2"});  // stems meet
}

TEST_F(QueryTest, SetBatchAndSetLoanChangeOnlyTheirTermsAndTheVersion) {
  ASSERT_TRUE(index_->SetLoan("f1", true, 7));
  ASSERT_TRUE(index_->SetLoan("f3", false, 8));
  ASSERT_TRUE(index_->SetBatch("f2", "escaner1/lote-9.pdf", {"EXP-1", "EXP-2"}, 9));
  ASSERT_TRUE(index_->Commit());
  EXPECT_EQ(Sorted("prestado:si"), IdList{"f1"});
  EXPECT_EQ(Sorted("lote:lote-a"), IdList{"f1"});
  EXPECT_EQ(Sorted("lote:escaner1/lote-9.pdf expediente:exp-2 nif:12345678Z"), IdList{});
  EXPECT_EQ(Sorted("lote:escaner1/lote-9.pdf expediente:EXP-1 papeleria"), IdList{"f2"});
  Result<std::map<std::string, std::uint64_t>> versions = index_->Versions();
  ASSERT_TRUE(versions);
  EXPECT_EQ(versions->at("f1"), 7u);
  EXPECT_EQ(versions->at("f3"), 8u);
  EXPECT_EQ(versions->at("f2"), 9u);
  EXPECT_EQ(index_->SetLoan("nope", true, 1).error().code, Code::kNotFound);
}

TEST_F(QueryTest, VersionsAreReadableWithoutTheKey) {
  index_.reset();
  Result<Index> reopened = Index::Open(dir_, /*create=*/false);
  ASSERT_TRUE(reopened);
  Result<std::map<std::string, std::uint64_t>> versions = reopened->Versions();
  ASSERT_TRUE(versions) << versions.error().message;
  EXPECT_EQ(versions->size(), 5u);
  EXPECT_EQ(versions->at("f2"), 1u);
  // Searching needs the key.
  Result<std::vector<Hit>> hits = reopened->Search("factura", 10);
  ASSERT_FALSE(hits);
  EXPECT_EQ(hits.error().code, Code::kFailedPrecondition);
  Doc doc;
  doc.id = "x";
  EXPECT_FALSE(reopened->Put(doc));
}

TEST_F(QueryTest, AnotherKeyIsRefusedUntilTheIndexIsRebuilt) {
  index_.reset();
  Result<Index> reopened = Index::Open(dir_, /*create=*/false);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->epoch(), 1u);
  Status other = reopened->Unlock(Key(9, 2));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Code::kFailedPrecondition);
  EXPECT_NE(other.error().message.find("built under key epoch 1, not this archive's epoch 2"),
            std::string::npos)
      << other.error().message;
  EXPECT_FALSE(reopened->unlocked());
  EXPECT_FALSE(reopened->UsePlainTerms());
  ASSERT_TRUE(reopened->Clear());
  ASSERT_TRUE(reopened->Unlock(Key(9, 2)));
  ASSERT_TRUE(reopened->Commit());
  EXPECT_EQ(reopened->size(), 0u);
  EXPECT_EQ(reopened->epoch(), 2u);
}

// An index written in an earlier term encoding would silently match
// nothing: it is refused until rebuilt.
TEST_F(QueryTest, AnIndexInAnotherFormatIsRefusedUntilRebuilt) {
  index_.reset();
  {
    Xapian::WritableDatabase db(dir_.string());
    ASSERT_EQ(db.get_metadata("custodia.format"), "4");
    // Format 2 stemmed English text as Spanish: such an index must be
    // rebuilt before English words find their documents.
    db.set_metadata("custodia.format", "2");
    db.commit();
  }
  Result<Index> reopened = Index::Open(dir_, /*create=*/false);
  ASSERT_TRUE(reopened);
  Status unlocked = reopened->Unlock(Key());
  ASSERT_FALSE(unlocked);
  EXPECT_EQ(unlocked.error().code, Code::kFailedPrecondition);
  EXPECT_NE(unlocked.error().message.find("is in index format 2, this custodia writes format 4"),
            std::string::npos)
      << unlocked.error().message;
  ASSERT_TRUE(reopened->Clear());
  ASSERT_TRUE(reopened->Unlock(Key()));
}

// The point of the keyed terms: whoever copies the index folder learns no
// word, number or id of any document.
TEST_F(IndexTest, NoWordOfTheTextIsInTheIndexFiles) {
  const std::vector<std::string> secrets = {
      "Ferretería", "ferreteria", "ferret", "Zamorano", "zamoran", "12345678Z", "12345678z",
      "ES9121000418450200051332", "es9121000418450200051332", "2100", "0418", "1850",
      "FAC-2024-001", "marzo", "factura", "factur", "nomina", "escaner1", "lote-a",
      "EXP-2024-7", "review", "Blackwood", "blackwood", "shipment", "shipm"};
  {
    Index index = OpenOrDie();
    Doc doc;
    doc.id = "doc-1";
    doc.type = "factura";
    doc.status = "review";
    doc.station = "escaner1";
    doc.batch = "lote-a";
    doc.case_files = {"EXP-2024-7"};
    doc.text =
        "Factura FAC-2024-001 de Ferretería Zamorano, marzo. NIF 12345678Z. IBAN ES91 2100 0418 "
        "4502 0005 1332. Nómina 1850 euros.";
    doc.fields = {{"numero", "FAC-2024-001"},
                  {"cliente_nif", "12345678Z"},
                  {"iban", "ES9121000418450200051332"},
                  {"total", "1850.00"},
                  {"fecha", "2024-03-01"}};
    ASSERT_TRUE(index.Put(doc));
    Doc english;  // stemmed as English, hashed all the same
    english.id = "doc-2";
    english.text = "The shipment of the goods to Blackwood is late, and the invoice is due.";
    ASSERT_TRUE(index.Put(english));
    ASSERT_TRUE(index.Commit());
    ASSERT_EQ(Ids(index, "ferreteria zamorano nif:12345678Z"), IdList{"doc-1"});
    ASSERT_EQ(Ids(index, "blackwood shipments"), IdList{"doc-2"});
  }
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string bytes = buffer.str();
    for (const std::string& secret : secrets) {
      EXPECT_EQ(bytes.find(secret), std::string::npos)
          << secret << " found in " << entry.path().filename();
    }
  }
  EXPECT_GT(files, 3u);
}

// Index::Put cuts text with CutIndexWords instead of Xapian's
// TermGenerator; these tests hold the two to the same words at the same
// positions on texts made to hit every rule of the TermGenerator's
// parse_terms (initials, infixes, suffixes, zero-width characters, long
// words, invalid UTF-8).
std::vector<std::string> TrickyTexts(bool with_cjk) {
  std::vector<std::string> texts = {
      "",
      " ",
      "a",
      "A",
      "S.L.",
      "S.L",
      "U.S.A. y P.T.O.",
      "U.S.Ab",
      "A.b",
      "A.",
      "A.B.c",
      "C++ C# c+++ c++++ fish+chips a+",
      "AT&T M&S d'Ors l'eau O’Brien O‛Neil",
      "1.234,56 1,2.3 1;2 1..2 1.a a.1 12.345.678-Z",
      "ES91 2100 0418 4502 0005 1332",
      "FAC-2024-001 N.º 7 nº 8 1ª 2º",
      "e\xe2\x80\x8bmail 1\xe2\x80\x8b"
      "2 x\xef\xbb\xbfy w\xe2\x81\xa0z",
      "snake_case __init__ _",
      "Facturación ÁRBOL Ñandú straße İstanbul ıi",
      "facturacio\xcc\x81n",
      "\xc3 \x80 \xe2\x80 \xc0\xaf \xed\xa0\x80 \xff\xfe abc\xc3",
      "\xc3\xa9\xc3",
      "Ελλάδα ΣΊΣΥΦΟΣ жизнь ١٢٣ ４５ ²³ ½",
      "x\xc2\xb7y a\xd7\xb4"
      "b a\xe2\x80\xa7"
      "b",
      "\xf0\x9f\x98\x80 emoji\xf0\x9f\x98\x80word",
      std::string(70, 'a') + " corta " + std::string(64, 'b'),
      std::string(63, 'c') + "\xc3\xa9 fin",
      "tab\tnew\nline\r\nend\x01\x7f",
      std::string("nul\0byte", 8),
      "Factura de la luz del mes de marzo para el cliente",
      "The invoice of the month and the receipt",
  };
  if (with_cjk) texts.push_back("中文 text 日本語テキスト 한국어");
  // Random strings of pieces that meet each other in every order.
  const std::vector<std::string> pieces = {"a",
                                           "B",
                                           "z",
                                           "Q",
                                           "0",
                                           "7",
                                           "_",
                                           " ",
                                           "  ",
                                           ".",
                                           ",",
                                           ";",
                                           "'",
                                           "&",
                                           "+",
                                           "#",
                                           "-",
                                           "/",
                                           "é",
                                           "É",
                                           "ñ",
                                           "ß",
                                           "İ",
                                           "ı",
                                           "\xe2\x80\x99",
                                           "\xe2\x80\x9b",
                                           "\xe2\x80\x8b",
                                           "\xc2\xb7",
                                           "\xcc\x81",
                                           "\xd9\xa0",
                                           "\xef\xbc\x91",
                                           "\xc2\xb2",
                                           "\xe2\x81\x84",
                                           "\xcd\xbe",
                                           "Ω",
                                           "ж",
                                           "\xc3",
                                           "\x80",
                                           "\xe2\x80",
                                           "\xc0\xaf",
                                           "\xf0\x9f\x98\x80",
                                           "S.L.",
                                           "C++",
                                           "\t",
                                           "\xc2\xaa",
                                           "\xc2\xb5",
                                           "\xef\xbb\xbf",
                                           "de",
                                           "la",
                                           "the",
                                           "Factura",
                                           "1.234,56",
                                           std::string(30, 'x')};
  std::mt19937 random(20261206);
  for (int i = 0; i < 4000; ++i) {
    std::string text;
    const int n = std::uniform_int_distribution<int>(1, 24)(random);
    for (int k = 0; k < n; ++k) {
      text += pieces[std::uniform_int_distribution<std::size_t>(0, pieces.size() - 1)(random)];
    }
    texts.push_back(std::move(text));
  }
  return texts;
}

// The terms of `doc` by position (positions 1..n; "" where none is).
std::vector<std::string> TermsByPosition(const Xapian::Document& doc) {
  std::vector<std::string> by_position;
  for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
    for (auto p = t.positionlist_begin(); p != t.positionlist_end(); ++p) {
      if (by_position.size() < *p) by_position.resize(*p);
      by_position[*p - 1] = *t;
    }
  }
  return by_position;
}

std::string Printable(const std::string& text) {
  std::string out;
  for (const unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

TEST(CutIndexWordsTest, CutsEveryWordAsTheTermGeneratorDoes) {
  if (const char* cjk = std::getenv("XAPIAN_CJK_NGRAM"); cjk != nullptr && *cjk != '\0') {
    GTEST_SKIP() << "XAPIAN_CJK_NGRAM is set: the TermGenerator cuts CJK text into n-grams";
  }
  Xapian::TermGenerator generator;  // no stemmer, no stopper: each word as it is cut
  std::string buffer;
  std::vector<std::uint32_t> ends;
  int compared = 0;
  for (const std::string& text : TrickyTexts(/*with_cjk=*/true)) {
    Xapian::Document doc;
    generator.set_document(doc);
    generator.index_text(text);
    CutIndexWords(text, &buffer, &ends);
    std::vector<std::string> words;
    std::uint32_t begin = 0;
    for (const std::uint32_t end : ends) {
      if (end - begin <= 64) words.push_back(buffer.substr(begin, end - begin));
      begin = end;
    }
    ASSERT_EQ(words, TermsByPosition(doc)) << Printable(text);
    compared += !words.empty();
  }
  EXPECT_GT(compared, 3900);
}

// Put with the TermGenerator (which Put falls back to when XAPIAN_CJK_NGRAM
// is set) and Put with CutIndexWords store the same terms at the same
// positions, function words and English stemming included.
TEST_F(IndexTest, PutIndexesWhatTheTermGeneratorWould) {
  if (const char* cjk = std::getenv("XAPIAN_CJK_NGRAM"); cjk != nullptr && *cjk != '\0') {
    GTEST_SKIP() << "XAPIAN_CJK_NGRAM is set";
  }
  // Xapian reads XAPIAN_CJK_NGRAM once, on first use: use it now, unset, so
  // that setting it below changes nothing but the second Index's choice.
  {
    Xapian::TermGenerator warm;
    Xapian::Document doc;
    warm.set_document(doc);
    warm.index_text("warm");
  }
  std::vector<std::string> texts = TrickyTexts(/*with_cjk=*/false);
  texts.push_back(
      "The shipment of the goods to Blackwood is late, and the invoice is due on receipt. "
      "Please pay the invoice of the month by transfer to the account of the company.");
  texts.push_back(
      "Factura FAC-2024-001 de Ferretería Zamorano, S.L., marzo. NIF 12345678Z. IBAN ES91 2100 "
      "0418 4502 0005 1332. Importe 1.234,56 € (IVA 21%). Información y facturación: d'Ors.");
  Index fast = OpenOrDie();
  ASSERT_EQ(setenv("XAPIAN_CJK_NGRAM", "1", 1), 0);
  Result<Index> generator = Index::Open(root_ / "generator", /*create=*/true);
  unsetenv("XAPIAN_CJK_NGRAM");
  ASSERT_TRUE(generator) << generator.error().message;
  ASSERT_TRUE(generator->Unlock(Key()));
  for (std::size_t i = 0; i < texts.size(); ++i) {
    Put(fast, "d" + std::to_string(i), texts[i]);
    Put(*generator, "d" + std::to_string(i), texts[i]);
  }
  ASSERT_TRUE(fast.Commit());
  ASSERT_TRUE(generator->Commit());
  Xapian::Database a(dir_.string());
  Xapian::Database b((root_ / "generator").string());
  ASSERT_EQ(a.get_doccount(), texts.size());
  ASSERT_EQ(b.get_doccount(), texts.size());
  std::size_t english = 0;
  std::size_t positions = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string id = "Qd" + std::to_string(i);
    const Xapian::Document da = a.get_document(*a.postlist_begin(id));
    const Xapian::Document db = b.get_document(*b.postlist_begin(id));
    const std::vector<std::string> terms = TermsByPosition(da);
    ASSERT_EQ(terms, TermsByPosition(db)) << Printable(texts[i]);
    std::vector<std::pair<std::string, Xapian::termcount>> ta, tb;
    for (auto t = da.termlist_begin(); t != da.termlist_end(); ++t)
      ta.emplace_back(*t, t.get_wdf());
    for (auto t = db.termlist_begin(); t != db.termlist_end(); ++t)
      tb.emplace_back(*t, t.get_wdf());
    ASSERT_EQ(ta, tb) << Printable(texts[i]);
    english += DetectLanguage(texts[i]) == Language::kEnglish;
    positions += terms.size();
  }
  EXPECT_GE(english, 2u);
  EXPECT_GT(positions, 10000u);
  // And the words are found.
  EXPECT_EQ(Ids(fast, "ferreteria zamorano \"importe 1.234,56\""),
            IdList{"d" + std::to_string(texts.size() - 1)});
  EXPECT_EQ(Ids(fast, "blackwood shipments"), IdList{"d" + std::to_string(texts.size() - 2)});
}

// A bulk run of Puts is committed every kCommitEvery documents by Put
// itself, and Xapian flushes on its own every XAPIAN_FLUSH_THRESHOLD
// changes; a crash after either must leave documents whose facet codes
// have their names (before, only Commit wrote the names, so a crash after
// Xapian's own flush left codes without names, and the next new name took
// a code already in use).
TEST_F(IndexTest, DocumentsCommittedBeforeACrashKeepTheirFacetNames) {
  for (const bool xapian_flush : {false, true}) {
    SCOPED_TRACE(xapian_flush ? "Xapian's own flush" : "Put's commit");
    fs::remove_all(dir_);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // Dies without Commit and without destructors (which would commit).
      if (xapian_flush) setenv("XAPIAN_FLUSH_THRESHOLD", "2", 1);
      Result<Index> index = Index::Open(dir_, /*create=*/true);
      if (!index || !index->Unlock(Key())) _exit(2);
      index->set_commit_every(xapian_flush ? 1000 : 2);
      for (const auto& [id, type] :
           {std::pair{"a", "factura"}, std::pair{"b", "nomina"}, std::pair{"c", "contrato"}}) {
        Doc doc;
        doc.id = id;
        doc.type = type;
        doc.status = "review";
        doc.text = "texto";
        if (!index->Put(doc)) _exit(3);
      }
      _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    Index index = OpenOrDie();
    EXPECT_EQ(index.size(), 2u);  // a and b, committed after the second Put; c was not
    SearchRequest request;
    request.facets = true;
    Result<SearchResult> all = index.Search(request);
    ASSERT_TRUE(all) << all.error().message;
    EXPECT_EQ(all->facets.type,
              (std::map<std::string, std::uint64_t>{{"factura", 1}, {"nomina", 1}}));
    EXPECT_EQ(all->facets.status, (std::map<std::string, std::uint64_t>{{"review", 2}}));
    // A name added after the crash gets a code of its own.
    Doc doc;
    doc.id = "d";
    doc.type = "dni";
    doc.status = "auto";
    ASSERT_TRUE(index.Put(doc));
    ASSERT_TRUE(index.Commit());
    all = index.Search(request);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->facets.type,
              (std::map<std::string, std::uint64_t>{{"factura", 1}, {"nomina", 1}, {"dni", 1}}));
  }
}

}  // namespace
}  // namespace custodia::index
