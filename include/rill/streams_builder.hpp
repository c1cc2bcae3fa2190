// streams_builder: where a topology starts (Kafka Streams' StreamsBuilder).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <rill/cogroup.hpp>
#include <rill/detail/graph.hpp>
#include <rill/detail/nodes.hpp>
#include <rill/feedback.hpp>
#include <rill/global_table.hpp>
#include <rill/joins.hpp>
#include <rill/options.hpp>
#include <rill/stream.hpp>
#include <rill/table.hpp>
#include <rill/topology.hpp>
#include <rill/window_store.hpp>
#include <rill/windows.hpp>

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

  // A table of the latest value per key of `topic`; a null value deletes the key. Kept in a
  // store (named after the source unless `m` names it) with its own changelog.
  template <class K, class V>
  rill::table<detail::key_or_null<K>, V> table(std::string topic,
                                               materialized<detail::key_or_null<K>, V> m = {}) {
    using KK = detail::key_or_null<K>;
    any_serde<std::optional<V>> values;
    if (m.value_serde) values = serdes::optional_serde<any_serde<V>>{m.value_serde};
    auto source = stream<K, std::optional<V>>(
        std::move(topic), consumed<KK, std::optional<V>>{m.key_serde, values, {}});
    detail::node_spec spec;
    spec.op = "table-source";
    spec.parents = {source._node};
    const int id = detail::add_store_node<KK, V>(
        *_graph, std::move(spec), std::move(m),
        [](const std::string& name, const std::string& store) {
          return std::unique_ptr<detail::node>(new detail::table_source_node<KK, V>(name, store));
        });
    return rill::table<KK, V>(_graph, id, _graph->at(id).stores.front());
  }

  // A global table of `topic` (see rill::global_table): every instance holds all of it, in
  // a store named `m.name` (default: "<topic>-global"). Its serdes read the topic's bytes.
  template <class K, class V>
  rill::global_table<K, V> global_table(std::string topic, materialized<K, V> m = {}) {
    if (topic.empty()) throw topology_error("global_table(): the topic name is empty");
    if (m.name.empty()) m.name = topic + "-global";
    detail::store_spec spec = detail::make_store_spec(m);
    if (!spec.missing_serdes.empty()) {
      throw topology_error("global table of topic '" + topic + "': " + spec.missing_serdes.front() +
                           "; give one in rill::materialized<K, V>{...} or specialize "
                           "rill::serde_traits<T>");
    }
    _graph->add_global({std::move(spec), topic});
    return rill::global_table<K, V>(_graph, m.name);
  }

  // A feedback topic `<application.id>-<name>-feedback` (see rill::feedback).
  template <class K, class V>
  rill::feedback<K, V> feedback(const std::string& name, produced<K, V> serdes = {}) {
    if (name.empty()) throw topology_error("feedback: give it a name");
    for (const auto& m :
         detail::missing_serdes(serdes.key_serde, serdes.value_serde, "give serdes to feedback")) {
      throw topology_error("feedback '" + name + "': " + m);
    }
    detail::node_spec spec;
    spec.kind = detail::node_kind::source;
    spec.op = "source";
    spec.name = name + "-feedback-source";
    spec.topics = {name + "-feedback"};
    spec.internal_topics = true;
    spec.factory = [ks = serdes.key_serde, vs = serdes.value_serde](
                       const detail::node_args& a) -> std::unique_ptr<detail::node> {
      return std::make_unique<detail::source_node_impl<K, V>>(a.name, ks, vs);
    };
    const int id = _graph->add(std::move(spec));
    return rill::feedback<K, V>(_graph, id, name + "-feedback", std::move(serdes));
  }

  // Declares a store for processors: connect it with process(supplier, named, {"name"}).
  template <class K, class V>
  streams_builder& add_state_store(materialized<K, V> m) {
    if (m.name.empty())
      throw topology_error(
          "add_state_store: give the store a name in rill::materialized{.name = ...}");
    _graph->add_store(detail::make_store_spec(m));
    return *this;
  }

  // Declares a window store for processors (rill::window_store<K, V>): windows of
  // `window_size`, kept for `retention` (at least the size) after the newest window.
  template <class K, class V>
  streams_builder& add_window_store(materialized<K, V> m, std::chrono::milliseconds window_size,
                                    std::chrono::milliseconds retention) {
    if (m.name.empty())
      throw topology_error(
          "add_window_store: give the store a name in rill::materialized{.name = ...}");
    if (window_size.count() <= 0)
      throw topology_error("add_window_store '" + m.name + "': the window size must be positive");
    m.retention = retention;
    _graph->add_store(detail::make_window_store_spec(m, detail::window_layout::by_key,
                                                     window_size.count(),
                                                     detail::retention_of(m, window_size.count())));
    return *this;
  }

  // Declares a session store for processors (rill::session_store<K, V>), kept for
  // `retention` after the newest session end.
  template <class K, class V>
  streams_builder& add_session_store(materialized<K, V> m, std::chrono::milliseconds retention) {
    if (m.name.empty())
      throw topology_error(
          "add_session_store: give the store a name in rill::materialized{.name = ...}");
    if (retention.count() <= 0)
      throw topology_error("add_session_store '" + m.name + "': the retention must be positive");
    _graph->add_store(detail::make_session_store_spec(m, retention.count()));
    return *this;
  }

  // Compiles the graph. Throws topology_error naming the node and the fix.
  topology build() const { return _graph->compile(); }

 private:
  std::shared_ptr<detail::graph> _graph;
};

}  // namespace rill
