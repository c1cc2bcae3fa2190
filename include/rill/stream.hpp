// stream<K, V>: a typed handle on a record stream (Kafka Streams' KStream). Each operation
// appends a node to the builder's graph and returns a new handle; nothing runs until the
// topology built from the graph is run by a streams_app or the test driver.
//
// Functions are taken by value and copied into every task, so a lambda's captures are
// per-task state. Keys and values are handed over as rvalues where the node no longer
// needs them, so f(V v) may move from v.
//
// group_by / group_by_key return handles defined in <rill/table.hpp>: include it (or
// <rill/rill.hpp>) to group. This header does not, so the two never include each other.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <rill/detail/concepts.hpp>
#include <rill/detail/dsl_support.hpp>
#include <rill/detail/graph.hpp>
#include <rill/detail/nodes.hpp>
#include <rill/detail/processor_traits.hpp>
#include <rill/errors.hpp>
#include <rill/options.hpp>
#include <rill/processor.hpp>
#include <rill/record.hpp>

namespace rill {

template <class K, class V>
class stream;
template <class K, class V>
class branched_stream;
template <class K, class V>
class grouped_stream;
template <class K, class V>
class table;
template <class K, class V>
struct grouped;
template <class K, class V>
class feedback;
class streams_builder;
class join_window;
template <class K, class V>
class global_table;
template <class K, class V, class VO>
struct stream_joined;
template <class K, class V, class VO>
struct joined;
namespace detail {
enum class join_kind : std::uint8_t;
}

// A branch of split(): its name and, optionally, what to do with it instead of returning it.
template <class K, class V>
struct branched {
  std::string name;                        // appended to the split's prefix
  std::function<void(stream<K, V>)> with;  // if set, called with the branch; not returned
};

template <class K, class V>
class stream {
 public:
  using key_type = K;
  using value_type = V;

  // Keeps records for which pred(key, value) holds.
  template <class P>
  stream filter(P pred, named n = {}) const {
    return filter_impl(std::move(pred), std::move(n), false, "filter");
  }
  // Drops records for which pred(key, value) holds.
  template <class P>
  stream filter_not(P pred, named n = {}) const {
    return filter_impl(std::move(pred), std::move(n), true, "filter-not");
  }

  // New value from f(value) or f(key, value); the key is kept.
  template <class F>
  auto map_values(F f, named n = {}) const {
    if constexpr (!detail::value_mapper_fn<F, K, V>) {
      static_assert(detail::always_false<F>,
                    "rill: map_values(f) needs f(V) -> V2 or f(const K&, V) -> V2");
      return *this;
    } else {
      using V2 = detail::value_mapper_result_t<F, K, V>;
      auto body = [f](record<K, V>&& r, auto& self) mutable {
        V2 v =
            self.user([&] { return V2(detail::call_value_mapper(f, r.key, std::move(r.value))); });
        if constexpr (std::is_same_v<V2, V>) {
          r.value = std::move(v);  // same type: the record travels on, nothing is rebuilt
          self.emit(std::move(r));
        } else {
          self.emit(
              record<K, V2>{std::move(r.key), std::move(v), r.timestamp, std::move(r.headers)});
        }
      };
      return add<K, V2>(processor_spec<K, V2>("map-values", std::move(n), body, false));
    }
  }

  // New key and value from f(key, value), returning std::pair<K2, V2> or key_value<K2, V2>.
  // Marks the stream for repartitioning before a grouping or join.
  template <class F>
  auto map(F f, named n = {}) const {
    if constexpr (!detail::key_value_mapper_fn<F, K, V>) {
      static_assert(
          detail::always_false<F>,
          "rill: map(f) needs f(const K&, V) -> std::pair<K2, V2> or rill::key_value<K2, V2>");
      return *this;
    } else {
      using KV = std::remove_cvref_t<std::invoke_result_t<F&, const K&, V&&>>;
      using K2 = detail::kv_key_t<KV>;
      using V2 = detail::kv_value_t<KV>;
      auto body = [f](record<K, V>&& r, auto& self) mutable {
        KV kv =
            self.user([&] { return KV(std::invoke(f, std::as_const(r.key), std::move(r.value))); });
        self.emit(record<K2, V2>{detail::kv_key(std::move(kv)), detail::kv_value(std::move(kv)),
                                 r.timestamp, std::move(r.headers)});
      };
      return add<K2, V2>(processor_spec<K2, V2>("map", std::move(n), body, true));
    }
  }

  // New key from f(key, value); the value is kept. Marks the stream for repartitioning.
  template <class F>
  auto select_key(F f, named n = {}) const {
    if constexpr (!detail::key_selector_fn<F, K, V>) {
      static_assert(detail::always_false<F>,
                    "rill: select_key(f) needs f(const K&, const V&) -> K2");
      return *this;
    } else {
      using K2 = std::remove_cvref_t<std::invoke_result_t<F&, const K&, const V&>>;
      auto body = [f](record<K, V>&& r, auto& self) mutable {
        K2 k = self.user(
            [&] { return K2(std::invoke(f, std::as_const(r.key), std::as_const(r.value))); });
        self.emit(
            record<K2, V>{std::move(k), std::move(r.value), r.timestamp, std::move(r.headers)});
      };
      return add<K2, V>(processor_spec<K2, V>("select-key", std::move(n), body, true));
    }
  }

  // Zero or more values per record: f(value) or f(key, value) returns any range of V2.
  template <class F>
  auto flat_map_values(F f, named n = {}) const {
    if constexpr (!detail::flat_value_mapper_fn<F, K, V>) {
      static_assert(
          detail::always_false<F>,
          "rill: flat_map_values(f) needs f(V) or f(const K&, V) returning a range of V2");
      return *this;
    } else {
      using R = detail::value_mapper_result_t<F, K, V>;
      using V2 = std::remove_cvref_t<std::ranges::range_value_t<R>>;
      auto body = [f](record<K, V>&& r, auto& self) mutable {
        self.user([&] {
          R results = detail::call_value_mapper(f, r.key, std::move(r.value));
          for (auto&& v : results) {
            self.emit(
                record<K, V2>{r.key, V2(std::forward<decltype(v)>(v)), r.timestamp, r.headers});
          }
        });
      };
      return add<K, V2>(processor_spec<K, V2>("flat-map-values", std::move(n), body, false));
    }
  }

  // Zero or more records per record: f(key, value) returns a range of pairs/key_values.
  // Marks the stream for repartitioning.
  template <class F>
  auto flat_map(F f, named n = {}) const {
    if constexpr (!detail::flat_key_value_mapper_fn<F, K, V>) {
      static_assert(
          detail::always_false<F>,
          "rill: flat_map(f) needs f(const K&, V) returning a range of std::pair<K2, V2>");
      return *this;
    } else {
      using R = std::remove_cvref_t<std::invoke_result_t<F&, const K&, V&&>>;
      using KV = std::ranges::range_value_t<R>;
      using K2 = detail::kv_key_t<KV>;
      using V2 = detail::kv_value_t<KV>;
      auto body = [f](record<K, V>&& r, auto& self) mutable {
        self.user([&] {
          R results = std::invoke(f, std::as_const(r.key), std::move(r.value));
          for (auto&& kv : results) {
            self.emit(record<K2, V2>{K2(detail::kv_key(std::forward<decltype(kv)>(kv))),
                                     V2(detail::kv_value(std::forward<decltype(kv)>(kv))),
                                     r.timestamp, r.headers});
          }
        });
      };
      return add<K2, V2>(processor_spec<K2, V2>("flat-map", std::move(n), body, true));
    }
  }

  // The whole record in, a record out: read or set key, value, timestamp and headers.
  // f(record<K, V>) -> record<K2, V2>. Marks the stream for repartitioning (the key may change).
  template <class F>
  auto map_record(F f, named n = {}) const {
    if constexpr (!detail::record_mapper_fn<F, K, V>) {
      static_assert(detail::always_false<F>,
                    "rill: map_record(f) needs f(rill::record<K, V>) -> rill::record<K2, V2>");
      return *this;
    } else {
      using R = std::remove_cvref_t<std::invoke_result_t<F&, record<K, V>&&>>;
      using K2 = decltype(R::key);
      using V2 = decltype(R::value);
      auto body = [f](record<K, V>&& r, auto& self) mutable {
        R out = self.user([&] { return R(std::invoke(f, std::move(r))); });
        self.emit(std::move(out));
      };
      return add<K2, V2>(processor_spec<K2, V2>("map-record", std::move(n), body, true));
    }
  }

  // Calls action(key, value) for each record and passes the record on unchanged.
  template <class F>
  stream peek(F action, named n = {}) const {
    if constexpr (!detail::action_fn<F, K, V>) {
      static_assert(detail::always_false<F>, "rill: peek(f) needs f(const K&, const V&)");
      return *this;
    } else {
      auto body = [action](record<K, V>&& r, auto& self) mutable {
        self.user([&] { std::invoke(action, std::as_const(r.key), std::as_const(r.value)); });
        self.emit(std::move(r));
      };
      return add<K, V>(processor_spec<K, V>("peek", std::move(n), body, false));
    }
  }

  // Calls action(key, value) for each record; ends the stream.
  template <class F>
  void foreach (F action, named n = {}) const {
    if constexpr (!detail::action_fn<F, K, V>) {
      static_assert(detail::always_false<F>, "rill: foreach(f) needs f(const K&, const V&)");
    } else {
      auto body = [action](record<K, V>&& r, auto& self) mutable {
        self.user([&] { std::invoke(action, std::as_const(r.key), std::as_const(r.value)); });
      };
      add<K, V>(processor_spec<K, V>("foreach", std::move(n), body, false));
    }
  }

  // Groups records by their key for an aggregation (repartitioning first if an earlier
  // operation changed the key).
  grouped_stream<K, V> group_by_key(grouped<K, V> how = {}) const;
  // Groups records by selector(key, value) for an aggregation; always repartitions.
  template <class F>
  auto group_by(F selector, grouped<detail::group_by_key_t<F, K, V>, V> how = {}) const;

  // Joins (<rill/joins.hpp>, which defines them). With another stream, within a window:
  // joiner(v, vo) or joiner(key, v, vo); left and outer joins pass std::optional sides.
  template <class V2, class F>
  auto join(const stream<K, V2>& other, F joiner, const join_window& w,
            stream_joined<K, V, V2> how = {}) const;
  template <class V2, class F>
  auto left_join(const stream<K, V2>& other, F joiner, const join_window& w,
                 stream_joined<K, V, V2> how = {}) const;
  template <class V2, class F>
  auto outer_join(const stream<K, V2>& other, F joiner, const join_window& w,
                  stream_joined<K, V, V2> how = {}) const;
  // With a table: each record joins the table's current value for its key.
  template <class VT, class F>
  auto join(const table<K, VT>& t, F joiner, joined<K, V, VT> how = {}) const;
  template <class VT, class F>
  auto left_join(const table<K, VT>& t, F joiner, joined<K, V, VT> how = {}) const;
  // With a global table: each record joins the value at key_selector(key, value).
  template <class KG, class VG, class KS, class F>
  auto join(const global_table<KG, VG>& g, KS key_selector, F joiner, named n = {}) const;
  template <class KG, class VG, class KS, class F>
  auto left_join(const global_table<KG, VG>& g, KS key_selector, F joiner, named n = {}) const;

  // Routes each record to the first branch whose predicate holds; see branched_stream.
  branched_stream<K, V> split(named n = {}) const;

  // Records of both streams, in the order they arrive.
  stream merge(const stream& other, named n = {}) const {
    if (other._graph != _graph) {
      throw topology_error("merge: both streams must come from the same streams_builder");
    }
    detail::node_spec spec = processor_spec<K, V>(
        "merge", std::move(n), [](record<K, V>&& r, auto& self) { self.emit(std::move(r)); },
        false);
    spec.parents = {_node, other._node};
    return stream(_graph, _graph->add(std::move(spec)));
  }

  // Writes the stream through the internal topic `<application.id>-<name>-repartition` and
  // reads it back in a new subtopology, partitioned by the current key (or partitioner).
  stream repartition(repartitioned<K, V> r = {}) const {
    detail::node_spec spec;
    spec.kind = detail::node_kind::repartition;
    spec.op = "repartition";
    spec.name = r.name;
    spec.parents = {_node};
    spec.repartition = detail::make_repartition_parts<K, V>(
        std::move(r),
        "pass serdes in rill::repartitioned<K, V>{.key_serde = ..., .value_serde = ...}");
    return stream(_graph, _graph->add(std::move(spec)));
  }

  // Writes every record to a feedback topic (see rill::feedback).
  void to(const feedback<K, V>& f) const;

  // Writes every record to a topic: `to("topic")`, or `to(chooser)` with
  // chooser(const K&, const V&, const record_context&) -> std::string naming the topic per record.
  template <class T>
  void to(T target, produced<K, V> p = {}) const {
    detail::node_spec spec;
    spec.kind = detail::node_kind::sink;
    spec.op = "sink";
    spec.name = p.name;
    spec.parents = {_node};
    spec.missing_serdes = detail::missing_serdes(
        p.key_serde, p.value_serde,
        "pass it in rill::produced<K, V>{.key_serde = ..., .value_serde = ...} or specialize "
        "rill::serde_traits<T>");
    typename detail::sink_node_impl<K, V>::topic_chooser chooser;
    if constexpr (std::is_convertible_v<T, std::string>) {
      spec.topics = {std::string(target)};
      if (spec.topics[0].empty()) throw topology_error("to(): the topic name is empty");
    } else if constexpr (detail::topic_chooser_fn<T, K, V>) {
      spec.topic_chooser = "chosen per record";
      chooser = [f = std::move(target)](const K& k, const V& v, const record_context& rc) mutable {
        return std::string(std::invoke(f, k, v, rc));
      };
    } else {
      static_assert(detail::always_false<T>,
                    "rill: to(t) needs a topic name, or t(const K&, const V&, const "
                    "rill::record_context&) -> std::string choosing one per record");
    }
    spec.factory = [chooser, p](const detail::node_args& a) -> std::unique_ptr<detail::node> {
      std::string topic = a.topics.empty() ? std::string() : a.topics[0];
      return std::make_unique<detail::sink_node_impl<K, V>>(a.name, topic, chooser, p);
    };
    _graph->add(std::move(spec));
  }

  // Runs a processor per task: supplier() returns std::unique_ptr<P>, P derived from
  // rill::processor<K, V, KOut, VOut>. May change keys (marks for repartitioning).
  // `stores`: the names of stores (declared with streams_builder::add_state_store) the
  // processor reaches through context.get_state_store.
  template <class Supplier>
  auto process(Supplier supplier, named n = {}, std::vector<std::string> stores = {}) const {
    using P = processor_of<Supplier>;
    if constexpr (std::is_void_v<P>) {
      static_assert(detail::always_false<Supplier>,
                    "rill: process(s) needs s() -> std::unique_ptr<P>, P derived from "
                    "rill::processor<K, V, KOut, VOut>");
      return *this;
    } else {
      using KOut = typename P::key_out;
      using VOut = typename P::value_out;
      return add_processor<P, KOut, VOut>(std::move(supplier), std::move(n), "process", true,
                                          std::move(stores));
    }
  }

  // Runs a fixed-key processor per task: supplier() returns std::unique_ptr<P>, P derived
  // from rill::fixed_key_processor<K, V, VOut>. Keys cannot change: no repartition follows.
  template <class Supplier>
  auto process_values(Supplier supplier, named n = {}, std::vector<std::string> stores = {}) const {
    using P = fixed_key_processor_of<Supplier>;
    if constexpr (std::is_void_v<P>) {
      static_assert(detail::always_false<Supplier>,
                    "rill: process_values(s) needs s() -> std::unique_ptr<P>, P derived from "
                    "rill::fixed_key_processor<K, V, VOut>");
      return *this;
    } else {
      return add_processor<P, K, typename P::value_out>(std::move(supplier), std::move(n),
                                                        "process-values", false, std::move(stores));
    }
  }

 private:
  template <class, class>
  friend class stream;
  template <class, class>
  friend class branched_stream;
  template <class, class>
  friend class table;
  template <class, class>
  friend class feedback;
  friend class streams_builder;

  stream(std::shared_ptr<detail::graph> g, int node) : _graph(std::move(g)), _node(node) {}

  template <detail::join_kind J, class V2, class F>
  auto windowed_join(const stream<K, V2>& other, F joiner, const join_window& w,
                     stream_joined<K, V, V2> how) const;
  template <detail::join_kind J, class VT, class F>
  auto table_join(const table<K, VT>& t, F joiner, joined<K, V, VT> how) const;
  template <detail::join_kind J, class KG, class VG, class KS, class F>
  auto global_join(const global_table<KG, VG>& g, KS key_selector, F joiner, named n) const;

  template <class Supplier>
  using processor_of = detail::processor_of<Supplier, K, V>;
  template <class Supplier>
  using fixed_key_processor_of = detail::fixed_key_processor_of<Supplier, K, V>;

  template <class P, class KOut, class VOut, class Supplier>
  stream<KOut, VOut> add_processor(Supplier supplier, named n, const char* op, bool changes_key,
                                   std::vector<std::string> stores) const {
    detail::node_spec spec;
    spec.op = op;
    spec.stores = std::move(stores);
    spec.name = std::move(n.name);
    spec.changes_key = changes_key;
    spec.factory = [supplier](const detail::node_args& a) mutable -> std::unique_ptr<detail::node> {
      std::unique_ptr<P> p = supplier();
      if (!p) throw streams_error("processor supplier for '" + a.name + "' returned null");
      return std::make_unique<detail::processor_node<P>>(a.name, std::move(p));
    };
    return add<KOut, VOut>(std::move(spec));
  }

  template <class P>
  stream filter_impl(P pred, named n, bool negate, const char* op) const {
    if constexpr (!detail::predicate_fn<P, K, V>) {
      static_assert(
          detail::always_false<P>,
          "rill: filter(pred) and filter_not(pred) need pred(const K&, const V&) -> bool");
      return *this;
    } else {
      auto body = [pred, negate](record<K, V>&& r, auto& self) mutable {
        bool keep = self.user([&] {
          return static_cast<bool>(std::invoke(pred, std::as_const(r.key), std::as_const(r.value)));
        });
        if (keep != negate) self.emit(std::move(r));
      };
      return add<K, V>(processor_spec<K, V>(op, std::move(n), body, false));
    }
  }

  template <class K2, class V2, class Body>
  static detail::node_spec processor_spec(const char* op, named n, Body body, bool changes_key) {
    detail::node_spec spec;
    spec.op = op;
    spec.name = std::move(n.name);
    spec.changes_key = changes_key;
    spec.factory = detail::fn_node_factory<K, V, K2, V2>(std::move(body));
    return spec;
  }

  template <class K2, class V2>
  stream<K2, V2> add(detail::node_spec spec) const {
    if (spec.parents.empty()) spec.parents = {_node};
    return stream<K2, V2>(_graph, _graph->add(std::move(spec)));
  }

  std::shared_ptr<detail::graph> _graph;
  int _node = -1;
};

// The branches of a split(): `.branch(pred, {"name"})` in order, then `.default_branch()`
// or `.no_default_branch()`, which return the branches by name (prefix + branch name, or
// prefix + 1-based position; the default branch is prefix + "0"), as Kafka Streams does.
// Without a default branch, a record that matches no predicate is dropped.
template <class K, class V>
class branched_stream {
 public:
  template <class P>
  branched_stream& branch(P pred, branched<K, V> b = {}) {
    if constexpr (!detail::predicate_fn<P, K, V>) {
      static_assert(detail::always_false<P>,
                    "rill: split().branch(pred) needs pred(const K&, const V&) -> bool");
    } else {
      add_branch(std::function<bool(const K&, const V&)>(std::move(pred)), std::move(b));
    }
    return *this;
  }

  std::map<std::string, stream<K, V>> default_branch(branched<K, V> b = {}) {
    if (b.name.empty()) b.name = "0";
    add_branch(nullptr, std::move(b));
    return finish();
  }
  std::map<std::string, stream<K, V>> no_default_branch() { return finish(); }

 private:
  friend class stream<K, V>;
  branched_stream(std::shared_ptr<detail::graph> g, int split_node, std::string prefix,
                  std::shared_ptr<detail::split_state<K, V>> state)
      : _graph(std::move(g)),
        _split(split_node),
        _prefix(std::move(prefix)),
        _state(std::move(state)) {}

  void add_branch(std::function<bool(const K&, const V&)> pred, branched<K, V> b) {
    if (_finished)
      throw topology_error("split '" + _prefix + "': branch() after the default branch");
    std::string name =
        _prefix + (b.name.empty() ? std::to_string(_state->branches.size() + 1) : b.name);
    detail::node_spec spec;
    spec.op = "branch";
    spec.name = name;
    spec.parents = {_split};
    spec.factory = detail::fn_node_factory<K, V, K, V>(
        [](record<K, V>&& r, auto& self) { self.emit(std::move(r)); });
    stream<K, V> s(_graph, _graph->add(std::move(spec)));
    _state->branches.push_back({name, std::move(pred)});
    if (b.with)
      b.with(s);
    else
      _result.emplace(name, s);
  }

  std::map<std::string, stream<K, V>> finish() {
    _finished = true;
    return _result;
  }

  std::shared_ptr<detail::graph> _graph;
  int _split;
  std::string _prefix;
  std::shared_ptr<detail::split_state<K, V>> _state;
  std::map<std::string, stream<K, V>> _result;
  bool _finished = false;
};

template <class K, class V>
branched_stream<K, V> stream<K, V>::split(named n) const {
  auto state = std::make_shared<detail::split_state<K, V>>();
  detail::node_spec spec;
  spec.op = "split";
  spec.name = n.name;
  spec.parents = {_node};
  // Each task gets its own copy of the predicates (they may carry state).
  spec.factory = [state](const detail::node_args& a) -> std::unique_ptr<detail::node> {
    return std::make_unique<detail::split_node<K, V>>(
        a.name, std::make_shared<const detail::split_state<K, V>>(*state));
  };
  int id = _graph->add(std::move(spec));
  std::string prefix =
      n.name.empty() ? _graph->nodes()[static_cast<std::size_t>(id)].name + "-" : n.name;
  return branched_stream<K, V>(_graph, id, std::move(prefix), std::move(state));
}

}  // namespace rill
