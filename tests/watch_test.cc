// tests/watch_test.cc: `custodia watch` as a station uses it: real
// processes, real files, real inotify. A slow writer is never taken early; a
// copy renamed into place is taken once; SIGKILL at random moments loses and
// doubles nothing; bad files are quarantined with a reason and the watcher
// carries on; links, FIFOs, devices and bad names are refused, never
// followed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/testutil.h"

namespace custodia {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::RunCommand;
using testing::ShellQuote;
using testing::TempDir;

constexpr char kPassphrase[] = "watch test passphrase";

class WatchTest : public testing::CliArchiveTest {
 protected:
  WatchTest() : CliArchiveTest(kPassphrase) {}
  void SetUp() override {
    CliArchiveTest::SetUp();
    if (HasFatalFailure()) return;
    inbox_ = tmp_ / "inbox";
    fs::create_directory(inbox_);
    Config(0.3);
  }
  void TearDown() override { Stop(); }

  void Config(double settle, const std::string& extra = "") {
    testing::WriteText(archive_ / "custodia.toml",
                       "[watch]\nsettle_seconds = " + std::to_string(settle) +
                           "\nrescan_seconds = 0.5\ndocument_timeout_seconds = 120\n" + extra);
  }

  testing::CommandResult Once() { return Cli("--json watch --once --inbox " + ShellQuote(inbox_.string())); }

  // Starts `custodia watch` in the background, its output to a file.
  void Start() {
    Stop();
    log_ = tmp_ / ("watch-" + std::to_string(++runs_) + ".log");
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      ::setpgid(0, 0);
      const int out = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(out, 1);
      ::dup2(out, 2);
      const int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
      ::setenv("CUSTODIA_PASSPHRASE", kPassphrase, 1);
      ::execl(CUSTODIA_BINARY, "custodia", "--archive", archive_.c_str(), "--json", "watch", "--inbox",
              inbox_.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  // SIGKILL: the watcher and (by its parent-death signal) its worker.
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  // SIGTERM, as systemd stops it.
  int Stop() {
    if (pid_ <= 0) return 0;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  bool Running() { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

  // Waits until `path` exists (true) or `seconds` pass (false).
  static bool WaitFor(const fs::path& path, double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(int(seconds * 1000));
    while (std::chrono::steady_clock::now() < end) {
      if (fs::exists(path)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return fs::exists(path);
  }

  // Every ingest entry's source in the ledger, with how many times it was sealed.
  std::map<std::string, int> SealedSources() {
    auto log = Cli("--json log");
    std::map<std::string, int> sealed;
    EXPECT_EQ(log.exit_code, 0) << log.err;
    std::istringstream lines(log.out);
    std::string line;
    while (std::getline(lines, line)) {
      json e = json::parse(line, nullptr, false);
      if (!e.is_object() || e["type"] != "ingest") continue;
      // "D000001 from SOURCE"
      const std::string detail = e["detail"];
      const std::size_t from = detail.find(" from ");
      if (from != std::string::npos) ++sealed[detail.substr(from + 6)];
    }
    return sealed;
  }

  std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) out.push_back(line);
    return out;
  }

  fs::path inbox_;
  fs::path log_;
  pid_t pid_ = -1;
  int runs_ = 0;
};

void Pdf(const fs::path& path, int n) {
  testing::WriteTextPdf(path, {"ALBARAN DE ENTREGA", "Numero de albaran: AL-" + std::to_string(n),
                               "Documento de prueba del vigilante " + std::to_string(n)});
}

TEST_F(WatchTest, OnceArchivesFilesAndFoldersAndReleasesThemToDone) {
  Pdf(inbox_ / "a.pdf", 1);
  fs::create_directory(inbox_ / "lote-7");
  Pdf(inbox_ / "lote-7" / "p1.pdf", 2);
  Pdf(inbox_ / "lote-7" / "p2.pdf", 3);
  testing::WriteText(inbox_ / "lote-7" / "Thumbs.db", "junk a share leaves");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  auto run = Once();
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_TRUE(fs::exists(inbox_ / "done" / "a.pdf"));
  EXPECT_TRUE(fs::exists(inbox_ / "done" / "lote-7" / "p2.pdf"));
  EXPECT_FALSE(fs::exists(inbox_ / "a.pdf"));
  EXPECT_TRUE(fs::is_empty(inbox_ / ".custodia" / "claimed"));
  int documents = 0, batches = 0;
  for (const std::string& line : Lines(run.out)) {
    json j = json::parse(line);
    if (j.contains("id")) ++documents;
    if (j.contains("outcome")) {
      ++batches;
      EXPECT_EQ(j["outcome"], "archived") << line;
    }
  }
  EXPECT_EQ(documents, 3) << run.out;
  EXPECT_EQ(batches, 2) << run.out;
  auto sealed = SealedSources();
  EXPECT_EQ(sealed["inbox/a.pdf"], 1);
  EXPECT_EQ(sealed["inbox/lote-7/p1.pdf"], 1);
  EXPECT_EQ(sealed["inbox/lote-7/p2.pdf"], 1);
  // The ledger says which batch each came from, signed by the station.
  auto log = Cli("--json log");
  EXPECT_NE(log.out.find("\"batch\""), std::string::npos) << log.out;
  auto verify = Cli("verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.err;

  // The same file dropped again: recorded as a duplicate, not stored twice.
  Pdf(inbox_ / "again.pdf", 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  run = Once();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("\"duplicates\":1"), std::string::npos) << run.out;
  EXPECT_EQ(SealedSources().count("inbox/again.pdf"), 0u);
  // Even under the name it had: a new drop, not a resumed one, so the
  // ledger records it as a duplicate (and done/ keeps both files).
  Pdf(inbox_ / "a.pdf", 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  run = Once();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("\"duplicates\":1"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("already_recorded"), std::string::npos) << run.out;
  EXPECT_TRUE(fs::exists(inbox_ / "done" / "a.1.pdf"));
  EXPECT_EQ(SealedSources()["inbox/a.pdf"], 1);
}

TEST_F(WatchTest, ASlowWriterIsNeverTakenEarly) {
  Config(1.0);
  Start();
  // Written in pieces over about 3 s: with the file held open, and then
  // reopened for each piece with pauses shorter than the settle time.
  std::string whole;
  {
    const fs::path tmp = tmp_ / "slow-src.pdf";
    Pdf(tmp, 42);
    whole = testing::ReadText(tmp);
  }
  const std::size_t piece = whole.size() / 6 + 1;
  {
    const int fd = ::open((inbox_ / "held.pdf").c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    for (std::size_t off = 0; off < whole.size(); off += piece) {
      ASSERT_GT(::write(fd, whole.data() + off, std::min(piece, whole.size() - off)), 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      EXPECT_FALSE(fs::exists(inbox_ / "done" / "held.pdf")) << "taken while still open";
    }
    ::close(fd);
  }
  std::string second = whole;
  second.replace(second.find("42"), 2, "43");
  for (std::size_t off = 0; off < second.size(); off += piece) {
    std::ofstream(inbox_ / "reopened.pdf", std::ios::binary | std::ios::app)
        << second.substr(off, piece);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    EXPECT_FALSE(fs::exists(inbox_ / "done" / "reopened.pdf")) << "taken between two pieces";
  }
  ASSERT_TRUE(WaitFor(inbox_ / "done" / "held.pdf", 20));
  ASSERT_TRUE(WaitFor(inbox_ / "done" / "reopened.pdf", 20));
  EXPECT_TRUE(fs::is_empty(inbox_ / "quarantine"));
  Stop();
  // Each was sealed once, whole.
  auto sealed = SealedSources();
  EXPECT_EQ(sealed["inbox/held.pdf"], 1);
  EXPECT_EQ(sealed["inbox/reopened.pdf"], 1);
  auto show = Cli("--json search albaran");
  for (const std::string& line : Lines(show.out)) {
    json hit = json::parse(line);
    json d = json::parse(Cli("--json show " + hit["id"].get<std::string>()).out);
    EXPECT_EQ(d["original_size"], whole.size()) << d.dump();
  }
}

TEST_F(WatchTest, ACopyRenamedIntoPlaceIsTakenOnce) {
  Start();
  Pdf(inbox_ / "scan.pdf.part", 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_FALSE(fs::exists(inbox_ / "done" / "scan.pdf.part")) << "a .part file was taken";
  fs::rename(inbox_ / "scan.pdf.part", inbox_ / "scan.pdf");
  ASSERT_TRUE(WaitFor(inbox_ / "done" / "scan.pdf", 20));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_EQ(Stop(), 0);
  EXPECT_EQ(SealedSources()["inbox/scan.pdf"], 1);
  EXPECT_FALSE(fs::exists(inbox_ / "done" / "scan.1.pdf"));
}

// SIGKILL at random moments while a batch of 30 files is archived, 20
// times over (each round drops 30 new files: as 30 single files, or as one
// folder batch of 30); then one clean run. Every input is sealed exactly
// once, none lost, none doubled, and verify passes.
TEST_F(WatchTest, SigkillAtRandomMomentsLosesAndDoublesNothing) {
  Config(0.0);
  constexpr int kRounds = 20;
  constexpr int kFiles = 30;
  std::vector<std::string> sources;
  std::mt19937 random(20261205);
  // First, how long one round takes here (this machine, this build): the
  // kills are then drawn across that span, so that they land mid-batch.
  double round_ms = 0;
  {
    for (int i = 0; i < kFiles; ++i) Pdf(inbox_ / ("warmup-" + std::to_string(i) + ".pdf"), 9000 + i);
    const auto t0 = std::chrono::steady_clock::now();
    Start();
    ASSERT_TRUE(WaitFor(inbox_ / "done" / ("warmup-" + std::to_string(kFiles - 1) + ".pdf"), 120));
    round_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    Stop();
  }
  std::uniform_int_distribution<int> delay_ms(static_cast<int>(round_ms * 0.1),
                                              static_cast<int>(round_ms * 0.95));
  for (int round = 0; round < kRounds; ++round) {
    const bool folder = round % 2 == 1;
    const fs::path dir = folder ? inbox_ / ("lote-" + std::to_string(round)) : inbox_;
    if (folder) fs::create_directory(tmp_ / "staging");
    for (int i = 0; i < kFiles; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "r%02d-doc-%02d.pdf", round, i);
      Pdf((folder ? tmp_ / "staging" : inbox_) / name, round * 100 + i);
      sources.push_back(folder ? "inbox/lote-" + std::to_string(round) + "/" + name
                               : std::string("inbox/") + name);
    }
    // A folder batch appears whole, as a station's rename would make it.
    if (folder) fs::rename(tmp_ / "staging", dir);
    Start();
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    Kill();
  }
  // What the kills interrupted: batches claimed when a watcher died are
  // resumed by the next one.
  int resumed = 0;
  for (int run = 1; run <= runs_; ++run) {
    const std::string log = testing::ReadText(tmp_ / ("watch-" + std::to_string(run) + ".log"));
    for (std::size_t at = log.find("\"resumed\""); at != std::string::npos;
         at = log.find("\"resumed\"", at + 1)) {
      ++resumed;
    }
  }
  const std::map<std::string, int> before = SealedSources();
  int claimed = 0;
  for (const auto& e : fs::directory_iterator(inbox_ / ".custodia" / "claimed")) claimed += !e.path().empty();
  std::printf("%d kills within %.0f ms (one round's time): %zu of %zu files sealed before the clean "
              "run, %d batches claimed then, %d resumptions of a claimed batch\n",
              kRounds, round_ms, before.size() - kFiles, sources.size(), claimed, resumed);
  EXPECT_GT(resumed, 0) << "no kill came while a batch was claimed: the test proved nothing";

  auto last = Once();
  ASSERT_EQ(last.exit_code, 0) << last.err;
  std::map<std::string, int> sealed = SealedSources();
  for (const std::string& source : sources) EXPECT_EQ(sealed[source], 1) << source;
  EXPECT_EQ(sealed.size(), sources.size() + kFiles);  // and the warm-up round's
  for (const auto& e : fs::directory_iterator(inbox_)) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name == "done" || name == "quarantine" || name == ".custodia")
        << name << " still pending after the clean run";
  }
  EXPECT_TRUE(fs::is_empty(inbox_ / ".custodia" / "claimed"));
  EXPECT_TRUE(fs::is_empty(inbox_ / "quarantine"));
  auto verify = Cli("verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.err << verify.out;
}

TEST_F(WatchTest, LinksPipesDevicesAndBadNamesAreQuarantinedNeverFollowed) {
  const fs::path outside = tmp_ / "outside.pdf";
  Pdf(outside, 9);
  fs::create_symlink(outside, inbox_ / "link.pdf");
  ASSERT_EQ(::mkfifo((inbox_ / "pipe.pdf").c_str(), 0600), 0);
  if (::geteuid() == 0) {
    ASSERT_EQ(::mknod((inbox_ / "zero.pdf").c_str(), S_IFCHR | 0600, makedev(1, 5)), 0);
  }
  Pdf(inbox_ / "new\nline.pdf", 10);
  Pdf(inbox_ / std::string("n\xF1o.pdf"), 11);
  fs::create_directory(inbox_ / "lote");
  Pdf(inbox_ / "lote" / "ok.pdf", 12);
  fs::create_symlink("/etc/passwd", inbox_ / "lote" / "passwd.pdf");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  auto run = Once();  // must not hang on the FIFO, nor read the device
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const fs::path q = inbox_ / "quarantine";
  EXPECT_TRUE(fs::is_symlink(q / "link.pdf"));
  EXPECT_TRUE(fs::exists(q / "link.pdf.reason.txt"));
  EXPECT_TRUE(fs::exists(q / "pipe.pdf.reason.txt"));
  EXPECT_TRUE(fs::exists(q / "new%0Aline.pdf.reason.txt"));
  EXPECT_TRUE(fs::exists(q / "n%F1o.pdf.reason.txt"));
  EXPECT_TRUE(fs::exists(q / "lote.reason.txt"));
  EXPECT_NE(testing::ReadText(q / "lote.reason.txt").find("passwd.pdf is a symbolic link"),
            std::string::npos);
  if (::geteuid() == 0) {
    EXPECT_TRUE(fs::exists(q / "zero.pdf.reason.txt"));
  }
  EXPECT_TRUE(fs::exists(outside)) << "the link's target was moved";
  // Nothing of theirs was sealed; every refusal is in the ledger.
  EXPECT_TRUE(SealedSources().empty());
  auto log = Cli("--json log");
  int quarantined = 0;
  for (const std::string& line : Lines(log.out)) quarantined += line.find("quarantined") != std::string::npos;
  EXPECT_GE(quarantined, 5) << log.out;
  EXPECT_EQ(Cli("verify").exit_code, 0);
}

TEST_F(WatchTest, BadPdfsAreQuarantinedWithAReasonOrArchivedAndTheWatcherCarriesOn) {
  const char* testdata = std::getenv("CUSTODIA_TESTDATA");
  if (testdata == nullptr) GTEST_SKIP() << "CUSTODIA_TESTDATA is not set (../shared/testdata)";
  const fs::path bad = fs::path(testdata) / "pdf_bad_inputs";
  if (!fs::exists(bad)) GTEST_SKIP() << bad << " is missing";
  Config(0.0, "document_timeout_seconds = 120\n");
  testing::WriteText(archive_ / "custodia.toml",
                     "[watch]\nsettle_seconds = 0\nrescan_seconds = 0.5\ndocument_timeout_seconds = 120\n");
  int files = 0;
  std::set<std::string> names;
  for (const auto& entry : fs::recursive_directory_iterator(bad)) {
    if (!entry.is_regular_file()) continue;
    std::string name = std::to_string(files++) + "-" + entry.path().filename().string();
    fs::copy_file(entry.path(), inbox_ / name);
    names.insert(name);
  }
  Start();
  // Until every file has left the inbox (archived or quarantined).
  const auto end = std::chrono::steady_clock::now() + std::chrono::minutes(25);
  while (std::chrono::steady_clock::now() < end) {
    int left = 0;
    for (const std::string& n : names) left += fs::exists(inbox_ / n);
    if (left == 0 && fs::is_empty(inbox_ / ".custodia" / "claimed")) break;
    ASSERT_TRUE(Running()) << "the watcher stopped: " << testing::ReadText(log_);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_TRUE(Running()) << "the watcher is not running at the end";
  EXPECT_EQ(Stop(), 0);
  int archived = 0, quarantined = 0;
  for (const std::string& n : names) {
    const bool done = fs::exists(inbox_ / "done" / n);
    const bool q = fs::exists(inbox_ / "quarantine" / (n + ".reason.txt"));
    EXPECT_TRUE(done || q) << n << " neither archived nor quarantined";
    if (q) {
      const std::string reason = testing::ReadText(inbox_ / "quarantine" / (n + ".reason.txt"));
      EXPECT_NE(reason.find("reason: "), std::string::npos);
      EXPECT_GT(reason.size(), 20u) << n << ": " << reason;
    }
    archived += done;
    quarantined += q;
  }
  std::printf("pdf_bad_inputs through watch: %d files, %d archived, %d quarantined\n", files, archived,
              quarantined);
  EXPECT_EQ(Cli("verify").exit_code, 0);
}

// docs/custodia-watch.service, started by hand as systemd would: its
// Environment= lines and ExecStart= command (paths pointed at this test's
// archive, binary and passphrase file), as a station user of its own; a
// batch is archived under that station's name; SIGTERM stops it cleanly.
TEST_F(WatchTest, TheSystemdUnitRunsAsWritten) {
  const std::string unit = testing::ReadText(testing::SourceDir() / "docs" / "custodia-watch.service");
  ASSERT_FALSE(unit.empty()) << "docs/custodia-watch.service is missing";
  std::map<std::string, std::string> env;
  std::string exec;
  for (const std::string& line : Lines(unit)) {
    if (line.rfind("Environment=", 0) == 0) {
      const std::string kv = line.substr(12);
      env[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
    } else if (line.rfind("ExecStart=", 0) == 0) {
      exec = line.substr(10);
    }
  }
  ASSERT_TRUE(env.count("CUSTODIA_ARCHIVE") && env.count("CUSTODIA_USER")) << unit;
  ASSERT_EQ(exec.rfind("/usr/local/bin/custodia ", 0), 0u) << exec;
  const std::string station = env["CUSTODIA_USER"];
  // The station, with a passphrase file of its own.
  const fs::path pass = tmp_ / "station.pass";
  testing::WriteText(pass, "station passphrase\n");
  auto add = Cli("user add " + station + " --role station --new-passphrase-file " + ShellQuote(pass.string()));
  ASSERT_EQ(add.exit_code, 0) << add.err;
  testing::WriteText(archive_ / "custodia.toml",
                     "[watch]\nsettle_seconds = 0.2\nrescan_seconds = 0.5\n[[watch.inbox]]\npath = " +
                         json(inbox_.string()).dump() + "\nlabel = \"escaner\"\n");
  // ExecStart with the unit's paths replaced by this test's.
  std::vector<std::string> args;
  std::istringstream words(exec);
  for (std::string w; words >> w;) args.push_back(w);
  args[0] = CUSTODIA_BINARY;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--passphrase-file") args[i + 1] = pass.string();
  }
  log_ = tmp_ / "unit.log";
  pid_ = ::fork();
  ASSERT_GE(pid_, 0);
  if (pid_ == 0) {
    const int out = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::unsetenv("CUSTODIA_PASSPHRASE");
    ::setenv("CUSTODIA_ARCHIVE", archive_.c_str(), 1);
    ::setenv("CUSTODIA_USER", station.c_str(), 1);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  Pdf(inbox_ / "unit.pdf", 77);
  ASSERT_TRUE(WaitFor(inbox_ / "done" / "unit.pdf", 30)) << testing::ReadText(log_);
  const int status = Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << testing::ReadText(log_);
  EXPECT_NE(testing::ReadText(log_).find("archived escaner/unit.pdf"), std::string::npos)
      << testing::ReadText(log_);
  // The ledger says which station scanned it.
  auto log = Cli("--json log");
  bool by_station = false;
  for (const std::string& line : Lines(log.out)) {
    json e = json::parse(line);
    if (e["type"] == "ingest" && e["actor"] == station) by_station = true;
  }
  EXPECT_TRUE(by_station) << log.out;
}

// A document that takes longer than watch.document_timeout_seconds (here
// a scan that needs OCR, under a 1 s limit) gets its worker killed and its
// batch quarantined with the reason in the ledger; a fresh worker archives
// the next batch.
TEST_F(WatchTest, ADocumentOverItsTimeLimitIsQuarantinedAndTheWatcherCarriesOn) {
  testing::WriteText(archive_ / "custodia.toml",
                     "[watch]\nsettle_seconds = 0\ndocument_timeout_seconds = 1\n");
  fs::copy_file(testing::SourceDir() / "samples" / "01_factura_scan.jpg", inbox_ / "a-slow.jpg");
  Pdf(inbox_ / "b-quick.pdf", 31);
  auto run = Once();
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const fs::path reason = inbox_ / "quarantine" / "a-slow.jpg.reason.txt";
  ASSERT_TRUE(fs::exists(reason)) << run.out;
  EXPECT_NE(testing::ReadText(reason).find("no document finished within 1 s"), std::string::npos)
      << testing::ReadText(reason);
  EXPECT_TRUE(fs::exists(inbox_ / "done" / "b-quick.pdf")) << run.out;
  auto log = Cli("--json log");
  EXPECT_NE(log.out.find("no document finished within 1 s"), std::string::npos) << log.out;
  EXPECT_EQ(Cli("verify").exit_code, 0);
}

// A batch with separator sheets (tests/testdata/lote_separadores.pdf:
// albaran | EXP:2024-0001 sheet | factura | blank | CUSTODIA-SEP sheet |
// contrato) becomes three documents, the last two filed in case 2024-0001
// (a case holds until another EXP sheet), listable and searchable; the
// separators and the blank page are not kept. The same batch dropped again
// is three duplicates (a split document's bytes are the same each time).
TEST_F(WatchTest, SeparatorSheetsSplitABatchAndFileItsDocumentsInACase) {
  testing::WriteText(archive_ / "custodia.toml", "[watch]\nsettle_seconds = 0\n");
  fs::copy_file(testing::SourceDir() / "tests" / "testdata" / "lote_separadores.pdf", inbox_ / "lote.pdf");
  auto run = Once();
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  std::vector<json> docs;
  json batch;
  for (const std::string& line : Lines(run.out)) {
    json j = json::parse(line);
    if (j.contains("id")) docs.push_back(j);
    if (j.contains("outcome")) batch = j;
  }
  ASSERT_EQ(docs.size(), 3u) << run.out;
  EXPECT_EQ(batch["outcome"], "archived") << run.out;
  EXPECT_EQ(batch["pages"], 6);
  EXPECT_EQ(batch["separators"], 2);
  EXPECT_EQ(batch["blank_pages"], 1);
  EXPECT_EQ(docs[0]["source"], "inbox/lote.pdf (page 1)");
  EXPECT_FALSE(docs[0].contains("case_file"));
  EXPECT_EQ(docs[1]["source"], "inbox/lote.pdf (page 3)");
  EXPECT_EQ(docs[1]["case_file"], "2024-0001");
  EXPECT_EQ(docs[2]["source"], "inbox/lote.pdf (page 6)");
  EXPECT_EQ(docs[2]["case_file"], "2024-0001");
  EXPECT_TRUE(fs::exists(inbox_ / "done" / "lote.pdf"));

  auto cases = Cli("--json cases");
  ASSERT_EQ(cases.exit_code, 0) << cases.err;
  json listed = json::parse(cases.out);
  EXPECT_EQ(listed["case_file"], "2024-0001");
  ASSERT_EQ(listed["documents"].size(), 2u) << cases.out;
  EXPECT_EQ(listed["documents"][0]["id"], docs[1]["id"]);
  EXPECT_EQ(Cli("cases 2099-9").exit_code, 1);
  auto found = Cli("--json search expediente:2024-0001");
  ASSERT_EQ(found.exit_code, 0) << found.err;
  EXPECT_EQ(Lines(found.out).size(), 2u) << found.out;
  // Each split document's original holds its own page only.
  auto exported = Cli("export " + docs[2]["id"].get<std::string>() + " --out " +
                      ShellQuote((tmp_ / "contrato.pdf").string()));
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(testing::ReadText(tmp_ / "contrato.pdf").find("/Count 1"), std::string::npos);

  fs::copy_file(testing::SourceDir() / "tests" / "testdata" / "lote_separadores.pdf", inbox_ / "otra.pdf");
  run = Once();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("\"duplicates\":3"), std::string::npos) << run.out;
  EXPECT_EQ(Cli("verify").exit_code, 0);
}

// A file the watcher's user cannot read is quarantined with the reason,
// and the rest is archived. Root reads everything, so the watcher runs as
// `nobody` here (setpriv), with the archive and inbox handed to it.
TEST_F(WatchTest, AnUnreadableFileIsQuarantinedWithItsReason) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the watcher as another user";
  if (std::system("command -v setpriv >/dev/null 2>&1") != 0) GTEST_SKIP() << "no setpriv";
  testing::WriteText(archive_ / "custodia.toml", "[watch]\nsettle_seconds = 0\n");
  Pdf(inbox_ / "a-locked.pdf", 61);
  Pdf(inbox_ / "b-open.pdf", 62);
  ASSERT_EQ(std::system(("chown -R nobody " + ShellQuote(tmp_.path().string())).c_str()), 0);
  ::chmod(tmp_.path().c_str(), 0755);
  ASSERT_EQ(::chown((inbox_ / "a-locked.pdf").c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod((inbox_ / "a-locked.pdf").c_str(), 0000), 0);
  auto run = RunCommand("CUSTODIA_PASSPHRASE=" + ShellQuote(kPassphrase) +
                            " setpriv --reuid=65534 --regid=65534 --clear-groups " + CUSTODIA_BINARY +
                            " --archive " + ShellQuote(archive_.string()) +
                            " --json watch --once --inbox " + ShellQuote(inbox_.string()),
                        tmp_.path());
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const fs::path reason = inbox_ / "quarantine" / "a-locked.pdf.reason.txt";
  ASSERT_TRUE(fs::exists(reason)) << run.out;
  EXPECT_NE(testing::ReadText(reason).find("Permission denied"), std::string::npos)
      << testing::ReadText(reason);
  EXPECT_TRUE(fs::exists(inbox_ / "done" / "b-open.pdf")) << run.out;
}

// `ingest` on a terminal draws a progress bar (pages/s, ETA) on standard
// error; not on a pipe.
TEST_F(WatchTest, IngestShowsAProgressBarOnATerminalOnly) {
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "no script(1)";
  Pdf(tmp_ / "p1.pdf", 71);
  Pdf(tmp_ / "p2.pdf", 72);
  const std::string ingest = testing::CustodiaCommand(
      CUSTODIA_BINARY, archive_,
      "ingest " + ShellQuote((tmp_ / "p1.pdf").string()) + " " + ShellQuote((tmp_ / "p2.pdf").string()),
      kPassphrase);
  auto tty = RunCommand("script -qfec " + ShellQuote(ingest) + " /dev/null", tmp_.path());
  ASSERT_EQ(tty.exit_code, 0) << tty.err << tty.out;
  EXPECT_NE(tty.out.find("pages/s"), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("2/2 files"), std::string::npos) << tty.out;
  Pdf(tmp_ / "p3.pdf", 73);
  auto piped = RunCommand(testing::CustodiaCommand(CUSTODIA_BINARY, archive_,
                                                   "ingest " + ShellQuote((tmp_ / "p3.pdf").string()),
                                                   kPassphrase),
                          tmp_.path());
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.err.find("pages/s"), std::string::npos) << piped.err;
}

// A separator sheet inside a PDF with a text layer (samples/separator.py's
// vector sheet between two born-digital pages: tests/testdata/lote_texto.pdf)
// is seen too: a page with little text is also rendered to look for a code.
TEST_F(WatchTest, ASeparatorSheetWithATextLayerSplitsToo) {
  auto run = Cli("--json ingest " + ShellQuote((testing::SourceDir() / "tests" / "testdata" /
                                                "lote_texto.pdf")
                                                   .string()));
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  std::vector<json> docs;
  for (const std::string& line : Lines(run.out)) docs.push_back(json::parse(line));
  ASSERT_EQ(docs.size(), 2u) << run.out;
  EXPECT_EQ(docs[0]["type"], "albaran") << run.out;
  EXPECT_EQ(docs[0]["ocr_pages"], 0);
  EXPECT_EQ(docs[0]["separators"], 1);
  EXPECT_EQ(docs[1]["first_page"], 3);
  EXPECT_EQ(docs[1]["case_file"], "2024-0002");
  EXPECT_EQ(docs[1]["type"], "nomina") << run.out;
  // --no-split keeps the file whole.
  auto whole = Cli("--json ingest --no-split " +
                   ShellQuote((testing::SourceDir() / "tests" / "testdata" / "lote_texto.pdf").string()));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_EQ(Lines(whole.out).size(), 1u) << whole.out;
  EXPECT_EQ(json::parse(whole.out)["pages"], 3);
}

// SIGTERM (systemd's stop) in the middle of a batch: the watcher exits at
// once with status 0, the batch stays claimed, and the next run archives it.
TEST_F(WatchTest, SigtermMidBatchStopsAtOnceAndTheBatchIsArchivedNextTime) {
  testing::WriteText(archive_ / "custodia.toml", "[watch]\nsettle_seconds = 0\n");
  fs::copy_file(testing::SourceDir() / "samples" / "01_factura_scan.jpg", inbox_ / "scan.jpg");
  Start();
  ASSERT_TRUE(WaitFor(inbox_ / ".custodia" / "claimed" / "scan.jpg", 20));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto t0 = std::chrono::steady_clock::now();
  const int status = Stop();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_LT(seconds, 3.0) << "waited for the batch instead of stopping";
  if (!fs::exists(inbox_ / "done" / "scan.jpg")) {
    EXPECT_TRUE(fs::exists(inbox_ / ".custodia" / "claimed" / "scan.jpg"));
  }
  auto run = Once();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(fs::exists(inbox_ / "done" / "scan.jpg")) << run.out;
  EXPECT_EQ(SealedSources()["inbox/scan.jpg"], 1);
}

TEST_F(WatchTest, ConfigCheckNamesTheBadLine) {
  testing::WriteText(archive_ / "custodia.toml",
                     "[watch]\nsettle_seconds = 2\nsetle_seconds = 3\n");
  auto check = Cli("config check");
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_NE(check.err.find("custodia.toml:3: watch.setle_seconds: unknown setting"), std::string::npos)
      << check.err;
  testing::WriteText(archive_ / "custodia.toml",
                     "[watch]\nsources = \"shred\"\n[[watch.inbox]]\npath = \"/nonexistent\"\n");
  check = Cli("config check");
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_NE(check.err.find("custodia.toml:2: watch.sources"), std::string::npos) << check.err;
  testing::WriteText(archive_ / "custodia.toml",
                     "[watch]\nsettle_seconds = 1\n[[watch.inbox]]\npath = \"/nonexistent\"\n"
                     "[separators]\npayloads = [\"CUSTODIA-SEP\", \"SEPARADOR\"]\n");
  check = Cli("config check");
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.err.find("/nonexistent is not a folder"), std::string::npos) << check.err;
  fs::create_directory(tmp_ / "in");
  testing::WriteText(archive_ / "custodia.toml",
                     "[watch]\n[[watch.inbox]]\npath = " + json((tmp_ / "in").string()).dump() + "\n");
  check = Cli("config check");
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.out.find("ok (1 inboxes)"), std::string::npos) << check.out;
}

TEST_F(WatchTest, WatchWithoutAnInboxOrWithAWrongPassphraseSaysSo) {
  auto none = Cli("watch --once");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("no inbox to watch"), std::string::npos) << none.err;
  auto wrong = RunCommand(testing::CustodiaCommand(CUSTODIA_BINARY, archive_,
                                                   "watch --once --inbox " + ShellQuote(inbox_.string()),
                                                   "not the passphrase"),
                          tmp_.path());
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("passphrase"), std::string::npos) << wrong.err;
}

}  // namespace
}  // namespace custodia
