// tools/watch.cc: `custodia watch` (hot folders, docs/watch.md), its hidden
// worker, and `custodia config check`.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/env.h"
#include "pipeline/pipeline.h"
#include "tools/commands.h"
#include "tools/passphrase.h"

namespace custodia::tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

volatile int g_stop = 0;

extern "C" void OnStopSignal(int) { g_stop = 1; }

struct WatchArgs {
  std::vector<std::string> inboxes;
  bool once = false;
};

void SetupWatch(CLI::App* sub, Globals* g, int* exit_code) {
  static WatchArgs storage;
  WatchArgs* args = &storage;
  sub->add_option("--inbox", args->inboxes,
                  "a folder to watch (repeatable); default: [[watch.inbox]] in ARCHIVE/custodia.toml");
  sub->add_flag("--once", args->once,
                "archive what is complete now and exit (for cron and tests)");
  sub->footer(
      "Takes each complete batch from the inboxes (a file, or a folder of files: complete\n"
      "when closed and unchanged for watch.settle_seconds, or at once when its marker,\n"
      "FOLDER/batch.ready or FILE.ready, appears), archives it as the inbox's station,\n"
      "and then moves it to INBOX/done/ (or deletes it: watch.sources = \"delete\").\n"
      "A batch that fails goes to INBOX/quarantine/ with NAME.reason.txt, and the reason\n"
      "is recorded in the ledger. A batch taken and not finished when the watcher\n"
      "stopped (a crash included) is archived on the next start, never twice.\n"
      "Logs one line per document and per quarantined batch. SIGTERM or Ctrl-C stop it.\n\n"
      "Example: custodia --user escaner-1 --passphrase-file /etc/custodia/escaner-1 \\\n"
      "           watch --inbox /srv/escaner-1\n"
      "See docs/watch.md (settings, the systemd unit) and docs/config.md.");
  sub->callback([g, args, exit_code] {
    pipeline::WatchRequest request;
    request.archive = g->ArchiveDir();
    request.user = g->User();
    request.inboxes = args->inboxes;
    request.once = args->once;
    request.json = g->json;
    char self[4096];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
      *exit_code = Report("watch", Error{Code::kInternal, "cannot find this program (/proc/self/exe)"});
      return;
    }
    request.self.assign(self, static_cast<std::size_t>(n));
    auto passphrase = ReadPassphrase(g->passphrase_file, request.user, /*confirm=*/false);
    if (!passphrase) {
      *exit_code = Report("watch", passphrase.error());
      return;
    }
    request.passphrase = passphrase->value();
    struct sigaction sa = {};
    sa.sa_handler = OnStopSignal;
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);  // a worker that died is noticed on read
    Status s = pipeline::Watch(
        request,
        [](const std::string& line) {
          std::cout << line << "\n" << std::flush;
        },
        &g_stop);
    std::fill(request.passphrase.begin(), request.passphrase.end(), '\0');
    if (!s) *exit_code = Report("watch", s.error());
  });
}

void SetupWatchWorker(CLI::App* sub, Globals* g, int* exit_code) {
  sub->group("");  // hidden: started by `watch` only
  sub->callback([g, exit_code] { *exit_code = pipeline::WatchWorker(g->ArchiveDir(), g->User()); });
}

void SetupConfig(CLI::App* sub, Globals* g, int* exit_code) {
  sub->require_subcommand(1);
  CLI::App* check = sub->add_subcommand("check", "validate ARCHIVE/custodia.toml");
  check->footer(
      "Reads ARCHIVE/custodia.toml as watch, review and ingest would, and names the\n"
      "line and key of the first problem (exit 2). Checks that each inbox exists.\n"
      "See docs/config.md for every setting.");
  check->callback([g, exit_code] {
    const fs::path dir = g->ArchiveDir();
    auto config = pipeline::LoadConfig(dir);
    if (!config) {
      *exit_code = Report("config check", config.error());
      return;
    }
    std::vector<std::string> problems;
    for (const pipeline::InboxConfig& inbox : config->watch.inboxes) {
      fs::path path = inbox.path;
      if (path.is_relative()) path = dir / path;
      std::error_code ec;
      if (!fs::is_directory(path, ec)) {
        problems.push_back("inbox " + path.string() + " is not a folder (create it, or fix watch.inbox.path)");
      }
      if (!inbox.passphrase_file.empty() && !fs::exists(inbox.passphrase_file, ec)) {
        problems.push_back("inbox " + path.string() + ": passphrase_file " + inbox.passphrase_file +
                           " does not exist");
      }
    }
    if (g->json) {
      std::cout << json{{"file", config->file},
                        {"ok", problems.empty()},
                        {"problems", problems},
                        {"inboxes", config->watch.inboxes.size()}}
                       .dump()
                << "\n";
    } else {
      for (const std::string& p : problems) std::fprintf(stderr, "custodia config check: %s\n", p.c_str());
      if (config->file.empty()) {
        std::cout << "no " << (dir / "custodia.toml").string() << ": every setting has its default\n";
      } else if (problems.empty()) {
        std::cout << config->file << ": ok (" << config->watch.inboxes.size() << " inboxes)\n";
      }
    }
    if (!problems.empty()) *exit_code = kExitFailed;
  });
}

void SetupCases(CLI::App* sub, Globals* g, int* exit_code) {
  static std::string case_file;
  sub->add_option("CASE", case_file, "one case file's id (default: list them all)");
  sub->footer(
      "Case files (expedientes) come from separator sheets with a QR code EXP:<id>\n"
      "(docs/separators.md): the documents after such a sheet are filed in <id>. Read\n"
      "from the ledger, no document is opened; any role may list them.\n"
      "Search within one: custodia search 'expediente:2024-0001 nomina'.");
  sub->callback([g, exit_code] {
    auto archive = OpenArchive(*g, "cases", /*login=*/false);
    if (!archive) {
      *exit_code = Report("cases", archive.error());
      return;
    }
    auto cases = archive->CaseFiles(case_file);
    if (!cases) {
      *exit_code = Report("cases", cases.error());
      return;
    }
    for (const auto& [id, docs] : *cases) {
      if (g->json) {
        json list = json::array();
        for (const pipeline::CaseDocument& d : docs) {
          list.push_back({{"id", d.id}, {"type", d.type}, {"status", d.status},
                          {"source", d.source}, {"sealed_at", d.sealed_at}});
        }
        std::cout << json{{"case_file", id}, {"documents", list}}.dump() << "\n";
        continue;
      }
      if (case_file.empty()) {
        std::printf("%-24s %zu document%s\n", id.c_str(), docs.size(), docs.size() == 1 ? "" : "s");
        continue;
      }
      for (const pipeline::CaseDocument& d : docs) {
        std::printf("%-8s  %-22s %-8s %s  %s\n", d.id.c_str(), d.type.c_str(), d.status.c_str(),
                    d.sealed_at.c_str(), d.source.c_str());
      }
    }
    if (cases->empty() && !g->json) std::printf("no case files yet\n");
  });
}

}  // namespace

std::string ProgressLine(const pipeline::IngestProgress& p) {
  // Pages still to come: those known, plus the unopened files at the
  // average so far.
  double total = p.pages_known;
  if (p.files_opened > 0 && p.files > p.files_opened) {
    total += static_cast<double>(p.pages_known) / p.files_opened * (p.files - p.files_opened);
  }
  const double fraction = total > 0 ? std::min(1.0, p.pages_done / total) : 0.0;
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string line = "\r[" + std::string(static_cast<std::size_t>(filled), '#') +
                     std::string(static_cast<std::size_t>(kWidth - filled), '.') + "]";
  char tail[160];
  const double rate = p.seconds > 0 ? p.pages_done / p.seconds : 0;
  std::snprintf(tail, sizeof tail, "  %d/%d pages  %d/%d files  %.1f pages/s", p.pages_done,
                static_cast<int>(total + 0.5), p.files_done, p.files, rate);
  line += tail;
  if (rate > 0 && total > p.pages_done) {
    const int eta = static_cast<int>((total - p.pages_done) / rate + 0.5);
    std::snprintf(tail, sizeof tail, "  ETA %d:%02d", eta / 60, eta % 60);
    line += tail;
  }
  return line + "\033[K";
}

void SetupWatchCommands(CLI::App* app, Globals* g, int* exit_code) {
  SetupWatch(app->add_subcommand("watch", "archive what scanning stations drop into hot folders"), g,
             exit_code);
  SetupWatchWorker(app->add_subcommand("watch-worker", "(internal) the process watch archives with"),
                   g, exit_code);
  SetupConfig(app->add_subcommand("config", "check the archive's custodia.toml"), g, exit_code);
  SetupCases(app->add_subcommand("cases", "case files (expedientes) and their documents"), g,
             exit_code);
}

}  // namespace custodia::tools
