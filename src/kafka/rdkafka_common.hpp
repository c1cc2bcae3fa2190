// What the librdkafka implementations of the client interfaces share: the one place
// librdkafka's codes become kafka::error kinds, configurations, client handles, partition
// lists. Private to src/kafka.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/kafka/client.hpp"
#include "src/kafka/rdkafka_client.hpp"
#include "src/kafka/rdkafka_handles.hpp"

namespace rill::kafka {

error::kind classify(rd_kafka_resp_err_t code);
error from_code(rd_kafka_resp_err_t code, std::string_view what);
// Transactional and other rd_kafka_error_t results: they say themselves whether an error is
// fatal, retriable or needs an abort. Takes ownership of `raw`.
error from_error(rd_kafka_error_t* raw, std::string_view what);
// A configuration from properties; throws rill::config_error naming a bad one.
rk_ptr<rd_kafka_conf_t> make_conf(const std::map<std::string, std::string>& props);
// "<what>'key' = 'value': <librdkafka's error>", with [redacted] for a secret's value and
// every secret of `props` scrubbed from librdkafka's text.
std::string property_error(std::string_view what, const std::string& key, const std::string& value,
                           const char* librdkafka_error,
                           const std::map<std::string, std::string>& props);
// librdkafka's own log lines go to Rill's logger (source=librdkafka).
void route_logs(rd_kafka_conf_t* conf);
// A client logging through Rill's logger; throws rill::config_error.
rk_ptr<rd_kafka_t> make_client(rd_kafka_type_t type, rk_ptr<rd_kafka_conf_t> conf);
rk_ptr<rd_kafka_topic_partition_list_t> to_list(const std::vector<topic_partition>& parts);
rk_ptr<rd_kafka_topic_partition_list_t> to_list(const std::vector<partition_offset>& offsets);
std::vector<topic_partition> from_list(const rd_kafka_topic_partition_list_t* list);
// The first per-partition error of a list, if any.
error list_error(const rd_kafka_topic_partition_list_t* list, std::string_view what);

// A consumer's group metadata, made by the consumer, read by send_offsets_to_transaction.
class rdkafka_group_metadata final : public group_metadata {
 public:
  explicit rdkafka_group_metadata(rd_kafka_consumer_group_metadata_t* m) : handle(m) {}
  rk_ptr<rd_kafka_consumer_group_metadata_t> handle;
};

// Each partition's low (`high` false) or high watermark, asked of its leader.
error query_watermarks(rd_kafka_t* rk, std::vector<partition_offset>& inout, bool high,
                       milliseconds timeout);

// The latest statistics of a client: stored by librdkafka's stats callback (on the thread that
// polls the client), read from any thread.
class statistics_slot {
 public:
  // Parses librdkafka's JSON; a document that does not parse leaves the last one in place.
  void store(const rd_kafka_t* rk, std::string_view json);
  std::optional<client_statistics> load() const;

 private:
  mutable std::mutex _mutex;
  std::optional<client_statistics> _latest;
};

std::unique_ptr<consumer> make_rdkafka_consumer(const std::map<std::string, std::string>& props);
std::unique_ptr<producer> make_rdkafka_producer(const std::map<std::string, std::string>& props);
// One admin for every broker kind: topics are created through the Admin API, directly on the
// in-process mock, or through a rill-broker's control port, as `target` says.
std::unique_ptr<admin> make_rdkafka_admin(const cluster_target& target,
                                          const std::map<std::string, std::string>& props);

}  // namespace rill::kafka
