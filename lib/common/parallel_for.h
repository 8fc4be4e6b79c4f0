// Runs independent pieces of work on several threads: hashing the files of a
// version, where each file is one piece. Work is handed out one index at a
// time, so a few large files and many small ones still spread evenly. The
// threads are joined before ParallelFor returns; nothing outlives the call.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace ferry {

// At most this many threads: hashing is bound by the disk long before eight
// cores are busy, and more threads only add seeks on a spinning disk.
inline constexpr size_t kDefaultParallelism = 8;

inline size_t DefaultThreads() {
  return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, kDefaultParallelism);
}

// Calls work(i) for every i in [0, count), on up to `threads` threads (the
// calling one among them). `work` must be safe to call concurrently for
// different indices.
inline void ParallelFor(size_t count, size_t threads, const std::function<void(size_t)>& work) {
  threads = std::clamp<size_t>(threads, 1, std::max<size_t>(count, 1));
  std::atomic<size_t> next{0};
  auto drain = [&] {
    for (size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) work(i);
  };
  std::vector<std::jthread> helpers;
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(drain);
  drain();
}

}  // namespace ferry
