// Task ids: one task per (subtopology, partition), printed "0_3" as Kafka Streams does.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace rill {

struct task_id {
  std::int32_t subtopology = 0;
  std::int32_t partition = 0;

  std::string to_string() const {
    return std::to_string(subtopology) + "_" + std::to_string(partition);
  }
  auto operator<=>(const task_id&) const = default;
};

}  // namespace rill

template <>
struct std::hash<rill::task_id> {
  std::size_t operator()(const rill::task_id& t) const noexcept {
    return std::hash<std::int64_t>()((std::int64_t{t.subtopology} << 32) ^ t.partition);
  }
};
