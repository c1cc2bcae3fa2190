// The client metrics (include/rill/metrics.hpp) of one stream thread, from its consumer's and
// producer's latest librdkafka statistics, under the Java clients' groups, names and tags:
// consumer-fetch-manager-metrics (records-lag per partition), consumer-metrics /
// producer-metrics (requests, errors, the producer's queue), and consumer-node-metrics /
// producer-node-metrics (round trips per broker). docs/operations.md has the table.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <rill/metrics.hpp>

#include "src/kafka/statistics.hpp"

namespace rill::runtime {

// Appends metrics of one group and one set of tags.
struct metric_emitter {
  std::vector<metric>& out;
  std::string group;
  std::map<std::string, std::string> tags;
  void gauge(const char* name, double v, const char* help) {
    out.push_back({name, group, tags, v, metric_kind::gauge, help});
  }
  void counter(const char* name, double v, const char* help) {
    out.push_back({name, group, tags, v, metric_kind::counter, help});
  }
};

// Appends to `out`; a client without statistics adds nothing.
void append_client_metrics(const std::optional<kafka::client_statistics>& consumer,
                           const std::optional<kafka::client_statistics>& producer,
                           std::vector<metric>& out);

}  // namespace rill::runtime
