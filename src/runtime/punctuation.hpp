// Scheduled punctuations of one task, for one clock (stream time or wall-clock time).
// Single-threaded: owned and run by its task.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include <rill/detail/node.hpp>

namespace rill::runtime {

class punctuation_queue {
 public:
  using invoker = std::function<void(
      detail::node& owner, const std::function<void(timestamp_ms)>& fn, timestamp_ms now)>;

  // First due at `first`, then every `interval` ms.
  cancellable schedule(timestamp_ms first, std::int64_t interval,
                       std::function<void(timestamp_ms)> fn, detail::node& owner);

  // Runs every punctuation due at `now`, earliest first, through `invoke`. One that fell
  // behind by several intervals runs once and is rescheduled past `now` (Kafka Streams'
  // rule). Returns whether any ran. Callbacks may schedule or cancel punctuations.
  bool run_due(timestamp_ms now, const invoker& invoke);

  // The earliest time something is due, or INT64_MAX. Inline: checked per record.
  timestamp_ms next_due() const {
    return _entries.empty() ? std::numeric_limits<timestamp_ms>::max() : _entries.front().due;
  }
  bool empty() const { return _entries.empty(); }

 private:
  struct entry {
    timestamp_ms due;
    std::int64_t interval;
    std::uint64_t seq;  // ties run in scheduling order
    std::function<void(timestamp_ms)> fn;
    std::shared_ptr<bool> cancelled;
    detail::node* owner;
  };
  static bool later(const entry& a, const entry& b) {
    return a.due != b.due ? a.due > b.due : a.seq > b.seq;
  }
  std::vector<entry> _entries;  // a min-heap by (due, seq)
  std::uint64_t _next_seq = 0;
};

}  // namespace rill::runtime
