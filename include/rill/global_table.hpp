// global_table<K, V> (Kafka Streams' GlobalKTable): a table every app instance holds in full,
// read from all partitions of its topic by the app's global thread (no consumer group, no
// repartition, no co-partitioning), restored before any stream task processes and kept up
// to date while the app runs. Its topic is its changelog. Streams join it by a key they
// compute per record:
//
//   auto products = builder.global_table<std::string, product>("products");
//   orders.join(products, [](const std::string&, const order& o) { return o.product; },
//               [](const order& o, const product& p) { return o.quantity * p.price; });
#pragma once

#include <memory>
#include <string>
#include <utility>

#include <rill/detail/graph.hpp>

namespace rill {

class streams_builder;
template <class K, class V>
class stream;

template <class K, class V>
class global_table {
 public:
  using key_type = K;
  using value_type = V;

  // The store holding the table (rill::key_value_store<K, V>).
  const std::string& store_name() const noexcept { return _store; }

 private:
  friend class streams_builder;
  template <class, class>
  friend class stream;
  global_table(std::shared_ptr<detail::graph> g, std::string store)
      : _graph(std::move(g)), _store(std::move(store)) {}

  std::shared_ptr<detail::graph> _graph;
  std::string _store;
};

}  // namespace rill
