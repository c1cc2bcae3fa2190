#include <rill/detail/graph.hpp>

#include <fmt/format.h>

#include <rill/errors.hpp>
#include <rill/topology.hpp>

namespace rill::detail {

int graph::add(node_spec spec) {
  const int index = static_cast<int>(_nodes.size());
  if (spec.name.empty()) spec.name = fmt::format("{}-{:04}", spec.op, index);
  _nodes.push_back(std::move(spec));
  return index;
}

void graph::add_store(store_spec spec) {
  if (spec.name.empty()) throw topology_error("add_state_store: the store needs a name");
  for (const auto& s : _stores) {
    if (s.name == spec.name) {
      throw topology_error(
          fmt::format("two stores are named '{}'; give one of them another name", spec.name));
    }
  }
  _stores.push_back(std::move(spec));
}

}  // namespace rill::detail
