// tools/commands.h: what the subcommands of the custodia binary share: the
// global options, opening the archive as the acting person, and reporting
// errors with the right exit status.
#ifndef CUSTODIA_TOOLS_COMMANDS_H_
#define CUSTODIA_TOOLS_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "base/env.h"
#include "pipeline/pipeline.h"
#include "tools/passphrase.h"

namespace custodia::tools {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

struct Globals {
  std::string archive;          // --archive, else $CUSTODIA_ARCHIVE, else ./archive
  std::string user;             // --user, else $CUSTODIA_USER, else admin
  std::string passphrase_file;  // --passphrase-file
  bool json = false;
  double lock_wait = 30;        // --wait: seconds to wait for another process's archive lock

  std::string User() const {
    if (!user.empty()) return user;
    if (const char* env = std::getenv("CUSTODIA_USER"); env && *env) return env;
    return "admin";
  }

  std::filesystem::path ArchiveDir() const {
    if (!archive.empty()) return archive;
    if (const char* env = std::getenv("CUSTODIA_ARCHIVE"); env && *env) return env;
    return "archive";
  }
};

// Prints "custodia COMMAND: message" and returns the exit status for it.
inline int Report(const std::string& command, const Error& error) {
  std::fprintf(stderr, "custodia %s: %s\n", command.c_str(), error.message.c_str());
  return error.code == Code::kInvalidArgument ? kExitUsage : kExitFailed;
}

// Opens the archive and prints what Open repaired, if anything. With
// `login`, acts as g.User() with their passphrase (--passphrase-file,
// $CUSTODIA_PASSPHRASE or the terminal; never argv).
// True when the archive's lock is held by another process now.
inline bool ArchiveLocked(const std::filesystem::path& archive) {
  const std::filesystem::path lock = archive / "vault" / "LOCK";
  if (!std::filesystem::exists(lock)) return false;
  auto held = Env::Default()->LockFile(lock);
  return !held && held.error().code == Code::kFailedPrecondition;
}

// Opens the archive; while another process holds it (a watcher archiving a
// batch, another command), says so once and waits up to g.lock_wait seconds.
inline Result<pipeline::Archive> OpenArchiveWaiting(const Globals& g, const std::string& command) {
  const auto start = std::chrono::steady_clock::now();
  bool said = false;
  for (;;) {
    auto archive = pipeline::Archive::Open(g.ArchiveDir());
    if (archive || archive.error().code != Code::kFailedPrecondition ||
        !ArchiveLocked(g.ArchiveDir())) {
      return archive;
    }
    const double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (waited >= g.lock_wait) {
      return Fail(Code::kFailedPrecondition,
                  archive.error().message + " (waited " + std::to_string(static_cast<int>(waited)) +
                      " s; try again when it is done, or wait longer with --wait SECONDS)");
    }
    if (!said) {
      std::fprintf(stderr, "custodia %s: waiting for the archive: %s (up to %g s, --wait)\n",
                   command.c_str(), archive.error().message.c_str(), g.lock_wait);
      said = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

inline Result<pipeline::Archive> OpenArchive(const Globals& g, const std::string& command,
                                             bool login = true) {
  auto archive = OpenArchiveWaiting(g, command);
  if (!archive) return archive;
  auto print_notices = [&] {
    for (const std::string& notice : archive->notices())
      std::fprintf(stderr, "custodia %s: note: %s\n", command.c_str(), notice.c_str());
  };
  if (login) {
    const std::string user = g.User();
    auto passphrase = ReadPassphrase(g.passphrase_file, user, /*confirm=*/false);
    if (!passphrase) return Unexpected{passphrase.error()};
    Status in = archive->Login(user, passphrase->value());
    print_notices();
    if (!in) return Unexpected{in.error()};
  } else {
    print_notices();
  }
  return archive;
}

// Prints a document as `show` does (JSON with --json): its record, fields,
// review history and, `with_text`, its text.
void PrintDocument(const Globals& g, const pipeline::Document& d, bool with_text);

// Adds review (list, show, set, type, approve), report and train to `app`.
void SetupReviewCommands(CLI::App* app, Globals* g, int* exit_code);

// Adds user, checkout, return, loans, log and rotate-key to `app`.
void SetupCustodyCommands(CLI::App* app, Globals* g, int* exit_code);

// "\r[#######.............]  12/40 pages  3/10 files  1.9 pages/s  ETA 0:15"
// (tools/watch.cc). The ETA counts pages not yet known (files not opened)
// at the average pages per file opened so far.
std::string ProgressLine(const pipeline::IngestProgress& p);

// watch, watch-worker (hidden), config check (tools/watch.cc).
void SetupWatchCommands(CLI::App* app, Globals* g, int* exit_code);

}  // namespace custodia::tools

#endif  // CUSTODIA_TOOLS_COMMANDS_H_
