// vault/vault_fault_test.cc: I/O-error and crash loops (SQLite's way of
// testing). Every write point of sealing, of check-out and return, and of
// key rotation is made to fail (EIO, ENOSPC) and, separately, to be where
// the process dies, losing what was not synced; the vault must then open,
// verify, and hold everything it acknowledged. docs/reliability.md,
// "Faults", has the counts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "base/fault_env.h"
#include "vault/identity.h"
#include "vault/vault.h"

namespace custodia::vault {
namespace {

namespace fs = std::filesystem;

constexpr char kPass[] = "correct horse battery staple";

Bytes Pattern(std::size_t n, std::uint32_t seed) {
  Bytes out(n);
  std::uint32_t x = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    out[i] = static_cast<std::uint8_t>(x >> 16);
  }
  return out;
}

std::span<const std::uint8_t> AsBytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// One call of a workload: the ledger entry type it appends, and whether it
// returned success (was acknowledged). The original's hash, for seals.
struct Call {
  std::string type;
  bool acked = false;
  std::string hash;
  std::string error;  // when not acknowledged
};
using Calls = std::vector<Call>;
using Workload = std::function<void(Vault&, Calls&)>;

std::string Where(const FaultEnv& env) {
  if (!env.fault_fired()) return "no fault fired";
  const WritePoint p = env.fault_point();
  return std::string("fault at ") + WriteOpName(p.op) + " " + p.path.filename().string();
}

class FaultLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Thousands of files are made and removed: on tmpfs when there is one
    // (several times faster than on a disk). Durability is FaultEnv's
    // model, not the file system's, so nothing is lost by it.
    const bool shm = access("/dev/shm", W_OK | X_OK) == 0;
    std::string tmpl = std::string(shm ? "/dev/shm" : "/tmp") + "/custodia-faults-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    template_ = root_ / "template";
    dir_ = root_ / "vault";
    ASSERT_TRUE(Vault::Create(template_, "admin", kPass));
    // Every run logs in: the admin's key file is locked with Argon2id at
    // libsodium's minimum cost (crypto_pwhash_OPSLIMIT_MIN, _MEMLIMIT_MIN)
    // instead of the interactive one, or the loops would take minutes.
    const fs::path key_file = template_ / "users" / "admin.key";
    auto file = Env::Default()->ReadFile(key_file);
    ASSERT_TRUE(file);
    auto identity = UnlockUserKeyFile(*file, kPass);
    ASSERT_TRUE(identity);
    auto cheap = EncodeUserKeyFile("admin", *identity, kPass, 1, 8192);
    ASSERT_TRUE(cheap);
    ASSERT_TRUE(Env::Default()->WriteFileAtomic(key_file, *cheap));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // Seals `count` documents into the template vault.
  void SeedTemplate(int count) {
    auto vault = Vault::Open(template_);
    ASSERT_TRUE(vault) << vault.error().message;
    ASSERT_TRUE(vault->Login("admin", kPass));
    for (int i = 0; i < count; ++i) {
      auto sealed = vault->Seal(BytesRequest(i + 100));
      ASSERT_TRUE(sealed) << sealed.error().message;
    }
  }

  // A small document sealed from memory, with every extra artefact.
  SealRequest BytesRequest(std::uint32_t seed) {
    keep_.push_back(Pattern(40, seed));
    keep_.push_back(Pattern(30, seed + 1000));
    SealRequest r;
    r.original = keep_[keep_.size() - 2];
    r.text = "texto " + std::to_string(seed);
    r.source = "scan-" + std::to_string(seed) + ".pdf";
    r.pages = 1;
    r.type = "factura";
    r.status = "auto";
    r.extras = {{Artefact::kFields, AsBytes(kFields)},
                {Artefact::kHocr, AsBytes(kHocr)},
                {Artefact::kPdf, keep_.back()}};
    return r;
  }

  // A document streamed from a file, as ingest seals a whole input file.
  SealRequest FileRequest(std::uint32_t seed) {
    const fs::path input = root_ / ("input-" + std::to_string(seed) + ".pdf");
    const Bytes bytes = Pattern(50, seed);
    std::ofstream(input, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    SealRequest r;
    r.original_file = input;
    r.original_hash = Vault::HashHex(bytes);
    r.text = "file " + std::to_string(seed);
    r.source = input.filename().string();
    r.pages = 1;
    r.type = "otro";
    r.status = "review";
    r.extras = {{Artefact::kFields, AsBytes(kFields)}};
    return r;
  }

  static void Seal(Vault& vault, const SealRequest& request, Calls& calls) {
    auto sealed = vault.Seal(request);
    calls.push_back(
        {"ingest", sealed.has_value(),
         request.original_hash.empty() ? Vault::HashHex(request.original) : request.original_hash,
         sealed ? "" : sealed.error().message});
  }

  // A fresh copy of the template in dir_.
  void Fresh() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    fs::copy(template_, dir_, fs::copy_options::recursive, ec);
    ASSERT_FALSE(ec) << ec.message();
  }

  // Runs `work` on a fresh copy through `env` with `fault` injected at its
  // `n`th write point (none when n is 0); then, for kCrash, simulates the
  // crash. Returns the calls made.
  Calls RunOnce(const Workload& work, FaultEnv& env, std::uint64_t n, Fault fault,
                UnsyncedData unsynced = UnsyncedData::kDrop) {
    Fresh();
    Calls calls;
    {
      auto vault = Vault::Open(dir_, Options{.env = &env});
      if (!vault) {
        ADD_FAILURE() << vault.error().message;
        return calls;
      }
      Status in = vault->Login("admin", kPass);
      EXPECT_TRUE(in) << in.error().message;
      if (n > 0) env.InjectFault(env.write_count() + n, fault);
      work(*vault, calls);
    }
    last_fired_ = env.fault_fired();
    if (fault == Fault::kCrash || fault == Fault::kEioThenCrash) {
      Status crashed = env.SimulateCrash(unsynced);
      EXPECT_TRUE(crashed) << crashed.error().message;
    }
    return calls;
  }

  // Reopens dir_ with the real Env: it must open and verify, and its
  // ledger after the template's entries must be the calls' entries, every
  // acknowledged one present and in order (one that failed may have
  // landed, or not). Acknowledged seals must be findable by hash.
  void CheckReopened(const Calls& calls, const std::string& what) {
    SCOPED_TRACE(what);
    auto vault = Vault::Open(dir_);
    ASSERT_TRUE(vault) << vault.error().message;
    auto report = vault->Verify();
    ASSERT_TRUE(report) << report.error().message;
    const std::vector<Event> log = vault->Log();
    ASSERT_GE(log.size(), template_entries_);
    // can[i][j]: calls[i..] can account for log[template + j..] exactly.
    const std::size_t tail = log.size() - template_entries_;
    std::vector<std::vector<char>> can(calls.size() + 1, std::vector<char>(tail + 1, 0));
    can[calls.size()][tail] = 1;
    for (std::size_t i = calls.size(); i-- > 0;) {
      for (std::size_t j = 0; j <= tail; ++j) {
        const bool lands =
            j < tail && log[template_entries_ + j].type == calls[i].type && can[i + 1][j + 1];
        can[i][j] = lands || (!calls[i].acked && can[i + 1][j]);
      }
    }
    std::string got;
    for (std::size_t j = 0; j < tail; ++j) got += log[template_entries_ + j].type + " ";
    std::string made;
    for (const Call& c : calls) made += c.type + (c.acked ? " " : "(failed) ");
    EXPECT_TRUE(can[0][0]) << "the ledger holds " << got << "after the calls " << made;
    for (const Call& call : calls) {
      if (call.acked && call.type == "ingest") {
        EXPECT_TRUE(vault->FindByHash(call.hash).has_value()) << call.hash;
      }
    }
    // Every document still decrypts with the current epoch's keys, and the
    // vault takes writes again.
    ASSERT_TRUE(vault->Login("admin", kPass));
    auto deep = vault->VerifyDeep();
    ASSERT_TRUE(deep) << deep.error().message;
    const std::vector<Record> docs = vault->List();
    if (!docs.empty()) {
      Status more = vault->Checkout(docs.back().id, "reopened", "2030-01-01", "");
      EXPECT_TRUE(more || more.error().code == Code::kFailedPrecondition)
          << more.error().message;  // kFailedPrecondition: it is on loan
    }
  }

  std::size_t TemplateEntries() {
    auto vault = Vault::Open(template_);
    CU_CHECK(vault.has_value());
    return vault->Log().size();
  }

  struct Counts {
    std::uint64_t points = 0;  // write points of the workload, without faults
    std::uint64_t eio = 0, eio_then_crash = 0, crash = 0, enospc = 0;
  };

  // The loops: for every write point n of `work`, EIO at n (the workload
  // goes on), and a crash at n (then n = points + 1: after the last) under
  // each UnsyncedData mode; then ENOSPC from each write point that needs
  // space, after which the disk has room again and one more `after` call
  // must succeed. Each run is reopened and checked.
  Counts Loop(const Workload& work, const Workload& after) {
    template_entries_ = TemplateEntries();
    Counts counts;
    std::vector<WritePoint> baseline;
    {
      FaultEnv env;
      Calls calls = RunOnce(work, env, 0, Fault::kEio);
      for (const Call& c : calls) EXPECT_TRUE(c.acked) << c.type << " fails without a fault";
      counts.points = env.write_count();
      baseline = env.write_points();
      CheckReopened(calls, "no fault");
    }
    // A run makes a few more or fewer write points than another: a blob's
    // fan-out directory (named by a random key's ciphertext) may exist.
    const std::uint64_t most = counts.points + 4;
    for (std::uint64_t n = 1; n <= most; ++n) {
      FaultEnv env;
      const Calls calls = RunOnce(work, env, n, Fault::kEio);
      if (!env.fault_fired()) continue;
      ++counts.eio;
      CheckReopened(calls, "EIO at write point " + std::to_string(n) + ", " + Where(env));
      if (HasFailure()) return counts;
      // The same, and the process dies at the next write point: in the
      // error path that undoes the failed write (a truncate, a remove).
      FaultEnv dies;
      const Calls died = RunOnce(work, dies, n, Fault::kEioThenCrash);
      ++counts.eio_then_crash;
      CheckReopened(died, "EIO at write point " + std::to_string(n) + ", then a crash");
      if (HasFailure()) return counts;
    }
    for (UnsyncedData mode : {UnsyncedData::kDrop, UnsyncedData::kKeepHalf, UnsyncedData::kZeros}) {
      for (std::uint64_t n = 1; n <= most; ++n) {
        FaultEnv env;
        const Calls calls = RunOnce(work, env, n, Fault::kCrash, mode);
        if (last_fired_ || n == counts.points + 1) ++counts.crash;
        CheckReopened(calls, "crash (mode " + std::to_string(static_cast<int>(mode)) +
                                 ") at write point " + std::to_string(n));
        if (HasFailure()) return counts;
      }
    }
    for (std::uint64_t n = 1; n <= baseline.size(); ++n) {
      const WriteOp op = baseline[n - 1].op;
      if (op != WriteOp::kCreate && op != WriteOp::kAppend && op != WriteOp::kCreateDir) continue;
      FaultEnv env;
      Calls calls;
      Fresh();
      const std::string what = "ENOSPC from write point " + std::to_string(n);
      {
        auto vault = Vault::Open(dir_, Options{.env = &env});
        CU_CHECK(vault.has_value());
        CU_CHECK(vault->Login("admin", kPass).has_value());
        env.InjectFault(env.write_count() + n, Fault::kEnospc);
        work(*vault, calls);
        if (!env.fault_fired()) continue;  // this run made fewer write points
        ++counts.enospc;
        // The first call refused says why, naming the file.
        for (const Call& call : calls) {
          if (call.acked) continue;
          EXPECT_NE(call.error.find("No space left on device"), std::string::npos)
              << what << ": " << call.error;
          EXPECT_NE(call.error.find(env.fault_point().path.string()), std::string::npos)
              << what << ": " << call.error;
          break;
        }
        env.ClearFault();
        after(*vault, calls);
        EXPECT_TRUE(calls.back().acked)
            << what << ": refused after the disk has room again: " << calls.back().error;
      }
      CheckReopened(calls, what);
      if (HasFailure()) return counts;
    }
    return counts;
  }

  void Report(const std::string& what, const Counts& c) {
    RecordProperty("write_points", std::to_string(c.points));
    auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
    std::printf(
        "%s: %llu write points; cases: %llu EIO, %llu EIO then crash, %llu crash, %llu "
        "ENOSPC\n",
        what.c_str(), u(c.points), u(c.eio), u(c.eio_then_crash), u(c.crash), u(c.enospc));
  }

  static constexpr char kFields[] = R"({"total":"121.00"})";
  static constexpr char kHocr[] = "<div class='ocr_page'></div>";
  fs::path root_;
  fs::path template_;
  fs::path dir_;
  std::size_t template_entries_ = 0;
  bool last_fired_ = false;  // whether RunOnce's fault fired
  std::vector<Bytes> keep_;  // what requests point into
};

TEST_F(FaultLoopTest, SealingSurvivesAFaultAtEveryWritePoint) {
  const Workload work = [&](Vault& vault, Calls& calls) {
    Seal(vault, BytesRequest(1), calls);
    Seal(vault, FileRequest(2), calls);
    // What a watch station records after sealing a batch's documents.
    BatchRequest batch;
    batch.source = "scanner-1/lote-1.pdf";
    batch.pages = 2;
    std::uint32_t page = 1;
    for (const Record& r : vault.List()) {
      batch.documents.push_back(BatchDocument{r.id, "", page++, 1, false});
    }
    batch.pages = std::max<std::uint32_t>(page - 1, 1);
    auto recorded = vault.RecordBatch(batch);
    calls.push_back({"batch", recorded.has_value(), "", recorded ? "" : recorded.error().message});
  };
  const Workload after = [&](Vault& vault, Calls& calls) { Seal(vault, BytesRequest(3), calls); };
  Report("sealing", Loop(work, after));
}

TEST_F(FaultLoopTest, CheckoutAndReturnSurviveAFaultAtEveryWritePoint) {
  SeedTemplate(2);
  const Workload work = [&](Vault& vault, Calls& calls) {
    auto record = [&](const char* type, const Status& s) {
      calls.push_back({type, s.has_value(), "", s ? "" : s.error().message});
    };
    record("checkout", vault.Checkout("D000001", "ana", "2030-01-01", "audit"));
    record("return", vault.Return("D000001", "back"));
    // Group commit: acknowledged only once Commit returns.
    Vault::Batch batch(vault);
    Status out = vault.Checkout("D000001", "bo", "2030-02-01", "");
    Status back = out ? vault.Return("D000001", "") : out;
    Status committed = back ? batch.Commit() : back;
    record("checkout", committed);
    record("return", committed);
  };
  const Workload after = [&](Vault& vault, Calls& calls) {
    Status s = vault.Checkout("D000002", "zoe", "2030-03-01", "");
    calls.push_back({"checkout", s.has_value(), "", s ? "" : s.error().message});
  };
  Report("check-out and return", Loop(work, after));
}

TEST_F(FaultLoopTest, KeyRotationSurvivesAFaultAtEveryWritePoint) {
  SeedTemplate(2);
  const Workload work = [&](Vault& vault, Calls& calls) {
    auto rotate = [&] {
      auto epoch = vault.RotateKey();
      calls.push_back({"key-rotation", epoch.has_value(), "", epoch ? "" : epoch.error().message});
    };
    rotate();  // makes keys/
    Seal(vault, BytesRequest(7), calls);
    rotate();
  };
  const Workload after = [&](Vault& vault, Calls& calls) { Seal(vault, BytesRequest(8), calls); };
  Report("key rotation", Loop(work, after));
}

// Issue 8: the first key rotation made keys/ without syncing the vault
// directory, so a crash after RotateKey returned could lose keys/ and the
// key file the ledger's rotation entry commits to: Verify then said
// "key file epoch-000002: missing" and no document could be read.
TEST_F(FaultLoopTest, Issue8KeysDirectoryOfAnAcknowledgedRotationSurvivesACrash) {
  SeedTemplate(1);
  Fresh();
  FaultEnv env;
  {
    auto vault = Vault::Open(dir_, Options{.env = &env});
    ASSERT_TRUE(vault);
    ASSERT_TRUE(vault->Login("admin", kPass));
    auto epoch = vault->RotateKey();
    ASSERT_TRUE(epoch) << epoch.error().message;
  }
  ASSERT_TRUE(env.SimulateCrash());
  auto vault = Vault::Open(dir_);
  ASSERT_TRUE(vault);
  auto report = vault->Verify();
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_TRUE(vault->Login("admin", kPass));
  auto text = vault->ReadText("D000001", "check");
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, "texto 100");
}

// Issue 8: after an fsync failed, the vault went on writing (a failed
// ledger fsync was answered by cutting the entry and taking the next one).
// The page cache cannot be trusted after a failed fsync, so the vault now
// refuses every write until it is reopened, as PosixEnv's abort would.
class Issue8FsyncTest : public FaultLoopTest {
 protected:
  // Opens a fresh copy through `env` and logs in.
  Vault OpenFaulty(FaultEnv& env) {
    Fresh();
    auto vault = Vault::Open(dir_, Options{.env = &env});
    CU_CHECK(vault.has_value());
    CU_CHECK(vault->Login("admin", kPass).has_value());
    return std::move(vault).value();
  }
  // The number of the first write point of `op` that `work` makes, from
  // a dry run on another fresh copy.
  std::uint64_t FirstPoint(const Workload& work, WriteOp op) {
    FaultEnv env;
    RunOnce(work, env, 0, Fault::kEio);
    const std::vector<WritePoint> points = env.write_points();
    for (std::size_t i = 0; i < points.size(); ++i) {
      if (points[i].op == op) return i + 1;
    }
    ADD_FAILURE() << "no " << WriteOpName(op);
    return 1;
  }
  // Every kind of write is refused, naming the failed fsync; reopened, the
  // vault verifies and takes writes again.
  void ExpectRefusedUntilReopened(Vault& vault) {
    Status checkout = vault.Checkout("D000001", "bo", "2030-01-01", "");
    ASSERT_FALSE(checkout);
    EXPECT_EQ(checkout.error().code, Code::kFailedPrecondition);
    EXPECT_NE(checkout.error().message.find("an earlier fsync failed"), std::string::npos)
        << checkout.error().message;
    EXPECT_NE(checkout.error().message.find("reopen the vault"), std::string::npos);
    auto sealed = vault.Seal(BytesRequest(9));
    ASSERT_FALSE(sealed);
    EXPECT_EQ(sealed.error().code, Code::kFailedPrecondition);
    auto rotated = vault.RotateKey();
    ASSERT_FALSE(rotated);
    EXPECT_EQ(rotated.error().code, Code::kFailedPrecondition);
    EXPECT_FALSE(vault.List().empty());  // still readable
  }
  void ExpectWritableAfterReopen() {
    auto vault = Vault::Open(dir_);
    ASSERT_TRUE(vault);
    ASSERT_TRUE(vault->Verify());
    ASSERT_TRUE(vault->Login("admin", kPass));
    Status checkout = vault->Checkout("D000001", "bo", "2030-01-01", "");
    EXPECT_TRUE(checkout) << checkout.error().message;
  }
};

TEST_F(Issue8FsyncTest, FailedLedgerFsyncRefusesWritesUntilReopened) {
  SeedTemplate(1);
  const Workload work = [](Vault& vault, Calls&) {
    (void)vault.Checkout("D000001", "ana", "2030-01-01", "");
  };
  const std::uint64_t sync = FirstPoint(work, WriteOp::kSync);
  {
    FaultEnv env;
    Vault vault = OpenFaulty(env);
    env.InjectFault(env.write_count() + sync, Fault::kEio);
    Status failed = vault.Checkout("D000001", "ana", "2030-01-01", "");
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, Code::kIo);
    ExpectRefusedUntilReopened(vault);
  }
  ExpectWritableAfterReopen();
}

TEST_F(Issue8FsyncTest, FailedGroupCommitFsyncRefusesWritesUntilReopened) {
  SeedTemplate(1);
  {
    FaultEnv env;
    Vault vault = OpenFaulty(env);
    Vault::Batch batch(vault);
    ASSERT_TRUE(vault.Checkout("D000001", "ana", "2030-01-01", ""));
    ASSERT_TRUE(vault.Return("D000001", ""));
    env.InjectFault(env.write_count() + 1, Fault::kEio);  // Commit's one fsync
    Status failed = batch.Commit();
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, Code::kIo);
    ExpectRefusedUntilReopened(vault);
  }
  ExpectWritableAfterReopen();
}

TEST_F(Issue8FsyncTest, FailedBlobFsyncRefusesWritesUntilReopened) {
  SeedTemplate(1);
  for (WriteOp op : {WriteOp::kSync, WriteOp::kSyncDir}) {
    SCOPED_TRACE(WriteOpName(op));
    const Workload work = [&](Vault& vault, Calls&) { (void)vault.Seal(BytesRequest(5)); };
    const std::uint64_t point = FirstPoint(work, op);
    {
      FaultEnv env;
      Vault vault = OpenFaulty(env);
      env.InjectFault(env.write_count() + point, Fault::kEio);
      auto failed = vault.Seal(BytesRequest(5));
      ASSERT_FALSE(failed);
      EXPECT_EQ(failed.error().code, Code::kIo);
      ExpectRefusedUntilReopened(vault);
    }
    ExpectWritableAfterReopen();
  }
}

}  // namespace
}  // namespace custodia::vault
