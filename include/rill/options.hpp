// Options for DSL operations, named as in Kafka Streams (Named, Consumed, Produced,
// Repartitioned). Fields are public and default to the types' default serdes, so
// `rill::produced<K, V>{.value_serde = my_serde{}}` overrides just one thing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <rill/serde.hpp>

namespace rill {

// An explicit name for the node an operation adds. Explicit names keep internal topics and
// stores stable when the topology changes; generated names follow the node's position.
struct named {
  std::string name;
  named() = default;
  named(std::string n) : name(std::move(n)) {}  // NOLINT: implicit, so "x" works
  named(const char* n) : name(n) {}             // NOLINT
};

// Picks a partition for a record: (topic, key, value, partition count) -> partition, or
// nullopt for the default (murmur2 of the serialized key, as Kafka's Java producer).
template <class K, class V>
using stream_partitioner = std::function<std::optional<std::int32_t>(
    std::string_view topic, const K&, const V&, std::int32_t partitions)>;

// How a source reads its topic.
template <class K, class V>
struct consumed {
  any_serde<K> key_serde = default_serde<K>();
  any_serde<V> value_serde = default_serde<V>();
  std::string name;  // the source node's name
};

// How a sink writes its topic.
template <class K, class V>
struct produced {
  any_serde<K> key_serde = default_serde<K>();
  any_serde<V> value_serde = default_serde<V>();
  stream_partitioner<K, V> partitioner;
  std::string name;  // the sink node's name
};

// An explicit repartition through an internal topic `<application.id>-<name>-repartition`.
template <class K, class V>
struct repartitioned {
  any_serde<K> key_serde = default_serde<K>();
  any_serde<V> value_serde = default_serde<V>();
  std::string name;                        // names the topic and its nodes
  std::optional<std::int32_t> partitions;  // default: as many as the upstream source topics
  stream_partitioner<K, V> partitioner;
};

}  // namespace rill
