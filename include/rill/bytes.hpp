// Byte buffers: what serdes write into and read from.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rill {

// Read-only view of serialized bytes (a Kafka key or value, a store entry).
using bytes_view = std::span<const std::byte>;
// Owned bytes; also the value type of the raw-bytes serde.
using bytes = std::vector<std::byte>;

inline bytes_view as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string_view as_chars(bytes_view b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline void append(bytes& out, bytes_view b) {
  if (b.empty()) return;
  const std::size_t at = out.size();
  out.resize(at + b.size());
  std::memcpy(out.data() + at, b.data(), b.size());
}
inline void append(bytes& out, std::string_view s) {
  append(out, as_bytes(s));
}
inline bytes to_bytes(std::string_view s) {
  return bytes(as_bytes(s).begin(), as_bytes(s).end());
}

}  // namespace rill
