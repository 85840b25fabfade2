// A persistent pool of worker threads with a cheap spin-then-sleep barrier:
// the only place hy2bit starts threads. Kernels take a row range; the model
// asks the pool to run one function on every thread and waits for all.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace hy2bit::runtime {

class ThreadPool {
 public:
  // n_threads counts the calling thread, which does a share of every job.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs job(thread_index, n_threads) on every thread, the caller being
  // thread 0, and returns when all have finished. Not reentrant.
  void run(const std::function<void(int, int)>& job);

 private:
  void worker_loop(int thread_index);

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};   // bumped once per job
  std::atomic<int> pending_{0};           // workers still running the job
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

// The part [begin, end) of [0, n) that worker `part` of `n_parts` takes,
// with boundaries rounded to multiples of `align` (the last part takes the rest).
std::pair<int64_t, int64_t> split_range(int64_t n, int part, int n_parts, int64_t align = 1);

// Physical cores of this machine (the default thread count).
int physical_core_count();

}  // namespace hy2bit::runtime
