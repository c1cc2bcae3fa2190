// W3C trace context through topologies, on the test driver: a record's `traceparent` and
// `tracestate` headers reach every record it causes at the sinks. Stateless chains and
// repartitions keep them; an aggregation's output carries those of the record that last
// updated it, also when it goes out later (a cache flush, emit final, suppress); a join's,
// those of the arriving record that found the match (an unmatched record's own, when a left
// or outer join emits it at the window's close); the dead-letter topic, the failing record's.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <rill/rill.hpp>
#include <rill/testing/test_driver.hpp>

using namespace std::chrono_literals;
using rill::testing::test_driver;
using rill::testing::test_record;

namespace {

using opt = std::optional<std::string>;
using wkey = rill::windowed<std::string>;

// A W3C traceparent whose parent (span) id is n.
std::string tp(unsigned n) {
  char span[17];
  std::snprintf(span, sizeof span, "%016x", n);
  return "00-4bf92f3577b34da6a3ce929d0e0e4736-" + std::string(span) + "-01";
}
rill::headers traced(unsigned n) {
  return {{"traceparent", tp(n)}, {"tracestate", "rill=" + std::to_string(n)}};
}
// The traceparent a record carries ("none" without one).
template <class K, class V>
std::string trace_of(const test_record<K, V>& r) {
  return std::string(r.headers.get("traceparent").value_or("none"));
}
template <class K, class V>
std::vector<std::string> traces(const std::vector<test_record<K, V>>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(trace_of(r));
  return out;
}

rill::testing::driver_options options(bool cached) {
  rill::testing::driver_options o;
  if (!cached) o.config.set("statestore.cache.max.bytes", "0");
  return o;
}

template <class K, class V>
void pipe(rill::testing::test_input_topic<K, V>& in, K key, V value, rill::timestamp_ms t,
          unsigned trace) {
  in.pipe(test_record<K, V>{std::move(key), std::move(value), t, traced(trace), -1});
}

}  // namespace

TEST(tracing, a_stateless_chain_keeps_the_trace_context_on_every_output) {
  rill::streams_builder b;
  auto words = b.stream<std::string, std::string>("in")
                   .filter([](const std::string&, const std::string& v) { return !v.empty(); })
                   .flat_map_values([](const std::string& v) {
                     return std::vector<std::string>{v, v + "!"};
                   })
                   .map_values([](const std::string& v) { return v + "?"; })
                   .select_key([](const std::string&, const std::string& v) { return v; });
  auto branches = words.split()
                      .branch([](const std::string&, const std::string& v) { return v[0] == 'a'; })
                      .default_branch();
  for (auto& [name, s] : branches) s.to("out");
  test_driver d(b.build());
  auto in = d.input_topic<std::string, std::string>("in");
  auto out = d.output_topic<std::string, std::string>("out");
  pipe(in, std::string("k"), std::string("a"), 1, 7);
  pipe(in, std::string("k"), std::string("b"), 2, 8);
  auto got = out.read_records_to_list();
  EXPECT_EQ(traces(got), (std::vector<std::string>{tp(7), tp(7), tp(8), tp(8)}));
  for (const auto& r : got) EXPECT_TRUE(r.headers.get("tracestate")) << r.value;
  EXPECT_EQ(got[2].headers.get("tracestate"), "rill=8");
}

TEST(tracing, a_repartition_carries_the_trace_context_to_the_next_subtopology) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in")
      .select_key([](const std::string&, const std::string& v) { return v; })
      .repartition(rill::repartitioned<std::string, std::string>{.name = "by-value"})
      .map_values([](const std::string& v) { return v + "."; })
      .to("out");
  test_driver d(b.build(), {.partitions = {{"in", 2}}});
  auto in = d.input_topic<std::string, std::string>("in");
  auto out = d.output_topic<std::string, std::string>("out");
  for (unsigned i = 0; i < 4; ++i) pipe(in, "k" + std::to_string(i), "v" + std::to_string(i), i, i);
  auto got = out.read_records_to_list();
  ASSERT_EQ(got.size(), 4u);
  for (const auto& r : got) {
    const unsigned i = static_cast<unsigned>(r.key[1] - '0');  // "v<i>"
    EXPECT_EQ(trace_of(r), tp(i)) << r.key;
    EXPECT_EQ(r.headers.get("tracestate"), "rill=" + std::to_string(i));
  }
}

namespace {

// Words of each line, each word's record with a trace context of its own (span id: 100 + its
// position in the input), counted per word.
rill::topology traced_word_count(bool windowed) {
  rill::streams_builder b;
  unsigned seen = 0;
  auto words = b.stream<std::string, std::string>("in")
                   .flat_map_values([](const std::string& line) {
                     std::vector<std::string> out;
                     for (std::size_t at = 0; at < line.size(); at += 2)
                       out.push_back(line.substr(at, 1));
                     return out;
                   })
                   .map_record([seen](rill::record<std::string, std::string> r) mutable {
                     r.headers.set("traceparent", tp(100 + seen++));
                     return r;
                   })
                   .group_by([](const std::string&, const std::string& w) { return w; },
                             rill::grouped<std::string, std::string>{.name = "words"});
  if (windowed) {
    words.windowed_by(rill::tumbling_window(10ms))
        .count(rill::named("counts"))
        .to_stream()
        .map([](const wkey& k, const std::optional<std::int64_t>& n) {
          return rill::key_value{k.key, n.value_or(-1)};
        })
        .to("out");
  } else {
    words.count(rill::named("counts")).to_stream().to("out");
  }
  return b.build();
}

}  // namespace

TEST(tracing, an_aggregation_result_carries_the_context_of_its_last_update_after_a_cache_flush) {
  for (bool windowed : {false, true}) {
    test_driver d(traced_word_count(windowed), options(true));
    auto in = d.input_topic<std::string, std::string>("in");
    auto out = d.output_topic<std::string, std::int64_t>("out");
    pipe(in, std::string("k"), std::string("a b a"), 1, 1);  // a: 100, b: 101, a: 102
    // The cache flushes the oldest write first: b, then a.
    auto got = out.read_records_to_list();
    ASSERT_EQ(got.size(), 2u) << "one result per word, at the flush; windowed=" << windowed;
    EXPECT_EQ(got[0].key, "b");
    EXPECT_EQ(trace_of(got[0]), tp(101));
    EXPECT_EQ(got[1].key, "a");
    EXPECT_EQ(got[1].value, 2);
    EXPECT_EQ(trace_of(got[1]), tp(102)) << "the last update's, not the first's";
  }
}

TEST(tracing, an_uncached_aggregation_forwards_each_update_with_its_own_context) {
  for (bool windowed : {false, true}) {
    test_driver d(traced_word_count(windowed), options(false));
    auto in = d.input_topic<std::string, std::string>("in");
    auto out = d.output_topic<std::string, std::int64_t>("out");
    pipe(in, std::string("k"), std::string("a b a"), 1, 1);
    EXPECT_EQ(traces(out.read_records_to_list()),
              (std::vector<std::string>{tp(100), tp(101), tp(102)}))
        << "windowed=" << windowed;
  }
}

TEST(tracing, a_table_and_its_re_aggregation_carry_the_context_of_the_updating_record) {
  rill::streams_builder b;
  auto regions = b.table<std::string, std::string>("user-regions");
  regions.to_stream().to("changes");
  regions
      .group_by([](const std::string& user, const std::string& region) {
        return std::pair(region, user);
      })
      .count(rill::named("per-region"))
      .to_stream()
      .to("counts");
  test_driver d(b.build());  // cached
  auto in = d.input_topic<std::string, opt>("user-regions");
  auto changes = d.output_topic<std::string, opt>("changes");
  auto counts = d.output_topic<std::string, std::optional<std::int64_t>>("counts");
  pipe(in, std::string("ann"), opt("north"), 1, 1);
  pipe(in, std::string("ann"), opt("south"), 2, 2);  // north loses ann, south gains her
  pipe(in, std::string("ann"), opt(), 3, 3);         // deleted
  EXPECT_EQ(traces(changes.read_records_to_list()),
            (std::vector<std::string>{tp(1), tp(2), tp(3)}));
  auto got = counts.read_records_to_list();
  ASSERT_EQ(got.size(), 4u);  // north 1; north 0 and south 1; south 0
  EXPECT_EQ(traces(got), (std::vector<std::string>{tp(1), tp(2), tp(2), tp(3)}));
}

TEST(tracing, emit_final_results_carry_the_context_of_the_windows_last_update) {
  rill::streams_builder b;
  auto grouped = b.stream<std::string, std::string>("in").group_by_key();
  auto flat = [](auto table, const char* topic) {
    table.to_stream()
        .map([](const wkey& k, const std::optional<std::int64_t>& n) {
          return rill::key_value{k.key + "@" + std::to_string(k.window.start), n.value_or(-1)};
        })
        .to(topic);
  };
  flat(grouped.windowed_by(rill::tumbling_window(10ms)).emit_final().count(rill::named("t")),
       "tumbling");
  flat(grouped.windowed_by(rill::sliding_window(5ms)).emit_final().count(rill::named("s")),
       "sliding");
  flat(grouped.windowed_by(rill::session_window(3ms)).emit_final().count(rill::named("g")),
       "session");
  const rill::topology t = b.build();
  for (bool cached : {false, true}) {
    test_driver d(t, options(cached));
    auto in = d.input_topic<std::string, std::string>("in");
    pipe(in, std::string("k"), std::string("v"), 1, 1);
    pipe(in, std::string("k"), std::string("v"), 2, 2);  // the last update of every window
    auto held = d.window_store<std::string, std::int64_t>("t").fetch("k", 0, 0);
    ASSERT_EQ(held.size(), 1u);
    EXPECT_EQ(held[0].value, 2) << "queries read the value past the headers kept with it";
    auto sessions = d.session_store<std::string, std::int64_t>("g").fetch("k");
    ASSERT_EQ(sessions.size(), 1u);
    EXPECT_EQ(sessions[0].value, 2);
    pipe(in, std::string("x"), std::string("v"), 30, 3);  // closes them all
    auto tumbling = d.output_topic<std::string, std::int64_t>("tumbling").read_records_to_list();
    ASSERT_EQ(tumbling.size(), 1u) << "cached=" << cached;
    EXPECT_EQ(tumbling[0].key, "k@0");
    EXPECT_EQ(trace_of(tumbling[0]), tp(2)) << "not the closing record's " << tp(3);
    EXPECT_EQ(tumbling[0].headers.get("tracestate"), "rill=2");
    auto session = d.output_topic<std::string, std::int64_t>("session").read_records_to_list();
    ASSERT_EQ(session.size(), 1u);
    EXPECT_EQ(trace_of(session[0]), tp(2));
    auto sliding = d.output_topic<std::string, std::int64_t>("sliding").read_records_to_list();
    ASSERT_FALSE(sliding.empty());
    for (const auto& r : sliding) EXPECT_EQ(trace_of(r), tp(2)) << r.key;
  }
}

TEST(tracing, suppressed_results_carry_the_context_of_the_held_update) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(rill::tumbling_window(10ms).grace(0ms))
      .count()
      .suppress(rill::until_window_closes())
      .to_stream()
      .map([](const wkey& k, const std::optional<std::int64_t>& n) {
        return rill::key_value{k.key, n.value_or(-1)};
      })
      .to("final");
  b.table<std::string, std::int64_t>("levels")
      .suppress(rill::until_time_limit(10ms))
      .to_stream()
      .to("limited");
  test_driver d(b.build(), options(false));
  auto in = d.input_topic<std::string, std::string>("in");
  auto levels = d.input_topic<std::string, std::int64_t>("levels");
  pipe(in, std::string("k"), std::string("v"), 1, 1);
  pipe(in, std::string("k"), std::string("v"), 4, 2);
  pipe(in, std::string("k"), std::string("v"), 25, 3);  // [0,10) closes
  auto got = d.output_topic<std::string, std::int64_t>("final").read_records_to_list();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value, 2);
  EXPECT_EQ(trace_of(got[0]), tp(2));
  pipe(levels, std::string("a"), std::int64_t{1}, 0, 10);
  pipe(levels, std::string("a"), std::int64_t{2}, 4, 11);
  pipe(levels, std::string("b"), std::int64_t{9}, 10, 12);  // a's time has come
  auto limited = d.output_topic<std::string, std::optional<std::int64_t>>("limited");
  auto l = limited.read_records_to_list();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].value, 2);
  EXPECT_EQ(trace_of(l[0]), tp(11));
}

namespace {

rill::topology stream_stream(bool left) {
  rill::streams_builder b;
  auto l = b.stream<std::string, std::string>("left");
  auto r = b.stream<std::string, std::string>("right");
  auto show = [](const std::string& a, const auto& c) {
    if constexpr (std::is_same_v<std::decay_t<decltype(c)>, opt>)
      return a + "+" + c.value_or("null");
    else
      return a + "+" + c;
  };
  if (left)
    l.left_join(r, show, rill::join_window(5ms)).to("out");
  else
    l.join(r, show, rill::join_window(5ms)).to("out");
  return b.build();
}

}  // namespace

TEST(tracing, a_stream_stream_join_result_carries_the_arriving_records_context) {
  test_driver d(stream_stream(false));
  auto l = d.input_topic<std::string, std::string>("left");
  auto r = d.input_topic<std::string, std::string>("right");
  auto out = d.output_topic<std::string, std::string>("out");
  pipe(l, std::string("k"), std::string("A"), 1, 1);
  pipe(r, std::string("k"), std::string("a"), 2, 2);  // finds A
  pipe(l, std::string("k"), std::string("B"), 3, 3);  // finds a
  auto got = out.read_records_to_list();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].value, "A+a");
  EXPECT_EQ(trace_of(got[0]), tp(2));
  EXPECT_EQ(got[1].value, "B+a");
  EXPECT_EQ(trace_of(got[1]), tp(3));
}

TEST(tracing, an_unmatched_left_join_record_goes_out_with_its_own_context_when_its_window_closes) {
  for (bool cached : {false, true}) {
    test_driver d(stream_stream(true), options(cached));
    auto l = d.input_topic<std::string, std::string>("left");
    auto r = d.input_topic<std::string, std::string>("right");
    auto out = d.output_topic<std::string, std::string>("out");
    pipe(l, std::string("k"), std::string("A"), 1, 1);
    pipe(l, std::string("k"), std::string("B"), 1, 2);   // same key and time: kept together
    pipe(r, std::string("z"), std::string("x"), 20, 3);  // closes their windows
    auto got = out.read_records_to_list();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].value, "A+null");
    EXPECT_EQ(trace_of(got[0]), tp(1)) << "not the closing record's";
    EXPECT_EQ(got[0].headers.get("tracestate"), "rill=1");
    EXPECT_EQ(trace_of(got[1]), tp(2));
  }
}

TEST(tracing, stream_table_and_table_table_joins_carry_the_updating_sides_context) {
  rill::streams_builder b;
  auto orders = b.stream<std::string, std::string>("orders");
  auto users = b.table<std::string, std::string>("users");
  auto regions = b.table<std::string, std::string>("regions");
  orders.join(users, [](const std::string& o, const std::string& u) { return o + "/" + u; })
      .to("enriched");
  users.join(regions, [](const std::string& u, const std::string& g) { return u + "/" + g; })
      .to_stream()
      .to("placed");
  test_driver d(b.build());  // cached tables: updates go out at the flush
  auto o = d.input_topic<std::string, std::string>("orders");
  auto u = d.input_topic<std::string, opt>("users");
  auto g = d.input_topic<std::string, opt>("regions");
  auto enriched = d.output_topic<std::string, std::string>("enriched");
  auto placed = d.output_topic<std::string, opt>("placed");
  pipe(g, std::string("ann"), opt("north"), 1, 1);
  pipe(u, std::string("ann"), opt("Ann"), 2, 2);  // the user side updates: the row appears
  pipe(o, std::string("ann"), std::string("pen"), 3, 3);
  pipe(g, std::string("ann"), opt("south"), 4, 4);  // the region side updates
  EXPECT_EQ(traces(enriched.read_records_to_list()), (std::vector<std::string>{tp(3)}));
  EXPECT_EQ(traces(placed.read_records_to_list()), (std::vector<std::string>{tp(2), tp(4)}));
}

TEST(tracing, a_foreign_key_join_carries_the_context_across_its_subscription_and_response) {
  rill::streams_builder b;
  auto orders = b.table<std::string, std::string>("orders");  // "customer:item"
  auto customers = b.table<std::string, std::string>("customers");
  orders
      .join(
          customers, [](const std::string& o) { return o.substr(0, o.find(':')); },
          [](const std::string& o, const std::string& c) { return o + "/" + c; },
          rill::named("by-customer"))
      .to_stream()
      .to("out");
  const rill::topology t = b.build();
  for (bool cached : {false, true}) {
    test_driver d(t, options(cached));
    auto o = d.input_topic<std::string, opt>("orders");
    auto c = d.input_topic<std::string, opt>("customers");
    auto out = d.output_topic<std::string, opt>("out");
    pipe(c, std::string("c1"), opt("Ann"), 1, 1);
    pipe(o, std::string("o1"), opt("c1:pen"), 2, 2);  // through subscription and response
    pipe(c, std::string("c1"), opt("Anne"), 3, 3);    // the right side's update reaches o1
    auto got = out.read_records_to_list();
    ASSERT_EQ(got.size(), 2u) << "cached=" << cached;
    EXPECT_EQ(got[0].value, "c1:pen/Ann");
    EXPECT_EQ(trace_of(got[0]), tp(2));
    EXPECT_EQ(got[0].headers.get("tracestate"), "rill=2");
    EXPECT_EQ(trace_of(got[1]), tp(3));
  }
}

TEST(tracing, a_dead_lettered_record_keeps_its_trace_context_beside_the_error_headers) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in")
      .select_key([](const std::string&, const std::string& v) { return v; })
      .group_by_key()
      .reduce([](std::string a, const std::string& v) {
        if (v == "bad") throw std::runtime_error("no bad values");
        return a + v;
      })
      .to_stream()
      .to("out");
  test_driver d(b.build(), {.config = {{"processing.exception.handler", "dead_letter"},
                                       {"errors.dead.letter.queue.topic.name", "dlq"}}});
  auto in = d.input_topic<std::string, std::string>("in");
  pipe(in, std::string("k"), std::string("bad"), 1, 1);
  pipe(in, std::string("k"), std::string("bad"), 2, 2);  // the second fails (reduce)
  auto dlq = d.output_topic<rill::bytes, rill::bytes>("dlq").read_records_to_list();
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(trace_of(dlq[0]), tp(2));
  EXPECT_EQ(dlq[0].headers.get("tracestate"), "rill=2");
  EXPECT_EQ(dlq[0].headers.get("__streams.errors.message"), "no bad values");
  EXPECT_EQ(dlq[0].headers.get("__rill.errors.node").has_value(), true);
}

TEST(tracing, a_trace_hook_gives_each_step_its_own_span_and_the_steps_outputs_carry_it) {
  rill::streams_builder b;
  auto keyed = b.stream<std::string, std::string>("in").select_key(
      [](const std::string&, const std::string& v) { return v; });
  keyed.to("copy");
  keyed.group_by_key().count().to_stream().to("counts");
  struct seen {
    std::string topic;
    std::string incoming;
  };
  std::vector<seen> steps;
  rill::testing::driver_options o;
  unsigned next_span = 500;
  o.trace = [&](const rill::trace_step& s) -> std::optional<rill::trace_context> {
    steps.push_back({std::string(s.topic), std::string(s.traceparent.value_or("none"))});
    return rill::trace_context{tp(next_span++), "step=" + std::to_string(steps.size())};
  };
  test_driver d(b.build(), o);
  auto in = d.input_topic<std::string, std::string>("in");
  pipe(in, std::string("k"), std::string("a"), 1, 1);
  ASSERT_EQ(steps.size(), 2u) << "the input's step, then the repartition topic's";
  EXPECT_EQ(steps[0].topic, "in");
  EXPECT_EQ(steps[0].incoming, tp(1));
  EXPECT_TRUE(steps[1].topic.ends_with("-repartition")) << steps[1].topic;
  EXPECT_EQ(steps[1].incoming, tp(500)) << "the first step's span is the second's parent";
  auto copy = d.output_topic<std::string, std::string>("copy").read_records_to_list();
  ASSERT_EQ(copy.size(), 1u);
  EXPECT_EQ(trace_of(copy[0]), tp(500));
  EXPECT_EQ(copy[0].headers.get("tracestate"), "step=1");
  auto counts = d.output_topic<std::string, std::int64_t>("counts").read_records_to_list();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(trace_of(counts[0]), tp(501)) << "the aggregation's step, kept in its cache entry";
}

TEST(tracing, child_span_per_step_keeps_the_trace_and_gives_each_step_a_new_span_id) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in").to("out");
  rill::testing::driver_options o;
  o.trace = rill::child_span_per_step();
  test_driver d(b.build(), o);
  auto in = d.input_topic<std::string, std::string>("in");
  auto out = d.output_topic<std::string, std::string>("out");
  pipe(in, std::string("k"), std::string("v"), 1, 1);
  pipe(in, std::string("k"), std::string("v"), 2, 1);
  in.pipe("k", "untraced", 3);
  auto got = out.read_records_to_list();
  ASSERT_EQ(got.size(), 3u);
  const auto in_parent = rill::traceparent::parse(tp(1));
  ASSERT_TRUE(in_parent);
  std::vector<std::string> spans;
  for (std::size_t i = 0; i < 2; ++i) {
    auto p = rill::traceparent::parse(trace_of(got[i]));
    ASSERT_TRUE(p) << trace_of(got[i]);
    EXPECT_EQ(p->trace_id, in_parent->trace_id);
    EXPECT_EQ(p->flags, in_parent->flags);
    EXPECT_NE(p->parent_id, in_parent->parent_id);
    EXPECT_EQ(got[i].headers.get("tracestate"), "rill=1");
    spans.push_back(p->parent_id);
  }
  EXPECT_NE(spans[0], spans[1]) << "one span per step";
  EXPECT_TRUE(got[2].headers.empty()) << "no trace context: none is made up";
}

TEST(tracing, with_a_trace_hook_a_dead_lettered_record_keeps_the_headers_it_came_with) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in")
      .map_values([](const std::string& v) {
        if (v == "bad") throw std::runtime_error("bad value");
        return v;
      })
      .to("out");
  rill::testing::driver_options o{.config = {{"processing.exception.handler", "dead_letter"},
                                             {"errors.dead.letter.queue.topic.name", "dlq"}}};
  o.trace = [](const rill::trace_step&) { return rill::trace_context{tp(900), ""}; };
  test_driver d(b.build(), o);
  auto in = d.input_topic<std::string, std::string>("in");
  pipe(in, std::string("k"), std::string("good"), 1, 1);
  pipe(in, std::string("k"), std::string("bad"), 2, 2);
  auto out = d.output_topic<std::string, std::string>("out").read_records_to_list();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(trace_of(out[0]), tp(900));
  EXPECT_FALSE(out[0].headers.get("tracestate")) << "the hook returned none";
  auto dlq = d.output_topic<rill::bytes, rill::bytes>("dlq").read_records_to_list();
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(trace_of(dlq[0]), tp(2));
  EXPECT_EQ(dlq[0].headers.get("tracestate"), "rill=2");
}
