// pipeline/pipeline_test.cc: the Archive API over real modules, on the
// born-digital samples (no OCR, so fast) and on files made here.
#include "pipeline/pipeline.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "tests/testutil.h"

namespace custodia::pipeline {
namespace {

namespace fs = std::filesystem;
using custodia::testing::TempDir;

constexpr char kPass[] = "pipeline test passphrase";

// The samples' born-digital PDFs (their expected.json has no degradation).
std::vector<std::string> SamplePdfs() {
  std::vector<std::string> pdfs;
  for (const auto& e : fs::directory_iterator(custodia::testing::SourceDir() / "samples")) {
    if (e.path().extension() != ".pdf") continue;
    fs::path expected = e.path();
    expected.replace_extension(".expected.json");
    if (custodia::testing::ReadText(expected).find("\"degradation\": null") != std::string::npos)
      pdfs.push_back(e.path().string());
  }
  std::sort(pdfs.begin(), pdfs.end());
  return pdfs;
}

TEST(ArchiveTest, CreateRefusesAFolderThatIsNotEmpty) {
  TempDir tmp;
  custodia::testing::WriteText(tmp / "keep.txt", "mine");
  Status s = Archive::Create(tmp.path(), "admin", kPass);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kAlreadyExists);
  EXPECT_EQ(custodia::testing::ReadText(tmp / "keep.txt"), "mine");
}

TEST(ArchiveTest, OpenWithoutAnArchiveIsNotFoundAndSaysHowToCreateOne) {
  TempDir tmp;
  auto a = Archive::Open(tmp / "none");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, Code::kNotFound);
  EXPECT_NE(a.error().message.find("custodia init"), std::string::npos);
}

TEST(ArchiveTest, SecondOpenWhileOneIsOpenIsRefused) {
  TempDir tmp;
  ASSERT_TRUE(Archive::Create(tmp / "a", "admin", kPass));
  auto first = Archive::Open(tmp / "a");
  ASSERT_TRUE(first) << first.error().message;
  auto second = Archive::Open(tmp / "a");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Code::kFailedPrecondition);
}

TEST(ArchiveTest, IngestReportsInInputOrderAndStoresADuplicateOnce) {
  TempDir tmp;
  ASSERT_TRUE(Archive::Create(tmp / "a", "admin", kPass));
  auto archive = Archive::Open(tmp / "a");
  ASSERT_TRUE(archive) << archive.error().message;
  ASSERT_TRUE(archive->Login("admin", kPass));
  std::vector<std::string> pdfs = SamplePdfs();
  ASSERT_GE(pdfs.size(), 2u);
  std::vector<std::string> inputs = pdfs;
  inputs.push_back(pdfs[0]);  // the same file twice in one batch

  std::vector<IngestResult> results;
  IngestOptions options;
  options.jobs = 2;
  auto summary =
      archive->Ingest(inputs, options, [&](const IngestResult& r) { results.push_back(r); });
  ASSERT_TRUE(summary) << summary.error().message;
  ASSERT_EQ(results.size(), inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(results[i].source, inputs[i]);
    EXPECT_FALSE(results[i].failed()) << results[i].error;
    EXPECT_EQ(results[i].ocr_pages, 0) << "born-digital pages must use their text layer";
  }
  EXPECT_EQ(results.back().status, "duplicate");
  EXPECT_EQ(results.back().id, results.front().id);
  EXPECT_EQ(summary->sealed, static_cast<int>(pdfs.size()));
  EXPECT_EQ(summary->duplicates, 1);

  auto report = archive->Verify();
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->indexed, pdfs.size());
}

// The pages of one scanned document are read by every worker, and its text
// keeps the pages in order: the same text as one worker reads.
TEST(ArchiveTest, PagesOfOneDocumentAreReadOnEveryWorkerAndKeptInOrder) {
  TempDir tmp;
  const std::string scan = (custodia::testing::SourceDir() / "samples" / "05_contrato_scan.tif").string();
  std::string texts[2];
  for (int jobs : {1, 2}) {
    const fs::path dir = tmp / ("a" + std::to_string(jobs));
    ASSERT_TRUE(Archive::Create(dir, "admin", kPass));
    auto archive = Archive::Open(dir);
    ASSERT_TRUE(archive) << archive.error().message;
    ASSERT_TRUE(archive->Login("admin", kPass));
    IngestOptions options;
    options.jobs = jobs;
    options.ocr_outputs = false;
    std::vector<IngestResult> results;
    auto summary =
        archive->Ingest({scan}, options, [&](const IngestResult& r) { results.push_back(r); });
    ASSERT_TRUE(summary) << summary.error().message;
    ASSERT_EQ(results.size(), 1u);
    ASSERT_FALSE(results[0].failed()) << results[0].error;
    EXPECT_EQ(results[0].pages, 2);
    EXPECT_EQ(results[0].ocr_pages, 2);
    EXPECT_EQ(results[0].workers, jobs);
    auto doc = archive->Show(results[0].id);
    ASSERT_TRUE(doc) << doc.error().message;
    texts[jobs - 1] = doc->text;
  }
  EXPECT_EQ(texts[0], texts[1]);
  EXPECT_NE(texts[0].find('\f'), std::string::npos);
}

// Issue 8: each document has a time limit in ingest too. A document still
// unfinished after document_timeout_seconds fails before its next page,
// with the reason; the archive verifies. (A 10,000-page PDF of blank pages
// took longer than 400 s with no limit.)
TEST(ArchiveTest, Issue8ADocumentOverItsTimeLimitFailsWithTheReason) {
  TempDir tmp;
  const std::string scan = (custodia::testing::SourceDir() / "samples" / "05_contrato_scan.tif").string();
  ASSERT_TRUE(Archive::Create(tmp / "a", "admin", kPass));
  auto archive = Archive::Open(tmp / "a");
  ASSERT_TRUE(archive) << archive.error().message;
  ASSERT_TRUE(archive->Login("admin", kPass));
  IngestOptions options;
  options.jobs = 1;
  options.document_timeout_seconds = 1e-9;  // over before its first page
  std::vector<IngestResult> results;
  auto summary = archive->Ingest({scan}, options, [&](const IngestResult& r) { results.push_back(r); });
  ASSERT_TRUE(summary) << summary.error().message;
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].failed());
  EXPECT_NE(results[0].error.find("page 1: not read: the document took longer than 1e-09 s "
                                  "(0 of 2 pages read; document_timeout_seconds)"),
            std::string::npos)
      << results[0].error;
  auto verified = archive->Verify();
  EXPECT_TRUE(verified) << verified.error().message;
}

// The real Env, but a file named `name` throws std::bad_alloc from its
// next Sync once armed: an allocation failing inside the vault's write
// path, after the entry's bytes are written (what RLIMIT_AS can do there).
class ThrowingEnv : public Env {
 public:
  explicit ThrowingEnv(std::string name) : name_(std::move(name)) {}
  void Arm() { armed_ = true; }
  bool fired() const { return fired_; }

  Result<Bytes> ReadFile(const fs::path& p) override { return real_->ReadFile(p); }
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const fs::path& p) override {
    return real_->NewSequentialFile(p);
  }
  Result<std::unique_ptr<AppendableFile>> NewAppendableFile(const fs::path& p) override {
    CU_ASSIGN_OR_RETURN(std::unique_ptr<AppendableFile> file, real_->NewAppendableFile(p));
    if (p.filename() != name_) return file;
    return std::unique_ptr<AppendableFile>(new File(this, std::move(file)));
  }
  Status WriteFileAtomic(const fs::path& p, std::span<const std::uint8_t> data) override {
    return real_->WriteFileAtomic(p, data);
  }
  Result<std::vector<std::string>> ListDir(const fs::path& d) override { return real_->ListDir(d); }
  Status Rename(const fs::path& from, const fs::path& to) override {
    return real_->Rename(from, to);
  }
  Status Remove(const fs::path& p) override { return real_->Remove(p); }
  Status CreateDir(const fs::path& d) override { return real_->CreateDir(d); }
  Status SyncDir(const fs::path& d) override { return real_->SyncDir(d); }
  bool Exists(const fs::path& p) override { return real_->Exists(p); }
  Result<std::uint64_t> FileSize(const fs::path& p) override { return real_->FileSize(p); }
  Status Truncate(const fs::path& p, std::uint64_t size) override {
    return real_->Truncate(p, size);
  }
  Result<std::unique_ptr<FileLock>> LockFile(const fs::path& p) override {
    return real_->LockFile(p);
  }
  std::int64_t NowMicros() override { return real_->NowMicros(); }

 private:
  class File : public AppendableFile {
   public:
    File(ThrowingEnv* env, std::unique_ptr<AppendableFile> real)
        : env_(env), real_(std::move(real)) {}
    Status Append(std::span<const std::uint8_t> data) override { return real_->Append(data); }
    Status Sync() override {
      if (env_->armed_ && !env_->fired_) {
        env_->fired_ = true;
        throw std::bad_alloc();
      }
      return real_->Sync();
    }
    Status Close() override { return real_->Close(); }

   private:
    ThrowingEnv* env_;
    std::unique_ptr<AppendableFile> real_;
  };
  Env* real_ = Env::Default();
  std::string name_;
  bool armed_ = false;
  bool fired_ = false;
};

// An allocation failing while a document is sealed (RLIMIT_AS reached
// inside the vault) fails that document with the reason, not the process,
// and nothing more is sealed in that run: the vault's view of its ledger
// may be out of step with the file. Reopened, the archive verifies; the
// same files ingested again are archived (the first one, whose entry was
// written before the failure, as a duplicate). Before: std::terminate.
TEST(ArchiveTest, Issue8OutOfMemoryWhileSealingFailsTheDocumentNotTheArchive) {
  TempDir tmp;
  std::vector<std::string> pdfs = SamplePdfs();
  ASSERT_GE(pdfs.size(), 3u);
  ASSERT_TRUE(Archive::Create(tmp / "a", "admin", kPass));
  {
    ThrowingEnv env("ledger");
    auto archive = Archive::Open(tmp / "a", &env);
    ASSERT_TRUE(archive) << archive.error().message;
    ASSERT_TRUE(archive->Login("admin", kPass));
    IngestOptions options;
    options.jobs = 1;
    std::vector<IngestResult> results;
    auto first =
        archive->Ingest({pdfs[0]}, options, [&](const IngestResult& r) { results.push_back(r); });
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_FALSE(results.at(0).failed()) << results[0].error;
    env.Arm();
    results.clear();
    auto summary = archive->Ingest({pdfs[1], pdfs[2]}, options,
                                   [&](const IngestResult& r) { results.push_back(r); });
    ASSERT_TRUE(summary) << summary.error().message;
    EXPECT_TRUE(env.fired());
    ASSERT_EQ(results.size(), 2u);
    ASSERT_TRUE(results[0].failed());
    EXPECT_NE(results[0].error.find("out of memory while it was being sealed"), std::string::npos)
        << results[0].error;
    ASSERT_TRUE(results[1].failed());
    EXPECT_NE(results[1].error.find("not sealed: an earlier document ran out of memory"),
              std::string::npos)
        << results[1].error;
    EXPECT_EQ(summary->failed, 2);
  }
  auto archive = Archive::Open(tmp / "a");
  ASSERT_TRUE(archive) << archive.error().message;
  ASSERT_TRUE(archive->Login("admin", kPass));
  auto verified = archive->Verify();
  ASSERT_TRUE(verified) << verified.error().message;
  std::vector<IngestResult> results;
  IngestOptions options;
  options.jobs = 1;
  auto again = archive->Ingest({pdfs[1], pdfs[2]}, options,
                               [&](const IngestResult& r) { results.push_back(r); });
  ASSERT_TRUE(again) << again.error().message;
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status, "duplicate") << results[0].error;
  EXPECT_FALSE(results[1].failed()) << results[1].error;
  EXPECT_NE(results[1].status, "duplicate");
  verified = archive->Verify();
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->indexed, 3u);
}

// The default memory limit: half the machine's memory, never under 1 GiB
// (0, none, under a sanitizer), and the watch settings' default.
TEST(ArchiveTest, Issue8TheDefaultMemoryLimitIsHalfTheMemory) {
  const std::int64_t mb = DefaultMemoryLimitMb();
  EXPECT_EQ(WatchConfig{}.memory_limit_mb, mb);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  const std::int64_t half = static_cast<std::int64_t>(::sysconf(_SC_PHYS_PAGES)) / 2 *
                            ::sysconf(_SC_PAGESIZE) >> 20;
  EXPECT_EQ(mb, std::max<std::int64_t>(half, 1024));
#endif
}

// A scan whose fields send it to review is read a second time, and its
// fields say what that reading did (classify::Confirm); with
// second_reading off, none does. samples/02_dni_scan.jpg goes to review on
// this OCR (its expiry date is not found).
TEST(ArchiveTest, AScanGoingToReviewIsReadASecondTime) {
  TempDir tmp;
  const std::string scan =
      (custodia::testing::SourceDir() / "samples" / "02_dni_scan.jpg").string();
  for (bool second : {true, false}) {
    const fs::path dir = tmp / (second ? "on" : "off");
    ASSERT_TRUE(Archive::Create(dir, "admin", kPass));
    auto archive = Archive::Open(dir);
    ASSERT_TRUE(archive) << archive.error().message;
    ASSERT_TRUE(archive->Login("admin", kPass));
    IngestOptions options;
    options.jobs = 1;
    options.ocr_outputs = false;
    options.second_reading = second;
    std::vector<IngestResult> results;
    auto summary =
        archive->Ingest({scan}, options, [&](const IngestResult& r) { results.push_back(r); });
    ASSERT_TRUE(summary) << summary.error().message;
    ASSERT_EQ(results.size(), 1u);
    ASSERT_FALSE(results[0].failed()) << results[0].error;
    auto doc = archive->Show(results[0].id, /*with_text=*/false);
    ASSERT_TRUE(doc) << doc.error().message;
    ASSERT_EQ(doc->type, "dni");
    ASSERT_EQ(doc->status, "review") << "the sample no longer goes to review: pick another";
    const bool read_again =
        doc->classification_json.find("second reading") != std::string::npos;
    EXPECT_EQ(read_again, second) << doc->classification_json;
  }
}

TEST(ArchiveTest, FoldersAreSearchedAndOtherFilesCountedAsSkipped) {
  TempDir tmp;
  ASSERT_TRUE(Archive::Create(tmp / "a", "admin", kPass));
  std::vector<std::string> pdfs = SamplePdfs();
  ASSERT_FALSE(pdfs.empty()) << "samples/ holds no PDF";
  fs::create_directories(tmp / "in" / "sub");
  fs::copy_file(pdfs[0], tmp / "in" / "sub" / "doc.PDF");
  custodia::testing::WriteText(tmp / "in" / "notes.txt", "x");
  custodia::testing::WriteText(tmp / "in" / ".hidden.pdf", "x");
  auto archive = Archive::Open(tmp / "a");
  ASSERT_TRUE(archive);
  ASSERT_TRUE(archive->Login("admin", kPass));
  std::vector<IngestResult> results;
  auto summary = archive->Ingest({(tmp / "in").string()}, {},
                                 [&](const IngestResult& r) { results.push_back(r); });
  ASSERT_TRUE(summary);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].source, (tmp / "in" / "sub" / "doc.PDF").string());
  EXPECT_EQ(summary->skipped, 1);
}

// A crash between sealing and indexing leaves a document only in the vault;
// verify says so, and the next ingest puts it back into the index.
TEST(ArchiveTest, IngestReindexesWhatAnInterruptedRunSealedButDidNotIndex) {
  TempDir tmp;
  ASSERT_TRUE(Archive::Create(tmp / "a", "admin", kPass));
  std::vector<std::string> pdfs = SamplePdfs();
  ASSERT_GE(pdfs.size(), 2u);
  {
    auto archive = Archive::Open(tmp / "a");
    ASSERT_TRUE(archive);
    ASSERT_TRUE(archive->Login("admin", kPass));
    ASSERT_TRUE(archive->Ingest({pdfs[0]}, {}, nullptr));
  }
  // The index as it was before the second document: as if the run that
  // sealed it had stopped before indexing it.
  fs::copy(tmp / "a" / "index", tmp / "index-before", fs::copy_options::recursive);
  {
    auto archive = Archive::Open(tmp / "a");
    ASSERT_TRUE(archive);
    ASSERT_TRUE(archive->Login("admin", kPass));
    ASSERT_TRUE(archive->Ingest({pdfs[1]}, {}, nullptr));
  }
  fs::remove_all(tmp / "a" / "index");
  fs::copy(tmp / "index-before", tmp / "a" / "index", fs::copy_options::recursive);

  auto archive = Archive::Open(tmp / "a");
  ASSERT_TRUE(archive) << archive.error().message;
  ASSERT_TRUE(archive->Login("admin", kPass));
  auto before = archive->Verify();
  ASSERT_TRUE(before) << "a lagging index is not a custody defect: " << before.error().message;
  EXPECT_EQ(before->not_indexed, 1u);
  EXPECT_EQ(before->indexed, 1u);

  auto summary = archive->Ingest({}, {}, nullptr);
  ASSERT_TRUE(summary) << summary.error().message;
  EXPECT_EQ(summary->reindexed, 1);
  auto after = archive->Verify();
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->indexed, 2u);
  EXPECT_EQ(after->not_indexed, 0u);
}

// An index folder lost or replaced by an empty one: nobody logged in sees it
// lagging; an archivist's login fills it again from the vault, and says so.
TEST(ArchiveTest, AnEmptyIndexIsRefilledAtAnArchivistsLogin) {
  TempDir tmp;
  ASSERT_TRUE(Archive::Create(tmp / "a", "admin", kPass));
  ASSERT_TRUE(Archive::Create(tmp / "empty", "admin", kPass));
  std::vector<std::string> pdfs = SamplePdfs();
  ASSERT_FALSE(pdfs.empty());
  {
    auto archive = Archive::Open(tmp / "a");
    ASSERT_TRUE(archive);
    ASSERT_TRUE(archive->Login("admin", kPass));
    ASSERT_TRUE(archive->Ingest({pdfs[0]}, {}, nullptr));
  }
  fs::remove_all(tmp / "a" / "index");
  fs::copy(tmp / "empty" / "index", tmp / "a" / "index", fs::copy_options::recursive);

  auto archive = Archive::Open(tmp / "a");
  ASSERT_TRUE(archive) << archive.error().message;
  auto before = archive->Verify();
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_EQ(before->not_indexed, 1u);
  EXPECT_EQ(before->indexed, 0u);
  ASSERT_TRUE(archive->Login("admin", kPass));
  ASSERT_FALSE(archive->notices().empty());
  EXPECT_NE(archive->notices().back().find("1 documents indexed again"), std::string::npos)
      << archive->notices().back();
  auto after = archive->Verify();
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->indexed, 1u);
  EXPECT_EQ(after->not_indexed, 0u);
}

// An index that holds documents the vault does not know is out of step in
// the way that matters (a rolled-back vault, a foreign index): an error.
TEST(ArchiveTest, VerifyFailsWhenTheIndexHoldsDocumentsTheVaultDoesNot) {
  TempDir tmp;
  ASSERT_TRUE(Archive::Create(tmp / "a", "admin", kPass));
  ASSERT_TRUE(Archive::Create(tmp / "b", "admin", kPass));
  std::vector<std::string> pdfs = SamplePdfs();
  ASSERT_FALSE(pdfs.empty());
  {
    auto b = Archive::Open(tmp / "b");
    ASSERT_TRUE(b);
    ASSERT_TRUE(b->Login("admin", kPass));
    ASSERT_TRUE(b->Ingest({pdfs[0]}, {}, nullptr));
  }
  fs::remove_all(tmp / "a" / "index");
  fs::copy(tmp / "b" / "index", tmp / "a" / "index", fs::copy_options::recursive);
  auto a = Archive::Open(tmp / "a");
  ASSERT_TRUE(a);
  auto report = a->Verify();
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message.find("not in the vault"), std::string::npos)
      << report.error().message;
}

TEST(ArchiveTest, OpenCutsATornLedgerTailAndSaysSo) {
  TempDir tmp;
  ASSERT_TRUE(Archive::Create(tmp / "a", "admin", kPass));
  std::vector<std::string> pdfs = SamplePdfs();
  ASSERT_FALSE(pdfs.empty());
  {
    auto archive = Archive::Open(tmp / "a");
    ASSERT_TRUE(archive);
    ASSERT_TRUE(archive->Login("admin", kPass));
    EXPECT_TRUE(archive->notices().empty());
    ASSERT_TRUE(archive->Ingest({pdfs[0]}, {}, nullptr));
  }
  {
    std::ofstream ledger(tmp / "a" / "vault" / "ledger", std::ios::binary | std::ios::app);
    ledger.write("\x30\x00\x00", 3);  // the first bytes of an append that never finished
  }
  auto archive = Archive::Open(tmp / "a");
  ASSERT_TRUE(archive) << archive.error().message;
  ASSERT_TRUE(archive->Login("admin", kPass));
  ASSERT_EQ(archive->notices().size(), 1u);
  EXPECT_NE(archive->notices()[0].find("cut 3 bytes of an interrupted append"), std::string::npos)
      << archive->notices()[0];
  EXPECT_TRUE(archive->Show("D000001"));
  EXPECT_TRUE(archive->Verify());
}

}  // namespace
}  // namespace custodia::pipeline
