// Typed records as user code sees them: in processors, in map_record, in the test driver.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

#include <rill/headers.hpp>

namespace rill {

// Milliseconds since the Unix epoch, as Kafka timestamps are.
using timestamp_ms = std::int64_t;

// The key type of a stream whose records have no key: `stream<void, V>` is stream<null_key, V>.
// Its serde reads and writes Kafka's null key.
struct null_key {
  bool operator==(const null_key&) const = default;
  auto operator<=>(const null_key&) const = default;
};

namespace detail {
template <class T>
using key_or_null = std::conditional_t<std::is_void_v<T>, null_key, T>;
}  // namespace detail

// A record travelling through a topology. Nodes move it from one to the next, so a chain
// of stateless operations never copies key, value or headers.
template <class K, class V>
struct record {
  K key{};
  V value{};
  timestamp_ms timestamp = 0;
  rill::headers headers;

  // The same record's metadata with a new key and value (moves timestamp and headers).
  template <class K2, class V2>
  record<std::decay_t<K2>, std::decay_t<V2>> with(K2&& k, V2&& v) && {
    return {std::forward<K2>(k), std::forward<V2>(v), timestamp, std::move(headers)};
  }
  bool operator==(const record&) const = default;
};

// What map and flat_map return per output record (std::pair works too).
template <class K, class V>
struct key_value {
  K key;
  V value;
  bool operator==(const key_value&) const = default;
};
template <class K, class V>
key_value(K, V) -> key_value<K, V>;

// A record whose key cannot change: what process_values hands a fixed_key_processor, so the
// runtime knows no repartition is needed downstream.
template <class K, class V>
class fixed_key_record {
 public:
  V value{};
  timestamp_ms timestamp = 0;
  rill::headers headers;

  const K& key() const noexcept { return _key; }

  // The same key and metadata with another value.
  template <class V2>
  fixed_key_record<K, std::decay_t<V2>> with_value(V2&& v) && {
    return {std::move(_key), std::forward<V2>(v), timestamp, std::move(headers)};
  }
  // A copy that keeps key and metadata, for forwarding more than one result.
  template <class V2>
  fixed_key_record<K, std::decay_t<V2>> with_value(V2&& v) const& {
    return {_key, std::forward<V2>(v), timestamp, headers};
  }

 private:
  template <class, class>
  friend class fixed_key_record;
  template <class, class>
  friend struct fixed_key_access;
  fixed_key_record(K k, V v, timestamp_ms ts, rill::headers h)
      : value(std::move(v)), timestamp(ts), headers(std::move(h)), _key(std::move(k)) {}
  K _key;
};

// Runtime-only access to fixed_key_record's constructor and key.
template <class K, class V>
struct fixed_key_access {
  static fixed_key_record<K, V> make(record<K, V>&& r) {
    return {std::move(r.key), std::move(r.value), r.timestamp, std::move(r.headers)};
  }
  static record<K, V> release(fixed_key_record<K, V>&& r) {
    return {std::move(r._key), std::move(r.value), r.timestamp, std::move(r.headers)};
  }
};

// Where the record being processed came from. In a punctuation there is no input record:
// topic is empty, partition and offset are -1.
struct record_context {
  std::string_view topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  timestamp_ms timestamp = 0;
  const rill::headers* headers = nullptr;
};

}  // namespace rill
