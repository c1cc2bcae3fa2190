// The node of session-windowed aggregations (Kafka Streams' KStreamSessionWindowAggregate).
// A record at t joins every session of its key that ends at or after t - gap and starts at
// or before t + gap; they merge into one (aggregates combined with the merger), the merged-
// away sessions are removed and forwarded as deletes, and the merged session is stored and
// forwarded. A record whose merged session ends before stream time - grace - gap is late.
// Eager by default; emit final forwards each session once, when it closes. Either way a
// session's output carries the headers of the record that last updated it (kept in the cache
// entry, or, for emit final, in the store with the value).
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

struct session_windows {
  std::int64_t gap = 0;
  std::int64_t grace = 0;
};

// Merger: merger(key, agg1, agg2) -> VA. Init may be first_value (reduce: a session's first
// value is its first aggregate).
template <class K, class V, class VA, class Init, class Agg, class Merge>
class session_aggregate_node final : public input_node<K, V>, private cache_flush_listener {
 public:
  session_aggregate_node(std::string name, std::string store, std::string mark_store,
                         session_windows w, Init init, Agg agg, Merge merge)
      : input_node<K, V>(std::move(name)),
        _store_name(std::move(store)),
        _mark_store(std::move(mark_store)),
        _w(w),
        _init(std::move(init)),
        _agg(std::move(agg)),
        _merge(std::move(merge)) {}

  void add_child(node& child) override { _out.add(*this, child); }

  void init(task_context& t) override {
    node::init(t);
    _store = dynamic_cast<session_store<K, VA>*>(&t.get_store(_store_name, *this));
    if (_store == nullptr)
      throw streams_error("node '" + this->name() + "': store '" + _store_name +
                          "' is not the session store it expects");
    if (final()) {
      _mark.init(t, *this, _mark_store);
      _clock.init(t, *this, [this] { emit_closed(); });
      for (auto& e : _store->all()) {
        if (e.key.window.end >= _mark.at()) _pending.insert({e.key.window.end, key_of(e.key)});
      }
    } else if (_store->access().cached()) {
      _store->access().set_flush_listener(this);
    }
  }

  void process(record<K, V>&& r) override {
    task_context& ctx = this->ctx();
    _clock.saw_input(ctx);
    const timestamp_ms t = r.timestamp;
    // Sessions this record's stream time closes go out first, before this record's session
    // moves the store's retention on past them.
    if (final()) emit_closed();
    const timestamp_ms close = close_time();
    std::vector<key_value<windowed<K>, VA>> found;
    for (auto& e : _store->find_sessions(r.key, t - _w.gap, t + _w.gap)) found.push_back(e);
    rill::window merged{t, t, true};
    std::optional<VA> agg;
    this->call_user([&] {
      if constexpr (!std::is_same_v<Init, first_value>) agg.emplace(_init());
      for (const auto& f : found) {
        agg = agg ? VA(_merge(std::as_const(r.key), std::move(*agg), f.value)) : f.value;
        merged.start = std::min(merged.start, f.key.window.start);
        merged.end = std::max(merged.end, f.key.window.end);
      }
    });
    if (t < 0 || merged.end < close) {
      ctx.on_late_record(*this, merged.start, merged.end, close - merged.end);
      return;
    }
    const bool eager = !final() && !_store->access().cached();
    if (merged.start != t || merged.end != t) {
      for (auto& f : found) {
        _store->remove(f.key, r.headers);
        if (final()) _pending.erase({f.key.window.end, key_of(f.key)});
        if (eager) forward(f.key, std::nullopt, std::move(f.value), f.key.window.end, r.headers);
      }
    }
    VA now = this->call_user([&] {
      return aggregate_into<VA>(_init, _agg, std::as_const(r.key), std::as_const(r.value),
                                std::move(agg));
    });
    windowed<K> session{r.key, merged};
    _store->put(session, now, r.headers);
    if (final())
      _pending.insert({merged.end, key_of(session)});
    else if (eager)
      forward(std::move(session), std::move(now), std::nullopt, merged.end, r.headers);
  }

 private:
  bool final() const noexcept { return !_mark_store.empty(); }
  // Sessions ending before this are closed.
  timestamp_ms close_time() const {
    return std::max(_clock.now(this->ctx()) - _w.grace - _w.gap, final() ? _mark.at() : -1);
  }
  bytes key_of(const windowed<K>& s) const {
    bytes k;
    _store->key_serde().encode(s.key, k, {_store->access().changelog_topic(), true, nullptr});
    bytes out;
    session_key(out, k, s.window.start, s.window.end);
    return out;
  }
  void forward(windowed<K> key, std::optional<VA> now, std::optional<VA> before, timestamp_ms ts,
               const headers& h) {
    _out.forward(record<windowed<K>, change<VA>>{
        std::move(key), change<VA>{std::move(now), std::move(before)}, ts, h});
  }

  // Emit final: sessions that ended before the close time, by end, once, with the headers of
  // their last update.
  void emit_closed() {
    const timestamp_ms close = close_time();
    std::vector<windowed<K>> closed;
    while (!_pending.empty() && _pending.begin()->first < close) {
      closed.push_back(_store->decode_session(_pending.begin()->second));
      _pending.erase(_pending.begin());
    }
    if (closed.empty()) return;
    for (auto& s : closed) {
      headers h;
      auto v = _store->fetch_session(s.key, s.window.start, s.window.end, &h);
      if (!v) continue;
      const timestamp_ms ts = s.window.end;
      forward(std::move(s), std::move(v), std::nullopt, ts, h);
    }
    _mark.set(close);
  }

  void on_flush(bytes_view key, const std::optional<bytes_view>& now,
                const std::optional<bytes_view>& before, std::int64_t, const headers& h) override {
    std::optional<VA> n;
    std::optional<VA> b;
    if (now) n = _store->decode_value(*now);
    if (before) b = _store->decode_value(*before);
    windowed<K> s = _store->decode_session(key);
    const timestamp_ms ts = s.window.end;
    forward(std::move(s), std::move(n), std::move(b), ts, h);
  }

  std::string _store_name;
  std::string _mark_store;
  session_windows _w;
  Init _init;
  Agg _agg;
  Merge _merge;
  session_store<K, VA>* _store = nullptr;
  window_clock _clock;
  emit_mark _mark;
  std::set<std::pair<timestamp_ms, bytes>> _pending;  // emit final: sessions by end
  outputs<windowed<K>, change<VA>> _out;
};

}  // namespace rill::detail
