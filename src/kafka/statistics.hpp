// What a client's statistics say: librdkafka emits them as JSON every statistics.interval.ms
// (its STATISTICS.md), the client parses them here and keeps the latest. The metrics' client
// groups (consumer-fetch-manager, consumer/producer, per-node) are made from this struct;
// clients without statistics (the simulated cluster) report none.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rill::kafka {

struct client_statistics {
  // A partition the client knows with a known lag (the unassigned placeholder, id -1, and
  // partitions whose lag is unknown, -1, are left out; an empty partition has lag 0).
  struct partition {
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t consumer_lag = 0;  // high watermark - max(app offset, committed offset)
  };
  // A broker the client talks to. Bootstrap entries (node id -1) appear only while they have
  // round trips to report; librdkafka's internal pseudo-broker never does.
  struct broker {
    std::string name;  // "host:port/id"
    std::int32_t node_id = -1;
    // Round trips of the last statistics interval, µs (0 samples: no request completed).
    std::int64_t rtt_avg_us = 0;
    std::int64_t rtt_max_us = 0;
    std::int64_t rtt_samples = 0;
    std::int64_t requests = 0;   // tx
    std::int64_t responses = 0;  // rx
  };

  std::string client_id;
  std::string type;  // "consumer" or "producer"
  // Producer queue: messages and bytes waiting for delivery, and its bounds.
  std::int64_t queued_messages = 0;    // msg_cnt
  std::int64_t queued_bytes = 0;       // msg_size
  std::int64_t queue_max_bytes = 0;    // msg_size_max
  std::int64_t requests = 0;           // tx
  std::int64_t request_bytes = 0;      // txbytes
  std::int64_t responses = 0;          // rx
  std::int64_t response_bytes = 0;     // rxbytes
  std::int64_t messages_sent = 0;      // txmsgs
  std::int64_t messages_received = 0;  // rxmsgs
  // Summed over the brokers (the top level has no error counts).
  std::int64_t transmit_errors = 0;   // txerrs
  std::int64_t receive_errors = 0;    // rxerrs
  std::int64_t request_retries = 0;   // txretries
  std::int64_t request_timeouts = 0;  // req_timeouts
  std::int64_t connects = 0;          // connects: connections made
  std::int64_t disconnects = 0;       // disconnects: connections lost or closed
  // Records whose delivery failed, counted by the producer itself from its delivery reports.
  std::int64_t delivery_errors = 0;
  std::vector<partition> partitions;
  std::vector<broker> brokers;
};

// Parses librdkafka's statistics JSON; nothing when it is not a JSON object. Fields a version
// of librdkafka does not write stay 0.
std::optional<client_statistics> parse_statistics(std::string_view json);

}  // namespace rill::kafka
