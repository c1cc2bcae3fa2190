// Kafka's default partitioner for keyed records: murmur2 of the serialized key, made
// positive, modulo the partition count. The same function as the Java client's
// Utils.murmur2 and librdkafka's murmur2 partitioner, so Rill, Java and librdkafka producers
// put a key in the same partition.
#pragma once

#include <cstdint>

#include <rill/bytes.hpp>

namespace rill::runtime {

std::uint32_t murmur2(bytes_view data) noexcept;

inline std::int32_t default_partition(bytes_view key, std::int32_t partitions) noexcept {
  return static_cast<std::int32_t>((murmur2(key) & 0x7fffffffu) %
                                   static_cast<std::uint32_t>(partitions));
}

}  // namespace rill::runtime
