// Window and session stores as user code sees them (Kafka Streams' WindowStore and
// SessionStore): made by windowed aggregations, or declared for processors with
// streams_builder::add_window_store / add_session_store and reached with
// context.get_state_store<rill::window_store<K, V>>("name").
//
// Underneath they are byte-level key-value stores with a key schema, segmented by time so
// that expired windows are dropped a segment at a time (state/segmented_store.hpp):
//   window store, by key:  [key bytes][window start, 8 bytes big-endian]
//   window store, by time: [window start][key bytes]   (emit-final aggregations scan by time)
//   window store keeping duplicates: [key bytes][window start][sequence, 8 bytes]
//                          (stream-stream join buffers: every put is a new entry)
//   session store:         [key bytes][session end][session start]
// Records past the store's retention are never returned. Scans are single-pass ranges;
// backward scans are returned as vectors.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rill/detail/kv_store.hpp>
#include <rill/detail/store_range.hpp>
#include <rill/record.hpp>
#include <rill/serde.hpp>
#include <rill/state_store.hpp>
#include <rill/window.hpp>

namespace rill {

namespace detail {

// by_key_dup: by key, every put a new entry (a sequence number after the start), as Kafka
// Streams' window stores with retainDuplicates.
enum class window_layout : std::uint8_t { by_key, by_time, by_key_dup };

inline void append_be64(bytes& out, std::int64_t v) {
  serdes::detail::put_be64(out, v);
}
inline std::int64_t read_be64(bytes_view in) {
  return serdes::detail::get_be64(in);
}

inline bool same_bytes(bytes_view a, bytes_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// A window store's logical key for (key, start), in `out`.
// (Without the sequence number of a by_key_dup key: the caller appends it.)
inline void window_key(bytes& out, bytes_view key, timestamp_ms start, window_layout layout) {
  out.clear();
  out.reserve(key.size() + 16);  // room for a sequence number too: one allocation at most
  if (layout == window_layout::by_time) append_be64(out, start);
  out.insert(out.end(), key.begin(), key.end());
  if (layout != window_layout::by_time) append_be64(out, start);
}
// The bytes after the window start: the sequence number of a by_key_dup key.
inline std::size_t window_tail(window_layout layout) {
  return layout == window_layout::by_key_dup ? 8 : 0;
}
inline bytes_view window_key_part(bytes_view k, window_layout layout) {
  return layout == window_layout::by_time ? k.subspan(8)
                                          : k.first(k.size() - 8 - window_tail(layout));
}
inline timestamp_ms window_start_of(bytes_view k, window_layout layout) {
  return read_be64(layout == window_layout::by_time
                       ? k.first(8)
                       : k.subspan(k.size() - 8 - window_tail(layout), 8));
}

// A session store's logical key: [key][end][start].
inline void session_key(bytes& out, bytes_view key, timestamp_ms start, timestamp_ms end) {
  out.clear();
  out.insert(out.end(), key.begin(), key.end());
  append_be64(out, end);
  append_be64(out, start);
}
inline bytes_view session_key_part(bytes_view k) {
  return k.first(k.size() - 16);
}
inline timestamp_ms session_end_of(bytes_view k) {
  return read_be64(k.subspan(k.size() - 16));
}
inline timestamp_ms session_start_of(bytes_view k) {
  return read_be64(k.subspan(k.size() - 8));
}

constexpr timestamp_ms max_time = std::numeric_limits<timestamp_ms>::max();

}  // namespace detail

// Windows of fixed size per key. Window starts are >= 0.
template <class K, class V>
class window_store final : public state_store, private detail::json_reader {
 public:
  using window_entry = key_value<rill::window, V>;
  using windowed_entry = key_value<windowed<K>, V>;

  window_store(detail::store_access& access, any_serde<K> key_serde, any_serde<V> value_serde,
               detail::window_layout layout, std::int64_t window_size_ms)
      : _access(&access),
        _key_serde(std::move(key_serde)),
        _value_serde(std::move(value_serde)),
        _layout(layout),
        _size(window_size_ms) {}

  const std::string& name() const override { return _access->bytes_store().name(); }
  std::int64_t window_size() const noexcept { return _size; }

  // A store keeping duplicates adds an entry on every put (no read, no overwrite).
  void put(const K& key, const V& value, timestamp_ms window_start) {
    encode(key, window_start);
    if (_layout == detail::window_layout::by_key_dup) {
      if (!_sequence) _sequence = _access->sequence_start();
      detail::append_be64(_store_key, static_cast<std::int64_t>((*_sequence)++));
    }
    _value_serde.encode(value, _value_buf, ctx(false));
    bytes_store().put(_store_key, _value_buf);
  }
  // Removes the window (every entry of it, in a store keeping duplicates).
  void remove(const K& key, timestamp_ms window_start) {
    if (_layout == detail::window_layout::by_key_dup) {
      std::vector<bytes> keys;
      for (auto it = scan_from(serialized(key), window_start, window_start); it->valid();
           it->next())
        keys.emplace_back(it->key().begin(), it->key().end());
      for (const bytes& k : keys) bytes_store().remove(k);
      return;
    }
    encode(key, window_start);
    bytes_store().remove(_store_key);
  }
  // The window's value (the first entry's, in a store keeping duplicates).
  std::optional<V> fetch(const K& key, timestamp_ms window_start) {
    if (_layout == detail::window_layout::by_key_dup) {
      for (auto& e : fetch(key, window_start, window_start)) return std::move(e.value);
      return std::nullopt;
    }
    encode(key, window_start);
    if (!bytes_store().get(_store_key, _value_buf)) return std::nullopt;
    return decode_value(_value_buf);
  }

  // The windows of `key` starting in [from, to], by start.
  detail::store_range<window_entry> fetch(const K& key, timestamp_ms from, timestamp_ms to) {
    bytes k = serialized(key);
    const auto layout = _layout;
    return detail::store_range<window_entry>(
        scan_from(k, from, to),
        [this, k, from, to, layout](bytes_view sk, bytes_view v,
                                    bool& stop) -> std::optional<window_entry> {
          const timestamp_ms start = detail::window_start_of(sk, layout);
          if (layout == detail::window_layout::by_time && start > to) stop = true;
          if (stop || start < from || start > to ||
              !detail::same_bytes(detail::window_key_part(sk, layout), k))
            return std::nullopt;
          return window_entry{window_of(start), decode_value(v)};
        });
  }
  std::vector<window_entry> backward_fetch(const K& key, timestamp_ms from, timestamp_ms to) {
    std::vector<window_entry> out;
    for (auto& e : fetch(key, from, to)) out.push_back(e);
    std::reverse(out.begin(), out.end());
    return out;
  }

  // Every key's windows starting in [from, to]: by start when the store is laid out by time,
  // else by key.
  detail::store_range<windowed_entry> fetch_all(timestamp_ms from, timestamp_ms to) {
    const auto layout = _layout;
    return detail::store_range<windowed_entry>(
        scan_from({}, from, to),
        [this, from, to, layout](bytes_view sk, bytes_view v,
                                 bool& stop) -> std::optional<windowed_entry> {
          const timestamp_ms start = detail::window_start_of(sk, layout);
          if (layout == detail::window_layout::by_time && start > to) stop = true;
          if (stop || start < from || start > to) return std::nullopt;
          bytes_view kb = detail::window_key_part(sk, layout);
          return windowed_entry{windowed<K>{decode_key(kb), window_of(start)}, decode_value(v)};
        });
  }
  std::vector<windowed_entry> backward_fetch_all(timestamp_ms from, timestamp_ms to) {
    std::vector<windowed_entry> out;
    for (auto& e : fetch_all(from, to)) out.push_back(e);
    std::reverse(out.begin(), out.end());
    return out;
  }
  detail::store_range<windowed_entry> all() { return fetch_all(0, detail::max_time); }

  // Internal: for the DSL's nodes.
  detail::store_access& access() noexcept { return *_access; }
  const any_serde<K>& key_serde() const noexcept { return _key_serde; }
  const any_serde<V>& value_serde() const noexcept { return _value_serde; }
  detail::window_layout layout() const noexcept { return _layout; }
  // The logical key of a window, and back (cache flushes, emit-final indexes).
  bytes store_key(const K& key, timestamp_ms window_start) const {
    bytes k;
    _key_serde.encode(key, k, ctx(true));
    bytes out;
    detail::window_key(out, k, window_start, _layout);
    return out;
  }
  windowed<K> decode_windowed(bytes_view store_key) const {
    return {decode_key(detail::window_key_part(store_key, _layout)),
            window_of(detail::window_start_of(store_key, _layout))};
  }
  V decode_value(bytes_view b) const { return _value_serde.decode(&b, ctx(false)); }
  detail::json_reader* json() override { return this; }

 private:
  bytes key_bytes(std::string_view text) override {
    return serialized(detail::key_from_text<K>(text, _key_serde, name()));
  }
  std::optional<std::string> get_json(std::string_view) override {
    throw std::invalid_argument("store '" + name() +
                                "' is a window store: ask for the windows of a key, from and to");
  }
  void range_json(std::optional<std::string_view> from, std::optional<std::string_view> to,
                  detail::json_reader::entries& out) override {
    std::optional<bytes> f;
    std::optional<bytes> t;
    if (from) f = key_bytes(*from);
    if (to) t = key_bytes(*to);
    for (auto it = scan_from({}, 0, detail::max_time); it->valid(); it->next()) {
      bytes_view kb = detail::window_key_part(it->key(), _layout);
      if (!detail::within(kb, f, t)) continue;
      const timestamp_ms start = detail::window_start_of(it->key(), _layout);
      const rill::window w = window_of(start);
      out.emplace_back(
          bytes(kb.begin(), kb.end()),
          detail::json_entry(decode_key(kb), decode_value(it->value()), _key_serde, _value_serde,
                             _access->changelog_topic(), std::pair(w.start, w.end)));
    }
  }
  void windows_json(std::string_view key, std::int64_t from, std::int64_t to,
                    detail::json_reader::entries& out) override {
    const K k = detail::key_from_text<K>(key, _key_serde, name());
    for (const auto& e : fetch(k, from, to)) {
      out.emplace_back(serialized(k), detail::json_entry(k, e.value, _key_serde, _value_serde,
                                                         _access->changelog_topic(),
                                                         std::pair(e.key.start, e.key.end)));
    }
  }
  detail::kv_store& bytes_store() { return _access->bytes_store(); }
  serde_context ctx(bool key) const { return {_access->changelog_topic(), key, nullptr}; }
  rill::window window_of(timestamp_ms start) const {
    return {start, start > detail::max_time - _size ? detail::max_time : start + _size};
  }
  bytes serialized(const K& key) const {
    bytes b;
    _key_serde.encode(key, b, ctx(true));
    return b;
  }
  void encode(const K& key, timestamp_ms start) {
    _key_serde.encode(key, _key_buf, ctx(true));
    detail::window_key(_store_key, _key_buf, start, _layout);
  }
  K decode_key(bytes_view b) const { return _key_serde.decode(&b, ctx(true)); }
  // A scan from the first possible key: by key, [key][from]; by time, [from][key].
  std::unique_ptr<detail::kv_iterator> scan_from(const bytes& key, timestamp_ms from,
                                                 timestamp_ms to) {
    bytes first;
    if (_layout != detail::window_layout::by_time && key.empty()) {
      return bytes_store().range(std::nullopt, std::nullopt);  // every key: filtered by start
    }
    detail::window_key(first, key, std::max<timestamp_ms>(from, 0), _layout);
    if (_layout == detail::window_layout::by_time)
      return bytes_store().range(bytes_view(first), std::nullopt);
    bytes last;
    detail::window_key(last, key, to, _layout);
    if (_layout == detail::window_layout::by_key_dup) {  // every sequence number
      first.resize(first.size() + 8, std::byte{0});
      last.resize(last.size() + 8, std::byte{0xff});
    }
    return bytes_store().range(bytes_view(first), bytes_view(last));
  }

  detail::store_access* _access;
  any_serde<K> _key_serde;
  any_serde<V> _value_serde;
  detail::window_layout _layout;
  std::int64_t _size;
  std::optional<std::uint64_t> _sequence;  // the next put's (duplicates kept), once known
  bytes _key_buf;
  bytes _store_key;
  bytes _value_buf;
};

// Sessions per key: windowed<K> with both ends included.
template <class K, class V>
class session_store final : public state_store, private detail::json_reader {
 public:
  using session_entry = key_value<windowed<K>, V>;

  session_store(detail::store_access& access, any_serde<K> key_serde, any_serde<V> value_serde)
      : _access(&access), _key_serde(std::move(key_serde)), _value_serde(std::move(value_serde)) {}

  const std::string& name() const override { return _access->bytes_store().name(); }

  void put(const windowed<K>& session, const V& value) {
    encode(session.key, session.window.start, session.window.end);
    _value_serde.encode(value, _value_buf, ctx(false));
    bytes_store().put(_store_key, _value_buf);
  }
  void remove(const windowed<K>& session) {
    encode(session.key, session.window.start, session.window.end);
    bytes_store().remove(_store_key);
  }
  std::optional<V> fetch_session(const K& key, timestamp_ms start, timestamp_ms end) {
    encode(key, start, end);
    if (!bytes_store().get(_store_key, _value_buf)) return std::nullopt;
    return decode_value(_value_buf);
  }

  // The sessions of `key` that end at or after `earliest_end` and start at or before
  // `latest_start`: those a record at t with gap g touches are find_sessions(k, t - g, t + g).
  detail::store_range<session_entry> find_sessions(const K& key, timestamp_ms earliest_end,
                                                   timestamp_ms latest_start) {
    bytes k;
    _key_serde.encode(key, k, ctx(true));
    bytes first;
    detail::session_key(first, k, 0, std::max<timestamp_ms>(earliest_end, 0));
    bytes last;
    detail::session_key(last, k, detail::max_time, detail::max_time);
    return detail::store_range<session_entry>(
        bytes_store().range(bytes_view(first), bytes_view(last)),
        [this, k, latest_start](bytes_view sk, bytes_view v,
                                bool&) -> std::optional<session_entry> {
          if (sk.size() < 16 || !detail::same_bytes(detail::session_key_part(sk), k))
            return std::nullopt;
          const timestamp_ms start = detail::session_start_of(sk);
          if (start > latest_start) return std::nullopt;
          return session_entry{session_of(k, sk), decode_value(v)};
        });
  }
  std::vector<session_entry> backward_find_sessions(const K& key, timestamp_ms earliest_end,
                                                    timestamp_ms latest_start) {
    std::vector<session_entry> out;
    for (auto& e : find_sessions(key, earliest_end, latest_start)) out.push_back(e);
    std::reverse(out.begin(), out.end());
    return out;
  }
  // Every session of `key`, by end.
  detail::store_range<session_entry> fetch(const K& key) {
    return find_sessions(key, 0, detail::max_time);
  }
  std::vector<session_entry> backward_fetch(const K& key) {
    return backward_find_sessions(key, 0, detail::max_time);
  }
  // Every session of every key.
  detail::store_range<session_entry> all() {
    return detail::store_range<session_entry>(
        bytes_store().range(std::nullopt, std::nullopt),
        [this](bytes_view sk, bytes_view v, bool&) -> std::optional<session_entry> {
          if (sk.size() < 16) return std::nullopt;
          return session_entry{session_of(detail::session_key_part(sk), sk), decode_value(v)};
        });
  }

  // Internal: for the DSL's nodes.
  detail::store_access& access() noexcept { return *_access; }
  const any_serde<K>& key_serde() const noexcept { return _key_serde; }
  const any_serde<V>& value_serde() const noexcept { return _value_serde; }
  windowed<K> decode_session(bytes_view store_key) const {
    return session_of(detail::session_key_part(store_key), store_key);
  }
  V decode_value(bytes_view b) const { return _value_serde.decode(&b, ctx(false)); }
  detail::json_reader* json() override { return this; }

 private:
  bytes key_bytes(std::string_view text) override {
    bytes b;
    _key_serde.encode(detail::key_from_text<K>(text, _key_serde, name()), b, ctx(true));
    return b;
  }
  std::optional<std::string> get_json(std::string_view key) override {
    detail::json_reader::entries found;
    windows_json(key, 0, detail::max_time, found);
    if (found.empty()) return std::nullopt;
    std::string out = "[";
    for (const auto& [k, json] : found) out += (out.size() > 1 ? "," : "") + json;
    return out + "]";
  }
  void range_json(std::optional<std::string_view> from, std::optional<std::string_view> to,
                  detail::json_reader::entries& out) override {
    std::optional<bytes> f;
    std::optional<bytes> t;
    if (from) f = key_bytes(*from);
    if (to) t = key_bytes(*to);
    for (const auto& e : all()) {
      bytes kb;
      _key_serde.encode(e.key.key, kb, ctx(true));
      if (!detail::within(kb, f, t)) continue;
      auto json = detail::json_entry(e.key.key, e.value, _key_serde, _value_serde,
                                     _access->changelog_topic(),
                                     std::pair(e.key.window.start, e.key.window.end));
      out.emplace_back(std::move(kb), std::move(json));
    }
  }
  void windows_json(std::string_view key, std::int64_t from, std::int64_t to,
                    detail::json_reader::entries& out) override {
    const K k = detail::key_from_text<K>(key, _key_serde, name());
    for (const auto& e : find_sessions(k, from, to)) {
      out.emplace_back(
          key_bytes(key),
          detail::json_entry(k, e.value, _key_serde, _value_serde, _access->changelog_topic(),
                             std::pair(e.key.window.start, e.key.window.end)));
    }
  }
  detail::kv_store& bytes_store() { return _access->bytes_store(); }
  serde_context ctx(bool key) const { return {_access->changelog_topic(), key, nullptr}; }
  void encode(const K& key, timestamp_ms start, timestamp_ms end) {
    _key_serde.encode(key, _key_buf, ctx(true));
    detail::session_key(_store_key, _key_buf, start, end);
  }
  windowed<K> session_of(bytes_view key, bytes_view sk) const {
    return {_key_serde.decode(&key, ctx(true)),
            rill::window{detail::session_start_of(sk), detail::session_end_of(sk), true}};
  }

  detail::store_access* _access;
  any_serde<K> _key_serde;
  any_serde<V> _value_serde;
  bytes _key_buf;
  bytes _store_key;
  bytes _value_buf;
};

namespace detail {

// The spec of a window store keeping windows of `size_ms`, kept `retention_ms` (which is at
// least the size).
template <class K, class V>
store_spec make_window_store_spec(const materialized<K, V>& m, window_layout layout,
                                  std::int64_t size_ms, std::int64_t retention_ms) {
  store_spec spec = make_store_spec(m);
  spec.kind = layout == window_layout::by_key       ? store_kind::window_by_key
              : layout == window_layout::by_key_dup ? store_kind::window_by_key_dup
                                                    : store_kind::window_by_time;
  spec.retention_ms = retention_ms;
  spec.make_facade = [ks = m.key_serde, vs = m.value_serde, layout,
                      size_ms](store_access& a) -> std::unique_ptr<state_store> {
    return std::make_unique<window_store<K, V>>(a, ks, vs, layout, size_ms);
  };
  return spec;
}

template <class K, class V>
store_spec make_session_store_spec(const materialized<K, V>& m, std::int64_t retention_ms) {
  store_spec spec = make_store_spec(m);
  spec.kind = store_kind::session;
  spec.retention_ms = retention_ms;
  spec.make_facade = [ks = m.key_serde,
                      vs = m.value_serde](store_access& a) -> std::unique_ptr<state_store> {
    return std::make_unique<session_store<K, V>>(a, ks, vs);
  };
  return spec;
}

// A store's retention: what the user asked for, but never less than `least`.
template <class K, class V>
std::int64_t retention_of(const materialized<K, V>& m, std::int64_t least) {
  if (m.retention && m.retention->count() < least) {
    throw topology_error("store '" + m.name + "': a retention of " +
                         std::to_string(m.retention->count()) +
                         " ms is shorter than its windows' size plus grace (" +
                         std::to_string(least) + " ms); give at least that");
  }
  return m.retention ? m.retention->count() : least;
}

}  // namespace detail

}  // namespace rill
