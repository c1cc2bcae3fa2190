// Plain types shared by the Kafka client interfaces and their users (the runtime, the test
// driver, the simulated cluster). No librdkafka here.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <rill/detail/raw_record.hpp>

namespace rill::kafka {

struct topic_partition {
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const topic_partition&) const = default;
  std::string to_string() const { return fmt::format("{}-{}", topic, partition); }
};

struct partition_offset {
  topic_partition tp;
  std::int64_t offset = 0;  // the next offset to read
  // Committed with the offset and read back with it (Kafka's offset metadata): Rill keeps
  // the task's stream time here, so a restarted task carries on from it.
  std::string metadata;
  bool operator==(const partition_offset&) const = default;
};

// A consumed record waiting in its task's partition queue: the bytes view the source node
// reads, and whatever owns those bytes (a librdkafka message, a simulated log entry, the
// test driver's copy).
struct consumed_record {
  using owner_ptr = std::unique_ptr<void, void (*)(void*)>;

  detail::raw_record raw;  // views into `owner`
  owner_ptr owner{nullptr, [](void*) {}};
};

// What went wrong in a client call, sorted so callers can act without knowing librdkafka's
// codes. Empty (success) converts to false. [[nodiscard]]: a result is handled, or dropped
// visibly with `(void)` and a comment saying why.
class [[nodiscard]] error {
 public:
  enum class kind {
    none,
    retriable,      // try again (timeouts, a broker down, leader moving)
    abortable,      // the transaction must be aborted; processing may go on after
    task_migrated,  // this instance lost its partitions or its epoch (INVALID_PRODUCER_EPOCH,
                    // a stale group generation): close dirty, rejoin
    // PRODUCER_FENCED: a newer producer ran init_transactions with this transactional.id.
    // This producer can do nothing more; making a new one would fence the newer holder in
    // turn. Sorted apart from task_migrated so the runtime can tell the two.
    producer_fenced,
    fatal,        // the client cannot go on
    unsupported,  // the broker cannot do this (the embedded broker's gaps, docs/brokers.md)
  };

  error() = default;
  error(kind k, int code, std::string message)
      : _kind(k), _code(code), _message(std::move(message)) {}

  // Kafka's UNKNOWN_TOPIC_OR_PARTITION: the cluster says the topic does not exist.
  static constexpr int unknown_topic = 3;
  // Kafka's INVALID_PRODUCER_EPOCH (the coordinator bumped the epoch, e.g. when the
  // transaction timed out) and PRODUCER_FENCED (a newer producer took the transactional.id).
  static constexpr int invalid_producer_epoch = 47;
  static constexpr int producer_fenced = 90;
  // librdkafka's RD_KAFKA_RESP_ERR__STATE: a call out of the transaction state machine's order.
  static constexpr int bad_state = -172;

  explicit operator bool() const noexcept { return _kind != kind::none; }
  kind type() const noexcept { return _kind; }
  int code() const noexcept { return _code; }  // librdkafka's rd_kafka_resp_err_t, or 0
  const std::string& message() const noexcept { return _message; }
  bool retriable() const noexcept { return _kind == kind::retriable; }

 private:
  kind _kind = kind::none;
  int _code = 0;
  std::string _message;
};

}  // namespace rill::kafka
