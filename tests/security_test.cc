// tests/security_test.cc: issue 8, security checks through the real
// binary. The archive's files are 0600 and its folders 0700 whatever the
// umask; `export` never replaces anything unless asked and never writes
// through a link; no option takes a passphrase; no core dumps; `watch`
// leaves no plaintext of what it archived outside the vault.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
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

constexpr char kPassphrase[] = "security test passphrase";

class SecurityTest : public testing::CliArchiveTest {
 protected:
  SecurityTest() : CliArchiveTest(kPassphrase) {}

  void IngestSample(const std::string& name) {
    auto r = Cli("ingest " + ShellQuote((testing::SourceDir() / "samples" / name).string()));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
};

// Restores the umask a test changed.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST(SecurityModesTest, ArchiveFilesAre0600AndFolders0700WhateverTheUmask) {
  // A umask that takes nothing away: every mode below is the code's own.
  ScopedUmask open_umask(0);
  TempDir tmp;
  const fs::path archive = tmp / "archive";
  auto cli = [&](const std::string& args) {
    auto r = RunCommand(testing::CustodiaCommand(CUSTODIA_BINARY, archive, args, kPassphrase), tmp.path());
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    return r;
  };
  cli("init");
  cli("ingest " + ShellQuote((testing::SourceDir() / "samples" / "01_factura.pdf").string()));
  cli("checkout D000001 --to bob --due 2030-01-01");
  cli("return D000001");
  cli("rotate-key");
  cli("ingest " + ShellQuote((testing::SourceDir() / "samples" / "02_dni.pdf").string()));
  cli("search factura");
  cli("checkpoint --out " + ShellQuote((tmp / "checkpoint.txt").string()));
  cli("rebuild");
  cli("verify");
  int files = 0, folders = 0;
  std::vector<std::string> wrong;
  auto check = [&](const fs::path& p) {
    struct stat st;
    ASSERT_EQ(::lstat(p.c_str(), &st), 0) << p;
    const mode_t mode = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
      ++folders;
      if (mode != 0700) wrong.push_back(p.string() + " " + std::to_string(mode));
    } else {
      ++files;
      if (!S_ISREG(st.st_mode) || mode != 0600) wrong.push_back(p.string() + " " + std::to_string(mode));
    }
  };
  check(archive);
  for (const auto& e : fs::recursive_directory_iterator(archive)) check(e.path());
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " of " << files << " files and " << folders
                             << " folders, first: " << wrong[0] << " (decimal)";
  EXPECT_GT(files, 15);
  EXPECT_GE(folders, 5);
}

TEST_F(SecurityTest, ExportNeverReplacesAnythingWithoutForce) {
  IngestSample("01_factura.pdf");
  const std::string original = testing::ReadText(testing::SourceDir() / "samples" / "01_factura.pdf");

  // An existing file: refused, named, untouched.
  const fs::path existing = tmp_ / "existing.pdf";
  testing::WriteText(existing, "mine");
  auto r = Cli("export D000001 --out " + ShellQuote(existing.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "custodia export: " + existing.string() +
                       " already exists; choose another --out or add --force\n");
  EXPECT_EQ(testing::ReadText(existing), "mine");

  // A dangling link is an existing entry too: refused, the link kept.
  const fs::path dangling = tmp_ / "dangling.pdf";
  fs::create_symlink(tmp_ / "nowhere.pdf", dangling);
  r = Cli("export D000001 --out " + ShellQuote(dangling.string()));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dangling)));
  EXPECT_FALSE(fs::exists(tmp_ / "nowhere.pdf"));

  // A folder: refused.
  fs::create_directory(tmp_ / "folder");
  r = Cli("export D000001 --out " + ShellQuote((tmp_ / "folder").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(fs::is_directory(tmp_ / "folder"));
  EXPECT_TRUE(fs::is_empty(tmp_ / "folder"));
}

TEST_F(SecurityTest, ExportNeverWritesThroughALinkBesideOrAtItsTarget) {
  IngestSample("01_factura.pdf");
  const std::string original = testing::ReadText(testing::SourceDir() / "samples" / "01_factura.pdf");
  const fs::path victim = tmp_ / "victim.txt";
  testing::WriteText(victim, "not yours");

  // Someone placed OUT.tmp as a link to another file: that file is not
  // written, and OUT is the export.
  const fs::path out = tmp_ / "out.pdf";
  fs::create_symlink(victim, tmp_ / "out.pdf.tmp");
  auto r = Cli("export D000001 --out " + ShellQuote(out.string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::ReadText(victim), "not yours");
  EXPECT_FALSE(fs::is_symlink(fs::symlink_status(out)));
  EXPECT_EQ(testing::ReadText(out), original);

  // --force on a link replaces the link itself, never what it points to.
  const fs::path link = tmp_ / "link.pdf";
  fs::create_symlink(victim, link);
  r = Cli("export D000001 --force --out " + ShellQuote(link.string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::ReadText(victim), "not yours");
  EXPECT_FALSE(fs::is_symlink(fs::symlink_status(link)));
  EXPECT_EQ(testing::ReadText(link), original);

  // A path with `..` is the path given (docs/cli.md): written there, and
  // nothing else left beside it.
  fs::create_directory(tmp_ / "sub");
  r = Cli("export D000001 --out " + ShellQuote((tmp_ / "sub" / ".." / "up.pdf").string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::ReadText(tmp_ / "up.pdf"), original);
  EXPECT_TRUE(fs::is_empty(tmp_ / "sub"));
  for (const auto& e : fs::directory_iterator(tmp_.path())) {
    EXPECT_EQ(e.path().string().find(".custodia-"), std::string::npos) << e.path();
  }
}

TEST_F(SecurityTest, NoOptionTakesAPassphraseOnTheCommandLine) {
  // Every option of every command whose name says passphrase names a file.
  const std::regex option("--[a-z-]*passphrase[a-z-]*");
  int seen = 0;
  for (const std::string command :
       {"", "init", "ingest", "watch", "search", "show", "export", "checkout", "return", "verify",
        "rotate-key", "user add", "rebuild", "review set"}) {
    auto help = RunCommand(std::string(CUSTODIA_BINARY) + " " + command + " --help", tmp_.path());
    std::string text = help.out + help.err;
    for (std::sregex_iterator it(text.begin(), text.end(), option), end; it != end; ++it) {
      ++seen;
      const std::string name = it->str();
      EXPECT_TRUE(name == "--passphrase-file" || name == "--new-passphrase-file")
          << command << ": " << name;
    }
  }
  EXPECT_GE(seen, 2);
  auto r = Cli("--passphrase " + ShellQuote(kPassphrase) + " search factura");
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

// /proc/PID/limits: "Max core file size  SOFT  HARD  bytes".
std::string CoreLimit(pid_t pid) {
  std::istringstream in(testing::ReadText("/proc/" + std::to_string(pid) + "/limits"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max core file size", 0) == 0) return line;
  }
  return "";
}

TEST_F(SecurityTest, TheProcessHoldingAPassphraseWritesNoCoreDump) {
  // `watch` keeps its station's passphrase for as long as it runs.
  const fs::path inbox = tmp_ / "inbox";
  fs::create_directory(inbox);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::setenv("CUSTODIA_PASSPHRASE", kPassphrase, 1);
    ::execl(CUSTODIA_BINARY, "custodia", "--archive", archive_.c_str(), "watch", "--inbox",
            inbox.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // After the OMP_THREAD_LIMIT re-exec, main has run when done/ exists.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!fs::exists(inbox / "done") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string limit = CoreLimit(pid);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  EXPECT_TRUE(std::regex_search(limit, std::regex("^Max core file size +0 +0 ")))
      << "'" << limit << "'";
}

// Every regular file under `roots` that holds one of `secrets`, as
// "FILE: SECRET" with FILE relative to `base`; `files` counts the files
// read. The one exception, as in tests/end_to_end_test.cc: the ledger names
// each document's type in clear (and its source, named after the type
// here), and "factura" or "justificante" are words of the texts too.
std::vector<std::string> FilesHoldingPlaintext(const std::vector<fs::path>& roots,
                                               const fs::path& base,
                                               const std::set<std::string>& secrets,
                                               const std::set<std::string>& types,
                                               std::size_t* files) {
  std::vector<std::string> found;
  for (const fs::path& root : roots) {
    if (!fs::exists(root)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (!entry.is_regular_file()) continue;
      ++*files;
      const bool ledger = entry.path().filename() == "ledger";
      const std::string bytes = testing::ReadText(entry.path());
      for (const std::string& secret : secrets) {
        if (ledger && std::any_of(types.begin(), types.end(), [&](const std::string& type) {
              return type.find(secret) != std::string::npos;
            })) {
          continue;
        }
        if (bytes.find(secret) != std::string::npos) {
          found.push_back(fs::relative(entry.path(), base).string() + ": " + secret);
        }
      }
    }
  }
  return found;
}

// Issue 8, "no plaintext outside the vault", for the hot folder:
// tests/end_to_end_test.cc checks it for `ingest`. A `watch --once` on an
// inbox that deletes its sources (`watch.sources = "delete"`), with a
// TMPDIR of its own, archives the born-digital samples (their text layer
// is read: no OCR, fast). Then no word or number of 6 characters or more
// of their texts (as written, and lower-cased without accents) and no
// field value of 6 characters or more (as written and folded) is in any
// file of the archive folder, of the whole inbox (its `.custodia/` working
// area, `done/` and `quarantine/` included) or of the TMPDIR.
TEST_F(SecurityTest, WatchLeavesNoPlaintextOutsideTheVault) {
  const fs::path inbox = tmp_ / "inbox";
  const fs::path work_tmp = tmp_ / "watch-tmp";
  fs::create_directory(inbox);
  fs::create_directory(work_tmp);
  testing::WriteText(archive_ / "custodia.toml",
                     "[watch]\nsettle_seconds = 0\nrescan_seconds = 0.5\nsources = \"delete\"\n");

  const fs::path samples = testing::SourceDir() / "samples";
  std::vector<std::string> names;
  std::set<std::string> secrets;
  std::set<std::string> types;
  for (const auto& entry : fs::directory_iterator(samples)) {
    const std::string name = entry.path().filename().string();
    if (name.size() < 14 || name.substr(name.size() - 14) != ".expected.json") continue;
    const json expected = json::parse(testing::ReadText(entry.path()));
    if (!expected.at("degradation").is_null()) continue;  // a scan: OCR, slow
    const std::string file = expected.at("file").get<std::string>();
    fs::copy_file(samples / file, inbox / file);
    names.push_back(file);
    types.insert(expected.at("type").get<std::string>());
    const std::string text = expected.at("text").get<std::string>();
    for (const std::string& w : Words(text, 6)) secrets.insert(w);
    for (const std::string& t : Tokens(text, 6)) secrets.insert(t);
    for (const auto& [field, value] : expected.at("fields").items()) {
      const std::string v = value.get<std::string>();
      if (v.size() >= 6) {
        secrets.insert(v);
        secrets.insert(Fold(v));
      }
    }
  }
  ASSERT_GE(names.size(), 7u) << "samples/ should hold a born-digital document of each type";
  ASSERT_GT(secrets.size(), 400u);

  const std::string args = "--json watch --once --inbox " + ShellQuote(inbox.string());
  const std::string command =
      testing::CustodiaCommand(CUSTODIA_BINARY, archive_, args, kPassphrase);
  auto watch = RunCommand("TMPDIR=" + ShellQuote(work_tmp.string()) + " " + command, tmp_.path());
  ASSERT_EQ(watch.exit_code, 0) << watch.out << watch.err;

  // Every sample archived as its own batch, its source deleted, not
  // released to done/, nothing quarantined.
  std::set<std::string> archived;
  std::istringstream lines(watch.out);
  for (std::string line; std::getline(lines, line);) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("outcome", "") == "archived" && j.value("documents", 0) == 1 &&
        j.value("duplicates", -1) == 0) {
      archived.insert(j.value("source", ""));
    }
  }
  for (const std::string& name : names) {
    EXPECT_EQ(archived.count("inbox/" + name), 1u) << name << " not archived: " << watch.out;
    EXPECT_FALSE(fs::exists(inbox / name)) << name;
  }
  EXPECT_EQ(archived.size(), names.size()) << watch.out;
  for (const char* folder : {"done", "quarantine"}) {
    EXPECT_TRUE(!fs::exists(inbox / folder) || fs::is_empty(inbox / folder)) << folder;
  }

  std::size_t files = 0;
  const std::vector<fs::path> roots = {archive_, inbox, work_tmp};
  const std::vector<std::string> found =
      FilesHoldingPlaintext(roots, tmp_.path(), secrets, types, &files);
  std::string listed;
  for (std::size_t i = 0; i < found.size() && i < 10; ++i) listed += "\n  " + found[i];
  EXPECT_TRUE(found.empty()) << found.size() << " found:" << listed;
  EXPECT_GT(files, 10u);  // the vault's blobs and ledger, the index

  // The grep itself reaches the working area: a word planted there is found.
  const std::string word = *std::find_if(secrets.begin(), secrets.end(), [](const std::string& w) {
    return std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; });
  });
  testing::WriteText(inbox / ".custodia" / "planted.txt", "... " + word + " ...");
  const std::vector<std::string> planted =
      FilesHoldingPlaintext(roots, tmp_.path(), secrets, types, &files);
  EXPECT_NE(std::find(planted.begin(), planted.end(), "inbox/.custodia/planted.txt: " + word),
            planted.end());
}

}  // namespace
}  // namespace custodia
