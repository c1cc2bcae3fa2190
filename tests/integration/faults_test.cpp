// Injected faults on the embedded broker: the broker down for seconds, failing produce
// requests (retriable, and one that fails a delivery for good), failing offset commits,
// a poison record. Each must end with every input's effect in the output (duplicates are
// allowed at-least-once and reported). Data: 2 000 records of ~10 bytes.
#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include <rill/rill.hpp>

#include "harness.hpp"

using namespace rill::test;

namespace {

constexpr int records = 2000;

// The sum of one metric over the app's threads or clients (those of `group`).
double metric_total(const rill::streams_app& app, std::string_view group, std::string_view name) {
  double total = 0;
  for (const rill::metric& m : app.metrics()) {
    if (m.group == group && m.name == name) total += m.value;
  }
  return total;
}

struct fixture {
  cluster c;
  std::string in = unique("faults-in");
  std::string out = unique("faults-out");
  std::string app_id = unique("faults");

  fixture() {
    c.create_topic(in, 4);
    c.create_topic(out, 4);
  }

  rill::topology topology() const {
    rill::streams_builder b;
    b.stream<std::string, std::string>(in)
        .map_values([](std::string v) { return v + "!"; })
        .to(out);
    return b.build();
  }

  rill::config config() const {
    rill::config cfg = c.app_config(app_id);
    cfg.set("commit.interval.ms", "200");
    cfg.set("producer.message.timeout.ms", "60000");
    return cfg;
  }

  void write(int from, int to) const {
    rill::topic_writer<std::string, std::string> w(c.bootstrap(), c.props());
    for (int i = from; i < to; ++i) w.send(in, "k" + std::to_string(i), "v" + std::to_string(i));
    w.flush(std::chrono::seconds(60));
  }

  // Reads `out` until every "v<i>!" for i < n arrived; returns the number of duplicates,
  // or -1 with a message if some never came.
  long read_all(int n, std::chrono::milliseconds timeout) const {
    rill::topic_reader<std::string, std::string> reader(c.bootstrap(), out, c.props());
    std::set<std::string> seen;
    long copies = 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (static_cast<int>(seen.size()) < n && std::chrono::steady_clock::now() < deadline) {
      for (auto& r : reader.read(10000, 200ms)) {
        seen.insert(r.value);
        ++copies;
      }
    }
    for (auto& r : reader.read(10000, 500ms)) {
      seen.insert(r.value);
      ++copies;
    }
    for (int i = 0; i < n; ++i) {
      if (!seen.contains("v" + std::to_string(i) + "!")) {
        ADD_FAILURE() << "missing v" << i << "! (" << seen.size() << " of " << n << " arrived)";
        return -1;
      }
    }
    return copies - static_cast<long>(seen.size());
  }
};

}  // namespace

TEST(faults, broker_down_for_seconds_loses_nothing) {
  fixture f;
  if (!f.c.embedded()) GTEST_SKIP() << "needs the embedded broker's fault injection";
  f.write(0, records / 2);
  rill::streams_app app(f.topology(), f.config());
  app.start();
  ASSERT_TRUE(app.wait_until_running(60s));
  ASSERT_TRUE(wait_for([&] { return app.counters().processed > 0; }, 60s));
  const double closed = metric_total(app, "consumer-metrics", "connection-close-total");
  f.c.broker().set_broker_down(1);
  const auto down_at = std::chrono::steady_clock::now();
  // The outage took effect: the app's consumer lost its connection (its statistics come
  // every second), and the thread went on polling the broker that was down.
  ASSERT_TRUE(wait_for(
      [&] { return metric_total(app, "consumer-metrics", "connection-close-total") > closed; },
      30s))
      << "the app's consumer never saw the broker go down";
  const double polls = metric_total(app, "stream-thread-metrics", "poll-total");
  ASSERT_TRUE(wait_for(
      [&] { return metric_total(app, "stream-thread-metrics", "poll-total") >= polls + 10; }, 30s))
      << "the stream thread stopped polling while the broker was down";
  const auto down_for = std::chrono::steady_clock::now() - down_at;
  f.c.broker().set_broker_up(1);
  f.write(records / 2, records);
  long duplicates = f.read_all(records, 90s);
  EXPECT_GE(duplicates, 0);
  std::cout << "broker down "
            << std::chrono::duration_cast<std::chrono::milliseconds>(down_for).count()
            << " ms (connections closed "
            << metric_total(app, "consumer-metrics", "connection-close-total") - closed
            << "): " << duplicates << " duplicates" << std::endl;
  EXPECT_TRUE(app.close());
}

TEST(faults, failing_produce_requests_lose_nothing) {
  fixture f;
  if (!f.c.embedded()) GTEST_SKIP() << "needs the embedded broker's fault injection";
  f.write(0, records);
  // Retriable errors first (the producer retries them), then one that fails a delivery for
  // good: the thread must rewind to its last commit instead of committing past it.
  f.c.broker().push_request_errors(rill::kafka_api::produce, {6, 7, 6, 7, 19, 6});
  f.c.broker().push_request_errors(rill::kafka_api::produce, {10});  // MESSAGE_TOO_LARGE
  rill::streams_app app(f.topology(), f.config());
  app.start();
  long duplicates = f.read_all(records, 90s);
  EXPECT_GE(duplicates, 0);
  EXPECT_GE(app.counters().rewinds, 1u) << "the failed delivery was noticed and rewound";
  std::cout << "produce errors: " << app.counters().rewinds << " rewind(s), " << duplicates
            << " duplicates" << std::endl;
  EXPECT_TRUE(app.close());
}

TEST(faults, failing_offset_commits_lose_nothing) {
  fixture f;
  if (!f.c.embedded()) GTEST_SKIP() << "needs the embedded broker's fault injection";
  f.write(0, records / 2);
  // COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR, REBALANCE_IN_PROGRESS, REQUEST_TIMED_OUT
  f.c.broker().push_request_errors(rill::kafka_api::offset_commit, {15, 16, 27, 7, 15, 16});
  // The app warns of each failed commit: the errors reached it and were not swallowed.
  std::atomic<int> failed_commits{0};
  rill::set_log_sink([&](rill::log_level level, std::string_view line) {
    if (level == rill::log_level::warn && line.find("commit failed") != std::string_view::npos)
      ++failed_commits;
  });
  rill::streams_app app(f.topology(), f.config());
  app.start();
  ASSERT_TRUE(wait_for([&] { return app.counters().processed >= records / 2; }, 60s));
  f.write(records / 2, records);
  long duplicates = f.read_all(records, 90s);
  EXPECT_GE(duplicates, 0);
  ASSERT_TRUE(wait_for([&] { return app.counters().commits > 0; }, 30s)) << "commits succeed again";
  EXPECT_GE(failed_commits.load(), 1) << "no commit error reached the app";
  std::cout << "commit errors: " << failed_commits.load() << " failed commits, then "
            << app.counters().commits << " commits, " << duplicates << " duplicates" << std::endl;
  EXPECT_TRUE(app.close());
  rill::set_log_sink(nullptr);
}

TEST(faults, a_poison_record_goes_to_the_dead_letter_topic_and_processing_continues) {
  cluster c;
  const std::string in = unique("poison-in");
  const std::string out = unique("poison-out");
  const std::string dlq = unique("poison-dlq");
  for (const auto& t : {in, out, dlq}) c.create_topic(t, 1);
  rill::streams_builder b;
  b.stream<std::string, std::int32_t>(in).map_values([](std::int32_t v) { return v * 2; }).to(out);
  rill::config cfg = c.app_config(unique("poison"));
  cfg.set("default.deserialization.exception.handler", "dead_letter");
  cfg.set("errors.dead.letter.queue.topic.name", dlq);
  rill::topic_writer<std::string, std::int32_t> w(c.bootstrap(), c.props());
  w.send(in, "a", 1);
  w.send_raw(in, rill::as_bytes("b"), rill::as_bytes("not-an-int32"));
  w.send(in, "c", 3);
  w.flush();
  rill::streams_app app(b.build(), cfg);
  app.start();
  auto doubled =
      rill::topic_reader<std::string, std::int32_t>(c.bootstrap(), out, c.props()).read(2, 60s);
  ASSERT_EQ(doubled.size(), 2u);
  EXPECT_EQ(doubled[0].value, 2);
  EXPECT_EQ(doubled[1].value, 6) << "the record after the poison one was processed";
  auto dead =
      rill::topic_reader<std::string, rill::bytes>(c.bootstrap(), dlq, c.props()).read(1, 30s);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].key, "b");
  EXPECT_EQ(dead[0].value, rill::to_bytes("not-an-int32"));
  EXPECT_EQ(dead[0].headers.get("__streams.errors.topic"), in);
  EXPECT_EQ(dead[0].headers.get("__streams.errors.partition"), "0");
  EXPECT_EQ(dead[0].headers.get("__streams.errors.offset"), "1");
  EXPECT_EQ(dead[0].headers.get("__streams.errors.exception"), "rill::serde_error");
  EXPECT_NE(dead[0].headers.get("__streams.errors.message")->find("expected 4 bytes, got 12"),
            std::string::npos);
  EXPECT_TRUE(wait_for([&] { return app.counters().dead_lettered == 1; }, 10s));
  app.close();
}
