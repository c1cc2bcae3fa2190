// Queries of the driver's stores (as a running app's interactive queries read them): key-value
// stores merged across tasks in key order, window and session stores, global tables, and
// clear errors for an unknown store or a wrong type.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <rill/rill.hpp>
#include <rill/testing/test_driver.hpp>

#include "examples/word_count/word_count.hpp"

using namespace std::chrono_literals;
using rill::testing::test_driver;

namespace {

rill::testing::driver_options three_partitions() {
  rill::testing::driver_options o;
  o.partitions = {{"text-input", 3}};
  return o;
}

}  // namespace

TEST(queries, a_key_value_store_is_read_across_every_task_in_key_order) {
  test_driver d(word_count::topology(), three_partitions());
  auto in = d.input_topic<std::string, std::string>("text-input");
  in.pipe("k1", "the cat and the hat");
  in.pipe("k2", "a bat and a cat");
  // The sketch of DESIGN.md §1:
  const std::optional<std::int64_t> the =
      d.key_value_store<std::string, std::int64_t>("word-counts").get("the");
  EXPECT_EQ(the, 2);
  auto counts = d.key_value_store<std::string, std::int64_t>("word-counts");
  EXPECT_EQ(counts.get("dog"), std::nullopt);
  std::vector<std::string> words;
  for (const auto& [word, c] : counts.range("a", "c"))
    words.push_back(word + "=" + std::to_string(c));
  EXPECT_EQ(words, (std::vector<std::string>{"a=2", "and=2", "bat=1"}));
  std::vector<std::string> back;
  for (const auto& e : counts.reverse_range("a", "c")) back.push_back(e.key);
  EXPECT_EQ(back, (std::vector<std::string>{"bat", "and", "a"}));
  EXPECT_EQ(counts.all().size(), 6U);
  EXPECT_EQ(counts.prefix_scan("ha").size(), 1U);
  EXPECT_GE(counts.approximate_count(), 6U);
  EXPECT_EQ(d.tasks().size(), 6U) << "three splitting tasks, three counting ones";
}

TEST(queries, window_and_session_stores_are_read_by_key_and_time) {
  rill::streams_builder b;
  auto views = b.stream<std::string, std::string>("views").group_by_key();
  // Kept a minute, so that the early windows are still there to read.
  views.windowed_by(rill::tumbling_window(10ms))
      .count(rill::materialized<std::string, std::int64_t>{.name = "per-10ms", .retention = 1min});
  views.windowed_by(rill::session_window(5ms))
      .count(rill::materialized<std::string, std::int64_t>{.name = "sessions", .retention = 1min});
  rill::testing::driver_options o;
  o.partitions = {{"views", 2}};
  test_driver d(b.build(), o);
  auto in = d.input_topic<std::string, std::string>("views");
  for (auto t : {1, 3}) in.pipe("ann", "v", t);
  in.pipe("bob", "v", 5);
  for (auto t : {12, 30}) in.pipe("ann", "v", t);
  auto per = d.window_store<std::string, std::int64_t>("per-10ms");
  std::vector<std::string> got;
  for (const auto& [window, c] : per.fetch("ann", 0, 100))
    got.push_back(std::to_string(window.start) + "=" + std::to_string(c));
  EXPECT_EQ(got, (std::vector<std::string>{"0=2", "10=1", "30=1"}));
  EXPECT_EQ(per.fetch_all(0, 9).size(), 2U);  // ann's and bob's first windows
  EXPECT_EQ(per.all().size(), 4U);
  auto sessions = d.session_store<std::string, std::int64_t>("sessions").fetch("ann");
  ASSERT_EQ(sessions.size(), 3U);  // [1,3], [12,12], [30,30]
  EXPECT_EQ(sessions[0].key.window.start, 1);
  EXPECT_EQ(sessions[0].key.window.end, 3);
  EXPECT_EQ(sessions[0].value, 2);
}

TEST(queries, a_global_table_is_read_whole) {
  rill::streams_builder b;
  auto prices = b.global_table<std::string, int>("prices");
  b.stream<std::string, std::string>("orders")
      .join(
          prices, [](const std::string&, const std::string& p) { return p; },
          [](const std::string& p, int price) { return p + std::to_string(price); })
      .to("out");
  test_driver d(b.build());
  auto in = d.input_topic<std::string, std::optional<int>>("prices");
  in.pipe("apple", 3);
  in.pipe("pear", 5);
  auto store = d.key_value_store<std::string, int>("prices-global");
  EXPECT_EQ(store.get("pear"), 5);
  EXPECT_EQ(store.all().size(), 2U);
}

TEST(queries, an_unknown_store_or_a_wrong_type_is_a_clear_error) {
  test_driver d(word_count::topology());
  d.input_topic<std::string, std::string>("text-input").pipe("k", "a b");
  try {
    (void)d.key_value_store<std::string, std::int64_t>("nope").get("a");
    FAIL() << "expected invalid_store_error";
  } catch (const rill::invalid_store_error& e) {
    EXPECT_NE(std::string(e.what()).find("no store named 'nope'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("word-counts"), std::string::npos) << e.what();
  }
  try {
    (void)d.key_value_store<std::string, std::string>("word-counts").get("a");
    FAIL() << "expected invalid_store_error";
  } catch (const rill::invalid_store_error& e) {
    EXPECT_NE(std::string(e.what()).find("is not a key_value_store"), std::string::npos)
        << e.what();
  }
  try {
    (void)d.window_store<std::string, std::int64_t>("word-counts").all();
    FAIL() << "expected invalid_store_error";
  } catch (const rill::invalid_store_error& e) {
    EXPECT_NE(std::string(e.what()).find("window_store"), std::string::npos) << e.what();
  }
}
