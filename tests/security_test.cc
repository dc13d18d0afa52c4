// tests/security_test.cc: issue 8, security checks through the real
// binary. The archive's files are 0600 and its folders 0700 whatever the
// umask; `export` never replaces anything unless asked and never writes
// through a link; no option takes a passphrase; no core dumps.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/testutil.h"

namespace custodia {
namespace {

namespace fs = std::filesystem;
using testing::RunCommand;
using testing::ShellQuote;
using testing::TempDir;

constexpr char kPassphrase[] = "security test passphrase";

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    archive_ = tmp_ / "archive";
    auto init = Cli("init");
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }

  testing::CommandResult Cli(const std::string& args) {
    return RunCommand(testing::CustodiaCommand(CUSTODIA_BINARY, archive_, args, kPassphrase),
                      tmp_.path());
  }

  void IngestSample(const std::string& name) {
    auto r = Cli("ingest " + ShellQuote((testing::SourceDir() / "samples" / name).string()));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  TempDir tmp_;
  fs::path archive_;
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

}  // namespace
}  // namespace custodia
