// Joins on the test driver: stream-stream (inner, left, outer; symmetric and asymmetric
// windows; grace; late records; a self-join), stream-table, table-table, repartitioning
// before a join and co-partitioning. The tables of Kafka Streams' "Joining" documentation
// (inputs in timestamp order, what each join type emits) are encoded row by row; docs/joins.md
// says where Rill differs. Caching is off so that every table update is seen.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <rill/rill.hpp>
#include <rill/testing/test_driver.hpp>

using namespace std::chrono_literals;
using rill::timestamp_ms;
using rill::testing::test_driver;

namespace {

rill::testing::driver_options uncached() {
  rill::testing::driver_options o;
  o.config.set("statestore.cache.max.bytes", "0");
  return o;
}

using opt = std::optional<std::string>;
std::string show(const opt& l, const opt& r) {
  return "[" + l.value_or("null") + "," + r.value_or("null") + "]";
}

enum class kind { inner, left, outer };

// Stream-stream: "left" joined with "right" into "out", as "[l,r]".
rill::topology stream_stream(kind k, rill::join_window w) {
  rill::streams_builder b;
  auto l = b.stream<std::string, std::string>("left");
  auto r = b.stream<std::string, std::string>("right");
  switch (k) {
    case kind::inner:
      l.join(
           r, [](const std::string& a, const std::string& c) { return show(a, c); }, w)
          .to("out");
      break;
    case kind::left:
      l.left_join(
           r, [](const std::string& a, const opt& c) { return show(a, c); }, w)
          .to("out");
      break;
    case kind::outer:
      l.outer_join(
           r, [](const opt& a, const opt& c) { return show(a, c); }, w)
          .to("out");
      break;
  }
  return b.build();
}

struct row {
  timestamp_ms t;
  std::string left;   // empty: none
  std::string right;  // empty: none
  std::vector<std::string> inner, left_out, outer_out;
};

// Pipes the rows in order; after each row, what came out must be that row's column.
void check_rows(kind k, const rill::join_window& w, const std::vector<row>& rows) {
  test_driver d(stream_stream(k, w), uncached());
  auto l = d.input_topic<std::string, std::string>("left");
  auto r = d.input_topic<std::string, std::string>("right");
  auto out = d.output_topic<std::string, std::string>("out");
  for (const auto& x : rows) {
    if (!x.left.empty()) l.pipe("k", x.left, x.t);
    if (!x.right.empty()) r.pipe("k", x.right, x.t);
    const auto& want = k == kind::inner ? x.inner : k == kind::left ? x.left_out : x.outer_out;
    EXPECT_EQ(out.read_values_to_list(), want) << "at t=" << x.t;
  }
}

// Kafka Streams' documented stream-stream table (3.1+), rows 3 to 15: every record within one
// window (here 15 ms), so no join type emits an unmatched result.
const std::vector<row> documented_first_rows = {
    {3, "A", "", {}, {}, {}},
    {4, "", "a", {"[A,a]"}, {"[A,a]"}, {"[A,a]"}},
    {5, "B", "", {"[B,a]"}, {"[B,a]"}, {"[B,a]"}},
    {6, "", "b", {"[A,b]", "[B,b]"}, {"[A,b]", "[B,b]"}, {"[A,b]", "[B,b]"}},
    {9, "C", "", {"[C,a]", "[C,b]"}, {"[C,a]", "[C,b]"}, {"[C,a]", "[C,b]"}},
    {10,
     "",
     "c",
     {"[A,c]", "[B,c]", "[C,c]"},
     {"[A,c]", "[B,c]", "[C,c]"},
     {"[A,c]", "[B,c]", "[C,c]"}},
    {14,
     "",
     "d",
     {"[A,d]", "[B,d]", "[C,d]"},
     {"[A,d]", "[B,d]", "[C,d]"},
     {"[A,d]", "[B,d]", "[C,d]"}},
    {15,
     "D",
     "",
     {"[D,a]", "[D,b]", "[D,c]", "[D,d]"},
     {"[D,a]", "[D,b]", "[D,c]", "[D,d]"},
     {"[D,a]", "[D,b]", "[D,c]", "[D,d]"}},
};

// Its rows 40 to 100: a 10 ms window with 5 ms grace; unmatched records come out only once
// their window has closed (stream time past t + 10 + 5).
const std::vector<row> documented_late_rows = {
    {40, "E", "", {}, {}, {}},
    {60, "F", "", {}, {"[E,null]"}, {"[E,null]"}},
    {80, "", "f", {}, {"[F,null]"}, {"[F,null]"}},
    {100, "G", "", {}, {}, {"[null,f]"}},
};

}  // namespace

TEST(joins, stream_stream_inner_follows_the_documented_table) {
  check_rows(kind::inner, rill::join_window(15ms), documented_first_rows);
  check_rows(kind::inner, rill::join_window(10ms).grace(5ms), documented_late_rows);
}

TEST(joins, stream_stream_left_follows_the_documented_table) {
  check_rows(kind::left, rill::join_window(15ms), documented_first_rows);
  check_rows(kind::left, rill::join_window(10ms).grace(5ms), documented_late_rows);
}

TEST(joins, stream_stream_outer_follows_the_documented_table) {
  check_rows(kind::outer, rill::join_window(15ms), documented_first_rows);
  check_rows(kind::outer, rill::join_window(10ms).grace(5ms), documented_late_rows);
}

TEST(joins, an_inner_result_carries_the_later_timestamp_and_the_arriving_records_headers) {
  test_driver d(stream_stream(kind::inner, rill::join_window(10ms)), uncached());
  auto l = d.input_topic<std::string, std::string>("left");
  auto r = d.input_topic<std::string, std::string>("right");
  auto out = d.output_topic<std::string, std::string>("out");
  using rec = rill::testing::test_record<std::string, std::string>;
  l.pipe(rec{"k", "A", 100, {{"from", "A"}}});
  r.pipe(rec{"k", "a", 104, {{"from", "a"}}});
  r.pipe(rec{"k", "b", 95, {{"from", "b"}}});  // out of order, in the window
  auto got = out.read_records_to_list();
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[0].value, "[A,a]");
  EXPECT_EQ(got[0].timestamp, 104);
  EXPECT_EQ(got[0].headers.get("from"), "a");
  EXPECT_EQ(got[1].value, "[A,b]");
  EXPECT_EQ(got[1].timestamp, 100);
  EXPECT_EQ(got[1].headers.get("from"), "b");
}

TEST(joins, different_keys_never_meet) {
  test_driver d(stream_stream(kind::inner, rill::join_window(10ms)), uncached());
  auto l = d.input_topic<std::string, std::string>("left");
  auto r = d.input_topic<std::string, std::string>("right");
  auto out = d.output_topic<std::string, std::string>("out");
  l.pipe("k1", "A", 1);
  r.pipe("k2", "a", 2);
  r.pipe("k1", "b", 3);
  EXPECT_EQ(out.read_values_to_list(), (std::vector<std::string>{"[A,b]"}));
}

TEST(joins, an_asymmetric_window_joins_only_what_follows_within_after) {
  // A left record at t joins right records in [t, t + 5].
  test_driver d(stream_stream(kind::inner, rill::join_window(0ms).after(5ms)), uncached());
  auto l = d.input_topic<std::string, std::string>("left");
  auto r = d.input_topic<std::string, std::string>("right");
  auto out = d.output_topic<std::string, std::string>("out");
  r.pipe("k", "early", 8);
  l.pipe("k", "A", 10);
  r.pipe("k", "at", 10);
  r.pipe("k", "in", 15);
  r.pipe("k", "past", 16);
  EXPECT_EQ(out.read_values_to_list(), (std::vector<std::string>{"[A,at]", "[A,in]"}));
}

TEST(joins, a_record_after_its_window_closed_is_late_and_joins_nothing) {
  test_driver d(stream_stream(kind::left, rill::join_window(10ms).grace(5ms)), uncached());
  auto l = d.input_topic<std::string, std::string>("left");
  auto r = d.input_topic<std::string, std::string>("right");
  auto out = d.output_topic<std::string, std::string>("out");
  r.pipe("k", "a", 50);
  l.pipe("k", "B", 100);  // stream time 100; nothing near
  // Out of order within grace: window [88, 98] closes at 98 + 5 = 103 > 100.
  r.pipe("k", "b", 88);
  l.pipe("k", "C", 90);  // window [80, 100]; joins b
  EXPECT_EQ(out.read_values_to_list(), (std::vector<std::string>{"[C,b]"}));
  l.pipe("k", "late", 55);  // window closes at 55 + 10 + 5 = 70 < 100: late, though a@50 is near
  EXPECT_EQ(out.read_values_to_list(), std::vector<std::string>{});
  EXPECT_EQ(d.counters().late, 1U);
  r.pipe("k", "x", 200);  // closes B's window: its unmatched result comes out, once
  EXPECT_EQ(out.read_values_to_list(), (std::vector<std::string>{"[B,null]"}));
}

TEST(joins, equal_keys_and_timestamps_are_all_kept) {
  test_driver d(stream_stream(kind::inner, rill::join_window(10ms)), uncached());
  auto l = d.input_topic<std::string, std::string>("left");
  auto r = d.input_topic<std::string, std::string>("right");
  auto out = d.output_topic<std::string, std::string>("out");
  l.pipe("k", "A1", 5);
  l.pipe("k", "A2", 5);
  r.pipe("k", "a", 5);
  EXPECT_EQ(out.read_values_to_list(), (std::vector<std::string>{"[A1,a]", "[A2,a]"}));
}

TEST(joins, a_left_join_emits_each_unmatched_record_once_even_when_a_match_came_for_others) {
  test_driver d(stream_stream(kind::left, rill::join_window(10ms)), uncached());
  auto l = d.input_topic<std::string, std::string>("left");
  auto r = d.input_topic<std::string, std::string>("right");
  auto out = d.output_topic<std::string, std::string>("out");
  l.pipe("k", "A", 0);
  l.pipe("j", "B", 1);
  r.pipe("k", "a", 5);  // matches A only
  EXPECT_EQ(out.read_values_to_list(), (std::vector<std::string>{"[A,a]"}));
  r.pipe("z", "tick", 30);  // closes both windows
  EXPECT_EQ(out.read_values_to_list(), (std::vector<std::string>{"[B,null]"}));
  r.pipe("z", "tick", 60);
  EXPECT_EQ(out.read_values_to_list(), std::vector<std::string>{});
}

TEST(joins, a_self_join_pairs_each_record_with_itself_and_the_others_in_its_window) {
  rill::streams_builder b;
  auto s = b.stream<std::string, std::string>("in");
  s.join(
       s, [](const std::string& x, const std::string& y) { return x + y; }, rill::join_window(10ms))
      .to("out");
  test_driver d(b.build(), uncached());
  auto in = d.input_topic<std::string, std::string>("in");
  auto out = d.output_topic<std::string, std::string>("out");
  in.pipe("k", "a", 1);
  EXPECT_EQ(out.read_values_to_list(), (std::vector<std::string>{"aa"}));
  in.pipe("k", "b", 2);
  EXPECT_EQ(out.read_values_to_list(), (std::vector<std::string>{"ba", "ab", "bb"}));
}

TEST(joins, a_joiner_may_take_the_key) {
  rill::streams_builder b;
  auto l = b.stream<std::string, std::string>("left");
  auto r = b.stream<std::string, int>("right");
  l.join(
       r,
       [](const std::string& k, const std::string& v, int n) {
         return k + ":" + v + ":" + std::to_string(n);
       },
       rill::join_window(1s))
      .to("out");
  test_driver d(b.build(), uncached());
  d.input_topic<std::string, std::string>("left").pipe("k", "A", 0);
  d.input_topic<std::string, int>("right").pipe("k", 7, 0);
  auto out = d.output_topic<std::string, std::string>("out");
  EXPECT_EQ(out.read_values_to_list(), (std::vector<std::string>{"k:A:7"}));
}

TEST(joins, a_key_change_before_a_join_repartitions_that_side_with_the_other_sides_count) {
  rill::streams_builder b;
  auto l = b.stream<std::string, std::string>("left").select_key(
      [](const std::string&, const std::string& v) { return v.substr(0, 1); });
  auto r = b.stream<std::string, std::string>("right");
  l.join(r, [](const std::string& a, const std::string& c) { return show(a, c); },
         rill::join_window(10ms), {.name = "pay"})
      .to("out");
  auto t = b.build();
  const std::string described = t.describe();
  EXPECT_NE(described.find("pay-left-repartition"), std::string::npos) << described;
  EXPECT_EQ(described.find("pay-right-repartition"), std::string::npos) << described;
  rill::testing::driver_options o = uncached();
  o.partitions = {{"left", 2}, {"right", 3}};
  test_driver d(t, o);
  EXPECT_EQ(d.partition_count(d.internal_topic_name("pay-left-repartition")), 3);
  auto li = d.input_topic<std::string, std::string>("left");
  auto ri = d.input_topic<std::string, std::string>("right");
  auto out = d.output_topic<std::string, std::string>("out");
  ri.pipe("x", "a", 1);
  li.pipe("whatever", "xyz", 2);
  EXPECT_EQ(out.read_values_to_list(), (std::vector<std::string>{"[xyz,a]"}));
}

TEST(joins, sides_with_different_partition_counts_fail_at_start_naming_the_topics) {
  auto t = stream_stream(kind::inner, rill::join_window(10ms));
  rill::testing::driver_options o = uncached();
  o.partitions = {{"left", 2}, {"right", 3}};
  try {
    test_driver d(t, o);
    FAIL() << "expected a co-partitioning error";
  } catch (const std::exception& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'left' (2 partitions)"), std::string::npos) << m;
    EXPECT_NE(m.find("'right' (3 partitions)"), std::string::npos) << m;
    EXPECT_NE(m.find("repartition"), std::string::npos) << m;
  }
}

namespace {

// Kafka Streams' documented stream-table table: only stream records join.
struct st_row {
  timestamp_ms t;
  std::string stream;  // empty: none
  opt table;           // set: a table update; "null" string: a delete
  std::vector<std::string> inner, left_out;
};

rill::topology stream_table(bool left) {
  rill::streams_builder b;
  auto s = b.stream<std::string, std::string>("left");
  auto t = b.table<std::string, std::string>("right");
  if (left)
    s.left_join(t, [](const std::string& a, const opt& c) { return show(a, c); }).to("out");
  else
    s.join(t, [](const std::string& a, const std::string& c) { return show(a, c); }).to("out");
  return b.build();
}

const std::vector<st_row> documented_stream_table = {
    {3, "A", {}, {}, {"[A,null]"}},
    {4, "", "a", {}, {}},
    {5, "B", {}, {"[B,a]"}, {"[B,a]"}},
    {6, "", "b", {}, {}},
    {8, "", "null", {}, {}},
    {9, "C", {}, {}, {"[C,null]"}},
    {10, "", "c", {}, {}},
    {11, "", "null", {}, {}},
    {14, "", "d", {}, {}},
    {15, "D", {}, {"[D,d]"}, {"[D,d]"}},
};

}  // namespace

TEST(joins, stream_table_follows_the_documented_table) {
  for (bool left : {false, true}) {
    test_driver d(stream_table(left), uncached());
    auto s = d.input_topic<std::string, std::string>("left");
    auto t = d.input_topic<std::string, opt>("right");
    auto out = d.output_topic<std::string, std::string>("out");
    for (const auto& x : documented_stream_table) {
      if (!x.stream.empty()) s.pipe("k", x.stream, x.t);
      if (x.table) t.pipe("k", *x.table == "null" ? opt() : x.table, x.t);
      EXPECT_EQ(out.read_values_to_list(), left ? x.left_out : x.inner)
          << (left ? "left" : "inner") << " at t=" << x.t;
    }
  }
}

TEST(joins, a_stream_joins_a_filtered_table_through_a_store_of_its_own) {
  rill::streams_builder b;
  auto t = b.table<std::string, std::string>("right").filter(
      [](const std::string&, const std::string& v) { return v != "hidden"; });
  b.stream<std::string, std::string>("left")
      .left_join(t, [](const std::string& a, const opt& c) { return show(a, c); })
      .to("out");
  test_driver d(b.build(), uncached());
  auto s = d.input_topic<std::string, std::string>("left");
  auto tt = d.input_topic<std::string, opt>("right");
  auto out = d.output_topic<std::string, std::string>("out");
  tt.pipe("k", opt("shown"), 1);
  tt.pipe("j", opt("hidden"), 1);
  s.pipe("k", "A", 2);
  s.pipe("j", "B", 2);
  EXPECT_EQ(out.read_values_to_list(), (std::vector<std::string>{"[A,shown]", "[B,null]"}));
}

namespace {

// Kafka Streams' documented table-table table; "null" in an output is a delete.
struct tt_row {
  timestamp_ms t;
  opt left, right;  // set: an update; "null": a delete
  std::vector<std::string> inner, left_out, outer_out;
};

const std::vector<tt_row> documented_table_table = {
    {3, "A", {}, {}, {"[A,null]"}, {"[A,null]"}},
    {4, {}, "a", {"[A,a]"}, {"[A,a]"}, {"[A,a]"}},
    {5, "B", {}, {"[B,a]"}, {"[B,a]"}, {"[B,a]"}},
    {6, {}, "b", {"[B,b]"}, {"[B,b]"}, {"[B,b]"}},
    {7, "null", {}, {"null"}, {"null"}, {"[null,b]"}},
    {8, {}, "null", {}, {}, {"null"}},
    {9, "C", {}, {}, {"[C,null]"}, {"[C,null]"}},
    {10, {}, "c", {"[C,c]"}, {"[C,c]"}, {"[C,c]"}},
    {11, {}, "null", {"null"}, {"[C,null]"}, {"[C,null]"}},
    {12, "null", {}, {}, {"null"}, {"null"}},
    {13, {}, "null", {}, {}, {}},
    {14, {}, "d", {}, {}, {"[null,d]"}},
    {15, "D", {}, {"[D,d]"}, {"[D,d]"}, {"[D,d]"}},
};

rill::topology table_table(kind k) {
  rill::streams_builder b;
  auto l = b.table<std::string, std::string>("left");
  auto r = b.table<std::string, std::string>("right");
  rill::table<std::string, std::string> j;
  switch (k) {
    case kind::inner:
      j = l.join(r, [](const std::string& a, const std::string& c) { return show(a, c); });
      break;
    case kind::left:
      j = l.left_join(r, [](const std::string& a, const opt& c) { return show(a, c); });
      break;
    case kind::outer:
      j = l.outer_join(r, [](const opt& a, const opt& c) { return show(a, c); });
      break;
  }
  j.to_stream().to("out");
  return b.build();
}

}  // namespace

TEST(joins, table_table_follows_the_documented_table) {
  for (kind k : {kind::inner, kind::left, kind::outer}) {
    test_driver d(table_table(k), uncached());
    auto l = d.input_topic<std::string, opt>("left");
    auto r = d.input_topic<std::string, opt>("right");
    auto out = d.output_topic<std::string, opt>("out");
    for (const auto& x : documented_table_table) {
      if (x.left) l.pipe("k", *x.left == "null" ? opt() : x.left, x.t);
      if (x.right) r.pipe("k", *x.right == "null" ? opt() : x.right, x.t);
      std::vector<std::string> got;
      for (const auto& v : out.read_values_to_list()) got.push_back(v.value_or("null"));
      const auto& want = k == kind::inner ? x.inner : k == kind::left ? x.left_out : x.outer_out;
      EXPECT_EQ(got, want) << "kind " << static_cast<int>(k) << " at t=" << x.t;
    }
  }
}

TEST(joins, a_table_join_feeds_a_regrouping_that_retracts_old_rows) {
  // Orders per customer's region: moving a customer moves its orders' count.
  rill::streams_builder b;
  auto orders = b.table<std::string, std::string>("orders");        // order -> customer id
  auto region = b.table<std::string, std::string>("order-region");  // order -> region
  orders.join(region, [](const std::string&, const std::string& r) { return r; })
      .group_by([](const std::string& order, const std::string& r) {
        return std::pair<std::string, std::string>(r, order);
      })
      .count(rill::named("per-region"))
      .to_stream()
      .to("out");
  test_driver d(b.build(), uncached());
  auto o = d.input_topic<std::string, opt>("orders");
  auto g = d.input_topic<std::string, opt>("order-region");
  auto out = d.output_topic<std::string, std::optional<std::int64_t>>("out");
  o.pipe("o1", opt("c1"), 1);
  g.pipe("o1", opt("north"), 2);
  g.pipe("o1", opt("south"), 3);
  auto m = out.read_key_values_to_map();
  EXPECT_EQ(m.at("north"), 0);
  EXPECT_EQ(m.at("south"), 1);
}

namespace {

// Orders enriched from a global table of products, by the product the order names.
rill::topology priced_orders(bool left) {
  rill::streams_builder b;
  auto orders = b.stream<std::string, std::string>("orders");  // order id -> product id
  auto prices = b.global_table<std::string, int>("prices");    // product id -> price
  auto product = [](const std::string&, const std::string& p) { return p; };
  if (left) {
    orders
        .left_join(prices, product,
                   [](const std::string& p, const std::optional<int>& price) {
                     return p + "=" + (price ? std::to_string(*price) : std::string("?"));
                   })
        .to("out");
  } else {
    orders
        .join(prices, product,
              [](const std::string& id, const std::string& p, int price) {
                return id + ":" + p + "=" + std::to_string(price);
              })
        .to("out");
  }
  return b.build();
}

}  // namespace

TEST(joins, a_stream_joins_a_global_table_by_a_key_it_computes_without_repartitioning) {
  auto t = priced_orders(false);
  EXPECT_EQ(t.describe().find("repartition"), std::string::npos) << t.describe();
  rill::testing::driver_options o = uncached();
  o.partitions = {{"orders", 4}, {"prices", 3}};  // no co-partitioning needed
  test_driver d(t, o);
  auto orders = d.input_topic<std::string, std::string>("orders");
  auto prices = d.input_topic<std::string, std::optional<int>>("prices");
  auto out = d.output_topic<std::string, std::string>("out");
  prices.pipe("apple", 3, 0);
  prices.pipe("pear", 5, 0);
  for (int i = 0; i < 8; ++i) orders.pipe("o" + std::to_string(i), i % 2 ? "apple" : "pear", 1);
  orders.pipe("o9", "plum", 1);  // no such product: an inner join drops it
  EXPECT_EQ(out.read_records_to_list().size(), 8U);
  prices.pipe("apple", 4, 2);            // an update reaches every task at once
  prices.pipe("pear", std::nullopt, 2);  // a delete
  orders.pipe("o10", "apple", 3);
  orders.pipe("o11", "pear", 3);
  EXPECT_EQ(out.read_values_to_list(), (std::vector<std::string>{"o10:apple=4"}));
}

TEST(joins, a_left_join_with_a_global_table_passes_records_it_has_no_value_for) {
  test_driver d(priced_orders(true), uncached());
  auto orders = d.input_topic<std::string, std::string>("orders");
  auto prices = d.input_topic<std::string, std::optional<int>>("prices");
  auto out = d.output_topic<std::string, std::string>("out");
  prices.pipe("apple", 3, 0);
  orders.pipe("o1", "apple", 1);
  orders.pipe("o2", "plum", 1);
  EXPECT_EQ(out.read_values_to_list(), (std::vector<std::string>{"apple=3", "plum=?"}));
}

TEST(joins, a_global_table_topic_cannot_also_be_a_stream_source) {
  rill::streams_builder b;
  b.global_table<std::string, int>("prices");
  b.stream<std::string, int>("prices").to("out");
  try {
    (void)b.build();
    FAIL() << "expected a topology error";
  } catch (const rill::topology_error& e) {
    EXPECT_NE(std::string(e.what()).find("prices"), std::string::npos) << e.what();
  }
}

namespace {

// Orders ("customer:item") joined by their customer with customers (name).
rill::topology orders_with_customers(bool left, std::int32_t = 1) {
  rill::streams_builder b;
  auto orders = b.table<std::string, std::string>("orders");
  auto customers = b.table<std::string, std::string>("customers");
  auto customer_of = [](const std::string& o) { return o.substr(0, o.find(':')); };
  rill::table<std::string, std::string> j;
  if (left) {
    j = orders.left_join(
        customers, customer_of, [](const std::string& o, const opt& c) { return show(o, c); },
        rill::named("by-customer"));
  } else {
    j = orders.join(
        customers, customer_of,
        [](const std::string& o, const std::string& c) { return show(o, c); },
        rill::named("by-customer"));
  }
  j.to_stream().to("out");
  return b.build();
}

struct fk_run {
  test_driver d;
  rill::testing::test_input_topic<std::string, opt> orders;
  rill::testing::test_input_topic<std::string, opt> customers;
  rill::testing::test_output_topic<std::string, opt> out;
  fk_run(bool left, std::map<std::string, std::int32_t> partitions = {})
      : d(orders_with_customers(left), options(std::move(partitions))),
        orders(d.input_topic<std::string, opt>("orders")),
        customers(d.input_topic<std::string, opt>("customers")),
        out(d.output_topic<std::string, opt>("out")) {}
  static rill::testing::driver_options options(std::map<std::string, std::int32_t> p) {
    auto o = uncached();
    o.partitions = std::move(p);
    return o;
  }
  // The latest result per order, "null" for a delete.
  std::map<std::string, std::string> latest() {
    std::map<std::string, std::string> m;
    for (const auto& r : out.read_records_to_list()) m[r.key] = r.value.value_or("null");
    return m;
  }
};

}  // namespace

TEST(joins, a_foreign_key_join_follows_the_row_each_value_names) {
  fk_run r(false);
  r.customers.pipe("c1", opt("Ann"), 1);
  r.orders.pipe("o1", opt("c1:pen"), 2);
  r.orders.pipe("o2", opt("c2:ink"), 3);  // no customer c2 yet: nothing
  EXPECT_EQ(r.latest(), (std::map<std::string, std::string>{{"o1", "[c1:pen,Ann]"}}));
  r.customers.pipe("c2", opt("Bob"), 4);  // the right row arrives: o2 joins
  EXPECT_EQ(r.latest(), (std::map<std::string, std::string>{{"o2", "[c2:ink,Bob]"}}));
  r.orders.pipe("o3", opt("c1:cap"), 5);
  r.latest();
  r.customers.pipe("c1", opt("Anne"), 6);  // one right update reaches every row naming it
  EXPECT_EQ(r.latest(),
            (std::map<std::string, std::string>{{"o1", "[c1:pen,Anne]"}, {"o3", "[c1:cap,Anne]"}}));
}

TEST(joins, a_changed_foreign_key_moves_the_row_and_a_deleted_row_deletes_its_result) {
  fk_run r(false);
  r.customers.pipe("c1", opt("Ann"), 1);
  r.customers.pipe("c2", opt("Bob"), 1);
  r.orders.pipe("o1", opt("c1:pen"), 2);
  r.latest();
  r.orders.pipe("o1", opt("c2:pen"), 3);  // moves to c2
  EXPECT_EQ(r.latest(), (std::map<std::string, std::string>{{"o1", "[c2:pen,Bob]"}}));
  r.customers.pipe("c1", opt("Ann again"), 4);  // o1 no longer listens to c1
  EXPECT_EQ(r.latest(), (std::map<std::string, std::string>{}));
  r.orders.pipe("o1", opt("c9:pen"), 5);  // moves to a customer that does not exist
  EXPECT_EQ(r.latest(), (std::map<std::string, std::string>{{"o1", "null"}}));
  r.orders.pipe("o1", opt("c2:pen"), 6);
  r.latest();
  r.orders.pipe("o1", std::nullopt, 7);  // deleted
  EXPECT_EQ(r.latest(), (std::map<std::string, std::string>{{"o1", "null"}}));
  r.customers.pipe("c2", opt("Bobby"), 8);  // and gone for good
  EXPECT_EQ(r.latest(), (std::map<std::string, std::string>{}));
}

TEST(joins, a_deleted_right_row_deletes_inner_results_and_empties_left_ones) {
  for (bool left : {false, true}) {
    fk_run r(left);
    r.customers.pipe("c1", opt("Ann"), 1);
    r.orders.pipe("o1", opt("c1:pen"), 2);
    r.orders.pipe("o2", opt("c3:ink"), 2);
    const auto first = r.latest();
    EXPECT_EQ(first.count("o2"), left ? 1U : 0U);
    if (left) EXPECT_EQ(first.at("o2"), "[c3:ink,null]");
    r.customers.pipe("c1", std::nullopt, 3);
    EXPECT_EQ(r.latest().at("o1"), left ? "[c1:pen,null]" : "null") << left;
  }
}

TEST(joins, a_foreign_key_join_spans_tables_with_different_partition_counts) {
  fk_run r(false, {{"orders", 3}, {"customers", 2}});
  EXPECT_EQ(r.d.partition_count(
                r.d.internal_topic_name("by-customer-subscription-registration-repartition")),
            2);
  EXPECT_EQ(
      r.d.partition_count(r.d.internal_topic_name("by-customer-subscription-response-repartition")),
      3);
  for (int c = 0; c < 5; ++c)
    r.customers.pipe("c" + std::to_string(c), opt("n" + std::to_string(c)), 1);
  std::map<std::string, std::string> want;
  for (int o = 0; o < 20; ++o) {
    const std::string cust = "c" + std::to_string(o % 5);
    r.orders.pipe("o" + std::to_string(o), opt(cust + ":x"), 2);
    want["o" + std::to_string(o)] = "[" + cust + ":x,n" + std::to_string(o % 5) + "]";
  }
  EXPECT_EQ(r.latest(), want);
}

TEST(joins, a_cogroup_aggregates_several_streams_into_one_store) {
  rill::streams_builder b;
  auto clicks = b.stream<std::string, int>("clicks").group_by_key();
  auto views = b.stream<std::string, std::string>("views").group_by(
      [](const std::string&, const std::string& page) { return page.substr(0, page.find('/')); });
  clicks
      .cogroup(
          [](const std::string&, int n, std::string acc) { return acc + "c" + std::to_string(n); })
      .cogroup(views, [](const std::string&, const std::string& v,
                         std::string acc) { return acc + "v(" + v + ")"; })
      .aggregate([] { return std::string(">"); }, rill::named("activity"))
      .to_stream()
      .to("out");
  auto t = b.build();
  test_driver d(t, uncached());
  auto c = d.input_topic<std::string, int>("clicks");
  auto v = d.input_topic<std::string, std::string>("views");
  auto out = d.output_topic<std::string, opt>("out");
  c.pipe("ann", 1, 1);
  v.pipe("x", "ann/home", 2);  // re-keyed to "ann" through a repartition
  c.pipe("bob", 2, 3);
  c.pipe("ann", 3, 4);
  auto m = out.read_key_values_to_map();
  EXPECT_EQ(m.at("ann"), opt(">c1v(ann/home)c3"));
  EXPECT_EQ(m.at("bob"), opt(">c2"));
  // One store for all inputs: its changelog carries both inputs' updates.
  EXPECT_EQ(d.captured(d.internal_topic_name("activity-changelog")).size(), 4U);
}

TEST(joins, a_windowed_cogroup_aggregates_per_window) {
  rill::streams_builder b;
  auto a = b.stream<std::string, int>("a").group_by_key();
  auto c = b.stream<std::string, int>("b").group_by_key();
  a.cogroup([](const std::string&, int n, std::int64_t s) { return s + n; })
      .cogroup(c, [](const std::string&, int n, std::int64_t s) { return s + 100 * n; })
      .windowed_by(rill::tumbling_window(10ms))
      .aggregate([] { return std::int64_t{0}; }, rill::named("sums"))
      .to_stream()
      .to("out");
  test_driver d(b.build(), uncached());
  auto ai = d.input_topic<std::string, int>("a");
  auto bi = d.input_topic<std::string, int>("b");
  auto out = d.output_topic<rill::windowed<std::string>, std::optional<std::int64_t>>(
      "out", rill::time_windowed_serde<std::string>(10ms));
  ai.pipe("k", 1, 1);
  bi.pipe("k", 2, 5);
  ai.pipe("k", 3, 12);
  std::map<std::int64_t, std::int64_t> per_window;
  for (const auto& r : out.read_records_to_list()) per_window[r.key.window.start] = *r.value;
  EXPECT_EQ(per_window, (std::map<std::int64_t, std::int64_t>{{0, 201}, {10, 3}}));
}
