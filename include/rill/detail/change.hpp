// Tables carry changes: the new value of a key and the one it replaces (nullopt: none, or
// deleted), so that downstream re-aggregation can retract the old value, as KTable does.
#pragma once

#include <cstdint>
#include <optional>

#include <rill/serde.hpp>

namespace rill {

template <class V>
struct change {
  std::optional<V> new_value;
  std::optional<V> old_value;
  bool operator==(const change&) const = default;
};

namespace detail {

// Bytes of a change, for repartition topics: a flags byte (1: new, 2: old), the new value's
// length (4 bytes, big-endian) and bytes, then the old value's bytes.
template <class V>
struct change_serde {
  using value_type = change<V>;
  any_serde<V> inner;

  void serialize(const change<V>& c, bytes& out, const serde_context& ctx) const {
    const std::size_t start = out.size();
    out.resize(start + 5);
    out[start] =
        std::byte{static_cast<std::uint8_t>((c.new_value ? 1 : 0) | (c.old_value ? 2 : 0))};
    if (c.new_value) inner.serialize(*c.new_value, out, ctx);
    const auto len = static_cast<std::uint32_t>(out.size() - start - 5);
    for (int i = 0; i < 4; ++i)
      out[start + 1 + static_cast<std::size_t>(i)] =
          std::byte(static_cast<std::uint8_t>(len >> (24 - 8 * i)));
    if (c.old_value) inner.serialize(*c.old_value, out, ctx);
  }
  change<V> deserialize(bytes_view in, const serde_context& ctx) const {
    if (in.size() < 5)
      throw serde_error("change serde on topic '" + std::string(ctx.topic) + "': too short");
    const auto flags = static_cast<std::uint8_t>(in[0]);
    std::uint32_t len = 0;
    for (int i = 1; i <= 4; ++i)
      len = (len << 8) | static_cast<std::uint8_t>(in[static_cast<std::size_t>(i)]);
    if (len > in.size() - 5)
      throw serde_error("change serde on topic '" + std::string(ctx.topic) + "': bad length");
    change<V> c;
    if (flags & 1) c.new_value = inner.deserialize(in.subspan(5, len), ctx);
    if (flags & 2) c.old_value = inner.deserialize(in.subspan(5 + len), ctx);
    return c;
  }
};

}  // namespace detail
}  // namespace rill
