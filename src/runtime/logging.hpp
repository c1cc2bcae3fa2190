// Small logging helpers of the runtime, over Rill's logger (src/log/log.hpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "src/kafka/types.hpp"
#include "src/log/log.hpp"

namespace rill::runtime {

using log::kv;

// For client calls whose failure costs nothing that a later call does not repair (pausing a
// partition the consumer has just lost, resuming one it is about to be given again): the
// failure is logged, not handled.
inline void warn_on_failure(const log::logger& log, const kafka::error& e, std::string_view what) {
  if (e) log.warn("client call failed", kv("call", what), kv("error", e.message()));
}

// Partitions as one field value: `orders-0,orders-1`.
inline std::string partition_list(const std::vector<kafka::topic_partition>& partitions) {
  std::vector<std::string> names;
  names.reserve(partitions.size());
  for (const auto& tp : partitions) names.push_back(tp.to_string());
  return fmt::format("{}", fmt::join(names, ","));
}

}  // namespace rill::runtime
