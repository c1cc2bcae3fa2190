// What the windowed nodes share: when windows close (stream time, or the wall clock while
// input is idle), the emitted-up-to mark of emit-final aggregations, and the store value of
// sliding windows (an aggregate with the largest timestamp in its window).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <rill/detail/aggregate_nodes.hpp>
#include <rill/detail/node.hpp>
#include <rill/errors.hpp>
#include <rill/serde.hpp>
#include <rill/state_store.hpp>
#include <rill/window.hpp>

namespace rill::detail {

// The time windows close by. Stream time (the largest record timestamp the task has seen)
// moves only with input; with window.close.idle.ms set, a node that has seen no input for
// that long on the wall clock moves its close time on with the wall clock, so final results
// appear after input stops (Kafka Streams has no such thing: its suppress never fires once
// input stops). Single-threaded, in its node.
class window_clock {
 public:
  // Schedules the wall-clock check when the task asks for it; `on_advance` runs when the
  // wall clock moved the time on.
  void init(task_context& ctx, node& owner, std::function<void()> on_advance) {
    _idle_ms = ctx.window_close_idle_ms();
    if (_idle_ms < 0) return;
    const auto every = std::chrono::milliseconds(std::clamp<std::int64_t>(_idle_ms / 2, 1, 1000));
    ctx.schedule(
        every, punctuation_type::wall_clock_time,
        [this, &ctx, on_advance = std::move(on_advance)](timestamp_ms wall) {
          if (_wall_at_input < 0 || wall - _wall_at_input < _idle_ms) return;
          const timestamp_ms moved = _stream_at_input + (wall - _wall_at_input);
          if (moved <= _advanced) return;
          _advanced = moved;
          on_advance();
        },
        owner);
  }
  // A record arrived: the wall clock counts idleness from now.
  void saw_input(const task_context& ctx) {
    if (_idle_ms < 0) return;
    _wall_at_input = ctx.wall_clock_time();
    _stream_at_input = ctx.stream_time();
  }
  // Stream time, or later where the wall clock moved it on.
  timestamp_ms now(const task_context& ctx) const { return std::max(ctx.stream_time(), _advanced); }

 private:
  std::int64_t _idle_ms = -1;
  timestamp_ms _wall_at_input = -1;
  timestamp_ms _stream_at_input = -1;
  timestamp_ms _advanced = -1;
};

// The close time up to which an emit-final node has emitted every window: a store of its own
// (changelogged, committed with the rest of the task's state), so that each window is
// emitted exactly once across restarts and crashes.
class emit_mark {
 public:
  emit_mark() = default;
  void init(task_context& ctx, const node& owner, const std::string& store) {
    _store =
        dynamic_cast<key_value_store<std::string, std::int64_t>*>(&ctx.get_store(store, owner));
    if (_store == nullptr)
      throw streams_error("node '" + owner.name() + "': store '" + store + "' has another type");
    _at = _store->get(key).value_or(-1);
  }
  timestamp_ms at() const noexcept { return _at; }
  void set(timestamp_ms t) {
    _at = t;
    _store->put(key, t);
  }

 private:
  static inline const std::string key = "emitted-up-to";
  key_value_store<std::string, std::int64_t>* _store = nullptr;
  timestamp_ms _at = -1;
};

// A sliding window's stored value: the aggregate and the largest record timestamp in it
// (the sliding algorithm needs both).
template <class VA>
struct timed {
  VA value;
  timestamp_ms max_ts = 0;
};

template <class VA>
struct timed_serde {
  using value_type = timed<VA>;
  any_serde<VA> inner;
  void serialize(const timed<VA>& v, bytes& out, const serde_context& ctx) const {
    serdes::detail::put_be64(out, v.max_ts);
    inner.serialize(v.value, out, ctx);
  }
  timed<VA> deserialize(bytes_view in, const serde_context& ctx) const {
    if (in.size() < 8)
      throw serde_error("sliding window value on '" + std::string(ctx.topic) + "': too short");
    return {inner.deserialize(in.subspan(8), ctx), serdes::detail::get_be64(in)};
  }
};

// The materialized of a sliding store: values with their timestamps.
template <class K, class VA>
materialized<K, timed<VA>> timed_materialized(const materialized<K, VA>& m) {
  materialized<K, timed<VA>> out;
  out.name = m.name;
  out.type = m.type;
  out.caching = m.caching;
  out.logging = m.logging;
  out.key_serde = m.key_serde;
  if (m.value_serde) out.value_serde = timed_serde<VA>{m.value_serde};
  out.retention = m.retention;
  return out;
}

// Calls the aggregation's initializer, or marks that reduce starts from the first value.
template <class VA, class Init, class K, class V, class Agg>
VA aggregate_into(Init& init, Agg& agg, const K& key, const V& value, std::optional<VA> before) {
  if constexpr (std::is_same_v<Init, first_value>) {
    if (!before) return VA(value);
    return VA(agg(key, value, std::move(*before)));
  } else {
    VA start = before ? std::move(*before) : VA(init());
    return VA(agg(key, value, std::move(start)));
  }
}

}  // namespace rill::detail
