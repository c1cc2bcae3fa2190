#include <rill/detail/graph.hpp>

#include <fmt/format.h>

#include <rill/topology.hpp>

namespace rill::detail {

int graph::add(node_spec spec) {
  const int index = static_cast<int>(_nodes.size());
  if (spec.name.empty()) spec.name = fmt::format("{}-{:04}", spec.op, index);
  _nodes.push_back(std::move(spec));
  return index;
}

}  // namespace rill::detail
