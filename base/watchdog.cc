// Copyright custodia authors.

#include "base/watchdog.h"

#include <utility>

namespace custodia {

Watchdog::Watchdog(int workers, Clock::duration grace,
                   std::function<void(const Overdue&)> on_overdue)
    : grace_(grace),
      on_overdue_(std::move(on_overdue)),
      tasks_(static_cast<std::size_t>(workers > 0 ? workers : 0)),
      thread_([this] { Run(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void Watchdog::Begin(int worker, std::string what, Clock::time_point start,
                     Clock::time_point deadline) {
  {
    std::lock_guard lock(mu_);
    Task& task = tasks_.at(static_cast<std::size_t>(worker));
    task.active = true;
    task.reported = false;
    task.what = std::move(what);
    task.start = start;
    task.deadline = deadline;
  }
  changed_.notify_all();
}

void Watchdog::End(int worker) {
  std::lock_guard lock(mu_);
  tasks_.at(static_cast<std::size_t>(worker)).active = false;
}

void Watchdog::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    const Clock::time_point now = Clock::now();
    Clock::time_point wake = Clock::time_point::max();
    std::vector<Overdue> overdue;
    for (std::size_t w = 0; w < tasks_.size(); ++w) {
      Task& task = tasks_[w];
      if (!task.active || task.reported || task.deadline == Clock::time_point::max()) continue;
      // Saturating: a deadline near max() plus the grace must not wrap.
      const Clock::time_point due = task.deadline > Clock::time_point::max() - grace_
                                        ? Clock::time_point::max()
                                        : task.deadline + grace_;
      if (due <= now) {
        task.reported = true;
        overdue.push_back({static_cast<int>(w), task.what,
                           std::chrono::duration<double>(now - task.start).count()});
      } else if (due < wake) {
        wake = due;
      }
    }
    if (!overdue.empty()) {
      lock.unlock();
      for (const Overdue& o : overdue) on_overdue_(o);
      lock.lock();
      continue;
    }
    if (wake == Clock::time_point::max()) {
      changed_.wait(lock);
    } else {
      changed_.wait_until(lock, wake);
    }
  }
}

}  // namespace custodia
