// Cogrouping (Kafka Streams' KIP-150): several grouped streams with the same key, each with
// its own aggregator, aggregated into one table with one store.
//
//   auto totals = clicks.group_by_key()
//                     .cogroup([](const std::string&, const click&, stats s) { return s.add(c); })
//                     .cogroup(views.group_by_key(),
//                              [](const std::string&, const view& v, stats s) { ... })
//                     .aggregate([] { return stats{}; }, rill::named("stats"));
//   ....windowed_by(rill::tumbling_window(5min)).aggregate(init)   // per window
//
// The aggregate type is what the first aggregator returns (or cogroup<VA>(...) names it).
// Each input repartitions first if its key changed; all inputs must be co-partitioned
// (checked at start). With the store's cache on, each key's result goes downstream once per
// commit, whichever input updated it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <rill/detail/aggregate_nodes.hpp>
#include <rill/detail/graph.hpp>
#include <rill/detail/window_nodes.hpp>
#include <rill/table.hpp>
#include <rill/window.hpp>
#include <rill/windows.hpp>

namespace rill {

namespace detail {

// The result type of a non-generic callable's call operator (the aggregate of cogroup).
template <class F>
struct call_result : call_result<decltype(&F::operator())> {};
template <class C, class R, class... A>
struct call_result<R (C::*)(A...) const> {
  using type = R;
};
template <class C, class R, class... A>
struct call_result<R (C::*)(A...)> {
  using type = R;
};
template <class R, class... A>
struct call_result<R (*)(A...)> {
  using type = R;
};

template <class VA>
using initializer = std::function<VA()>;

// One input of a cogroup: adds its aggregation node over the store (and windows, if any).
template <class VA>
using cogroup_input = std::function<int(const std::string& store, initializer<VA> init,
                                        std::optional<time_windows> windows)>;

}  // namespace detail

template <class K, class VA>
class cogrouped_windowed_stream;

template <class K, class VA>
class cogrouped_stream {
 public:
  // Adds another grouped stream with its aggregator(key, value, aggregate) -> aggregate.
  template <class V2, class F>
  cogrouped_stream& cogroup(const grouped_stream<K, V2>& other, F aggregator) {
    if constexpr (!detail::aggregator_fn<F, K, V2, VA>) {
      static_assert(detail::always_false<F>,
                    "rill: cogroup(grouped, agg) needs agg(const K&, const V&, VA aggregate) -> VA "
                    "with the VA of the first cogroup");
    } else {
      add(other, std::move(aggregator));
    }
    return *this;
  }

  // The aggregate per key, starting from initializer().
  template <class I, class M = named>
  table<K, VA> aggregate(I initializer, M m = {}) const {
    static_assert(std::is_convertible_v<std::invoke_result_t<I&>, VA>,
                  "rill: cogrouped aggregate(init) needs init() -> the aggregate type");
    static_assert(detail::naming_v<M, K, VA>,
                  "rill: aggregate(init, m) takes rill::named or rill::materialized<K, VA>");
    materialized<K, VA> mm = detail::to_materialized<K, VA>(std::move(m));
    if (mm.name.empty()) mm.name = generated_name();
    _graph->add_store(detail::make_store_spec(mm));
    const int out = build(mm.name, detail::initializer<VA>(std::move(initializer)), std::nullopt);
    return table<K, VA>(_graph, out, mm.name);
  }

  cogrouped_windowed_stream<K, VA> windowed_by(const tumbling_window& w) const {
    return {*this,
            detail::time_windows{w.size().count(), w.advance().count(), w.grace_period().count()}};
  }
  cogrouped_windowed_stream<K, VA> windowed_by(const hopping_window& w) const {
    return {*this,
            detail::time_windows{w.size().count(), w.advance().count(), w.grace_period().count()}};
  }

 private:
  template <class, class>
  friend class grouped_stream;
  template <class, class>
  friend class cogrouped_windowed_stream;
  explicit cogrouped_stream(std::shared_ptr<detail::graph> g) : _graph(std::move(g)) {}

  template <class V, class F>
  void add(const grouped_stream<K, V>& g, F aggregator) {
    if (g._graph != _graph)
      throw topology_error("cogroup: every grouped stream must come from the same streams_builder");
    _inputs.push_back([graph = _graph, node = g._node, how = g._grouped, aggregator](
                          const std::string& store, detail::initializer<VA> init,
                          std::optional<detail::time_windows> w) {
      detail::node_spec spec = detail::grouped_aggregation_spec<K, V>("cogroup", node, how);
      spec.stores = {store};
      using Init = detail::initializer<VA>;
      if (w) {
        spec.factory = [store, init, aggregator, w = *w](const detail::node_args& a) {
          return std::unique_ptr<detail::node>(
              new detail::time_window_aggregate_node<K, V, VA, Init, F>(a.name, store, "", w, init,
                                                                        aggregator));
        };
      } else {
        spec.factory = [store, init, aggregator](const detail::node_args& a) {
          return std::unique_ptr<detail::node>(new detail::stream_aggregate_node<K, V, VA, Init, F>(
              a.name, store, init, aggregator));
        };
      }
      return graph->add(std::move(spec));
    });
  }

  std::string generated_name() const {
    std::string n = std::to_string(_graph->nodes().size());
    return "cogroup-" + std::string(n.size() < 4 ? 4 - n.size() : 0, '0') + n;
  }

  // Adds every input's node over `store` and the node merging their results; returns it.
  template <class KOut = K>
  int build(const std::string& store, detail::initializer<VA> init,
            std::optional<detail::time_windows> w) const {
    std::vector<int> ids;
    for (const auto& in : _inputs) ids.push_back(in(store, init, w));
    for (int id : ids) {
      auto& spec = _graph->at(id);
      for (int other : ids) {
        if (other != id) spec.copartition_with.push_back(other);
      }
    }
    detail::node_spec merge;
    merge.op = "cogroup-merge";
    merge.name = store + "-cogroup";
    merge.parents = ids;
    using C = change<VA>;
    merge.factory = detail::fn_node_factory<KOut, C, KOut, C>(
        [](record<KOut, C>&& r, auto& self) { self.emit(std::move(r)); });
    return _graph->add(std::move(merge));
  }

  std::shared_ptr<detail::graph> _graph;
  std::vector<detail::cogroup_input<VA>> _inputs;
};

// A cogrouped stream windowed by time (tumbling or hopping): one aggregate per key and window.
template <class K, class VA>
class cogrouped_windowed_stream {
 public:
  template <class I, class M = named>
  table<windowed<K>, VA> aggregate(I initializer, M m = {}) const {
    static_assert(std::is_convertible_v<std::invoke_result_t<I&>, VA>,
                  "rill: cogrouped aggregate(init) needs init() -> the aggregate type");
    materialized<K, VA> mm = detail::to_materialized<K, VA>(std::move(m));
    if (mm.name.empty()) mm.name = _cogrouped.generated_name();
    _cogrouped._graph->add_store(detail::make_window_store_spec(
        mm, detail::window_layout::by_key, _w.size, detail::retention_of(mm, _w.size + _w.grace)));
    const int out = _cogrouped.template build<windowed<K>>(
        mm.name, detail::initializer<VA>(std::move(initializer)), _w);
    table<windowed<K>, VA> t(_cogrouped._graph, out, mm.name);
    t._window_close_after_end = _w.grace;
    return t;
  }

 private:
  friend class cogrouped_stream<K, VA>;
  cogrouped_windowed_stream(cogrouped_stream<K, VA> c, detail::time_windows w)
      : _cogrouped(std::move(c)), _w(w) {}
  cogrouped_stream<K, VA> _cogrouped;
  detail::time_windows _w;
};

template <class K, class V>
template <class VA, class F>
auto grouped_stream<K, V>::cogroup(F aggregator) const {
  using A = std::conditional_t<std::is_void_v<VA>, typename detail::call_result<F>::type, VA>;
  using VR = std::remove_cvref_t<A>;
  if constexpr (!detail::aggregator_fn<F, K, V, VR>) {
    static_assert(detail::always_false<F>,
                  "rill: cogroup(agg) needs agg(const K&, const V&, VA aggregate) -> VA");
    return cogrouped_stream<K, VR>(_graph);
  } else {
    cogrouped_stream<K, VR> c(_graph);
    c.add(*this, std::move(aggregator));
    return c;
  }
}

}  // namespace rill
