// The compiled form of a topology, as the runtime and the test driver read it.
// Produced once by the compiler (compiler.cpp); immutable afterwards.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rill/detail/graph.hpp>

namespace rill::detail {

// A topic as the topology names it. Internal topics (repartition, changelog) get the
// application id as prefix at run time: "<application.id>-<name>".
struct topic_ref {
  std::string name;
  bool internal = false;
  bool operator==(const topic_ref&) const = default;
};

std::string resolve_topic(std::string_view application_id, const topic_ref& t);

struct compiled_node {
  std::string name;
  node_kind kind = node_kind::processor;  // never repartition: those are expanded
  std::string op;
  std::vector<int> parents;
  std::vector<int> children;  // in node order
  node_factory factory;
  std::vector<topic_ref> topics;  // source: subscribed; sink: its topic (none with a chooser)
  std::string topic_chooser;
  std::vector<std::string> stores;
  int subtopology = -1;
  bool feedback = false;  // reads or writes a feedback topic (a loop on purpose)
};

struct subtopology_def {
  int id = 0;
  std::vector<int> nodes;  // parents before children
  std::vector<topic_ref> source_topics;
  std::vector<topic_ref> sink_topics;
  std::vector<std::string> stores;
  // Topics whose partition p must meet in one task (they feed a grouping or a join):
  // their partition counts must be equal, which the runtime checks at start.
  std::vector<std::vector<topic_ref>> copartition_groups;
};

struct internal_topic_def {
  enum class kind { repartition, changelog, feedback };
  std::string name;  // without the application id
  kind type = kind::repartition;
  std::optional<std::int32_t> partitions;  // unset: as many as the writing subtopology's sources
  int written_by = -1;                     // subtopology
  int read_by = -1;                        // subtopology, -1 if none
  std::int64_t retention_ms = 0;           // changelog of a window or session store: its retention
};

struct compiled_store {
  store_spec spec;
  int subtopology = -1;
  topic_ref changelog;  // `<name>-changelog`, internal; unused when logging is off
};

struct compiled_topology {
  std::vector<compiled_node> nodes;
  std::vector<compiled_store> stores;  // those some node uses
  std::vector<subtopology_def> subtopologies;
  std::vector<internal_topic_def> internal_topics;
  std::vector<global_spec> globals;  // global tables: not in any subtopology

  const compiled_node& node(int i) const { return nodes.at(static_cast<std::size_t>(i)); }
  // The subtopology reading `topic` (unresolved name), or -1.
  int subtopology_of_source(const topic_ref& topic) const;
  const internal_topic_def* internal_topic(std::string_view name) const;
  const compiled_store* store(std::string_view name) const;
  const global_spec* global(std::string_view store) const;
};

}  // namespace rill::detail
