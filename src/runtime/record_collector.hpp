// The record collector: where a stream thread's sinks send their bytes. One per thread,
// over the thread's producer. Picks partitions as Kafka's Java producer does (murmur2 of the
// key), so Rill and Java agree on co-partitioning; null keys are left to the producer.
// Single-threaded: called by the thread's tasks only.
#pragma once

#include <map>
#include <string>

#include <rill/detail/node.hpp>

#include "src/kafka/client.hpp"

namespace rill::runtime {

// Thrown through the nodes when the producer cannot take a record: the thread rewinds to
// the last commit instead of losing it.
class send_failed : public detail::runtime_abort {
 public:
  explicit send_failed(kafka::error e) : runtime_abort(e.message()), _error(std::move(e)) {}
  const kafka::error& error() const noexcept { return _error; }

 private:
  kafka::error _error;
};

class record_collector final : public detail::record_sender {
 public:
  explicit record_collector(kafka::producer& producer) : _producer(&producer) {}

  void send(std::string_view topic, std::int32_t partition, std::optional<bytes_view> key,
            std::optional<bytes_view> value, const rill::headers& headers,
            timestamp_ms timestamp) override;
  std::int32_t partition_count(std::string_view topic) override {
    if (_last != nullptr && detail::same_topic(topic, _last->first)) return _last->second;
    return look_up_partition_count(topic);
  }

  // Known partition counts (e.g. from the admin at start), so sinks need not ask.
  void set_partition_count(const std::string& topic, std::int32_t count) {
    _partitions[topic] = count;
  }
  void set_producer(kafka::producer& p) {
    _producer = &p;
    _in_transaction = false;
  }
  std::uint64_t sent() const noexcept { return _sent; }

  // Exactly-once: every send happens inside a transaction, begun before the first send
  // after a commit (or for a commit that only moves offsets).
  void set_transactional(bool on) { _transactional = on; }
  void begin_transaction_if_needed();
  bool in_transaction() const noexcept { return _in_transaction; }
  void transaction_ended() { _in_transaction = false; }

 private:
  std::int32_t look_up_partition_count(std::string_view topic);

  kafka::producer* _producer;
  std::map<std::string, std::int32_t, std::less<>> _partitions;
  // The entry asked last (map nodes stay put): most sends go to the topic of the one before.
  const std::pair<const std::string, std::int32_t>* _last = nullptr;
  std::uint64_t _sent = 0;
  bool _transactional = false;
  bool _in_transaction = false;
};

}  // namespace rill::runtime
