// Interactive queries of a running app on the embedded broker: the word counts read while
// the app processes (from another thread, never a count that goes back), the final counts
// equal to a count made here, global tables, and clear errors for an app that is not
// running, an unknown store and a wrong type. Data: 4 000 lines of ~40 bytes.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include <rill/rill.hpp>

#include "examples/word_count/word_count.hpp"
#include "harness.hpp"

using namespace rill::test;

namespace {

std::vector<std::string> some_lines(std::size_t n) {
  static const char* words[] = {"the", "cat", "and", "hat", "a", "bat", "sat", "on"};
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::string line;
    for (std::size_t w = 0; w < 3 + i % 5; ++w) {
      if (!line.empty()) line += ' ';
      line += words[(i * 7 + w * 3) % 8];
    }
    out.push_back(line);
  }
  return out;
}

}  // namespace

TEST(queries, a_running_app_answers_from_every_task_while_it_processes) {
  cluster c;
  const std::string in = unique("q-text"), out = unique("q-counts");
  c.create_topic(in, 3);
  c.create_topic(out, 3);
  rill::config cfg = c.app_config(unique("q-app"));
  cfg.set("commit.interval.ms", "100");
  rill::streams_app app(word_count::topology(in, out), cfg);
  auto counts = app.key_value_store<std::string, std::int64_t>("word-counts");
  EXPECT_THROW((void)counts.get("the"), rill::store_unavailable_error) << "not started yet";
  app.start();
  ASSERT_TRUE(app.wait_until_running(60s));

  // A reader on its own thread while the input is processed: counts only grow.
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, went_back{0}, unavailable{0};
  std::thread reader([&] {
    std::int64_t last = 0;
    while (!stop.load()) {
      try {
        const std::int64_t now = counts.get("the").value_or(0);
        if (now < last) ++went_back;
        last = now;
        ++reads;
      } catch (const rill::store_unavailable_error&) {
        ++unavailable;  // a rebalance: allowed, and worth retrying
      }
    }
  });
  const auto lines = some_lines(4000);
  std::map<std::string, std::int64_t> expected;
  rill::topic_writer<std::string, std::string> writer(c.bootstrap(), c.props());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    writer.send(in, "line-" + std::to_string(i), lines[i]);
    for (const auto& w : word_count::words(lines[i])) ++expected[w];
  }
  writer.flush();
  std::map<std::string, std::int64_t> seen;
  const bool complete = wait_for(
      [&] {
        seen.clear();
        for (const auto& [w, n] : counts.all()) seen[w] = n;
        return seen == expected;
      },
      90s, 100ms);
  stop.store(true);
  reader.join();
  EXPECT_TRUE(complete) << seen.size() << " words seen";
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(went_back.load(), 0) << "a count read went backwards";
  EXPECT_EQ(counts.get("the"), expected["the"]);
  std::vector<std::string> range;
  for (const auto& [w, n] : counts.range("a", "c")) range.push_back(w);
  EXPECT_EQ(range, (std::vector<std::string>{"a", "and", "bat"}));

  using counts_t = rill::read_only_key_value_store<std::string, std::int64_t>;
  using strings_t = rill::read_only_key_value_store<std::string, std::string>;
  const counts_t unknown(app.store_source(), "nope");
  const strings_t wrong(app.store_source(), "word-counts");
  EXPECT_THROW((void)unknown.get("x"), rill::invalid_store_error);
  EXPECT_THROW((void)wrong.get("x"), rill::invalid_store_error);
  app.close();
  EXPECT_THROW((void)counts.get("the"), rill::store_unavailable_error) << "closed";
}

TEST(queries, a_global_table_is_queried_on_every_instance) {
  cluster c;
  const std::string prices = unique("q-prices"), orders = unique("q-orders");
  const std::string priced = unique("q-priced");
  c.create_topic(prices, 2);
  c.create_topic(orders, 2);
  c.create_topic(priced, 2);
  rill::topic_writer<std::string, int> w(c.bootstrap(), c.props());
  w.send(prices, "apple", 3);
  w.send(prices, "pear", 5);
  w.flush();
  rill::streams_builder b;
  auto table = b.global_table<std::string, int>(prices);
  b.stream<std::string, std::string>(orders)
      .join(
          table, [](const std::string&, const std::string& p) { return p; },
          [](const std::string& p, int n) { return p + std::to_string(n); })
      .to(priced);
  rill::streams_app app(b.build(), c.app_config(unique("q-global")));
  app.start();
  ASSERT_TRUE(app.wait_until_running(60s));
  auto store = app.key_value_store<std::string, int>(prices + "-global");
  EXPECT_EQ(store.get("pear"), 5) << "restored before start() returned";
  EXPECT_EQ(store.all().size(), 2U);
  app.close();
}
