// What the join nodes share: the kinds of join, the joiner's two accepted shapes, the value
// lists stream-stream joins keep per key and timestamp, and typed access to the stores a
// join node reads.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <rill/detail/headers_codec.hpp>
#include <rill/detail/node.hpp>
#include <rill/errors.hpp>
#include <rill/serde.hpp>
#include <rill/state_store.hpp>

namespace rill::detail {

enum class join_kind : std::uint8_t { inner, left, outer };

// What the joiner gets for each side: the value, or a std::optional where the side may be
// missing (the right side of a left join, both sides of an outer join).
template <join_kind J, class V>
using left_arg_t = std::conditional_t<J == join_kind::outer, const std::optional<V>&, const V&>;
template <join_kind J, class V>
using right_arg_t = std::conditional_t<J == join_kind::inner, const V&, const std::optional<V>&>;

// A joiner is f(left, right) or f(key, left, right).
template <class F, class K, class A, class B>
concept keyed_joiner_fn = std::invocable<F&, const K&, A, B>;
template <class F, class K, class A, class B>
concept joiner_fn = keyed_joiner_fn<F, K, A, B> || std::invocable<F&, A, B>;

template <class F, class K, class A, class B>
struct joiner_result {
  using type = void;
};
template <class F, class K, class A, class B>
requires keyed_joiner_fn<F, K, A, B>
struct joiner_result<F, K, A, B> {
  using type = std::remove_cvref_t<std::invoke_result_t<F&, const K&, A, B>>;
};
template <class F, class K, class A, class B>
requires(!keyed_joiner_fn<F, K, A, B> &&
         std::invocable<F&, A, B>) struct joiner_result<F, K, A, B> {
  using type = std::remove_cvref_t<std::invoke_result_t<F&, A, B>>;
};
template <class F, class K, class A, class B>
using joiner_result_t = typename joiner_result<F, K, A, B>::type;

// The joiner with both sides as pointers (null: the side is missing), whatever its shape.
template <join_kind J, class K, class VL, class VR, class F>
struct join_function {
  using result = joiner_result_t<F, K, left_arg_t<J, VL>, right_arg_t<J, VR>>;
  F f;
  result operator()(const K& key, const VL* l, const VR* r) {
    return call(key, arg<J == join_kind::outer>(l), arg<J != join_kind::inner>(r));
  }

 private:
  template <bool Optional, class V>
  static decltype(auto) arg(const V* v) {
    if constexpr (Optional)
      return v != nullptr ? std::optional<V>(*v) : std::optional<V>();
    else
      return *v;
  }
  template <class A, class B>
  result call(const K& key, const A& a, const B& b) {
    if constexpr (keyed_joiner_fn<F, K, const A&, const B&>)
      return result(std::invoke(f, key, a, b));
    else
      return result(std::invoke(f, a, b));
  }
};

// A record a stream-stream join holds until its window closes: its value and headers.
template <class V>
struct held_value {
  V value;
  rill::headers headers;
};

// The records a stream-stream join keeps unmatched for one key and timestamp, in arrival
// order: [count, 4 bytes][per record: headers (detail/headers_codec.hpp); size, 4 bytes; the
// value's bytes].
template <class V>
struct value_list_serde {
  using value_type = std::vector<held_value<V>>;
  any_serde<V> inner;
  void serialize(const value_type& vs, bytes& out, const serde_context& ctx) const {
    put_u32(out, vs.size());
    bytes one;
    for (const auto& v : vs) {
      append_headers(out, v.headers);
      one.clear();
      inner.serialize(v.value, one, ctx);
      put_u32(out, one.size());
      out.insert(out.end(), one.begin(), one.end());
    }
  }
  value_type deserialize(bytes_view in, const serde_context& ctx) const {
    value_type out;
    const std::uint32_t n = get_u32(in, ctx);
    out.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      rill::headers h = read_headers(in, ctx.topic);
      const std::uint32_t size = get_u32(in, ctx);
      if (in.size() < size) too_short(ctx);
      out.push_back({inner.deserialize(in.first(size), ctx), std::move(h)});
      in = in.subspan(size);
    }
    return out;
  }

 private:
  static void put_u32(bytes& out, std::size_t v) {
    for (int i = 3; i >= 0; --i) out.push_back(std::byte(static_cast<std::uint8_t>(v >> (8 * i))));
  }
  // Reads 4 bytes at the front of `in` and moves past them.
  static std::uint32_t get_u32(bytes_view& in, const serde_context& ctx) {
    if (in.size() < 4) too_short(ctx);
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(in[i]);
    in = in.subspan(4);
    return v;
  }
  [[noreturn]] static void too_short(const serde_context& ctx) {
    throw serde_error("join buffer value on '" + std::string(ctx.topic) + "': too short");
  }
};

// The store `name` connected to `asker`, as the type S it must have.
template <class S>
S& typed_store(task_context& ctx, const node& asker, const std::string& name) {
  auto* s = dynamic_cast<S*>(&ctx.get_store(name, asker));
  if (s == nullptr)
    throw streams_error("node '" + asker.name() + "': store '" + name + "' has another type");
  return *s;
}

}  // namespace rill::detail
