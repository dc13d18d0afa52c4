// capture/hot_folder_test.cc: when a batch is complete, claiming, release,
// quarantine and refusals, on real files with real inotify. The watcher as a
// whole (slow writers, SIGKILL, bad inputs) is tests/watch_test.cc.
#include "capture/hot_folder.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace custodia::capture {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "custodia-hot-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void Write(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> Names(const std::vector<InboxEntry>& entries) {
  std::vector<std::string> names;
  for (const InboxEntry& e : entries) names.push_back(e.name);
  return names;
}

HotFolder OpenInbox(const fs::path& dir, double settle = 1) {
  HotFolderOptions options;
  options.settle_seconds = settle;
  auto inbox = HotFolder::Open(dir, options, "station-1");
  EXPECT_TRUE(inbox) << inbox.error().message;
  return std::move(inbox).value();
}

TEST(HotFolderTest, OpenCreatesItsFoldersAndRefusesWhatIsNotAFolder) {
  TempDir tmp;
  HotFolder inbox = OpenInbox(tmp.path());
  EXPECT_TRUE(fs::is_directory(tmp.path() / ".custodia" / "claimed"));
  EXPECT_TRUE(fs::is_directory(tmp.path() / "done"));
  EXPECT_TRUE(fs::is_directory(tmp.path() / "quarantine"));
  EXPECT_EQ(inbox.label(), "station-1");

  auto missing = HotFolder::Open(tmp.path() / "nope", {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
  Write(tmp.path() / "file", "x");
  auto file = HotFolder::Open(tmp.path() / "file", {});
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code, Code::kInvalidArgument);
}

TEST(HotFolderTest, AFileIsReadyOnlyAfterItSettles) {
  TempDir tmp;
  HotFolder inbox = OpenInbox(tmp.path(), /*settle=*/2);
  ASSERT_TRUE(inbox.Watch());
  Write(tmp.path() / "a.pdf", "%PDF-1.4 fresh");
  const std::int64_t t0 = Now();
  auto scan = inbox.Scan(t0);
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_TRUE(scan->ready.empty());
  EXPECT_EQ(scan->waiting, 1);
  EXPECT_GT(scan->next_check_micros, t0);
  // Still unchanged a settle time later (the clock is passed in): ready.
  scan = inbox.Scan(t0 + 2'100'000);
  ASSERT_TRUE(scan);
  EXPECT_EQ(Names(scan->ready), std::vector<std::string>{"a.pdf"});
}

TEST(HotFolderTest, AChangeRestartsTheSettleTime) {
  TempDir tmp;
  HotFolder inbox = OpenInbox(tmp.path(), /*settle=*/2);
  ASSERT_TRUE(inbox.Watch());
  Write(tmp.path() / "a.pdf", "%PDF-1.4 part one");
  const std::int64_t t0 = Now();
  ASSERT_TRUE(inbox.Scan(t0));
  // Appended just before the settle time is up: not ready then...
  { std::ofstream(tmp.path() / "a.pdf", std::ios::app) << " and two"; }
  auto scan = inbox.Scan(t0 + 1'900'000);
  ASSERT_TRUE(scan);
  EXPECT_TRUE(scan->ready.empty());
  scan = inbox.Scan(t0 + 2'100'000);
  ASSERT_TRUE(scan);
  EXPECT_TRUE(scan->ready.empty()) << "taken 0.2 s after its last change";
  // ...but a settle time after the change.
  scan = inbox.Scan(t0 + 1'900'000 + 2'100'000);
  ASSERT_TRUE(scan);
  EXPECT_EQ(Names(scan->ready), std::vector<std::string>{"a.pdf"});
}

TEST(HotFolderTest, AFileOpenForWritingIsNeverReady) {
  TempDir tmp;
  HotFolder inbox = OpenInbox(tmp.path(), /*settle=*/0);
  const fs::path path = tmp.path() / "slow.pdf";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "%PDF", 4), 4);
  auto scan = inbox.Scan(Now() + 60'000'000);
  ASSERT_TRUE(scan);
  EXPECT_TRUE(scan->ready.empty()) << "taken while a writer still had it open";
  EXPECT_EQ(scan->waiting, 1);
  ::close(fd);
  scan = inbox.Scan(Now() + 60'000'000);
  ASSERT_TRUE(scan);
  EXPECT_EQ(Names(scan->ready), std::vector<std::string>{"slow.pdf"});
}

TEST(HotFolderTest, TemporaryNamesHiddenFilesAndItsOwnFoldersAreNeverTaken) {
  TempDir tmp;
  HotFolder inbox = OpenInbox(tmp.path(), 0);
  for (const char* name : {"a.pdf.part", "b.tmp", "c.pdf~", ".hidden.pdf", "d.crdownload"}) {
    Write(tmp.path() / name, "x");
  }
  auto scan = inbox.Scan(Now() + 10'000'000);
  ASSERT_TRUE(scan);
  EXPECT_TRUE(scan->ready.empty());
  EXPECT_TRUE(scan->refused.empty());
  // Renamed into place: taken, once.
  fs::rename(tmp.path() / "a.pdf.part", tmp.path() / "a.pdf");
  scan = inbox.Scan(Now() + 10'000'000);
  ASSERT_TRUE(scan);
  ASSERT_EQ(Names(scan->ready), std::vector<std::string>{"a.pdf"});
  ASSERT_TRUE(inbox.Claim("a.pdf"));
  auto again = inbox.Claim("a.pdf");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::kNotFound);
  scan = inbox.Scan(Now() + 10'000'000);
  ASSERT_TRUE(scan);
  EXPECT_TRUE(scan->ready.empty());
}

TEST(HotFolderTest, AMarkerMakesABatchReadyAtOnceAndCanBeRequired) {
  TempDir tmp;
  HotFolderOptions options;
  options.settle_seconds = 3600;
  options.require_marker = true;
  auto opened = HotFolder::Open(tmp.path(), options);
  ASSERT_TRUE(opened);
  HotFolder& inbox = *opened;
  Write(tmp.path() / "lote.pdf", "%PDF");
  fs::create_directory(tmp.path() / "carpeta");
  Write(tmp.path() / "carpeta" / "p1.png", "png");
  auto scan = inbox.Scan(Now() + 7200'000'000LL);
  ASSERT_TRUE(scan);
  EXPECT_TRUE(scan->ready.empty()) << "taken without its marker";
  EXPECT_EQ(scan->waiting, 2);
  Write(tmp.path() / "lote.pdf.ready", "");
  Write(tmp.path() / "carpeta" / "batch.ready", "");
  scan = inbox.Scan(Now());
  ASSERT_TRUE(scan);
  EXPECT_EQ(Names(scan->ready), (std::vector<std::string>{"carpeta", "lote.pdf"}));
  EXPECT_TRUE(scan->ready[0].folder);
  ASSERT_TRUE(inbox.Claim("lote.pdf"));
  EXPECT_FALSE(fs::exists(tmp.path() / "lote.pdf.ready")) << "the marker goes with its batch";
}

TEST(HotFolderTest, ClaimReleaseAndCrashResume) {
  TempDir tmp;
  {
    HotFolder inbox = OpenInbox(tmp.path(), 0);
    Write(tmp.path() / "a.pdf", "one");
    Write(tmp.path() / "b.pdf", "two");
    auto claimed = inbox.Claim("a.pdf");
    ASSERT_TRUE(claimed) << claimed.error().message;
    EXPECT_EQ(*claimed, tmp.path() / ".custodia" / "claimed" / "a.pdf");
    ASSERT_TRUE(inbox.Claim("b.pdf"));
    ASSERT_TRUE(inbox.Release("a.pdf", /*remove=*/false));
    EXPECT_TRUE(fs::exists(tmp.path() / "done" / "a.pdf"));
  }
  // A new watcher (after a crash) finds what was claimed and not released.
  HotFolder inbox = OpenInbox(tmp.path(), 0);
  auto claimed = inbox.Claimed();
  ASSERT_TRUE(claimed);
  EXPECT_EQ(*claimed, std::vector<std::string>{"b.pdf"});
  // A second batch with a released one's name: done/ keeps both.
  Write(tmp.path() / "a.pdf", "one again");
  ASSERT_TRUE(inbox.Claim("a.pdf"));
  ASSERT_TRUE(inbox.Release("a.pdf", false));
  EXPECT_TRUE(fs::exists(tmp.path() / "done" / "a.1.pdf"));
  // One of the name still claimed: it waits, nothing is replaced.
  Write(tmp.path() / "b.pdf", "two again");
  auto busy = inbox.Claim("b.pdf");
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, Code::kAlreadyExists);
  EXPECT_TRUE(fs::exists(tmp.path() / "b.pdf"));
  std::ifstream in(tmp.path() / ".custodia" / "claimed" / "b.pdf");
  std::string held;
  std::getline(in, held);
  EXPECT_EQ(held, "two");
  ASSERT_TRUE(inbox.Release("b.pdf", /*remove=*/true));
  EXPECT_FALSE(fs::exists(tmp.path() / ".custodia" / "claimed" / "b.pdf"));
}

TEST(HotFolderTest, LinksPipesDevicesAndBadNamesAreRefusedNeverFollowed) {
  TempDir tmp;
  HotFolder inbox = OpenInbox(tmp.path(), 0);
  Write(tmp.path() / "secret.txt.outside", "not for the archive");
  fs::create_symlink(tmp.path() / "secret.txt.outside", tmp.path() / "link.pdf");
  ASSERT_EQ(::mkfifo((tmp.path() / "pipe.pdf").c_str(), 0600), 0);
  const bool root = ::geteuid() == 0;
  if (root) {
    ASSERT_EQ(::mknod((tmp.path() / "null.pdf").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0);
  }
  Write(tmp.path() / "new\nline.pdf", "x");
  Write(tmp.path() / std::string("latin1-\xF1.pdf"), "x");
  auto scan = inbox.Scan(Now() + 10'000'000);  // must not block on the FIFO
  ASSERT_TRUE(scan);
  std::map<std::string, std::string> refused;
  for (const InboxEntry& e : scan->refused) refused[e.name] = e.refused;
  EXPECT_NE(refused["link.pdf"].find("symbolic link"), std::string::npos);
  EXPECT_NE(refused["pipe.pdf"].find("FIFO"), std::string::npos);
  if (root) {
    EXPECT_NE(refused["null.pdf"].find("device"), std::string::npos);
  }
  EXPECT_NE(refused["new\nline.pdf"].find("control character"), std::string::npos);
  EXPECT_NE(refused[std::string("latin1-\xF1.pdf")].find("UTF-8"), std::string::npos);
  EXPECT_EQ(Names(scan->ready), std::vector<std::string>{"secret.txt.outside"});

  for (const InboxEntry& e : scan->refused) {
    auto moved = inbox.Quarantine(e.name, e.refused, /*claimed=*/false);
    ASSERT_TRUE(moved) << moved.error().message;
  }
  const fs::path q = tmp.path() / "quarantine";
  // The link itself was moved, never what it points to.
  EXPECT_TRUE(fs::is_symlink(q / "link.pdf"));
  EXPECT_TRUE(fs::exists(tmp.path() / "secret.txt.outside"));
  EXPECT_TRUE(fs::exists(q / "new%0Aline.pdf"));
  EXPECT_TRUE(fs::exists(q / "latin1-%F1.pdf"));
  std::ifstream reason(q / "new%0Aline.pdf.reason.txt");
  std::string first;
  std::getline(reason, first);
  EXPECT_EQ(first, "source: new%0Aline.pdf");
  scan = inbox.Scan(Now() + 10'000'000);
  ASSERT_TRUE(scan);
  EXPECT_TRUE(scan->refused.empty());
}

TEST(HotFolderTest, EscapeNameKeepsUtf8AndEscapesTheRest) {
  EXPECT_EQ(EscapeName("nómina 2024.pdf"), "nómina 2024.pdf");
  EXPECT_EQ(EscapeName("a\nb"), "a%0Ab");
  EXPECT_EQ(EscapeName("100%"), "100%25");
  EXPECT_EQ(EscapeName(std::string("\xC3\x28")), "%C3(");
  EXPECT_EQ(EscapeName(std::string("\xED\xA0\x80")), "%ED%A0%80");  // a surrogate
}

}  // namespace
}  // namespace custodia::capture
