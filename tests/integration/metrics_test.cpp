// Metrics of a running app on the embedded broker: app.metrics() under Kafka Streams' names,
// and GET /metrics read by an independent parser (Debian's python3-prometheus-client,
// prometheus_check.py) before and after more traffic: families, types, labels, counters that
// grow with the records, and the client metrics from librdkafka's statistics (records-lag per
// partition down to 0 once the app has caught up, round trips per broker).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include <rill/rill.hpp>

#include "examples/word_count/word_count.hpp"
#include "harness.hpp"
#include "src/http/client.hpp"

using namespace rill::test;

namespace {

const rill::metric* find(const std::vector<rill::metric>& all, const std::string& group,
                         const std::string& name) {
  for (const auto& m : all)
    if (m.group == group && m.name == name) return &m;
  return nullptr;
}

// records-lag of each partition of `topic`, over every thread's consumer (a partition two
// consumers report shows up twice, the second time marked "again").
std::map<std::string, double> lag_of(const std::vector<rill::metric>& all,
                                     const std::string& topic) {
  std::map<std::string, double> out;
  for (const auto& m : all) {
    if (m.group != "consumer-fetch-manager-metrics" || m.name != "records-lag" ||
        !m.tags.contains("topic") || m.tags.at("topic") != topic)
      continue;
    const std::string& p = m.tags.at("partition");
    if (!out.emplace(p, m.value).second) out.emplace(p + " again", m.value);
  }
  return out;
}

std::string describe(const std::map<std::string, double>& lags) {
  std::string out;
  for (const auto& [p, lag] : lags) out += " " + p + ":" + std::to_string(lag);
  return out.empty() ? " none" : out;
}

}  // namespace

TEST(metrics, an_app_reports_kafka_streams_metrics_and_prometheus_reads_them) {
  cluster c;
  const std::string in = unique("m-text"), out = unique("m-counts");
  c.create_topic(in, 4);
  c.create_topic(out, 4);
  const std::string app_id = unique("m-app");
  const std::string repartition = app_id + "-word-counts-repartition";
  rill::config cfg = c.app_config(app_id);
  cfg.set("commit.interval.ms", "100");
  cfg.set("num.stream.threads", "2");
  cfg.set("application.server", "127.0.0.1:0");
  cfg.set("statistics.interval.ms", "200");  // the clients' statistics, soon after each change
  rill::streams_app app(word_count::topology(in, out), cfg);
  app.start();
  ASSERT_TRUE(app.wait_until_running(60s));
  rill::topic_writer<std::string, std::string> writer(c.bootstrap(), c.props());
  auto send = [&](int from, int n) {
    for (int i = from; i < from + n; ++i) writer.send(in, std::to_string(i), "a b c d");
    writer.flush();
  };
  send(0, 200);
  ASSERT_TRUE(wait_for([&] { return app.counters().processed >= 200 * 2; }, 60s));

  // The snapshot: thread, task and app metrics under Kafka Streams' names and tags.
  std::vector<rill::metric> snapshot;
  ASSERT_TRUE(wait_for(
      [&] {
        snapshot = app.metrics();
        const auto* p = find(snapshot, "stream-thread-metrics", "process-total");
        const auto* t = find(snapshot, "stream-task-metrics", "process-total");
        return p != nullptr && t != nullptr && p->value > 0;
      },
      30s));
  const auto* process = find(snapshot, "stream-thread-metrics", "process-total");
  EXPECT_EQ(process->kind, rill::metric_kind::counter);
  EXPECT_TRUE(process->tags.contains("thread-id"));
  EXPECT_TRUE(find(snapshot, "stream-task-metrics", "process-total")->tags.contains("task-id"));
  for (const char* name :
       {"process-rate", "process-latency-avg", "process-latency-max", "poll-rate",
        "poll-records-avg", "commit-rate", "commit-latency-avg", "commit-latency-max",
        "punctuate-rate", "blocked-time-ns-total", "thread-start-time"})
    EXPECT_NE(find(snapshot, "stream-thread-metrics", name), nullptr) << name;
  for (const char* name :
       {"process-rate", "dropped-records-rate", "dropped-records-total", "enforced-processing-rate",
        "record-lateness-avg", "record-lateness-max", "active-buffer-count"})
    EXPECT_NE(find(snapshot, "stream-task-metrics", name), nullptr) << name;
  const auto* alive = find(snapshot, "stream-metrics", "alive-stream-threads");
  ASSERT_NE(alive, nullptr);
  EXPECT_EQ(alive->value, 2);
  double summed = 0;
  for (const auto& m : snapshot)
    if (m.group == "stream-thread-metrics" && m.name == "process-total") summed += m.value;
  EXPECT_GE(summed, 400) << "the threads' process-total adds up to what was processed";

  // Two scrapes around more traffic, read by prometheus_client's parser.
  const auto dir = std::filesystem::temp_directory_path() / unique("rill-metrics");
  std::filesystem::create_directories(dir);
  auto scrape = [&](const std::string& name) {
    // A connection of its own: the server closes idle kept-alive ones.
    rill::http::client web(app.advertised_server());
    auto r = web.request("GET", "/metrics", {}, 10s);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.header("content-type").starts_with("text/plain; version=0.0.4"))
        << r.header("content-type");
    std::ofstream((dir / name).string()) << r.body;
    return r.body;
  };
  const std::string first = scrape("first.txt");
  EXPECT_NE(first.find("# TYPE rill_stream_thread_process_total counter"), std::string::npos)
      << first;
  const auto before = app.counters().processed;
  send(200, 300);
  ASSERT_TRUE(wait_for([&] { return app.counters().processed >= before + 300 * 4; }, 60s));
  // Task metrics are sampled once a second: wait until they have seen the new records.
  ASSERT_TRUE(wait_for(
      [&] {
        double tasks = 0;
        for (const auto& m : app.metrics())
          if (m.group == "stream-task-metrics" && m.name == "process-total") tasks += m.value;
        return tasks >= static_cast<double>(before + 300 * 4);
      },
      30s));
  // Caught up: every input and repartition partition's lag is 0 in the consumers' next
  // statistics (a repartition partition no word went to included).
  std::map<std::string, double> lags, internal_lags;
  const auto zero = [](const auto& l) { return l.second == 0; };
  const bool caught_up = wait_for(
      [&] {
        const auto now = app.metrics();
        lags = lag_of(now, in);
        internal_lags = lag_of(now, repartition);
        return lags.size() == 4 && std::all_of(lags.begin(), lags.end(), zero) &&
               internal_lags.size() == 4 &&
               std::all_of(internal_lags.begin(), internal_lags.end(), zero);
      },
      30s);
  ASSERT_TRUE(caught_up) << "records-lag by partition of " << in << ":" << describe(lags) << "; of "
                         << repartition << ":" << describe(internal_lags);
  // Round trips: present while a broker answered requests in the last statistics interval
  // (the consumers' long-polling fetches take up to fetch.wait.max.ms, 500 ms, each).
  const rill::metric* latency = nullptr;
  std::vector<rill::metric> all;
  ASSERT_TRUE(wait_for(
      [&] {
        all = app.metrics();
        latency = find(all, "consumer-node-metrics", "request-latency-avg");
        return latency != nullptr;
      },
      30s))
      << "no broker round trips in the consumers' statistics";
  EXPECT_GT(latency->value, 0);
  EXPECT_TRUE(latency->tags.contains("node-id"));
  EXPECT_NE(find(all, "producer-metrics", "buffer-queued-records"), nullptr);
  EXPECT_NE(find(all, "producer-metrics", "record-error-total"), nullptr);
  // The second scrape, once it has round trips too.
  std::string second;
  EXPECT_TRUE(wait_for(
      [&] {
        second = scrape("second.txt");
        return second.find("rill_consumer_node_request_latency_avg_seconds{") != std::string::npos;
      },
      30s, 200ms))
      << second;
  const std::string report =
      run_output(std::string("/usr/bin/python3 ") + PROMETHEUS_CHECK_SCRIPT + " " +
                 (dir / "first.txt").string() + " " + (dir / "second.txt").string() + " " + in +
                 ":4" + " 2>&1; echo exit=$?");
  EXPECT_NE(report.find("metrics: ok"), std::string::npos) << report;
  EXPECT_NE(report.find("exit=0"), std::string::npos) << report;
  ASSERT_TRUE(app.close(60s));
  std::filesystem::remove_all(dir);
}
