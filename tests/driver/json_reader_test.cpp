// Stores read as the HTTP endpoint reads them (keys as text, answers as JSON), through the
// driver's stores: counts by word, windows and sessions, JSON-serde structs, bytes, and the
// errors a bad key or a question the store cannot answer gives.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include <rill/json.hpp>
#include <rill/rill.hpp>
#include <rill/testing/test_driver.hpp>

#include "examples/word_count/word_count.hpp"

using namespace std::chrono_literals;
using rill::testing::test_driver;

namespace {

struct total {
  std::string customer;
  double amount = 0;
  int orders = 0;
};

// Every task's JSON entries of `store` (the endpoint merges them the same way).
rill::detail::json_reader::entries range_of(test_driver& d, const std::string& store,
                                            std::optional<std::string> from = {},
                                            std::optional<std::string> to = {}) {
  rill::detail::json_reader::entries out;
  d.store_source()->for_each(store, [&](rill::state_store& s) {
    ASSERT_NE(s.json(), nullptr) << store;
    s.json()->range_json(from, to, out);
  });
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> get_of(test_driver& d, const std::string& store, const std::string& k) {
  std::optional<std::string> got;
  d.store_source()->for_each(store, [&](rill::state_store& s) {
    if (auto v = s.json()->get_json(k)) got = v;
  });
  return got;
}

}  // namespace

BOOST_HANA_ADAPT_STRUCT(total, customer, amount, orders);

TEST(json_reader, key_value_stores_answer_numbers_strings_and_json_structs) {
  test_driver d(word_count::topology());
  d.input_topic<std::string, std::string>("text-input").pipe("k", "the cat and the hat");
  EXPECT_EQ(get_of(d, "word-counts", "the"), "2");
  EXPECT_EQ(get_of(d, "word-counts", "dog"), std::nullopt);
  auto all = range_of(d, "word-counts");
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].second, R"({"key":"and","value":1})");
  auto some = range_of(d, "word-counts", "and", "cat");
  ASSERT_EQ(some.size(), 2u);
  EXPECT_EQ(some[1].second, R"({"key":"cat","value":1})");
  EXPECT_THROW(range_of(d, "word-counts", "z", "a"), std::invalid_argument) << "from > to";

  rill::streams_builder b;
  b.table<std::int64_t, total>("totals", {.name = "by-id"});
  test_driver t(b.build());
  t.input_topic<std::int64_t, total>("totals").pipe(42, total{"ann", 12.5, 3});
  EXPECT_EQ(get_of(t, "by-id", "42"), R"({"customer":"ann","amount":12.5,"orders":3})")
      << "a JSON-serde value is its JSON";
  try {
    (void)get_of(t, "by-id", "forty-two");
    ADD_FAILURE() << "a key that is not a number must be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("key 'forty-two' of store 'by-id'"), std::string::npos)
        << e.what();
  }
  t.store_source()->for_each("by-id", [](rill::state_store& s) {
    EXPECT_THROW(s.json()->windows_json("42", 0, 10,
                                        *std::make_unique<rill::detail::json_reader::entries>()),
                 std::invalid_argument)
        << "a key-value store has no windows";
  });
}

TEST(json_reader, window_and_session_stores_answer_with_their_windows) {
  rill::streams_builder b;
  auto views = b.stream<std::string, std::string>("views").group_by_key();
  views.windowed_by(rill::tumbling_window(10ms))
      .count(rill::materialized<std::string, std::int64_t>{.name = "per-10ms", .retention = 1min});
  views.windowed_by(rill::session_window(5ms))
      .count(rill::materialized<std::string, std::int64_t>{.name = "sessions", .retention = 1min});
  test_driver d(b.build());
  auto in = d.input_topic<std::string, std::string>("views");
  in.pipe("ann", "p", rill::timestamp_ms{1});
  in.pipe("ann", "p", rill::timestamp_ms{3});
  in.pipe("bob", "p", rill::timestamp_ms{2});
  in.pipe("ann", "p", rill::timestamp_ms{12});
  rill::detail::json_reader::entries windows;
  d.store_source()->for_each(
      "per-10ms", [&](rill::state_store& s) { s.json()->windows_json("ann", 0, 100, windows); });
  ASSERT_EQ(windows.size(), 2u);
  EXPECT_EQ(windows[0].second, R"({"key":"ann","start":0,"end":10,"value":2})");
  EXPECT_EQ(windows[1].second, R"({"key":"ann","start":10,"end":20,"value":1})");
  auto all = range_of(d, "per-10ms");
  std::string listed;
  for (const auto& e : all) listed += e.second + " ";
  EXPECT_EQ(all.size(), 3u) << listed;
  EXPECT_EQ(
      get_of(d, "sessions", "ann"),
      R"([{"key":"ann","start":1,"end":3,"value":2},{"key":"ann","start":12,"end":12,"value":1}])");
  d.store_source()->for_each("per-10ms", [](rill::state_store& s) {
    EXPECT_THROW((void)s.json()->get_json("ann"), std::invalid_argument)
        << "a window store is read by windows";
  });
}

TEST(json_reader, text_helpers_escape_encode_and_check_json) {
  using namespace rill::detail;
  std::string s;
  append_json_string(s, "a\"b\\c\n\x01");
  EXPECT_EQ(s, R"("a\"b\\c\n\u0001")");
  const rill::bytes raw = {std::byte{0}, std::byte{0xff}, std::byte{0x10}, std::byte{'a'}};
  EXPECT_EQ(base64(raw), "AP8QYQ==");
  EXPECT_EQ(from_base64("AP8QYQ=="), raw);
  EXPECT_EQ(from_base64("A*"), std::nullopt);
  for (const char* good : {"1", "-0.5e3", "\"x\"", "[]", "{\"a\":[1,true,null]}", " {} "})
    EXPECT_TRUE(json_check::valid(good)) << good;
  for (const char* bad : {"", "01", "{", "[1,]", "{'a':1}", "tru", "\"\x01\"", "1 2", "nan"})
    EXPECT_FALSE(json_check::valid(bad)) << bad;
  EXPECT_FALSE(json_check::valid(std::string(100, '[') + std::string(100, ']'))) << "too deep";
}
