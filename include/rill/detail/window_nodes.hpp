// The nodes of windowed aggregations over time windows: tumbling and hopping
// (time_window_aggregate_node) and sliding (sliding_window_aggregate_node). Each keeps its
// windows in a window store and forwards record<windowed<K>, change<VA>>:
//
// - eager (the default): every update, at once, or when the store's cache flushes;
// - emit final: each window once, with its final value, when it closes, and never before.
//
// Either way a window's output carries the headers of the record that last updated it (kept
// in the cache entry, or, for emit final, in the store with the value).
//
// Stream time is the task's (the largest record timestamp seen, this record's included). A
// record whose window closed is dropped from it and reported to the task as late (counted,
// logged, sent to late.records.topic when set). Semantics follow Kafka Streams 3.x
// (KStreamWindowAggregate, KStreamSlidingWindowAggregate); docs/windows.md has them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <rill/detail/aggregate_nodes.hpp>
#include <rill/detail/window_support.hpp>
#include <rill/window_store.hpp>

namespace rill::detail {

struct time_windows {
  std::int64_t size = 0;
  std::int64_t advance = 0;
  std::int64_t grace = 0;
};

// What a windowed aggregation node shares: its store, its outputs, the clock, the emit mark.
template <class K, class VIn, class VS, class VA>
class windowed_node_base : public input_node<K, VIn> {
 public:
  windowed_node_base(std::string name, std::string store, std::string mark_store)
      : input_node<K, VIn>(std::move(name)),
        _store_name(std::move(store)),
        _mark_store(std::move(mark_store)) {}

  void add_child(node& child) override { _out.add(*this, child); }

 protected:
  bool final() const noexcept { return !_mark_store.empty(); }
  void init_base(task_context& t, std::function<void()> on_clock) {
    node::init(t);
    _store = dynamic_cast<window_store<K, VS>*>(&t.get_store(_store_name, *this));
    if (_store == nullptr)
      throw streams_error("node '" + this->name() + "': store '" + _store_name +
                          "' is not the window store it expects");
    if (final()) {
      _mark.init(t, *this, _mark_store);
      _clock.init(t, *this, std::move(on_clock));
    }
  }
  window_store<K, VS>& store() { return *_store; }
  void forward(windowed<K> key, std::optional<VA> now, std::optional<VA> before, timestamp_ms ts,
               const headers& h) {
    _out.forward(record<windowed<K>, change<VA>>{
        std::move(key), change<VA>{std::move(now), std::move(before)}, ts, h});
  }

  std::string _store_name;
  std::string _mark_store;
  window_store<K, VS>* _store = nullptr;
  window_clock _clock;
  emit_mark _mark;
  outputs<windowed<K>, change<VA>> _out;
};

// count / reduce / aggregate over tumbling or hopping windows.
template <class K, class V, class VA, class Init, class Agg>
class time_window_aggregate_node final : public windowed_node_base<K, V, VA, VA>,
                                         private cache_flush_listener {
  using base = windowed_node_base<K, V, VA, VA>;

 public:
  time_window_aggregate_node(std::string name, std::string store, std::string mark_store,
                             time_windows w, Init init, Agg agg)
      : base(std::move(name), std::move(store), std::move(mark_store)),
        _w(w),
        _init(std::move(init)),
        _agg(std::move(agg)) {}

  void init(task_context& t) override {
    this->init_base(t, [this] { emit_closed(); });
    if (!this->final() && this->store().access().cached())
      this->store().access().set_flush_listener(this);
  }

  void process(record<K, V>&& r) override {
    task_context& ctx = this->ctx();
    this->_clock.saw_input(ctx);
    const timestamp_ms ts = r.timestamp;
    // Windows this record's stream time closes go out first, before this record's windows
    // move the store's retention on past them.
    if (this->final()) emit_closed();
    const timestamp_ms close = close_time();
    const bool eager = !this->final() && !this->store().access().cached();
    if (ts >= 0) {
      const timestamp_ms first =
          std::max<timestamp_ms>(0, ts - _w.size + _w.advance) / _w.advance * _w.advance;
      for (timestamp_ms start = first; start <= ts; start += _w.advance) {
        const timestamp_ms end = start + _w.size;
        if (end <= close) {
          ctx.on_late_record(*this, start, end, close - end);
          continue;
        }
        std::optional<VA> before = this->store().fetch(r.key, start);
        std::optional<VA> copy = eager ? before : std::nullopt;
        VA now = this->call_user([&] {
          return aggregate_into<VA>(_init, _agg, std::as_const(r.key), std::as_const(r.value),
                                    std::move(before));
        });
        this->store().put(r.key, now, start, r.headers);
        if (eager)
          this->forward({r.key, {start, end}}, std::move(now), std::move(copy), ts, r.headers);
      }
    }
  }

 private:
  // Windows end at or before this are closed (end + grace <= stream time).
  timestamp_ms close_time() const {
    return std::max(this->_clock.now(this->ctx()) - _w.grace,
                    this->final() ? this->_mark.at() : -1);
  }

  // Emit final: every window that closed since the last emission, by start, once, with the
  // headers of its last update.
  void emit_closed() {
    const timestamp_ms close = close_time();
    const timestamp_ms upper = close - _w.size;  // starts of windows with end <= close
    const timestamp_ms done = this->_mark.at();
    const timestamp_ms lower = done < 0 ? 0 : std::max<timestamp_ms>(0, done - _w.size) + 1;
    if (upper < 0 || lower > upper) return;
    const timestamp_ms first = (lower + _w.advance - 1) / _w.advance * _w.advance;
    if (first > upper) return;  // no window ends in (done, close]
    // Collected first: forwarding may write other stores, whose cache evictions must not
    // run under an open scan of this one.
    std::vector<std::pair<key_value<windowed<K>, VA>, headers>> closed;
    for (auto& e : this->store().fetch_all_with_headers(first, upper)) closed.push_back(e);
    for (auto& [e, h] : closed) {
      const timestamp_ms ts = e.key.window.end - 1;
      this->forward(std::move(e.key), std::move(e.value), std::nullopt, ts, h);
    }
    this->_mark.set(close);
  }

  void on_flush(bytes_view key, const std::optional<bytes_view>& now,
                const std::optional<bytes_view>& before, std::int64_t ts,
                const headers& h) override {
    auto& s = this->store();
    std::optional<VA> n;
    std::optional<VA> b;
    if (now) n = s.decode_value(*now);
    if (before) b = s.decode_value(*before);
    this->forward(s.decode_windowed(key), std::move(n), std::move(b), ts, h);
  }

  time_windows _w;
  Init _init;
  Agg _agg;
};

struct sliding_windows {
  std::int64_t difference = 0;
  std::int64_t grace = 0;
};

// count / reduce / aggregate over sliding windows (KIP-450): a window [t - d, t] ends at each
// record (the first records share [0, d]), and a window [t + 1, t + 1 + d] starts after a
// record wherever later records fall into it; every window is the aggregate of the records
// in it, none is empty, none is there twice. The store keeps each window's aggregate with the
// largest timestamp in it.
template <class K, class V, class VA, class Init, class Agg>
class sliding_window_aggregate_node final : public windowed_node_base<K, V, timed<VA>, VA>,
                                            private cache_flush_listener {
  using base = windowed_node_base<K, V, timed<VA>, VA>;
  using entry = key_value<rill::window, timed<VA>>;

 public:
  sliding_window_aggregate_node(std::string name, std::string store, std::string mark_store,
                                sliding_windows w, Init init, Agg agg)
      : base(std::move(name), std::move(store), std::move(mark_store)),
        _w(w),
        _init(std::move(init)),
        _agg(std::move(agg)) {}

  void init(task_context& t) override {
    this->init_base(t, [this] { emit_closed(); });
    if (!this->final() && this->store().access().cached())
      this->store().access().set_flush_listener(this);
    if (this->final()) {
      // Which windows are still to be emitted: every one not closed at the mark.
      for (auto& e : this->store().all()) {
        if (e.key.window.end >= this->_mark.at())
          _pending.insert(
              {e.key.window.end, this->store().store_key(e.key.key, e.key.window.start)});
      }
    }
  }

  void process(record<K, V>&& r) override {
    task_context& ctx = this->ctx();
    this->_clock.saw_input(ctx);
    const timestamp_ms t = r.timestamp;
    if (this->final()) emit_closed();  // first, as for time windows
    const timestamp_ms close = close_time();
    _current = &r;
    if (t < 0 || t + _w.difference < close) {
      if (t >= 0)
        ctx.on_late_record(*this, std::max<timestamp_ms>(0, t - _w.difference), t + _w.difference,
                           close - t - _w.difference);
    } else if (t < _w.difference) {
      process_early(r, close);
    } else {
      process_in_range(r, close);
    }
    _current = nullptr;
  }

 private:
  timestamp_ms close_time() const {
    return std::max(this->_clock.now(this->ctx()) - _w.grace,
                    this->final() ? this->_mark.at() : -1);
  }

  // The store's windows of this key starting in [from, to], newest first.
  std::vector<entry> windows(const K& key, timestamp_ms from, timestamp_ms to) {
    return this->store().backward_fetch(key, std::max<timestamp_ms>(0, from), to);
  }

  // Adds the current record to a window (if it is still open) and forwards the update.
  void update(const K& key, const rill::window& w, std::optional<timed<VA>> before,
              timestamp_ms close) {
    if (w.end < close) {
      this->ctx().on_late_record(*this, w.start, w.end, close - w.end);
      return;
    }
    const timestamp_ms ts =
        std::max(before ? before->max_ts : _current->timestamp, _current->timestamp);
    std::optional<VA> old;
    if (before) old = before->value;
    VA now = this->call_user([&] {
      return aggregate_into<VA>(
          _init, _agg, key, std::as_const(_current->value),
          before ? std::optional<VA>(std::move(before->value)) : std::nullopt);
    });
    put(key, w, timed<VA>{now, ts}, std::move(old));
  }

  // Stores a window and forwards it (eager, uncached), with the current record's headers.
  void put(const K& key, const rill::window& w, timed<VA> v, std::optional<VA> old) {
    this->store().put(key, v, w.start, _current->headers);
    if (this->final()) {
      _pending.insert({w.end, this->store().store_key(key, w.start)});
      return;
    }
    if (this->store().access().cached()) return;
    this->forward({key, w}, std::move(v.value), std::move(old), v.max_ts, _current->headers);
  }

  rill::window window_at(timestamp_ms start) const { return {start, start + _w.difference}; }

  void process_in_range(const record<K, V>& r, timestamp_ms close) {
    const K& key = r.key;
    const timestamp_ms t = r.timestamp;
    const timestamp_ms d = _w.difference;
    std::optional<timed<VA>> left_agg;   // the newest window ending before t
    std::optional<timed<VA>> right_agg;  // a window holding t, before this record
    timestamp_ms prev = -1;              // the latest record before t
    bool left_exists = false;
    bool right_exists = false;
    std::set<timestamp_ms> starts;
    for (auto& e : windows(key, t - 2 * d, t + 1)) {
      const timestamp_ms s = e.key.start;
      const timestamp_ms end = s + d;
      starts.insert(s);
      if (s == t + 1) {
        right_exists = true;
      } else if (end > t) {
        if (!right_agg) right_agg = e.value;
        update(key, window_at(s), std::move(e.value), close);
      } else if (end == t) {
        left_exists = true;
        const timestamp_ms max_ts = e.value.max_ts;
        update(key, window_at(s), std::move(e.value), close);
        if (max_ts >= t) return;  // a record at t was here before: every window exists
        prev = max_ts;
      } else {
        left_agg = std::move(e.value);
        prev = left_agg->max_ts;
        break;
      }
    }
    // The previous record's right window holds only this record so far.
    if (prev >= 0 && !starts.contains(prev + 1) && prev + 1 + d >= t)
      update(key, window_at(prev + 1), std::nullopt, close);
    // This record's left window: the records of the previous left window, and this one.
    if (!left_exists) {
      std::optional<timed<VA>> from;
      if (prev >= 0 && t - d <= prev && left_agg) from = std::move(left_agg);
      update(key, window_at(t - d), std::move(from), close);
    }
    // This record's right window: the later records (those of a window that held t before).
    if (!right_exists && right_agg && right_agg->max_ts > t)
      put(key, window_at(t + 1), std::move(*right_agg), std::nullopt);
  }

  // Records earlier than the time difference share the window [0, d].
  void process_early(const record<K, V>& r, timestamp_ms close) {
    const K& key = r.key;
    const timestamp_ms t = r.timestamp;
    std::optional<timed<VA>> combined;
    std::optional<timed<VA>> right_agg;
    timestamp_ms prev = -1;
    bool right_exists = false;
    std::set<timestamp_ms> starts;
    for (auto& e : windows(key, 0, t + 1)) {
      const timestamp_ms s = e.key.start;
      starts.insert(s);
      if (s == 0) {
        if (e.value.max_ts < t) prev = e.value.max_ts;
        combined = std::move(e.value);
      } else if (s <= t) {
        if (!right_agg) right_agg = e.value;
        update(key, window_at(s), std::move(e.value), close);
      } else if (s == t + 1) {
        right_exists = true;
      }
    }
    if (!right_agg && combined && combined->max_ts > t) right_agg = combined;
    if (!right_exists && right_agg && right_agg->max_ts > t)
      put(key, window_at(t + 1), *right_agg, std::nullopt);
    if (prev >= 0 && !starts.contains(prev + 1) && prev + 1 <= t)
      update(key, window_at(prev + 1), std::nullopt, close);
    update(key, window_at(0), std::move(combined), close);
  }

  // Emit final: windows that ended before the close time, by end, once, with the headers of
  // their last update.
  void emit_closed() {
    const timestamp_ms close = close_time();
    std::vector<windowed<K>> closed;
    while (!_pending.empty() && _pending.begin()->first < close) {
      closed.push_back(this->store().decode_windowed(_pending.begin()->second));
      _pending.erase(_pending.begin());
    }
    if (closed.empty()) return;
    for (auto& w : closed) {
      headers h;
      auto v = this->store().fetch(w.key, w.window.start, h);
      if (!v) continue;  // expired meanwhile
      this->forward(std::move(w), std::move(v->value), std::nullopt, v->max_ts, h);
    }
    this->_mark.set(close);
  }

  void on_flush(bytes_view key, const std::optional<bytes_view>& now,
                const std::optional<bytes_view>& before, std::int64_t, const headers& h) override {
    auto& s = this->store();
    std::optional<timed<VA>> n;
    std::optional<VA> b;
    if (now) n = s.decode_value(*now);
    if (before) b = s.decode_value(*before).value;
    const timestamp_ms ts = n ? n->max_ts : 0;
    this->forward(s.decode_windowed(key), n ? std::optional<VA>(std::move(n->value)) : std::nullopt,
                  std::move(b), ts, h);
  }

  sliding_windows _w;
  Init _init;
  Agg _agg;
  const record<K, V>* _current = nullptr;
  // Emit final: windows not emitted yet, by end (then store key).
  std::set<std::pair<timestamp_ms, bytes>> _pending;
};

}  // namespace rill::detail
