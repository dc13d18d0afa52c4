// tests/crash_test.cc: SIGKILL during `custodia ingest`, at many points.
// Afterwards the archive must open and verify, and every document the killed
// process reported as ingested must be there, readable and intact.
#include <fcntl.h>
#include <poll.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

constexpr char kPassphrase[] = "crash test passphrase";

std::string Custodia(const fs::path& archive, const std::string& args) {
  return testing::CustodiaCommand(CUSTODIA_BINARY, archive, args, kPassphrase);
}

// Runs custodia with `args` and kills it with SIGKILL after `delay`, or as
// soon as it has printed `kill_after_lines` whole lines (when that is not 0),
// whichever comes first. Returns what it printed on standard output.
std::string RunAndKill(const fs::path& archive, const std::vector<std::string>& args,
                       std::chrono::microseconds delay, int kill_after_lines = 0) {
  int out[2];
  if (pipe(out) != 0) return "";
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, STDIN_FILENO);
    dup2(devnull, STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    setenv("CUSTODIA_PASSPHRASE", kPassphrase, 1);
    std::vector<std::string> argv_s = {CUSTODIA_BINARY, "--archive", archive.string()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  auto deadline = std::chrono::steady_clock::now() + delay;
  std::string printed;
  bool killed = false;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!killed && left.count() <= 0) {
      kill(pid, SIGKILL);
      killed = true;
    }
    pollfd p = {out[0], POLLIN, 0};
    int ready = poll(&p, 1, killed ? -1 : static_cast<int>(std::max<long>(left.count(), 1)));
    if (ready <= 0) continue;
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;  // the process exited or was killed
    printed.append(buf, static_cast<std::size_t>(n));
    if (!killed && kill_after_lines > 0 &&
        std::count(printed.begin(), printed.end(), '\n') >= kill_after_lines) {
      kill(pid, SIGKILL);
      killed = true;
    }
  }
  if (!killed) kill(pid, SIGKILL);  // harmless if it has already exited
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return printed;
}

TEST(CrashTest, KilledIngestLosesNothingAcknowledgedAndVerifies) {
  TempDir tmp;
  fs::path archive = tmp / "archive";
  ASSERT_EQ(RunCommand(Custodia(archive, "init"), tmp.path()).exit_code, 0);

  // Born-digital documents seal in milliseconds, so kills land in every
  // phase: reading, sealing blobs, appending the ledger, indexing.
  std::vector<std::string> inputs;
  for (const auto& e : fs::directory_iterator(testing::SourceDir() / "samples"))
    if (e.path().extension() == ".pdf" && e.path().string().find("_scan") == std::string::npos)
      inputs.push_back(e.path().string());
  std::sort(inputs.begin(), inputs.end());
  ASSERT_GE(inputs.size(), 4u);

  // How long one whole run takes here and now (logging in is Argon2id, so
  // it depends on the machine's load): the kills are spread over it.
  auto started = std::chrono::steady_clock::now();
  std::string calibration = "--json ingest";
  for (const std::string& in : inputs) calibration += " " + ShellQuote(in);
  ASSERT_EQ(RunCommand(Custodia(archive, calibration), tmp.path()).exit_code, 0);
  auto whole_run = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);

  std::map<std::string, std::string> acknowledged;  // id -> source
  const int kKills = 16;
  const int kLineKills = 3;
  for (int k = 0; k < kKills; ++k) {
    // Copies with distinct bytes, so every round has new documents to seal.
    std::vector<std::string> args = {"--json", "ingest", "--jobs", "2"};
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      fs::path copy = tmp / ("k" + std::to_string(k) + "-" + std::to_string(i) + ".pdf");
      std::string bytes = testing::ReadText(inputs[i]);
      bytes += "\n% round " + std::to_string(k) + "\n";  // trailing comment: still a valid PDF
      testing::WriteText(copy, bytes);
      args.push_back(copy.string());
    }
    // Kills by the clock, from 2 ms to 1.2 times a whole run, hit every
    // phase. The archive grows and the machine may be loaded, so the clock
    // alone cannot promise a kill after a report: the last rounds kill right
    // after the Nth document is reported, while the next ones are in flight.
    auto delay = std::chrono::microseconds(2000) + whole_run * (k + 1) * 6 / (5 * kKills);
    int after_lines = 0;
    if (k >= kKills - kLineKills) {
      delay = std::chrono::minutes(2);
      after_lines = k - (kKills - kLineKills) + 1;
    }
    std::string printed = RunAndKill(archive, args, delay, after_lines);
    std::istringstream lines(printed);
    for (std::string line; std::getline(lines, line);) {
      json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) continue;  // the last line may have been cut by the kill
      if (j["id"].is_string()) acknowledged[j["id"]] = j["source"];
    }

    auto verify = RunCommand(Custodia(archive, "--json verify"), tmp.path());
    ASSERT_EQ(verify.exit_code, 0)
        << "after kill " << k << " at " << delay.count() << " us: " << verify.out << verify.err;
  }
  ASSERT_FALSE(acknowledged.empty()) << "no kill came late enough for a document to be reported";

  // A clean run afterwards completes what the killed runs left: re-indexes
  // what was sealed and not indexed, and seals the rest.
  auto finish = RunCommand(Custodia(archive, "--json ingest " + ShellQuote((tmp.path()).string())),
                           tmp.path());
  EXPECT_EQ(finish.exit_code, 0) << finish.err;
  auto verify = RunCommand(Custodia(archive, "--json verify"), tmp.path());
  ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  // Every acknowledged document is in the ledger (read without any key)...
  auto log = RunCommand(Custodia(archive, "--json log"), tmp.path());
  ASSERT_EQ(log.exit_code, 0) << log.err;
  for (const auto& [id, source] : acknowledged) {
    EXPECT_NE(log.out.find("\"detail\":\"" + id + " from " + source + "\""), std::string::npos)
        << id << " was reported as ingested and is not in the ledger";
  }
  // ...and decrypts to its original bytes (a sample: each read is a login).
  int checked = 0;
  for (const auto& [id, source] : acknowledged) {
    if (checked++ % 8 != 0) continue;
    fs::path out = tmp / ("export-" + id);
    auto exported = RunCommand(
        Custodia(archive, "export " + id + " --out " + ShellQuote(out.string())), tmp.path());
    ASSERT_EQ(exported.exit_code, 0) << id << ": " << exported.err;
    EXPECT_EQ(testing::ReadText(out), testing::ReadText(source)) << id;
  }
}

// The same for loans: a check-out that was acknowledged is in the loan book
// after any kill, and the ledger verifies.
TEST(CrashTest, KilledCheckoutLosesNothingAcknowledgedAndVerifies) {
  TempDir tmp;
  fs::path archive = tmp / "archive";
  ASSERT_EQ(RunCommand(Custodia(archive, "init"), tmp.path()).exit_code, 0);
  std::string pdf;
  for (const auto& e : fs::directory_iterator(testing::SourceDir() / "samples"))
    if (e.path().extension() == ".pdf" && e.path().string().find("_scan") == std::string::npos)
      pdf = e.path().string();
  ASSERT_FALSE(pdf.empty());
  ASSERT_EQ(RunCommand(Custodia(archive, "ingest " + ShellQuote(pdf)), tmp.path()).exit_code, 0);

  auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(
      RunCommand(Custodia(archive, "checkout D000001 --to calibra --due 2030-01-01"), tmp.path())
          .exit_code,
      0);
  ASSERT_EQ(RunCommand(Custodia(archive, "return D000001"), tmp.path()).exit_code, 0);
  auto whole_run = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now() - started) /
                   2;

  const int kKills = 12;
  int acknowledged = 0;
  for (int k = 0; k < kKills; ++k) {
    std::string to = "persona" + std::to_string(k);
    auto delay = std::chrono::microseconds(1000) + whole_run * (k + 1) * 6 / (5 * kKills);
    // The last rounds kill the moment the check-out is acknowledged, so a
    // loaded machine cannot leave the test without one.
    int after_lines = 0;
    if (k >= kKills - 2) {
      delay = std::chrono::minutes(2);
      after_lines = 1;
    }
    std::string printed = RunAndKill(
        archive, {"checkout", "D000001", "--to", to, "--due", "2030-01-01"}, delay, after_lines);
    auto loans = RunCommand(Custodia(archive, "--json loans"), tmp.path());
    ASSERT_EQ(loans.exit_code, 0) << loans.err;
    if (printed.find("checked out to " + to) != std::string::npos) {
      ++acknowledged;
      EXPECT_NE(loans.out.find("\"to\":\"" + to + "\""), std::string::npos)
          << "acknowledged check-out to " << to << " is not in the loan book: " << loans.out;
    }
    auto verify = RunCommand(Custodia(archive, "verify"), tmp.path());
    ASSERT_EQ(verify.exit_code, 0) << "after kill " << k << ": " << verify.err;
    // Bring the document back, if the killed check-out went through.
    if (loans.out.find("D000001") != std::string::npos) {
      ASSERT_EQ(RunCommand(Custodia(archive, "return D000001"), tmp.path()).exit_code, 0);
    }
  }
  EXPECT_GT(acknowledged, 0) << "no kill came late enough for a check-out to be acknowledged";
}

}  // namespace
}  // namespace custodia
