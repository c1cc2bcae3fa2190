// Windowed aggregations (Kafka Streams' TimeWindowedKStream, SessionWindowedKStream) and
// suppress.
//
//   views.group_by_key()
//       .windowed_by(rill::tumbling_window(5min).grace(30s))   // or hopping, sliding
//       .count(rill::named("views-per-5min"))    // table<rill::windowed<K>, std::int64_t>
//       .to_stream()
//       .to("views-per-5min");
//   views.group_by_key().windowed_by(rill::session_window(30min))
//       .aggregate(init, aggregator, merger);
//   ....emit_final()                       // one result per window, when it closes
//   windowed_table.suppress(rill::until_window_closes());
//   any_table.suppress(rill::until_time_limit(1min, 1000));   // at most one update a minute
//
// Results are tables keyed by windowed<K>, in a window store (session store) named as the
// aggregation's store, changelogged to `<application.id>-<store>-changelog` (compact,delete)
// and kept for the window's size (or gap) plus grace unless materialized.retention says
// longer. Eager by default: with the store's cache on, a window's update goes downstream once
// per commit. docs/windows.md has the semantics.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include <rill/detail/dsl_support.hpp>
#include <rill/detail/graph.hpp>
#include <rill/detail/session_nodes.hpp>
#include <rill/detail/suppress_node.hpp>
#include <rill/detail/window_nodes.hpp>
#include <rill/table.hpp>
#include <rill/window.hpp>
#include <rill/window_store.hpp>

namespace rill {

// What suppress holds back: until_window_closes() or until_time_limit(d, max_records).
struct suppression {
  bool until_window_closes = true;
  std::chrono::milliseconds limit{0};
  buffer_config buffer;
};

// A windowed table's final result per window: nothing until the window closes (end + grace,
// + gap for sessions), then its last value. The buffer is unbounded unless given; when it is
// full it fails the task (Kafka Streams' untilWindowCloses accepts only strict buffers).
inline suppression until_window_closes(buffer_config buffer = {}) {
  if (buffer.on_full == when_full::emit_early &&
      (buffer.max_records != std::numeric_limits<std::size_t>::max() ||
       buffer.max_bytes != std::numeric_limits<std::size_t>::max())) {
    throw topology_error(
        "until_window_closes: a buffer that emits early would emit results before their window "
        "closes; use when_full::shut_down or an unbounded buffer");
  }
  return {true, std::chrono::milliseconds(0), buffer};
}

// At most one update per key per `limit` of stream time: a key's first update starts its
// timer; when it runs out, the latest update goes downstream. When more than `max_records`
// keys are held, the earliest goes out early (or the task fails, with when_full::shut_down).
inline suppression until_time_limit(
    std::chrono::milliseconds limit,
    std::size_t max_records = std::numeric_limits<std::size_t>::max(),
    when_full on_full = when_full::emit_early) {
  if (limit.count() < 0) {
    throw topology_error("until_time_limit: the limit is " + std::to_string(limit.count()) +
                         " ms; it must be 0 or more");
  }
  return {false, limit,
          buffer_config{max_records, std::numeric_limits<std::size_t>::max(), on_full}};
}

namespace detail {

template <class F, class K, class VA>
concept merger_fn = std::invocable<F&, const K&, VA&&, const VA&> &&
    std::convertible_to<std::invoke_result_t<F&, const K&, VA&&, const VA&>, VA>;

// The stores of a windowed aggregation: its window (session) store and, for emit final, the
// emitted-up-to mark. Adds the node; returns its index.
template <class K, class VA>
int add_windowed_node(
    graph& g, node_spec spec, const materialized<K, VA>& m, store_spec main, bool final,
    std::function<std::unique_ptr<node>(const std::string& name, const std::string& store,
                                        const std::string& mark)>
        make) {
  if (spec.name.empty()) spec.name = m.name;
  const int id = g.add(std::move(spec));
  node_spec& added = g.at(id);
  if (main.name.empty()) main.name = added.name;
  const std::string store = main.name;
  g.add_store(std::move(main));
  added.stores = {store};
  std::string mark;
  if (final) {
    materialized<std::string, std::int64_t> mm;
    mm.name = store + "-emitted";
    mm.type = m.type;
    mm.caching = false;
    mm.logging = m.logging;
    g.add_store(make_store_spec(mm));
    added.stores.push_back(mm.name);
    mark = mm.name;
  }
  added.factory = [make, store, mark](const node_args& a) { return make(a.name, store, mark); };
  return id;
}

// The node spec of an aggregation over a grouped stream: it repartitions first when the key
// changed upstream.
template <class K, class V>
node_spec grouped_aggregation_spec(const char* op, int parent, const grouped<K, V>& how) {
  node_spec spec;
  spec.op = op;
  spec.parents = {parent};
  spec.needs_copartitioned_input = true;
  spec.repartition_name = how.name;
  spec.repartition = make_repartition_parts<K, V>(
      repartitioned<K, V>{how.key_serde, how.value_serde, how.name, std::nullopt, {}},
      "give serdes in rill::grouped<K, V>{.key_serde = ..., .value_serde = ...}");
  return spec;
}

}  // namespace detail

// A grouped stream windowed by time: tumbling, hopping or sliding windows.
template <class K, class V>
class time_windowed_stream {
 public:
  // Forward each window once, when it closes (end + grace <= stream time), with its final
  // value; nothing before (Kafka Streams' EmitStrategy.onWindowClose).
  time_windowed_stream emit_final() const {
    time_windowed_stream s = *this;
    s._final = true;
    return s;
  }

  template <class M = named>
  table<windowed<K>, std::int64_t> count(M m = {}) const {
    static_assert(detail::naming_v<M, K, std::int64_t>,
                  "rill: count(m) takes rill::named or rill::materialized<K, std::int64_t>");
    return aggregate_impl<std::int64_t>(
        "count", [] { return std::int64_t{0}; },
        [](const K&, const V&, std::int64_t n) { return n + 1; },
        detail::to_materialized<K, std::int64_t>(std::move(m)));
  }

  template <class F, class M = named>
  table<windowed<K>, V> reduce(F reducer, M m = {}) const {
    if constexpr (!detail::reducer_fn<F, V>) {
      static_assert(detail::always_false<F>,
                    "rill: windowed reduce(f) needs f(V aggregate, const V& value) -> V");
      return {};
    } else {
      return aggregate_impl<V>(
          "reduce", detail::first_value{},
          [reducer](const K&, const V& v, V agg) mutable { return V(reducer(std::move(agg), v)); },
          detail::to_materialized<K, V>(std::move(m)));
    }
  }

  template <class I, class F, class M = named>
  auto aggregate(I initializer, F aggregator, M m = {}) const {
    if constexpr (!std::is_invocable_v<I&>) {
      static_assert(detail::always_false<I>,
                    "rill: windowed aggregate(init, agg) needs init() -> VA");
      return table<windowed<K>, int>{};
    } else {
      using VA = std::remove_cvref_t<std::invoke_result_t<I&>>;
      if constexpr (!detail::aggregator_fn<F, K, V, VA>) {
        static_assert(detail::always_false<F>,
                      "rill: windowed aggregate(init, agg) needs agg(const K&, const V&, VA "
                      "aggregate) -> VA");
        return table<windowed<K>, VA>{};
      } else {
        return aggregate_impl<VA>("aggregate", std::move(initializer), std::move(aggregator),
                                  detail::to_materialized<K, VA>(std::move(m)));
      }
    }
  }

 private:
  template <class, class>
  friend class grouped_stream;
  time_windowed_stream(std::shared_ptr<detail::graph> g, int node, grouped<K, V> how,
                       detail::time_windows w)
      : _graph(std::move(g)), _node(node), _grouped(std::move(how)), _time(w) {}
  time_windowed_stream(std::shared_ptr<detail::graph> g, int node, grouped<K, V> how,
                       detail::sliding_windows w)
      : _graph(std::move(g)), _node(node), _grouped(std::move(how)), _sliding(w) {}

  template <class VA, class Init, class Agg>
  table<windowed<K>, VA> aggregate_impl(const char* op, Init init, Agg agg,
                                        materialized<K, VA> m) const {
    detail::node_spec spec = detail::grouped_aggregation_spec<K, V>(op, _node, _grouped);
    const bool final = _final;
    int id = -1;
    std::int64_t grace = 0;
    if (_sliding) {
      const detail::sliding_windows w = *_sliding;
      grace = w.grace;
      auto tm = detail::timed_materialized(m);
      detail::store_spec store = detail::make_window_store_spec(
          tm, detail::window_layout::by_key, w.difference,
          detail::retention_of(m, 2 * w.difference + w.grace), final);
      id = detail::add_windowed_node<K, VA>(
          *_graph, std::move(spec), m, std::move(store), final,
          [w, init, agg](const std::string& name, const std::string& s, const std::string& mark) {
            return std::unique_ptr<detail::node>(
                new detail::sliding_window_aggregate_node<K, V, VA, Init, Agg>(name, s, mark, w,
                                                                               init, agg));
          });
    } else {
      const detail::time_windows w = *_time;
      grace = w.grace;
      detail::store_spec store = detail::make_window_store_spec(
          m, final ? detail::window_layout::by_time : detail::window_layout::by_key, w.size,
          detail::retention_of(m, w.size + w.grace), final);
      id = detail::add_windowed_node<K, VA>(
          *_graph, std::move(spec), m, std::move(store), final,
          [w, init, agg](const std::string& name, const std::string& s, const std::string& mark) {
            return std::unique_ptr<detail::node>(
                new detail::time_window_aggregate_node<K, V, VA, Init, Agg>(name, s, mark, w, init,
                                                                            agg));
          });
    }
    table<windowed<K>, VA> t(_graph, id, _graph->at(id).stores.front());
    t._window_close_after_end = grace;
    return t;
  }

  std::shared_ptr<detail::graph> _graph;
  int _node = -1;
  grouped<K, V> _grouped;
  std::optional<detail::time_windows> _time;
  std::optional<detail::sliding_windows> _sliding;
  bool _final = false;
};

// A grouped stream windowed into sessions.
template <class K, class V>
class session_windowed_stream {
 public:
  session_windowed_stream emit_final() const {
    session_windowed_stream s = *this;
    s._final = true;
    return s;
  }

  template <class M = named>
  table<windowed<K>, std::int64_t> count(M m = {}) const {
    return aggregate([] { return std::int64_t{0}; },
                     [](const K&, const V&, std::int64_t n) { return n + 1; },
                     [](const K&, std::int64_t a, std::int64_t b) { return a + b; }, std::move(m));
  }

  // reducer(aggregate, value) -> V; merging two sessions reduces their aggregates.
  template <class F, class M = named>
  table<windowed<K>, V> reduce(F reducer, M m = {}) const {
    if constexpr (!detail::reducer_fn<F, V>) {
      static_assert(detail::always_false<F>,
                    "rill: session reduce(f) needs f(V aggregate, const V& value) -> V");
      return {};
    } else {
      return aggregate_impl<V>(
          "reduce", detail::first_value{},
          [reducer](const K&, const V& v, V agg) mutable { return V(reducer(std::move(agg), v)); },
          [reducer](const K&, V a, const V& b) mutable { return V(reducer(std::move(a), b)); },
          detail::to_materialized<K, V>(std::move(m)));
    }
  }

  // aggregate = aggregator(key, value, aggregate); two sessions that a record bridges merge
  // into merger(key, aggregate1, aggregate2).
  template <class I, class F, class G, class M = named>
  auto aggregate(I initializer, F aggregator, G merger, M m = {}) const {
    if constexpr (!std::is_invocable_v<I&>) {
      static_assert(detail::always_false<I>,
                    "rill: session aggregate(init, agg, merger) needs init() -> VA");
      return table<windowed<K>, int>{};
    } else {
      using VA = std::remove_cvref_t<std::invoke_result_t<I&>>;
      if constexpr (!detail::aggregator_fn<F, K, V, VA>) {
        static_assert(detail::always_false<F>,
                      "rill: session aggregate(init, agg, merger) needs agg(const K&, const V&, "
                      "VA aggregate) -> VA");
        return table<windowed<K>, VA>{};
      } else if constexpr (!detail::merger_fn<G, K, VA>) {
        static_assert(detail::always_false<G>,
                      "rill: session aggregate(init, agg, merger) needs merger(const K&, VA, const "
                      "VA&) -> VA");
        return table<windowed<K>, VA>{};
      } else {
        return aggregate_impl<VA>("aggregate", std::move(initializer), std::move(aggregator),
                                  std::move(merger), detail::to_materialized<K, VA>(std::move(m)));
      }
    }
  }

 private:
  template <class, class>
  friend class grouped_stream;
  session_windowed_stream(std::shared_ptr<detail::graph> g, int node, grouped<K, V> how,
                          detail::session_windows w)
      : _graph(std::move(g)), _node(node), _grouped(std::move(how)), _w(w) {}

  template <class VA, class Init, class Agg, class Merge>
  table<windowed<K>, VA> aggregate_impl(const char* op, Init init, Agg agg, Merge merge,
                                        materialized<K, VA> m) const {
    detail::node_spec spec = detail::grouped_aggregation_spec<K, V>(op, _node, _grouped);
    const detail::session_windows w = _w;
    detail::store_spec store =
        // One more than gap + grace: a session is kept until the record after the one that
        // closes it (sessions close when their end is strictly below the close time).
        detail::make_session_store_spec(m, detail::retention_of(m, w.gap + w.grace + 1), _final);
    const int id = detail::add_windowed_node<K, VA>(
        *_graph, std::move(spec), m, std::move(store), _final,
        [w, init, agg, merge](const std::string& name, const std::string& s,
                              const std::string& mark) {
          return std::unique_ptr<detail::node>(
              new detail::session_aggregate_node<K, V, VA, Init, Agg, Merge>(name, s, mark, w, init,
                                                                             agg, merge));
        });
    table<windowed<K>, VA> t(_graph, id, _graph->at(id).stores.front());
    t._window_close_after_end = w.grace + w.gap;
    return t;
  }

  std::shared_ptr<detail::graph> _graph;
  int _node = -1;
  grouped<K, V> _grouped;
  detail::session_windows _w;
  bool _final = false;
};

template <class K, class V>
time_windowed_stream<K, V> grouped_stream<K, V>::windowed_by(const tumbling_window& w) const {
  return {_graph, _node, _grouped,
          detail::time_windows{w.size().count(), w.advance().count(), w.grace_period().count()}};
}

template <class K, class V>
time_windowed_stream<K, V> grouped_stream<K, V>::windowed_by(const hopping_window& w) const {
  return {_graph, _node, _grouped,
          detail::time_windows{w.size().count(), w.advance().count(), w.grace_period().count()}};
}

template <class K, class V>
time_windowed_stream<K, V> grouped_stream<K, V>::windowed_by(const sliding_window& w) const {
  return {_graph, _node, _grouped,
          detail::sliding_windows{w.time_difference().count(), w.grace_period().count()}};
}

template <class K, class V>
session_windowed_stream<K, V> grouped_stream<K, V>::windowed_by(const session_window& w) const {
  return {_graph, _node, _grouped,
          detail::session_windows{w.inactivity_gap().count(), w.grace_period().count()}};
}

template <class K, class V>
table<K, V> table<K, V>::suppress(suppression s, named n) const {
  detail::suppression_spec spec;
  spec.until_window_closes = s.until_window_closes;
  spec.limit_ms = s.limit.count();
  spec.buffer = s.buffer;
  any_serde<K> ks;
  if constexpr (requires(const K& k) { k.window.end; }) {
    using K0 = std::remove_cvref_t<decltype(std::declval<K>().key)>;
    if (_window_close_after_end < 0 && s.until_window_closes) {
      throw topology_error(
          "suppress(until_window_closes()): the table is not the result of a "
          "windowed aggregation; suppress that table, or use until_time_limit");
    }
    spec.close_after_end_ms = _window_close_after_end;
    if (auto inner = default_serde<K0>()) ks = serdes::exact_windowed_serde<any_serde<K0>>{inner};
  } else {
    if (s.until_window_closes) {
      throw topology_error(
          "suppress(until_window_closes()) needs a windowed table (keys "
          "rill::windowed<K>); for other tables use until_time_limit(d)");
    }
    ks = default_serde<K>();
  }
  any_serde<V> vs = default_serde<V>();
  if (!ks || !vs) {
    throw topology_error("suppress: no default serde for the table's " +
                         std::string(!ks ? "key" : "value") + " type '" +
                         detail::type_name<std::conditional_t<true, K, V>>() +
                         "' to hold it in its buffer; specialize rill::serde_traits");
  }
  detail::node_spec node;
  node.op = "suppress";
  node.name = std::move(n.name);
  node.parents = {_node};
  const int id = _graph->add(std::move(node));
  detail::node_spec& added = _graph->at(id);
  materialized<bytes, bytes> buffer;
  buffer.name = added.name + "-buffer";
  buffer.type = store_type::in_memory;
  buffer.caching = false;
  _graph->add_store(detail::make_store_spec(buffer));
  added.stores = {buffer.name};
  added.factory = [store = buffer.name, spec, ks, vs](const detail::node_args& a) {
    return std::unique_ptr<detail::node>(
        new detail::suppress_node<K, V>(a.name, store, spec, ks, vs));
  };
  table<K, V> t(_graph, id);
  t._window_close_after_end = _window_close_after_end;
  return t;
}

}  // namespace rill
