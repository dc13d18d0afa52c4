// Copyright custodia authors.

#include "base/watchdog.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace custodia {
namespace {

using Clock = Watchdog::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Collects what the watchdog reports.
class Reports {
 public:
  std::function<void(const Watchdog::Overdue&)> Callback() {
    return [this](const Watchdog::Overdue& o) {
      std::lock_guard lock(mu_);
      got_.push_back(o);
      cv_.notify_all();
    };
  }
  // Waits up to 10 s for `n` reports; returns those there are.
  std::vector<Watchdog::Overdue> WaitFor(std::size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, seconds(10), [&] { return got_.size() >= n; });
    return got_;
  }
  std::vector<Watchdog::Overdue> Now() {
    std::lock_guard lock(mu_);
    return got_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Watchdog::Overdue> got_;
};

TEST(WatchdogTest, ATaskPastItsDeadlineAndGraceIsReportedOnceNamingIt) {
  Reports reports;
  Watchdog dog(3, milliseconds(50), reports.Callback());
  const auto start = Clock::now() - seconds(2);
  dog.Begin(2, "scan.pdf: reading page 3", start, Clock::now() - seconds(1));
  auto got = reports.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].worker, 2);
  EXPECT_EQ(got[0].what, "scan.pdf: reading page 3");
  EXPECT_GE(got[0].seconds, 2.0);
  // Still running: not reported again.
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(reports.Now().size(), 1u);
  dog.End(2);
}

TEST(WatchdogTest, ATaskDoneBeforeItsDeadlineIsNeverReported) {
  // Ended well before its deadline. A test thread stalled past the
  // deadline between Begin and End (a loaded machine) would make the
  // watchdog right to report it, so such a try is made again.
  bool tried = false;
  for (int attempt = 0; attempt < 5 && !tried; ++attempt) {
    Reports reports;
    Watchdog dog(1, milliseconds(0), reports.Callback());
    const auto begin = Clock::now();
    dog.Begin(0, "a.pdf: opening it", begin, begin + milliseconds(800));
    dog.End(0);
    if (Clock::now() - begin >= milliseconds(400)) continue;
    tried = true;
    std::this_thread::sleep_for(milliseconds(1500));  // well past the deadline
    EXPECT_TRUE(reports.Now().empty());
  }
  ASSERT_TRUE(tried) << "Begin and End never ran within 400 ms of each other";
  // The grace counts: past its deadline but within it, not reported.
  Reports reports;
  Watchdog dog(1, milliseconds(0), reports.Callback());
  dog.Begin(0, "b.pdf: sealing it", Clock::now(), Clock::now() - milliseconds(1));
  Watchdog patient(1, std::chrono::hours(1), reports.Callback());
  patient.Begin(0, "c.pdf: sealing it", Clock::now(), Clock::now() - milliseconds(1));
  auto got = reports.WaitFor(1);
  std::this_thread::sleep_for(milliseconds(300));
  got = reports.Now();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].what, "b.pdf: sealing it");
}

TEST(WatchdogTest, ANewTaskOfTheSameWorkerIsWatchedAfresh) {
  Reports reports;
  Watchdog dog(1, milliseconds(10), reports.Callback());
  dog.Begin(0, "a.pdf: reading page 1", Clock::now(), Clock::now() - seconds(1));
  ASSERT_EQ(reports.WaitFor(1).size(), 1u);
  dog.Begin(0, "a.pdf: reading page 2", Clock::now(), Clock::now() + milliseconds(200));
  auto got = reports.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].what, "a.pdf: reading page 2");
}

TEST(WatchdogTest, NoDeadlineIsNeverOverdueAndTheWatchdogStopsAtOnce) {
  Reports reports;
  const auto start = Clock::now();
  {
    Watchdog dog(2, seconds(1), reports.Callback());
    dog.Begin(0, "no limit", Clock::now(), Clock::time_point::max());
    dog.Begin(1, "far off", Clock::now(), Clock::now() + std::chrono::hours(24));
    std::this_thread::sleep_for(milliseconds(100));
  }  // destroyed with both tasks running
  EXPECT_TRUE(reports.Now().empty());
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 5.0);
}

}  // namespace
}  // namespace custodia
