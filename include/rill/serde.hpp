// Serdes: how typed keys and values become Kafka bytes and back.
//
// A serde is any copyable type S with `S::value_type` and
//   void serialize(const T& v, rill::bytes& out, const serde_context& ctx) const;  // appends
//   T deserialize(rill::bytes_view in, const serde_context& ctx) const;           // throws
//   serde_error
// and, optionally, for types that have a null on the wire (Kafka null keys, tombstones):
//   bool is_null(const T& v) const;                       // true: write a null, not bytes
//   T deserialize_null(const serde_context& ctx) const;   // what a null reads as
// Without the optional pair a null reads as a serde_error that names the type.
//
// Defaults come from rill::serde_traits<T>::type; specialize it for your own types, or pass
// a serde explicitly per operation (consumed, produced, ...). Built-ins: std::string, raw
// bytes (owned rill::bytes, or borrowed rill::bytes_view: no copy), integers and floating point
// (big-endian, as Kafka's Java serializers), bool, null_key, std::optional<T>; JSON for Boost.Hana
// structs comes from <rill/json.hpp>.
#pragma once

#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <rill/bytes.hpp>
#include <rill/detail/type_name.hpp>
#include <rill/errors.hpp>
#include <rill/headers.hpp>
#include <rill/record.hpp>

namespace rill {

// What a serde may look at besides the bytes.
struct serde_context {
  std::string_view topic;
  bool is_key = false;
  rill::headers* headers = nullptr;  // the record's headers; serializers may add to them
};

template <class S>
concept serde = std::copy_constructible<S> && requires {
  typename S::value_type;
} && requires(const S& s, const typename S::value_type& v, bytes& out, bytes_view in,
              const serde_context& ctx) {
  s.serialize(v, out, ctx);
  { s.deserialize(in, ctx) } -> std::convertible_to<typename S::value_type>;
};

template <class S, class T>
concept serde_for = serde<S> && std::same_as<typename S::value_type, T>;

// Specialize to give T a default serde: `template <> struct rill::serde_traits<T> { using
// type = my_serde; };`
template <class T>
struct serde_traits {};

template <class T>
concept has_default_serde = requires {
  typename serde_traits<T>::type;
};

namespace serdes {
struct bytes_serde;
struct bytes_view_serde;
struct string_serde;
}  // namespace serdes

namespace detail {
// A serde whose wire bytes are the value itself (raw bytes, owned or borrowed, or a string's
// characters).
template <class S>
inline constexpr bool writes_as_is =
    std::same_as<S, serdes::bytes_serde> || std::same_as<S, serdes::bytes_view_serde> ||
    std::same_as<S, serdes::string_serde>;

template <class S, class T>
concept nullable_serde = requires(const S& s, const T& v, const serde_context& ctx) {
  { s.is_null(v) } -> std::convertible_to<bool>;
  { s.deserialize_null(ctx) } -> std::convertible_to<T>;
};
}  // namespace detail

// A serde for T behind one virtual call, so DSL options and nodes can hold any serde
// without growing a template parameter per serde. Empty means "no serde for T": the
// topology compiler rejects an empty serde where bytes are needed.
template <class T>
class any_serde {
 public:
  using value_type = T;

  any_serde() = default;
  template <class S>
  requires(serde_for<std::decay_t<S>, T> && !std::same_as<std::decay_t<S>, any_serde>)
      any_serde(S s)  // NOLINT: implicit on purpose, so options take any serde directly
      : _impl(std::make_shared<model<std::decay_t<S>>>(std::move(s))),
        _as_is(detail::writes_as_is<std::decay_t<S>>) {}

  explicit operator bool() const noexcept { return _impl != nullptr; }
  // Whether the serde's wire bytes are the value itself (detail::writes_as_is).
  bool writes_as_is() const noexcept { return _as_is; }

  void serialize(const T& v, bytes& out, const serde_context& ctx) const {
    _impl->serialize(v, out, ctx);
  }
  T deserialize(bytes_view in, const serde_context& ctx) const {
    return _impl->deserialize(in, ctx);
  }
  bool is_null(const T& v) const { return _impl->is_null(v); }
  T deserialize_null(const serde_context& ctx) const { return _impl->deserialize_null(ctx); }

  // Writes v into out (cleared first). Returns false when v is a null on the wire.
  bool encode(const T& v, bytes& out, const serde_context& ctx) const {
    out.clear();
    if (_impl->is_null(v)) return false;
    _impl->serialize(v, out, ctx);
    return true;
  }
  // The bytes to send for v: v's own when the serde writes raw bytes as they are (no copy,
  // valid as long as v), else v written into out. nullopt for a null on the wire.
  std::optional<bytes_view> encode_view(const T& v, bytes& out, const serde_context& ctx) const {
    if constexpr (std::is_same_v<T, bytes> || std::is_same_v<T, bytes_view>) {
      if (_as_is) return bytes_view(v);
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (_as_is) return as_bytes(v);
    }
    if (!encode(v, out, ctx)) return std::nullopt;
    return bytes_view(out);
  }
  // Reads a value from bytes, or from a null (in == nullptr).
  T decode(const bytes_view* in, const serde_context& ctx) const {
    if constexpr (std::is_same_v<T, bytes_view>) {
      if (_as_is && in) return *in;
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (_as_is && in) return std::string(as_chars(*in));
    }
    return in ? _impl->deserialize(*in, ctx) : _impl->deserialize_null(ctx);
  }

 private:
  struct iface {
    virtual ~iface() = default;
    virtual void serialize(const T&, bytes&, const serde_context&) const = 0;
    virtual T deserialize(bytes_view, const serde_context&) const = 0;
    virtual bool is_null(const T&) const = 0;
    virtual T deserialize_null(const serde_context&) const = 0;
  };
  template <class S>
  struct model final : iface {
    explicit model(S s) : serde(std::move(s)) {}
    void serialize(const T& v, bytes& out, const serde_context& ctx) const override {
      serde.serialize(v, out, ctx);
    }
    T deserialize(bytes_view in, const serde_context& ctx) const override {
      return serde.deserialize(in, ctx);
    }
    bool is_null(const T& v) const override {
      if constexpr (detail::nullable_serde<S, T>)
        return serde.is_null(v);
      else
        return false;
    }
    T deserialize_null(const serde_context& ctx) const override {
      if constexpr (detail::nullable_serde<S, T>) {
        return serde.deserialize_null(ctx);
      } else {
        throw serde_error("a null " + std::string(ctx.is_key ? "key" : "value") + " on topic '" +
                          std::string(ctx.topic) + "' cannot be read as " + detail::type_name<T>() +
                          "; use std::optional<...> (or void for keys) to accept nulls");
      }
    }
    S serde;
  };
  std::shared_ptr<const iface> _impl;
  bool _as_is = false;  // detail::writes_as_is of the serde held
};

// The default serde for T as an any_serde, or an empty one when T has none.
template <class T>
any_serde<T> default_serde() {
  if constexpr (has_default_serde<T>)
    return any_serde<T>(typename serde_traits<T>::type{});
  else
    return {};
}

namespace serdes {

// UTF-8 (or any) text as its bytes, like Kafka's StringSerializer.
struct string_serde {
  using value_type = std::string;
  void serialize(const std::string& v, bytes& out, const serde_context&) const { append(out, v); }
  std::string deserialize(bytes_view in, const serde_context&) const {
    return std::string(as_chars(in));
  }
};

// Bytes as they are.
struct bytes_serde {
  using value_type = rill::bytes;
  void serialize(const rill::bytes& v, rill::bytes& out, const serde_context&) const {
    append(out, v);
  }
  rill::bytes deserialize(bytes_view in, const serde_context&) const {
    return rill::bytes(in.begin(), in.end());
  }
};

// Bytes as they are, borrowed: a record's key or value read as a view into the fetched
// message, with no copy. It is valid while the record is processed (until the node that got
// it returns); a value kept longer must be copied (rill::bytes(v.begin(), v.end())). Stores,
// caches and join windows keep serialized copies, so a view is safe to store through them.
struct bytes_view_serde {
  using value_type = rill::bytes_view;
  void serialize(rill::bytes_view v, rill::bytes& out, const serde_context&) const {
    append(out, v);
  }
  rill::bytes_view deserialize(bytes_view in, const serde_context&) const { return in; }
};

// Fixed-width big-endian integers and IEEE 754 floats: the layout of Kafka's Short-,
// Integer-, Long-, Float- and DoubleSerializer, so Java clients read what Rill writes.
template <class T>
requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) struct number_serde {
  using value_type = T;
  using bits = std::conditional_t<
      sizeof(T) == 1, std::uint8_t,
      std::conditional_t<sizeof(T) == 2, std::uint16_t,
                         std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;

  void serialize(T v, bytes& out, const serde_context&) const {
    bits u = std::bit_cast<bits>(v);
    const std::size_t at = out.size();
    out.resize(at + sizeof(T));
    for (std::size_t i = 0; i < sizeof(T); ++i)
      out[at + i] = static_cast<std::byte>(u >> (8 * (sizeof(T) - 1 - i)));
  }
  T deserialize(bytes_view in, const serde_context& ctx) const {
    if (in.size() != sizeof(T)) {
      throw serde_error(detail::type_name<T>() + " serde on topic '" + std::string(ctx.topic) +
                        "': expected " + std::to_string(sizeof(T)) + " bytes, got " +
                        std::to_string(in.size()));
    }
    bits u = 0;
    for (std::byte b : in) u = static_cast<bits>((u << 8) | static_cast<bits>(b));
    return std::bit_cast<T>(u);
  }
};

// One byte, 0 or 1, like Kafka's BooleanSerializer.
struct bool_serde {
  using value_type = bool;
  void serialize(bool v, bytes& out, const serde_context&) const {
    out.push_back(std::byte{v ? std::uint8_t{1} : std::uint8_t{0}});
  }
  bool deserialize(bytes_view in, const serde_context& ctx) const {
    if (in.size() != 1 || static_cast<std::uint8_t>(in[0]) > 1) {
      throw serde_error("bool serde on topic '" + std::string(ctx.topic) +
                        "': expected one byte 0 or 1");
    }
    return in[0] == std::byte{1};
  }
};

// The key of a keyless stream: always written as Kafka's null; any key reads as null_key.
struct null_key_serde {
  using value_type = null_key;
  void serialize(null_key, bytes&, const serde_context&) const {}
  null_key deserialize(bytes_view, const serde_context&) const { return {}; }
  bool is_null(null_key) const { return true; }
  null_key deserialize_null(const serde_context&) const { return {}; }
};

// std::optional<T> over a serde for T: nullopt is Kafka's null (a tombstone for values).
template <serde S>
struct optional_serde {
  using value_type = std::optional<typename S::value_type>;
  S inner{};
  void serialize(const value_type& v, bytes& out, const serde_context& ctx) const {
    if (v) inner.serialize(*v, out, ctx);
  }
  value_type deserialize(bytes_view in, const serde_context& ctx) const {
    return inner.deserialize(in, ctx);
  }
  bool is_null(const value_type& v) const { return !v.has_value(); }
  value_type deserialize_null(const serde_context&) const { return std::nullopt; }
};

}  // namespace serdes

template <>
struct serde_traits<std::string> {
  using type = serdes::string_serde;
};
template <>
struct serde_traits<bytes> {
  using type = serdes::bytes_serde;
};
template <>
struct serde_traits<bytes_view> {
  using type = serdes::bytes_view_serde;
};
template <class T>
requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool> &&
         !std::is_same_v<T, char>) struct serde_traits<T> {
  using type = serdes::number_serde<T>;
};
template <>
struct serde_traits<bool> {
  using type = serdes::bool_serde;
};
template <>
struct serde_traits<null_key> {
  using type = serdes::null_key_serde;
};
template <class T>
requires has_default_serde<T>
struct serde_traits<std::optional<T>> {
  using type = serdes::optional_serde<typename serde_traits<T>::type>;
};

}  // namespace rill
