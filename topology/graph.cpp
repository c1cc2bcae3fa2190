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

namespace {
template <class Stores, class Globals>
void check_free(const std::string& name, const Stores& stores, const Globals& globals) {
  bool taken = false;
  for (const auto& s : stores) taken = taken || s.name == name;
  for (const auto& g : globals) taken = taken || g.store.name == name;
  if (taken) {
    throw topology_error(
        fmt::format("two stores are named '{}'; give one of them another name", name));
  }
}
}  // namespace

void graph::add_store(store_spec spec) {
  if (spec.name.empty()) throw topology_error("add_state_store: the store needs a name");
  check_free(spec.name, _stores, _globals);
  _stores.push_back(std::move(spec));
}

void graph::add_global(global_spec spec) {
  check_free(spec.store.name, _stores, _globals);
  for (const auto& g : _globals) {
    if (g.topic == spec.topic) {
      throw topology_error(fmt::format(
          "topic '{}' is read by two global tables ('{}' and '{}'); read it once and reuse the "
          "handle",
          spec.topic, g.store.name, spec.store.name));
    }
  }
  _globals.push_back(std::move(spec));
}

}  // namespace rill::detail
