// rill::testing::test_driver: runs a topology in-process, without a broker, for tests (Kafka
// Streams' TopologyTestDriver). It creates the same tasks and nodes a streams_app runs, one
// per (subtopology, partition), and processes every piped record at once, including the
// records it causes on repartition topics, so tests are deterministic: the same input gives
// the same output, every run.
//
//   rill::testing::test_driver driver(topology);
//   auto in  = driver.input_topic<std::string, std::string>("text-input");
//   auto out = driver.output_topic<std::string, std::int64_t>("counts");
//   in.pipe("k", "v");
//   EXPECT_EQ(out.read_value(), 1);
//
// Topics have one partition unless driver_options::partitions says otherwise; records are
// partitioned as a Kafka producer would (murmur2 of the key). Wall-clock time is a mock that
// moves only with advance_wall_clock(); stream time moves with record timestamps.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <rill/config.hpp>
#include <rill/handlers.hpp>
#include <rill/queries.hpp>
#include <rill/record.hpp>
#include <rill/serde.hpp>
#include <rill/task_id.hpp>
#include <rill/topology.hpp>
#include <rill/tracing.hpp>

namespace rill::testing {

// A record as piped in or read out. partition: -1 on input means "as the producer would".
template <class K, class V>
struct test_record {
  K key{};
  V value{};
  timestamp_ms timestamp = 0;
  rill::headers headers;
  std::int32_t partition = -1;
  bool operator==(const test_record&) const = default;
};

struct driver_options {
  rill::config config;                             // application.id defaults to "test-driver"
  std::map<std::string, std::int32_t> partitions;  // per topic; default 1
  timestamp_ms initial_wall_clock = 0;
  exception_handler deserialization_handler;  // overrides the config's handler when set
  exception_handler processing_handler;
  trace_hook trace;  // as streams_app::set_trace_hook
};

struct driver_counters {
  std::uint64_t processed = 0;  // records processed, over all tasks
  std::uint64_t skipped = 0;    // records a handler skipped or dead-lettered
  std::uint64_t dead_lettered = 0;
  std::uint64_t punctuations = 0;
  std::uint64_t late = 0;  // (record, window) pairs dropped because the window had closed
};

// A record written by the topology, as bytes.
struct captured_record {
  std::optional<bytes> key;
  std::optional<bytes> value;
  rill::headers headers;
  timestamp_ms timestamp = 0;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

template <class K, class V>
class test_input_topic;
template <class K, class V>
class test_output_topic;

class test_driver : public detail::store_queries<test_driver> {
 public:
  explicit test_driver(const topology& t, driver_options options = {});
  ~test_driver();
  test_driver(const test_driver&) = delete;
  test_driver& operator=(const test_driver&) = delete;

  // A typed writer for an input topic. Records without an explicit timestamp get the
  // topic's current time, which starts at `start` and moves by `auto_advance` per record.
  template <class K, class V>
  test_input_topic<detail::key_or_null<K>, V> input_topic(
      std::string topic,
      any_serde<detail::key_or_null<K>> key_serde = default_serde<detail::key_or_null<K>>(),
      any_serde<V> value_serde = default_serde<V>(), timestamp_ms start = 0,
      std::chrono::milliseconds auto_advance = std::chrono::milliseconds(0)) {
    check_input(topic);
    return {this,  std::move(topic), std::move(key_serde), std::move(value_serde),
            start, auto_advance};
  }

  // A typed reader for an output topic. Reading removes what it reads.
  template <class K, class V>
  test_output_topic<detail::key_or_null<K>, V> output_topic(
      std::string topic,
      any_serde<detail::key_or_null<K>> key_serde = default_serde<detail::key_or_null<K>>(),
      any_serde<V> value_serde = default_serde<V>()) {
    return {this, std::move(topic), std::move(key_serde), std::move(value_serde)};
  }

  // Moves the mock wall clock forward and fires wall-clock punctuations that fall due.
  void advance_wall_clock(std::chrono::milliseconds by);
  timestamp_ms wall_clock() const;
  // Stream time of a task (-1 before its first record), or the largest over all tasks.
  timestamp_ms stream_time(task_id task) const;
  timestamp_ms stream_time() const;
  std::vector<task_id> tasks() const;
  driver_counters counters() const;
  // Partition count the driver uses for a topic (configured, derived, or 1).
  std::int32_t partition_count(std::string_view topic) const;
  // Application-id prefixed name of an internal topic ("<application.id>-<name>").
  std::string internal_topic_name(std::string_view name) const;

  // The topology's stores, read as a running app's interactive queries read them (see
  // <rill/queries.hpp>): every task's store of that name, global tables' too.
  // key_value_store<K, V>(name), window_store<K, V>(name), session_store<K, V>(name) come
  // from detail::store_queries; they read through this source.
  std::shared_ptr<detail::store_source> store_source();

  // Byte-level access, used by the typed topics.
  void pipe_raw(std::string_view topic, std::int32_t partition, std::optional<bytes> key,
                std::optional<bytes> value, rill::headers headers, timestamp_ms timestamp);
  std::deque<captured_record>& captured(std::string_view topic);

 private:
  void check_input(std::string_view topic) const;
  struct impl;
  std::unique_ptr<impl> _impl;
};

template <class K, class V>
class test_input_topic {
 public:
  void pipe(const K& key, const V& value) { pipe(key, value, next_time()); }
  void pipe(const K& key, const V& value, timestamp_ms timestamp) {
    pipe(test_record<K, V>{key, value, timestamp, {}, -1});
  }
  // A keyless record (K = null_key): pipe(value).
  void pipe(const V& value) requires std::same_as<K, null_key> { pipe(null_key{}, value); }
  void pipe(test_record<K, V> r) {
    serde_context kctx{_topic, true, &r.headers};
    serde_context vctx{_topic, false, &r.headers};
    bytes buf;
    std::optional<bytes> key;
    std::optional<bytes> value;
    if (_key_serde.encode(r.key, buf, kctx)) key = buf;
    if (_value_serde.encode(r.value, buf, vctx)) value = std::move(buf);
    _driver->pipe_raw(_topic, r.partition, std::move(key), std::move(value), std::move(r.headers),
                      r.timestamp);
  }
  void pipe_key_value_list(const std::vector<std::pair<K, V>>& items) {
    for (const auto& [k, v] : items) pipe(k, v);
  }
  void pipe_value_list(const std::vector<V>& values) requires std::same_as<K, null_key> {
    for (const auto& v : values) pipe(v);
  }
  void advance_time(std::chrono::milliseconds by) { _time += by.count(); }

 private:
  friend class test_driver;
  test_input_topic(test_driver* d, std::string topic, any_serde<K> ks, any_serde<V> vs,
                   timestamp_ms start, std::chrono::milliseconds advance)
      : _driver(d),
        _topic(std::move(topic)),
        _key_serde(std::move(ks)),
        _value_serde(std::move(vs)),
        _time(start),
        _advance(advance.count()) {
    if (!_key_serde || !_value_serde) {
      throw error("input_topic('" + _topic + "'): no serde for " +
                  (!_key_serde ? type_name_of<K>() : type_name_of<V>()) + "; pass one");
    }
  }
  template <class T>
  static std::string type_name_of() {
    return detail::type_name<T>();
  }
  timestamp_ms next_time() {
    timestamp_ms t = _time;
    _time += _advance;
    return t;
  }

  test_driver* _driver;
  std::string _topic;
  any_serde<K> _key_serde;
  any_serde<V> _value_serde;
  timestamp_ms _time;
  std::int64_t _advance;
};

template <class K, class V>
class test_output_topic {
 public:
  bool is_empty() const { return queue().empty(); }
  std::size_t queue_size() const { return queue().size(); }

  test_record<K, V> read_record() {
    auto& q = queue();
    if (q.empty()) throw error("output topic '" + _topic + "' has no more records");
    captured_record c = std::move(q.front());
    q.pop_front();
    serde_context kctx{_topic, true, &c.headers};
    serde_context vctx{_topic, false, &c.headers};
    bytes_view kv;
    bytes_view vv;
    if (c.key) kv = *c.key;
    if (c.value) vv = *c.value;
    K key = _key_serde.decode(c.key ? &kv : nullptr, kctx);
    V value = _value_serde.decode(c.value ? &vv : nullptr, vctx);
    return {std::move(key), std::move(value), c.timestamp, std::move(c.headers), c.partition};
  }
  V read_value() { return read_record().value; }
  key_value<K, V> read_key_value() {
    auto r = read_record();
    return {std::move(r.key), std::move(r.value)};
  }
  std::vector<test_record<K, V>> read_records_to_list() {
    std::vector<test_record<K, V>> out;
    while (!is_empty()) out.push_back(read_record());
    return out;
  }
  std::vector<V> read_values_to_list() {
    std::vector<V> out;
    while (!is_empty()) out.push_back(read_value());
    return out;
  }
  std::vector<key_value<K, V>> read_key_values_to_list() {
    std::vector<key_value<K, V>> out;
    while (!is_empty()) out.push_back(read_key_value());
    return out;
  }
  // The latest value per key; a null value (std::optional's nullopt) deletes the key.
  std::map<K, V> read_key_values_to_map() {
    std::map<K, V> out;
    while (!is_empty()) {
      auto r = read_record();
      if constexpr (requires { r.value.has_value(); }) {
        if (!r.value.has_value()) {
          out.erase(r.key);
          continue;
        }
      }
      out.insert_or_assign(std::move(r.key), std::move(r.value));
    }
    return out;
  }

 private:
  friend class test_driver;
  test_output_topic(test_driver* d, std::string topic, any_serde<K> ks, any_serde<V> vs)
      : _driver(d),
        _topic(std::move(topic)),
        _key_serde(std::move(ks)),
        _value_serde(std::move(vs)) {
    if (!_key_serde || !_value_serde) {
      throw error("output_topic('" + _topic + "'): no serde for " +
                  (!_key_serde ? detail::type_name<K>() : detail::type_name<V>()) + "; pass one");
    }
  }
  std::deque<captured_record>& queue() const { return _driver->captured(_topic); }

  test_driver* _driver;
  std::string _topic;
  any_serde<K> _key_serde;
  any_serde<V> _value_serde;
};

}  // namespace rill::testing
