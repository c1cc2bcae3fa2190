#include "src/runtime/client_metrics.hpp"

#include <algorithm>
#include <map>
#include <span>
#include <string>

namespace rill::runtime {

namespace {

using stats = kafka::client_statistics;

constexpr double us_per_ms = 1000.0;

using emitter = metric_emitter;

double as_double(std::int64_t v) {
  return static_cast<double>(v);
}

// Round trips over the brokers that had some in the last statistics interval, ms: the
// average weighted by their samples, and the highest. Nothing when none had any.
void request_latency(emitter& e, std::span<const stats::broker> brokers) {
  double sum = 0;
  std::int64_t samples = 0;
  std::int64_t max = 0;
  for (const auto& b : brokers) {
    sum += as_double(b.rtt_avg_us) * as_double(b.rtt_samples);
    samples += b.rtt_samples;
    max = std::max(max, b.rtt_max_us);
  }
  if (samples == 0) return;
  e.gauge("request-latency-avg", sum / as_double(samples) / us_per_ms,
          "Average round trip of a request to a broker, last statistics interval, ms");
  e.gauge("request-latency-max", as_double(max) / us_per_ms,
          "Longest round trip of a request to a broker, last statistics interval, ms");
}

// What consumers and producers share: requests, bytes, errors, latency; and per broker.
void common_metrics(const stats& s, const std::string& kind, std::vector<metric>& out) {
  emitter e{out, kind + "-metrics", {{"client-id", s.client_id}}};
  e.counter("request-total", as_double(s.requests), "Requests sent to brokers");
  e.counter("response-total", as_double(s.responses), "Responses received from brokers");
  e.counter("outgoing-byte-total", as_double(s.request_bytes), "Bytes sent to brokers");
  e.counter("incoming-byte-total", as_double(s.response_bytes), "Bytes received from brokers");
  e.counter("request-error-total", as_double(s.transmit_errors),
            "Requests that failed to go out (librdkafka's txerrs)");
  e.counter("response-error-total", as_double(s.receive_errors),
            "Responses that failed to arrive or to decode (librdkafka's rxerrs)");
  e.counter("request-timeout-total", as_double(s.request_timeouts), "Requests that timed out");
  e.counter("connection-creation-total", as_double(s.connects), "Connections made to brokers");
  e.counter("connection-close-total", as_double(s.disconnects),
            "Connections to brokers lost or closed");
  request_latency(e, s.brokers);
  for (const auto& b : s.brokers) {
    emitter n{out,
              kind + "-node-metrics",
              {{"client-id", s.client_id}, {"node-id", "node-" + std::to_string(b.node_id)}}};
    n.counter("request-total", as_double(b.requests), "Requests sent to the broker");
    n.counter("response-total", as_double(b.responses), "Responses received from the broker");
    request_latency(n, std::span(&b, 1));
  }
}

void consumer_metrics(const stats& s, std::vector<metric>& out) {
  common_metrics(s, "consumer", out);
  emitter e{out, "consumer-fetch-manager-metrics", {{"client-id", s.client_id}}};
  e.counter("records-consumed-total", as_double(s.messages_received),
            "Records the consumer fetched");
  std::int64_t max_lag = 0;
  for (const auto& p : s.partitions) {
    max_lag = std::max(max_lag, p.consumer_lag);
    emitter pe{out,
               "consumer-fetch-manager-metrics",
               {{"client-id", s.client_id},
                {"topic", p.topic},
                {"partition", std::to_string(p.partition)}}};
    pe.gauge("records-lag", as_double(p.consumer_lag),
             "Records of the partition after the consumer's position (high watermark - position)");
  }
  if (!s.partitions.empty())
    e.gauge("records-lag-max", as_double(max_lag), "The highest records-lag of the consumer");
}

void producer_metrics(const stats& s, std::vector<metric>& out) {
  common_metrics(s, "producer", out);
  emitter e{out, "producer-metrics", {{"client-id", s.client_id}}};
  e.counter("record-send-total", as_double(s.messages_sent), "Records sent to brokers");
  e.counter("record-error-total", as_double(s.delivery_errors), "Records whose delivery failed");
  e.counter("record-retry-total", as_double(s.request_retries),
            "Produce and other requests retried (librdkafka's txretries)");
  e.gauge("buffer-queued-records", as_double(s.queued_messages),
          "Records in the producer's queue, waiting for delivery");
  e.gauge("buffer-total-bytes", as_double(s.queue_max_bytes),
          "Bound of the producer's queue, bytes (queue.buffering.max.kbytes)");
  e.gauge("buffer-available-bytes",
          as_double(std::max<std::int64_t>(s.queue_max_bytes - s.queued_bytes, 0)),
          "Room left in the producer's queue, bytes");
}

}  // namespace

void append_client_metrics(const std::optional<kafka::client_statistics>& consumer,
                           const std::optional<kafka::client_statistics>& producer,
                           std::vector<metric>& out) {
  if (consumer) consumer_metrics(*consumer, out);
  if (producer) producer_metrics(*producer, out);
}

}  // namespace rill::runtime
