// rill/clients.hpp: typed writers and readers for tools, examples and tests.
#include <rill/clients.hpp>

#include <thread>

#include <fmt/format.h>

#include <rill/errors.hpp>

#include "src/runtime/cluster.hpp"

namespace rill::detail {

namespace {
std::string control_of(std::map<std::string, std::string>& props) {
  auto it = props.find("broker.control");
  if (it == props.end()) return "";
  std::string out = it->second;
  props.erase(it);
  return out;
}
}  // namespace

struct byte_writer::impl {
  runtime::cluster_connection cluster;
  std::unique_ptr<kafka::producer> producer;
};

byte_writer::byte_writer(const std::string& bootstrap_servers,
                         const std::map<std::string, std::string>& props)
    : _impl(std::make_unique<impl>()) {
  auto p = props;
  _impl->cluster = runtime::connect_cluster(bootstrap_servers, control_of(p));
  p.emplace("partitioner", "murmur2_random");
  _impl->producer = _impl->cluster.clients->make_producer(p);
}

byte_writer::~byte_writer() = default;

void byte_writer::send(const std::string& topic, std::int32_t partition,
                       std::optional<bytes_view> key, std::optional<bytes_view> value,
                       const rill::headers& headers, timestamp_ms timestamp) {
  if (kafka::error e = _impl->producer->send(topic, partition, key, value, headers, timestamp)) {
    throw error(fmt::format("topic_writer: {}", e.message()));
  }
}

void byte_writer::flush(std::chrono::milliseconds timeout) {
  if (kafka::error e = _impl->producer->flush(timeout))
    throw error(fmt::format("topic_writer: {}", e.message()));
}

struct byte_reader::impl {
  runtime::cluster_connection cluster;
  std::unique_ptr<kafka::consumer> consumer;
  std::vector<kafka::consumed_record> batch;
};

byte_reader::byte_reader(const std::string& bootstrap_servers, const std::string& topic,
                         const std::map<std::string, std::string>& props)
    : _impl(std::make_unique<impl>()) {
  auto p = props;
  _impl->cluster = runtime::connect_cluster(bootstrap_servers, control_of(p));
  auto admin = _impl->cluster.clients->make_admin({});
  std::map<std::string, std::int32_t> counts;
  // A topic an app is about to write may not exist yet: wait for it a while.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!counts.contains(topic)) {
    if (kafka::error e = admin->partition_counts({topic}, counts, std::chrono::seconds(10));
        e && !e.retriable()) {
      throw error(fmt::format("topic_reader: {}", e.message()));
    }
    if (counts.contains(topic)) break;
    if (std::chrono::steady_clock::now() > deadline) {
      throw error(fmt::format("topic_reader: topic '{}' does not exist", topic));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  p.emplace("group.id", "rill-topic-reader");  // required by librdkafka; no group is joined
  p.emplace("enable.auto.commit", "false");
  p.emplace("enable.partition.eof", "false");
  _impl->consumer = _impl->cluster.clients->make_consumer(p);
  std::vector<kafka::partition_offset> all;
  for (std::int32_t i = 0; i < counts.at(topic); ++i) all.push_back({{topic, i}, -1});
  if (kafka::error e = _impl->consumer->assign(all))
    throw error(fmt::format("topic_reader: {}", e.message()));
}

byte_reader::~byte_reader() = default;

std::vector<raw_kafka_record> byte_reader::poll(std::chrono::milliseconds timeout,
                                                std::size_t max) {
  _impl->batch.clear();
  if (kafka::error e = _impl->consumer->poll(timeout, max, _impl->batch);
      e && e.type() == kafka::error::kind::fatal) {
    throw error(fmt::format("topic_reader: {}", e.message()));
  }
  std::vector<raw_kafka_record> out;
  for (auto& r : _impl->batch) {
    raw_kafka_record c;
    if (r.raw.key) c.key.emplace(r.raw.key->begin(), r.raw.key->end());
    if (r.raw.value) c.value.emplace(r.raw.value->begin(), r.raw.value->end());
    c.timestamp = r.raw.timestamp;
    c.headers = std::move(r.raw.headers);
    c.partition = r.raw.partition;
    c.offset = r.raw.offset;
    out.push_back(std::move(c));
  }
  return out;
}

void create_topic(const std::string& bootstrap_servers, const std::string& topic,
                  std::int32_t partitions, const std::map<std::string, std::string>& props) {
  auto p = props;
  auto cluster = runtime::connect_cluster(bootstrap_servers, control_of(p));
  auto admin = cluster.clients->make_admin(p);
  if (kafka::error e =
          admin->create_topics({{topic, partitions, -1, {}}}, std::chrono::seconds(30))) {
    throw error(fmt::format("create_topic '{}': {}", topic, e.message()));
  }
}

}  // namespace rill::detail
