// librdkafka's statistics JSON (STATISTICS.md) into client_statistics, with simdjson's DOM:
// the document is small (a few KB, once per statistics.interval.ms) and its fields come in
// no promised order.
#include "src/kafka/statistics.hpp"

#include <simdjson.h>

namespace rill::kafka {

namespace {

namespace dom = simdjson::dom;

std::int64_t int_at(const dom::object& o, std::string_view key, std::int64_t absent = 0) {
  std::int64_t v = 0;
  if (o[key].get_int64().get(v) != simdjson::SUCCESS) return absent;
  return v;
}

std::string_view string_at(const dom::object& o, std::string_view key) {
  std::string_view v;
  if (o[key].get_string().get(v) != simdjson::SUCCESS) return {};
  return v;
}

// Every member of `o[key]` that is an object, with its name.
template <class F>
void for_each_object(const dom::object& o, std::string_view key, F f) {
  dom::object members;
  if (o[key].get_object().get(members) != simdjson::SUCCESS) return;
  for (auto [name, value] : members) {
    dom::object member;
    if (value.get_object().get(member) == simdjson::SUCCESS) f(name, member);
  }
}

void read_brokers(const dom::object& root, client_statistics& out) {
  for_each_object(root, "brokers", [&](std::string_view name, const dom::object& b) {
    out.transmit_errors += int_at(b, "txerrs");
    out.receive_errors += int_at(b, "rxerrs");
    out.request_retries += int_at(b, "txretries");
    out.request_timeouts += int_at(b, "req_timeouts");
    out.connects += int_at(b, "connects");
    out.disconnects += int_at(b, "disconnects");
    // The group coordinator's logical handle carries its broker's node id and would count
    // that node twice; the internal pseudo-broker talks to nobody.
    const std::string_view source = string_at(b, "source");
    if (source == "logical" || source == "internal") return;
    client_statistics::broker br;
    br.name = std::string(name);
    br.node_id = static_cast<std::int32_t>(int_at(b, "nodeid"));
    dom::object rtt;
    if (b["rtt"].get_object().get(rtt) == simdjson::SUCCESS) {
      br.rtt_avg_us = int_at(rtt, "avg");
      br.rtt_max_us = int_at(rtt, "max");
      br.rtt_samples = int_at(rtt, "cnt");
    }
    // A bootstrap placeholder (node id -1) is only worth a line while it answers requests.
    if (br.node_id < 0 && br.rtt_samples == 0) return;
    br.requests = int_at(b, "tx");
    br.responses = int_at(b, "rx");
    out.brokers.push_back(std::move(br));
  });
}

void read_partitions(const dom::object& root, client_statistics& out) {
  for_each_object(root, "topics", [&](std::string_view topic, const dom::object& t) {
    for_each_object(t, "partitions", [&](std::string_view, const dom::object& p) {
      const std::int64_t id = int_at(p, "partition");
      std::int64_t lag = int_at(p, "consumer_lag");
      // librdkafka knows no lag before the consumer has an offset for the partition, which
      // an empty one never gives it: nothing there is nothing behind.
      const std::int64_t high = int_at(p, "hi_offset", -1);
      if (lag < 0 && high >= 0 && int_at(p, "lo_offset", -1) == high) lag = 0;
      if (id < 0 || lag < 0) return;  // the unassigned placeholder; a lag not known
      out.partitions.push_back({std::string(topic), static_cast<std::int32_t>(id), lag});
    });
  });
}

}  // namespace

std::optional<client_statistics> parse_statistics(std::string_view json) {
  dom::parser parser;
  dom::object root;
  if (parser.parse(json.data(), json.size()).get_object().get(root) != simdjson::SUCCESS)
    return std::nullopt;
  client_statistics out;
  out.client_id = std::string(string_at(root, "client_id"));
  out.type = std::string(string_at(root, "type"));
  out.queued_messages = int_at(root, "msg_cnt");
  out.queued_bytes = int_at(root, "msg_size");
  out.queue_max_bytes = int_at(root, "msg_size_max");
  out.requests = int_at(root, "tx");
  out.responses = int_at(root, "rx");
  // librdkafka 2.0 writes tx_bytes / rx_bytes at the top level; STATISTICS.md says txbytes.
  out.request_bytes = root["tx_bytes"].error() ? int_at(root, "txbytes") : int_at(root, "tx_bytes");
  out.response_bytes =
      root["rx_bytes"].error() ? int_at(root, "rxbytes") : int_at(root, "rx_bytes");
  out.messages_sent = int_at(root, "txmsgs");
  out.messages_received = int_at(root, "rxmsgs");
  read_brokers(root, out);
  read_partitions(root, out);
  return out;
}

}  // namespace rill::kafka
