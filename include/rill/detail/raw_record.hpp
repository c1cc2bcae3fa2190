// A consumed record as bytes: what the runtime's clients hand to a task and a source node
// deserializes. Byte-level, so the Kafka client layer can fill it without the DSL's headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <rill/bytes.hpp>
#include <rill/headers.hpp>
#include <rill/record.hpp>

namespace rill::detail {

// One consumed record as bytes, filed in its task's partition queue.
struct raw_record {
  std::string_view topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  timestamp_ms timestamp = 0;
  std::optional<bytes_view> key;    // nullopt: Kafka null
  std::optional<bytes_view> value;  // nullopt: Kafka null (tombstone)
  rill::headers headers;            // moved into the typed record by the source node
};

}  // namespace rill::detail
