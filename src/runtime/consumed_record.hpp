// A consumed record waiting in its task's partition queue: the bytes view the source node
// reads, and whatever owns those bytes (a librdkafka message, or the test driver's copy).
#pragma once

#include <memory>

#include <rill/detail/node.hpp>

namespace rill::runtime {

struct consumed_record {
  using owner_ptr = std::unique_ptr<void, void (*)(void*)>;

  detail::raw_record raw;  // views into `owner`; raw.topic is set by the task
  owner_ptr owner{nullptr, [](void*) {}};
};

}  // namespace rill::runtime
