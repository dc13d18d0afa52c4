// tests/concurrency_test.cc: issue 8, concurrency. Two real `custodia watch`
// processes on one archive (three inboxes; a third watcher on one of them is
// refused), while searches,
// check-outs and returns run against it: every file archived once (or
// reported a duplicate), none lost, no command crashes or is locked out,
// and `verify` finds one linear chain. The process that must wait for the
// archive's lock says so and names it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
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
using testing::RunCommand;
using testing::ShellQuote;
using testing::TempDir;

constexpr char kPassphrase[] = "concurrency test passphrase";

// The born-digital samples (expected.json "degradation": null): no OCR.
const char* const kSamples[] = {"01_factura.pdf",      "02_dni.pdf",          "03_justificante.pdf",
                                "04_nomina.pdf",       "05_contrato.pdf",     "06_reclamacion.pdf",
                                "07_albaran.pdf"};

class ConcurrencyTest : public testing::CliArchiveTest {
 protected:
  ConcurrencyTest() : CliArchiveTest(kPassphrase) {}
  void SetUp() override {
    CliArchiveTest::SetUp();
    if (HasFatalFailure()) return;
    testing::WriteText(archive_ / "custodia.toml",
                       "[watch]\nsettle_seconds = 0.3\nrescan_seconds = 0.5\n"
                       "document_timeout_seconds = 120\n");
  }
  void TearDown() override {
    for (pid_t pid : pids_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }

  // Starts `custodia --json watch --inbox ...` in the background; its
  // output goes to `log`.
  pid_t StartWatch(const std::vector<fs::path>& inboxes, const fs::path& log) {
    for (const fs::path& inbox : inboxes) fs::create_directories(inbox);
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(out, 1);
      ::dup2(out, 2);
      const int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
      ::setenv("CUSTODIA_PASSPHRASE", kPassphrase, 1);
      std::vector<std::string> args = {"custodia", "--archive", archive_.string(), "--json", "watch"};
      for (const fs::path& inbox : inboxes) {
        args.push_back("--inbox");
        args.push_back(inbox.string());
      }
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(CUSTODIA_BINARY, argv.data());
      ::_exit(127);
    }
    pids_.push_back(pid);
    return pid;
  }

  // SIGTERM, as systemd stops it; the exit status.
  int Stop(pid_t pid) {
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::erase(pids_, pid);
    return status;
  }

  // A copy of sample `n % 7` made unique by a comment line after its end.
  void Drop(const fs::path& inbox, const std::string& name, int n) {
    std::string bytes = testing::ReadText(testing::SourceDir() / "samples" / kSamples[n % 7]);
    ASSERT_FALSE(bytes.empty());
    bytes += "\n%custodia concurrency copy " + std::to_string(n) + "\n";
    testing::WriteText(inbox / (name + ".tmp"), bytes);
    fs::rename(inbox / (name + ".tmp"), inbox / name);
  }

  static int CountFiles(const fs::path& dir) {
    std::error_code ec;
    int n = 0;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file()) ++n;
    }
    return n;
  }

  std::vector<pid_t> pids_;
};

TEST_F(ConcurrencyTest, TwoWatchersSearchesAndLoansKeepOneLinearChain) {
  const fs::path shared = tmp_ / "shared", one = tmp_ / "one", two = tmp_ / "two";
  const pid_t first = StartWatch({shared, one}, tmp_ / "watch-1.log");
  const pid_t second = StartWatch({two}, tmp_ / "watch-2.log");
  // A third on an inbox the first watches is refused, saying why: it would
  // take the first's claimed batches for a crashed watcher's.
  for (int tries = 0; tries < 100 && !fs::exists(shared / ".custodia" / "LOCK"); ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto third = Cli("watch --once --inbox " + ShellQuote(shared.string()));
  EXPECT_EQ(third.exit_code, 1) << third.err;
  EXPECT_NE(third.err.find("custodia watch: inbox " + shared.string() + ": " +
                           (shared / ".custodia" / "LOCK").string() +
                           ": locked by another custodia process; wait for it to finish (another "
                           "custodia watch takes this inbox; stop it, or give this one another inbox)"),
            std::string::npos)
      << third.err;

  // 27 unique files in three waves over three inboxes, then 3 byte-for-byte
  // copies of files already dropped (duplicates).
  constexpr int kUnique = 27;
  std::map<std::string, int> dropped;  // "label/name" -> copy number (its content)
  int commands = 0, loans = 0;
  std::vector<std::string> failures;
  auto run = [&](const std::string& args) {
    auto r = Cli(args);
    ++commands;
    if (r.exit_code != 0) failures.push_back(args + " -> " + std::to_string(r.exit_code) + ": " + r.err);
    return r;
  };
  const auto t0 = std::chrono::steady_clock::now();
  for (int n = 0; n < kUnique; ++n) {
    const fs::path& inbox = n % 3 == 0 ? shared : n % 3 == 1 ? one : two;
    const std::string name = "c" + std::to_string(n) + ".pdf";
    Drop(inbox, name, n);
    dropped[inbox.filename().string() + "/" + name] = n;
    if (n % 9 == 8) {
      // While the watchers take the wave: searches and a loan of the first
      // document, as an archivist would.
      run("--json search factura");
      run("--json search nomina");
      if (Cli("show D000001").exit_code == 0) {
        run("checkout D000001 --to bob --due 2030-01-01");
        run("return D000001");
        ++loans;
      }
    }
  }
  for (int n = 0; n < 3; ++n) {
    // The same bytes as copy n, into the other watcher's own inbox.
    const fs::path& inbox = n % 2 == 0 ? two : one;
    const std::string name = "dup" + std::to_string(n) + ".pdf";
    Drop(inbox, name, n);
    dropped[inbox.filename().string() + "/" + name] = n;
  }

  // Searches and loans go on until every file has left the inboxes, and
  // until there were two loans (when the watchers are quick, the waves'
  // loans may find D000001 not yet sealed).
  const int total = kUnique + 3;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(45);
  for (;;) {
    const int done = CountFiles(shared / "done") + CountFiles(one / "done") + CountFiles(two / "done");
    const int quarantined = CountFiles(shared / "quarantine") + CountFiles(one / "quarantine") +
                            CountFiles(two / "quarantine");
    ASSERT_EQ(quarantined, 0) << testing::ReadText(tmp_ / "watch-1.log")
                              << testing::ReadText(tmp_ / "watch-2.log");
    if (done == total && loans >= 2) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << done << " of " << total << " archived\n"
        << testing::ReadText(tmp_ / "watch-1.log") << testing::ReadText(tmp_ / "watch-2.log");
    run("--json search contrato");
    if (Cli("show D000002").exit_code == 0) {
      run("checkout D000002 --to carol --due 2030-01-01");
      run("return D000002");
      ++loans;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Both watchers ran until stopped, and stopped cleanly.
  const int first_status = Stop(first);
  const int second_status = Stop(second);
  const std::string log1 = testing::ReadText(tmp_ / "watch-1.log");
  const std::string log2 = testing::ReadText(tmp_ / "watch-2.log");
  EXPECT_TRUE(WIFEXITED(first_status) && WEXITSTATUS(first_status) == 0) << first_status << log1;
  EXPECT_TRUE(WIFEXITED(second_status) && WEXITSTATUS(second_status) == 0) << second_status << log2;
  // No search, check-out or return was refused or crashed.
  EXPECT_TRUE(failures.empty()) << failures.size() << " of " << commands << ", first: " << failures[0];
  EXPECT_GE(loans, 2);
  EXPECT_GT(commands, 6);

  // Every unique file sealed exactly once, from its own source; each
  // duplicate reported as already archived.
  auto log = Cli("--json log");
  ASSERT_EQ(log.exit_code, 0) << log.err;
  std::map<std::string, int> sealed;
  int checkouts = 0, returns = 0;
  std::istringstream lines(log.out);
  std::string line;
  while (std::getline(lines, line)) {
    json e = json::parse(line, nullptr, false);
    if (!e.is_object()) continue;
    if (e["type"] == "checkout") ++checkouts;
    if (e["type"] == "return") ++returns;
    if (e["type"] != "ingest") continue;
    const std::string detail = e["detail"];
    const std::size_t from = detail.find(" from ");
    if (from != std::string::npos) ++sealed[detail.substr(from + 6)];
  }
  // Each content sealed exactly once, from one of its sources: a copy and
  // its duplicate are taken by different watchers, so either may come
  // first (the other is then reported a duplicate).
  EXPECT_EQ(sealed.size(), static_cast<std::size_t>(kUnique));
  std::map<int, int> seals;  // copy number -> times sealed
  for (const auto& [source, times] : sealed) {
    auto it = dropped.find(source);
    ASSERT_NE(it, dropped.end()) << "sealed from a file never dropped: " << source;
    EXPECT_EQ(times, 1) << source;
    seals[it->second] += times;
  }
  for (int n = 0; n < kUnique; ++n) EXPECT_EQ(seals[n], 1) << "copy " << n;
  EXPECT_EQ(checkouts, loans);
  EXPECT_EQ(returns, loans);
  int duplicates = 0;
  for (const std::string* text : {&log1, &log2}) {
    std::istringstream in(*text);
    while (std::getline(in, line)) {
      json j = json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("source") && j.value("status", "") == "duplicate") ++duplicates;
    }
  }
  EXPECT_EQ(duplicates, 3) << log1 << log2;

  // One linear chain: verify replays it (sequence numbers, each entry's
  // link to the one before, signatures) and checks the index against it.
  auto verify = Cli("--json verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  std::printf("concurrency: %d files, %d commands (%d loans), %.1f s\n", total, commands, loans, seconds);
}

// Holds the archive's lock as another process would, on its own file
// description (flock), for as long as it lives.
class HeldLock {
 public:
  explicit HeldLock(const fs::path& path) : fd_(::open(path.c_str(), O_RDWR | O_CLOEXEC)) {
    held_ = fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
  }
  ~HeldLock() { Release(); }
  bool held() const { return held_; }
  void Release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  bool held_ = false;
};

TEST_F(ConcurrencyTest, CommandWaitsForTheLockThenRefusesNamingItAndWhatToDo) {
  HeldLock lock(archive_ / "vault" / "LOCK");
  ASSERT_TRUE(lock.held());
  auto search = Cli("--wait 1 search factura");
  EXPECT_EQ(search.exit_code, 1) << search.err;
  const std::string lock_path = (archive_ / "vault" / "LOCK").string();
  EXPECT_NE(search.err.find("custodia search: waiting for the archive: vault: " + lock_path +
                            ": locked by another custodia process"),
            std::string::npos)
      << search.err;
  EXPECT_NE(search.err.find("(waited 1 s; try again when it is done, or wait longer with --wait SECONDS)"),
            std::string::npos)
      << search.err;

  // A command started while it is held goes on once it is let go: let go
  // once it says it waits (not after a fixed time: a process under a
  // sanitizer can take longer than that to reach the lock).
  const fs::path err = tmp_ / "stderr.txt";  // where Cli's RunCommand puts it
  fs::remove(err);
  testing::CommandResult waited;
  std::thread command([&] { waited = Cli("--json search factura"); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(25);
  while (testing::ReadText(err).find("waiting for the archive") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  lock.Release();
  command.join();
  EXPECT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_NE(waited.err.find("waiting for the archive"), std::string::npos) << waited.err;
}

TEST_F(ConcurrencyTest, WatcherWaitsForTheLockSayingSoAndGoesOnWhenFree) {
  const fs::path inbox = tmp_ / "inbox";
  auto lock = std::make_unique<HeldLock>(archive_ / "vault" / "LOCK");
  ASSERT_TRUE(lock->held());
  const fs::path log = tmp_ / "watch.log";
  const pid_t pid = StartWatch({inbox}, log);
  Drop(inbox, "a.pdf", 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (testing::ReadText(log).find("waiting_for_lock") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string waiting = testing::ReadText(log);
  EXPECT_NE(waiting.find("\"waiting_for_lock\":\"station admin: vault: " + (archive_ / "vault" / "LOCK").string() +
                         ": locked by another custodia process"),
            std::string::npos)
      << waiting;
  // Still waiting, not gone, however long it takes.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), 0);
  lock.reset();
  while (!fs::exists(inbox / "done" / "a.pdf") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(fs::exists(inbox / "done" / "a.pdf")) << testing::ReadText(log);
  // Idle again, it lets go of the archive: a command does not wait.
  auto search = Cli("search factura");
  EXPECT_EQ(search.exit_code, 0) << search.err;
  const int status = Stop(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << testing::ReadText(log);
}

}  // namespace
}  // namespace custodia
