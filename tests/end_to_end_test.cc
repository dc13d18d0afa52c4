// tests/end_to_end_test.cc: the custodia binary over the bundled samples:
// ingest, OCR text against ground truth, search, export, verify; and the
// command line's promises on bad input and bad usage.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/testutil.h"

namespace custodia {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::Fold;
using testing::RunCommand;
using testing::ShellQuote;
using testing::TempDir;
using testing::Tokens;
using testing::Words;

// The test archives' first user (admin) gets this passphrase at init and
// gives it for every command after, through the environment (never argv).
constexpr char kPassphrase[] = "end-to-end test passphrase";

std::string Custodia(const fs::path& archive, const std::string& args,
                     const std::string& passphrase = kPassphrase) {
  return testing::CustodiaCommand(CUSTODIA_BINARY, archive, args, passphrase);
}

struct Sample {
  fs::path file;
  json expected;
  bool born_digital() const { return expected["degradation"].is_null(); }
  int rotation() const {
    const json& d = expected["degradation"];
    return d.is_object() ? d.value("rotation", 0) : 0;
  }
};

std::vector<Sample> LoadSamples() {
  std::vector<Sample> samples;
  fs::path dir = testing::SourceDir() / "samples";
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.size() < 14 || name.substr(name.size() - 14) != ".expected.json") continue;
    json expected = json::parse(testing::ReadText(entry.path()));
    samples.push_back({dir / expected["file"].get<std::string>(), expected});
  }
  std::sort(samples.begin(), samples.end(),
            [](const Sample& a, const Sample& b) { return a.file < b.file; });
  return samples;
}

// The whole main job in one test, since ingesting the samples (OCR) is the
// expensive part and every check below depends on it.
TEST(EndToEndTest, SamplesAreIngestedFoundExportedAndVerified) {
  TempDir tmp;
  fs::path archive = tmp / "archive";
  std::vector<Sample> samples = LoadSamples();
  ASSERT_GE(samples.size(), 7u) << "samples/ should hold at least one document of each type";

  auto init = RunCommand(Custodia(archive, "init"), tmp.path());
  ASSERT_EQ(init.exit_code, 0) << init.err;

  // Ingest with a temporary directory of its own, searched for plaintext
  // at the end.
  const fs::path work_tmp = tmp / "ingest-tmp";
  fs::create_directories(work_tmp);
  std::string args = "--json ingest --jobs 2";
  for (const Sample& s : samples) args += " " + ShellQuote(s.file.string());
  auto ingest = RunCommand("TMPDIR=" + ShellQuote(work_tmp.string()) + " " + Custodia(archive, args),
                           tmp.path());
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;

  // One JSON line per document, in input order, with the promised keys.
  std::map<fs::path, json> by_source;
  std::istringstream lines(ingest.out);
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line);
    for (const char* key : {"id", "source", "pages", "type", "status"})
      EXPECT_TRUE(j.contains(key)) << line;
    by_source[j["source"].get<std::string>()] = j;
  }
  ASSERT_EQ(by_source.size(), samples.size()) << ingest.out;

  // Words that occur in exactly one sample, to search for.
  std::map<std::string, int> doc_freq;
  for (const Sample& s : samples) {
    auto words = Words(s.expected["text"].get<std::string>(), 6);
    for (const std::string& w : std::set<std::string>(words.begin(), words.end())) ++doc_freq[w];
  }

  for (const Sample& s : samples) {
    SCOPED_TRACE(s.file.filename().string());
    const json& ingested = by_source[s.file];
    ASSERT_TRUE(ingested["id"].is_string()) << ingested.dump();
    std::string id = ingested["id"];
    EXPECT_EQ(ingested["pages"], s.expected["pages"]);
    EXPECT_EQ(ingested["type"], s.expected["type"]);

    auto show = RunCommand(Custodia(archive, "--json show " + id), tmp.path());
    ASSERT_EQ(show.exit_code, 0) << show.err;
    json doc = json::parse(show.out);
    EXPECT_EQ(doc["source"], s.file.string());
    EXPECT_EQ(doc["type"], s.expected["type"]);
    EXPECT_TRUE(doc["type_confidence"].is_number());
    EXPECT_TRUE(doc["reasons"].is_array());
    ASSERT_TRUE(doc["fields"].is_object());
    // From a text layer every field is read exactly, valid, and the
    // document needs no person.
    if (s.expected.at("degradation").is_null()) {
      const json& fields = doc.at("fields");
      for (const auto& [name, value] : s.expected.at("fields").items()) {
        auto it = fields.find(name);
        ASSERT_NE(it, fields.end()) << name;
        EXPECT_EQ(it->value("value", std::string()), value.get<std::string>()) << name;
        EXPECT_TRUE(it->value("valid", false)) << name;
      }
      EXPECT_EQ(doc.value("status", std::string()), "auto") << doc.at("reasons").dump();
    }
    EXPECT_EQ(doc["original_hash"].get<std::string>().size(), 64u);
    std::string text = Fold(doc["text"].get<std::string>());
    std::size_t form_feeds = std::count(text.begin(), text.end(), '\f');
    EXPECT_EQ(form_feeds + 1, s.expected["pages"].get<std::size_t>());

    // The text holds the expected words: all of them from a text layer,
    // nearly all from an upright scan. Pages turned 90/180 degrees are read
    // once orientation detection lands (issue 4); until then only their
    // sealing, export and verification are checked.
    std::vector<std::string> expected_words = Words(s.expected["text"].get<std::string>(), 5);
    ASSERT_FALSE(expected_words.empty());
    if (s.rotation() == 0) {
      std::size_t found = 0;
      std::vector<std::string> missing;
      for (const std::string& w : expected_words) {
        if (text.find(w) != std::string::npos) {
          ++found;
        } else {
          missing.push_back(w);
        }
      }
      double recall = static_cast<double>(found) / static_cast<double>(expected_words.size());
      double floor = s.born_digital() ? 1.0 : 0.9;
      EXPECT_GE(recall, floor) << "missing words: " << json(missing).dump();

      // Search finds it by a word only it holds, typed without accents.
      for (const std::string& w : expected_words) {
        if (w.size() < 6 || doc_freq[w] != 1 || text.find(w) == std::string::npos) continue;
        auto search =
            RunCommand(Custodia(archive, "--json search --limit 50 " + ShellQuote(w)), tmp.path());
        ASSERT_EQ(search.exit_code, 0) << search.err;
        EXPECT_NE(search.out.find("\"id\":\"" + id + "\""), std::string::npos)
            << "search " << w << " did not find " << id << ": " << search.out;
        break;
      }
    }

    // Export gives the original back, byte for byte.
    fs::path out = tmp / ("export-" + id);
    auto exported = RunCommand(
        Custodia(archive, "export " + id + " --out " + ShellQuote(out.string())), tmp.path());
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    EXPECT_EQ(testing::ReadText(out), testing::ReadText(s.file));
  }

  auto verify = RunCommand(Custodia(archive, "--json verify"), tmp.path());
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("\"ok\":true"), std::string::npos) << verify.out;

  // No plaintext outside the vault's encryption: every word of 6 letters
  // or more of the samples' texts, and every field value of 6 characters or
  // more, as written and folded, is absent from every file of the archive
  // folder (the index: docs/index_schema.md, "No plaintext at rest"; the
  // vault's blobs are encrypted) and of ingest's temporary directory, while
  // search found them above. The one exception: the ledger names each
  // document's type in clear, and "factura" or "justificante" are words of
  // the texts too.
  std::set<std::string> secrets;
  for (const Sample& s : samples) {
    const std::string text = s.expected["text"].get<std::string>();
    for (const std::string& w : Words(text, 6)) secrets.insert(w);
    // As written too: "Reformas La Mancha" holds no folded word of it.
    for (const std::string& t : Tokens(text, 6)) secrets.insert(t);
    for (const auto& [name, value] : s.expected.at("fields").items()) {
      const std::string v = value.get<std::string>();
      if (v.size() >= 6) {
        secrets.insert(v);
        secrets.insert(Fold(v));
      }
    }
  }
  ASSERT_GT(secrets.size(), 100u);
  std::set<std::string> types;
  for (const Sample& s : samples) types.insert(s.expected.at("type").get<std::string>());
  std::size_t index_files = 0;
  std::size_t files = 0;
  for (const fs::path& root : {archive, work_tmp}) {
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (!entry.is_regular_file()) continue;
      ++files;
      const fs::path relative = fs::relative(entry.path(), tmp.path());
      if (*fs::relative(entry.path(), archive).begin() == "index") ++index_files;
      const bool ledger = entry.path().filename() == "ledger";
      const std::string bytes = testing::ReadText(entry.path());
      for (const std::string& secret : secrets) {
        if (ledger && std::any_of(types.begin(), types.end(), [&](const std::string& type) {
              return type.find(secret) != std::string::npos;
            })) {
          continue;
        }
        EXPECT_EQ(bytes.find(secret), std::string::npos)
            << "\"" << secret << "\" is in " << relative.string();
      }
    }
  }
  EXPECT_GE(index_files, 3u);
  EXPECT_GT(files, index_files + 3);

  // Ingesting the same files again stores nothing twice.
  auto again = RunCommand(
      Custodia(archive, "--json ingest " + ShellQuote(samples[0].file.string())), tmp.path());
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("\"status\":\"duplicate\""), std::string::npos) << again.out;
}

class CliTest : public testing::CliArchiveTest {
 protected:
  CliTest() : CliArchiveTest(kPassphrase) {}
};

// The review queue, end to end: a factura whose total does not add up waits
// in review; a value that does not read is refused and approval is refused
// while a field is invalid; the right value is a signed ledger entry whose
// value is sealed (the ledger file holds neither value); approval takes it
// out of the queue; show, the log and the report say what happened.
TEST_F(CliTest, ReviewQueueCorrectsApprovesAndReports) {
  const fs::path pdf = tmp_ / "factura.pdf";
  testing::WriteTextPdf(pdf, {"FACTURA", "Numero de factura: F-2024-0042",
                              "Fecha de factura: 12/03/2024", "Ferreteria Lopez S.L.",
                              "CIF: B64717838", "Cliente: Ana Ruiz Gil", "NIF: 12345678Z",
                              "Base imponible: 100,00 EUR", "IVA 21%: 21,00 EUR",
                              "Total factura: 112,00 EUR", "IBAN: ES91 2100 0418 4502 0005 1332",
                              "Forma de pago: transferencia bancaria a 30 dias"});
  auto ingest = Cli("--json ingest " + ShellQuote(pdf.string()));
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  const json sealed = json::parse(ingest.out);
  const std::string id = sealed["id"];
  EXPECT_EQ(sealed["type"], "factura") << ingest.out;
  EXPECT_EQ(sealed["status"], "review") << ingest.out;

  auto list = Cli("--json review list");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const json item = json::parse(list.out);
  EXPECT_EQ(item["id"], id);
  EXPECT_EQ(item["type"], "factura");
  EXPECT_EQ(item["overdue"], false);
  EXPECT_EQ(item["decisions"], 0);

  auto show = Cli("--json review show " + id);
  ASSERT_EQ(show.exit_code, 0) << show.err;
  const json before = json::parse(show.out);
  EXPECT_TRUE(before["text"].is_null());  // review show reads no text
  EXPECT_EQ(before["fields"]["total"]["value"], "112.00") << show.out;
  EXPECT_EQ(before["fields"]["total"]["valid"], false) << show.out;

  auto unreadable = Cli("review set " + id + " total 'ciento veinte'");
  EXPECT_EQ(unreadable.exit_code, 2);
  EXPECT_NE(unreadable.err.find("total"), std::string::npos) << unreadable.err;
  auto early = Cli("review approve " + id);
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_NE(early.err.find("cannot be approved"), std::string::npos) << early.err;
  auto no_type = Cli("review type " + id + " carta");
  EXPECT_EQ(no_type.exit_code, 2);
  EXPECT_NE(no_type.err.find("factura, dni"), std::string::npos) << no_type.err;

  auto set = Cli("--json review set " + id + " total '121,00 EUR'");
  ASSERT_EQ(set.exit_code, 0) << set.err;
  const json after = json::parse(set.out);
  EXPECT_EQ(after["status"], "review");
  EXPECT_EQ(after["fields"]["total"]["value"], "121.00");
  EXPECT_EQ(after["fields"]["total"]["valid"], true);
  EXPECT_EQ(after["fields"]["base"]["valid"], true);
  ASSERT_EQ(after["reviews"].size(), 1u) << set.out;
  EXPECT_EQ(after["reviews"][0]["old"], "112.00");
  EXPECT_EQ(after["reviews"][0]["new"], "121.00");
  EXPECT_EQ(after["reviews"][0]["actor"], "admin");

  auto approve = Cli("--json review approve " + id);
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  EXPECT_EQ(json::parse(approve.out)["status"], "approved");
  EXPECT_EQ(Cli("--json review list").out, "");
  auto shown = Cli("--json show " + id);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(json::parse(shown.out)["status"], "approved");
  EXPECT_EQ(json::parse(shown.out)["fields"]["total"]["value"], "121.00");

  const std::string ledger = testing::ReadText(archive_ / "vault" / "ledger");
  EXPECT_EQ(ledger.find("121.00"), std::string::npos);
  EXPECT_EQ(ledger.find("112.00"), std::string::npos);
  auto log = Cli("log");
  EXPECT_NE(log.out.find(id + " set total (review)"), std::string::npos) << log.out;
  EXPECT_NE(log.out.find(id + " approved (approved)"), std::string::npos) << log.out;

  auto report = Cli("--json report");
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const json r = json::parse(report.out);
  EXPECT_EQ(r["documents"], 1);
  EXPECT_EQ(r["all"]["automated"], 0);
  EXPECT_EQ(r["all"]["corrected"], 1);
  EXPECT_EQ(r["types"]["factura"]["fields_corrected"]["total"], 1);
  EXPECT_EQ(r["queue"], 0);
  EXPECT_EQ(json::parse(Cli("--json report --since 2999-01-01").out)["documents"], 0);
  EXPECT_EQ(Cli("report --since yesterday").exit_code, 2);

  auto verify = Cli("verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.err << verify.out;
}

// custodia train: a layout the shipped model does not know, typed by hand in
// review and given as labelled texts, is recognised in the next ingest.
TEST_F(CliTest, TrainTeachesTheModelWhatPeopleDecided) {
  auto route = [](int n) {
    return std::vector<std::string>{
        "Hoja de ruta " + std::to_string(n) + ". Transportes Quiroga.",
        "Mercancia entregada en muelle tres: palets " + std::to_string(n % 7 + 2) + ".",
        "Cajas " + std::to_string(n * 3 % 50 + 10) + ". Conductor firma la recepcion.",
        "Matricula 4821 KLM. Hoja de ruta sellada por el almacen receptor."};
  };
  auto nothing = Cli("train");
  EXPECT_EQ(nothing.exit_code, 1);
  EXPECT_NE(nothing.err.find("nothing to learn from"), std::string::npos) << nothing.err;

  testing::WriteTextPdf(tmp_ / "r1.pdf", route(1));
  auto first = Cli("--json ingest " + ShellQuote((tmp_ / "r1.pdf").string()));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const json one = json::parse(first.out);
  ASSERT_NE(one["type"], "albaran") << first.out;
  ASSERT_EQ(Cli("review type " + one["id"].get<std::string>() + " albaran").exit_code, 0);

  const fs::path labelled = tmp_ / "labelled";
  fs::create_directories(labelled / "albaran");
  for (int i = 2; i < 7; ++i) {
    std::string text;
    for (const std::string& line : route(i)) text += line + "\n";
    testing::WriteText(labelled / "albaran" / ("r" + std::to_string(i) + ".txt"), text);
  }
  fs::create_directories(tmp_ / "wrong" / "carta");
  auto bad = Cli("train " + ShellQuote((tmp_ / "wrong").string()));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("carta"), std::string::npos) << bad.err;

  auto train = Cli("--json train " + ShellQuote(labelled.string()));
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const json t = json::parse(train.out);
  EXPECT_EQ(t["from_archive"], 1);
  EXPECT_EQ(t["from_folders"], 5);
  EXPECT_EQ(t["per_type"]["albaran"], 6);
  EXPECT_TRUE(fs::exists(archive_ / "model" / "types.model"));
  EXPECT_NE(Cli("log").out.find("text: train"), std::string::npos);

  testing::WriteTextPdf(tmp_ / "r9.pdf", route(99));
  auto next = Cli("--json ingest " + ShellQuote((tmp_ / "r9.pdf").string()));
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(json::parse(next.out)["type"], "albaran") << next.out;

  // A damaged model stops ingest with what to do, not silently ignored;
  // commands that classify nothing still work.
  testing::WriteText(archive_ / "model" / "types.model", "not a model\n");
  auto damaged = Cli("ingest " + ShellQuote((tmp_ / "r1.pdf").string()));
  EXPECT_EQ(damaged.exit_code, 1);
  EXPECT_NE(damaged.err.find("custodia train"), std::string::npos) << damaged.err;
  EXPECT_EQ(Cli("verify").exit_code, 0);
}

// Due times come from custodia.toml in the archive; a bad file is refused
// naming the file and the key.
TEST_F(CliTest, ReviewDueTimesAreConfiguredInCustodiaToml) {
  testing::WriteText(archive_ / "custodia.toml", "[review.due_hours]\nfactura = -1\n");
  auto bad = Cli("review list");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("custodia.toml"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("review.due_hours.factura"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("custodia.toml:2:"), std::string::npos) << "names the line: " << bad.err;
  testing::WriteText(archive_ / "custodia.toml", "[review.due_hours]\ncarta = 4\n");
  EXPECT_NE(Cli("review list").err.find("no such document type"), std::string::npos);
  testing::WriteText(archive_ / "custodia.toml", "[review\n");
  EXPECT_NE(Cli("review list").err.find("custodia.toml:1:"), std::string::npos);
  testing::WriteText(archive_ / "custodia.toml", "[review.due_hours]\nfactura = 0.0001\n");
  const fs::path pdf = tmp_ / "f.pdf";
  testing::WriteTextPdf(pdf, {"FACTURA", "Numero de factura: A-1", "Total factura: 112,00 EUR"});
  ASSERT_EQ(Cli("ingest " + ShellQuote(pdf.string())).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto list = Cli("--json review list");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(json::parse(list.out)["overdue"], true) << list.out;
}

TEST_F(CliTest, InitRefusesAnExistingArchive) {
  auto again = Cli("init");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
}

TEST_F(CliTest, BadInputsAreNamedAndTheOthersStillIngested) {
  testing::WriteText(tmp_ / "empty.pdf", "");
  testing::WriteText(tmp_ / "notes.txt", "esto no es un documento escaneado\n");
  testing::WriteText(tmp_ / "fake.png", "\x89PNG\r\n\x1a\n" + std::string(40, '\0'));
  fs::path good;
  for (const auto& e : fs::directory_iterator(testing::SourceDir() / "samples"))
    if (e.path().extension() == ".pdf" && (good.empty() || e.path() < good)) good = e.path();
  ASSERT_FALSE(good.empty());

  auto r = Cli("--json ingest " + ShellQuote((tmp_ / "empty.pdf").string()) + " " +
               ShellQuote((tmp_ / "notes.txt").string()) + " " +
               ShellQuote((tmp_ / "fake.png").string()) + " " +
               ShellQuote((tmp_ / "missing.pdf").string()) + " " + ShellQuote(good.string()));
  EXPECT_EQ(r.exit_code, 1);
  std::vector<json> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  ASSERT_EQ(lines.size(), 5u) << r.out;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(lines[i]["status"], "failed") << lines[i].dump();
    EXPECT_TRUE(lines[i]["id"].is_null());
    EXPECT_FALSE(lines[i].value("error", "").empty());
  }
  EXPECT_NE(lines[0]["error"].get<std::string>().find("empty"), std::string::npos);
  EXPECT_NE(lines[3]["error"].get<std::string>().find("no such file"), std::string::npos);
  EXPECT_TRUE(lines[4]["id"].is_string()) << lines[4].dump();
  EXPECT_NE(r.err.find("4 failed"), std::string::npos) << r.err;

  // Nothing half-made: the one good document is there, and it verifies.
  auto verify = Cli("verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(verify.out.find("1 documents indexed"), std::string::npos) << verify.out;
}

TEST_F(CliTest, BadUsageExitsTwoAndSaysWhatToDo) {
  auto r = Cli("ingest");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--help"), std::string::npos) << r.err;
  EXPECT_EQ(Cli("frobnicate").exit_code, 2);
  EXPECT_EQ(Cli("search x --limit 0").exit_code, 2);
}

TEST_F(CliTest, EveryCommandHasHelp) {
  for (const char* command :
       {"init",     "ingest",      "show",      "search",     "export",           "verify",
        "user",     "user add",    "user list", "user grant", "user revoke-role", "user revoke",
        "checkout", "return",      "loans",     "log",        "rotate-key",       "checkpoint",
        "prove",    "verifier-key", "review",    "review list", "review show", "review set",
        "review type", "review approve", "report", "train", "similar", "rebuild", "cases",
        "watch", "config check"}) {
    auto r = Cli(std::string(command) + " --help");
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << command << ": " << r.out;
  }
}

TEST_F(CliTest, UnknownDocumentIsAClearFailure) {
  auto show = Cli("show D999999");
  EXPECT_EQ(show.exit_code, 1);
  EXPECT_NE(show.err.find("D999999"), std::string::npos) << show.err;
  auto exported = Cli("export D999999 --out " + ShellQuote((tmp_ / "x").string()));
  EXPECT_EQ(exported.exit_code, 1);
  EXPECT_FALSE(fs::exists(tmp_ / "x"));
}

// Every malformed, encrypted and oversized PDF of the shared corpus: each is
// archived or refused with a reason; nothing crashes or hangs, nothing
// half-made is left, and the archive verifies afterwards.
// Scanned pages through cleanup and OCR (issue 4): upside-down and sideways
// samples are turned upright and read, every stage can be kept as a PNG, the
// hOCR and the searchable PDF are sealed and exported, a blank page is
// recorded and not read, and a bad stage name is refused before anything.
TEST_F(CliTest, ScansAreTurnedCleanedAndSealedWithHocrAndPdf) {
  const fs::path samples = testing::SourceDir() / "samples";
  const fs::path stages = tmp_ / "stages";
  // A white A4 page at 150 dpi with a few specks and a grey edge, as a
  // flatbed scans an empty sheet (tests/testdata, made for this test).
  const fs::path blank = testing::SourceDir() / "tests" / "testdata" / "blank_page.png";
  auto r = Cli("--json ingest --jobs 2 --keep-stages " + ShellQuote(stages.string()) + " " +
               ShellQuote((samples / "08_factura_scan_rot180.jpg").string()) + " " +
               ShellQuote((samples / "09_albaran_scan_rot90.png").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  for (const json& l : lines) {
    EXPECT_EQ(l["turned_pages"], 1) << l.dump();
    EXPECT_EQ(l["ocr_pages"], 1) << l.dump();
  }
  // Read upright: the ground truth's keywords are in the text.
  for (const auto& [file, id] : {std::pair{"08_factura_scan_rot180", lines[0]["id"]},
                                 std::pair{"09_albaran_scan_rot90", lines[1]["id"]}}) {
    const json expected = json::parse(testing::ReadText(samples / (std::string(file) + ".expected.json")));
    auto show = Cli("--json show " + id.get<std::string>());
    ASSERT_EQ(show.exit_code, 0) << show.err;
    const std::string text = Fold(json::parse(show.out)["text"].get<std::string>());
    int found = 0, total = 0;
    for (const auto& k : expected["keywords"]) {
      ++total;
      if (text.find(Fold(k.get<std::string>())) != std::string::npos) ++found;
    }
    EXPECT_GE(found * 10, total * 9) << file << ": " << found << " of " << total << " keywords";
  }
  // Every stage of both pages was kept, the turn included.
  std::set<std::string> kept;
  for (const auto& e : fs::directory_iterator(stages)) kept.insert(e.path().filename().string());
  for (const char* stage : {"input", "orient", "deskew", "borders", "illumination", "binarize"}) {
    for (const char* file : {"08_factura_scan_rot180.jpg", "09_albaran_scan_rot90.png"}) {
      bool seen = false;
      for (const std::string& k : kept)
        seen |= k.starts_with(std::string(file) + ".p1.") && k.ends_with(std::string("-") + stage + ".png");
      EXPECT_TRUE(seen) << file << " " << stage;
    }
  }
  // hOCR and searchable PDF, exported (and logged).
  const std::string id = lines[0]["id"];
  const fs::path hocr = tmp_ / "d.hocr", pdf = tmp_ / "d.pdf";
  ASSERT_EQ(Cli("export " + id + " --format hocr --out " + ShellQuote(hocr.string())).exit_code, 0);
  ASSERT_EQ(Cli("export " + id + " --format pdf --out " + ShellQuote(pdf.string())).exit_code, 0);
  const std::string hocr_text = testing::ReadText(hocr);
  EXPECT_NE(hocr_text.find("class='ocr_page'"), std::string::npos);
  EXPECT_NE(hocr_text.find("ocrx_word"), std::string::npos);
  EXPECT_NE(hocr_text.find("x_wconf"), std::string::npos);
  const std::string pdf_bytes = testing::ReadText(pdf);
  EXPECT_EQ(pdf_bytes.rfind("%PDF-", 0), 0u);
  EXPECT_NE(pdf_bytes.find("GlyphLessFont"), std::string::npos);  // Tesseract's text layer
  auto log = Cli("--json log");
  EXPECT_NE(log.out.find(id + " pdf: export pdf"), std::string::npos) << log.out;
  // A born-digital document has neither: a clear refusal.
  ASSERT_EQ(Cli("ingest " + ShellQuote((samples / "02_dni.pdf").string())).exit_code, 0);
  auto refused = Cli("export D000003 --format hocr --out " + ShellQuote((tmp_ / "x").string()));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("has no hocr"), std::string::npos) << refused.err;
  // A blank page: recorded, not OCR'd.
  auto b = Cli("--json ingest " + ShellQuote(blank.string()));
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const json l = json::parse(b.out.substr(0, b.out.find('\n')));
  EXPECT_EQ(l["pages"], 1) << l.dump();
  EXPECT_EQ(l["blank_pages"], 1) << l.dump();
  EXPECT_EQ(l["ocr_pages"], 0) << l.dump();
  // A stage that does not exist: refused, nothing ingested.
  auto bad = Cli("ingest --skip-stage sharpen " + ShellQuote((samples / "07_albaran.pdf").string()));
  EXPECT_EQ(bad.exit_code, 2);  // bad usage
  EXPECT_NE(bad.err.find("unknown cleanup stage 'sharpen'"), std::string::npos) << bad.err;
}

TEST(BadInputTest, SharedBadPdfsAreArchivedOrRefusedWithAReason) {
  const char* testdata = std::getenv("CUSTODIA_TESTDATA");
  if (testdata == nullptr || *testdata == '\0')
    GTEST_SKIP() << "CUSTODIA_TESTDATA is not set: skipping the shared bad-PDF corpus";
  fs::path corpus = fs::path(testdata) / "pdf_bad_inputs";
  ASSERT_TRUE(fs::is_directory(corpus)) << corpus;
  TempDir tmp;
  fs::path archive = tmp / "archive";
  ASSERT_EQ(RunCommand(Custodia(archive, "init"), tmp.path()).exit_code, 0);

  auto r = RunCommand(Custodia(archive, "--json ingest --jobs 2 " + ShellQuote(corpus.string())),
                      tmp.path());
  EXPECT_EQ(r.exit_code, 1) << "some of these files cannot be read, so ingest must exit 1: "
                            << r.err;
  int sealed = 0, failed = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line);
    std::string name = fs::path(j["source"].get<std::string>()).filename().string();
    if (j["status"] == "failed") {
      ++failed;
      EXPECT_TRUE(j["id"].is_null()) << line;
      EXPECT_GT(j.value("error", "").size(), 20u) << "a reason a person can act on: " << line;
      if (name.find("password") != std::string::npos || name == "encryption_openpassword.pdf") {
        EXPECT_NE(j["error"].get<std::string>().find("password"), std::string::npos) << line;
      }
    } else {
      ++sealed;
      EXPECT_TRUE(j["id"].is_string()) << line;
    }
  }
  EXPECT_GT(sealed, 0);
  EXPECT_GT(failed, 0);

  auto verify = RunCommand(Custodia(archive, "--json verify"), tmp.path());
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  json report = json::parse(verify.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_EQ(report.value("indexed", -1), sealed) << verify.out;
}

// Without the limit, Tesseract's OpenMP threads fight custodia's workers
// for the cores; the binary must set it even when the caller did not.
// People, roles and loans through the command line: what an archivist and an
// auditor may and may not do, and that the ledger remembers it.
TEST_F(CliTest, RolesAreEnforcedAndLoansRecorded) {
  std::string pdf;
  for (const auto& e : fs::directory_iterator(testing::SourceDir() / "samples"))
    if (e.path().extension() == ".pdf" && (pdf.empty() || e.path().string() < pdf))
      pdf = e.path().string();
  ASSERT_EQ(Cli("ingest " + ShellQuote(pdf)).exit_code, 0);
  ASSERT_EQ(Cli("user add ana --role archivist").exit_code, 2) << "no passphrase for ana: usage";
  auto add = RunCommand(
      "CUSTODIA_NEW_PASSPHRASE=ana-secret " + Custodia(archive_, "user add ana --role archivist"),
      tmp_.path());
  ASSERT_EQ(add.exit_code, 0) << add.err;
  testing::WriteText(tmp_ / "audrey.pass", "audrey-secret\n");
  add = RunCommand(Custodia(archive_, "user add audrey --role auditor --new-passphrase-file " +
                                          ShellQuote((tmp_ / "audrey.pass").string())),
                   tmp_.path());
  ASSERT_EQ(add.exit_code, 0) << add.err;

  auto as = [&](const std::string& user, const std::string& pass, const std::string& args) {
    return RunCommand(Custodia(archive_, "--user " + user + " " + args, pass), tmp_.path());
  };
  auto refused =
      as("audrey", "audrey-secret", "export D000001 --out " + ShellQuote((tmp_ / "x").string()));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("audrey is an auditor; exporting needs the archivist role"),
            std::string::npos)
      << refused.err;
  EXPECT_FALSE(fs::exists(tmp_ / "x"));
  EXPECT_EQ(as("ana", "wrong", "show D000001").exit_code, 1);
  EXPECT_EQ(as("ana", "ana-secret", "show D000001").exit_code, 0);

  auto out = as("ana", "ana-secret",
                "checkout D000001 --to 'Pedro Ruiz' --due 2000-01-31 --reason auditoria");
  ASSERT_EQ(out.exit_code, 0) << out.err;
  auto again = as("ana", "ana-secret", "checkout D000001 --to Luis --due 2099-01-01");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("Pedro Ruiz"), std::string::npos) << again.err;
  auto overdue = Cli("--json loans --overdue");
  EXPECT_NE(overdue.out.find("\"due\":\"2000-01-31\""), std::string::npos) << overdue.out;
  EXPECT_EQ(as("ana", "ana-secret", "return D000001 --note completo").exit_code, 0);
  EXPECT_EQ(as("ana", "ana-secret", "return D000001").exit_code, 1);

  // The auditor reads the ledger and verifies, with no passphrase at all.
  auto log = RunCommand(Custodia(archive_, "--user audrey --json log", ""), tmp_.path());
  ASSERT_EQ(log.exit_code, 0) << log.err;
  for (const char* type :
       {"\"ingest\"", "\"view\"", "\"checkout\"", "\"return\"", "\"user-added\""})
    EXPECT_NE(log.out.find(std::string("\"type\":") + type), std::string::npos) << type << "\n"
                                                                                << log.out;
  auto verify = RunCommand(Custodia(archive_, "verify", ""), tmp_.path());
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
}

// A checkpoint kept outside the archive catches a rollback of the whole
// archive folder to an older copy; a proof checks for its own document only.
TEST_F(CliTest, SavedCheckpointCatchesRollbackAndProofsCheck) {
  std::vector<std::string> pdfs;
  for (const auto& e : fs::directory_iterator(testing::SourceDir() / "samples"))
    if (e.path().extension() == ".pdf" && e.path().string().find("_scan") == std::string::npos)
      pdfs.push_back(e.path().string());
  std::sort(pdfs.begin(), pdfs.end());
  ASSERT_GE(pdfs.size(), 2u);
  ASSERT_EQ(Cli("ingest " + ShellQuote(pdfs[0])).exit_code, 0);
  fs::copy(archive_, tmp_ / "old-copy", fs::copy_options::recursive);
  ASSERT_EQ(Cli("ingest " + ShellQuote(pdfs[1])).exit_code, 0);

  fs::path checkpoint = tmp_ / "checkpoint.txt", proof = tmp_ / "proof.txt";
  auto cp = Cli("checkpoint --out " + ShellQuote(checkpoint.string()));
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_NE(cp.out.find("\n\n\xe2\x80\x94 custodia.local/archive/"), std::string::npos) << cp.out;
  ASSERT_EQ(Cli("prove D000002 --out " + ShellQuote(proof.string())).exit_code, 0);

  auto good = Cli("verify --checkpoint " + ShellQuote(checkpoint.string()) + " --proof " +
                  ShellQuote(proof.string()) + " --id D000002");
  EXPECT_EQ(good.exit_code, 0) << good.err;
  auto wrong_doc = Cli("verify --proof " + ShellQuote(proof.string()) + " --id D000001");
  EXPECT_EQ(wrong_doc.exit_code, 1) << wrong_doc.err;

  fs::remove_all(archive_);
  fs::rename(tmp_ / "old-copy", archive_);
  auto rolled_back = Cli("verify --checkpoint " + ShellQuote(checkpoint.string()));
  EXPECT_EQ(rolled_back.exit_code, 1);
  EXPECT_NE(rolled_back.err.find("truncated or rolled back"), std::string::npos) << rolled_back.err;
}

TEST(CliNoArchiveTest, RunsWithOneOpenMpThreadEvenWhenTheCallerSetsNoLimit) {
  TempDir tmp;
  auto r = RunCommand("env -u OMP_THREAD_LIMIT " + std::string(CUSTODIA_BINARY) + " --version",
                      tmp.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tesseract 5"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("OpenMP thread limit 1)"), std::string::npos) << r.out;
}

TEST(CliNoArchiveTest, CommandsOutsideAnArchiveSayHowToMakeOne) {
  TempDir tmp;
  auto r = RunCommand(Custodia(tmp / "nowhere", "search factura"), tmp.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("custodia init"), std::string::npos) << r.err;
}

// Issue 8's bad-input campaign (bench/bad_inputs.py) in small, for CI: a
// truncated scan, a zero-byte file and a zip named .pdf go through ingest. Each fails with
// its reason, none crashes, the sources are left as they were, and the
// archive verifies.
TEST_F(CliTest, Issue8BadInputsFailWithAReasonAndTheArchiveVerifies) {
  const std::string png =
      testing::ReadText(testing::SourceDir() / "samples" / "03_justificante_scan.png");
  const std::map<std::string, std::pair<std::string, std::string>> inputs = {
      {"truncated.png", {png.substr(0, png.size() / 2), "png"}},
      {"empty.pdf", {"", "empty file (0 bytes)"}},
      {"zip.pdf", {std::string("PK\x03\x04\x14\0\0\0\0\0", 10) + std::string(40, 'x'), "zip archive"}},
  };
  for (const auto& [name, input] : inputs) {
    testing::WriteText(tmp_ / name, input.first);
    auto ingest = Cli("--json ingest " + ShellQuote((tmp_ / name).string()));
    EXPECT_EQ(ingest.exit_code, 1) << name << ": " << ingest.out << ingest.err;
    const json line = json::parse(ingest.out, nullptr, false);
    ASSERT_TRUE(line.is_object()) << name << ": " << ingest.out;
    EXPECT_EQ(line["status"], "failed") << name;
    const std::string error = line.value("error", "");
    EXPECT_NE(error.find(input.second), std::string::npos) << name << ": " << error;
    // The page is named once: "page 1: capture: cannot decode ...".
    if (name == "truncated.png") {
      EXPECT_EQ(error.rfind("page 1"), 0u) << error;
    }
    EXPECT_EQ(testing::ReadText(tmp_ / name), input.first) << name;
  }
  auto verify = Cli("verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

// A PDF whose one page Poppler takes hours to draw: a form that draws a
// form ten times, seven deep, the last a full-page fill (10^7 fills; about
// 70 ms each at 300 dpi). Small, valid, and impossible to stop from outside
// Poppler.
std::string RenderBombPdf() {
  auto stream = [](const std::string& dict, const std::string& body) {
    return "<< " + dict + " /Length " + std::to_string(body.size()) + " >>\nstream\n" + body +
           "\nendstream";
  };
  std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /X 5 0 R "
      ">> >> /Contents 4 0 R >>",
      stream("", "/X Do"),
  };
  const int levels = 7;
  for (int k = 0; k < levels; ++k) {
    const int n = 5 + k;  // this form's object number
    std::string body, resources;
    if (k == levels - 1) {
      body = "0.5 g 0 0 612 792 re f";
    } else {
      for (int i = 0; i < 10; ++i) body += "q /X Do Q ";
      resources = "/Resources << /XObject << /X " + std::to_string(n + 1) + " 0 R >> >>";
    }
    objects.push_back(
        stream("/Type /XObject /Subtype /Form /BBox [0 0 612 792] " + resources, body));
  }
  return testing::PdfOfObjects(objects);
}

// A page stuck inside Poppler cannot be stopped by the document's time
// limit (which OCR and the pages after it obey): ingest says which file and
// page, stops soon after the limit (a tenth of it later, at least 5 s), and
// what was reported before is archived, the archive verifies, the sources
// are untouched.
TEST_F(CliTest, Issue8APageStuckInsidePopplerStopsIngestNamingIt) {
  const fs::path good = tmp_ / "good.pdf";
  testing::WriteTextPdf(good, {"FACTURA", "Numero de factura: F-2024-0042"});
  const fs::path bomb = tmp_ / "bomb.pdf";
  const std::string bomb_bytes = RenderBombPdf();
  testing::WriteText(bomb, bomb_bytes);
  const auto start = std::chrono::steady_clock::now();
  // A limit with a fraction: the message gives it as set (it once said "2 s").
  auto ingest = Cli("--json ingest --jobs 1 --document-timeout 1.5 " + ShellQuote(good.string()) +
                    " " + ShellQuote(bomb.string()));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(ingest.exit_code, 1) << ingest.out << ingest.err;
  EXPECT_LT(seconds, 120) << "ingest should stop about 6 s in";
  EXPECT_NE(ingest.err.find("bomb.pdf: reading page 1: still at it"), std::string::npos)
      << ingest.err;
  EXPECT_NE(ingest.err.find("over its time limit of 1.5 s (--document-timeout)"), std::string::npos)
      << ingest.err;
  const json line = json::parse(ingest.out, nullptr, false);
  ASSERT_TRUE(line.is_object()) << ingest.out;
  EXPECT_EQ(line["source"], good.string());
  ASSERT_TRUE(line["id"].is_string()) << ingest.out;
  auto show = Cli("show " + line["id"].get<std::string>());
  EXPECT_EQ(show.exit_code, 0) << show.err;
  auto verify = Cli("verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(testing::ReadText(bomb), bomb_bytes);
}

}  // namespace
}  // namespace custodia
