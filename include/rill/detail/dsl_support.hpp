// What the DSL handles (stream.hpp, table.hpp, ...) share: the messages for missing serdes and
// the typed halves of a repartition.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <rill/detail/graph.hpp>
#include <rill/detail/nodes.hpp>
#include <rill/detail/type_name.hpp>
#include <rill/options.hpp>
#include <rill/serde.hpp>

namespace rill {

namespace detail {
template <class F, class K, class V>
using group_by_key_t = std::remove_cvref_t<std::invoke_result_t<F&, const K&, const V&>>;
}

namespace detail {

// "no key serde for type 'T': <fix>"
inline std::string missing_serde_message(std::string_view what, std::string_view type,
                                         std::string_view fix) {
  return "no " + std::string(what) + " serde for type '" + std::string(type) +
         "': " + std::string(fix);
}

template <class K, class V>
std::vector<std::string> missing_serdes(const any_serde<K>& ks, const any_serde<V>& vs,
                                        std::string_view fix) {
  std::vector<std::string> out;
  if (!ks) out.push_back(missing_serde_message("key", type_name<K>(), fix));
  if (!vs) out.push_back(missing_serde_message("value", type_name<V>(), fix));
  return out;
}

template <class K, class V>
std::shared_ptr<repartition_parts> make_repartition_parts(repartitioned<K, V> r, std::string fix) {
  auto parts = std::make_shared<repartition_parts>();
  parts->partitions = r.partitions;
  parts->missing_serdes = missing_serdes(r.key_serde, r.value_serde, fix);
  parts->fix = std::move(fix);
  produced<K, V> p{r.key_serde, r.value_serde, r.partitioner, {}};
  parts->sink = [p](const node_args& a) -> std::unique_ptr<node> {
    return std::make_unique<sink_node_impl<K, V>>(a.name, a.topics.at(0), nullptr, p);
  };
  parts->source = [ks = r.key_serde,
                   vs = r.value_serde](const node_args& a) -> std::unique_ptr<node> {
    return std::make_unique<source_node_impl<K, V>>(a.name, ks, vs);
  };
  return parts;
}

}  // namespace detail

}  // namespace rill
