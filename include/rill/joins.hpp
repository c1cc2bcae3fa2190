// Joins (Kafka Streams' KStream#join, leftJoin, outerJoin and KTable#join, ...).
//
//   orders.join(payments, joiner, rill::join_window(10min).grace(1min))   // stream-stream
//   orders.left_join(payments, joiner, rill::join_window(10min))          // + unmatched orders
//   orders.outer_join(payments, joiner, rill::join_window(10min))         // + unmatched payments
//   orders.join(customers, joiner)                   // stream-table: the table's current value
//   orders.left_join(customers, joiner)
//   left_table.join(right_table, joiner)             // table-table: left_join, outer_join too
//
// A joiner is f(v1, v2) or f(key, v1, v2); where a side may be missing (the right side of a
// left join, both sides of an outer join) it gets a std::optional that is empty then.
// Records meet by key in one task: an operation that changed the key before a join makes the
// join repartition that side first (through `<application.id>-<name>-left-repartition` or
// `-right-repartition`, with as many partitions as the other side), and the topics feeding
// both sides must have equal partition counts, which start() (and the test driver) checks.
// docs/joins.md has the semantics.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <rill/detail/dsl_support.hpp>
#include <rill/detail/graph.hpp>
#include <rill/detail/join_support.hpp>
#include <rill/detail/stream_join_nodes.hpp>
#include <rill/detail/table_join_nodes.hpp>
#include <rill/errors.hpp>
#include <rill/global_table.hpp>
#include <rill/state_store.hpp>
#include <rill/stream.hpp>
#include <rill/table.hpp>
#include <rill/window_store.hpp>

namespace rill {

// The window of a stream-stream join: a left record at t joins the right records at t' with
// t - before <= t' <= t + after. join_window(d) is symmetric (before = after = d); .before(d)
// and .after(d) move one end; .grace(d) admits records up to d out of order. No grace unless
// given (Kafka Streams 3.x's ofTimeDifferenceWithNoGrace).
class join_window {
 public:
  explicit join_window(std::chrono::milliseconds difference)
      : _before(difference), _after(difference) {
    check("join_window(d)");
  }
  join_window before(std::chrono::milliseconds d) const {
    join_window w = *this;
    w._before = d;
    w.check("join_window.before(d)");
    return w;
  }
  join_window after(std::chrono::milliseconds d) const {
    join_window w = *this;
    w._after = d;
    w.check("join_window.after(d)");
    return w;
  }
  join_window grace(std::chrono::milliseconds g) const {
    if (g.count() < 0) {
      throw topology_error("join_window: the grace is " + std::to_string(g.count()) +
                           " ms; it must be 0 or more (.grace(d) with d >= 0, or leave it out)");
    }
    join_window w = *this;
    w._grace = g;
    return w;
  }
  std::chrono::milliseconds before_ms() const noexcept { return _before; }
  std::chrono::milliseconds after_ms() const noexcept { return _after; }
  std::chrono::milliseconds grace_period() const noexcept { return _grace; }

 private:
  void check(const char* what) const {
    if (_before.count() + _after.count() < 0) {
      throw topology_error(
          std::string(what) + ": the window [t - " + std::to_string(_before.count()) + " ms, t + " +
          std::to_string(_after.count()) + " ms] is empty; before + after must be 0 or more");
    }
  }
  std::chrono::milliseconds _before;
  std::chrono::milliseconds _after;
  std::chrono::milliseconds _grace{0};
};

// How a stream-stream join keeps its sides (Kafka Streams' StreamJoined). The serdes are
// for its window stores and, where a side must be repartitioned, for that topic.
template <class K, class V, class VO>
struct stream_joined {
  any_serde<K> key_serde = default_serde<K>();
  any_serde<V> value_serde = default_serde<V>();
  any_serde<VO> other_value_serde = default_serde<VO>();
  std::string name;        // the join's nodes and repartition topics (default: generated)
  std::string store_name;  // its stores: <store_name>-left-store, -right-store, -outer-store
  store_type type = store_type::rocksdb;
  bool logging = true;
};

// How a stream-table join repartitions its stream side if it must (Kafka Streams' Joined).
template <class K, class V, class VO>
struct joined {
  any_serde<K> key_serde = default_serde<K>();
  any_serde<V> value_serde = default_serde<V>();
  any_serde<VO> other_value_serde = default_serde<VO>();
  std::string name;
};

namespace detail {

inline const char* join_op(join_kind j) {
  return j == join_kind::inner ? "join" : j == join_kind::left ? "left-join" : "outer-join";
}

inline std::string join_base_name(graph& g, const std::string& given, join_kind j) {
  if (!given.empty()) return given;
  std::string n = std::to_string(g.nodes().size());
  return std::string(join_op(j)) + "-" + std::string(n.size() < 4 ? 4 - n.size() : 0, '0') + n;
}

// The node that merges a join's sides into its output.
template <class K, class V>
int add_join_merge(graph& g, const std::string& name, join_kind j, std::vector<int> parents) {
  node_spec spec;
  spec.op = join_op(j);
  spec.name = name;
  spec.parents = std::move(parents);
  spec.factory =
      fn_node_factory<K, V, K, V>([](record<K, V>&& r, auto& self) { self.emit(std::move(r)); });
  return g.add(std::move(spec));
}

// A side's buffer: a window store keeping every record by key and timestamp (duplicates
// too), kept `retention`.
template <class K, class VS>
void add_join_buffer(graph& g, const std::string& name, const any_serde<K>& ks,
                     const any_serde<VS>& vs, store_type type, bool logging,
                     std::int64_t retention) {
  materialized<K, VS> m;
  m.name = name;
  m.type = type;
  m.caching = false;
  m.logging = logging;
  m.key_serde = ks;
  m.value_serde = vs;
  retention = std::max<std::int64_t>(retention, 1);
  g.add_store(make_window_store_spec(m, window_layout::by_key_dup, retention, retention));
}

// One side of a join: records partitioned by key (a repartition first if the key changed).
template <class K, class VS>
int add_join_side(graph& g, std::string name, int parent, std::vector<std::string> stores,
                  repartitioned<K, VS> r, node_factory factory) {
  node_spec spec;
  spec.op = "join-side";
  spec.name = name;
  spec.repartition_name = std::move(name);
  spec.parents = {parent};
  spec.needs_copartitioned_input = true;
  spec.repartition = make_repartition_parts<K, VS>(
      std::move(r),
      "give serdes in rill::stream_joined<K, V, VO>{.key_serde = ..., .value_serde = ...}");
  spec.stores = std::move(stores);
  spec.factory = std::move(factory);
  return g.add(std::move(spec));
}

}  // namespace detail

template <class K, class V>
template <detail::join_kind J, class V2, class F>
auto stream<K, V>::windowed_join(const stream<K, V2>& other, F joiner, const join_window& w,
                                 stream_joined<K, V, V2> how) const {
  using Join = detail::join_function<J, K, V, V2, F>;
  using VOut = typename Join::result;
  if (other._graph != _graph)
    throw topology_error(std::string(detail::join_op(J)) +
                         ": both streams must come from the same streams_builder");
  const std::string base = detail::join_base_name(*_graph, how.name, J);
  const std::string stores = how.store_name.empty() ? base : how.store_name;
  detail::stream_join_spec s;
  s.kind = J;
  s.before = w.before_ms().count();
  s.after = w.after_ms().count();
  s.grace = w.grace_period().count();
  s.left_store = stores + "-left-store";
  s.right_store = stores + "-right-store";
  if (J != detail::join_kind::inner) s.outer_store = stores + "-outer-store";
  // Kept for the window and the grace, and 1 ms more: a record is still needed the moment its
  // window closes.
  const std::int64_t size =
      std::max<std::int64_t>(0, s.before) + std::max<std::int64_t>(0, s.after);
  detail::add_join_buffer<K, V>(*_graph, s.left_store, how.key_serde, how.value_serde, how.type,
                                how.logging, size + s.grace + 1);
  detail::add_join_buffer<K, V2>(*_graph, s.right_store, how.key_serde, how.other_value_serde,
                                 how.type, how.logging, size + s.grace + 1);
  if (!s.outer_store.empty()) {
    materialized<bytes, bytes> m;
    m.name = s.outer_store;
    m.type = how.type;
    m.caching = false;
    m.logging = how.logging;
    _graph->add_store(detail::make_store_spec(m));
  }
  std::vector<std::string> used{s.left_store, s.right_store};
  if (!s.outer_store.empty()) used.push_back(s.outer_store);
  const int left = detail::add_join_side<K, V>(
      *_graph, base + "-left", _node, used,
      repartitioned<K, V>{how.key_serde, how.value_serde, {}, {}, {}},
      [s, joiner](const detail::node_args& a) -> std::unique_ptr<detail::node> {
        return std::make_unique<detail::stream_join_node<K, V, V2, Join, true>>(a.name, s,
                                                                                Join{joiner});
      });
  const int right = detail::add_join_side<K, V2>(
      *_graph, base + "-right", other._node, used,
      repartitioned<K, V2>{how.key_serde, how.other_value_serde, {}, {}, {}},
      [s, joiner](const detail::node_args& a) -> std::unique_ptr<detail::node> {
        return std::make_unique<detail::stream_join_node<K, V, V2, Join, false>>(a.name, s,
                                                                                 Join{joiner});
      });
  _graph->at(left).copartition_with = {right};
  _graph->at(right).copartition_with = {left};
  return stream<K, VOut>(_graph, detail::add_join_merge<K, VOut>(*_graph, base, J, {left, right}));
}

// A joiner of the wrong shape fails the build with one message naming the join (and nothing
// after it: the join itself is not instantiated).
#define RILL_JOIN(J, VA, VB, what, call)                                                           \
  if constexpr (!detail::joiner_fn<F, K, detail::left_arg_t<J, VA>, detail::right_arg_t<J, VB>>) { \
    static_assert(detail::always_false<F>, "rill: " what);                                         \
    return *this;                                                                                  \
  } else {                                                                                         \
    return call;                                                                                   \
  }

template <class K, class V>
template <class V2, class F>
auto stream<K, V>::join(const stream<K, V2>& other, F joiner, const join_window& w,
                        stream_joined<K, V, V2> how) const {
  RILL_JOIN(detail::join_kind::inner, V, V2,
            "stream.join(other_stream, joiner, window) needs joiner(const V&, const "
            "VO&) or joiner(const K&, const V&, const VO&)",
            windowed_join<detail::join_kind::inner>(other, std::move(joiner), w, std::move(how)))
}

template <class K, class V>
template <class V2, class F>
auto stream<K, V>::left_join(const stream<K, V2>& other, F joiner, const join_window& w,
                             stream_joined<K, V, V2> how) const {
  RILL_JOIN(detail::join_kind::left, V, V2,
            "stream.left_join(other_stream, joiner, window) needs joiner(const V&, "
            "const std::optional<VO>&) or joiner(const K&, const V&, const "
            "std::optional<VO>&)",
            windowed_join<detail::join_kind::left>(other, std::move(joiner), w, std::move(how)))
}

template <class K, class V>
template <class V2, class F>
auto stream<K, V>::outer_join(const stream<K, V2>& other, F joiner, const join_window& w,
                              stream_joined<K, V, V2> how) const {
  RILL_JOIN(detail::join_kind::outer, V, V2,
            "stream.outer_join(other_stream, joiner, window) needs joiner(const "
            "std::optional<V>&, const std::optional<VO>&) or joiner(const K&, const "
            "std::optional<V>&, const std::optional<VO>&)",
            windowed_join<detail::join_kind::outer>(other, std::move(joiner), w, std::move(how)))
}

template <class K, class V>
template <detail::join_kind J, class VT, class F>
auto stream<K, V>::table_join(const table<K, VT>& t, F joiner, joined<K, V, VT> how) const {
  using Join = detail::join_function<J, K, V, VT, F>;
  using VOut = typename Join::result;
  if (t._graph != _graph)
    throw topology_error(std::string(detail::join_op(J)) +
                         ": the stream and the table must come from the same streams_builder");
  const std::string store = t.materialize();
  detail::node_spec spec;
  spec.op = J == detail::join_kind::inner ? "stream-table-join" : "stream-table-left-join";
  spec.name = how.name;
  spec.parents = {_node};
  spec.needs_copartitioned_input = true;
  spec.copartition_with = {t._node};
  spec.repartition = detail::make_repartition_parts<K, V>(
      repartitioned<K, V>{how.key_serde, how.value_serde, {}, {}, {}},
      "give serdes in rill::joined<K, V, VO>{.key_serde = ..., .value_serde = ...}");
  spec.stores = {store};
  spec.factory = [store, joiner](const detail::node_args& a) -> std::unique_ptr<detail::node> {
    return std::make_unique<detail::stream_table_join_node<K, V, K, VT, detail::own_key, Join>>(
        a.name, store, J == detail::join_kind::left, detail::own_key{}, Join{joiner});
  };
  return stream<K, VOut>(_graph, _graph->add(std::move(spec)));
}

template <class K, class V>
template <class VT, class F>
auto stream<K, V>::join(const table<K, VT>& t, F joiner, joined<K, V, VT> how) const {
  RILL_JOIN(detail::join_kind::inner, V, VT,
            "stream.join(table, joiner) needs joiner(const V&, const VT&) or "
            "joiner(const K&, const V&, const VT&)",
            table_join<detail::join_kind::inner>(t, std::move(joiner), std::move(how)))
}

template <class K, class V>
template <class VT, class F>
auto stream<K, V>::left_join(const table<K, VT>& t, F joiner, joined<K, V, VT> how) const {
  RILL_JOIN(detail::join_kind::left, V, VT,
            "stream.left_join(table, joiner) needs joiner(const V&, const "
            "std::optional<VT>&) or joiner(const K&, const V&, const "
            "std::optional<VT>&)",
            table_join<detail::join_kind::left>(t, std::move(joiner), std::move(how)))
}

template <class K, class V>
template <detail::join_kind J, class KG, class VG, class KS, class F>
auto stream<K, V>::global_join(const global_table<KG, VG>& g, KS key_selector, F joiner,
                               named n) const {
  using Join = detail::join_function<J, K, V, VG, F>;
  using VOut = typename Join::result;
  if (g._graph != _graph)
    throw topology_error(std::string(detail::join_op(J)) +
                         ": the stream and the global table must come from the same "
                         "streams_builder");
  detail::node_spec spec;
  spec.op = J == detail::join_kind::inner ? "global-join" : "global-left-join";
  spec.name = std::move(n.name);
  spec.parents = {_node};
  spec.stores = {g._store};
  spec.factory = [store = g._store, key_selector,
                  joiner](const detail::node_args& a) -> std::unique_ptr<detail::node> {
    return std::make_unique<detail::stream_table_join_node<K, V, KG, VG, KS, Join>>(
        a.name, store, J == detail::join_kind::left, key_selector, Join{joiner});
  };
  return stream<K, VOut>(_graph, _graph->add(std::move(spec)));
}

template <class K, class V>
template <class KG, class VG, class KS, class F>
auto stream<K, V>::join(const global_table<KG, VG>& g, KS key_selector, F joiner, named n) const {
  if constexpr (!detail::key_selector_fn<KS, K, V> ||
                !std::is_convertible_v<detail::group_by_key_t<KS, K, V>, KG>) {
    static_assert(detail::always_false<KS>,
                  "rill: stream.join(global_table, key_selector, joiner) needs key_selector(const "
                  "K&, const V&) -> the global table's key");
    return *this;
  } else {
    RILL_JOIN(detail::join_kind::inner, V, VG,
              "stream.join(global_table, key_selector, joiner) needs joiner(const V&, const "
              "VG&) or joiner(const K&, const V&, const VG&)",
              global_join<detail::join_kind::inner>(g, std::move(key_selector), std::move(joiner),
                                                    std::move(n)))
  }
}

template <class K, class V>
template <class KG, class VG, class KS, class F>
auto stream<K, V>::left_join(const global_table<KG, VG>& g, KS key_selector, F joiner,
                             named n) const {
  if constexpr (!detail::key_selector_fn<KS, K, V> ||
                !std::is_convertible_v<detail::group_by_key_t<KS, K, V>, KG>) {
    static_assert(detail::always_false<KS>,
                  "rill: stream.left_join(global_table, key_selector, joiner) needs "
                  "key_selector(const K&, const V&) -> the global table's key");
    return *this;
  } else {
    RILL_JOIN(detail::join_kind::left, V, VG,
              "stream.left_join(global_table, key_selector, joiner) needs joiner(const V&, const "
              "std::optional<VG>&) or joiner(const K&, const V&, const std::optional<VG>&)",
              global_join<detail::join_kind::left>(g, std::move(key_selector), std::move(joiner),
                                                   std::move(n)))
  }
}

// Table-table joins.

template <class K, class V>
std::string table<K, V>::materialize() const {
  if (!_store.empty()) return _store;
  const std::string& name = _graph->at(_node).name;
  for (const auto& n : _graph->nodes()) {  // materialized already for another join
    if (n.op == "table-materialize" && n.parents == std::vector<int>{_node}) return n.stores[0];
  }
  materialized<K, V> m;
  m.name = name + "-store";
  _graph->add_store(detail::make_store_spec(m));
  detail::node_spec spec;
  spec.op = "table-materialize";
  spec.name = name + "-materialize";
  spec.parents = {_node};
  spec.stores = {m.name};
  spec.factory = [store = m.name](const detail::node_args& a) -> std::unique_ptr<detail::node> {
    return std::make_unique<detail::table_materialize_node<K, V>>(a.name, store);
  };
  _graph->add(std::move(spec));
  return m.name;
}

template <class K, class V>
template <detail::join_kind J, class V2, class F>
auto table<K, V>::table_table_join(const table<K, V2>& other, F joiner, named n) const {
  using Join = detail::join_function<J, K, V, V2, F>;
  using VOut = typename Join::result;
  if (other._graph != _graph)
    throw topology_error(std::string(detail::join_op(J)) +
                         ": both tables must come from the same streams_builder");
  const std::string base = detail::join_base_name(*_graph, n.name, J);
  const std::string left_store = materialize();
  const std::string right_store = other.materialize();
  auto side = [&](const std::string& name, int parent, const std::string& store,
                  detail::node_factory f) {
    detail::node_spec spec;
    spec.op = "table-join-side";
    spec.name = name;
    spec.parents = {parent};
    spec.needs_copartitioned_input = true;
    spec.stores = {store};
    spec.factory = std::move(f);
    return _graph->add(std::move(spec));
  };
  const int left =
      side(base + "-left", _node, right_store, [right_store, joiner](const detail::node_args& a) {
        return std::unique_ptr<detail::node>(new detail::table_join_node<K, V, V2, Join, true>(
            a.name, right_store, J, Join{joiner}));
      });
  const int right = side(
      base + "-right", other._node, left_store, [left_store, joiner](const detail::node_args& a) {
        return std::unique_ptr<detail::node>(new detail::table_join_node<K, V, V2, Join, false>(
            a.name, left_store, J, Join{joiner}));
      });
  _graph->at(left).copartition_with = {right};
  _graph->at(right).copartition_with = {left};
  return table<K, VOut>(_graph,
                        detail::add_join_merge<K, change<VOut>>(*_graph, base, J, {left, right}));
}

template <class K, class V>
template <class V2, class F>
auto table<K, V>::join(const table<K, V2>& other, F joiner, named n) const {
  RILL_JOIN(detail::join_kind::inner, V, V2,
            "table.join(other_table, joiner) needs joiner(const V&, const VO&) or "
            "joiner(const K&, const V&, const VO&)",
            table_table_join<detail::join_kind::inner>(other, std::move(joiner), std::move(n)))
}

template <class K, class V>
template <class V2, class F>
auto table<K, V>::left_join(const table<K, V2>& other, F joiner, named n) const {
  RILL_JOIN(detail::join_kind::left, V, V2,
            "table.left_join(other_table, joiner) needs joiner(const V&, const "
            "std::optional<VO>&) or joiner(const K&, const V&, const "
            "std::optional<VO>&)",
            table_table_join<detail::join_kind::left>(other, std::move(joiner), std::move(n)))
}

template <class K, class V>
template <class V2, class F>
auto table<K, V>::outer_join(const table<K, V2>& other, F joiner, named n) const {
  RILL_JOIN(detail::join_kind::outer, V, V2,
            "table.outer_join(other_table, joiner) needs joiner(const "
            "std::optional<V>&, const std::optional<VO>&) or joiner(const K&, const "
            "std::optional<V>&, const std::optional<VO>&)",
            table_table_join<detail::join_kind::outer>(other, std::move(joiner), std::move(n)))
}

#undef RILL_JOIN

}  // namespace rill

#include <rill/detail/fk_join.hpp>  // the foreign-key joins, which use the above
