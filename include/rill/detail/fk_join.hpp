// table::join / left_join with a foreign key: the graph of detail/fk_join_nodes.hpp. Included
// by <rill/joins.hpp>.
#pragma once

#include <string>
#include <type_traits>
#include <utility>

#include <rill/detail/fk_join_nodes.hpp>
#include <rill/detail/join_support.hpp>
#include <rill/table.hpp>

namespace rill {

namespace detail {

// Every type a foreign-key join writes to its topics needs a serde: say which is missing.
template <class T>
void require_serde(const char* role, const std::string& join) {
  if (!default_serde<T>()) {
    throw topology_error("foreign-key join '" + join + "': no serde for the " + role + " type '" +
                         type_name<T>() + "'; specialize rill::serde_traits<T> for it");
  }
}

template <class F, class V, class KO>
concept foreign_key_fn =
    std::invocable<F&, const V&> && std::convertible_to<std::invoke_result_t<F&, const V&>, KO>;

}  // namespace detail

template <class K, class V>
template <detail::join_kind J, class KO, class VO, class FK, class F>
auto table<K, V>::foreign_key_join(const table<KO, VO>& other, FK foreign_key, F joiner,
                                   named n) const {
  using Join = detail::join_function<J, K, V, VO, F>;
  using VOut = typename Join::result;
  if (other._graph != _graph)
    throw topology_error("foreign-key join: both tables must come from the same streams_builder");
  const std::string base = detail::join_base_name(*_graph, n.name, J);
  detail::require_serde<K>("key", base);
  detail::require_serde<KO>("foreign key", base);
  detail::require_serde<VO>("other table's value", base);
  detail::require_serde<VOut>("result", base);
  const std::string left_store = materialize();
  const std::string right_store = other.materialize();
  const std::string subscriptions = base + "-subscription-store";
  materialized<bytes, bytes> subs;
  subs.name = subscriptions;
  subs.caching = false;
  _graph->add_store(detail::make_store_spec(subs));
  materialized<K, VOut> results;
  results.name = base + "-result-store";
  _graph->add_store(detail::make_store_spec(results));

  auto add = [&](const char* op, std::string name, std::vector<int> parents,
                 std::vector<std::string> stores, detail::node_factory f) {
    detail::node_spec spec;
    spec.op = op;
    spec.name = std::move(name);
    spec.parents = std::move(parents);
    spec.stores = std::move(stores);
    spec.changes_key = true;
    spec.factory = std::move(f);
    return _graph->add(std::move(spec));
  };
  const int subscribe =
      add("fk-join-subscribe", base + "-subscribe", {_node}, {left_store},
          [left_store, foreign_key](const detail::node_args& a) -> std::unique_ptr<detail::node> {
            return std::make_unique<detail::fk_subscribe_node<K, V, KO, FK>>(
                a.name, left_store, J == detail::join_kind::left, foreign_key);
          });
  const int receive = add(
      "fk-join-receive", base + "-receive", {subscribe}, {subscriptions, right_store},
      [subscriptions, right_store](const detail::node_args& a) -> std::unique_ptr<detail::node> {
        return std::make_unique<detail::fk_receive_node<K, KO, VO>>(
            a.name, subscriptions, right_store, default_serde<K>());
      });
  {
    detail::node_spec& r = _graph->at(receive);
    r.needs_copartitioned_input = true;
    r.copartition_with = {other._node};
    r.repartition_name = base + "-subscription-registration";
    r.repartition = detail::make_repartition_parts<KO, detail::subscription<K>>(
        repartitioned<KO, detail::subscription<K>>{
            default_serde<KO>(), detail::subscription_serde<K>{default_serde<K>()}, {}, {}, {}},
        "specialize rill::serde_traits<T> for the foreign key");
  }
  const int right =
      add("fk-join-right", base + "-right", {other._node}, {subscriptions},
          [subscriptions](const detail::node_args& a) -> std::unique_ptr<detail::node> {
            return std::make_unique<detail::fk_right_update_node<K, KO, VO>>(
                a.name, subscriptions, default_serde<K>(), default_serde<KO>());
          });
  const int responses = detail::add_join_merge<K, detail::response<VO>>(
      *_graph, base + "-responses", J, {receive, right});
  _graph->at(responses).changes_key = true;
  const int resolve =
      add("fk-join-resolve", base, {responses}, {results.name, left_store},
          [store = results.name, left_store,
           joiner](const detail::node_args& a) -> std::unique_ptr<detail::node> {
            return std::make_unique<detail::fk_resolve_node<K, V, VO, Join>>(
                a.name, store, left_store, J == detail::join_kind::left, Join{joiner});
          });
  {
    detail::node_spec& r = _graph->at(resolve);
    r.changes_key = false;
    r.needs_copartitioned_input = true;
    r.copartition_with = {_node};
    r.repartition_name = base + "-subscription-response";
    r.repartition = detail::make_repartition_parts<K, detail::response<VO>>(
        repartitioned<K, detail::response<VO>>{
            default_serde<K>(), detail::response_serde<VO>{default_serde<VO>()}, {}, {}, {}},
        "specialize rill::serde_traits<T> for the key");
  }
  return table<K, VOut>(_graph, resolve, results.name);
}

template <class K, class V>
template <class KO, class VO, class FK, class F>
requires(!std::is_convertible_v<F, named>) auto table<K, V>::join(const table<KO, VO>& other,
                                                                  FK foreign_key, F joiner,
                                                                  named n) const {
  if constexpr (!detail::foreign_key_fn<FK, V, KO>) {
    static_assert(detail::always_false<FK>,
                  "rill: table.join(other, foreign_key, joiner) needs foreign_key(const V&) -> "
                  "the other table's key");
    return *this;
  } else if constexpr (!detail::joiner_fn<F, K, const V&, const VO&>) {
    static_assert(detail::always_false<F>,
                  "rill: table.join(other, foreign_key, joiner) needs joiner(const V&, const VO&) "
                  "or joiner(const K&, const V&, const VO&)");
    return *this;
  } else {
    return foreign_key_join<detail::join_kind::inner>(other, std::move(foreign_key),
                                                      std::move(joiner), std::move(n));
  }
}

template <class K, class V>
template <class KO, class VO, class FK, class F>
requires(!std::is_convertible_v<F, named>) auto table<K, V>::left_join(const table<KO, VO>& other,
                                                                       FK foreign_key, F joiner,
                                                                       named n) const {
  if constexpr (!detail::foreign_key_fn<FK, V, KO>) {
    static_assert(detail::always_false<FK>,
                  "rill: table.left_join(other, foreign_key, joiner) needs foreign_key(const V&) "
                  "-> the other table's key");
    return *this;
  } else if constexpr (!detail::joiner_fn<F, K, const V&, const std::optional<VO>&>) {
    static_assert(detail::always_false<F>,
                  "rill: table.left_join(other, foreign_key, joiner) needs joiner(const V&, const "
                  "std::optional<VO>&) or joiner(const K&, const V&, const std::optional<VO>&)");
    return *this;
  } else {
    return foreign_key_join<detail::join_kind::left>(other, std::move(foreign_key),
                                                     std::move(joiner), std::move(n));
  }
}

}  // namespace rill
