// The node behind table::suppress (Kafka Streams' KTableSuppressProcessor): it holds back a
// table's updates per key in a buffer and forwards only the latest, when its time comes.
//
// - until the window closes: a windowed key's update goes out once stream time reaches the
//   window's end plus the grace (plus the gap, for sessions); deletes are dropped.
// - until a time limit: a key's update goes out once stream time reaches the time of its
//   first held update plus the limit; a newer update replaces the held one without restarting
//   its timer.
//
// What goes out is the latest new value with the old value and the headers of that update
// (Kafka Streams' buffer keeps the record context too). The buffer is a
// changelogged store (an index by time is rebuilt from it at init), so a restart or a crash
// neither loses nor repeats an update. When it holds more than max_records or max_bytes, it
// emits the earliest early or fails the task, as configured. With window.close.idle.ms, the
// wall clock moves its time on while input is idle.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include <rill/detail/change.hpp>
#include <rill/detail/headers_codec.hpp>
#include <rill/detail/window_support.hpp>
#include <rill/errors.hpp>
#include <rill/state_store.hpp>

namespace rill {

enum class when_full {
  emit_early,  // forward the earliest held update before its time
  shut_down,   // fail the task (a streams_error naming the buffer)
};

struct buffer_config {
  std::size_t max_records = std::numeric_limits<std::size_t>::max();
  std::size_t max_bytes = std::numeric_limits<std::size_t>::max();
  when_full on_full = when_full::shut_down;
};

}  // namespace rill

namespace rill::detail {

struct suppression_spec {
  bool until_window_closes = true;
  std::int64_t limit_ms = 0;            // until a time limit
  std::int64_t close_after_end_ms = 0;  // until the window closes: grace (+ gap for sessions)
  buffer_config buffer;
};

// Buffered in the store under the key's bytes: [8 bytes: when it goes out][8 bytes: the
// record's timestamp][its headers, detail/headers_codec.hpp][the change, in change_serde's
// format].
template <class K, class V>
class suppress_node final : public input_node<K, change<V>> {
 public:
  suppress_node(std::string name, std::string store, suppression_spec spec, any_serde<K> ks,
                any_serde<V> vs)
      : input_node<K, change<V>>(std::move(name)),
        _store_name(std::move(store)),
        _spec(spec),
        _key_serde(std::move(ks)),
        _change_serde(change_serde<V>{std::move(vs)}) {}

  void add_child(node& child) override { _out.add(*this, child); }

  void init(task_context& t) override {
    node::init(t);
    _store = dynamic_cast<key_value_store<bytes, bytes>*>(&t.get_store(_store_name, *this));
    if (_store == nullptr)
      throw streams_error("node '" + this->name() + "': store '" + _store_name +
                          "' is not its buffer");
    for (const auto& e : _store->all()) {
      const timestamp_ms due = serdes::detail::get_be64(e.value);
      _due.emplace(e.key, due);
      _queue.insert({due, e.key});
      _bytes += e.key.size() + e.value.size();
    }
    if (_spec.until_window_closes) _clock.init(t, *this, [this] { emit_due(); });
  }

  void process(record<K, change<V>>&& r) override {
    _clock.saw_input(this->ctx());
    if constexpr (is_windowed) {
      if (_spec.until_window_closes && !r.value.new_value) return emit_due();
    }
    bytes key;
    _key_serde.encode(r.key, key, serde_ctx(true));
    timestamp_ms due;
    if (auto it = _due.find(key); it != _due.end()) {
      due = it->second;  // the timer keeps running
    } else {
      due = due_time(r);
      _due.emplace(key, due);
      _queue.insert({due, key});
    }
    bytes value;
    serdes::detail::put_be64(value, due);
    serdes::detail::put_be64(value, r.timestamp);
    append_headers(value, r.headers);
    _change_serde.serialize(r.value, value, serde_ctx(false));
    if (auto old = _store->get(key)) _bytes -= key.size() + old->size();
    _bytes += key.size() + value.size();
    _store->put(key, value);
    emit_due();
    while (_due.size() > _spec.buffer.max_records || _bytes > _spec.buffer.max_bytes) {
      if (_spec.buffer.on_full == when_full::shut_down) {
        throw streams_error(
            "suppress '" + this->name() + "': its buffer is full (" + std::to_string(_due.size()) +
            " records, " + std::to_string(_bytes) + " bytes; at most " +
            limit(_spec.buffer.max_records) + " records, " + limit(_spec.buffer.max_bytes) +
            " bytes); raise the limits, or let it emit early (when_full::emit_early)");
      }
      emit(_queue.begin());
    }
  }

 private:
  static constexpr bool is_windowed = requires(const K& k) { k.window.end; };

  static std::string limit(std::size_t n) {
    return n == std::numeric_limits<std::size_t>::max() ? "unbounded" : std::to_string(n);
  }
  serde_context serde_ctx(bool key) const { return {_store_name, key, nullptr}; }

  timestamp_ms due_time(const record<K, change<V>>& r) const {
    if constexpr (is_windowed) {
      if (_spec.until_window_closes) return r.key.window.end + _spec.close_after_end_ms;
    }
    return r.timestamp + _spec.limit_ms;
  }

  // Forwards every held update whose time has come, earliest first.
  void emit_due() {
    const timestamp_ms now = _clock.now(this->ctx());
    while (!_queue.empty() && _queue.begin()->first <= now) emit(_queue.begin());
  }

  void emit(typename std::set<std::pair<timestamp_ms, bytes>>::iterator it) {
    const bytes key = it->second;
    _queue.erase(it);
    _due.erase(key);
    std::optional<bytes> held = _store->get(key);
    _store->remove(key);
    if (!held) return;
    _bytes -= key.size() + held->size();
    const bytes_view v(*held);
    const timestamp_ms ts = serdes::detail::get_be64(v.subspan(8));
    bytes_view rest = v.subspan(16);
    headers h = read_headers(rest, _store_name);
    change<V> c = _change_serde.deserialize(rest, serde_ctx(false));
    const bytes_view kv(key);
    _out.forward(record<K, change<V>>{_key_serde.decode(&kv, serde_ctx(true)), std::move(c), ts,
                                      std::move(h)});
  }

  std::string _store_name;
  suppression_spec _spec;
  any_serde<K> _key_serde;
  change_serde<V> _change_serde;
  key_value_store<bytes, bytes>* _store = nullptr;
  std::map<bytes, timestamp_ms> _due;               // key -> when it goes out
  std::set<std::pair<timestamp_ms, bytes>> _queue;  // by time
  std::size_t _bytes = 0;
  window_clock _clock;
  outputs<K, change<V>> _out;
};

}  // namespace rill::detail
