// tests/search_test.cc: search through the custodia binary on a real
// archive of born-digital documents whose words the test chooses: the query
// language, facets, similar, the index following check-outs and review
// decisions at once, `rebuild`, `verify` telling a stale index, and no word
// of any document in the index files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/testutil.h"

namespace custodia {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::RunCommand;
using testing::ShellQuote;
using testing::TempDir;

constexpr char kPassphrase[] = "search test passphrase";

std::string Custodia(const fs::path& archive, const std::string& args) {
  return testing::CustodiaCommand(CUSTODIA_BINARY, archive, args, kPassphrase);
}

// The documents: an invoice, a second invoice from the same supplier, a
// payslip and a claim, with fields the extractors read from the text.
const std::map<std::string, std::vector<std::string>> kDocuments = {
    {"factura_1.pdf",
     {"FACTURA", "Ferreteria Zamorano S.L.", "CIF: B12345674", "Numero de factura: FZ-2024-0007",
      "Fecha de factura: 15/01/2024", "Cliente: Ana Garcia Lopez", "NIF: 12345678Z",
      "Tornillos y clavos galvanizados", "Base imponible: 100,00 EUR", "IVA 21%: 21,00 EUR",
      "Total factura: 121,00 EUR", "IBAN: ES91 2100 0418 4502 0005 1332"}},
    {"factura_2.pdf",
     {"FACTURA", "Ferreteria Zamorano S.L.", "CIF: B12345674", "Numero de factura: FZ-2024-0031",
      "Fecha de factura: 20/03/2024", "Cliente: Ana Garcia Lopez", "NIF: 12345678Z",
      "Herramientas de taller y tornillos", "Base imponible: 1.000,00 EUR",
      "IVA 21%: 210,00 EUR", "Total factura: 1.210,00 EUR",
      "IBAN: ES91 2100 0418 4502 0005 1332"}},
    {"nomina.pdf",
     {"NOMINA", "Recibo individual de salarios", "Empresa: Construcciones Ebro S.A.",
      "CIF: A58818501", "Trabajador: Luis Perez Martin", "NIF: 87654321X",
      "Periodo de liquidacion: marzo 2024", "Salario base 1.500,00", "Total devengado: 2.000,00",
      "Liquido a percibir: 1.650,00", "IBAN: ES76 2077 0024 0031 0257 5766"}},
    {"reclamacion.pdf",
     {"RECLAMACION", "Numero de reclamacion: R-2023-0456", "Fecha: 12/12/2023",
      "Reclamante: Marta Sanchez Ruiz, NIF 11111111H",
      "Suministro electrico con CUPS ES0021000000000001RK",
      "Motivo: facturacion indebida de energia reactiva"}},
};

// Words and numbers of the documents that must not appear anywhere in the
// index files.
const std::vector<std::string> kSecrets = {
    "Zamorano", "zamorano", "zamoran",  "Ferreteria", "ferreteria", "ferret",
    "B12345674", "b12345674", "12345678Z", "12345678z", "ES9121000418450200051332",
    "es9121000418450200051332", "FZ-2024-0007", "fz-2024-0007", "galvanizados", "galvaniz",
    "Ebro", "ebro", "87654321X", "Sanchez", "sanchez", "reactiva", "reactiv", "1650.00",
    "1210.00", "ES0021000000000001RK", "factura", "nomina", "reclamacion"};

class SearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    archive_ = tmp_->path() / "archive";
    auto init = RunCommand(Custodia(archive_, "init"), tmp_->path());
    ASSERT_EQ(init.exit_code, 0) << init.err;
    std::string args = "--json ingest";
    for (const auto& [name, lines] : kDocuments) {
      const fs::path file = tmp_->path() / name;
      testing::WriteTextPdf(file, lines);
      args += " " + ShellQuote(file.string());
    }
    auto ingest = RunCommand(Custodia(archive_, args), tmp_->path());
    ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
    std::istringstream lines(ingest.out);
    for (std::string line; std::getline(lines, line);) {
      json j = json::parse(line);
      ids_[fs::path(j["source"].get<std::string>()).filename().string()] = j["id"];
    }
    ASSERT_EQ(ids_.size(), kDocuments.size()) << ingest.out;
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }

  static testing::CommandResult Run(const std::string& args) {
    return RunCommand(Custodia(archive_, args), tmp_->path());
  }

  // The ids `search ARGS` finds, sorted; fails the test on an error.
  static std::set<std::string> Found(const std::string& args) {
    auto r = Run("--json search --no-snippets -n 100 " + args);
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    std::set<std::string> found;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      json j = json::parse(line);
      if (j.contains("id")) found.insert(j["id"].get<std::string>());
    }
    return found;
  }

  static std::string Id(const std::string& name) { return ids_.at(name); }
  static std::set<std::string> Ids(std::initializer_list<const char*> names) {
    std::set<std::string> out;
    for (const char* name : names) out.insert(Id(name));
    return out;
  }

  static TempDir* tmp_;
  static fs::path archive_;
  static std::map<std::string, std::string> ids_;
};

TempDir* SearchTest::tmp_ = nullptr;
fs::path SearchTest::archive_;
std::map<std::string, std::string> SearchTest::ids_;

TEST_F(SearchTest, WordsFieldsRangesAndFilters) {
  EXPECT_EQ(Found("zamorano"), Ids({"factura_1.pdf", "factura_2.pdf"}));
  EXPECT_EQ(Found("'\"ferreteria zamorano\"' tornillos galvanizados"), Ids({"factura_1.pdf"}));
  EXPECT_EQ(Found("tipo:factura"), Ids({"factura_1.pdf", "factura_2.pdf"}));
  EXPECT_EQ(Found("nif:12345678Z"), Ids({"factura_1.pdf", "factura_2.pdf"}));
  EXPECT_EQ(Found("cif:B12345674 numero:FZ-2024-0031"), Ids({"factura_2.pdf"}));
  EXPECT_EQ(Found("iban:ES7620770024003102575766"), Ids({"nomina.pdf"}));
  EXPECT_EQ(Found("cups:ES0021000000000001RK"), Ids({"reclamacion.pdf"}));
  EXPECT_EQ(Found("fecha:2024-01-01..2024-03-31"),
            Ids({"factura_1.pdf", "factura_2.pdf", "nomina.pdf"}));
  EXPECT_EQ(Found("fecha:..2023-12-31"), Ids({"reclamacion.pdf"}));
  EXPECT_EQ(Found("importe:100..500"), Ids({"factura_1.pdf"}));
  EXPECT_EQ(Found("importe:1000.."), Ids({"factura_2.pdf", "nomina.pdf"}));
  EXPECT_EQ(Found("'tornillos AND (galvanizados OR herramientas) NOT taller'"),
            Ids({"factura_1.pdf"}));
  EXPECT_EQ(Found("estado:auto tipo:nomina"), Ids({"nomina.pdf"}));
  EXPECT_EQ(Found("numero:R-2023-0456 nif:11111111H"), Ids({"reclamacion.pdf"}));
}

TEST_F(SearchTest, SortPagesFacetsAndSnippets) {
  auto sorted = Run("--json search tipo:factura --sort importe --asc --no-snippets");
  ASSERT_EQ(sorted.exit_code, 0) << sorted.err;
  std::istringstream lines(sorted.out);
  std::vector<json> hits;
  for (std::string line; std::getline(lines, line);) hits.push_back(json::parse(line));
  ASSERT_EQ(hits.size(), 2u) << sorted.out;
  EXPECT_EQ(hits[0]["id"], Id("factura_1.pdf"));
  EXPECT_EQ(hits[0]["amount"], "121.00");
  EXPECT_EQ(hits[0]["date"], "2024-01-15");
  EXPECT_EQ(hits[1]["amount"], "1210.00");

  auto page = Run("--json search --sort fecha --offset 1 -n 1 --no-snippets");
  ASSERT_EQ(page.exit_code, 0) << page.err;
  // Newest first: factura_2 (2024-03-20), nomina (periodo 2024-03), ...
  EXPECT_EQ(json::parse(page.out)["id"], Id("nomina.pdf")) << page.out;

  auto facets = Run("--json search --facets --no-snippets -n 1");
  ASSERT_EQ(facets.exit_code, 0) << facets.err;
  std::istringstream facet_lines(facets.out);
  std::string line, last;
  while (std::getline(facet_lines, line)) last = line;
  json f = json::parse(last);
  EXPECT_EQ(f["matches"], 4);
  EXPECT_EQ(f["facets"]["tipo"]["factura"], 2);
  EXPECT_EQ(f["facets"]["tipo"]["nomina"], 1);
  EXPECT_EQ(f["facets"]["año"]["2024"], 3);
  EXPECT_EQ(f["facets"]["año"]["2023"], 1);

  auto snippet = Run("search galvanizados");
  ASSERT_EQ(snippet.exit_code, 0) << snippet.err;
  EXPECT_NE(snippet.out.find("[galvanizados]"), std::string::npos) << snippet.out;
  EXPECT_NE(snippet.out.find(Id("factura_1.pdf")), std::string::npos);
  EXPECT_NE(snippet.out.find("2024-01-15"), std::string::npos);
}

TEST_F(SearchTest, MalformedQueriesExit2WithTheReason) {
  struct Case {
    const char* args;
    const char* says;
  } cases[] = {
      {"'factura AND'", "Syntax:"},
      {"'tornill*'", "wildcards (*) cannot work here"},
      {"fecha:2024-02-30..", "\"2024-02-30\" is not a date"},
      {"importe:500..100", "is empty"},
      {"prestado:tal", "use prestado:si or prestado:no"},
      {"x --sort peso", "--sort: \"peso\" is not an order"},
  };
  for (const Case& c : cases) {
    auto r = Run(std::string("search ") + c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << c.args << ": " << r.err;
  }
}

TEST_F(SearchTest, SimilarFindsTheOtherInvoice) {
  auto r = Run("--json similar " + Id("factura_1.pdf") + " -n 1 --no-snippets");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["id"], Id("factura_2.pdf")) << r.out;
  auto missing = Run("similar D999999");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("D999999"), std::string::npos) << missing.err;
}

// The index follows the ledger at once; `verify` tells when it did not,
// and `rebuild` recreates it from the vault alone.
TEST_F(SearchTest, IndexFollowsLoansAndRebuildAndVerifyTellAStaleIndex) {
  const std::string nomina = Id("nomina.pdf");
  EXPECT_EQ(Found("prestado:si"), std::set<std::string>{});
  // An index copied before the check-out is stale after it.
  const fs::path index = archive_ / "index";
  const fs::path saved = tmp_->path() / "index-before";
  fs::copy(index, saved, fs::copy_options::recursive);
  ASSERT_EQ(Run("checkout " + nomina + " --to rrhh --due 2031-01-31").exit_code, 0);
  EXPECT_EQ(Found("prestado:si"), std::set<std::string>{nomina});
  EXPECT_EQ(Found("prestado:no tipo:nomina"), std::set<std::string>{});
  fs::remove_all(index);
  fs::copy(saved, index, fs::copy_options::recursive);
  auto verify = Run("--json verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  json report = json::parse(verify.out);
  EXPECT_EQ(report["stale"], 1) << verify.out;
  EXPECT_EQ(report["stale_ids"], json::array({nomina}));
  EXPECT_NE(Run("verify").err.find("disagrees with the ledger on 1 documents (" + nomina),
            std::string::npos);
  EXPECT_EQ(Found("prestado:si"), std::set<std::string>{});  // stale

  auto rebuild = Run("--json rebuild");
  ASSERT_EQ(rebuild.exit_code, 0) << rebuild.err;
  EXPECT_EQ(json::parse(rebuild.out)["indexed"], 4);
  EXPECT_EQ(Found("prestado:si"), std::set<std::string>{nomina});
  EXPECT_EQ(json::parse(Run("--json verify").out)["stale"], 0);
  ASSERT_EQ(Run("return " + nomina).exit_code, 0);
  EXPECT_EQ(Found("prestado:si"), std::set<std::string>{});

  // An index lost entirely: rebuild from the vault alone.
  fs::remove_all(index);
  fs::create_directories(index);
  ASSERT_EQ(Run("rebuild").exit_code, 0);
  EXPECT_EQ(Found("zamorano"), Ids({"factura_1.pdf", "factura_2.pdf"}));
}

// Auditors hold no key that opens the index: they verify, they do not read.
TEST_F(SearchTest, AnAuditorCannotSearch) {
  auto add = RunCommand("CUSTODIA_NEW_PASSPHRASE=audit-secret " +
                            Custodia(archive_, "user add audrey --role auditor"),
                        tmp_->path());
  ASSERT_EQ(add.exit_code, 0) << add.err;
  auto search = RunCommand(testing::CustodiaCommand(CUSTODIA_BINARY, archive_,
                                                    "--user audrey search zamorano",
                                                    "audit-secret"),
                           tmp_->path());
  EXPECT_EQ(search.exit_code, 1);
  EXPECT_NE(search.err.find("auditors do not hold"), std::string::npos) << search.err;
  EXPECT_EQ(search.out, "");
}

TEST_F(SearchTest, NoWordOfAnyDocumentIsInTheIndexFiles) {
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(archive_ / "index")) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string bytes = buffer.str();
    for (const std::string& secret : kSecrets) {
      EXPECT_EQ(bytes.find(secret), std::string::npos)
          << "\"" << secret << "\" found in index/" << entry.path().filename().string();
    }
  }
  EXPECT_GE(files, 3u);
  // And the words are really indexed: search finds each document by them.
  EXPECT_EQ(Found("galvanizados"), Ids({"factura_1.pdf"}));
  EXPECT_EQ(Found("reactiva"), Ids({"reclamacion.pdf"}));
}

}  // namespace
}  // namespace custodia
