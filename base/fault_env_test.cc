// base/fault_env_test.cc: the test Env that fails write points and
// simulates crashes keeps its promises, so that the loops built on it
// (vault/vault_fault_test.cc) test the vault and not the harness.
#include "base/fault_env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace custodia {
namespace {

namespace fs = std::filesystem;

std::span<const std::uint8_t> AsBytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

class FaultEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/custodia-fault-env-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The file's contents, or "<none>" if it does not exist.
  std::string Read(const fs::path& p) {
    if (!fs::exists(p)) return "<none>";
    auto bytes = Env::Default()->ReadFile(p);
    EXPECT_TRUE(bytes) << bytes.error().message;
    return bytes ? std::string(bytes->begin(), bytes->end()) : "";
  }
  // Creates `p` through env_ with `synced`, synced, then `unsynced`.
  void Write(const fs::path& p, const std::string& synced, const std::string& unsynced = "") {
    auto file = env_.NewAppendableFile(p);
    ASSERT_TRUE(file) << file.error().message;
    ASSERT_TRUE((*file)->Append(AsBytes(synced)));
    ASSERT_TRUE((*file)->Sync());
    if (!unsynced.empty()) {
      ASSERT_TRUE((*file)->Append(AsBytes(unsynced)));
    }
    ASSERT_TRUE((*file)->Close());
  }
  std::vector<std::string> Points() {
    std::vector<std::string> out;
    for (const WritePoint& p : env_.write_points()) {
      out.push_back(std::string(WriteOpName(p.op)) + " " +
                    p.path.lexically_relative(dir_).string());
    }
    return out;
  }

  fs::path dir_;
  FaultEnv env_;
};

TEST_F(FaultEnvTest, CountsEachStepOfAnAtomicWriteAsAWritePoint) {
  ASSERT_TRUE(env_.CreateDir(dir_ / "a" / "b"));
  ASSERT_TRUE(env_.WriteFileAtomic(dir_ / "a" / "b" / "f", AsBytes("x")));
  ASSERT_TRUE(env_.CreateDir(dir_ / "a"));  // exists: no write point
  EXPECT_EQ(Points(), (std::vector<std::string>{"create-dir a", "create-dir a/b",
                                                "create a/b/f.tmp", "append a/b/f.tmp",
                                                "sync a/b/f.tmp", "rename a/b/f", "sync-dir a/b"}));
  EXPECT_EQ(env_.write_count(), 7u);
  EXPECT_EQ(Read(dir_ / "a" / "b" / "f"), "x");
  EXPECT_FALSE(fs::exists(dir_ / "a" / "b" / "f.tmp"));
}

TEST_F(FaultEnvTest, EioFailsOnlyTheNthWritePointAndTearsAnAppend) {
  auto file = env_.NewAppendableFile(dir_ / "log");  // write point 1
  ASSERT_TRUE(file);
  env_.InjectFault(3, Fault::kEio);
  ASSERT_TRUE((*file)->Append(AsBytes("abcd")));
  EXPECT_FALSE(env_.fault_fired());
  Status failed = (*file)->Append(AsBytes("efgh"));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Code::kIo);
  EXPECT_EQ(failed.error().message,
            (dir_ / "log").string() + ": append: Input/output error (injected)");
  ASSERT_TRUE(env_.fault_fired());
  EXPECT_EQ(env_.fault_point().op, WriteOp::kAppend);
  EXPECT_EQ(Read(dir_ / "log"), "abcdef");  // half of the failed append
  ASSERT_TRUE((*file)->Append(AsBytes("ij")));
  ASSERT_TRUE((*file)->Sync());
  EXPECT_EQ(Read(dir_ / "log"), "abcdefij");
}

TEST_F(FaultEnvTest, EnospcHitsTheFirstWriteThatNeedsSpaceAndStaysUntilCleared) {
  Write(dir_ / "f", "ab");  // create, append, sync
  env_.InjectFault(4, Fault::kEnospc);
  ASSERT_TRUE(env_.SyncDir(dir_));  // needs no space
  Status full = env_.CreateDir(dir_ / "d");
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().message,
            (dir_ / "d").string() + ": create-dir: No space left on device (injected)");
  EXPECT_FALSE(env_.NewAppendableFile(dir_ / "g"));
  EXPECT_TRUE(env_.Rename(dir_ / "f", dir_ / "h"));  // needs no space either
  env_.ClearFault();
  EXPECT_TRUE(env_.CreateDir(dir_ / "d"));
}

TEST_F(FaultEnvTest, CrashAtTheNthWritePointStopsEveryLaterWrite) {
  Write(dir_ / "f", "ab");
  ASSERT_TRUE(env_.SyncDir(dir_));
  env_.InjectFault(env_.write_count() + 2, Fault::kCrash);
  auto file = env_.NewAppendableFile(dir_ / "f");  // exists: no write point
  ASSERT_TRUE(file);
  ASSERT_TRUE((*file)->Append(AsBytes("cd")));  // point 1 after the injection
  Status dead = (*file)->Sync();
  ASSERT_FALSE(dead);
  EXPECT_NE(dead.error().message.find("simulated crash"), std::string::npos);
  EXPECT_FALSE((*file)->Append(AsBytes("ef")));
  EXPECT_FALSE(env_.Remove(dir_ / "f"));
  EXPECT_EQ(Read(dir_ / "f"), "abcd");  // nothing after the crash point
  ASSERT_TRUE((*file)->Close());
  ASSERT_TRUE(env_.SimulateCrash());
  EXPECT_EQ(Read(dir_ / "f"), "ab");
  EXPECT_EQ(env_.write_count(), 0u);
  EXPECT_FALSE(env_.fault_fired());
}

TEST_F(FaultEnvTest, EioThenCrashDiesInTheErrorPath) {
  Write(dir_ / "f", "ab");
  ASSERT_TRUE(env_.SyncDir(dir_));
  auto file = env_.NewAppendableFile(dir_ / "f");
  ASSERT_TRUE(file);
  env_.InjectFault(env_.write_count() + 1, Fault::kEioThenCrash);
  Status failed = (*file)->Append(AsBytes("cdef"));
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("Input/output error"), std::string::npos);
  EXPECT_EQ(Read(dir_ / "f"), "abcd");  // torn
  Status dead = env_.Truncate(dir_ / "f", 2);
  ASSERT_FALSE(dead);
  EXPECT_NE(dead.error().message.find("simulated crash"), std::string::npos);
  EXPECT_EQ(Read(dir_ / "f"), "abcd");
  ASSERT_TRUE((*file)->Close());
  ASSERT_TRUE(env_.SimulateCrash(UnsyncedData::kKeepHalf));
  EXPECT_EQ(Read(dir_ / "f"), "abc");
}

TEST_F(FaultEnvTest, CrashCutsEachFileToItsSyncedLength) {
  for (auto [mode, expected] : {std::pair{UnsyncedData::kDrop, std::string("abc")},
                                std::pair{UnsyncedData::kKeepHalf, std::string("abcd")},
                                std::pair{UnsyncedData::kZeros, std::string("abc\0\0\0", 6)}}) {
    const fs::path p = dir_ / ("f" + std::to_string(static_cast<int>(mode)));
    Write(p, "abc", "def");
    ASSERT_TRUE(env_.SyncDir(dir_));
    ASSERT_TRUE(env_.SimulateCrash(mode));
    EXPECT_EQ(Read(p), expected);
  }
}

TEST_F(FaultEnvTest, CrashDropsAFileWhoseDirectoryWasNotSynced) {
  Write(dir_ / "kept", "1");
  Write(dir_ / "lost", "2");
  ASSERT_TRUE(env_.SyncDir(dir_));
  ASSERT_TRUE(env_.Remove(dir_ / "lost"));  // durable, removed, not synced: back
  Write(dir_ / "new", "3");                 // synced data, entry not synced: gone
  ASSERT_TRUE(env_.SimulateCrash());
  EXPECT_EQ(Read(dir_ / "kept"), "1");
  EXPECT_EQ(Read(dir_ / "lost"), "2");
  EXPECT_EQ(Read(dir_ / "new"), "<none>");
}

TEST_F(FaultEnvTest, CrashUndoesARenameUntilItsDirectoryIsSynced) {
  ASSERT_TRUE(env_.WriteFileAtomic(dir_ / "f", AsBytes("old")));
  Write(dir_ / "tmp", "new");
  ASSERT_TRUE(env_.Rename(dir_ / "tmp", dir_ / "f"));
  ASSERT_TRUE(env_.SimulateCrash());
  EXPECT_EQ(Read(dir_ / "f"), "old");
  EXPECT_EQ(Read(dir_ / "tmp"), "<none>");  // its own entry was never synced

  Write(dir_ / "tmp", "new");
  ASSERT_TRUE(env_.SyncDir(dir_));
  ASSERT_TRUE(env_.Rename(dir_ / "tmp", dir_ / "f"));
  ASSERT_TRUE(env_.SimulateCrash());
  EXPECT_EQ(Read(dir_ / "f"), "old");
  EXPECT_EQ(Read(dir_ / "tmp"), "new");  // back under its old name

  ASSERT_TRUE(env_.Rename(dir_ / "tmp", dir_ / "f"));
  ASSERT_TRUE(env_.SyncDir(dir_));
  ASSERT_TRUE(env_.SimulateCrash());
  EXPECT_EQ(Read(dir_ / "f"), "new");
  EXPECT_EQ(Read(dir_ / "tmp"), "<none>");
}

// A rename into a synced directory is durable even though the directory it
// left was not synced (the blob store's tmp/ -> blobs/xx/ move).
TEST_F(FaultEnvTest, RenameIntoASyncedDirectoryOutlivesTheCrash) {
  ASSERT_TRUE(env_.CreateDir(dir_ / "tmp"));
  ASSERT_TRUE(env_.CreateDir(dir_ / "out"));
  ASSERT_TRUE(env_.SyncDir(dir_));
  Write(dir_ / "tmp" / "f", "data", "lost");
  ASSERT_TRUE(env_.Rename(dir_ / "tmp" / "f", dir_ / "out" / "f"));
  ASSERT_TRUE(env_.SyncDir(dir_ / "out"));
  ASSERT_TRUE(env_.SimulateCrash());
  EXPECT_EQ(Read(dir_ / "out" / "f"), "data");
  EXPECT_EQ(Read(dir_ / "tmp" / "f"), "<none>");
}

TEST_F(FaultEnvTest, CrashDropsADirectoryWhoseEntryWasNotSyncedWithAllInIt) {
  ASSERT_TRUE(env_.CreateDir(dir_ / "keys"));
  // The file's own entry is synced (in keys/), the directory's is not.
  ASSERT_TRUE(env_.WriteFileAtomic(dir_ / "keys" / "epoch-2", AsBytes("k")));
  ASSERT_TRUE(env_.SimulateCrash());
  EXPECT_FALSE(fs::exists(dir_ / "keys"));

  ASSERT_TRUE(env_.CreateDir(dir_ / "keys"));
  ASSERT_TRUE(env_.SyncDir(dir_));
  ASSERT_TRUE(env_.WriteFileAtomic(dir_ / "keys" / "epoch-2", AsBytes("k")));
  ASSERT_TRUE(env_.SimulateCrash());
  EXPECT_EQ(Read(dir_ / "keys" / "epoch-2"), "k");
}

TEST_F(FaultEnvTest, TruncateIsDurable) {
  Write(dir_ / "f", "abcdef");
  ASSERT_TRUE(env_.SyncDir(dir_));
  ASSERT_TRUE(env_.Truncate(dir_ / "f", 2));
  ASSERT_TRUE(env_.SimulateCrash());
  EXPECT_EQ(Read(dir_ / "f"), "ab");
}

}  // namespace
}  // namespace custodia
