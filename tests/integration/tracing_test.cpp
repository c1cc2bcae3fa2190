// W3C trace context through a running app on the embedded broker (real Kafka protocol):
// records written with a `traceparent` header come out of a stateless sink, the repartition
// topic and an aggregation's sink with the context of the record that caused them. Data: a
// few records of ~60 bytes.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include <rill/rill.hpp>

#include "harness.hpp"

using namespace rill::test;

namespace {

std::string tp(int n) {
  return "00-0af7651916cd43dd8448eb211c80319c-" + std::string(15, '0') + std::to_string(n) + "-01";
}

}  // namespace

TEST(tracing_integration, the_trace_context_crosses_a_repartition_topic_to_the_sinks) {
  cluster c;
  const std::string in = unique("trace-in");
  const std::string copies = unique("trace-copies");
  const std::string counts = unique("trace-counts");
  const std::string app_id = unique("trace");
  c.create_topic(in, 2);
  c.create_topic(copies, 1);
  c.create_topic(counts, 1);
  rill::streams_builder b;
  auto words = b.stream<std::string, std::string>(in).select_key(
      [](const std::string&, const std::string& w) { return w; });
  words.to(copies);
  words.group_by_key(rill::grouped<std::string, std::string>{.name = "by-word"})
      .count(rill::named("word-counts"))
      .to_stream()
      .to(counts);
  rill::config cfg = c.app_config(app_id);
  cfg.set("commit.interval.ms", "100");
  rill::streams_app app(b.build(), cfg);
  app.start();
  ASSERT_TRUE(app.wait_until_running(60s));

  rill::topic_writer<std::string, std::string> w(c.bootstrap(), c.props());
  auto send = [&](const std::string& key, const std::string& word, int trace) {
    w.send(in, key, word, {}, rill::headers{{"traceparent", tp(trace)}, {"tracestate", "t=1"}});
  };
  send("k0", "w0", 0);
  send("k1", "w1", 1);
  send("k2", "w2", 2);
  w.flush();
  rill::topic_reader<std::string, std::int64_t> count_reader(c.bootstrap(), counts, c.props());
  auto first = count_reader.read(3, 60s);
  ASSERT_EQ(first.size(), 3u);
  send("k3", "w0", 3);  // w0's second update, after the first was counted
  w.flush();
  auto second = count_reader.read(1, 60s);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].key, "w0");
  EXPECT_EQ(second[0].value, 2);
  EXPECT_EQ(second[0].headers.get("traceparent"), tp(3)) << "the last update's context";
  EXPECT_EQ(second[0].headers.get("tracestate"), "t=1");
  for (const auto& r : first) {
    EXPECT_EQ(r.headers.get("traceparent"), tp(r.key[1] - '0')) << r.key;
  }

  auto stateless =
      rill::topic_reader<std::string, std::string>(c.bootstrap(), copies, c.props()).read(4, 30s);
  ASSERT_EQ(stateless.size(), 4u);
  std::map<std::string, int> copies_seen;
  for (const auto& r : stateless) {
    const auto t = r.headers.get("traceparent");
    ASSERT_TRUE(t) << r.key;
    ++copies_seen[std::string(*t)];
  }
  EXPECT_EQ(copies_seen,
            (std::map<std::string, int>{{tp(0), 1}, {tp(1), 1}, {tp(2), 1}, {tp(3), 1}}));

  // The repartition topic itself, as any Kafka client reads it.
  auto repartitioned = rill::topic_reader<std::string, std::string>(
                           c.bootstrap(), app_id + "-by-word-repartition", c.props())
                           .read(4, 30s);
  std::map<std::string, std::vector<std::string>> by_word;  // in each partition's order
  for (const auto& r : repartitioned)
    by_word[r.key].emplace_back(r.headers.get("traceparent").value_or("none"));
  EXPECT_EQ(by_word, (std::map<std::string, std::vector<std::string>>{
                         {"w0", {tp(0), tp(3)}}, {"w1", {tp(1)}}, {"w2", {tp(2)}}}));
  EXPECT_TRUE(app.close());
}
