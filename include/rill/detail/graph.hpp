// The DSL's graph, as the typed handles build it. Each DSL call appends one node_spec and
// returns a handle that points at it; streams_builder::build() hands the graph to the
// topology compiler (topology/), which names, checks, inserts repartitions and splits it
// into subtopologies. Nothing here runs records.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rill/detail/node.hpp>
#include <rill/state_store.hpp>

namespace rill {
class topology;
}

namespace rill::detail {

// What a factory gets to make one task's instance of a node.
struct node_args {
  std::string name;
  std::vector<std::string> topics;  // source: subscribed topics; sink: its topic (resolved)
};

using node_factory = std::function<std::unique_ptr<node>(const node_args&)>;

enum class node_kind {
  source,       // reads topics
  processor,    // typed records in, typed records out (or none)
  sink,         // writes a topic
  repartition,  // an explicit repartition: the compiler turns it into sink + topic + source
};

// The typed halves of a repartition, made where the key and value types are known.
struct repartition_parts {
  node_factory sink;    // writes the repartition topic
  node_factory source;  // reads it back in the next subtopology
  std::optional<std::int32_t> partitions;
  // Why no repartition is possible ("no key serde for type 'X'"); empty when it is.
  std::vector<std::string> missing_serdes;
  std::string fix;  // what the user should do about missing serdes
};

struct node_spec {
  node_kind kind = node_kind::processor;
  std::string op;    // "filter", "map-values", ...: describe() and generated names
  std::string name;  // explicit, or empty to be generated from op and position
  std::vector<int> parents;
  node_factory factory;             // unused for repartition nodes
  std::vector<std::string> topics;  // source: subscribed; sink: its fixed topic
  bool internal_topics = false;     // the topics are internal (feedback): prefixed with the app id
  std::string topic_chooser;        // sink without a fixed topic: what describe() prints
  bool changes_key = false;         // output keys may differ from input keys
  // Grouping and joins: records must arrive partitioned by their current key, so an
  // upstream key change makes the compiler insert a repartition before this node.
  bool needs_copartitioned_input = false;
  std::shared_ptr<repartition_parts> repartition;  // for repartition nodes and the above
  // Joins: the nodes of the other side, whose input must be co-partitioned with this one's.
  std::vector<int> copartition_with;
  std::string repartition_name;  // names an inserted repartition (default: this node's name)
  std::vector<std::string> stores;
  // Sinks: serdes this node lacks, each with the fix; build() fails if any.
  std::vector<std::string> missing_serdes;
};

// A global table: its store, filled from its topic's bytes as they are (the topic is its
// changelog) by the app's global thread, and read by any task.
struct global_spec {
  store_spec store;
  std::string topic;
};

class graph {
 public:
  // Appends a node; returns its index. Generated names are "<op>-<index, 4 digits>".
  int add(node_spec spec);
  node_spec& at(int index) { return _nodes.at(static_cast<std::size_t>(index)); }
  const std::vector<node_spec>& nodes() const noexcept { return _nodes; }
  // Declares a store; throws topology_error if the name is taken.
  void add_store(store_spec spec);
  const std::vector<store_spec>& stores() const noexcept { return _stores; }
  // Declares a global table's store; throws topology_error if the name is taken.
  void add_global(global_spec spec);
  const std::vector<global_spec>& globals() const noexcept { return _globals; }
  // Compiles; throws topology_error. Defined in topology/compiler.cpp.
  rill::topology compile() const;

 private:
  std::vector<node_spec> _nodes;
  std::vector<store_spec> _stores;
  std::vector<global_spec> _globals;
};

}  // namespace rill::detail
