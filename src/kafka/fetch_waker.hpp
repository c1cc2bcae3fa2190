// When to wake a consumer's fetchers (librdkafka 2.0's broker threads).
//
// librdkafka 2.0 stops fetching for a consumer while the consumer's queue holds
// `queued.min.messages` records or `queued.max.messages.kbytes` of values (the limits are per
// partition in the docs, but a group consumer forwards every partition into one queue, so
// they bound that queue), and looks again only when the broker thread next wakes up: after at
// most 1 s, or at once when something is sent through it. librdkafka 2.2 added
// `fetch.queue.backoff.ms` for this; 2.0 has no setting. A consumer that drains the queue in
// less than a second then sits idle while the broker holds records for it, and fetched data
// arrives in bursts about a second apart.
//
// The waker watches the queue at each poll. Once the queue has held half of either limit (the
// fetcher may have stopped at the limit), the first poll that finds it below a quarter says
// "wake": the caller sends one request through each fetching broker, whose thread then sees the
// room and fetches while a quarter of the limit is still queued. Then it waits for the queue
// to fill again. No state but counts; single-threaded (the polling thread's).
#pragma once

#include <cstddef>
#include <cstdint>

namespace rill::kafka {

class fetch_waker {
 public:
  // librdkafka's limits: queued.min.messages and queued.max.messages.kbytes (in bytes here).
  fetch_waker(std::size_t max_records, std::size_t max_bytes)
      : _max_records(max_records), _max_bytes(max_bytes) {}

  // Records polled, with their values' total size: librdkafka counts value bytes against its
  // byte limit, and the queue's byte size is not public, so it is estimated from the mean.
  void polled(std::size_t records, std::size_t value_bytes) {
    _polled_records += records;
    _polled_bytes += value_bytes;
  }

  // The queue's length before a poll. True: wake the fetchers now.
  bool should_wake(std::size_t queued) {
    const std::size_t mean = _polled_records == 0 ? 0 : _polled_bytes / _polled_records;
    const std::size_t bytes = queued * mean;
    if (queued >= _max_records / 2 || bytes >= _max_bytes / 2) {
      _filled = true;
      return false;
    }
    if (!_filled || queued >= _max_records / 4 || bytes >= _max_bytes / 4) return false;
    _filled = false;
    ++_wakes;
    return true;
  }

  std::uint64_t wakes() const { return _wakes; }

 private:
  std::size_t _max_records;
  std::size_t _max_bytes;
  std::uint64_t _polled_records = 0;
  std::uint64_t _polled_bytes = 0;
  bool _filled = false;
  std::uint64_t _wakes = 0;
};

}  // namespace rill::kafka
