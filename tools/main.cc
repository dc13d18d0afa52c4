// tools/main.cc: the `custodia` command line. Parses arguments, calls the
// pipeline, prints results for people (default) or scripts (--json), and maps
// errors to exit codes: 0 success, 1 refused or failed, 2 bad usage.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "base/env.h"
#include "pipeline/pipeline.h"
#include "tools/commands.h"
#include "tools/passphrase.h"

// Under -DCU_SANITIZE=ON: fontconfig, which Poppler asks for the fonts a PDF
// does not embed when it renders a page (a scanned page, or a page with
// little text looked at for a separator sheet), keeps a process-lifetime
// cache that LeakSanitizer reports. It is not ours to free; everything of
// custodia's is still checked.
extern "C" const char* __lsan_default_suppressions() {  // NOLINT
  return "leak:libfontconfig.so\n";
}

namespace custodia {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using pipeline::Archive;

using tools::Globals;
using tools::kExitFailed;
using tools::kExitOk;
using tools::kExitUsage;
using tools::OpenArchive;
using tools::Report;

// Each subcommand: its name, one line of help, and how to set up its options
// (which installs the callback that runs it).
struct Command {
  const char* name;
  const char* help;
  void (*setup)(CLI::App* sub, Globals* globals, int* exit_code);
};

void SetupInit(CLI::App* sub, Globals* g, int* exit_code) {
  sub->footer(
      "Creates the archive folder (vault, ledger, index), its key, and its first user\n"
      "($CUSTODIA_USER, default admin) holding the admin, archivist and station roles,\n"
      "with the passphrase from $CUSTODIA_PASSPHRASE or the terminal.\n"
      "Refuses to touch a folder that exists and is not empty.");
  sub->callback([g, exit_code] {
    fs::path dir = g->ArchiveDir();
    const std::string user = g->User();
    auto passphrase = tools::ReadPassphrase(g->passphrase_file, user, /*confirm=*/true);
    if (!passphrase) {
      *exit_code = Report("init", passphrase.error());
      return;
    }
    Status s = Archive::Create(dir, user, passphrase->value());
    if (!s) {
      *exit_code = Report("init", s.error());
      return;
    }
    if (g->json) {
      std::cout << json{{"archive", dir.string()}, {"created", true}}.dump() << "\n";
    } else {
      std::cout << "created archive " << dir.string() << "\n";
    }
  });
}

struct IngestArgs {
  std::vector<std::string> paths;
  int jobs = 0;
  std::int64_t max_pixels = 100'000'000;
  bool no_orient = false;
  bool no_cleanup = false;
  std::vector<std::string> skip_stages;
  std::string keep_stages;
  bool no_ocr_outputs = false;
  bool no_split = false;
  bool no_second_reading = false;
  double document_timeout = -1;      // -1: watch.document_timeout_seconds (600)
  std::int64_t memory_limit_mb = -1;  // -1: watch.memory_limit_mb (half the memory)
};

void SetupIngest(CLI::App* sub, Globals* g, int* exit_code) {
  static IngestArgs storage;  // Setup runs once per process
  IngestArgs* args = &storage;
  sub->add_option("PATH", args->paths,
                  "files, or folders searched for PNG, JPEG, TIFF and PDF files")
      ->required();
  sub->add_option("-j,--jobs", args->jobs, "worker threads (default: one per core)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--max-pixels", args->max_pixels,
                  "refuse pages larger than this many pixels (default 100000000)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--document-timeout", args->document_timeout,
                  "fail a document still unfinished after this many seconds (default: "
                  "watch.document_timeout_seconds of custodia.toml, 600; 0: none)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--memory-limit-mb", args->memory_limit_mb,
                  "address space of this process in MiB; a document needing more fails (default: "
                  "watch.memory_limit_mb of custodia.toml, half the memory; 0: none)")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--no-orient", args->no_orient,
                "do not turn scanned pages upright before OCR (Tesseract OSD)");
  sub->add_flag("--no-cleanup", args->no_cleanup,
                "OCR scanned pages as they are, without any cleanup stage");
  sub->add_option("--skip-stage", args->skip_stages,
                  "leave out one cleanup stage (repeatable): gray, resolution, deskew, borders, "
                  "holes, illumination, contrast, denoise, binarize");
  sub->add_option("--keep-stages", args->keep_stages,
                  "write every cleanup stage of every scanned page to this folder as PNG");
  sub->add_flag("--no-ocr-outputs", args->no_ocr_outputs,
                "seal only the original and its text, without hOCR and searchable PDF");
  sub->add_flag("--no-split", args->no_split,
                "keep each file one document even when it holds separator sheets");
  sub->add_flag("--no-second-reading", args->no_second_reading,
                "do not read a scan of up to 4 pages again when its fields would go to "
                "review (faster; more documents go to review)");
  sub->footer(
      "Each file becomes one document (or several, split at separator sheets: a page\n"
      "with a CUSTODIA-SEP or EXP:<case> QR code, or a Code 39 PATCHT; docs/separators.md;\n"
      "samples/separator.py prints them): PDF pages with a text layer use it, scanned pages\n"
      "are turned upright, cleaned (deskew, borders, punch holes, light, specks,\n"
      "binarization) and OCR'd (Tesseract, spa+eng); blank pages are recorded and not\n"
      "OCR'd. OCR'd documents are also sealed as hOCR and, when every page was scanned,\n"
      "as a searchable PDF (custodia export --format hocr|pdf). A document is sealed\n"
      "durably before it is reported. A file that fails is named with its reason; the\n"
      "others go on. Exit 1 if any file failed.\n\n"
      "Example: custodia ingest --jobs 2 scans/ contrato.pdf\n"
      "         custodia ingest --keep-stages /tmp/stages torcido.jpg");
  sub->callback([g, args, exit_code] {
    auto archive = OpenArchive(*g, "ingest");
    if (!archive) {
      *exit_code = Report("ingest", archive.error());
      return;
    }
    auto config = pipeline::LoadConfig(g->ArchiveDir());
    if (!config) {
      *exit_code = Report("ingest", config.error());
      return;
    }
    pipeline::IngestOptions options = pipeline::IngestOptionsFrom(*config);
    options.split = !args->no_split;
    options.second_reading = !args->no_second_reading;
    if (args->jobs > 0) options.jobs = args->jobs;
    options.max_pixels = args->max_pixels;
    if (args->document_timeout >= 0) options.document_timeout_seconds = args->document_timeout;
    if (args->memory_limit_mb > 0 && args->memory_limit_mb < 256) {
      *exit_code = Report("ingest", Error{Code::kInvalidArgument,
                                          "--memory-limit-mb: at least 256 (OCR needs it), or 0 for "
                                          "no limit"});
      return;
    }
    Status limited = pipeline::LimitMemory(
        args->memory_limit_mb >= 0 ? args->memory_limit_mb : config->watch.memory_limit_mb);
    if (!limited) {
      *exit_code = Report("ingest", limited.error());
      return;
    }
    options.orient = !args->no_orient;
    options.cleanup = !args->no_cleanup;
    options.skip_stages = args->skip_stages;
    options.keep_stages_dir = args->keep_stages;
    options.ocr_outputs = !args->no_ocr_outputs;
    // A worker stuck on one document past its time limit (inside Poppler or
    // Leptonica, which cannot be stopped from outside) would hang the run:
    // say which file and stop, as a crash would, without its harm (sealing
    // is atomic; the sources are untouched).
    options.stuck_grace_seconds = std::clamp(options.document_timeout_seconds / 10, 5.0, 60.0);
    options.on_stuck = [limit = options.document_timeout_seconds](const std::string& what,
                                                                  double seconds) {
      std::fflush(stdout);
      std::fprintf(stderr,
                   "\ncustodia ingest: %s: still at it %.0f s after the document was opened, "
                   "over its time limit of %g s (--document-timeout), and it cannot be stopped "
                   "from inside; ingest stops here. The documents reported above are archived; "
                   "any other may or may not be (ingest them again: those archived show as "
                   "duplicates). Set that file aside: it may be damaged.\n",
                   what.c_str(), seconds, limit);
      std::fflush(stderr);
      std::_Exit(1);
    };
    // On a terminal (and not --json): a progress bar on stderr, redrawn in
    // place; the lines of the documents print above it.
    const bool bar = !g->json && ::isatty(STDERR_FILENO);
    if (bar) {
      options.on_progress = [](const pipeline::IngestProgress& p) {
        std::fputs(tools::ProgressLine(p).c_str(), stderr);
        std::fflush(stderr);
      };
    }
    auto summary = archive->Ingest(args->paths, options, [g, bar](const pipeline::IngestResult& r) {
      if (bar) std::fputs("\r\033[K", stderr);  // clear the bar before the line
      if (g->json) {
        json line{{"id", r.id.empty() ? json(nullptr) : json(r.id)},
                  {"source", r.source},
                  {"pages", r.pages},
                  {"ocr_pages", r.ocr_pages},
                  {"blank_pages", r.blank_pages},
                  {"turned_pages", r.turned_pages},
                  {"workers", r.workers},
                  {"type", r.type.empty() ? json(nullptr) : json(r.type)},
                  {"status", r.status},
                  {"seconds", r.seconds}};
        if (r.failed()) line["error"] = r.error;
        if (r.first_page != 1) line["first_page"] = r.first_page;
        if (!r.case_file.empty()) line["case_file"] = r.case_file;
        if (r.separators > 0) line["separators"] = r.separators;
        std::cout << line.dump() << "\n" << std::flush;
        return;
      }
      if (r.failed()) {
        std::fprintf(stderr, "custodia ingest: %s: %s\n", r.source.c_str(), r.error.c_str());
        return;
      }
      std::string notes;
      if (r.blank_pages > 0) notes += "  " + std::to_string(r.blank_pages) + " blank";
      if (r.turned_pages > 0) notes += "  " + std::to_string(r.turned_pages) + " turned upright";
      std::printf(
          "%-8s  %s  %d page%s%s  %s%s  %.1f s\n", r.id.c_str(), r.source.c_str(), r.pages,
          r.pages == 1 ? "" : "s", notes.c_str(), r.type.c_str(),
          r.status == "duplicate" ? "  (duplicate: already archived, not stored again)"
          : r.status == "review"  ? "  to review"
                                  : "",
          r.seconds);
      std::fflush(stdout);
    });
    if (bar) std::fputs("\r\033[K", stderr);
    if (!summary) {
      *exit_code = Report("ingest", summary.error());
      return;
    }
    std::FILE* out = g->json ? stderr : stdout;
    if (summary->reindexed > 0)
      std::fprintf(stderr,
                   "custodia ingest: note: re-indexed %d sealed document%s an interrupted run had "
                   "left out of the index\n",
                   summary->reindexed, summary->reindexed == 1 ? "" : "s");
    std::fprintf(out, "ingested %d document%s (%d page%s) in %.1f s; %d duplicate%s; %d failed",
                 summary->sealed, summary->sealed == 1 ? "" : "s", summary->pages,
                 summary->pages == 1 ? "" : "s", summary->seconds, summary->duplicates,
                 summary->duplicates == 1 ? "" : "s", summary->failed);
    if (summary->skipped > 0)
      std::fprintf(out, "; %d file%s in folders skipped (not PNG, JPEG, TIFF or PDF)",
                   summary->skipped, summary->skipped == 1 ? "" : "s");
    std::fprintf(out, "\n");
    if (summary->failed > 0) *exit_code = kExitFailed;
  });
}

void SetupShow(CLI::App* sub, Globals* g, int* exit_code) {
  static std::string storage;
  std::string* id = &storage;
  sub->add_option("ID", *id, "document id, e.g. D000001")->required();
  sub->footer("Prints a document's record and its full text (pages separated by form feeds).");
  sub->callback([g, id, exit_code] {
    auto archive = OpenArchive(*g, "show");
    if (!archive) {
      *exit_code = Report("show", archive.error());
      return;
    }
    auto d = archive->Show(*id);
    if (!d) {
      *exit_code = Report("show", d.error());
      return;
    }
    tools::PrintDocument(*g, *d, /*with_text=*/true);
  });
}

struct SearchArgs {
  std::vector<std::string> words;
  std::string similar;
  int limit = 10;
  int offset = 0;
  std::string sort = "relevance";
  bool ascending = false;
  bool facets = false;
  bool no_snippets = false;
};

// Prints a page of hits (and facets) as `search` and `similar` do.
void PrintHits(const Globals& g, const pipeline::SearchPage& page, const SearchArgs& args,
               const std::string& what) {
  for (const pipeline::SearchHit& h : page.hits) {
    if (g.json) {
      std::cout << json{{"id", h.id},
                        {"rank", h.rank},
                        {"source", h.source},
                        {"type", h.type},
                        {"status", h.status},
                        {"date", h.date.empty() ? json(nullptr) : json(h.date)},
                        {"amount", h.amount.empty() ? json(nullptr) : json(h.amount)},
                        {"percent", h.percent},
                        {"snippet", h.snippet}}
                       .dump()
                << "\n";
    } else {
      std::printf("%-8s  %-21s  %-10s  %12s  %3d%%  %s\n", h.id.c_str(), h.type.c_str(),
                  h.date.empty() ? "-" : h.date.c_str(),
                  h.amount.empty() ? "-" : (h.amount + " EUR").c_str(), h.percent,
                  h.source.c_str());
      if (!h.snippet.empty()) std::printf("          %s\n", h.snippet.c_str());
    }
  }
  if (g.json) {
    if (args.facets) std::cout << json{{"matches", page.matches}, {"facets", page.facets}}.dump() << "\n";
    return;
  }
  if (page.hits.empty()) {
    std::printf("no documents %s\n", what.c_str());
  } else {
    std::printf("-- %d-%d of %s%llu\n", page.hits.front().rank + 1, page.hits.back().rank + 1,
                args.facets ? "" : "about ", static_cast<unsigned long long>(page.matches));
  }
  for (const auto& [facet, counts] : page.facets) {
    std::string line;
    for (const auto& [value, n] : counts) {
      line += (line.empty() ? "" : ", ") + value + " " + std::to_string(n);
    }
    std::printf("%-7s %s\n", facet.c_str(), line.empty() ? "-" : line.c_str());
  }
}

pipeline::SearchOptions ToOptions(const Globals& g, const SearchArgs& args) {
  pipeline::SearchOptions o;
  for (const std::string& w : args.words) o.query += (o.query.empty() ? "" : " ") + w;
  o.sort = args.sort;
  o.ascending = args.ascending;
  o.offset = args.offset;
  o.limit = args.limit;
  o.facets = args.facets;
  o.snippets = !args.no_snippets;
  const bool tty = !g.json && ::isatty(STDOUT_FILENO);
  o.mark_start = g.json ? "<mark>" : tty ? "\033[1m" : "[";
  o.mark_end = g.json ? "</mark>" : tty ? "\033[0m" : "]";
  return o;
}

void AddPageOptions(CLI::App* sub, SearchArgs* args) {
  sub->add_option("-n,--limit", args->limit, "at most this many hits (default 10)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--offset", args->offset, "skip this many hits first (paging; default 0)")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--no-snippets", args->no_snippets,
                "no snippets: no text is read, so no read is logged");
}

void SetupSearch(CLI::App* sub, Globals* g, int* exit_code) {
  static SearchArgs storage;
  SearchArgs* args = &storage;
  sub->add_option("QUERY", args->words,
                  "words, \"quoted phrases\", AND / OR / NOT, parentheses, field filters and "
                  "ranges (below); accents and case do not matter; none: every document");
  AddPageOptions(sub, args);
  sub->add_option("--sort", args->sort, "relevance (default), fecha (newest first) or importe "
                                        "(largest first)");
  sub->add_flag("--asc", args->ascending, "with --sort fecha|importe: oldest / smallest first");
  sub->add_flag("--facets", args->facets,
                "also count the matching documents per type, status and year");
  sub->footer(
      "Filters: tipo:TYPE  estado:auto|review|approved  nif:ID (NIF, NIE or CIF in any\n"
      "field; also dni: cif: nie:)  iban:IBAN  numero:NUMBER  cups:CUPS  expediente:ID\n"
      "lote:BATCH  puesto:STATION  prestado:si|no\n"
      "Ranges (either end may be left open): fecha:2024-01-01..2024-03-31, fecha:2024..,\n"
      "importe:100..500, importe:..99,99\n"
      "Wildcards (factur*) are refused: the index holds keyed hashes, not words.\n"
      "Examples:\n  custodia search facturacion\n  custodia search '\"recibo bancario\" NOT "
      "nomina'\n  custodia search tipo:factura fecha:2024-01..2024-03 --sort fecha --facets\n"
      "  custodia search nif:12345678Z\n"
      "Exit 2 for a malformed query, with what is wrong.");
  sub->callback([g, args, exit_code] {
    auto archive = OpenArchive(*g, "search");
    if (!archive) {
      *exit_code = Report("search", archive.error());
      return;
    }
    const pipeline::SearchOptions options = ToOptions(*g, *args);
    auto page = archive->Search(options);
    if (!page) {
      *exit_code = Report("search", page.error());
      return;
    }
    PrintHits(*g, *page, *args, "match " + options.query);
  });
}

void SetupSimilar(CLI::App* sub, Globals* g, int* exit_code) {
  static SearchArgs storage;
  SearchArgs* args = &storage;
  sub->add_option("ID", args->similar, "the document to find others like")->required();
  AddPageOptions(sub, args);
  sub->footer(
      "Documents that share the most telling words of document ID (relevance feedback\n"
      "on its indexed words), best first; ID itself left out. Output as `search`.");
  sub->callback([g, args, exit_code] {
    auto archive = OpenArchive(*g, "similar");
    if (!archive) {
      *exit_code = Report("similar", archive.error());
      return;
    }
    auto page = archive->Similar(args->similar, ToOptions(*g, *args));
    if (!page) {
      *exit_code = Report("similar", page.error());
      return;
    }
    PrintHits(*g, *page, *args, "like " + args->similar);
  });
}

void SetupRebuild(CLI::App* sub, Globals* g, int* exit_code) {
  sub->footer(
      "Empties the search index and fills it again from the vault alone: every\n"
      "document's text and fields are read (logged reads, purpose \"rebuild\") and\n"
      "indexed under the current key. Needs an archivist. The index is a projection:\n"
      "nothing is lost by rebuilding it.");
  sub->callback([g, exit_code] {
    auto archive = OpenArchive(*g, "rebuild");
    if (!archive) {
      *exit_code = Report("rebuild", archive.error());
      return;
    }
    auto count = archive->Rebuild();
    if (!count) {
      *exit_code = Report("rebuild", count.error());
      return;
    }
    if (g->json) {
      std::cout << json{{"indexed", *count}}.dump() << "\n";
    } else {
      std::printf("rebuilt the index: %llu documents\n", static_cast<unsigned long long>(*count));
    }
  });
}

struct ExportArgs {
  std::string id;
  std::string out;
  std::string format = "original";
  bool force = false;
};

// Writes `bytes` to `out` whole or not at all, through a temporary file of
// a fresh name beside it (O_EXCL: never an existing file, never through a
// symbolic link). Without `replace`, an entry already at `out` (a file, a
// directory, a link, even a dangling one, and one that appeared while the
// export was being decrypted) is kAlreadyExists and stays as it was; with
// it, the entry is replaced (a link itself, never what it points to).
Status WriteExport(const fs::path& out, std::span<const std::uint8_t> bytes, bool replace) {
  auto already = [&] {
    return Fail(Code::kAlreadyExists,
                out.string() + " already exists; choose another --out or add --force");
  };
  std::string tmp = out.string() + ".custodia-XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return Fail(Code::kIo, tmp + ": create: " + std::strerror(errno));
  auto fail = [&](const std::string& what, int err) -> Status {
    ::unlink(tmp.c_str());
    return Fail(Code::kIo, out.string() + ": " + what + ": " + std::strerror(err));
  };
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return fail("write", err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return fail("fsync", err);
  }
  if (::close(fd) != 0) return fail("close", errno);
  if (replace) {
    if (::rename(tmp.c_str(), out.c_str()) != 0) return fail("rename", errno);
  } else if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, out.c_str(), RENAME_NOREPLACE) != 0) {
    int err = errno;
    if (err == EINVAL || err == ENOSYS) {
      // No RENAME_NOREPLACE on this filesystem: link() never replaces either.
      err = ::link(tmp.c_str(), out.c_str()) == 0 ? 0 : errno;
      ::unlink(tmp.c_str());
      if (err == 0) return Env::Default()->SyncDir(out.has_parent_path() ? out.parent_path() : fs::path("."));
    } else {
      ::unlink(tmp.c_str());
    }
    if (err == EEXIST) return already();
    return Fail(Code::kIo, out.string() + ": rename: " + std::strerror(err));
  }
  return Env::Default()->SyncDir(out.has_parent_path() ? out.parent_path() : fs::path("."));
}

void SetupExport(CLI::App* sub, Globals* g, int* exit_code) {
  static ExportArgs storage;
  ExportArgs* args = &storage;
  sub->add_option("ID", args->id, "document id, e.g. D000001")->required();
  sub->add_option("-o,--out", args->out, "file to write to ('-' for standard output)")
      ->required();
  sub->add_option("--format", args->format,
                  "original (default), text, hocr (word boxes and confidences) or pdf "
                  "(searchable: page images with an invisible text layer)")
      ->check(CLI::IsMember({"original", "text", "hocr", "pdf"}));
  sub->add_flag("-f,--force", args->force, "replace --out if it exists");
  sub->footer(
      "Writes the original file back, byte for byte as it was ingested, or what was\n"
      "made from it: its text, its hOCR, its searchable PDF (the last two exist for\n"
      "documents that were OCR'd; a PDF only when every page was scanned). Every\n"
      "export is logged in the ledger before the bytes are written.\n\n"
      "Example: custodia export D000004 --format pdf --out factura.pdf");
  sub->callback([g, args, exit_code] {
    // Asked first, to refuse before a passphrase is asked for; WriteExport
    // refuses again (an entry that appears meanwhile, a dangling link).
    std::error_code ec;
    if (args->out != "-" && !args->force && fs::exists(fs::symlink_status(args->out, ec))) {
      *exit_code = Report(
          "export", Error{Code::kAlreadyExists,
                          args->out + " already exists; choose another --out or add --force"});
      return;
    }
    auto archive = OpenArchive(*g, "export");
    if (!archive) {
      *exit_code = Report("export", archive.error());
      return;
    }
    auto bytes = archive->Export(args->id, args->format);
    if (!bytes) {
      *exit_code = Report("export", bytes.error());
      return;
    }
    if (args->out == "-") {
      std::fwrite(bytes->data(), 1, bytes->size(), stdout);
      std::fflush(stdout);
      return;
    }
    Status written = WriteExport(args->out, *bytes, args->force);
    if (!written) {
      *exit_code = Report("export", written.error());
      return;
    }
    if (g->json) {
      std::cout << json{{"id", args->id},
                        {"format", args->format},
                        {"out", args->out},
                        {"bytes", bytes->size()}}
                       .dump()
                << "\n";
    } else {
      std::printf("wrote %s %s (%zu bytes) to %s\n", args->id.c_str(), args->format.c_str(),
                  bytes->size(), args->out.c_str());
    }
  });
}

struct VerifyArgs {
  std::vector<std::string> checkpoints;
  std::string proof;
  std::string id;
  bool deep = false;
};

void SetupVerify(CLI::App* sub, Globals* g, int* exit_code) {
  static VerifyArgs storage;
  VerifyArgs* args = &storage;
  sub->add_option("--checkpoint", args->checkpoints,
                  "a checkpoint saved earlier (custodia checkpoint): prove today's ledger "
                  "extends it (repeatable)")
      ->check(CLI::ExistingFile);
  sub->add_option("--proof", args->proof, "an inclusion proof (custodia prove) to check")
      ->check(CLI::ExistingFile);
  sub->add_option("--id", args->id, "the document the --proof is for");
  sub->add_flag("--deep", args->deep,
                "also decrypt every blob in full (archivist or admin: logs in as --user)");
  sub->footer(
      "Needs no key and no passphrase (auditors run it). Checks the ledger's framing,\n"
      "sequence and hash chain, every signature and that each signer held the role,\n"
      "the loan book, every blob against its name and the current key file, and the\n"
      "index against the vault. Names the first defect and exits 1. Blobs no entry\n"
      "refers to, and sealed documents not yet indexed, are reported, not errors.\n"
      "With --checkpoint FILE, also proves that today's ledger extends a checkpoint\n"
      "saved earlier, which catches truncation and rollback.\n"
      "With --deep, logs in as the acting user (archivist or admin) and also decrypts\n"
      "every blob in full: every chunk's tag, the final tag, the plaintext size and\n"
      "the original's hash. No plaintext is shown or kept, and nothing is logged.");
  sub->callback([g, args, exit_code] {
    auto archive = OpenArchive(*g, "verify", /*login=*/args->deep);
    if (!archive) {
      *exit_code = Report("verify", archive.error());
      return;
    }
    if (!args->proof.empty() && args->id.empty()) {
      *exit_code = Report(
          "verify", Error{Code::kInvalidArgument, "--proof needs --id ID: the document it proves"});
      return;
    }
    auto report = args->deep ? archive->VerifyDeep() : archive->Verify();
    // Saved checkpoints and proofs, after the archive itself verified.
    auto check_file = [&](const std::string& path, bool proof) -> Status {
      auto bytes = Env::Default()->ReadFile(path);
      if (!bytes) return Unexpected{bytes.error()};
      std::string text(bytes->begin(), bytes->end());
      auto check = proof ? archive->VerifyProof(text, args->id) : archive->VerifyCheckpoint(text);
      if (!check) return Wrap(check.error(), path);
      if (!g->json)
        std::printf("%s: %s signed by %s covers %llu entries; today's ledger (%llu) extends it\n",
                    path.c_str(),
                    proof ? ("proof of " + args->id + ", checkpoint").c_str() : "checkpoint",
                    check->signer.c_str(), static_cast<unsigned long long>(check->size),
                    static_cast<unsigned long long>(check->current_size));
      return Ok();
    };
    if (report) {
      for (const std::string& path : args->checkpoints) {
        Status s = check_file(path, false);
        if (!s) {
          report = Unexpected{s.error()};
          break;
        }
      }
    }
    if (report && !args->proof.empty()) {
      Status s = check_file(args->proof, true);
      if (!s) report = Unexpected{s.error()};
    }
    if (!report) {
      if (g->json)
        std::cout << json{{"ok", false}, {"error", report.error().message}}.dump() << "\n";
      std::fprintf(stderr, "custodia verify: FAILED: %s\n", report.error().message.c_str());
      *exit_code = kExitFailed;
      return;
    }
    if (g->json) {
      std::cout << json{{"ok", true},
                        {"entries", report->entries},
                        {"blobs", report->blobs},
                        {"users", report->users},
                        {"loans", report->loans},
                        {"indexed", report->indexed},
                        {"not_indexed", report->not_indexed},
                        {"stale", report->stale},
                        {"stale_ids", report->stale_ids},
                        {"unreferenced_blobs", report->unreferenced_blobs},
                        {"decrypted", report->decrypted}}
                       .dump()
                << "\n";
    } else {
      std::printf(
          "verified: %llu ledger entries, %llu blobs, %llu users, %llu open loans, %llu "
          "documents indexed\n",
          static_cast<unsigned long long>(report->entries),
          static_cast<unsigned long long>(report->blobs),
          static_cast<unsigned long long>(report->users),
          static_cast<unsigned long long>(report->loans),
          static_cast<unsigned long long>(report->indexed));
      if (args->deep)
        std::printf("decrypted: %llu blobs in full, every tag, size and original hash checked\n",
                    static_cast<unsigned long long>(report->decrypted));
    }
    if (report->stale > 0) {
      std::string ids;
      for (const std::string& id : report->stale_ids) ids += (ids.empty() ? "" : ", ") + id;
      std::fprintf(stderr,
                   "custodia verify: note: the index disagrees with the ledger on %llu documents "
                   "(%s%s): it shows them as they were before a later entry; run `custodia "
                   "rebuild`\n",
                   static_cast<unsigned long long>(report->stale), ids.c_str(),
                   report->stale > report->stale_ids.size() ? ", ..." : "");
    }
    if (report->not_indexed > 0)
      std::fprintf(stderr,
                   "custodia verify: note: %llu sealed documents are not indexed yet (an "
                   "interrupted run); the next ingest by an archivist re-indexes them\n",
                   static_cast<unsigned long long>(report->not_indexed));
    for (const std::string& blob : report->unreferenced_blobs)
      std::fprintf(stderr,
                   "custodia verify: note: blob %s is referenced by no entry (left by an "
                   "interrupted seal, or planted); it holds nothing the archive relies on\n",
                   blob.c_str());
  });
}

const Command kCommands[] = {
    {"init", "create a new archive", SetupInit},
    {"ingest", "archive scans and PDFs (OCR, seal, index)", SetupIngest},
    {"show", "print a document's record and text", SetupShow},
    {"search", "find documents by words, fields, dates and amounts", SetupSearch},
    {"similar", "find documents like a given one", SetupSimilar},
    {"rebuild", "recreate the search index from the vault", SetupRebuild},
    {"export", "write a document's original back out", SetupExport},
    {"verify", "check the ledger, every blob and the index", SetupVerify},
};

int Main(int argc, char** argv) {
  CLI::App app{"custodia: a searchable, tamper-evident archive for scans and PDFs"};
  app.name("custodia");
  app.set_version_flag("--version",
                       [] { return "custodia 0.1.0 (" + pipeline::LibraryVersions() + ")"; });
  Globals globals;
  int exit_code = kExitOk;
  app.add_option("--archive", globals.archive,
                 "archive folder (default: $CUSTODIA_ARCHIVE, else ./archive)");
  app.add_flag("--json", globals.json, "print JSON for scripts (one object per line for lists)");
  app.add_option("--user", globals.user, "who acts (default: $CUSTODIA_USER, else admin)");
  app.add_option("--passphrase-file", globals.passphrase_file,
                 "read the acting person's passphrase from the first line of this file (else "
                 "$CUSTODIA_PASSPHRASE, else the terminal)");
  app.add_option("--wait", globals.lock_wait,
                 "while another custodia process holds the archive (a watcher archiving a "
                 "batch, another command), wait up to this many seconds (default 30)")
      ->check(CLI::Range(0.0, 86400.0));
  app.require_subcommand(1);
  app.fallthrough();
  app.footer("Run 'custodia COMMAND --help' for a command's options. See docs/cli.md.");
  for (const Command& c : kCommands)
    c.setup(app.add_subcommand(c.name, c.help), &globals, &exit_code);
  tools::SetupCustodyCommands(&app, &globals, &exit_code);
  tools::SetupReviewCommands(&app, &globals, &exit_code);
  tools::SetupWatchCommands(&app, &globals, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr,
                 "custodia: %s\nRun 'custodia --help' (or 'custodia COMMAND --help') for usage.\n",
                 e.what());
    return kExitUsage;
  }
  return exit_code;
}

}  // namespace
}  // namespace custodia

namespace custodia::tools {

void PrintDocument(const Globals& g, const pipeline::Document& d, bool with_text) {
  json c = json::parse(d.classification_json, nullptr, /*allow_exceptions=*/false);
  if (!c.is_object()) c = json::object();
  json fields = c.contains("fields") && c["fields"].is_object() ? c["fields"] : json::object();
  json reasons = c.contains("reasons") && c["reasons"].is_array() ? c["reasons"] : json::array();
  const double type_confidence =
      c.contains("type_confidence") && c["type_confidence"].is_number()
          ? c["type_confidence"].get<double>()
          : 0.0;
  json reviews = json::array();
  for (const pipeline::ReviewStep& r : d.reviews) {
    reviews.push_back({{"at", r.at},
                       {"actor", r.actor},
                       {"action", r.action},
                       {"field", r.field},
                       {"old", r.old_value},
                       {"new", r.new_value},
                       {"status", r.status}});
  }
  if (g.json) {
    std::cout << json{{"id", d.id},
                      {"source", d.source},
                      {"pages", d.pages},
                      {"type", d.type},
                      {"type_confidence", type_confidence},
                      {"status", d.status},
                      {"reasons", reasons},
                      {"fields", fields},
                      {"text", with_text ? json(d.text) : json(nullptr)},
                      {"original_hash", d.original_hash},
                      {"original_size", d.original_size},
                      {"sealed_at", d.sealed_at},
                      {"actor", d.actor},
                      {"reviews", reviews}}
                     .dump()
              << "\n";
    return;
  }
  std::printf("id        %s\nsource    %s\npages     %d\ntype      %s (%.0f%% sure)\nstatus    %s\n",
              d.id.c_str(), d.source.c_str(), d.pages, d.type.c_str(),
              type_confidence * 100, d.status.c_str());
  for (const json& r : reasons)
    if (r.is_string()) std::printf("  review: %s\n", r.get<std::string>().c_str());
  std::printf("sealed    %s by %s\noriginal  %llu bytes, blake2b-256 %s\n", d.sealed_at.c_str(),
              d.actor.c_str(), static_cast<unsigned long long>(d.original_size),
              d.original_hash.c_str());
  if (fields.empty()) std::printf("fields    none\n");
  for (auto& [name, f] : fields.items()) {
    if (!f.is_object()) continue;
    std::string note = f.value("valid", false) ? "" : "  NOT VALID";
    if (f.contains("reason") && f["reason"].is_string())
      note += "  (" + f["reason"].get<std::string>() + ")";
    if (f.contains("repairs") && f["repairs"].is_array() && !f["repairs"].empty())
      note += "  repaired: " + f["repairs"].dump();
    std::printf("field     %-18s %s  %.0f%%%s\n", name.c_str(), f.value("value", "").c_str(),
                f.value("confidence", 0.0) * 100, note.c_str());
  }
  for (const pipeline::ReviewStep& r : d.reviews) {
    std::string what = r.action == "set"    ? r.field + ": \"" + r.old_value + "\" -> \"" +
                                                  r.new_value + "\""
                       : r.action == "type" ? "type " + r.old_value + " -> " + r.new_value
                                            : std::string("approved");
    std::printf("review    %s by %s: %s\n", r.at.c_str(), r.actor.c_str(), what.c_str());
  }
  if (with_text) std::printf("\n%s\n", d.text.c_str());
}

}  // namespace custodia::tools

int main(int argc, char** argv) {
  // Tesseract's OpenMP runtime reads OMP_THREAD_LIMIT when it is loaded,
  // before main, and its threads on top of custodia's workers make OCR about
  // twice as slow (see ocr/ocr.h). Start again, once, with the limit set;
  // a limit the user set is kept.
  if (std::getenv("OMP_THREAD_LIMIT") == nullptr) {
    ::setenv("OMP_THREAD_LIMIT", "1", 1);
    ::execv("/proc/self/exe", argv);
    // Only reached when the re-exec failed: carry on, slower but correct.
  }
  // WARNING: this process holds passphrases and keys. No core dump may keep
  // them: no core file (RLIMIT_CORE 0, which the watch worker inherits),
  // and not dumpable (no core, no ptrace or /proc/PID/mem by other
  // processes of the same user). And every file it makes is the owner's
  // alone (0600/0700) whatever umask it was started with: Xapian creates
  // the index's files with the umask's mode.
  const struct rlimit no_core = {0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  ::umask(077);
  try {
    return custodia::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "custodia: internal error: %s\n", e.what());
    return 1;
  }
}
