// Partition counts of a topology's internal topics, derived as Kafka Streams does: a
// repartition topic has the count it was given, else as many partitions as the largest
// source topic of the subtopology that writes it. Shared by the app and the test driver.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "src/kafka/client.hpp"
#include "topology/compiled.hpp"

namespace rill::runtime {

// `count_of(resolved name)` gives the partition count of a user topic (nullopt: unknown).
// Returns resolved internal topic name -> partitions. Throws rill::error when a count
// cannot be derived (an unknown source topic).
std::map<std::string, std::int32_t> internal_partition_counts(
    const detail::compiled_topology& topology, std::string_view application_id,
    const std::function<std::optional<std::int32_t>(const std::string&)>& count_of);

// Throws rill::error naming the topics when co-partitioned topics (those feeding one
// grouping or join) differ in partition count.
void check_copartitioning(const detail::compiled_topology& topology,
                          std::string_view application_id,
                          const std::function<std::int32_t(const std::string&)>& count_of);

// The number of tasks of a subtopology: the largest partition count of its source topics.
std::int32_t task_count(const detail::subtopology_def& sub, std::string_view application_id,
                        const std::function<std::int32_t(const std::string&)>& count_of);

// Before an app starts: checks that its source topics and its named sink topics exist,
// derives and checks partition counts (co-partitioning included), and creates the internal
// topics (changelogs compacted, the rest deleted by time) or checks the ones that exist.
// Returns the partition count of every topic the app reads, writes to by name, or keeps
// internally (resolved names). Throws rill::error naming the topic and the fix.
std::map<std::string, std::int32_t> prepare_topics(kafka::admin& admin,
                                                   const detail::compiled_topology& topology,
                                                   const std::string& application_id,
                                                   std::int32_t replication_factor,
                                                   const std::string& bootstrap_servers,
                                                   std::int64_t windowed_extra_retention_ms);

}  // namespace rill::runtime
