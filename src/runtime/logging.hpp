// Small logging helpers of the runtime.
#pragma once

#include <string_view>

#include <spdlog/spdlog.h>

#include "src/kafka/types.hpp"

namespace rill::runtime {

// For client calls whose failure costs nothing that a later call does not repair (pausing a
// partition the consumer has just lost, resuming one it is about to be given again): the
// failure is logged, not handled.
inline void warn_on_failure(const kafka::error& e, std::string_view who, std::string_view what) {
  if (e) spdlog::warn("{}: {} failed: {}", who, what, e.message());
}

}  // namespace rill::runtime
