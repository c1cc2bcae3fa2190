// A built topology: the graph compiled into subtopologies with every node, internal topic
// and store named. Immutable and cheap to copy; hand it to a streams_app or a test driver.
#pragma once

#include <memory>
#include <string>

namespace rill {

namespace detail {
struct compiled_topology;
}

class topology {
 public:
  explicit topology(std::shared_ptr<const detail::compiled_topology> impl)
      : _impl(std::move(impl)) {}

  // Subtopologies with their sources, processors, sinks and stores, one node per line, in
  // the format of Kafka Streams' Topology.describe(). Internal topics appear without the
  // application id prefix.
  std::string describe() const;
  // The same graph in Graphviz DOT (`dot -Tsvg`), one cluster per subtopology.
  std::string to_dot() const;

  const detail::compiled_topology& compiled() const noexcept { return *_impl; }

 private:
  std::shared_ptr<const detail::compiled_topology> _impl;
};

}  // namespace rill
