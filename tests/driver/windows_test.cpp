// Windowed aggregations on the test driver: every window kind, grace and late records,
// emit final, suppress, session merges, closing on the wall clock, the wire formats. Inputs
// and expected outputs follow the Kafka Streams documentation and its unit tests where they
// give them (docs/windows.md). Caching is off unless a test says otherwise, so that every
// update is seen.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <rill/rill.hpp>
#include <rill/testing/test_driver.hpp>

using namespace std::chrono_literals;
using rill::timestamp_ms;
using rill::testing::test_driver;

namespace {

using wkey = rill::windowed<std::string>;
using counts_out = std::optional<std::int64_t>;

rill::testing::driver_options uncached(std::map<std::string, std::string> extra = {}) {
  rill::testing::driver_options o;
  o.config.set("statestore.cache.max.bytes", "0");
  for (const auto& [k, v] : extra) o.config.set(k, v);
  return o;
}

// "key@start/end=value" per output record, as Kafka Streams' tests print windowed results.
template <class V>
std::vector<std::string> printed(
    std::vector<rill::testing::test_record<wkey, std::optional<V>>> rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) {
    std::string v = r.value ? std::to_string(*r.value) : std::string("null");
    out.push_back(r.key.key + "@" + std::to_string(r.key.window.start) + "/" +
                  std::to_string(r.key.window.end) + "=" + v);
  }
  return out;
}

// A count per window of the stream "in", written to "out".
template <class W>
rill::topology windowed_count(W windows, bool final = false) {
  rill::streams_builder b;
  auto w = b.stream<std::string, std::string>("in").group_by_key().windowed_by(windows);
  auto t = final ? w.emit_final().count(rill::named("counts")) : w.count(rill::named("counts"));
  t.to_stream().to("out");
  return b.build();
}

struct run {
  test_driver driver;
  rill::testing::test_input_topic<std::string, std::string> in;
  rill::testing::test_output_topic<wkey, counts_out> out;
  run(const rill::topology& t, rill::any_serde<wkey> key_serde,
      rill::testing::driver_options o = uncached())
      : driver(t, std::move(o)),
        in(driver.input_topic<std::string, std::string>("in")),
        out(driver.output_topic<wkey, counts_out>("out", std::move(key_serde))) {}
  void pipe(const std::string& key, timestamp_ms t) { in.pipe(key, "v", t); }
  std::vector<std::string> read() { return printed<std::int64_t>(out.read_records_to_list()); }
};

}  // namespace

TEST(windows, a_tumbling_window_holds_its_start_and_not_its_end) {
  run r(windowed_count(rill::tumbling_window(10ms)), rill::time_windowed_serde<std::string>(10ms));
  r.pipe("a", 0);
  r.pipe("a", 9);
  r.pipe("a", 10);
  r.pipe("b", 15);
  EXPECT_EQ(r.read(), (std::vector<std::string>{"a@0/10=1", "a@0/10=2", "a@10/20=1", "b@10/20=1"}));
}

// KStreamWindowAggregateTest: size 10, advance 5, grace 90.
TEST(windows, hopping_windows_drop_what_arrives_after_end_plus_grace) {
  run r(windowed_count(rill::hopping_window(10ms, 5ms).grace(90ms)),
        rill::time_windowed_serde<std::string>(10ms));
  r.pipe("k", 100);
  for (timestamp_ms t = 0; t <= 4; ++t) r.pipe("k", t);  // [0,10) closed at stream time 100
  r.pipe("k", 5);
  r.pipe("k", 6);
  EXPECT_EQ(r.read(),
            (std::vector<std::string>{"k@95/105=1", "k@100/110=1", "k@5/15=1", "k@5/15=2"}));
  EXPECT_EQ(r.driver.counters().late, 7u) << "one drop per closed window, as Kafka Streams counts";
}

TEST(windows, a_hopping_record_lands_in_every_window_that_holds_it_and_none_before_zero) {
  run r(windowed_count(rill::hopping_window(10ms, 3ms)),
        rill::time_windowed_serde<std::string>(10ms));
  r.pipe("k", 12);
  EXPECT_EQ(r.read(), (std::vector<std::string>{"k@3/13=1", "k@6/16=1", "k@9/19=1", "k@12/22=1"}));
  run early(windowed_count(rill::hopping_window(10ms, 5ms)),
            rill::time_windowed_serde<std::string>(10ms));
  early.pipe("k", 3);
  EXPECT_EQ(early.read(), (std::vector<std::string>{"k@0/10=1"}));
}

// Tumbling, size 10, grace 90: a window ending exactly at stream time - grace is closed.
TEST(windows, a_window_is_closed_once_stream_time_reaches_its_end_plus_grace) {
  run r(windowed_count(rill::tumbling_window(10ms).grace(90ms)),
        rill::time_windowed_serde<std::string>(10ms));
  r.pipe("k", 200);
  for (timestamp_ms t = 100; t <= 105; ++t) r.pipe("k", t);
  r.pipe("k", 6);
  EXPECT_EQ(r.read(), (std::vector<std::string>{"k@200/210=1"}));
  EXPECT_EQ(r.driver.counters().late, 7u);
}

TEST(windows, out_of_order_records_within_grace_update_their_window) {
  run r(windowed_count(rill::tumbling_window(10ms).grace(5ms)),
        rill::time_windowed_serde<std::string>(10ms));
  r.pipe("k", 12);
  r.pipe("k", 3);  // stream time 12: [0,10) closes at 15
  r.pipe("k", 16);
  r.pipe("k", 4);  // now closed
  EXPECT_EQ(r.read(), (std::vector<std::string>{"k@10/20=1", "k@0/10=1", "k@10/20=2"}));
  EXPECT_EQ(r.driver.counters().late, 1u);
}

TEST(windows, emit_final_emits_each_window_once_when_it_closes_and_nothing_before) {
  run r(windowed_count(rill::tumbling_window(10ms).grace(2ms), true),
        rill::time_windowed_serde<std::string>(10ms));
  r.pipe("a", 1);
  r.pipe("b", 5);
  r.pipe("a", 9);
  r.pipe("a", 11);
  EXPECT_TRUE(r.read().empty()) << "stream time 11 < 10 + grace 2: nothing has closed";
  r.pipe("a", 12);  // [0,10) closes
  EXPECT_EQ(r.read(), (std::vector<std::string>{"a@0/10=2", "b@0/10=1"}));
  r.pipe("a", 13);
  r.pipe("a", 3);  // late: its window was emitted
  EXPECT_TRUE(r.read().empty());
  r.pipe("c", 40);
  EXPECT_EQ(r.read(), (std::vector<std::string>{"a@10/20=3"}));
  EXPECT_EQ(r.driver.counters().late, 1u);
}

// SuppressScenarioTest: TimeWindows.ofSizeAndGrace(2, 1), count.
TEST(windows, suppress_until_window_closes_gives_one_final_result_per_window) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(rill::tumbling_window(2ms).grace(1ms))
      .count()
      .suppress(rill::until_window_closes())
      .to_stream()
      .to("out");
  run r(b.build(), rill::time_windowed_serde<std::string>(2ms));
  for (timestamp_ms t : {0, 1, 2, 1, 0}) r.pipe("k1", t);
  EXPECT_TRUE(r.read().empty());
  r.pipe("k1", 5);
  r.pipe("k1", 0);  // late
  EXPECT_EQ(r.read(), (std::vector<std::string>{"k1@0/2=4", "k1@2/4=1"}));
}

TEST(windows, suppress_until_time_limit_rate_limits_each_key) {
  rill::streams_builder b;
  b.table<std::string, std::int64_t>("levels")
      .suppress(rill::until_time_limit(10ms))
      .to_stream()
      .to("out");
  test_driver d(b.build(), uncached());
  auto in = d.input_topic<std::string, std::int64_t>("levels");
  auto out = d.output_topic<std::string, std::optional<std::int64_t>>("out");
  in.pipe("a", 1, 0);
  in.pipe("a", 2, 4);
  in.pipe("b", 7, 5);
  in.pipe("a", 3, 9);
  EXPECT_TRUE(out.is_empty()) << "a's timer started at 0 and runs to 10";
  in.pipe("b", 8, 10);  // stream time 10: a goes out, its latest value
  EXPECT_EQ(out.read_key_values_to_list(),
            (std::vector<rill::key_value<std::string, std::optional<std::int64_t>>>{{"a", 3}}));
  in.pipe("c", 1, 15);  // b's timer (from 5) has run out
  EXPECT_EQ(out.read_key_values_to_list(),
            (std::vector<rill::key_value<std::string, std::optional<std::int64_t>>>{{"b", 8}}));
}

TEST(windows, a_full_suppress_buffer_emits_early_or_fails_the_task_as_configured) {
  auto topology = [](rill::when_full f) {
    rill::streams_builder b;
    b.table<std::string, std::int64_t>("levels")
        .suppress(rill::until_time_limit(1h, 2, f))
        .to_stream()
        .to("out");
    return b.build();
  };
  test_driver early(topology(rill::when_full::emit_early), uncached());
  auto in = early.input_topic<std::string, std::int64_t>("levels");
  auto out = early.output_topic<std::string, std::optional<std::int64_t>>("out");
  in.pipe("a", 1, 0);
  in.pipe("b", 2, 1);
  in.pipe("c", 3, 2);  // three held, two allowed: the earliest goes out
  EXPECT_EQ(out.read_key_values_to_list(),
            (std::vector<rill::key_value<std::string, std::optional<std::int64_t>>>{{"a", 1}}));
  test_driver strict(topology(rill::when_full::shut_down), uncached());
  auto in2 = strict.input_topic<std::string, std::int64_t>("levels");
  in2.pipe("a", 1, 0);
  in2.pipe("b", 2, 1);
  try {
    in2.pipe("c", 3, 2);
    FAIL() << "a full strict buffer must fail the task";
  } catch (const rill::streams_error& e) {
    EXPECT_NE(std::string(e.what()).find("buffer is full"), std::string::npos) << e.what();
  }
}

// The SlidingWindows javadoc: difference 5000, records at 8000, 9200, 12400, then 10000.
TEST(windows, sliding_windows_follow_the_records_with_no_empty_or_duplicate_window) {
  run r(windowed_count(rill::sliding_window(5000ms).grace(1h)),
        rill::time_windowed_serde<std::string>(5000ms));
  for (timestamp_ms t : {8000, 9200, 12400}) r.pipe("A", t);
  std::map<std::string, std::string> last;
  auto settle = [&] {
    for (const auto& line : r.read()) last[line.substr(0, line.find('='))] = line;
  };
  settle();
  EXPECT_EQ(last, (std::map<std::string, std::string>{{"A@3000/8000", "A@3000/8000=1"},
                                                      {"A@4200/9200", "A@4200/9200=2"},
                                                      {"A@7400/12400", "A@7400/12400=3"},
                                                      {"A@8001/13001", "A@8001/13001=2"},
                                                      {"A@9201/14201", "A@9201/14201=1"}}));
  r.pipe("A", 10000);  // out of order: three windows grow, two appear
  settle();
  EXPECT_EQ(last["A@9201/14201"], "A@9201/14201=2");
  EXPECT_EQ(last["A@8001/13001"], "A@8001/13001=3");
  EXPECT_EQ(last["A@7400/12400"], "A@7400/12400=4");
  EXPECT_EQ(last["A@5000/10000"], "A@5000/10000=3");
  EXPECT_EQ(last["A@10001/15001"], "A@10001/15001=1");
  EXPECT_EQ(last.size(), 7u);
}

// SuppressScenarioTest: sliding, difference 5, grace 15.
TEST(windows, sliding_windows_drop_closed_windows_and_emit_final_results) {
  run eager(windowed_count(rill::sliding_window(5ms).grace(15ms)),
            rill::time_windowed_serde<std::string>(5ms));
  run final(windowed_count(rill::sliding_window(5ms).grace(15ms), true),
            rill::time_windowed_serde<std::string>(5ms));
  for (timestamp_ms t : {10, 11, 10, 13, 10, 24, 5, 7, 90}) {
    eager.pipe("k1", t);
    final.pipe("k1", t);
  }
  std::map<std::string, std::string> last;
  for (const auto& line : eager.read()) last[line.substr(0, line.find('='))] = line;
  EXPECT_EQ(last, (std::map<std::string, std::string>{{"k1@5/10", "k1@5/10=5"},
                                                      {"k1@6/11", "k1@6/11=5"},
                                                      {"k1@8/13", "k1@8/13=5"},
                                                      {"k1@11/16", "k1@11/16=2"},
                                                      {"k1@12/17", "k1@12/17=1"},
                                                      {"k1@19/24", "k1@19/24=1"},
                                                      {"k1@85/90", "k1@85/90=1"}}));
  std::vector<std::string> emitted = final.read();
  std::sort(emitted.begin(), emitted.end());
  EXPECT_EQ(emitted, (std::vector<std::string>{"k1@11/16=2", "k1@12/17=1", "k1@19/24=1",
                                               "k1@5/10=5", "k1@6/11=5", "k1@8/13=5"}));
}

// SuppressScenarioTest: sessions with gap 5, no grace.
TEST(windows, sessions_merge_and_the_merged_away_sessions_are_deleted_downstream) {
  run r(windowed_count(rill::session_window(5ms)), rill::session_windowed_serde<std::string>());
  r.pipe("k1", 0);
  r.pipe("k1", 5);  // exactly the gap: merges
  r.pipe("k1", 1);  // inside [0,5]: the session is removed and put again
  r.pipe("k2", 11);
  r.pipe("k1", 5);  // stream time 11: k1's sessions ending before 11 - 0 - 5 are closed
  r.pipe("k1", 30);
  EXPECT_EQ(r.read(),
            (std::vector<std::string>{"k1@0/0=1", "k1@0/0=null", "k1@0/5=2", "k1@0/5=null",
                                      "k1@0/5=3", "k2@11/11=1", "k1@30/30=1"}));
  EXPECT_EQ(r.driver.counters().late, 1u);
}

// The developer guide's sessions: gap 5 (minutes there, ms here), with the grace its picture
// assumes (the old default was a day): green's first session is still open when @4 bridges it.
TEST(windows, the_developer_guides_sessions_come_out_as_it_draws_them) {
  run r(windowed_count(rill::session_window(5ms).grace(2ms)),
        rill::session_windowed_serde<std::string>());
  r.pipe("green", 0);
  r.pipe("green", 6);
  r.pipe("blue", 2);
  r.pipe("green", 4);  // bridges [0,0] and [6,6]
  r.pipe("blue", 5);
  r.pipe("blue", 11);
  std::map<std::string, std::int64_t> live;  // the sessions that exist at the end
  for (const auto& rec : r.out.read_records_to_list()) {
    const std::string k = rec.key.key + "@" + std::to_string(rec.key.window.start) + "/" +
                          std::to_string(rec.key.window.end);
    if (rec.value)
      live[k] = *rec.value;
    else
      live.erase(k);
  }
  EXPECT_EQ(live, (std::map<std::string, std::int64_t>{
                      {"green@0/6", 3}, {"blue@2/5", 2}, {"blue@11/11", 1}}));
}

TEST(windows, session_aggregate_merges_with_the_merger_and_emit_final_waits_for_the_close) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(rill::session_window(10ms).grace(5ms))
      .emit_final()
      .aggregate([] { return std::string(); },
                 [](const std::string&, const std::string& v, std::string agg) { return agg + v; },
                 [](const std::string&, std::string a, const std::string& b) { return a + b; })
      .to_stream()
      .to("out");
  test_driver d(b.build(), uncached());
  auto in = d.input_topic<std::string, std::string>("in");
  auto out = d.output_topic<wkey, std::optional<std::string>>(
      "out", rill::session_windowed_serde<std::string>());
  in.pipe("k", "a", 0);
  in.pipe("k", "b", 12);
  in.pipe("k", "c", 6);   // bridges both
  in.pipe("k", "d", 27);  // stream time 27: [0,12] is open while 12 >= 27 - 5 - 10
  EXPECT_TRUE(out.is_empty());
  in.pipe("x", "e", 28);  // now it has closed
  auto got = out.read_records_to_list();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].key.window.start, 0);
  EXPECT_EQ(got[0].key.window.end, 12);
  EXPECT_EQ(got[0].value, "abc");
}

TEST(windows, emit_final_closes_on_the_wall_clock_when_input_stops_if_asked) {
  run r(windowed_count(rill::tumbling_window(10ms), true),
        rill::time_windowed_serde<std::string>(10ms), uncached({{"window.close.idle.ms", "1000"}}));
  r.pipe("a", 1);
  r.pipe("a", 2);
  r.driver.advance_wall_clock(500ms);
  EXPECT_TRUE(r.read().empty()) << "idle for less than window.close.idle.ms";
  r.driver.advance_wall_clock(10s);
  EXPECT_EQ(r.read(), (std::vector<std::string>{"a@0/10=2"}));
  r.pipe("a", 5);  // its window was emitted: late
  EXPECT_EQ(r.driver.counters().late, 1u);
  EXPECT_TRUE(r.read().empty());

  run stream_time_only(windowed_count(rill::tumbling_window(10ms), true),
                       rill::time_windowed_serde<std::string>(10ms));
  stream_time_only.pipe("a", 1);
  stream_time_only.driver.advance_wall_clock(1h);
  EXPECT_TRUE(stream_time_only.read().empty()) << "without the setting, as Kafka Streams";
}

TEST(windows, late_records_go_to_the_late_records_topic_with_their_window) {
  run r(windowed_count(rill::tumbling_window(10ms)), rill::time_windowed_serde<std::string>(10ms),
        uncached({{"late.records.topic", "late"}}));
  auto late = r.driver.output_topic<std::string, std::string>("late");
  r.pipe("k", 30);
  r.in.pipe("k", "too late", 3);
  auto got = late.read_records_to_list();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value, "too late");
  EXPECT_EQ(got[0].timestamp, 3);
  EXPECT_EQ(got[0].headers.get("rill.late.window.start"), "0");
  EXPECT_EQ(got[0].headers.get("rill.late.window.end"), "10");
  EXPECT_EQ(got[0].headers.get("rill.late.lateness.ms"), "20");
  EXPECT_EQ(got[0].headers.get("rill.late.topic"), "in");
}

// A Java consumer with WindowedSerdes reads these bytes: key, then big-endian times.
TEST(windows, windowed_keys_are_written_in_kafka_streams_wire_formats) {
  auto be64 = [](const rill::bytes& b, std::size_t at) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(b[at + i]);
    return static_cast<std::int64_t>(v);
  };
  run time(windowed_count(rill::tumbling_window(10ms)),
           rill::time_windowed_serde<std::string>(10ms));
  auto raw = time.driver.output_topic<rill::bytes, rill::bytes>("out");
  time.pipe("ab", 25);
  auto t = raw.read_record();
  ASSERT_EQ(t.key.size(), 2u + 8u);
  EXPECT_EQ(std::string(rill::as_chars(rill::bytes_view(t.key).first(2))), "ab");
  EXPECT_EQ(be64(t.key, 2), 20) << "the start";
  run session(windowed_count(rill::session_window(5ms)),
              rill::session_windowed_serde<std::string>());
  auto sraw = session.driver.output_topic<rill::bytes, std::optional<rill::bytes>>("out");
  session.pipe("ab", 7);
  session.pipe("ab", 9);
  auto all = sraw.read_records_to_list();
  const auto& s = all.back();
  ASSERT_EQ(s.key.size(), 2u + 16u);
  EXPECT_EQ(be64(s.key, 2), 9) << "the end first";
  EXPECT_EQ(be64(s.key, 10), 7) << "then the start";
}

TEST(windows, bad_window_specs_are_topology_errors_that_name_the_fix) {
  auto says = [](auto make, const std::string& what) {
    try {
      make();
      ADD_FAILURE() << "no error for " << what;
    } catch (const rill::topology_error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  says([] { (void)rill::tumbling_window(0ms); }, "tumbling_window: the size is 0 ms");
  says([] { (void)rill::hopping_window(10ms, 0ms); }, "the advance is 0 ms");
  says([] { (void)rill::hopping_window(10ms, 11ms); }, "larger than the size");
  says([] { (void)rill::session_window(-1ms); }, "inactivity gap");
  says([] { (void)rill::sliding_window(5ms).grace(-1ms); }, "the grace is -1 ms");
  says(
      [] {
        rill::streams_builder b;
        b.table<std::string, std::int64_t>("t").suppress(rill::until_window_closes());
      },
      "needs a windowed table");
}

TEST(windows, processors_use_window_and_session_stores) {
  struct recorder : rill::processor<std::string, std::string, std::string, std::int64_t> {
    rill::window_store<std::string, std::int64_t>* windows = nullptr;
    rill::session_store<std::string, std::int64_t>* sessions = nullptr;
    context_type* context = nullptr;
    void init(context_type& ctx) override {
      context = &ctx;
      windows = &ctx.get_state_store<rill::window_store<std::string, std::int64_t>>("w");
      sessions = &ctx.get_state_store<rill::session_store<std::string, std::int64_t>>("s");
    }
    void process(rill::record<std::string, std::string> r) override {
      const timestamp_ms start = r.timestamp / 10 * 10;
      windows->put(r.key, windows->fetch(r.key, start).value_or(0) + 1, start);
      sessions->put({r.key, {r.timestamp, r.timestamp + 1, true}}, 1);
      std::int64_t n = 0;
      for (const auto& e : windows->fetch(r.key, 0, r.timestamp)) n += e.value;
      std::int64_t s = 0;
      for (const auto& e : sessions->fetch(r.key)) s += e.value;
      context->forward(
          rill::record<std::string, std::int64_t>{r.key, n * 100 + s, r.timestamp, {}});
    }
  };
  rill::streams_builder b;
  b.add_window_store(rill::materialized<std::string, std::int64_t>{.name = "w"}, 10ms, 1h);
  b.add_session_store(rill::materialized<std::string, std::int64_t>{.name = "s"}, 1h);
  b.stream<std::string, std::string>("in")
      .process([] { return std::make_unique<recorder>(); }, {}, {"w", "s"})
      .to("out");
  test_driver d(b.build(), uncached());
  auto in = d.input_topic<std::string, std::string>("in");
  auto out = d.output_topic<std::string, std::int64_t>("out");
  in.pipe("k", "x", 1);
  in.pipe("k", "x", 15);
  in.pipe("k", "x", 17);
  EXPECT_EQ(out.read_values_to_list(), (std::vector<std::int64_t>{101, 202, 303}));
}

// Sliding windows against their definition, over random records in and out of order: the
// windows are [t - d, t] for each record t ([0, d] for t < d) and [t + 1, t + 1 + d] for each
// record with a later record within d + 1 of it; each holds exactly the records in its bounds.
TEST(windows, sliding_windows_agree_with_their_definition_on_random_records) {
  constexpr timestamp_ms d = 10;
  rill::streams_builder b;
  b.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(rill::sliding_window(std::chrono::milliseconds(d)).grace(1h))
      .aggregate([] { return std::string(); }, [](const std::string&, const std::string& v,
                                                  std::string agg) { return agg + v + ","; })
      .to_stream()
      .to("out");
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    test_driver driver(b.build(), uncached());
    auto in = driver.input_topic<std::string, std::string>("in");
    auto out = driver.output_topic<wkey, std::optional<std::string>>(
        "out", rill::time_windowed_serde<std::string>(std::chrono::milliseconds(d)));
    std::mt19937 rng(seed);
    std::map<std::string, std::vector<timestamp_ms>> records;
    for (int i = 0; i < 40; ++i) {
      const std::string key = rng() % 2 ? "x" : "y";
      const timestamp_ms t = static_cast<timestamp_ms>(rng() % 80);
      in.pipe(key, std::to_string(t), t);
      records[key].push_back(t);
    }
    std::map<std::pair<std::string, timestamp_ms>, std::multiset<timestamp_ms>> got;
    for (const auto& r : out.read_records_to_list()) {
      std::multiset<timestamp_ms> members;
      std::stringstream list(r.value.value_or(""));
      for (std::string item; std::getline(list, item, ',');) members.insert(std::stoll(item));
      got[{r.key.key, r.key.window.start}] = members;
    }
    std::map<std::pair<std::string, timestamp_ms>, std::multiset<timestamp_ms>> want;
    for (const auto& [key, ts] : records) {
      auto in_window = [&](timestamp_ms s) {
        std::multiset<timestamp_ms> m;
        for (timestamp_ms t : ts) {
          if (t >= s && t <= s + d) m.insert(t);
        }
        return m;
      };
      for (timestamp_ms t : ts) {
        const timestamp_ms left = t < d ? 0 : t - d;
        want[{key, left}] = in_window(left);
        if (!in_window(t + 1).empty()) want[{key, t + 1}] = in_window(t + 1);
      }
    }
    ASSERT_EQ(got, want) << "seed " << seed;
  }
}

// With the record cache on, updates reach downstream when the cache flushes (the driver
// commits after every record): the same final windows, and merged-away sessions still
// deleted.
TEST(windows, cached_windowed_aggregations_forward_what_the_cache_flushes) {
  rill::testing::driver_options cached;
  run tumbling(windowed_count(rill::tumbling_window(10ms)),
               rill::time_windowed_serde<std::string>(10ms), cached);
  tumbling.pipe("a", 1);
  tumbling.pipe("a", 2);
  tumbling.pipe("a", 12);
  EXPECT_EQ(tumbling.read(), (std::vector<std::string>{"a@0/10=1", "a@0/10=2", "a@10/20=1"}));
  run sessions(windowed_count(rill::session_window(5ms)),
               rill::session_windowed_serde<std::string>(), cached);
  sessions.pipe("k", 0);
  sessions.pipe("k", 4);
  EXPECT_EQ(sessions.read(), (std::vector<std::string>{"k@0/0=1", "k@0/0=null", "k@0/4=2"}));
}

namespace {

// Splits an input value "key@t key@t ..." into one record per pair. What it forwards goes
// through a repartition topic, whose records the driver processes before it commits: a
// batch of records between two cache flushes, as a stream thread's commit interval holds.
class clicks_at : public rill::processor<std::string, std::string, std::string, std::string> {
 public:
  void init(context_type& ctx) override { _ctx = &ctx; }
  void process(rill::record<std::string, std::string> r) override {
    std::istringstream in(r.value);
    for (std::string click; in >> click;) {
      const auto at = click.find('@');
      _ctx->forward({click.substr(0, at), "page", std::stoll(click.substr(at + 1)), {}});
    }
  }

 private:
  context_type* _ctx = nullptr;
};

// The crash suite's sessions (gap 30, grace 10: a store retention of 41) over batches of
// clicks; the output as a reader keeping the latest value per session sees it, and the
// sessions that were emitted and later deleted.
struct session_view {
  std::map<std::string, std::int64_t> live;
  std::set<std::string> emitted;
  std::set<std::string> deleted;
};

session_view click_sessions(const std::vector<std::string>& batches,
                            rill::testing::driver_options o) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in")
      .process([] { return std::make_unique<clicks_at>(); })
      .repartition()
      .group_by_key()
      .windowed_by(rill::session_window(30ms).grace(10ms))
      .aggregate([] { return std::int64_t{0}; },
                 [](const std::string&, const std::string&, std::int64_t n) { return n + 1; },
                 [](const std::string&, std::int64_t a, std::int64_t b) { return a + b; },
                 rill::named("sessions"))
      .to_stream()
      .to("out");
  test_driver d(b.build(), std::move(o));
  auto in = d.input_topic<std::string, std::string>("in");
  for (const auto& batch : batches) in.pipe("batch", batch, 0);
  session_view v;
  auto out = d.output_topic<wkey, counts_out>("out", rill::session_windowed_serde<std::string>());
  for (const auto& rec : out.read_records_to_list()) {
    const std::string k = rec.key.key + "@" + std::to_string(rec.key.window.start) + "/" +
                          std::to_string(rec.key.window.end);
    if (rec.value) {
      v.live[k] = *rec.value;
      v.emitted.insert(k);
    } else {
      v.live.erase(k);
      v.deleted.insert(k);
    }
  }
  return v;
}

}  // namespace

// A session the cache flushed downstream and a later record merged away is deleted downstream
// at the next flush, even when by then the store's time has moved past the session's
// retention: the click at 310 scans for its sessions, which flushes 300/300 first, so the
// store's time is 300 and its retention of 41 hides 245/245 before the batch's commit.
TEST(windows, cached_sessions_delete_every_emitted_session_that_merges_away) {
  const std::vector<std::string> one_key = {"u0@245", "u0@253 u0@300 u0@310"};
  const std::vector<std::string> two_keys = {"u0@245", "u0@253 u1@300 u1@310"};
  for (const auto& batches : {one_key, two_keys}) {
    const session_view cached = click_sessions(batches, {});
    const session_view plain = click_sessions(batches, uncached());
    EXPECT_EQ(cached.live, plain.live) << batches[1];
    for (const auto& s : cached.emitted) {
      if (!cached.live.contains(s)) {
        EXPECT_TRUE(cached.deleted.contains(s)) << s << " was emitted, merged away, never deleted";
      }
    }
  }
  const session_view cached = click_sessions(one_key, {});
  EXPECT_EQ(cached.live,
            (std::map<std::string, std::int64_t>{{"u0@245/253", 2}, {"u0@300/310", 2}}));
  EXPECT_TRUE(cached.emitted.contains("u0@245/245") && cached.deleted.contains("u0@245/245"));
}
