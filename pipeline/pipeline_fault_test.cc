// pipeline/pipeline_fault_test.cc: I/O-error and crash loops over the
// Archive, as vault/vault_fault_test.cc runs them over the vault alone.
// Every write point the vault makes while documents are ingested, corrected,
// checked out and returned (and while the key is rotated) is made to fail
// (EIO, ENOSPC) and, separately, to be where the process dies, losing what
// was not synced. The index writes through Xapian, outside the seam, so a
// crash keeps everything it committed: the archive must then still open,
// verify (the index claiming nothing the vault lost), hold everything it
// acknowledged, and take a new document. (The index is written even after
// the simulated death, since the process goes on: harsher than a real
// crash, never milder.) docs/reliability.md, "Faults", has
// the counts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/fault_env.h"
#include "pipeline/pipeline.h"
#include "tests/testutil.h"
#include "vault/identity.h"
#include "vault/vault.h"

namespace custodia::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr char kPass[] = "pipeline fault passphrase";

// A document of the workload: a born-digital factura (text layer, no OCR)
// carrying a word no other document has, to find it by.
struct Doc {
  std::string word;
  fs::path path;
  std::string hash;  // of the file's bytes
};

// One call of a workload and whether it was acknowledged: an ingest whose
// result has no error (sealed, or a duplicate of a sealed one), a
// correction, check-out or return that returned success.
struct Call {
  std::string type;  // "ingest", "review", "checkout", "return", "key-rotation"
  bool acked = false;
  const Doc* doc = nullptr;  // ingest
  std::string id;            // the document it acted on (ingest: when acknowledged)
  std::string field, value;  // review
  std::string error;         // when not acknowledged
};
using Calls = std::vector<Call>;
using Workload = std::function<void(Archive&, Calls&)>;

std::string Where(const FaultEnv& env) {
  if (!env.fault_fired()) return "no fault fired";
  const WritePoint p = env.fault_point();
  return std::string("fault at ") + WriteOpName(p.op) + " " + p.path.filename().string();
}

class PipelineFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Hundreds of archive copies are made and removed: on tmpfs when there
    // is one. Durability is FaultEnv's model, not the file system's.
    const bool shm = access("/dev/shm", W_OK | X_OK) == 0;
    std::string tmpl =
        ((shm ? fs::path("/dev/shm") : fs::temp_directory_path()) / "custodia-pfaults-XXXXXX")
            .string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    template_ = root_ / "template";
    dir_ = root_ / "archive";
    for (const char* word : {"alfazulu", "bravozulu", "charliezulu", "deltazulu", "echozulu"}) {
      docs_.push_back(MakeDoc(word));
    }
    ASSERT_TRUE(Archive::Create(template_, "admin", kPass));
    // Every run logs in twice: the admin's key file is locked with
    // Argon2id at libsodium's minimum cost instead of the interactive one,
    // or the loops would take minutes (as in vault_fault_test.cc).
    const fs::path key_file = template_ / "vault" / "users" / "admin.key";
    auto file = Env::Default()->ReadFile(key_file);
    ASSERT_TRUE(file);
    auto identity = vault::UnlockUserKeyFile(*file, kPass);
    ASSERT_TRUE(identity);
    auto cheap = vault::EncodeUserKeyFile("admin", *identity, kPass, 1, 8192);
    ASSERT_TRUE(cheap);
    ASSERT_TRUE(Env::Default()->WriteFileAtomic(key_file, *cheap));
    // One document already there, indexed: what a workload's catch-up
    // compares against, and what a key rotation re-indexes.
    auto archive = Archive::Open(template_);
    ASSERT_TRUE(archive) << archive.error().message;
    ASSERT_TRUE(archive->Login("admin", kPass));
    Calls calls;
    Ingest(*archive, Seed(), calls);
    ASSERT_TRUE(calls[0].acked) << calls[0].error;
    seed_ = calls[0];
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  Doc MakeDoc(const std::string& word) {
    Doc d;
    d.word = word;
    d.path = root_ / (word + ".pdf");
    custodia::testing::WriteTextPdf(
        d.path, {"Reformas La Mancha S.L.U.", "CIF: B18337204", "FACTURA", "Referencia " + word,
                 "Fecha de factura: 30/08/2024", "Base imponible: 662,60 EUR",
                 "IVA (10 %): 66,26 EUR", "TOTAL FACTURA: 728,86 EUR"});
    const std::string bytes = custodia::testing::ReadText(d.path);
    d.hash =
        vault::Vault::HashHex({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    return d;
  }
  // The template's document; two for a workload; one ingested after
  // ENOSPC ends; one ingested after each run is reopened.
  const Doc& Seed() const { return docs_[0]; }
  const Doc& First() const { return docs_[1]; }
  const Doc& Second() const { return docs_[2]; }
  const Doc& AfterRoom() const { return docs_[3]; }
  const Doc& Fresh() const { return docs_[4]; }

  static IngestOptions Options() {
    IngestOptions options;
    options.jobs = 1;  // the same write points in the same order every run
    // Not looked for separator sheets: a page with a short text layer would
    // be rendered to look for a code, most of a run's time.
    options.split = false;
    return options;
  }

  static void Ingest(Archive& archive, const Doc& doc, Calls& calls) {
    Call call{"ingest", false, &doc, "", "", "", ""};
    std::vector<IngestResult> results;
    auto summary = archive.Ingest({doc.path.string()}, Options(),
                                  [&](const IngestResult& r) { results.push_back(r); });
    if (!summary) {
      call.error = summary.error().message;
    } else if (results.size() != 1) {
      call.error = std::to_string(results.size()) + " results";
    } else if (results[0].failed()) {
      call.error = results[0].error;
    } else {
      call.acked = true;
      call.id = results[0].id;
    }
    calls.push_back(call);
  }

  // The last acknowledged ingest of `doc` in `calls`, or null.
  static const Call* Acked(const Calls& calls, const Doc& doc) {
    const Call* found = nullptr;
    for (const Call& c : calls) {
      if (c.type == "ingest" && c.doc == &doc && c.acked) found = &c;
    }
    return found;
  }

  // A fresh copy of the template in dir_.
  void Copy() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    fs::copy(template_, dir_, fs::copy_options::recursive, ec);
    ASSERT_FALSE(ec) << ec.message();
  }

  // Runs `work` on a fresh copy through `env` with `fault` injected at its
  // `n`th write point (none when n is 0); then, for the crashes, simulates
  // the crash. Returns the calls made.
  Calls RunOnce(const Workload& work, FaultEnv& env, std::uint64_t n, Fault fault,
                UnsyncedData unsynced = UnsyncedData::kDrop) {
    Copy();
    Calls calls;
    {
      auto archive = Archive::Open(dir_, &env);
      if (!archive) {
        ADD_FAILURE() << archive.error().message;
        return calls;
      }
      Status in = archive->Login("admin", kPass);
      EXPECT_TRUE(in) << in.error().message;
      if (n > 0) env.InjectFault(env.write_count() + n, fault);
      work(*archive, calls);
    }
    last_fired_ = env.fault_fired();
    if (fault == Fault::kCrash || fault == Fault::kEioThenCrash) {
      Status crashed = env.SimulateCrash(unsynced);
      EXPECT_TRUE(crashed) << crashed.error().message;
    }
    return calls;
  }

  // The first call refused names the failed write's file and says why.
  static void ExpectClearError(const Calls& calls, const FaultEnv& env, const char* why,
                               const std::string& what) {
    for (const Call& call : calls) {
      if (call.acked) continue;
      EXPECT_NE(call.error.find(why), std::string::npos) << what << ": " << call.error;
      EXPECT_NE(call.error.find(env.fault_point().path.string()), std::string::npos)
          << what << ": " << call.error;
      return;
    }
  }

  // Reopens dir_ with the real Env: it must open and verify (the index
  // holding no document the vault lacks), every acknowledged ingest,
  // correction and return must be there, a new document must go in, and
  // then the index must agree with the vault: each workload document found
  // by its word under the id the vault gives it, or not at all when its
  // ingest was never acknowledged and did not land.
  void CheckReopened(const Calls& calls, const std::string& what) {
    SCOPED_TRACE(what);
    auto archive = Archive::Open(dir_);
    ASSERT_TRUE(archive) << archive.error().message;
    auto report = archive->Verify();
    ASSERT_TRUE(report) << report.error().message;
    if (report->not_indexed > 0 || report->stale > 0) ++lagging_;
    ASSERT_TRUE(archive->Login("admin", kPass));
    for (const Call& c : calls) {
      if (!c.acked) continue;
      if (c.type == "ingest") {
        auto doc = archive->Show(c.id);
        ASSERT_TRUE(doc) << "acknowledged " << c.id << " (" << c.doc->word
                         << "): " << doc.error().message;
        EXPECT_EQ(doc->original_hash, c.doc->hash) << c.id;
        EXPECT_NE(doc->text.find(c.doc->word), std::string::npos) << c.id;
      } else if (c.type == "review") {
        auto doc = archive->Show(c.id, /*with_text=*/false);
        ASSERT_TRUE(doc) << doc.error().message;
        const bool kept = std::any_of(
            doc->reviews.begin(), doc->reviews.end(),
            [&](const ReviewStep& s) { return s.field == c.field && s.new_value == c.value; });
        EXPECT_TRUE(kept) << "acknowledged correction of " << c.field << " of " << c.id;
      } else if (c.type == "checkout") {
        // Out now, unless a return followed (acknowledged or not: a
        // refused one may have landed).
        const bool returned = std::any_of(calls.begin(), calls.end(), [&](const Call& r) {
          return r.type == "return" && r.id == c.id && &r > &c;
        });
        const std::vector<Loan> loans = archive->Loans();
        if (!returned) {
          EXPECT_EQ(loans.size(), 1u) << "acknowledged check-out of " << c.id;
        }
      } else if (c.type == "return") {
        const bool out_again = std::any_of(calls.begin(), calls.end(), [&](const Call& o) {
          return o.type == "checkout" && o.id == c.id && &o > &c;
        });
        if (!out_again) {
          EXPECT_TRUE(archive->Loans().empty()) << "acknowledged return of " << c.id;
        }
      } else if (c.type == "key-rotation") {
        const std::vector<Event> log = archive->Log();
        EXPECT_TRUE(std::any_of(log.begin(), log.end(), [](const Event& e) {
          return e.type == "key-rotation";
        })) << "acknowledged key rotation";
      }
    }
    // A new document goes in, and that ingest brings the index in step.
    Calls fresh;
    Ingest(*archive, Fresh(), fresh);
    ASSERT_TRUE(fresh[0].acked) << "a new document after reopening: " << fresh[0].error;
    report = archive->Verify();
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->not_indexed, 0u);
    EXPECT_EQ(report->stale, 0u);
    Calls all = calls;
    all.insert(all.end(), fresh.begin(), fresh.end());
    for (const Doc* doc : {&Seed(), &First(), &Second(), &AfterRoom(), &Fresh()}) {
      SearchOptions search;
      search.query = doc->word;
      search.snippets = false;
      auto page = archive->Search(search);
      ASSERT_TRUE(page) << page.error().message;
      const Call* acked = doc == &Seed() ? &seed_ : Acked(all, *doc);
      if (acked != nullptr) {
        ASSERT_EQ(page->hits.size(), 1u) << doc->word;
        EXPECT_EQ(page->hits[0].id, acked->id) << doc->word;
      }
      ASSERT_LE(page->hits.size(), 1u) << doc->word;
      // Whatever the index finds for the word is that document in the vault.
      for (const SearchHit& hit : page->hits) {
        auto shown = archive->Show(hit.id, /*with_text=*/false);
        ASSERT_TRUE(shown) << doc->word << " found as " << hit.id << ": " << shown.error().message;
        EXPECT_EQ(shown->original_hash, doc->hash)
            << doc->word << " found as " << hit.id << ", which the vault holds for another file";
      }
    }
  }

  struct Counts {
    std::uint64_t points = 0;  // write points of the workload, without faults
    std::uint64_t eio = 0, eio_then_crash = 0, crash = 0, enospc = 0;
    std::uint64_t lagging = 0;  // reopened with the index behind the vault
    double seconds = 0;
  };

  // The loops of vault_fault_test.cc: for every write point n of `work`,
  // EIO at n (the workload goes on), and the same with the process dying at
  // the next write point; a crash at n (up to n = points + 1: after the
  // last) under each UnsyncedData mode; then ENOSPC from each write point
  // that needs space, after which the disk has room again and one more
  // ingest in the same Archive must succeed. Each run is reopened and
  // checked.
  Counts Loop(const Workload& work) {
    loop_start_ = std::chrono::steady_clock::now();
    Counts counts;
    std::vector<WritePoint> baseline;
    {
      FaultEnv env;
      Calls calls = RunOnce(work, env, 0, Fault::kEio);
      for (const Call& c : calls)
        EXPECT_TRUE(c.acked) << c.type << " fails without a fault: " << c.error;
      counts.points = env.write_count();
      baseline = env.write_points();
      CheckReopened(calls, "no fault");
      if (HasFailure()) return counts;
    }
    // A run makes a few more or fewer write points than another: a blob's
    // fan-out directory (named by a random key's ciphertext) may exist.
    const std::uint64_t most = counts.points + 4;
    for (std::uint64_t n = 1; n <= most; ++n) {
      FaultEnv env;
      const Calls calls = RunOnce(work, env, n, Fault::kEio);
      if (!env.fault_fired()) continue;
      ++counts.eio;
      const std::string what = "EIO at write point " + std::to_string(n) + ", " + Where(env);
      ExpectClearError(calls, env, "Input/output error", what);
      CheckReopened(calls, what);
      if (HasFailure()) return counts;
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
        if (!last_fired_ && n != counts.points + 1) continue;
        ++counts.crash;
        CheckReopened(calls, "crash (mode " + std::to_string(static_cast<int>(mode)) +
                                 ") at write point " + std::to_string(n) + ", " + Where(env));
        if (HasFailure()) return counts;
      }
    }
    for (std::uint64_t n = 1; n <= baseline.size(); ++n) {
      const WriteOp op = baseline[n - 1].op;
      if (op != WriteOp::kCreate && op != WriteOp::kAppend && op != WriteOp::kCreateDir) continue;
      FaultEnv env;
      Calls calls;
      Copy();
      const std::string what = "ENOSPC from write point " + std::to_string(n);
      {
        auto archive = Archive::Open(dir_, &env);
        CU_CHECK(archive.has_value());
        CU_CHECK(archive->Login("admin", kPass).has_value());
        env.InjectFault(env.write_count() + n, Fault::kEnospc);
        work(*archive, calls);
        if (!env.fault_fired()) continue;  // this run made fewer write points
        ++counts.enospc;
        ExpectClearError(calls, env, "No space left on device", what + ", " + Where(env));
        env.ClearFault();
        Ingest(*archive, AfterRoom(), calls);
        EXPECT_TRUE(calls.back().acked)
            << what << ": refused after the disk has room again: " << calls.back().error;
      }
      CheckReopened(calls, what);
      if (HasFailure()) return counts;
    }
    return counts;
  }

  void Report(const std::string& what, Counts c) {
    c.lagging = lagging_;
    c.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - loop_start_).count();
    RecordProperty("write_points", std::to_string(c.points));
    auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
    std::printf(
        "%s: %llu write points; cases: %llu EIO, %llu EIO then crash, %llu crash, %llu "
        "ENOSPC; %llu reopened with the index behind the vault; %.1f s\n",
        what.c_str(), u(c.points), u(c.eio), u(c.eio_then_crash), u(c.crash), u(c.enospc),
        u(c.lagging), c.seconds);
  }

  fs::path root_;
  fs::path template_;
  fs::path dir_;
  std::vector<Doc> docs_;
  Call seed_;                // the template's document's ingest
  bool last_fired_ = false;  // whether RunOnce's fault fired
  std::uint64_t lagging_ = 0;
  std::chrono::steady_clock::time_point loop_start_;
};

TEST_F(PipelineFaultTest, IngestCorrectionAndLoanSurviveAFaultAtEveryWritePoint) {
  const Workload work = [&](Archive& archive, Calls& calls) {
    Ingest(archive, First(), calls);
    const std::string id = calls.back().acked ? calls.back().id : seed_.id;
    auto corrected = archive.ReviewSet(id, "total", "728.86");
    calls.push_back({"review", corrected.has_value(), nullptr, id, "total", "728.86",
                     corrected ? "" : corrected.error().message});
    Status out = archive.Checkout(id, "ana", "2030-01-01", "audit");
    calls.push_back(
        {"checkout", out.has_value(), nullptr, id, "", "", out ? "" : out.error().message});
    Status back = archive.Return(id, "back");
    calls.push_back(
        {"return", back.has_value(), nullptr, id, "", "", back ? "" : back.error().message});
    Ingest(archive, Second(), calls);
    // Again: a duplicate of the sealed one, or, when that ingest failed,
    // sealed now (or refused again).
    Ingest(archive, First(), calls);
  };
  Report("ingest, correction, check-out and return", Loop(work));
}

// A rotation empties the index and fills it again under the new epoch's key,
// reading every text (logged reads: more write points); a crash in between
// leaves an index keyed under an epoch the vault may or may not have.
TEST_F(PipelineFaultTest, KeyRotationSurvivesAFaultAtEveryWritePoint) {
  const Workload work = [&](Archive& archive, Calls& calls) {
    Ingest(archive, First(), calls);
    auto epoch = archive.RotateKey();
    calls.push_back({"key-rotation", epoch.has_value(), nullptr, "", "", "",
                     epoch ? "" : epoch.error().message});
    Ingest(archive, Second(), calls);
  };
  Report("key rotation", Loop(work));
}

}  // namespace
}  // namespace custodia::pipeline
