// Copyright custodia authors.
// Watchdog: says when a task runs far past its deadline.
//
// Workers say what they take on (Begin) and when it is done (End). The
// watchdog's own thread calls `on_overdue` once for each task still running
// `grace` after its deadline. It does not stop the task (a thread stuck in a
// library call cannot be stopped from outside); the caller decides what to
// do, e.g. say which file hangs and end the process.
//
//   Watchdog dog(jobs, std::chrono::seconds(60), [](const Watchdog::Overdue& o) { ... });
//   dog.Begin(worker, "scan.pdf: reading page 3", start, deadline);
//   ...
//   dog.End(worker);

#ifndef CUSTODIA_BASE_WATCHDOG_H_
#define CUSTODIA_BASE_WATCHDOG_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace custodia {

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;
  struct Overdue {
    int worker = 0;
    std::string what;    // as given to Begin
    double seconds = 0;  // since the task's start
  };

  // Watches `workers` slots, numbered 0..workers-1. `on_overdue` runs on
  // the watchdog's thread, without the watchdog's lock held.
  Watchdog(int workers, Clock::duration grace, std::function<void(const Overdue&)> on_overdue);
  // Stops the thread; an `on_overdue` call under way finishes first.
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // `worker` now does `what`, which began at `start` and should be done by
  // `deadline` (max(): never overdue). Replaces the worker's last task.
  void Begin(int worker, std::string what, Clock::time_point start, Clock::time_point deadline);
  // `worker`'s task is done.
  void End(int worker);

 private:
  struct Task {
    bool active = false;
    bool reported = false;
    std::string what;
    Clock::time_point start;
    Clock::time_point deadline;
  };
  void Run();

  const Clock::duration grace_;
  const std::function<void(const Overdue&)> on_overdue_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Task> tasks_;  // guarded by mu_
  bool stop_ = false;        // guarded by mu_
  std::thread thread_;       // last: started once the rest is set
};

}  // namespace custodia

#endif  // CUSTODIA_BASE_WATCHDOG_H_
