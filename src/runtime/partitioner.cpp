#include "src/runtime/partitioner.hpp"

namespace rill::runtime {

std::uint32_t murmur2(bytes_view data) noexcept {
  constexpr std::uint32_t seed = 0x9747b28cu;
  constexpr std::uint32_t m = 0x5bd1e995u;
  constexpr int r = 24;
  const std::size_t length = data.size();
  auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(data[i]); };

  std::uint32_t h = seed ^ static_cast<std::uint32_t>(length);
  const std::size_t blocks = length / 4;
  for (std::size_t i = 0; i < blocks; ++i) {
    std::uint32_t k =
        byte(4 * i) | (byte(4 * i + 1) << 8) | (byte(4 * i + 2) << 16) | (byte(4 * i + 3) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const std::size_t tail = length & ~std::size_t{3};
  switch (length % 4) {
    case 3:
      h ^= byte(tail + 2) << 16;
      [[fallthrough]];
    case 2:
      h ^= byte(tail + 1) << 8;
      [[fallthrough]];
    case 1:
      h ^= byte(tail);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

}  // namespace rill::runtime
