// End-to-end latency and store metrics of a running app on the embedded broker: records
// stamped a known time in the past must show at least that latency at the sink and at the
// store; at debug the store's calls are counted and timed, at info they are not.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include <rill/rill.hpp>

#include "examples/word_count/word_count.hpp"
#include "harness.hpp"

using namespace rill::test;

namespace {

constexpr std::int64_t age_ms = 5000;  // how old each record is when it is written

// The largest value of a metric over its tagged instances (NaN if there is none).
double highest(const std::vector<rill::metric>& all, const std::string& group,
               const std::string& name, const std::string& tag = {},
               const std::string& tag_value = {}) {
  double v = std::nan("");
  for (const auto& m : all) {
    if (m.group != group || m.name != name) continue;
    if (!tag.empty() && (!m.tags.contains(tag) || m.tags.at(tag) != tag_value)) continue;
    if (std::isnan(v) || m.value > v) v = m.value;
  }
  return v;
}

struct running_word_count {
  cluster c;
  std::string in = unique("lm-text"), out = unique("lm-counts");
  std::unique_ptr<rill::streams_app> app;

  explicit running_word_count(const std::string& level) {
    c.create_topic(in, 2);
    c.create_topic(out, 2);
    rill::config cfg = c.app_config(unique("lm-app"));
    cfg.set("commit.interval.ms", "100");
    cfg.set("metrics.recording.level", level);
    app = std::make_unique<rill::streams_app>(word_count::topology(in, out), cfg);
    app->start();
    EXPECT_TRUE(app->wait_until_running(60s));
  }
  // Writes lines stamped age_ms ago until the metrics show `ready`, a second apart at most
  // (the threads sample their figures once a second).
  template <class F>
  std::vector<rill::metric> feed_until(F ready) {
    rill::topic_writer<std::string, std::string> writer(c.bootstrap(), c.props());
    std::vector<rill::metric> seen;
    int line = 0;
    const bool ok = wait_for(
        [&] {
          const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
          for (int i = 0; i < 20; ++i, ++line)
            writer.send(in, std::to_string(line), "alpha beta gamma", now - age_ms);
          writer.flush();
          seen = app->metrics();
          return ready(seen);
        },
        60s);
    EXPECT_TRUE(ok) << "the metrics never showed what the test waits for";
    return seen;
  }
};

}  // namespace

TEST(latency_metrics, debug_level_times_the_stores_and_both_levels_measure_end_to_end_latency) {
  running_word_count w("debug");
  const std::string store = "word-counts";
  auto m = w.feed_until([&](const std::vector<rill::metric>& all) {
    return highest(all, "stream-state-metrics", "put-rate", "store", store) > 0 &&
           highest(all, "stream-state-metrics", "flush-rate", "store", store) > 0 &&
           highest(all, "stream-processor-node-metrics", "record-e2e-latency-avg", "topic",
                   w.out) >= age_ms;
  });
  // The sink: records left at least age_ms after their timestamps, and not absurdly later.
  const double sink_avg =
      highest(m, "stream-processor-node-metrics", "record-e2e-latency-avg", "topic", w.out);
  const double sink_max =
      highest(m, "stream-processor-node-metrics", "record-e2e-latency-max", "topic", w.out);
  EXPECT_GE(sink_avg, age_ms);
  EXPECT_LT(sink_avg, age_ms + 60000);
  EXPECT_GE(sink_max, sink_avg);
  // The store: its writes came from the same records.
  const double store_e2e =
      highest(m, "stream-state-metrics", "record-e2e-latency-avg", "store", store);
  EXPECT_GE(store_e2e, age_ms);
  EXPECT_LT(store_e2e, age_ms + 60000);
  // Timed calls: counts a rate, latencies in ms that are positive and below a second.
  for (const char* op : {"put", "get", "flush"}) {
    const std::string avg = std::string(op) + "-latency-avg";
    const double v = highest(m, "stream-state-metrics", avg, "store", store);
    if (std::string(op) != "get" || !std::isnan(v)) {
      EXPECT_GT(v, 0) << avg;
      EXPECT_LT(v, 1000) << avg;
    }
    EXPECT_FALSE(
        std::isnan(highest(m, "stream-state-metrics", std::string(op) + "-rate", "store", store)))
        << op;
  }
  for (const auto& x : m) {
    if (x.group != "stream-state-metrics") continue;
    EXPECT_TRUE(x.tags.contains("thread-id") && x.tags.contains("task-id")) << x.name;
  }
  ASSERT_TRUE(w.app->close(60s));
}

TEST(latency_metrics, info_level_measures_end_to_end_latency_without_timing_store_calls) {
  running_word_count w("info");
  auto m = w.feed_until([&](const std::vector<rill::metric>& all) {
    return highest(all, "stream-state-metrics", "record-e2e-latency-avg", "store", "word-counts") >=
           age_ms;
  });
  EXPECT_TRUE(std::isnan(highest(m, "stream-state-metrics", "put-rate")))
      << "store calls are timed only at debug";
  EXPECT_GE(highest(m, "stream-processor-node-metrics", "record-e2e-latency-avg", "topic", w.out),
            age_ms);
  ASSERT_TRUE(w.app->close(60s));
}
