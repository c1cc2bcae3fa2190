// State stores as user code sees them: declare one with streams_builder::add_state_store
// (or let an aggregation make one), reach it from a processor with
// context.get_state_store<rill::key_value_store<K, V>>("name").
//
// Every store is changelogged to `<application.id>-<name>-changelog` (unless logging is
// off) and restored from it when its task starts somewhere. RocksDB stores keep their data
// and the changelog offset they have applied across restarts, so a restart restores only
// the changelog's tail; in-memory stores restore from the start. With caching on, updates
// to a key between commits are merged and reach the changelog (and, for aggregations,
// downstream) once per commit.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rill/detail/json_text.hpp>
#include <rill/detail/kv_store.hpp>
#include <rill/errors.hpp>
#include <rill/record.hpp>
#include <rill/serde.hpp>

namespace rill {

enum class store_type { rocksdb, in_memory };

// How a store is kept (Kafka Streams' Materialized).
template <class K, class V>
struct materialized {
  std::string name;  // empty: named after the operation that makes it
  store_type type = store_type::rocksdb;
  bool caching = true;
  bool logging = true;
  any_serde<K> key_serde = default_serde<K>();
  any_serde<V> value_serde = default_serde<V>();
  // Window and session stores: how long a window is kept once the newest window has moved
  // past it. Unset: the window's size (or gap) plus its grace; never shorter than that.
  std::optional<std::chrono::milliseconds> retention;
};

// Any store a processor can reach; key_value_store<K, V> is the one there is.
class state_store {
 public:
  virtual ~state_store() = default;
  virtual const std::string& name() const = 0;
  // Internal: the store read with keys as text and answers as JSON (the HTTP endpoint);
  // null for stores that cannot be read so.
  virtual detail::json_reader* json() { return nullptr; }
};

// Typed key-value store over the byte-level store. Keys order as their serialized bytes
// (so big-endian unsigned integers and strings sort naturally).
template <class K, class V>
class key_value_store final : public state_store, private detail::json_reader {
 public:
  key_value_store(detail::store_access& access, any_serde<K> key_serde, any_serde<V> value_serde)
      : _access(&access),
        _topic(&access.changelog_topic()),
        _store(&access.bytes_store()),
        _cached(access.cached()),
        _key_serde(std::move(key_serde)),
        _value_serde(std::move(value_serde)) {}

  const std::string& name() const override { return _store->name(); }

  std::optional<V> get(const K& key) {
    if (!_store->get(encode_key(key), _value_buf)) return std::nullopt;
    return decode_value(_value_buf);
  }
  void put(const K& key, const V& value) {
    encode_key(key);
    _value_serde.encode(value, _value_buf, ctx(false));
    _store->put(_key_buf, _value_buf);
  }
  // Writes only if the key is absent; returns the value that was there.
  std::optional<V> put_if_absent(const K& key, const V& value) {
    auto old = get(key);
    if (!old) put(key, value);
    return old;
  }
  void remove(const K& key) { _store->remove(encode_key(key)); }
  // put and remove that keep `h` with a cached entry: what an aggregation forwards at the
  // cache's flush carries the headers of the record that last updated the key.
  void put(const K& key, const V& value, const headers& h) {
    encode_key(key);
    put_last_read(value, h);
  }
  void remove(const K& key, const headers& h) {
    encode_key(key);
    remove_last_read(h);
  }
  // Internal, for DSL nodes: put and remove of the key the last get() read, whose bytes are
  // still encoded (a read-modify-write encodes its key once); headers as above.
  void put_last_read(const V& value, const headers& h) {
    _value_serde.encode(value, _value_buf, ctx(false));
    if (_cached)
      _access->write(_key_buf, bytes_view(_value_buf), h);
    else
      _store->put(_key_buf, _value_buf);
  }
  void remove_last_read(const headers& h) {
    if (_cached)
      _access->write(_key_buf, std::nullopt, h);
    else
      _store->remove(_key_buf);
  }
  std::uint64_t approximate_num_entries() { return _store->approximate_count(); }

  class iterator;
  // A single-pass range of key_value<K, V>; use it in a range-for or with std::ranges.
  class entries {
   public:
    iterator begin() { return iterator(this); }
    std::default_sentinel_t end() { return {}; }

   private:
    friend class key_value_store;
    friend class iterator;
    entries(key_value_store* store, std::unique_ptr<detail::kv_iterator> it)
        : _store(store), _it(std::move(it)) {}
    key_value_store* _store;
    std::unique_ptr<detail::kv_iterator> _it;
  };

  class iterator {
   public:
    using value_type = key_value<K, V>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(entries* e) : _e(e) { load(); }
    const value_type& operator*() const { return *_current; }
    const value_type* operator->() const { return &*_current; }
    iterator& operator++() {
      _e->_it->next();
      load();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return !_current.has_value(); }

   private:
    void load() {
      if (!_e->_it->valid()) {
        _current.reset();
        return;
      }
      _current.emplace(value_type{_e->_store->decode_key(_e->_it->key()),
                                  _e->_store->decode_value(_e->_it->value())});
    }
    entries* _e = nullptr;
    std::optional<value_type> _current;
  };

  // Entries with from <= key <= to, in key order.
  entries range(const K& from, const K& to) {
    bytes f = copy_key(from);
    bytes t = copy_key(to);
    return entries(this, _store->range(bytes_view(f), bytes_view(t)));
  }
  entries all() { return entries(this, _store->range(std::nullopt, std::nullopt)); }
  // Entries whose serialized key starts with the serialized `prefix` (e.g. a string prefix).
  entries prefix_scan(const K& prefix) {
    bytes p = copy_key(prefix);
    return entries(this, _store->prefix_scan(bytes_view(p)));
  }

  // Internal: the byte-level access, for DSL nodes.
  detail::store_access& access() noexcept { return *_access; }
  const any_serde<K>& key_serde() const noexcept { return _key_serde; }
  const any_serde<V>& value_serde() const noexcept { return _value_serde; }
  detail::json_reader* json() override { return this; }

 private:
  K text_key(std::string_view text) const {
    return detail::key_from_text<K>(text, _key_serde, name());
  }
  bytes key_bytes(std::string_view text) override { return copy_key(text_key(text)); }
  std::optional<std::string> get_json(std::string_view key) override {
    auto v = get(text_key(key));
    if (!v) return std::nullopt;
    std::string out;
    detail::append_json(out, *v, _value_serde, *_topic);
    return out;
  }
  void range_json(std::optional<std::string_view> from, std::optional<std::string_view> to,
                  detail::json_reader::entries& out) override {
    std::optional<bytes> f;
    std::optional<bytes> t;
    if (from) f = key_bytes(*from);
    if (to) t = key_bytes(*to);
    if (f && t && *f > *t)
      throw std::invalid_argument("range of store '" + name() + "': from > to");
    auto it = _store->range(f ? std::optional<bytes_view>(*f) : std::nullopt,
                            t ? std::optional<bytes_view>(*t) : std::nullopt);
    for (; it->valid(); it->next()) {
      out.emplace_back(bytes(it->key().begin(), it->key().end()),
                       detail::json_entry(decode_key(it->key()), decode_value(it->value()),
                                          _key_serde, _value_serde, *_topic));
    }
  }
  void windows_json(std::string_view, std::int64_t, std::int64_t,
                    detail::json_reader::entries&) override {
    throw std::invalid_argument(
        "store '" + name() + "' is a key-value store: it has no windows; ask for a key or a range");
  }
  serde_context ctx(bool key) const { return {*_topic, key, nullptr}; }
  bytes_view encode_key(const K& key) {
    _key_serde.encode(key, _key_buf, ctx(true));
    return _key_buf;
  }
  bytes copy_key(const K& key) {
    bytes b;
    _key_serde.encode(key, b, ctx(true));
    return b;
  }
  K decode_key(bytes_view b) const { return _key_serde.decode(&b, ctx(true)); }
  V decode_value(bytes_view b) const { return _value_serde.decode(&b, ctx(false)); }

  detail::store_access* _access;
  const std::string* _topic;  // the changelog's name, for serde contexts (read per record)
  detail::kv_store* _store;
  bool _cached;  // only a cache keeps headers
  any_serde<K> _key_serde;
  any_serde<V> _value_serde;
  bytes _key_buf;
  bytes _value_buf;
};

namespace detail {

enum class store_kind : std::uint8_t {
  key_value,
  window_by_key,
  window_by_time,
  window_by_key_dup,  // every put a new entry: stream-stream join buffers
  session
};

// What the topology records about a store: how to keep it and how to make its facade.
struct store_spec {
  std::string name;
  store_type type = store_type::rocksdb;
  bool caching = true;
  bool logging = true;
  store_kind kind = store_kind::key_value;
  std::int64_t retention_ms = 0;  // window and session stores
  std::function<std::unique_ptr<state_store>(store_access&)> make_facade;
  // A key given as text (a URL's), serialized as the store keeps it; throws
  // std::invalid_argument naming the problem (detail/json_text.hpp).
  std::function<bytes(std::string_view)> key_from_text;
  std::vector<std::string> missing_serdes;
};

template <class K, class V>
store_spec make_store_spec(const materialized<K, V>& m) {
  store_spec spec;
  spec.name = m.name;
  spec.type = m.type;
  spec.caching = m.caching;
  spec.logging = m.logging;
  if (!m.key_serde) spec.missing_serdes.push_back("no key serde for type '" + type_name<K>() + "'");
  if (!m.value_serde)
    spec.missing_serdes.push_back("no value serde for type '" + type_name<V>() + "'");
  spec.make_facade = [ks = m.key_serde,
                      vs = m.value_serde](store_access& a) -> std::unique_ptr<state_store> {
    return std::make_unique<key_value_store<K, V>>(a, ks, vs);
  };
  if (m.key_serde) {
    spec.key_from_text = [ks = m.key_serde, name = m.name](std::string_view text) {
      bytes b;
      ks.encode(key_from_text<K>(text, ks, name), b, serde_context{name, true, nullptr});
      return b;
    };
  }
  return spec;
}

}  // namespace detail
}  // namespace rill
