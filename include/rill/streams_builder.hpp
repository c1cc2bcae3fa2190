// streams_builder: where a topology starts (Kafka Streams' StreamsBuilder).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <rill/detail/graph.hpp>
#include <rill/detail/nodes.hpp>
#include <rill/options.hpp>
#include <rill/stream.hpp>
#include <rill/topology.hpp>

namespace rill {

class streams_builder {
 public:
  streams_builder() : _graph(std::make_shared<detail::graph>()) {}

  // A stream of the records of `topic`. K = void reads keys as null_key (a keyless stream).
  // Serdes default to the types' own (rill::serde_traits); override them in `c`.
  template <class K, class V>
  rill::stream<detail::key_or_null<K>, V> stream(std::string topic,
                                                 consumed<detail::key_or_null<K>, V> c = {}) {
    return stream<K, V>(std::vector<std::string>{std::move(topic)}, std::move(c));
  }

  // One stream over several topics (records of all of them, in timestamp order per task).
  template <class K, class V>
  rill::stream<detail::key_or_null<K>, V> stream(std::vector<std::string> topics,
                                                 consumed<detail::key_or_null<K>, V> c = {}) {
    using KK = detail::key_or_null<K>;
    if (topics.empty()) throw topology_error("stream(): give at least one topic");
    detail::node_spec spec;
    spec.kind = detail::node_kind::source;
    spec.op = "source";
    spec.name = c.name;
    spec.topics = std::move(topics);
    for (const auto& t : spec.topics) {
      if (t.empty()) throw topology_error("stream(): a topic name is empty");
    }
    // A source without a serde cannot read anything: say so now.
    for (const auto& m : detail::missing_serdes(c.key_serde, c.value_serde,
                                                "pass it in rill::consumed<K, V>{...} or "
                                                "specialize rill::serde_traits<T>")) {
      throw topology_error("source of topic '" + spec.topics[0] + "': " + m);
    }
    spec.factory = [ks = c.key_serde, vs = c.value_serde](
                       const detail::node_args& a) -> std::unique_ptr<detail::node> {
      return std::make_unique<detail::source_node_impl<KK, V>>(a.name, ks, vs);
    };
    return rill::stream<KK, V>(_graph, _graph->add(std::move(spec)));
  }

  // Compiles the graph. Throws topology_error naming the node and the fix.
  topology build() const { return _graph->compile(); }

 private:
  std::shared_ptr<detail::graph> _graph;
};

}  // namespace rill
