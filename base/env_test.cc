#include "base/env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace custodia {
namespace {

namespace fs = std::filesystem;

class EnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/custodia-env-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::span<const std::uint8_t> AsBytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
  }
  fs::path dir_;
  Env* env_ = Env::Default();
};

TEST_F(EnvTest, WriteFileAtomicReplacesContentsAndLeavesNoTemp) {
  fs::path p = dir_ / "f";
  ASSERT_TRUE(env_->WriteFileAtomic(p, AsBytes("first")));
  ASSERT_TRUE(env_->WriteFileAtomic(p, AsBytes("second")));
  auto read = env_->ReadFile(p);
  ASSERT_TRUE(read);
  EXPECT_EQ(std::string(read->begin(), read->end()), "second");
  auto names = env_->ListDir(dir_);
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, std::vector<std::string>{"f"});
}

TEST_F(EnvTest, AppendAccumulatesAcrossOpens) {
  fs::path p = dir_ / "log";
  for (const char* part : {"ab", "cd"}) {
    auto file = env_->NewAppendableFile(p);
    ASSERT_TRUE(file);
    ASSERT_TRUE((*file)->Append(AsBytes(part)));
    ASSERT_TRUE((*file)->Sync());
    ASSERT_TRUE((*file)->Close());
  }
  auto size = env_->FileSize(p);
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, 4u);
  ASSERT_TRUE(env_->Truncate(p, 3));
  EXPECT_EQ(*env_->FileSize(p), 3u);
}

TEST_F(EnvTest, ReadingAMissingFileIsNotFoundAndNamesThePath) {
  auto read = env_->ReadFile(dir_ / "missing");
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, Code::kNotFound);
  EXPECT_NE(read.error().message.find("missing"), std::string::npos);
}

TEST_F(EnvTest, SecondLockOnTheSameFileIsRefused) {
  auto first = env_->LockFile(dir_ / "LOCK");
  ASSERT_TRUE(first);
  // flock locks belong to the open file description, so a second open in
  // the same process conflicts just as another process would.
  auto second = env_->LockFile(dir_ / "LOCK");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Code::kFailedPrecondition);
  first->reset();
  EXPECT_TRUE(env_->LockFile(dir_ / "LOCK"));
}

TEST_F(EnvTest, CreateDirMakesPrivateDirectories) {
  fs::path d = dir_ / "a" / "b";
  ASSERT_TRUE(env_->CreateDir(d));
  EXPECT_EQ(fs::status(d).permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST(FormatUtcTest, FormatsEpochMicros) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(1'700'000'000'000'000), "2023-11-14T22:13:20Z");
}

}  // namespace
}  // namespace custodia
