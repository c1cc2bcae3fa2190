// The narrow client interfaces the runtime uses. librdkafka implements them
// (rdkafka_client.cpp); the simulated cluster of the exactly-once tests will too.
// Runtime paths return kafka::error instead of throwing.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rill/detail/offsets.hpp>

#include "src/kafka/statistics.hpp"
#include "src/kafka/types.hpp"

namespace rill::kafka {

using std::chrono::milliseconds;

// Called from inside consumer::poll on the polling thread.
class rebalance_listener {
 public:
  virtual ~rebalance_listener() = default;
  // New partitions; the consumer starts at their committed offsets.
  virtual void on_assigned(const std::vector<topic_partition>& partitions) = 0;
  // Partitions leave in an orderly way: commit what was processed before returning.
  virtual void on_revoked(const std::vector<topic_partition>& partitions) = 0;
  // Partitions were taken away (missed heartbeats, fenced): committing is no longer possible.
  virtual void on_lost(const std::vector<topic_partition>& partitions) = 0;
};

// Opaque consumer group metadata, for send_offsets_to_transaction.
class group_metadata {
 public:
  virtual ~group_metadata() = default;
};

class consumer {
 public:
  virtual ~consumer() = default;
  // Joins the group for these topics; listener callbacks run inside poll().
  virtual error subscribe(const std::vector<std::string>& topics, rebalance_listener& listener) = 0;
  // Reads these partitions from these offsets, outside any group (-1: the beginning).
  virtual error assign(const std::vector<partition_offset>& positions) = 0;
  // Appends up to `max` records to `out`, waiting up to `timeout` for the first.
  virtual error poll(milliseconds timeout, std::size_t max, std::vector<consumed_record>& out) = 0;
  virtual error pause(const std::vector<topic_partition>& partitions) = 0;
  virtual error resume(const std::vector<topic_partition>& partitions) = 0;
  // Moves the fetch position (e.g. back to the last commit after a failed one).
  virtual error seek(const std::vector<partition_offset>& positions) = 0;
  // Commits offsets for the group, synchronously.
  virtual error commit(const std::vector<partition_offset>& offsets) = 0;
  // The group's committed offsets for these partitions (-1: none).
  virtual error committed(std::vector<partition_offset>& inout, milliseconds timeout) = 0;
  // The offsets the next record of these partitions will get (high watermarks).
  virtual error end_offsets(std::vector<partition_offset>& inout, milliseconds timeout) = 0;
  // The offset after the last record this consumer returned for the partition, or -1. Past
  // transaction markers too, so a reader can tell it reached an end it cannot see records at.
  virtual std::int64_t position(const topic_partition& tp) = 0;
  // True when the consumer knows the partition has nothing more on the broker right now.
  virtual bool caught_up(const topic_partition& tp) = 0;
  virtual std::unique_ptr<group_metadata> metadata() = 0;
  virtual std::string member_id() = 0;
  // The latest statistics (statistics.interval.ms), from any thread; none before the first or
  // where the client has none.
  virtual std::optional<client_statistics> statistics() const { return std::nullopt; }
  // Leaves the group (revoking through the listener). Idempotent.
  virtual void close() = 0;
};

class producer {
 public:
  virtual ~producer() = default;
  // Queues one record; partition < 0 lets the producer choose. Copies the bytes. Waits (up
  // to the producer's timeout) while the local queue is full.
  virtual error send(std::string_view topic, std::int32_t partition, std::optional<bytes_view> key,
                     std::optional<bytes_view> value, const rill::headers& headers,
                     timestamp_ms timestamp) = 0;
  // Waits until everything sent is delivered or failed. Returns the first delivery error
  // since the last flush (none is logged and forgotten).
  virtual error flush(milliseconds timeout) = 0;
  // Serves delivery reports without waiting.
  virtual void poll() = 0;
  // The last offset delivered to this partition by this producer, if any (changelog
  // checkpoints come from here).
  virtual std::optional<detail::record_offset> delivered_offset(
      const topic_partition& tp) const = 0;
  // The topic's partition count from the cluster's metadata, into `out`. kind::fatal with
  // code unknown_topic when the cluster says the topic does not exist (a topic the producer
  // may create, allow.auto.create.topics, exists once asked); retriable when the cluster
  // cannot be asked.
  virtual error partition_count(std::string_view topic, std::int32_t& out,
                                milliseconds timeout) = 0;
  // The latest statistics (statistics.interval.ms; librdkafka emits them while the producer
  // is polled or flushed), from any thread; none before the first or where the client has
  // none.
  virtual std::optional<client_statistics> statistics() const { return std::nullopt; }
  // Looks up the leaders of topics it will send to, before the first send (a client that
  // would otherwise learn them late, one at a time, overrides it). Best effort.
  virtual void learn_topics(const std::vector<std::string>& topics, milliseconds timeout) {
    (void)topics;
    (void)timeout;
  }

  // Transactions (a producer made with a transactional.id).
  virtual error init_transactions(milliseconds timeout) = 0;
  virtual error begin_transaction() = 0;
  virtual error send_offsets_to_transaction(const std::vector<partition_offset>& offsets,
                                            const group_metadata& group, milliseconds timeout) = 0;
  virtual error commit_transaction(milliseconds timeout) = 0;
  virtual error abort_transaction(milliseconds timeout) = 0;
};

struct new_topic {
  std::string name;
  std::int32_t partitions = 1;
  std::int32_t replication_factor = -1;        // broker default
  std::map<std::string, std::string> configs;  // e.g. cleanup.policy=compact
};

// Which offsets admin::list_offsets looks up.
enum class offset_spec {
  earliest,  // the log start
  latest,    // the high watermark
  by_time,   // the first record at or after the timestamp given in the offset field
};

class admin {
 public:
  virtual ~admin() = default;
  // Creates topics; one that exists already is not an error.
  virtual error create_topics(const std::vector<new_topic>& topics, milliseconds timeout) = 0;
  // Partition counts of existing topics; absent topics are missing from the result.
  virtual error partition_counts(const std::vector<std::string>& topics,
                                 std::map<std::string, std::int32_t>& out,
                                 milliseconds timeout) = 0;
  // Every topic on the cluster.
  virtual error list_topics(std::vector<std::string>& out, milliseconds timeout) = 0;
  // Deletes topics; one that does not exist is not an error. kind::unsupported where the
  // broker cannot delete topics.
  virtual error delete_topics(const std::vector<std::string>& topics, milliseconds timeout) = 0;
  // Fills each partition's offset as `spec` says (by_time: the offset field holds the
  // timestamp on the way in; a time after the last record gives the high watermark).
  virtual error list_offsets(std::vector<partition_offset>& inout, offset_spec spec,
                             milliseconds timeout) = 0;
  // Commits offsets for a consumer group that has no active member (the reset tool). A
  // group with members refuses them (on a real cluster).
  virtual error commit_group_offsets(const std::string& group,
                                     const std::vector<partition_offset>& offsets,
                                     milliseconds timeout) = 0;
};

// Makes the clients of one application instance. Properties are librdkafka's names.
class client_factory {
 public:
  virtual ~client_factory() = default;
  virtual std::unique_ptr<consumer> make_consumer(
      const std::map<std::string, std::string>& props) = 0;
  virtual std::unique_ptr<producer> make_producer(
      const std::map<std::string, std::string>& props) = 0;
  virtual std::unique_ptr<admin> make_admin(const std::map<std::string, std::string>& props) = 0;
};

}  // namespace rill::kafka
