// What stream::process / process_values accept: a supplier returning std::unique_ptr<P>,
// P a rill::processor (or fixed_key_processor) of the stream's key and value types. The
// aliases are `void` when the supplier is not one, so the DSL can say what it expected.
#pragma once

#include <concepts>
#include <type_traits>

namespace rill::detail {

template <class Supplier>
auto supplied_type() {
  if constexpr (!std::is_invocable_v<Supplier&>) {
    return std::type_identity<void>{};
  } else {
    using Ptr = std::invoke_result_t<Supplier&>;
    if constexpr (!requires { typename Ptr::element_type; })
      return std::type_identity<void>{};
    else
      return std::type_identity<typename Ptr::element_type>{};
  }
}

template <class Supplier, class K, class V>
auto processor_of_impl() {
  using P = typename decltype(supplied_type<Supplier>())::type;
  if constexpr (requires {
                  typename P::key_out;
                  requires std::derived_from<P, typename P::base_type>;
                  requires std::same_as<typename P::key_in, K>;
                  requires std::same_as<typename P::value_in, V>;
                }) {
    return std::type_identity<P>{};
  } else {
    return std::type_identity<void>{};
  }
}

template <class Supplier, class K, class V>
auto fixed_key_processor_of_impl() {
  using P = typename decltype(supplied_type<Supplier>())::type;
  if constexpr (requires {
                  typename P::value_out;
                  requires !requires {
                    typename P::key_out;
                  };
                  requires std::derived_from<P, typename P::base_type>;
                  requires std::same_as<typename P::key_in, K>;
                  requires std::same_as<typename P::value_in, V>;
                }) {
    return std::type_identity<P>{};
  } else {
    return std::type_identity<void>{};
  }
}

// P when Supplier makes a processor<K, V, KOut, VOut>, else void.
template <class Supplier, class K, class V>
using processor_of = typename decltype(processor_of_impl<Supplier, K, V>())::type;
// P when Supplier makes a fixed_key_processor<K, V, VOut>, else void.
template <class Supplier, class K, class V>
using fixed_key_processor_of =
    typename decltype(fixed_key_processor_of_impl<Supplier, K, V>())::type;

}  // namespace rill::detail
