// bench/hot_folder_bench.cc: the watcher's own work per file (detection,
// claim, release) and how a drop of many small files scales (issue 6,
// "Speed"). Real files, real inotify, on the file system of --dir.
//
// Part 1, per file, with N files already in the inbox and settled: one
// Scan, then Claim and Release of each, as `custodia watch` does them;
// against a reference loop of the bare system calls the same work needs at
// least (readdir + lstat per entry, a no-replace rename into the working
// area, a rename into done/). The ratio is what HotFolder's checks (names,
// kinds, settle bookkeeping, write leases, collisions) cost.
//
// Part 2, a drop while the watcher runs: a writer creates N files at full
// speed while a loop shaped like pipeline/watch.cc's (inotify, poll, scans
// spaced so that scanning takes at most a tenth of the time, settle 0.5 s) claims and
// releases them. Reported: the watcher's CPU time per file, scans made, and
// the time from the last file written to the last released. Quadratic
// behaviour would show as CPU per file growing with N.
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "capture/capture.h"

namespace {

namespace fs = std::filesystem;
using custodia::capture::HotFolder;
using custodia::capture::HotFolderOptions;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double CpuSeconds() {
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void WriteSmall(const fs::path& path, int i) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    std::perror(path.c_str());
    std::exit(1);
  }
  std::string data = "%PDF-1.4 small file " + std::to_string(i) + std::string(900, 'x');
  if (::write(fd, data.data(), data.size()) < 0) std::exit(1);
  ::close(fd);
}

std::string Name(int i) {
  char name[32];
  std::snprintf(name, sizeof name, "scan-%06d.pdf", i);
  return name;
}

void Fill(const fs::path& inbox, int n) {
  for (int i = 0; i < n; ++i) WriteSmall(inbox / Name(i), i);
}

struct PerFile {
  double scan_ms = 0, claim_ms = 0, release_ms = 0;
  double total() const { return scan_ms + claim_ms + release_ms; }
};

PerFile MeasureHotFolder(const fs::path& inbox, int n) {
  HotFolderOptions options;
  options.settle_seconds = 0;
  auto folder = HotFolder::Open(inbox, options);
  if (!folder) {
    std::fprintf(stderr, "%s\n", folder.error().message.c_str());
    std::exit(1);
  }
  Fill(inbox, n);
  PerFile out;
  auto t = Clock::now();
  auto scan = folder->Scan(NowMicros() + 1'000'000);
  out.scan_ms = Since(t) * 1e3 / n;
  if (!scan || static_cast<int>(scan->ready.size()) != n) {
    std::fprintf(stderr, "scan found %zu of %d\n", scan ? scan->ready.size() : 0, n);
    std::exit(1);
  }
  t = Clock::now();
  for (const auto& e : scan->ready) {
    if (!folder->Claim(e.name)) std::exit(1);
  }
  out.claim_ms = Since(t) * 1e3 / n;
  t = Clock::now();
  for (const auto& e : scan->ready) {
    if (!folder->Release(e.name, false)) std::exit(1);
  }
  out.release_ms = Since(t) * 1e3 / n;
  return out;
}

PerFile MeasureRaw(const fs::path& inbox, int n) {
  fs::create_directories(inbox / ".work");
  fs::create_directories(inbox / "done");
  Fill(inbox, n);
  PerFile out;
  auto t = Clock::now();
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(inbox)) {
    struct stat st;
    if (::lstat(e.path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) names.push_back(e.path().filename());
  }
  std::sort(names.begin(), names.end());
  out.scan_ms = Since(t) * 1e3 / n;
  t = Clock::now();
  for (const std::string& name : names) {
    if (::renameat2(AT_FDCWD, (inbox / name).c_str(), AT_FDCWD, (inbox / ".work" / name).c_str(),
                    RENAME_NOREPLACE) != 0) {
      std::exit(1);
    }
  }
  out.claim_ms = Since(t) * 1e3 / n;
  t = Clock::now();
  for (const std::string& name : names) {
    if (::rename((inbox / ".work" / name).c_str(), (inbox / "done" / name).c_str()) != 0) std::exit(1);
  }
  out.release_ms = Since(t) * 1e3 / n;
  return out;
}

struct Drop {
  double cpu_ms_per_file = 0;
  int scans = 0;
  double write_seconds = 0;
  double lag_seconds = 0;  // last file written -> last file released
};

// A writer drops `n` files; the watcher loop takes them (see the header).
Drop MeasureDrop(const fs::path& inbox, int n) {
  HotFolderOptions options;
  options.settle_seconds = 0.5;
  auto folder = HotFolder::Open(inbox, options);
  if (!folder || !folder->Watch()) std::exit(1);
  std::atomic<bool> written{false};
  Clock::time_point written_at;
  const auto start = Clock::now();
  std::thread writer([&] {
    for (int i = 0; i < n; ++i) WriteSmall(inbox / Name(i), i);
    written_at = Clock::now();
    written = true;
  });
  Drop out;
  const double cpu0 = CpuSeconds();
  int released = 0;
  std::int64_t earliest = 0;
  while (released < n) {
    const std::int64_t early = earliest - NowMicros();
    if (early > 0) ::poll(nullptr, 0, static_cast<int>(early / 1000 + 1));
    const std::int64_t now = NowMicros();
    auto scan = folder->Scan(now);
    if (!scan) std::exit(1);
    const std::int64_t scanned = NowMicros() - now;
    ++out.scans;
    for (const auto& e : scan->ready) {
      if (folder->Claim(e.name) && folder->Release(e.name, false)) ++released;
    }
    earliest = now + std::max<std::int64_t>(20'000, 10 * scanned);
    if (released >= n) break;
    struct pollfd p = {folder->fd(), POLLIN, 0};
    std::int64_t wake = scan->next_check_micros != 0 ? scan->next_check_micros : now + 1'000'000;
    ::poll(&p, 1, static_cast<int>(std::clamp<std::int64_t>((wake - NowMicros()) / 1000 + 1, 0, 1000)));
  }
  const double cpu = CpuSeconds() - cpu0;
  writer.join();
  out.cpu_ms_per_file = cpu * 1e3 / n;
  out.write_seconds = std::chrono::duration<double>(written_at - start).count();
  out.lag_seconds = Since(written_at);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path base = fs::temp_directory_path();
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--dir") == 0) base = argv[i + 1];
  }
  std::string tmpl = (base / "hot-folder-bench-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path root = tmpl;
  std::printf("hot_folder_bench on %s (median of 5 runs per row)\n\n", root.c_str());
  std::printf("part 1: N files already in the inbox, per file (ms)\n");
  std::printf("%-7s %-9s %8s %8s %8s %8s %8s\n", "N", "who", "scan", "claim", "release", "total", "ratio");
  int run = 0;
  for (int n : {1000, 10000}) {
    std::vector<PerFile> ours, raw;
    for (int rep = 0; rep < 5; ++rep) {
      const fs::path a = root / ("a" + std::to_string(run));
      const fs::path b = root / ("b" + std::to_string(run++));
      fs::create_directories(a);
      fs::create_directories(b);
      ours.push_back(MeasureHotFolder(a, n));
      raw.push_back(MeasureRaw(b, n));
      fs::remove_all(a);
      fs::remove_all(b);
    }
    auto median = [](std::vector<PerFile> v) {
      std::sort(v.begin(), v.end(), [](const PerFile& x, const PerFile& y) { return x.total() < y.total(); });
      return v[v.size() / 2];
    };
    const PerFile o = median(ours), r = median(raw);
    std::printf("%-7d %-9s %8.4f %8.4f %8.4f %8.4f %8s\n", n, "custodia", o.scan_ms, o.claim_ms,
                o.release_ms, o.total(), "");
    std::printf("%-7d %-9s %8.4f %8.4f %8.4f %8.4f %7.2fx\n", n, "syscalls", r.scan_ms, r.claim_ms,
                r.release_ms, r.total(), o.total() / r.total());
  }
  std::printf("\npart 2: a drop of N files while the watcher loop runs (settle 0.5 s)\n");
  std::printf("%-7s %12s %7s %10s %10s\n", "N", "cpu ms/file", "scans", "write s", "lag s");
  std::vector<double> per_file;
  for (int n : {1000, 10000}) {
    std::vector<Drop> drops;
    for (int rep = 0; rep < 3; ++rep) {
      const fs::path a = root / ("d" + std::to_string(run++));
      fs::create_directories(a);
      drops.push_back(MeasureDrop(a, n));
      fs::remove_all(a);
    }
    std::sort(drops.begin(), drops.end(),
              [](const Drop& x, const Drop& y) { return x.cpu_ms_per_file < y.cpu_ms_per_file; });
    const Drop d = drops[1];
    per_file.push_back(d.cpu_ms_per_file);
    std::printf("%-7d %12.4f %7d %10.2f %10.2f\n", n, d.cpu_ms_per_file, d.scans, d.write_seconds,
                d.lag_seconds);
  }
  std::printf("\ncpu per file, 10000 against 1000: %.2fx (1.0 is linear; quadratic would be ~10x)\n",
              per_file[1] / per_file[0]);
  fs::remove_all(root);
  return 0;
}
