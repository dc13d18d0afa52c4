// tests/tamper_test.cc: the tamper suite. Builds one real archive through
// the custodia binary (four born-digital samples, an auditor, a check-out
// and its return, a checkpoint saved outside the archive, a key rotation),
// then applies one defect at a time to a fresh copy of it and checks that
// `custodia verify` exits 1 naming the defect, while the untouched copy
// verifies with exit 0 (no false alarms).
//
// Entries signed by an unknown key, entries signed by someone without the
// role at that time, and impossible loan sequences need a forged but validly
// signed entry, which only the vault's internal signing code can make; they
// are covered by vault/vault_test.cc (EntryResignedByAnUnknownKeyIsCaught,
// EntrySignedBySomeoneWithoutTheRoleAtThatTimeIsCaught,
// LoanTest.VerifyFlagsImpossibleLoanSequences). Here, without the keys,
// every such attempt is a changed byte, which the per-offset test shows is
// caught.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/pipeline.h"
#include "tests/testutil.h"

namespace custodia {
namespace {

namespace fs = std::filesystem;
using testing::ReadText;
using testing::RunCommand;
using testing::ShellQuote;
using testing::TempDir;
using testing::WriteText;

constexpr char kAdminPassphrase[] = "tamper test passphrase";
constexpr char kAuditorPassphrase[] = "auditor passphrase";

// The ledger's framing (docs/vault_format.md, "Ledger"): a 112-byte header,
// then entries of length:u32le length_check:u32le body:length
// signature:64 hash:32.
constexpr std::size_t kLedgerHeaderSize = 112;
constexpr std::size_t kEntryOverhead = 4 + 4 + 64 + 32;

struct Ledger {
  std::string header;
  std::vector<std::string> entries;  // complete entries, entry i is seq i + 1

  static Ledger Split(const std::string& bytes) {
    Ledger ledger;
    ledger.header = bytes.substr(0, kLedgerHeaderSize);
    std::size_t at = kLedgerHeaderSize;
    while (at + 8 <= bytes.size()) {
      std::uint32_t length = 0;
      for (int i = 3; i >= 0; --i)
        length = length << 8 | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
      const std::size_t size = kEntryOverhead + length;
      if (at + size > bytes.size()) break;
      ledger.entries.push_back(bytes.substr(at, size));
      at += size;
    }
    return ledger;
  }

  // Byte offset of entry `index` (0-based) in the file.
  std::size_t Offset(std::size_t index) const {
    std::size_t at = header.size();
    for (std::size_t i = 0; i < index; ++i) at += entries[i].size();
    return at;
  }

  std::string Join() const {
    std::string out = header;
    for (const std::string& e : entries) out += e;
    return out;
  }
};

std::string Custodia(const fs::path& archive, const std::string& args,
                     const std::string& passphrase = kAdminPassphrase) {
  return testing::CustodiaCommand(CUSTODIA_BINARY, archive, args, passphrase);
}

// Every file under vault/blobs/, sorted.
std::vector<fs::path> BlobFiles(const fs::path& archive) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(archive / "vault" / "blobs"))
    if (e.is_regular_file()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

class TamperTest : public ::testing::Test {
 protected:
  // The archive is built once per process (ctest runs each case in its own
  // process; building it takes about a second).
  static void SetUpTestSuite() {
    suite_ = new TempDir;
    const fs::path archive = Archive(), scratch = suite_->path();
    auto run = [&](const std::string& command) {
      auto r = RunCommand(command, scratch);
      if (r.exit_code != 0) {
        ADD_FAILURE() << command << " exited " << r.exit_code << ": " << r.err;
        return false;
      }
      return true;
    };
    const fs::path samples = testing::SourceDir() / "samples";
    auto pdf = [&](const char* name) { return ShellQuote((samples / name).string()); };
    const std::string new_passphrase =
        "CUSTODIA_NEW_PASSPHRASE=" + ShellQuote(kAuditorPassphrase) + " ";
    // Entries: 1 admin added; 2-3 ingest; 4-5 ingest; 6 auditor added;
    // 7 check-out; 8 return; 9 checkpoint (the saved note covers 1-8);
    // 10 key rotation; 11-18 the index rebuilt under the new key (a logged
    // read of each document's text and fields).
    ok_ = run(Custodia(archive, "init")) &&
          run(Custodia(archive, "ingest " + pdf("01_factura.pdf") + " " + pdf("02_dni.pdf")));
    if (ok_) fs::copy(archive, OlderCopy(), fs::copy_options::recursive);
    ok_ = ok_ &&
          run(Custodia(archive,
                       "ingest " + pdf("03_justificante.pdf") + " " + pdf("04_nomina.pdf"))) &&
          run(new_passphrase + Custodia(archive, "user add auditor --role auditor")) &&
          run(Custodia(archive, "checkout D000001 --to registry --due 2031-01-31")) &&
          run(Custodia(archive, "return D000001 --note intact")) &&
          run(Custodia(archive,
                       "--user auditor checkpoint --out " + ShellQuote(Checkpoint().string()),
                       kAuditorPassphrase)) &&
          run(Custodia(archive, "rotate-key")) &&
          // Another archive, for an entry that belongs elsewhere.
          run(Custodia(Foreign(), "init")) &&
          run(new_passphrase + Custodia(Foreign(), "user add auditor --role auditor"));
  }

  static void TearDownTestSuite() {
    delete suite_;
    suite_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(ok_) << "building the archive failed";
    copy_ = tmp_ / "archive";
    fs::copy(Archive(), copy_, fs::copy_options::recursive);
  }

  static fs::path Archive() { return *suite_ / "archive"; }
  static fs::path OlderCopy() { return *suite_ / "older"; }
  static fs::path Foreign() { return *suite_ / "foreign"; }
  // Saved outside the archive, as auditors are told to.
  static fs::path Checkpoint() { return *suite_ / "checkpoint.txt"; }

  fs::path LedgerPath() const { return copy_ / "vault" / "ledger"; }
  Ledger ReadLedger() const { return Ledger::Split(ReadText(LedgerPath())); }
  void WriteLedger(const Ledger& ledger) const { WriteText(LedgerPath(), ledger.Join()); }

  testing::CommandResult Verify(const std::string& extra = "") const {
    return RunCommand(Custodia(copy_, "verify" + extra), tmp_.path());
  }
  testing::CommandResult VerifyAgainst(const fs::path& checkpoint) const {
    return Verify(" --checkpoint " + ShellQuote(checkpoint.string()));
  }

  // `custodia verify` (with `extra`) exits 1 and names `defect`. (A ledger
  // that does not replay is refused when the archive opens; blobs, key
  // files and checkpoints fail the verification proper.)
  void ExpectCaught(const std::string& defect, const std::string& extra = "") const {
    auto r = Verify(extra);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(r.err.starts_with("custodia verify: ")) << r.err;
    EXPECT_NE(r.err.find(defect), std::string::npos) << "wanted \"" << defect << "\" in " << r.err;
  }

  static inline TempDir* suite_ = nullptr;
  static inline bool ok_ = false;
  TempDir tmp_;
  fs::path copy_;
};

TEST_F(TamperTest, UntouchedArchiveVerifiesWithoutFalseAlarms) {
  auto plain = Verify();
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find("verified: 18 ledger entries, 12 blobs, 2 users, 0 open loans"),
            std::string::npos)
      << plain.out;
  EXPECT_EQ(plain.err, "");
  auto against = VerifyAgainst(Checkpoint());
  EXPECT_EQ(against.exit_code, 0) << against.err;
  EXPECT_NE(against.out.find("signed by auditor covers 8 entries"), std::string::npos)
      << against.out;
  auto deep = Verify(" --deep");
  EXPECT_EQ(deep.exit_code, 0) << deep.err;
  EXPECT_NE(deep.out.find("decrypted: 12 blobs"), std::string::npos) << deep.out;
}

// Every bit of the byte at each offset of entry 7 (the check-out) is
// flipped, one offset at a time. Opening and verifying run in-process
// through pipeline::Archive, which is what the binary calls: a couple of
// hundred runs of the binary would cost far more than the check.
TEST_F(TamperTest, FlippedByteAtEveryOffsetOfAnEntryIsCaught) {
  const std::string original = ReadText(LedgerPath());
  const Ledger ledger = Ledger::Split(original);
  ASSERT_EQ(ledger.entries.size(), 18u);
  {
    auto clean = pipeline::Archive::Open(copy_);
    ASSERT_TRUE(clean.has_value()) << clean.error().message;
    auto report = clean->Verify();
    ASSERT_TRUE(report.has_value()) << report.error().message;
  }
  const std::size_t index = 6;  // seq 7
  const std::size_t begin = ledger.Offset(index), size = ledger.entries[index].size();
  int caught = 0;
  for (std::size_t offset = begin; offset < begin + size; ++offset) {
    std::string bytes = original;
    bytes[offset] = static_cast<char>(bytes[offset] ^ 0xff);
    WriteText(LedgerPath(), bytes);
    std::string error;
    auto archive = pipeline::Archive::Open(copy_);
    if (!archive) {
      error = archive.error().message;
    } else {
      auto report = archive->Verify();
      if (!report) error = report.error().message;
    }
    if (error.empty()) {
      ADD_FAILURE() << "flipping the byte at offset " << offset << " (entry byte " << offset - begin
                    << ") went unnoticed";
      continue;
    }
    EXPECT_TRUE(error.find("entry") != std::string::npos ||
                error.find("ledger") != std::string::npos)
        << "offset " << offset << ": " << error;
    ++caught;
  }
  EXPECT_EQ(caught, static_cast<int>(size));
  // The binary names the same defect: one offset in the signed body.
  std::string bytes = original;
  bytes[begin + size / 2] = static_cast<char>(bytes[begin + size / 2] ^ 0xff);
  WriteText(LedgerPath(), bytes);
  ExpectCaught("entry 7");
}

TEST_F(TamperTest, DeletedEntryIsCaught) {
  Ledger ledger = ReadLedger();
  ledger.entries.erase(ledger.entries.begin() + 6);
  WriteLedger(ledger);
  ExpectCaught("entry 7 at offset " + std::to_string(ledger.Offset(6)) +
               ": sequence number 8, expected 7");
}

TEST_F(TamperTest, ReorderedEntriesAreCaught) {
  Ledger ledger = ReadLedger();
  std::swap(ledger.entries[6], ledger.entries[7]);  // the return before its check-out
  WriteLedger(ledger);
  ExpectCaught("entry 7 at offset " + std::to_string(ledger.Offset(6)) +
               ": sequence number 8, expected 7");
}

TEST_F(TamperTest, DuplicatedEntryIsCaught) {
  Ledger ledger = ReadLedger();
  ledger.entries.insert(ledger.entries.begin() + 7, ledger.entries[6]);
  WriteLedger(ledger);
  ExpectCaught("entry 8 at offset " + std::to_string(ledger.Offset(7)) +
               ": sequence number 7, expected 8");
}

TEST_F(TamperTest, EntryFromAnotherArchiveIsCaught) {
  const Ledger foreign = Ledger::Split(ReadText(Foreign() / "vault" / "ledger"));
  ASSERT_EQ(foreign.entries.size(), 2u);
  Ledger ledger = ReadLedger();
  // Its seq 2 (the other archive's auditor added), where our seq 2 was.
  ledger.entries.insert(ledger.entries.begin() + 1, foreign.entries[1]);
  WriteLedger(ledger);
  ExpectCaught("entry 2 at offset " + std::to_string(ledger.Offset(1)) +
               ": does not chain to entry 1");
  // In place of ours, with the same sequence number.
  ledger = ReadLedger();
  ledger.entries.erase(ledger.entries.begin() + 2);
  ledger.entries[1] = foreign.entries[1];
  WriteLedger(ledger);
  ExpectCaught("entry 2 at offset " + std::to_string(ledger.Offset(1)) +
               ": does not chain to entry 1");
}

// A ledger cut back at an entry boundary is itself a valid ledger: only a
// checkpoint saved earlier shows that entries are gone.
TEST_F(TamperTest, TailTruncatedAtAnEntryBoundaryIsCaughtAgainstTheSavedCheckpoint) {
  Ledger ledger = ReadLedger();
  ledger.entries.resize(7);  // return, checkpoint and rotation cut off
  WriteLedger(ledger);
  auto plain = Verify();
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  auto r = VerifyAgainst(Checkpoint());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("truncated or rolled back"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("covers 8 entries, the ledger holds 7"), std::string::npos) << r.err;
}

TEST_F(TamperTest, FlippedBitInABlobIsCaught) {
  const fs::path blob = BlobFiles(copy_).at(3);
  std::string bytes = ReadText(blob);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x10);
  WriteText(blob, bytes);
  ExpectCaught("blob " + blob.filename().string() + ": hash mismatch");
}

TEST_F(TamperTest, BlobSwappedForAnotherValidBlobIsCaught) {
  const std::vector<fs::path> blobs = BlobFiles(copy_);
  fs::remove(blobs[0]);
  fs::rename(blobs[1], blobs[0]);
  // Whichever of the two is checked first is named.
  auto r = Verify();
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const bool names_one =
      r.err.find("blob " + blobs[0].filename().string() + ": hash mismatch") != std::string::npos ||
      r.err.find("blob " + blobs[1].filename().string() + ": missing") != std::string::npos;
  EXPECT_TRUE(names_one) << r.err;
}

TEST_F(TamperTest, DeletedBlobIsCaught) {
  const fs::path blob = BlobFiles(copy_).at(5);
  fs::remove(blob);
  ExpectCaught("blob " + blob.filename().string() + ": missing");
}

// After the rotation, the current wrapped keys live in vault/keys/epoch-000002
// (docs/vault_format.md, "Key rotation and key files"): a 24-byte header,
// then each document's original, text and fields key, 72 bytes each.
TEST_F(TamperTest, SwappedWrappedKeysInTheKeyFileAreCaught) {
  const fs::path keys = copy_ / "vault" / "keys" / "epoch-000002";
  std::string bytes = ReadText(keys);
  ASSERT_EQ(bytes.size(), 24u + 4 * 3 * 72);
  // Document 1's original key and document 2's.
  std::swap_ranges(bytes.begin() + 24, bytes.begin() + 24 + 72, bytes.begin() + 24 + 3 * 72);
  WriteText(keys, bytes);
  ExpectCaught("key file epoch-000002: hash mismatch, committed by entry 10");
  ExpectCaught("key file epoch-000002: hash mismatch", " --deep");
}

class CheckpointTamperTest : public TamperTest {
 protected:
  // The saved note's lines: origin, size, root, "", signature.
  std::vector<std::string> NoteLines() const {
    std::vector<std::string> lines;
    std::string text = ReadText(Checkpoint()), line;
    for (char c : text) {
      if (c == '\n') {
        lines.push_back(line);
        line.clear();
      } else {
        line += c;
      }
    }
    return lines;
  }
  void ExpectRejected(std::vector<std::string> lines) const {
    const fs::path note = tmp_ / "checkpoint.txt";
    std::string text;
    for (const std::string& line : lines) text += line + "\n";
    WriteText(note, text);
    auto r = VerifyAgainst(note);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.err.find("checkpoint"), std::string::npos) << r.err;
  }
  static void FlipBase64(std::string& s, std::size_t at) { s[at] = s[at] == 'A' ? 'B' : 'A'; }
};

TEST_F(CheckpointTamperTest, CheckpointWithAWrongSizeIsRejected) {
  auto lines = NoteLines();
  ASSERT_EQ(lines.size(), 5u);
  ASSERT_EQ(lines[1], "8");
  for (const char* size : {"7", "9", "10"}) {
    lines[1] = size;
    ExpectRejected(lines);
  }
}

TEST_F(CheckpointTamperTest, CheckpointWithAWrongRootIsRejected) {
  auto lines = NoteLines();
  ASSERT_EQ(lines.size(), 5u);
  FlipBase64(lines[2], 5);
  ExpectRejected(lines);
}

TEST_F(CheckpointTamperTest, CheckpointWithAFlippedSignatureIsRejected) {
  auto lines = NoteLines();
  ASSERT_EQ(lines.size(), 5u);
  FlipBase64(lines[4], lines[4].size() - 10);
  ExpectRejected(lines);
}

// The whole archive folder replaced by an older copy of itself: a sound
// archive on its own, caught only against a checkpoint saved later.
TEST_F(TamperTest, RollbackToAnOlderCopyIsCaughtAgainstALaterCheckpoint) {
  fs::remove_all(copy_);
  fs::copy(OlderCopy(), copy_, fs::copy_options::recursive);
  auto plain = Verify();
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  auto r = VerifyAgainst(Checkpoint());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("truncated or rolled back"), std::string::npos) << r.err;
}

TEST_F(TamperTest, DeepVerifyDecryptsEveryBlobAndWritesNoLedgerEntry) {
  const std::string before = ReadText(LedgerPath());
  auto r = Verify(" --deep --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"decrypted\":12"), std::string::npos) << r.out;
  EXPECT_EQ(ReadText(LedgerPath()), before);
  // In-process, the same through the API.
  auto archive = pipeline::Archive::Open(copy_);
  ASSERT_TRUE(archive.has_value()) << archive.error().message;
  ASSERT_TRUE(archive->Login("admin", kAdminPassphrase).has_value());
  auto report = archive->VerifyDeep();
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->decrypted, 12u);
  EXPECT_EQ(archive->Log().size(), 18u);
}

TEST_F(TamperTest, AuditorIsRefusedDeepVerification) {
  auto r =
      RunCommand(Custodia(copy_, "--user auditor verify --deep", kAuditorPassphrase), tmp_.path());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("deep verification decrypts; it needs the archivist or admin role"),
            std::string::npos)
      << r.err;
  {
    auto archive = pipeline::Archive::Open(copy_);
    ASSERT_TRUE(archive.has_value()) << archive.error().message;
    auto nobody = archive->VerifyDeep();
    ASSERT_FALSE(nobody.has_value());
    EXPECT_EQ(nobody.error().code, Code::kPermissionDenied);
    ASSERT_TRUE(archive->Login("auditor", kAuditorPassphrase).has_value());
    auto auditor = archive->VerifyDeep();
    ASSERT_FALSE(auditor.has_value());
    EXPECT_EQ(auditor.error().code, Code::kPermissionDenied);
  }  // closed: the archive is locked while open
  // The auditor still verifies without keys.
  EXPECT_EQ(RunCommand(Custodia(copy_, "--user auditor verify", kAuditorPassphrase), tmp_.path())
                .exit_code,
            0);
}

}  // namespace
}  // namespace custodia
