// What a task records about its stores and sinks for the metrics (docs/operations.md,
// "Metrics"): a metering layer on top of a store's layers, and the figures it keeps.
// Everything here belongs to the task's thread; the thread copies it into its samples.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <rill/detail/kv_store.hpp>
#include <rill/record.hpp>

namespace rill::runtime {

// How much is recorded (metrics.recording.level).
enum class recording { off, info, debug, trace };

// A latency's running figures: count and sum (for averages between two samples) and the
// largest value since the thread last sampled (for a maximum over recent samples).
struct latency_stat {
  std::uint64_t count = 0;
  std::int64_t sum = 0;
  std::int64_t recent_max = 0;
  void add(std::int64_t v) {
    ++count;
    sum += v;
    recent_max = std::max(recent_max, v);
  }
};

struct store_stats {
  std::string store;
  bool timed = false;                   // debug: calls are timed
  latency_stat put, get, range, flush;  // ns; put counts puts and removes
  latency_stat e2e;                     // ms: wall clock minus the record's timestamp, at a put
};

struct sink_stats {
  std::string topic;
  latency_stat e2e;  // ms: wall clock minus the record's timestamp, as it is sent
};

// What the store layers read of their task's time on every write, read where the task keeps
// it (no call through a closure per write): the record being processed (topic empty inside a
// punctuation), the task's stream time and its wall clock.
struct task_time {
  const record_context* current = nullptr;
  const timestamp_ms* stream_time = nullptr;
  const timestamp_ms* now = nullptr;

  // The timestamp of what a write sends: the record's, or stream time inside a punctuation.
  timestamp_ms record_time() const {
    return current->topic.empty() ? std::max<timestamp_ms>(*stream_time, 0) : current->timestamp;
  }
  // Milliseconds from the record's timestamp to now; nullopt inside a punctuation.
  std::optional<std::int64_t> e2e() const {
    if (current->topic.empty()) return std::nullopt;
    return *now - current->timestamp;
  }
};

// A store layer that counts and, at debug, times what passes through it. Its puts record the
// end-to-end latency of the record that made them.
class metered_store final : public detail::kv_store {
 public:
  metered_store(detail::kv_store& inner, store_stats& stats, bool timed, task_time time)
      : _inner(inner), _stats(stats), _timed(timed), _time(time) {}

  const std::string& name() const override { return _inner.name(); }
  bool get(bytes_view key, bytes& out) override;
  void put(bytes_view key, bytes_view value) override;
  void remove(bytes_view key) override;
  std::unique_ptr<detail::kv_iterator> range(std::optional<bytes_view> from,
                                             std::optional<bytes_view> to) override;
  std::unique_ptr<detail::kv_iterator> prefix_scan(bytes_view prefix) override;
  std::uint64_t approximate_count() override { return _inner.approximate_count(); }
  void drop_range(bytes_view from, bytes_view to) override { _inner.drop_range(from, to); }

  // Records `f`, a write to a layer below this one made around it, as a put.
  void metered_write(const std::function<void()>& f);
  // Times `f` as a flush of this store (at debug).
  void timed_flush(const std::function<void()>& f);

 private:
  void record_write(std::int64_t started);
  std::unique_ptr<detail::kv_iterator> metered(std::unique_ptr<detail::kv_iterator> it,
                                               std::int64_t started);

  detail::kv_store& _inner;
  store_stats& _stats;
  bool _timed;
  task_time _time;
};

}  // namespace rill::runtime
