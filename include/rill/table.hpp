// Grouped streams and tables (Kafka Streams' KGroupedStream, KTable, KGroupedTable).
//
//   stream.group_by_key().count(rill::named("counts"))       -> table<K, std::int64_t>
//   stream.group_by(f).aggregate(init, agg)                    -> table<K2, VA>
//   builder.table<K, V>("topic")                               -> table<K, V>
//   table.group_by(f).aggregate(init, adder, subtractor)       -> table<K2, VA>
//   table.to_stream()                                          -> stream<K, std::optional<V>>
//
// Aggregations keep their results in a store named after the operation (or the name you
// give), changelogged to `<application.id>-<store>-changelog`. A grouping after a key
// change repartitions first, through `<application.id>-<name>-repartition`. With the
// store's cache on (the default), a result goes downstream when the cache flushes: once per
// key per commit. Tables pass changes (new value, old value) downstream, so a re-grouped
// table retracts a key's old value from its old group before adding the new one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <rill/detail/aggregate_nodes.hpp>
#include <rill/detail/change.hpp>
#include <rill/detail/concepts.hpp>
#include <rill/detail/graph.hpp>
#include <rill/state_store.hpp>
#include <rill/stream.hpp>
#include <rill/window.hpp>

namespace rill {

// How a grouping repartitions, when it has to (Kafka Streams' Grouped).
template <class K, class V>
struct grouped {
  any_serde<K> key_serde = default_serde<K>();
  any_serde<V> value_serde = default_serde<V>();
  std::string name;  // names the repartition topic: <application.id>-<name>-repartition
};

template <class K, class V>
class table;
template <class K, class V>
class grouped_table;
template <class K, class V>
class time_windowed_stream;
template <class K, class V>
class session_windowed_stream;
template <class K, class VA>
class cogrouped_stream;
template <class K, class VA>
class cogrouped_windowed_stream;
struct suppression;
namespace detail {
enum class join_kind : std::uint8_t;
}

namespace detail {

template <class F, class K, class V, class VA>
concept aggregator_fn = std::invocable<F&, const K&, const V&, VA&&> &&
    std::convertible_to<std::invoke_result_t<F&, const K&, const V&, VA&&>, VA>;

template <class F, class V>
concept reducer_fn = std::invocable<F&, V&&, const V&> &&
    std::convertible_to<std::invoke_result_t<F&, V&&, const V&>, V>;

// count/reduce/aggregate take a name (rill::named) or a full rill::materialized<K, VA>.
template <class K, class VA, class M>
materialized<K, VA> to_materialized(M m) {
  if constexpr (std::is_same_v<M, named>) {
    materialized<K, VA> out;
    out.name = std::move(m.name);
    return out;
  } else {
    return m;
  }
}
template <class M, class K, class VA>
inline constexpr bool naming_v = std::is_same_v<M, named> || std::is_same_v<M, materialized<K, VA>>;

// Adds an aggregation node that owns its store; returns the node's index.
template <class K, class VA>
int add_store_node(
    graph& g, node_spec spec, materialized<K, VA> m,
    std::function<std::unique_ptr<node>(const std::string& name, const std::string& store)> make) {
  if (spec.name.empty()) spec.name = m.name;
  const int id = g.add(std::move(spec));
  node_spec& added = g.at(id);
  if (m.name.empty()) m.name = added.name;
  g.add_store(make_store_spec(m));
  added.stores = {m.name};
  added.factory = [make, store = m.name](const node_args& a) { return make(a.name, store); };
  return id;
}

}  // namespace detail

// A stream grouped by key, ready to aggregate.
template <class K, class V>
class grouped_stream {
 public:
  // The number of records per key.
  template <class M = named>
  table<K, std::int64_t> count(M m = {}) const {
    static_assert(detail::naming_v<M, K, std::int64_t>,
                  "rill: count(m) takes rill::named or rill::materialized<K, std::int64_t>");
    return aggregate_impl<std::int64_t>(
        "count", [] { return std::int64_t{0}; },
        [](const K&, const V&, std::int64_t n) { return n + 1; },
        detail::to_materialized<K, std::int64_t>(std::move(m)));
  }

  // Combines the values of a key: reducer(aggregate, value) -> aggregate; the first value
  // is the first aggregate.
  template <class F, class M = named>
  table<K, V> reduce(F reducer, M m = {}) const {
    if constexpr (!detail::reducer_fn<F, V>) {
      static_assert(detail::always_false<F>,
                    "rill: reduce(f) needs f(V aggregate, const V& value) -> V");
      return {};
    } else {
      static_assert(detail::naming_v<M, K, V>,
                    "rill: reduce(f, m) takes rill::named or rill::materialized<K, V>");
      return aggregate_impl<V>(
          "reduce", detail::first_value{},
          [reducer](const K&, const V& v, V agg) mutable { return V(reducer(std::move(agg), v)); },
          detail::to_materialized<K, V>(std::move(m)));
    }
  }

  // Windows (<rill/windows.hpp>): count / reduce / aggregate per key and window.
  time_windowed_stream<K, V> windowed_by(const tumbling_window& w) const;
  time_windowed_stream<K, V> windowed_by(const hopping_window& w) const;
  time_windowed_stream<K, V> windowed_by(const sliding_window& w) const;
  session_windowed_stream<K, V> windowed_by(const session_window& w) const;

  // Starts a cogroup (<rill/cogroup.hpp>): this stream's aggregator(key, value, aggregate),
  // other grouped streams added with .cogroup(grouped, aggregator), one table at the end.
  template <class VA = void, class F>
  auto cogroup(F aggregator) const;

  // aggregate = aggregator(key, value, aggregate), starting from initializer().
  template <class I, class F, class M = named>
  auto aggregate(I initializer, F aggregator, M m = {}) const {
    if constexpr (!std::is_invocable_v<I&>) {
      static_assert(detail::always_false<I>, "rill: aggregate(init, agg) needs init() -> VA");
      return table<K, int>{};
    } else {
      using VA = std::remove_cvref_t<std::invoke_result_t<I&>>;
      if constexpr (!detail::aggregator_fn<F, K, V, VA>) {
        static_assert(
            detail::always_false<F>,
            "rill: aggregate(init, agg) needs agg(const K&, const V&, VA aggregate) -> VA");
        return table<K, VA>{};
      } else {
        static_assert(
            detail::naming_v<M, K, VA>,
            "rill: aggregate(init, agg, m) takes rill::named or rill::materialized<K, VA>");
        return aggregate_impl<VA>("aggregate", std::move(initializer), std::move(aggregator),
                                  detail::to_materialized<K, VA>(std::move(m)));
      }
    }
  }

 private:
  template <class, class>
  friend class stream;
  template <class, class>
  friend class cogrouped_stream;
  grouped_stream(std::shared_ptr<detail::graph> g, int node, grouped<K, V> how)
      : _graph(std::move(g)), _node(node), _grouped(std::move(how)) {}

  template <class VA, class Init, class Agg>
  table<K, VA> aggregate_impl(const char* op, Init init, Agg agg, materialized<K, VA> m) const {
    detail::node_spec spec;
    spec.op = op;
    spec.parents = {_node};
    spec.needs_copartitioned_input = true;
    spec.repartition_name = _grouped.name;
    spec.repartition = detail::make_repartition_parts<K, V>(
        repartitioned<K, V>{
            _grouped.key_serde, _grouped.value_serde, _grouped.name, std::nullopt, {}},
        "give serdes in rill::grouped<K, V>{.key_serde = ..., .value_serde = ...}");
    int id = detail::add_store_node<K, VA>(
        *_graph, std::move(spec), std::move(m),
        [init, agg](const std::string& name, const std::string& store) {
          return std::unique_ptr<detail::node>(
              new detail::stream_aggregate_node<K, V, VA, Init, Agg>(name, store, init, agg));
        });
    return table<K, VA>(_graph, id, _graph->at(id).stores.front());
  }

  std::shared_ptr<detail::graph> _graph;
  int _node = -1;
  grouped<K, V> _grouped;
};

// A changelog stream: the latest value per key.
template <class K, class V>
class table {
 public:
  using key_type = K;
  using value_type = V;
  table() = default;

  // The name of the store holding the table, if it is materialized.
  const std::string& store_name() const noexcept { return _store; }

  // Keeps keys whose value satisfies pred(key, value); a value that stops satisfying it
  // becomes a delete downstream.
  template <class P>
  table filter(P pred, named n = {}) const {
    return filter_impl(std::move(pred), std::move(n), false, "table-filter");
  }
  template <class P>
  table filter_not(P pred, named n = {}) const {
    return filter_impl(std::move(pred), std::move(n), true, "table-filter-not");
  }

  // New values from f(value) or f(key, value).
  template <class F>
  auto map_values(F f, named n = {}) const {
    if constexpr (!detail::value_mapper_fn<F, K, V>) {
      static_assert(detail::always_false<F>,
                    "rill: table.map_values(f) needs f(V) -> V2 or f(const K&, V) -> V2");
      return *this;
    } else {
      using V2 = detail::value_mapper_result_t<F, K, V>;
      auto body = [f](record<K, change<V>>&& r, auto& self) mutable {
        change<V2> c;
        self.user([&] {
          if (r.value.new_value)
            c.new_value = V2(detail::call_value_mapper(f, r.key, std::move(*r.value.new_value)));
          if (r.value.old_value)
            c.old_value = V2(detail::call_value_mapper(f, r.key, std::move(*r.value.old_value)));
        });
        self.emit(record<K, change<V2>>{std::move(r.key), std::move(c), r.timestamp,
                                        std::move(r.headers)});
      };
      return add<K, V2>("table-map-values", std::move(n), body, false);
    }
  }

  // Holds updates back (<rill/windows.hpp>): until_window_closes() for a windowed table's
  // final results, until_time_limit(d, max_records) to rate-limit any table's updates.
  table suppress(suppression s, named n = {}) const;

  // Joins with another table on the key (<rill/joins.hpp>, which defines them): a table of
  // joiner(v, vo) or joiner(key, v, vo); left and outer joins pass std::optional sides.
  template <class V2, class F>
  auto join(const table<K, V2>& other, F joiner, named n = {}) const;
  template <class V2, class F>
  auto left_join(const table<K, V2>& other, F joiner, named n = {}) const;
  template <class V2, class F>
  auto outer_join(const table<K, V2>& other, F joiner, named n = {}) const;
  // Foreign-key joins: each row joins the row of `other` whose key is foreign_key(value)
  // (Kafka Streams' KIP-213); the result is keyed as this table.
  template <class KO, class VO, class FK, class F>
  requires(!std::is_convertible_v<F, named>) auto join(const table<KO, VO>& other, FK foreign_key,
                                                       F joiner, named n = {}) const;
  template <class KO, class VO, class FK, class F>
  requires(!std::is_convertible_v<F, named>) auto left_join(const table<KO, VO>& other,
                                                            FK foreign_key, F joiner,
                                                            named n = {}) const;

  // The table's updates as a stream; a delete is a record with a null (nullopt) value.
  stream<K, std::optional<V>> to_stream(named n = {}) const {
    detail::node_spec spec;
    spec.op = "to-stream";
    spec.name = std::move(n.name);
    spec.parents = {_node};
    spec.factory = detail::fn_node_factory<K, change<V>, K, std::optional<V>>(
        [](record<K, change<V>>&& r, auto& self) {
          self.emit(record<K, std::optional<V>>{std::move(r.key), std::move(r.value.new_value),
                                                r.timestamp, std::move(r.headers)});
        });
    return stream<K, std::optional<V>>(_graph, _graph->add(std::move(spec)));
  }

  // Re-keys the table for re-aggregation: selector(key, value) -> std::pair<K2, V2>. Always
  // repartitions by the new key.
  template <class F>
  auto group_by(F selector, grouped<detail::kv_key_t<std::invoke_result_t<F&, const K&, V&&>>,
                                    detail::kv_value_t<std::invoke_result_t<F&, const K&, V&&>>>
                                how = {}) const {
    using KV = std::remove_cvref_t<std::invoke_result_t<F&, const K&, V&&>>;
    using K2 = detail::kv_key_t<KV>;
    using V2 = detail::kv_value_t<KV>;
    detail::node_spec spec;
    spec.op = "table-group-by";
    spec.parents = {_node};
    spec.changes_key = true;
    spec.factory = detail::fn_node_factory<K, change<V>, K2, change<V2>>(
        [selector](record<K, change<V>>&& r, auto& self) mutable {
          // Retract from the old group first, then add to the new one.
          if (r.value.old_value) {
            KV kv = self.user([&] {
              return KV(std::invoke(selector, std::as_const(r.key), V(*r.value.old_value)));
            });
            self.emit(record<K2, change<V2>>{
                detail::kv_key(std::move(kv)),
                change<V2>{std::nullopt, detail::kv_value(std::move(kv))}, r.timestamp, r.headers});
          }
          if (r.value.new_value) {
            KV kv = self.user([&] {
              return KV(std::invoke(selector, std::as_const(r.key), std::move(*r.value.new_value)));
            });
            self.emit(
                record<K2, change<V2>>{detail::kv_key(std::move(kv)),
                                       change<V2>{detail::kv_value(std::move(kv)), std::nullopt},
                                       r.timestamp, std::move(r.headers)});
          }
        });
    return grouped_table<K2, V2>(_graph, _graph->add(std::move(spec)), std::move(how));
  }

 private:
  template <class, class>
  friend class table;
  template <class, class>
  friend class grouped_stream;
  template <class, class>
  friend class grouped_table;
  template <class, class>
  friend class time_windowed_stream;
  template <class, class>
  friend class session_windowed_stream;
  template <class, class>
  friend class stream;
  template <class, class>
  friend class cogrouped_stream;
  template <class, class>
  friend class cogrouped_windowed_stream;
  friend class streams_builder;

  table(std::shared_ptr<detail::graph> g, int node, std::string store = {})
      : _graph(std::move(g)), _node(node), _store(std::move(store)) {}

  // The store holding the table's current values: its own, or one a materializing node
  // keeps for the joins that look it up.
  std::string materialize() const;
  template <detail::join_kind J, class V2, class F>
  auto table_table_join(const table<K, V2>& other, F joiner, named n) const;
  template <detail::join_kind J, class KO, class VO, class FK, class F>
  auto foreign_key_join(const table<KO, VO>& other, FK foreign_key, F joiner, named n) const;

  template <class P>
  table filter_impl(P pred, named n, bool negate, const char* op) const {
    if constexpr (!detail::predicate_fn<P, K, V>) {
      static_assert(detail::always_false<P>,
                    "rill: table.filter(pred) needs pred(const K&, const V&) -> bool");
      return *this;
    } else {
      auto body = [pred, negate](record<K, change<V>>&& r, auto& self) mutable {
        auto keep = [&](std::optional<V>& v) {
          if (v && static_cast<bool>(std::invoke(pred, std::as_const(r.key), std::as_const(*v))) ==
                       negate)
            v.reset();
        };
        self.user([&] {
          keep(r.value.new_value);
          keep(r.value.old_value);
        });
        if (r.value.new_value || r.value.old_value) self.emit(std::move(r));
      };
      return add<K, V>(op, std::move(n), body, false);
    }
  }

  template <class K2, class V2, class Body>
  table<K2, V2> add(const char* op, named n, Body body, bool changes_key) const {
    detail::node_spec spec;
    spec.op = op;
    spec.name = std::move(n.name);
    spec.parents = {_node};
    spec.changes_key = changes_key;
    spec.factory = detail::fn_node_factory<K, change<V>, K2, change<V2>>(std::move(body));
    table<K2, V2> t(_graph, _graph->add(std::move(spec)));
    if (!changes_key) t._window_close_after_end = _window_close_after_end;
    return t;
  }

  std::shared_ptr<detail::graph> _graph;
  int _node = -1;
  std::string _store;
  // A windowed aggregation's table: how long after a window's end it closes (grace, plus the
  // gap for sessions), for suppress(until_window_closes()); -1 otherwise.
  std::int64_t _window_close_after_end = -1;
};

// A table re-keyed by table::group_by, ready to re-aggregate with an adder and a subtractor.
template <class K, class V>
class grouped_table {
 public:
  template <class M = named>
  table<K, std::int64_t> count(M m = {}) const {
    static_assert(detail::naming_v<M, K, std::int64_t>,
                  "rill: count(m) takes rill::named or rill::materialized<K, std::int64_t>");
    return aggregate_impl<std::int64_t>(
        "count", [] { return std::int64_t{0}; },
        [](const K&, const V&, std::int64_t n) { return n + 1; },
        [](const K&, const V&, std::int64_t n) { return n - 1; },
        detail::to_materialized<K, std::int64_t>(std::move(m)));
  }

  // adder(aggregate, value) and subtractor(aggregate, old value); the first value of a key
  // is its first aggregate.
  template <class A, class S, class M = named>
  table<K, V> reduce(A adder, S subtractor, M m = {}) const {
    if constexpr (!detail::reducer_fn<A, V> || !detail::reducer_fn<S, V>) {
      static_assert(
          detail::always_false<A>,
          "rill: grouped_table.reduce(adder, subtractor) needs adder(V agg, const V& v) -> V and "
          "subtractor(V agg, const V& old) -> V");
      return {};
    } else {
      return aggregate_impl<V>(
          "reduce", detail::first_value{},
          [adder](const K&, const V& v, V agg) mutable { return V(adder(std::move(agg), v)); },
          [subtractor](const K&, const V& v, V agg) mutable {
            return V(subtractor(std::move(agg), v));
          },
          detail::to_materialized<K, V>(std::move(m)));
    }
  }

  // aggregate = adder(key, value, aggregate) for new values and subtractor(key, old value,
  // aggregate) for replaced ones, starting from initializer().
  template <class I, class A, class S, class M = named>
  auto aggregate(I initializer, A adder, S subtractor, M m = {}) const {
    using VA = std::remove_cvref_t<std::invoke_result_t<I&>>;
    if constexpr (!detail::aggregator_fn<A, K, V, VA> || !detail::aggregator_fn<S, K, V, VA>) {
      static_assert(
          detail::always_false<A>,
          "rill: grouped_table.aggregate(init, adder, subtractor) needs adder and subtractor "
          "(const K&, const V&, VA aggregate) -> VA");
      return table<K, VA>{};
    } else {
      return aggregate_impl<VA>("aggregate", std::move(initializer), std::move(adder),
                                std::move(subtractor),
                                detail::to_materialized<K, VA>(std::move(m)));
    }
  }

 private:
  template <class, class>
  friend class table;
  grouped_table(std::shared_ptr<detail::graph> g, int node, grouped<K, V> how)
      : _graph(std::move(g)), _node(node), _grouped(std::move(how)) {}

  template <class VA, class Init, class Add, class Sub>
  table<K, VA> aggregate_impl(const char* op, Init init, Add add, Sub sub,
                              materialized<K, VA> m) const {
    detail::node_spec spec;
    spec.op = op;
    spec.parents = {_node};
    spec.needs_copartitioned_input = true;
    spec.repartition_name = _grouped.name;
    any_serde<change<V>> change_serde(detail::change_serde<V>{_grouped.value_serde});
    if (!_grouped.value_serde) change_serde = {};
    spec.repartition = detail::make_repartition_parts<K, change<V>>(
        repartitioned<K, change<V>>{
            _grouped.key_serde, change_serde, _grouped.name, std::nullopt, {}},
        "give serdes in rill::grouped<K, V>{.key_serde = ..., .value_serde = ...}");
    int id = detail::add_store_node<K, VA>(
        *_graph, std::move(spec), std::move(m),
        [init, add, sub](const std::string& name, const std::string& store) {
          return std::unique_ptr<detail::node>(
              new detail::table_aggregate_node<K, V, VA, Init, Add, Sub>(name, store, init, add,
                                                                         sub));
        });
    return table<K, VA>(_graph, id, _graph->at(id).stores.front());
  }

  std::shared_ptr<detail::graph> _graph;
  int _node = -1;
  grouped<K, V> _grouped;
};

// stream's grouping operations, defined here where grouped_stream is complete.
template <class K, class V>
grouped_stream<K, V> stream<K, V>::group_by_key(grouped<K, V> how) const {
  return grouped_stream<K, V>(_graph, _node, std::move(how));
}

template <class K, class V>
template <class F>
auto stream<K, V>::group_by(F selector, grouped<detail::group_by_key_t<F, K, V>, V> how) const {
  if constexpr (!detail::key_selector_fn<F, K, V>) {
    static_assert(detail::always_false<F>, "rill: group_by(f) needs f(const K&, const V&) -> K2");
    return grouped_stream<K, V>(_graph, _node, {});
  } else {
    using K2 = detail::group_by_key_t<F, K, V>;
    detail::node_spec spec = processor_spec<K2, V>(
        "group-by", {},
        [selector](record<K, V>&& r, auto& self) mutable {
          K2 k = self.user([&] {
            return K2(std::invoke(selector, std::as_const(r.key), std::as_const(r.value)));
          });
          self.emit(
              record<K2, V>{std::move(k), std::move(r.value), r.timestamp, std::move(r.headers)});
        },
        true);
    spec.parents = {_node};
    return grouped_stream<K2, V>(_graph, _graph->add(std::move(spec)), std::move(how));
  }
}

}  // namespace rill
