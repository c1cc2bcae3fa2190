// librdkafka's statistics JSON (the shape of its STATISTICS.md, as librdkafka 2.0 writes it)
// into client_statistics, and from there into the client metrics and their Prometheus names;
// and the librdkafka properties Rill gives the clients by default.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include <rill/rill.hpp>

#include "src/kafka/statistics.hpp"
#include "src/runtime/app_metrics.hpp"
#include "src/runtime/app_settings.hpp"
#include "src/runtime/client_metrics.hpp"

namespace {

using rill::kafka::client_statistics;
using rill::kafka::parse_statistics;

// A group consumer of "orders" (partitions 0, 1 and the empty 3 assigned) on a three-broker
// cluster: one bootstrap entry not yet matched to a broker, broker 1 fetching (long polls,
// ~500 ms), broker 2 seen in metadata but never connected, and the group coordinator's
// logical handle.
constexpr const char* consumer_json = R"json({
  "name": "orders-StreamThread-1-consumer#consumer-1", "client_id": "orders-StreamThread-1-consumer",
  "type": "consumer", "ts": 49677082688, "time": 1796033085, "age": 9003346, "replyq": 0,
  "msg_cnt": 0, "msg_size": 0, "msg_max": 0, "msg_size_max": 0, "simple_cnt": 0,
  "metadata_cache_cnt": 1, "tx": 48, "tx_bytes": 4209, "rx": 46, "rx_bytes": 18382,
  "txmsgs": 0, "txmsg_bytes": 0, "rxmsgs": 1100, "rxmsg_bytes": 5100,
  "brokers": {
    "kafka-0:9092/bootstrap": {
      "name": "kafka-0:9092/bootstrap", "nodeid": -1, "nodename": "kafka-0:9092",
      "source": "configured", "state": "INIT", "tx": 0, "rx": 0, "txerrs": 0, "rxerrs": 0,
      "txretries": 0, "req_timeouts": 0,
      "rtt": {"min": 0, "max": 0, "avg": 0, "sum": 0, "stddev": 0, "p50": 0, "p99": 0, "cnt": 0}
    },
    "kafka-1:9092/1": {
      "name": "kafka-1:9092/1", "nodeid": 1, "nodename": "kafka-1:9092", "source": "learned",
      "state": "UP", "stateage": 9002318, "tx": 21, "txbytes": 1809, "txerrs": 1, "txretries": 2,
      "req_timeouts": 1, "connects": 2, "disconnects": 1, "rx": 20, "rxbytes": 8541, "rxerrs": 3, "rxcorriderrs": 0,
      "int_latency": {"min": 0, "max": 0, "avg": 0, "sum": 0, "cnt": 0},
      "rtt": {"min": 500657, "max": 500735, "avg": 500696, "sum": 1001392, "stddev": 39,
              "p50": 501759, "p75": 501759, "p99": 501759, "outofrange": 0, "hdrsize": 13424,
              "cnt": 2},
      "throttle": {"min": 0, "max": 0, "avg": 0, "sum": 0, "cnt": 0},
      "req": {"Fetch": 13, "ListOffsets": 2, "Metadata": 2},
      "toppars": {"orders-0": {"topic": "orders", "partition": 0}}
    },
    "kafka-2:9092/2": {
      "name": "kafka-2:9092/2", "nodeid": 2, "nodename": "kafka-2:9092", "source": "learned",
      "state": "INIT", "tx": 0, "rx": 0, "txerrs": 0, "rxerrs": 0, "txretries": 0,
      "req_timeouts": 0, "rtt": {"min": 0, "max": 0, "avg": 0, "sum": 0, "cnt": 0},
      "toppars": {}
    },
    "GroupCoordinator": {
      "name": "GroupCoordinator", "nodeid": 1, "nodename": "kafka-1:9092", "source": "logical",
      "state": "UP", "tx": 9, "rx": 9, "txerrs": 0, "rxerrs": 1, "txretries": 0,
      "req_timeouts": 0, "connects": 1, "disconnects": 0, "rtt": {"min": 900, "max": 1200, "avg": 1000, "sum": 3000, "cnt": 3}
    }
  },
  "topics": {
    "orders": {
      "topic": "orders", "age": 9001, "metadata_age": 3000,
      "batchsize": {"min": 0, "max": 0, "avg": 0, "sum": 0, "cnt": 0},
      "partitions": {
        "0": {"partition": 0, "broker": 1, "leader": 1, "desired": true, "unknown": false,
              "fetch_state": "active", "next_offset": 250, "app_offset": 245,
              "committed_offset": 240, "hi_offset": 250, "lo_offset": 0, "consumer_lag": 5,
              "consumer_lag_stored": 10, "rxmsgs": 250},
        "1": {"partition": 1, "broker": 1, "leader": 1, "desired": true, "unknown": false,
              "fetch_state": "active", "app_offset": 300, "committed_offset": 300,
              "hi_offset": 300, "consumer_lag": 0, "rxmsgs": 300},
        "3": {"partition": 3, "broker": 1, "leader": 1, "desired": true, "unknown": false,
              "fetch_state": "active", "next_offset": 0, "app_offset": -1001,
              "committed_offset": -1001, "lo_offset": 0, "hi_offset": 0, "consumer_lag": -1},
        "2": {"partition": 2, "broker": 2, "leader": 2, "desired": false, "unknown": false,
              "fetch_state": "none", "app_offset": -1001, "committed_offset": -1001,
              "hi_offset": -1001, "consumer_lag": -1},
        "-1": {"partition": -1, "broker": -1, "leader": -1, "desired": false, "unknown": false,
               "fetch_state": "none", "app_offset": -1001, "hi_offset": -1001,
               "consumer_lag": -1}
      }
    }
  },
  "cgrp": {"state": "up", "stateage": 9002, "join_state": "steady", "rebalance_cnt": 1,
           "assignment_size": 2}
})json";

// An idempotent producer with records waiting and a failing broker.
constexpr const char* producer_json = R"json({
  "name": "rdkafka#producer-2", "client_id": "orders-StreamThread-1-producer", "type": "producer",
  "ts": 49672068035, "time": 1796033080, "replyq": 7, "msg_cnt": 42, "msg_size": 4200,
  "msg_max": 100000, "msg_size_max": 1073741824, "tx": 10, "tx_bytes": 13368, "rx": 10,
  "rx_bytes": 798, "txmsgs": 1000, "txmsg_bytes": 5000, "rxmsgs": 0, "rxmsg_bytes": 0,
  "brokers": {
    "kafka-1:9092/1": {
      "name": "kafka-1:9092/1", "nodeid": 1, "source": "learned", "state": "UP", "tx": 10,
      "rx": 10, "txerrs": 0, "rxerrs": 0, "txretries": 4, "req_timeouts": 0,
      "rtt": {"min": 800, "max": 3000, "avg": 1500, "sum": 15000, "cnt": 10}
    }
  },
  "topics": {
    "orders-out": {
      "topic": "orders-out", "partitions": {
        "0": {"partition": 0, "leader": 1, "desired": false, "msgq_cnt": 40, "xmit_msgq_cnt": 2,
              "consumer_lag": -1, "txmsgs": 1000},
        "-1": {"partition": -1, "leader": -1, "desired": false, "msgq_cnt": 0,
               "consumer_lag": -1}
      }
    }
  },
  "eos": {"idemp_state": "Assigned", "producer_id": 1000, "producer_epoch": 0, "epoch_cnt": 1}
})json";

const client_statistics::broker* broker(const client_statistics& s, const std::string& name) {
  auto it = std::find_if(s.brokers.begin(), s.brokers.end(),
                         [&](const auto& b) { return b.name == name; });
  return it == s.brokers.end() ? nullptr : &*it;
}

const rill::metric* find(const std::vector<rill::metric>& all, const std::string& group,
                         const std::string& name,
                         const std::map<std::string, std::string>& tags = {}) {
  for (const auto& m : all) {
    if (m.group != group || m.name != name) continue;
    if (std::all_of(tags.begin(), tags.end(), [&](const auto& t) {
          auto it = m.tags.find(t.first);
          return it != m.tags.end() && it->second == t.second;
        }))
      return &m;
  }
  return nullptr;
}

}  // namespace

TEST(client_statistics, a_consumer_reports_the_lag_of_each_partition_it_fetches) {
  auto s = parse_statistics(consumer_json);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->client_id, "orders-StreamThread-1-consumer");
  EXPECT_EQ(s->type, "consumer");
  // Partition -1 is librdkafka's unassigned placeholder; partition 2's lag is not known;
  // partition 3 is empty, which librdkafka reports as an unknown lag too.
  ASSERT_EQ(s->partitions.size(), 3u);
  std::sort(s->partitions.begin(), s->partitions.end(),
            [](const auto& a, const auto& b) { return a.partition < b.partition; });
  EXPECT_EQ(s->partitions[0].topic, "orders");
  EXPECT_EQ(s->partitions[0].partition, 0);
  EXPECT_EQ(s->partitions[0].consumer_lag, 5);
  EXPECT_EQ(s->partitions[1].partition, 1);
  EXPECT_EQ(s->partitions[1].consumer_lag, 0);
  EXPECT_EQ(s->partitions[2].partition, 3);
  EXPECT_EQ(s->partitions[2].consumer_lag, 0);
  EXPECT_EQ(s->messages_received, 1100);
  EXPECT_EQ(s->requests, 48);
  EXPECT_EQ(s->request_bytes, 4209);
  EXPECT_EQ(s->response_bytes, 18382);
}

TEST(client_statistics, brokers_give_round_trips_without_placeholders_or_the_coordinator_handle) {
  auto s = parse_statistics(consumer_json);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(broker(*s, "kafka-0:9092/bootstrap"), nullptr) << "a bootstrap entry with no samples";
  EXPECT_EQ(broker(*s, "GroupCoordinator"), nullptr) << "would count node 1 twice";
  ASSERT_EQ(s->brokers.size(), 2u);
  const auto* one = broker(*s, "kafka-1:9092/1");
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(one->node_id, 1);
  EXPECT_EQ(one->rtt_avg_us, 500696);
  EXPECT_EQ(one->rtt_max_us, 500735);
  EXPECT_EQ(one->rtt_samples, 2);
  EXPECT_EQ(one->requests, 21);
  const auto* two = broker(*s, "kafka-2:9092/2");
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(two->rtt_samples, 0);
  // Errors are summed over every broker handle, the coordinator's included.
  EXPECT_EQ(s->transmit_errors, 1);
  EXPECT_EQ(s->receive_errors, 4);
  EXPECT_EQ(s->request_retries, 2);
  EXPECT_EQ(s->request_timeouts, 1);
  // So are connections: the coordinator's handle keeps a connection of its own.
  EXPECT_EQ(s->connects, 3);
  EXPECT_EQ(s->disconnects, 1);
}

TEST(client_statistics, a_producer_reports_its_queue_and_retries) {
  auto s = parse_statistics(producer_json);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->type, "producer");
  EXPECT_EQ(s->queued_messages, 42);
  EXPECT_EQ(s->queued_bytes, 4200);
  EXPECT_EQ(s->queue_max_bytes, 1073741824);
  EXPECT_EQ(s->messages_sent, 1000);
  EXPECT_EQ(s->request_retries, 4);
  EXPECT_TRUE(s->partitions.empty()) << "a producer's partitions have no lag";
}

TEST(client_statistics, text_that_is_not_a_json_object_gives_nothing) {
  EXPECT_FALSE(parse_statistics("").has_value());
  EXPECT_FALSE(parse_statistics("{\"name\": ").has_value());
  EXPECT_FALSE(parse_statistics("[1, 2]").has_value());
  auto empty = parse_statistics("{}");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->requests, 0);
  EXPECT_TRUE(empty->brokers.empty());
}

TEST(client_metrics, lag_and_round_trips_appear_under_the_java_clients_names) {
  auto consumer = parse_statistics(consumer_json);
  auto producer = parse_statistics(producer_json);
  producer->delivery_errors = 3;
  std::vector<rill::metric> out;
  rill::runtime::append_client_metrics(consumer, producer, out);
  const std::string c = "orders-StreamThread-1-consumer";
  const auto* lag = find(out, "consumer-fetch-manager-metrics", "records-lag",
                         {{"client-id", c}, {"topic", "orders"}, {"partition", "0"}});
  ASSERT_NE(lag, nullptr);
  EXPECT_EQ(lag->value, 5);
  EXPECT_EQ(find(out, "consumer-fetch-manager-metrics", "records-lag-max")->value, 5);
  const auto* node = find(out, "consumer-node-metrics", "request-latency-avg",
                          {{"client-id", c}, {"node-id", "node-1"}});
  ASSERT_NE(node, nullptr);
  EXPECT_DOUBLE_EQ(node->value, 500.696);  // ms
  EXPECT_EQ(find(out, "consumer-node-metrics", "request-latency-avg", {{"node-id", "node-2"}}),
            nullptr)
      << "no round trips to node 2: no latency to report";
  EXPECT_NE(find(out, "consumer-node-metrics", "request-total", {{"node-id", "node-2"}}), nullptr);
  EXPECT_DOUBLE_EQ(find(out, "producer-metrics", "request-latency-max")->value, 3.0);
  EXPECT_EQ(find(out, "producer-metrics", "buffer-queued-records")->value, 42);
  EXPECT_EQ(find(out, "producer-metrics", "record-error-total")->value, 3);
  EXPECT_EQ(find(out, "producer-metrics", "record-error-total")->kind, rill::metric_kind::counter);
  EXPECT_EQ(find(out, "producer-metrics", "record-retry-total")->value, 4);

  const std::string text = rill::runtime::prometheus_text(out);
  EXPECT_NE(text.find("rill_consumer_fetch_manager_records_lag{client=\"" + c +
                      "\",partition=\"0\",topic=\"orders\"} 5\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("rill_consumer_node_request_latency_avg_seconds{client=\"" + c +
                      "\",node=\"node-1\"} 0.50069"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE rill_producer_record_error_total counter\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE rill_producer_buffer_queued_records gauge\n"), std::string::npos)
      << text;
}

TEST(client_metrics, clients_without_statistics_add_nothing) {
  std::vector<rill::metric> out;
  rill::runtime::append_client_metrics(std::nullopt, std::nullopt, out);
  EXPECT_TRUE(out.empty());
}

namespace {

rill::topology pass_through() {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in").to("out");
  return b.build();
}

rill::runtime::app_shared settings(const rill::topology& t,
                                   std::initializer_list<std::pair<std::string, std::string>> kv) {
  rill::config c{{"application.id", "stats"}};
  for (const auto& [k, v] : kv) c.set(k, v);
  return rill::runtime::settings_from(t.compiled(), c);
}

}  // namespace

// The stream threads' own clients get the interval; the shared props (restore, global and
// discovery clients) never carry it.
TEST(client_statistics, clients_report_every_second_unless_told_otherwise) {
  const rill::topology t = pass_through();
  auto s = settings(t, {});
  EXPECT_EQ(s.consumer_statistics_interval, "1000");
  EXPECT_EQ(s.producer_statistics_interval, "1000");
  s = settings(t, {{"metrics.recording.level", "off"}});
  EXPECT_EQ(s.consumer_statistics_interval, "0");
  s = settings(t, {{"statistics.interval.ms", "250"}, {"producer.statistics.interval.ms", "5000"}});
  EXPECT_EQ(s.consumer_statistics_interval, "250");
  EXPECT_EQ(s.producer_statistics_interval, "5000");
  EXPECT_FALSE(s.producer_props.contains("statistics.interval.ms"));
  s = settings(t, {{"metrics.recording.level", "off"}, {"consumer.statistics.interval.ms", "100"}});
  EXPECT_EQ(s.consumer_statistics_interval, "100");
  EXPECT_EQ(s.producer_statistics_interval, "0");
  EXPECT_FALSE(s.consumer_props.contains("statistics.interval.ms"));
}

// The librdkafka properties Rill gives a stream thread's clients (docs/config.md lists them),
// and a `consumer.` or `producer.` property overriding each.
TEST(client_defaults, a_stream_thread_fetches_without_waiting_out_librdkafkas_half_second) {
  const rill::topology t = pass_through();
  auto s = settings(t, {});
  EXPECT_EQ(s.consumer_props.at("fetch.wait.max.ms"), "100");
  EXPECT_EQ(s.consumer_props.at("socket.nagle.disable"), "true");
  EXPECT_EQ(s.producer_props.at("socket.nagle.disable"), "true");
  EXPECT_FALSE(s.producer_props.contains("fetch.wait.max.ms"));
  s = settings(t,
               {{"consumer.fetch.wait.max.ms", "500"}, {"consumer.socket.nagle.disable", "false"}});
  EXPECT_EQ(s.consumer_props.at("fetch.wait.max.ms"), "500");
  EXPECT_EQ(s.consumer_props.at("socket.nagle.disable"), "false");
  EXPECT_EQ(s.producer_props.at("socket.nagle.disable"), "true");
}
