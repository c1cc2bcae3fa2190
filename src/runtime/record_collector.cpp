#include "src/runtime/record_collector.hpp"

#include <fmt/format.h>

#include <rill/errors.hpp>

#include "src/runtime/partitioner.hpp"

namespace rill::runtime {

void record_collector::send(std::string_view topic, std::int32_t partition,
                            std::optional<bytes_view> key, std::optional<bytes_view> value,
                            const rill::headers& headers, timestamp_ms timestamp) {
  // A record the producer places (keyed or not) asks for its topic's partitions, so a topic
  // the cluster does not have fails here, at once, rather than at delivery. Records with a
  // partition (changelogs, repartition topics: Rill's own) skip the lookup.
  if (partition < 0) {
    const std::int32_t count = partition_count(topic);
    if (key) partition = default_partition(*key, count);
  }
  begin_transaction_if_needed();
  if (kafka::error e = _producer->send(topic, partition, key, value, headers, timestamp))
    throw send_failed(std::move(e));
  ++_sent;
}

void record_collector::begin_transaction_if_needed() {
  if (!_transactional || _in_transaction) return;
  if (kafka::error e = _producer->begin_transaction()) throw send_failed(std::move(e));
  _in_transaction = true;
}

std::int32_t record_collector::look_up_partition_count(std::string_view topic) {
  if (auto it = _partitions.find(topic); it != _partitions.end()) {
    _last = &*it;
    return it->second;
  }
  std::int32_t n = 0;
  if (kafka::error e = _producer->partition_count(topic, n, std::chrono::seconds(10))) {
    if (e.code() == kafka::error::unknown_topic) {
      // Not something retrying fixes: Rill creates only its internal topics.
      throw send_failed(kafka::error(
          kafka::error::kind::fatal, e.code(),
          fmt::format("cannot send to topic '{}': it does not exist; create it (Rill creates "
                      "only its internal topics) or fix the topic chooser",
                      topic)));
    }
    throw send_failed(kafka::error(
        kafka::error::kind::retriable, e.code(),
        fmt::format("cannot learn the partition count of topic '{}': {}", topic, e.message())));
  }
  _last = &*_partitions.emplace(std::string(topic), n).first;
  return n;
}

}  // namespace rill::runtime
