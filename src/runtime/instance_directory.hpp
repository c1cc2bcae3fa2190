// Discovery: which instance of an app holds which partitions, so that a query for a key can
// be sent to the instance whose active task has it (Kafka Streams' application.server and
// queryMetadataForKey).
//
// Kafka Streams carries each instance's host:port in its assignor's user data; librdkafka has
// no custom assignors, so Rill uses a topic instead: `<application.id>-instances`, one
// partition, compacted. Each instance with application.server set writes a record keyed by
// its host:port whenever its assignment settles (every thread running again after a
// rebalance), listing the source partitions its active tasks read, and a tombstone when it
// closes. Every instance reads the topic from the start, all the time, on a thread of its
// own. The topic has one partition, so its order is one order for everybody: a partition
// belongs to the instance that claimed it last, and an instance's new record drops the
// claims it no longer makes. An instance that died without its tombstone keeps its claims
// until their new owners write theirs (after the rebalance that follows its death).
//
// The record's value is text, one line per partition: "<topic> <partition>".
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <rill/queries.hpp>

#include "src/kafka/client.hpp"
#include "src/log/log.hpp"
#include "topology/compiled.hpp"

namespace rill::runtime {

class instance_directory {
 public:
  using partitions = std::set<kafka::topic_partition>;

  // `self`: this instance's host:port. Reads `topic` (which must exist) from the start.
  instance_directory(kafka::client_factory& clients, std::map<std::string, std::string> props,
                     std::string topic, std::string self, std::string name, log::logger log);
  ~instance_directory();
  instance_directory(const instance_directory&) = delete;
  instance_directory& operator=(const instance_directory&) = delete;

  void start();
  // Writes this instance's tombstone (bounded by `timeout`) and stops reading.
  void stop(std::chrono::milliseconds timeout);

  // Announces the partitions this instance's active tasks read now (sent if they changed).
  void publish(const partitions& active);

  // What the topic says, as read so far: each instance with the partitions it holds.
  std::map<std::string, partitions> instances() const;
  // The instance holding `tp`, if any claims it.
  std::optional<std::string> owner(const kafka::topic_partition& tp) const;
  const std::string& self() const noexcept { return _self; }
  // How many records have been read (tests wait on it).
  std::uint64_t records_read() const noexcept { return _read.load(); }

  static std::string encode(const partitions& ps);
  static partitions decode(std::string_view text);

 private:
  void apply(const std::string& server, const std::optional<partitions>& claimed);
  void run();

  std::string _topic;
  std::string _self;
  std::string _name;
  log::logger _log;
  std::unique_ptr<kafka::consumer> _consumer;
  std::unique_ptr<kafka::producer> _producer;
  mutable std::mutex _mutex;
  std::map<kafka::topic_partition, std::string> _owner;  // partition -> host:port
  std::set<std::string> _servers;                        // every instance with a record
  std::optional<partitions> _published;                  // what this instance said last
  std::atomic<bool> _stop{false};
  std::atomic<std::uint64_t> _read{0};
  std::thread _thread;
};

// The directory's topic for an app: `<application.id>-instances`.
std::string instances_topic(const std::string& application_id);
// Creates it (one partition, compacted) unless it exists.
void create_instances_topic(kafka::admin& admin, const std::string& topic,
                            std::int32_t replication_factor);

// What an app answers from its directory (null: application.server is not set).
// `partition_counts`: resolved topic -> partitions, as the app's threads use them.
key_metadata key_owner(const instance_directory* directory, const detail::compiled_topology& topo,
                       const std::string& application_id,
                       const std::map<std::string, std::int32_t>& partition_counts,
                       const std::string& store, bytes_view key);
std::vector<instance_metadata> every_instance(const instance_directory* directory,
                                              const detail::compiled_topology& topo,
                                              const std::string& application_id);

}  // namespace rill::runtime
