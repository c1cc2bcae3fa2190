// Avro's binary encoding of a reflected struct, walking the JSON serde's type table.
#include <bit>
#include <cstring>
#include <limits>

#include "avro_codec.hpp"

namespace rill::registry::avro_detail {

namespace {

using rill::detail::json::kind;

void put_long(bytes& out, std::int64_t v) {
  auto u = (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
  while (u >= 0x80) {
    out.push_back(std::byte((u & 0x7f) | 0x80));
    u >>= 7;
  }
  out.push_back(std::byte(u));
}

template <class F>
void put_fixed(bytes& out, F v) {
  const auto bits =
      std::bit_cast<std::conditional_t<sizeof(F) == 4, std::uint32_t, std::uint64_t>>(v);
  for (std::size_t i = 0; i < sizeof(F); ++i) out.push_back(std::byte((bits >> (8 * i)) & 0xff));
}

void put_string(bytes& out, std::string_view s) {
  put_long(out, static_cast<std::int64_t>(s.size()));
  const std::size_t at = out.size();
  out.resize(at + s.size());
  if (!s.empty()) std::memcpy(out.data() + at, s.data(), s.size());
}

void put(const type_info& t, const void* v, bytes& out);

void put_object(const type_info& t, const void* v, bytes& out) {
  for (std::size_t i = 0; i < t.field_count; ++i) {
    const auto& f = t.fields[i];
    put(*f.type, f.get(const_cast<void*>(v)), out);  // get() only computes the address
  }
}

void put(const type_info& t, const void* v, bytes& out) {
  switch (t.k) {
    case kind::boolean:
      out.push_back(std::byte{*static_cast<const bool*>(v) ? std::uint8_t{1} : std::uint8_t{0}});
      return;
    case kind::int8:
      put_long(out, *static_cast<const std::int8_t*>(v));
      return;
    case kind::int16:
      put_long(out, *static_cast<const std::int16_t*>(v));
      return;
    case kind::int32:
      put_long(out, *static_cast<const std::int32_t*>(v));
      return;
    case kind::int64:
      put_long(out, *static_cast<const std::int64_t*>(v));
      return;
    case kind::uint8:
      put_long(out, *static_cast<const std::uint8_t*>(v));
      return;
    case kind::uint16:
      put_long(out, *static_cast<const std::uint16_t*>(v));
      return;
    case kind::uint32:
      put_long(out, *static_cast<const std::uint32_t*>(v));
      return;
    case kind::uint64: {
      const auto u = *static_cast<const std::uint64_t*>(v);
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        throw serde_error("the uint64 " + std::to_string(u) + " does not fit Avro's long");
      put_long(out, static_cast<std::int64_t>(u));
      return;
    }
    case kind::float32:
      put_fixed(out, *static_cast<const float*>(v));
      return;
    case kind::float64:
      put_fixed(out, *static_cast<const double*>(v));
      return;
    case kind::string:
      put_string(out, *static_cast<const std::string*>(v));
      return;
    case kind::object:
      put_object(t, v, out);
      return;
    case kind::optional:
      if (t.size(v) == 0) {
        put_long(out, 0);
      } else {
        put_long(out, 1);
        put(*t.element, t.at(v, 0), out);
      }
      return;
    case kind::array:
    case kind::bool_array: {
      const std::size_t n = t.size(v);
      if (n > 0) {
        put_long(out, static_cast<std::int64_t>(n));
        for (std::size_t i = 0; i < n; ++i) {
          if (t.k == kind::array)
            put(*t.element, t.at(v, i), out);
          else
            out.push_back(std::byte{t.bool_at(v, i) ? std::uint8_t{1} : std::uint8_t{0}});
        }
      }
      put_long(out, 0);
      return;
    }
    case kind::map: {
      const std::size_t n = t.size(v);
      if (n > 0) {
        put_long(out, static_cast<std::int64_t>(n));
        struct state {
          const type_info* element;
          bytes* out;
        } s{t.element, &out};
        t.for_each(
            v,
            [](void* p, std::string_view key, const void* value) {
              auto* st = static_cast<state*>(p);
              put_string(*st->out, key);
              put(*st->element, value, *st->out);
            },
            &s);
      }
      put_long(out, 0);
      return;
    }
  }
}

}  // namespace

void encode(const type_info& t, const void* v, bytes& out) {
  put(t, v, out);
}

}  // namespace rill::registry::avro_detail
