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
// Values are the value serde's bytes; in the stores of emit-final aggregations, the headers of
// the window's last update come first (detail/headers_codec.hpp), for its final result.
// Records past the store's retention are never returned. Scans are single-pass ranges;
// backward scans are returned as vectors.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <rill/detail/headers_codec.hpp>
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

// A window or session store's value bytes, in `out`: the headers first when the store keeps
// them (none given: an empty list), then the value (nothing for a null).
template <class V>
void encode_value(bytes& out, const V& v, const any_serde<V>& serde, const serde_context& ctx,
                  bool keeps_headers, const headers* h) {
  out.clear();
  if (keeps_headers) {
    if (h != nullptr)
      append_headers(out, *h);
    else
      put_varint(out, 0);
  }
  if (!serde.is_null(v)) serde.serialize(v, out, ctx);
}

}  // namespace detail

// Windows of fixed size per key. Window starts are >= 0.
template <class K, class V>
class window_store final : public state_store, private detail::json_reader {
 public:
  using window_entry = key_value<rill::window, V>;
  using windowed_entry = key_value<windowed<K>, V>;

  // keeps_headers: each stored value starts with the headers of its last put (emit-final
  // aggregations: a window's result goes out when it closes, with them).
  window_store(detail::store_access& access, any_serde<K> key_serde, any_serde<V> value_serde,
               detail::window_layout layout, std::int64_t window_size_ms,
               bool keeps_headers = false)
      : _access(&access),
        _topic(&access.changelog_topic()),
        _key_serde(std::move(key_serde)),
        _value_serde(std::move(value_serde)),
        _layout(layout),
        _size(window_size_ms),
        _keeps_headers(keeps_headers),
        _cached(access.cached()) {}

  const std::string& name() const override { return _access->bytes_store().name(); }
  std::int64_t window_size() const noexcept { return _size; }

  // A store keeping duplicates adds an entry on every put (no read, no overwrite).
  void put(const K& key, const V& value, timestamp_ms window_start) {
    put_value(key, value, window_start, nullptr);
  }
  // put that keeps `h` for the window's result: with a cached entry until its flush, and in
  // the value in a store that keeps headers.
  void put(const K& key, const V& value, timestamp_ms window_start, const headers& h) {
    put_value(key, value, window_start, &h);
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
  // fetch, with the headers kept with the value into `h` (none in other stores).
  std::optional<V> fetch(const K& key, timestamp_ms window_start, headers& h) {
    encode(key, window_start);
    if (!bytes_store().get(_store_key, _value_buf)) return std::nullopt;
    return decode_value(_value_buf, &h);
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
    return scan_all<windowed_entry>(from, to, [this](windowed<K> w, bytes_view v) {
      return windowed_entry{std::move(w), decode_value(v)};
    });
  }
  // fetch_all, each window with the headers kept with its value (none in other stores).
  detail::store_range<std::pair<windowed_entry, headers>> fetch_all_with_headers(timestamp_ms from,
                                                                                 timestamp_ms to) {
    return scan_all<std::pair<windowed_entry, headers>>(
        from, to, [this](windowed<K> w, bytes_view v) {
          headers h;
          V value = decode_value(v, &h);
          return std::pair(windowed_entry{std::move(w), std::move(value)}, std::move(h));
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
  // A stored value (past its headers, in a store that keeps them: into *h when given).
  V decode_value(bytes_view b, headers* h = nullptr) const {
    if (_keeps_headers) {
      if (h != nullptr)
        *h = detail::read_headers(b, name());
      else
        detail::skip_headers(b, name());
    }
    return _value_serde.decode(&b, ctx(false));
  }
  detail::json_reader* json() override { return this; }

 private:
  void put_value(const K& key, const V& value, timestamp_ms window_start, const headers* h) {
    encode(key, window_start);
    if (_layout == detail::window_layout::by_key_dup) {
      if (!_sequence) _sequence = _access->sequence_start();
      detail::append_be64(_store_key, static_cast<std::int64_t>((*_sequence)++));
    }
    detail::encode_value(_value_buf, value, _value_serde, ctx(false), _keeps_headers, h);
    if (h != nullptr && _cached)  // only a cache keeps headers beside the value
      _access->write(_store_key, bytes_view(_value_buf), *h);
    else
      bytes_store().put(_store_key, _value_buf);
  }
  template <class E, class Make>
  detail::store_range<E> scan_all(timestamp_ms from, timestamp_ms to, Make make) {
    const auto layout = _layout;
    auto decode = [this, from, to, layout, make](bytes_view sk, bytes_view v,
                                                 bool& stop) -> std::optional<E> {
      const timestamp_ms start = detail::window_start_of(sk, layout);
      if (layout == detail::window_layout::by_time && start > to) stop = true;
      if (stop || start < from || start > to) return std::nullopt;
      bytes_view kb = detail::window_key_part(sk, layout);
      return make(windowed<K>{decode_key(kb), window_of(start)}, v);
    };
    return detail::store_range<E>(scan_from({}, from, to), std::move(decode));
  }
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
      out.emplace_back(bytes(kb.begin(), kb.end()),
                       detail::json_entry(decode_key(kb), decode_value(it->value()), _key_serde,
                                          _value_serde, *_topic, std::pair(w.start, w.end)));
    }
  }
  void windows_json(std::string_view key, std::int64_t from, std::int64_t to,
                    detail::json_reader::entries& out) override {
    const K k = detail::key_from_text<K>(key, _key_serde, name());
    for (const auto& e : fetch(k, from, to)) {
      out.emplace_back(serialized(k),
                       detail::json_entry(k, e.value, _key_serde, _value_serde, *_topic,
                                          std::pair(e.key.start, e.key.end)));
    }
  }
  detail::kv_store& bytes_store() { return _access->bytes_store(); }
  serde_context ctx(bool key) const { return {*_topic, key, nullptr}; }
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
  const std::string* _topic;  // the changelog's name, for serde contexts (read per record)
  any_serde<K> _key_serde;
  any_serde<V> _value_serde;
  detail::window_layout _layout;
  std::int64_t _size;
  bool _keeps_headers;
  bool _cached;
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

  // keeps_headers: as window_store's (emit-final session aggregations).
  session_store(detail::store_access& access, any_serde<K> key_serde, any_serde<V> value_serde,
                bool keeps_headers = false)
      : _access(&access),
        _topic(&access.changelog_topic()),
        _key_serde(std::move(key_serde)),
        _value_serde(std::move(value_serde)),
        _keeps_headers(keeps_headers),
        _cached(access.cached()) {}

  const std::string& name() const override { return _access->bytes_store().name(); }

  void put(const windowed<K>& session, const V& value) { put_value(session, value, nullptr); }
  void remove(const windowed<K>& session) {
    encode(session.key, session.window.start, session.window.end);
    bytes_store().remove(_store_key);
  }
  // put and remove keeping `h` for the session's result, as window_store's put does.
  void put(const windowed<K>& session, const V& value, const headers& h) {
    put_value(session, value, &h);
  }
  void remove(const windowed<K>& session, const headers& h) {
    if (!_cached) return remove(session);
    encode(session.key, session.window.start, session.window.end);
    _access->write(_store_key, std::nullopt, h);
  }
  std::optional<V> fetch_session(const K& key, timestamp_ms start, timestamp_ms end,
                                 headers* h = nullptr) {
    encode(key, start, end);
    if (!bytes_store().get(_store_key, _value_buf)) return std::nullopt;
    return decode_value(_value_buf, h);
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
  // A stored value (past its headers, in a store that keeps them: into *h when given).
  V decode_value(bytes_view b, headers* h = nullptr) const {
    if (_keeps_headers) {
      if (h != nullptr)
        *h = detail::read_headers(b, name());
      else
        detail::skip_headers(b, name());
    }
    return _value_serde.decode(&b, ctx(false));
  }
  detail::json_reader* json() override { return this; }

 private:
  void put_value(const windowed<K>& session, const V& value, const headers* h) {
    encode(session.key, session.window.start, session.window.end);
    detail::encode_value(_value_buf, value, _value_serde, ctx(false), _keeps_headers, h);
    if (h != nullptr && _cached)  // only a cache keeps headers beside the value
      _access->write(_store_key, bytes_view(_value_buf), *h);
    else
      bytes_store().put(_store_key, _value_buf);
  }
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
      auto json = detail::json_entry(e.key.key, e.value, _key_serde, _value_serde, *_topic,
                                     std::pair(e.key.window.start, e.key.window.end));
      out.emplace_back(std::move(kb), std::move(json));
    }
  }
  void windows_json(std::string_view key, std::int64_t from, std::int64_t to,
                    detail::json_reader::entries& out) override {
    const K k = detail::key_from_text<K>(key, _key_serde, name());
    for (const auto& e : find_sessions(k, from, to)) {
      out.emplace_back(key_bytes(key),
                       detail::json_entry(k, e.value, _key_serde, _value_serde, *_topic,
                                          std::pair(e.key.window.start, e.key.window.end)));
    }
  }
  detail::kv_store& bytes_store() { return _access->bytes_store(); }
  serde_context ctx(bool key) const { return {*_topic, key, nullptr}; }
  void encode(const K& key, timestamp_ms start, timestamp_ms end) {
    _key_serde.encode(key, _key_buf, ctx(true));
    detail::session_key(_store_key, _key_buf, start, end);
  }
  windowed<K> session_of(bytes_view key, bytes_view sk) const {
    return {_key_serde.decode(&key, ctx(true)),
            rill::window{detail::session_start_of(sk), detail::session_end_of(sk), true}};
  }

  detail::store_access* _access;
  const std::string* _topic;  // the changelog's name, for serde contexts (read per record)
  any_serde<K> _key_serde;
  any_serde<V> _value_serde;
  bool _keeps_headers;
  bool _cached;
  bytes _key_buf;
  bytes _store_key;
  bytes _value_buf;
};

namespace detail {

// The spec of a window store keeping windows of `size_ms`, kept `retention_ms` (which is at
// least the size).
// (keeps_headers: see window_store's constructor.)
template <class K, class V>
store_spec make_window_store_spec(const materialized<K, V>& m, window_layout layout,
                                  std::int64_t size_ms, std::int64_t retention_ms,
                                  bool keeps_headers = false) {
  store_spec spec = make_store_spec(m);
  spec.kind = layout == window_layout::by_key       ? store_kind::window_by_key
              : layout == window_layout::by_key_dup ? store_kind::window_by_key_dup
                                                    : store_kind::window_by_time;
  spec.retention_ms = retention_ms;
  spec.make_facade = [ks = m.key_serde, vs = m.value_serde, layout, size_ms,
                      keeps_headers](store_access& a) -> std::unique_ptr<state_store> {
    return std::make_unique<window_store<K, V>>(a, ks, vs, layout, size_ms, keeps_headers);
  };
  return spec;
}

template <class K, class V>
store_spec make_session_store_spec(const materialized<K, V>& m, std::int64_t retention_ms,
                                   bool keeps_headers = false) {
  store_spec spec = make_store_spec(m);
  spec.kind = store_kind::session;
  spec.retention_ms = retention_ms;
  spec.make_facade = [ks = m.key_serde, vs = m.value_serde,
                      keeps_headers](store_access& a) -> std::unique_ptr<state_store> {
    return std::make_unique<session_store<K, V>>(a, ks, vs, keeps_headers);
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
