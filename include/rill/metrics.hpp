// Metrics of a running app (streams_app::metrics()), under Kafka Streams' names, groups and
// tags, and in Prometheus' text format at GET /metrics when application.server is set
// (docs/operations.md has the table).
//
//   for (const rill::metric& m : app.metrics())
//     if (m.name == "process-rate") fmt::print("{} {}: {}\n", m.group, m.tags, m.value);
//
// metrics.recording.level (info, debug, trace; Rill adds off) chooses what is recorded:
// info the thread, task and app metrics below; debug adds per-task detail; off records
// nothing on the hot path (the app group only), for measuring what recording costs.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace rill {

enum class metric_kind {
  gauge,    // a value now (a rate, an average, a count of things)
  counter,  // a total that only grows while the app lives
};

struct metric {
  std::string name;  // Kafka Streams' name: "process-rate", "commit-latency-avg", ...
  // "stream-thread-metrics", "stream-task-metrics", "stream-metrics"; the clients' (from
  // librdkafka's statistics): "consumer-fetch-manager-metrics", "consumer-metrics",
  // "producer-metrics", "consumer-node-metrics", "producer-node-metrics"
  std::string group;
  // "thread-id", "task-id", "client-id"; the clients' also "topic", "partition", "node-id"
  std::map<std::string, std::string> tags;
  double value = 0;
  metric_kind kind = metric_kind::gauge;
  std::string description;
  // Durations are in milliseconds, as Kafka Streams reports them (Prometheus: seconds).
};

}  // namespace rill
