// An in-process Kafka broker for development, examples and tests: librdkafka's mock
// cluster, a real Kafka-protocol server on loopback that any client (librdkafka, kcat,
// kafka-python) can talk to. `bootstrap.servers=embedded` makes a streams_app use the
// process's shared instance (embedded_broker::shared()).
//
// What it cannot do (librdkafka 2.0.2, measured): read_committed is ignored, transactions
// write no markers, transactional offsets are not stored, producers are never fenced,
// Admin CreateTopics times out (create_topic() here instead), no compaction, and each
// partition keeps only about 5 MiB (older records are dropped). Group joins take ~3 s.
// Unknown topics are created with 4 partitions on first use. See docs/brokers.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rill {

namespace kafka {
class embedded_broker_impl;
}

// Kafka protocol API keys, for push_request_errors().
namespace kafka_api {
inline constexpr std::int16_t produce = 0;
inline constexpr std::int16_t fetch = 1;
inline constexpr std::int16_t list_offsets = 2;
inline constexpr std::int16_t metadata = 3;
inline constexpr std::int16_t offset_commit = 8;
inline constexpr std::int16_t offset_fetch = 9;
inline constexpr std::int16_t find_coordinator = 10;
inline constexpr std::int16_t join_group = 11;
inline constexpr std::int16_t heartbeat = 12;
inline constexpr std::int16_t sync_group = 14;
inline constexpr std::int16_t init_producer_id = 22;
inline constexpr std::int16_t add_partitions_to_txn = 24;
inline constexpr std::int16_t add_offsets_to_txn = 25;
inline constexpr std::int16_t end_txn = 26;
inline constexpr std::int16_t txn_offset_commit = 28;
}  // namespace kafka_api

class embedded_broker {
 public:
  // A new cluster of `brokers` brokers, private to this object and its copies.
  explicit embedded_broker(int brokers = 1);
  // The cluster behind bootstrap.servers=embedded in this process; created on first use and
  // kept until the process exits.
  static embedded_broker shared();

  const std::string& bootstrap_servers() const;
  // Creates a topic; one that exists already is fine. Throws rill::error on failure.
  void create_topic(const std::string& name, std::int32_t partitions);

  // Fault injection.
  void set_broker_down(std::int32_t broker_id = 1);
  void set_broker_up(std::int32_t broker_id = 1);
  // The next requests of this API fail with these Kafka error codes, one each.
  void push_request_errors(std::int16_t api_key, const std::vector<std::int32_t>& error_codes);
  void clear_request_errors(std::int16_t api_key);

  // Serves topic creation for clients in other processes on a loopback port (returned);
  // such clients set `broker.control` to "127.0.0.1:<port>". Used by rill-broker.
  std::uint16_t serve_control();

  const std::shared_ptr<kafka::embedded_broker_impl>& impl() const noexcept { return _impl; }

 private:
  explicit embedded_broker(std::shared_ptr<kafka::embedded_broker_impl> impl)
      : _impl(std::move(impl)) {}
  std::shared_ptr<kafka::embedded_broker_impl> _impl;
};

}  // namespace rill
