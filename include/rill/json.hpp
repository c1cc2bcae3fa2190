// JSON for Boost.Hana structs: the default serde of every type declared with
// BOOST_HANA_ADAPT_STRUCT or BOOST_HANA_DEFINE_STRUCT.
//
//   struct order { std::string id; double amount = 0; std::optional<std::string> coupon; };
//   BOOST_HANA_ADAPT_STRUCT(order, id, amount, coupon);
//   b.stream<std::string, order>("orders")   // json_serde<order> by default
//
// Members may be, recursively: Hana structs, std::vector<X>, std::optional<X>,
// std::map<std::string, X>, std::string, integers, float, double and bool.
//
// Wire format (docs/serdes.md has the whole contract):
// - a struct is an object with its members in declaration order, names as in C++;
// - std::nullopt is written as null; null or an absent field reads as std::nullopt; null
//   for a member that is not an optional is an error;
// - a field missing from the input keeps its value in T{} (its default member initializer);
// - fields the struct does not have are ignored (their values must still be valid JSON);
// - integers as decimal digits; double and float in their shortest form that reads back to
//   the same value, always with a '.' or an exponent (2.0, not 2); NaN and infinity cannot
//   be written (serde_error);
// - strings must be valid UTF-8 both ways; '"', '\\' and control characters are escaped.
//
// Malformed JSON, a wrong type, an integer out of range, or objects and arrays nested deeper
// than 256 levels throw rill::serde_error naming the struct, the topic and the field path
// (`items[1].qty`).
//
// Parsing (simdjson On-Demand) and writing live in src/serde/json.cpp, driven by a
// constant table built here from the Hana accessors, so including this header does not
// pull in simdjson. Each call reuses per-thread buffers; records over 1 MiB use buffers of
// their own that are freed afterwards.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/adapt_struct.hpp>
#include <boost/hana/at.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/core/to.hpp>
#include <boost/hana/define_struct.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>

#include <rill/bytes.hpp>
#include <rill/detail/type_name.hpp>
#include <rill/serde.hpp>

namespace rill {

// A struct declared with BOOST_HANA_ADAPT_STRUCT or BOOST_HANA_DEFINE_STRUCT.
template <class T>
concept hana_struct = boost::hana::Struct<T>::value;

namespace detail::json {

enum class kind : std::uint8_t {
  boolean,
  int8,
  int16,
  int32,
  int64,
  uint8,
  uint16,
  uint32,
  uint64,
  float32,
  float64,
  string,
  object,      // a Hana struct
  array,       // std::vector<X>
  bool_array,  // std::vector<bool>, which has no X* to hand out
  optional,    // std::optional<X>
  map,         // std::map<std::string, X>
};

struct type_info;

struct field_info {
  std::string_view name;  // as declared in C++
  std::string_view key;   // the same, ready to write: ,"name": (zero bytes follow, so the
                          // writer may copy it in whole 16-byte blocks)
  void* (*get)(void* object);
  const type_info* type;
};

// What the JSON core in json.cpp knows of one C++ type: its kind, for a struct its fields,
// for a container its element type and the few operations the core needs. One constant
// table per type, so recursive types work and nothing runs at static-initialisation time.
struct type_info {
  kind k;
  std::string (*name)();
  const field_info* fields = nullptr;  // object
  std::size_t field_count = 0;
  const type_info* element = nullptr;   // array, optional, map
  void (*clear)(void* c) = nullptr;     // array, bool_array, map: clear(); optional: reset()
  void* (*emplace)(void* c) = nullptr;  // array: &emplace_back(); optional: &emplace()
  void* (*emplace_key)(void* c, std::string_view key) = nullptr;  // map: a fresh X under key
  void (*push_bool)(void* c, bool b) = nullptr;                   // bool_array
  std::size_t (*size)(const void* c) = nullptr;  // array, bool_array, map; optional: 0 or 1
  const void* (*at)(const void* c, std::size_t i) = nullptr;  // array: &c[i]; optional: &*c
  bool (*bool_at)(const void* c, std::size_t i) = nullptr;    // bool_array
  // map: calls fn(state, key, &value) for each entry, in key order.
  void (*for_each)(const void* c, void (*fn)(void*, std::string_view, const void*),
                   void* state) = nullptr;
};

// Reads the JSON text `in` into *out, an object of the struct type `t` (already T{}).
void read(const type_info& t, void* out, bytes_view in, const serde_context& ctx);
// Appends *v, an object of the struct type `t`, to out as JSON text.
void write(const type_info& t, const void* v, bytes& out, const serde_context& ctx);

template <class T>
struct is_vector : std::false_type {};
template <class X, class A>
struct is_vector<std::vector<X, A>> : std::true_type {};

template <class T>
struct is_bool_vector : std::false_type {};
template <class A>
struct is_bool_vector<std::vector<bool, A>> : std::true_type {};

template <class T>
struct is_optional : std::false_type {};
template <class X>
struct is_optional<std::optional<X>> : std::true_type {};

template <class T>
struct is_string_map : std::false_type {};
template <class X, class C, class A>
struct is_string_map<std::map<std::string, X, C, A>> : std::true_type {};

template <class T>
inline constexpr bool always_false = false;

template <class T>
using accessors_t = decltype(boost::hana::accessors<T>());

template <class T>
inline constexpr std::size_t field_count_v =
    decltype(boost::hana::length(std::declval<accessors_t<T>>()))::value;

// What the accessor of member I gives: a reference to the member.
template <class T, std::size_t I>
using member_ref_t = decltype(boost::hana::second(
    boost::hana::at_c<I>(std::declval<accessors_t<T>>()))(std::declval<T&>()));

template <class T, std::size_t I>
using member_t = std::remove_cvref_t<member_ref_t<T, I>>;

template <class T, std::size_t I>
void* get_member(void* object) {
  static_assert(std::is_lvalue_reference_v<member_ref_t<T, I>> &&
                    !std::is_const_v<std::remove_reference_t<member_ref_t<T, I>>>,
                "rill::json_serde: members must be non-const data members, as with "
                "BOOST_HANA_ADAPT_STRUCT or BOOST_HANA_DEFINE_STRUCT (not BOOST_HANA_ADAPT_ADT)");
  auto&& accessor = boost::hana::second(boost::hana::at_c<I>(boost::hana::accessors<T>()));
  return std::addressof(accessor(*static_cast<T*>(object)));
}

// ,"name": for member I of T, built at compile time, followed by at least 16 zero bytes.
template <class T, std::size_t I>
struct member_key {
  static constexpr const char* name = boost::hana::to<const char*>(
      boost::hana::first(boost::hana::at_c<I>(boost::hana::accessors<T>())));
  static constexpr std::size_t size = [] {
    std::size_t n = 0;
    while (name[n] != '\0') ++n;
    return n;
  }();
  static constexpr std::size_t capacity = (size + 4 + 15) / 16 * 16 + 16;
  static constexpr std::array<char, capacity> quoted = [] {
    std::array<char, capacity> a{};
    a[0] = ',';
    a[1] = '"';
    for (std::size_t i = 0; i < size; ++i) a[i + 2] = name[i];
    a[size + 2] = '"';
    a[size + 3] = ':';
    return a;
  }();
};

template <class T>
constexpr type_info make_info();

template <class T>
inline constexpr type_info info_v = make_info<T>();

template <class T, std::size_t... I>
constexpr std::array<field_info, sizeof...(I)> make_fields(std::index_sequence<I...>) {
  return {field_info{std::string_view(member_key<T, I>::name, member_key<T, I>::size),
                     std::string_view(member_key<T, I>::quoted.data(), member_key<T, I>::size + 4),
                     &get_member<T, I>, &info_v<member_t<T, I>>}...};
}

template <class T>
inline constexpr std::array<field_info, field_count_v<T>> fields_v =
    make_fields<T>(std::make_index_sequence<field_count_v<T>>{});

template <class T>
constexpr type_info make_info() {
  constexpr auto name = &rill::detail::type_name<T>;
  if constexpr (std::is_same_v<T, bool>) {
    return {kind::boolean, name};
  } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, wchar_t> &&
                       !std::is_same_v<T, char8_t> && !std::is_same_v<T, char16_t> &&
                       !std::is_same_v<T, char32_t>) {
    constexpr kind k = std::is_signed_v<T> ? (sizeof(T) == 1   ? kind::int8
                                              : sizeof(T) == 2 ? kind::int16
                                              : sizeof(T) == 4 ? kind::int32
                                                               : kind::int64)
                                           : (sizeof(T) == 1   ? kind::uint8
                                              : sizeof(T) == 2 ? kind::uint16
                                              : sizeof(T) == 4 ? kind::uint32
                                                               : kind::uint64);
    static_assert(sizeof(T) <= 8, "rill::json_serde: integers wider than 64 bits");
    return {k, name};
  } else if constexpr (std::is_same_v<T, float>) {
    return {kind::float32, name};
  } else if constexpr (std::is_same_v<T, double>) {
    return {kind::float64, name};
  } else if constexpr (std::is_same_v<T, std::string>) {
    return {kind::string, name};
  } else if constexpr (is_bool_vector<T>::value) {
    return {.k = kind::bool_array,
            .name = name,
            .clear = [](void* c) { static_cast<T*>(c)->clear(); },
            .push_bool = [](void* c, bool b) { static_cast<T*>(c)->push_back(b); },
            .size = [](const void* c) { return static_cast<const T*>(c)->size(); },
            .bool_at = [](const void* c, std::size_t i) -> bool {
              return (*static_cast<const T*>(c))[i];
            }};
  } else if constexpr (is_vector<T>::value) {
    using X = typename T::value_type;
    return {.k = kind::array,
            .name = name,
            .element = &info_v<X>,
            .clear = [](void* c) { static_cast<T*>(c)->clear(); },
            .emplace = [](void* c) -> void* {
              return std::addressof(static_cast<T*>(c)->emplace_back());
            },
            .size = [](const void* c) { return static_cast<const T*>(c)->size(); },
            .at = [](const void* c, std::size_t i) -> const void* {
              return std::addressof((*static_cast<const T*>(c))[i]);
            }};
  } else if constexpr (is_optional<T>::value) {
    using X = typename T::value_type;
    return {
        .k = kind::optional,
        .name = name,
        .element = &info_v<X>,
        .clear = [](void* c) { static_cast<T*>(c)->reset(); },
        .emplace = [](void* c) -> void* { return std::addressof(static_cast<T*>(c)->emplace()); },
        .size = [](const void* c) -> std::size_t {
          return static_cast<const T*>(c)->has_value() ? 1 : 0;
        },
        .at = [](const void* c, std::size_t) -> const void* {
          return std::addressof(**static_cast<const T*>(c));
        }};
  } else if constexpr (is_string_map<T>::value) {
    using X = typename T::mapped_type;
    return {.k = kind::map,
            .name = name,
            .element = &info_v<X>,
            .clear = [](void* c) { static_cast<T*>(c)->clear(); },
            .emplace_key = [](void* c, std::string_view key) -> void* {
              auto [it, inserted] = static_cast<T*>(c)->try_emplace(std::string(key));
              if (!inserted) it->second = X{};  // a repeated key: the last one wins
              return std::addressof(it->second);
            },
            .size = [](const void* c) { return static_cast<const T*>(c)->size(); },
            .for_each =
                [](const void* c, void (*fn)(void*, std::string_view, const void*), void* state) {
                  for (auto& [k, v] : *static_cast<const T*>(c)) fn(state, k, std::addressof(v));
                }};
  } else if constexpr (hana_struct<T>) {
    static_assert(std::is_default_constructible_v<T>,
                  "rill::json_serde: structs must be default-constructible");
    return {.k = kind::object,
            .name = name,
            .fields = field_count_v<T> == 0 ? nullptr : fields_v<T>.data(),
            .field_count = field_count_v<T>};
  } else {
    static_assert(always_false<T>,
                  "rill::json_serde: unsupported member type. Members may be Hana structs, "
                  "std::vector<X>, std::optional<X>, std::map<std::string, X>, std::string, "
                  "integers, float, double or bool");
    return {kind::boolean, name};
  }
}

}  // namespace detail::json

// JSON text for a Boost.Hana struct T, by reflection over its members (see the top of this
// file for the wire format). Stateless and thread-safe; per-thread buffers are reused.
// Needs rill_serde (src/serde/, on simdjson) linked in; rill::rill links it.
template <hana_struct T>
struct json_serde {
  using value_type = T;

  void serialize(const T& v, bytes& out, const serde_context& ctx) const {
    detail::json::write(detail::json::info_v<T>, std::addressof(v), out, ctx);
  }
  T deserialize(bytes_view in, const serde_context& ctx) const {
    T v{};
    detail::json::read(detail::json::info_v<T>, std::addressof(v), in, ctx);
    return v;
  }
};

// JSON is the default serde of Hana structs (and, through the optional rule in serde.hpp,
// of std::optional of them).
template <hana_struct T>
struct serde_traits<T> {
  using type = json_serde<T>;
};

}  // namespace rill
