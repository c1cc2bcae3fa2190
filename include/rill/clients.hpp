// Plain typed producers and readers for tools, examples and tests: put records into a
// topic, read them back. Not part of any topology; they use the same serdes and the same
// broker addressing as a streams_app ("embedded" is this process's embedded broker).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rill/bytes.hpp>
#include <rill/headers.hpp>
#include <rill/record.hpp>
#include <rill/serde.hpp>

namespace rill {

// A record as read from a topic.
template <class K, class V>
struct kafka_record {
  K key{};
  V value{};
  timestamp_ms timestamp = 0;
  rill::headers headers;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

namespace detail {

struct raw_kafka_record {
  std::optional<bytes> key;
  std::optional<bytes> value;
  timestamp_ms timestamp = 0;
  rill::headers headers;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

class byte_writer {
 public:
  byte_writer(const std::string& bootstrap_servers,
              const std::map<std::string, std::string>& props);
  ~byte_writer();
  void send(const std::string& topic, std::int32_t partition, std::optional<bytes_view> key,
            std::optional<bytes_view> value, const rill::headers& headers, timestamp_ms timestamp);
  void flush(std::chrono::milliseconds timeout);

 private:
  struct impl;
  std::unique_ptr<impl> _impl;
};

class byte_reader {
 public:
  byte_reader(const std::string& bootstrap_servers, const std::string& topic,
              const std::map<std::string, std::string>& props);
  ~byte_reader();
  // Up to `max` records, waiting up to `timeout` for the first.
  std::vector<raw_kafka_record> poll(std::chrono::milliseconds timeout, std::size_t max);

 private:
  struct impl;
  std::unique_ptr<impl> _impl;
};

// Creates a topic on the cluster ("embedded", a rill-broker with broker.control, or a
// real cluster through the Admin API). Existing topics are left as they are.
void create_topic(const std::string& bootstrap_servers, const std::string& topic,
                  std::int32_t partitions, const std::map<std::string, std::string>& props = {});

}  // namespace detail

using detail::create_topic;

// Writes typed records. Partitions keyed records as Kafka's Java producer does.
template <class K, class V>
class topic_writer {
 public:
  explicit topic_writer(const std::string& bootstrap_servers,
                        std::map<std::string, std::string> props = {},
                        any_serde<K> key_serde = default_serde<K>(),
                        any_serde<V> value_serde = default_serde<V>())
      : _writer(bootstrap_servers, props),
        _key_serde(std::move(key_serde)),
        _value_serde(std::move(value_serde)) {}

  void send(const std::string& topic, const K& key, const V& value,
            std::optional<timestamp_ms> timestamp = {}, const rill::headers& headers = {},
            std::int32_t partition = -1) {
    const bool has_key = _key_serde.encode(key, _key_buf, {topic, true, nullptr});
    const bool has_value = _value_serde.encode(value, _value_buf, {topic, false, nullptr});
    _writer.send(topic, partition, has_key ? std::optional<bytes_view>(_key_buf) : std::nullopt,
                 has_value ? std::optional<bytes_view>(_value_buf) : std::nullopt, headers,
                 timestamp.value_or(now()));
  }
  // Raw bytes as the value (e.g. to write a malformed record on purpose).
  void send_raw(const std::string& topic, std::optional<bytes_view> key,
                std::optional<bytes_view> value, std::optional<timestamp_ms> timestamp = {}) {
    _writer.send(topic, -1, key, value, {}, timestamp.value_or(now()));
  }
  void flush(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    _writer.flush(timeout);
  }

 private:
  static timestamp_ms now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  detail::byte_writer _writer;
  any_serde<K> _key_serde;
  any_serde<V> _value_serde;
  bytes _key_buf;
  bytes _value_buf;
};

// Reads every partition of a topic from the beginning, outside any consumer group.
template <class K, class V>
class topic_reader {
 public:
  topic_reader(const std::string& bootstrap_servers, const std::string& topic,
               std::map<std::string, std::string> props = {},
               any_serde<K> key_serde = default_serde<K>(),
               any_serde<V> value_serde = default_serde<V>())
      : _topic(topic),
        _reader(bootstrap_servers, topic, props),
        _key_serde(std::move(key_serde)),
        _value_serde(std::move(value_serde)) {}

  // Reads until `count` records arrived or `timeout` passed; returns what arrived.
  std::vector<kafka_record<K, V>> read(std::size_t count, std::chrono::milliseconds timeout) {
    std::vector<kafka_record<K, V>> out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
      for (auto& r : _reader.poll(std::chrono::milliseconds(100), count - out.size()))
        out.push_back(decode(r));
    }
    return out;
  }
  // Reads until nothing new arrives for `quiet`.
  std::vector<kafka_record<K, V>> read_until_quiet(std::chrono::milliseconds quiet) {
    std::vector<kafka_record<K, V>> out;
    auto last = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - last < quiet) {
      auto batch = _reader.poll(std::chrono::milliseconds(100), 10000);
      if (!batch.empty()) last = std::chrono::steady_clock::now();
      for (auto& r : batch) out.push_back(decode(r));
    }
    return out;
  }

 private:
  kafka_record<K, V> decode(detail::raw_kafka_record& r) {
    serde_context kctx{_topic, true, &r.headers};
    serde_context vctx{_topic, false, &r.headers};
    bytes_view k;
    bytes_view v;
    if (r.key) k = *r.key;
    if (r.value) v = *r.value;
    return {_key_serde.decode(r.key ? &k : nullptr, kctx),
            _value_serde.decode(r.value ? &v : nullptr, vctx),
            r.timestamp,
            std::move(r.headers),
            r.partition,
            r.offset};
  }

  std::string _topic;
  detail::byte_reader _reader;
  any_serde<K> _key_serde;
  any_serde<V> _value_serde;
};

}  // namespace rill
