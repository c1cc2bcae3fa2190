// Record headers as bytes, for the stores that hold a record's result until it goes
// downstream later (suppress buffers, emit-final windows and sessions, the unmatched records
// of left and outer stream-stream joins): so that the output carries the headers, and with
// them the W3C trace context, of the record that last updated it, across restarts too.
//
// Format: [count][per header: key size, key, value size + 1 (0: null), value], sizes as
// unsigned LEB128 varints. No headers is one zero byte.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <rill/bytes.hpp>
#include <rill/errors.hpp>
#include <rill/headers.hpp>

namespace rill::detail {

inline void put_varint(bytes& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(std::byte(static_cast<std::uint8_t>(v | 0x80)));
    v >>= 7;
  }
  out.push_back(std::byte(static_cast<std::uint8_t>(v)));
}

// Reads a varint at the front of `in` and moves past it; throws serde_error naming `where`.
inline std::uint64_t get_varint(bytes_view& in, std::string_view where) {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) break;
    const auto b = std::to_integer<std::uint8_t>(in[0]);
    in = in.subspan(1);
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  throw serde_error("headers in " + std::string(where) + ": a size is cut off");
}

inline void append_headers(bytes& out, const headers& h) {
  put_varint(out, h.size());
  for (const header& x : h) {
    put_varint(out, x.key.size());
    append(out, x.key);
    put_varint(out, x.value ? x.value->size() + 1 : 0);
    if (x.value) append(out, *x.value);
  }
}

namespace headers_codec {
// `n` bytes from the front of `in` (moving past them); throws if there are fewer.
inline std::string_view take(bytes_view& in, std::uint64_t n, std::string_view where) {
  if (n > in.size()) throw serde_error("headers in " + std::string(where) + ": too short");
  const std::string_view s = as_chars(in.first(static_cast<std::size_t>(n)));
  in = in.subspan(static_cast<std::size_t>(n));
  return s;
}
}  // namespace headers_codec

// Reads headers at the front of `in` and moves past them.
inline headers read_headers(bytes_view& in, std::string_view where) {
  headers h;
  const std::uint64_t n = get_varint(in, where);
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string key(headers_codec::take(in, get_varint(in, where), where));
    const std::uint64_t size = get_varint(in, where);
    std::optional<std::string> value;
    if (size > 0) value.emplace(headers_codec::take(in, size - 1, where));
    h.add(std::move(key), std::move(value));
  }
  return h;
}

// Moves `in` past the headers at its front without reading them.
inline void skip_headers(bytes_view& in, std::string_view where) {
  const std::uint64_t n = get_varint(in, where);
  for (std::uint64_t i = 0; i < n; ++i) {
    headers_codec::take(in, get_varint(in, where), where);
    const std::uint64_t size = get_varint(in, where);
    if (size > 0) headers_codec::take(in, size - 1, where);
  }
}

}  // namespace rill::detail
