// What each DSL operation expects of the function it is given. The DSL checks these with a
// static_assert whose message names the operation and the expected signature, so a wrong
// lambda fails with one line that says what was expected.
#pragma once

#include <concepts>
#include <functional>
#include <ranges>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <rill/record.hpp>

namespace rill::detail {

template <class>
inline constexpr bool always_false = false;

// --- key-value pairs returned by map / flat_map -------------------------------------------
template <class T>
struct is_record : std::false_type {};
template <class K, class V>
struct is_record<record<K, V>> : std::true_type {};

template <class T>
concept key_value_like = requires(T t) {
  t.key;
  t.value;
}
|| (requires { std::tuple_size<T>::value; } && std::tuple_size<T>::value == 2);

template <class T>
decltype(auto) kv_key(T&& t) {
  if constexpr (requires { t.key; })
    return (std::forward<T>(t).key);
  else
    return std::get<0>(std::forward<T>(t));
}
template <class T>
decltype(auto) kv_value(T&& t) {
  if constexpr (requires { t.value; })
    return (std::forward<T>(t).value);
  else
    return std::get<1>(std::forward<T>(t));
}
template <class T>
using kv_key_t = std::remove_cvref_t<decltype(kv_key(std::declval<T>()))>;
template <class T>
using kv_value_t = std::remove_cvref_t<decltype(kv_value(std::declval<T>()))>;

// --- the shapes ---------------------------------------------------------------------------
template <class F, class K, class V>
concept predicate_fn = std::invocable<F&, const K&, const V&> &&
                       std::convertible_to < std::invoke_result_t<F&, const K&, const V&>,
bool > ;

template <class F, class K, class V>
concept action_fn = std::invocable<F&, const K&, const V&>;

template <class F, class K, class V>
concept key_selector_fn = std::invocable<F&, const K&, const V&> &&
    !std::is_void_v<std::invoke_result_t<F&, const K&, const V&>>;

// map_values: f(V) or f(const K&, V); the value is handed over as an rvalue.
template <class F, class K, class V>
concept value_only_fn = std::invocable<F&, V&&>;

template <class F, class K, class V>
constexpr auto value_mapper_kind() {
  if constexpr (std::invocable<F&, V&&>)
    return std::type_identity<std::invoke_result_t<F&, V&&>>{};
  else if constexpr (std::invocable<F&, const K&, V&&>)
    return std::type_identity<std::invoke_result_t<F&, const K&, V&&>>{};
  else
    return std::type_identity<void>{};
}
template <class F, class K, class V>
using value_mapper_result_t =
    std::remove_cvref_t<typename decltype(value_mapper_kind<F, K, V>())::type>;

template <class F, class K, class V>
concept value_mapper_fn =
    (std::invocable<F&, V&&> ||
     std::invocable<F&, const K&, V&&>)&&!std::is_void_v<value_mapper_result_t<F, K, V>>;

template <class F, class K, class V>
decltype(auto) call_value_mapper(F& f, const K& k, V&& v) {
  if constexpr (std::invocable<F&, V&&>)
    return std::invoke(f, std::move(v));
  else
    return std::invoke(f, k, std::move(v));
}

template <class F, class K, class V>
concept flat_value_mapper_fn =
    value_mapper_fn<F, K, V> && std::ranges::input_range<value_mapper_result_t<F, K, V>>;

template <class F, class K, class V>
concept key_value_mapper_fn = std::invocable<F&, const K&, V&&> &&
    key_value_like<std::remove_cvref_t<std::invoke_result_t<F&, const K&, V&&>>>;

template <class F, class K, class V>
concept flat_key_value_mapper_fn = std::invocable<F&, const K&, V&&> &&
    std::ranges::input_range<std::remove_cvref_t<std::invoke_result_t<F&, const K&, V&&>>> &&
    key_value_like<
        std::ranges::range_value_t<std::remove_cvref_t<std::invoke_result_t<F&, const K&, V&&>>>>;

template <class F, class K, class V>
concept record_mapper_fn = std::invocable<F&, record<K, V> &&>&&
    is_record<std::remove_cvref_t<std::invoke_result_t<F&, record<K, V>&&>>>::value;

template <class F, class K, class V>
concept topic_chooser_fn = std::invocable<F&, const K&, const V&, const record_context&> &&
    std::convertible_to<std::invoke_result_t<F&, const K&, const V&, const record_context&>,
                        std::string>;

}  // namespace rill::detail
