// Feedback topics: deliberate loops through an internal topic (streams_builder::feedback).
#pragma once

#include <memory>
#include <string>

#include <rill/detail/dsl_support.hpp>
#include <rill/stream.hpp>

namespace rill {

// A feedback topic: an internal topic `<application.id>-<name>-feedback` that part of a
// topology writes and an earlier part reads, e.g. to route a step of a saga to another key
// (the bank example sends a transfer's credit leg to the target account this way). A
// subtopology may write a feedback topic it reads itself; any other loop through a topic is a
// topology_error. Make one with streams_builder::feedback, read it with stream(), and write
// it with some_stream.to(feedback).
template <class K, class V>
class feedback {
 public:
  rill::stream<K, V> stream() const { return rill::stream<K, V>(_graph, _source); }
  const std::string& topic() const noexcept { return _topic; }

 private:
  friend class streams_builder;
  template <class, class>
  friend class rill::stream;
  feedback(std::shared_ptr<detail::graph> g, int source, std::string topic, produced<K, V> p)
      : _graph(std::move(g)), _source(source), _topic(std::move(topic)), _produced(std::move(p)) {}
  std::shared_ptr<detail::graph> _graph;
  int _source;
  std::string _topic;  // without the application id
  produced<K, V> _produced;
};

template <class K, class V>
void stream<K, V>::to(const feedback<K, V>& f) const {
  if (f._graph != _graph)
    throw topology_error("to(feedback): the feedback belongs to another streams_builder");
  detail::node_spec spec;
  spec.kind = detail::node_kind::sink;
  spec.op = "sink";
  spec.name = f._topic + "-sink";
  spec.parents = {_node};
  spec.topics = {f._topic};
  spec.internal_topics = true;
  spec.missing_serdes = detail::missing_serdes(f._produced.key_serde, f._produced.value_serde,
                                               "give serdes to streams_builder::feedback");
  spec.factory = [p = f._produced](const detail::node_args& a) -> std::unique_ptr<detail::node> {
    return std::make_unique<detail::sink_node_impl<K, V>>(a.name, a.topics.at(0), nullptr, p);
  };
  _graph->add(std::move(spec));
}

}  // namespace rill
