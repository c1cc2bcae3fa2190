// streams_app on the embedded broker: lifecycle and state listener, construction and start
// errors, the uncaught-exception handler, bounded buffering, timestamp order across the
// partitions of one task. Data: at most 20 000 records of ~20 bytes.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <sstream>

#include <rill/rill.hpp>
#include <rill/testing/test_driver.hpp>

#include "harness.hpp"
#include "src/runtime/partitioner.hpp"

using namespace rill::test;

namespace {

rill::topology pass_through(const std::string& in, const std::string& out) {
  rill::streams_builder b;
  b.stream<std::string, std::string>(in).to(out);
  return b.build();
}

std::string config_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const rill::config_error& e) {
    return e.what();
  }
  return "no config_error";
}

}  // namespace

TEST(app, moves_through_its_states_and_tells_the_listener) {
  cluster c;
  const std::string in = unique("life-in");
  c.create_topic(in, 2);
  rill::streams_app app(pass_through(in, unique("life-out")), c.app_config(unique("life")));
  std::mutex m;
  std::vector<std::string> seen;
  app.set_state_listener([&](rill::app_state now, rill::app_state before) {
    std::lock_guard lock(m);
    seen.push_back(std::string(rill::to_string(before)) + "->" + std::string(rill::to_string(now)));
  });
  EXPECT_EQ(app.state(), rill::app_state::created);
  app.start();
  EXPECT_TRUE(app.wait_until_running(60s));
  EXPECT_TRUE(app.close());
  EXPECT_EQ(app.state(), rill::app_state::not_running);
  std::lock_guard lock(m);
  EXPECT_EQ(seen, (std::vector<std::string>{"created->rebalancing", "rebalancing->running",
                                            "running->pending_shutdown",
                                            "pending_shutdown->not_running"}));
}

TEST(app, bad_settings_fail_at_construction_naming_them) {
  cluster c;
  auto t = pass_through("a", "b");
  EXPECT_EQ(config_error_of([&] {
              rill::config cfg = c.app_config("x");
              cfg.set("consumer.fetch.wait.max.ms", "-5");
              rill::streams_app app(t, cfg);
            }).substr(0, 58),
            "setting 'consumer.fetch.wait.max.ms' = '-5': Configuration");
  EXPECT_EQ(
      config_error_of([&] {
        rill::streams_app app(t, rill::config{{"bootstrap.servers", c.bootstrap()}});
      }),
      "setting 'application.id' is required: it names the consumer group and internal topics");
  EXPECT_EQ(
      config_error_of([&] {
        rill::config cfg = c.app_config("x");
        cfg.set("default.deserialization.exception.handler", "dead_letter");
        rill::streams_app app(t, cfg);
      }),
      "a handler is set to dead_letter but 'errors.dead.letter.queue.topic.name' is not set; name "
      "the dead-letter topic");
}

TEST(app, a_missing_source_topic_fails_start) {
  cluster c;
  const std::string in = unique("absent");
  rill::streams_app app(pass_through(in, "out"), c.app_config(unique("absent")));
  try {
    app.start();
    FAIL() << "expected rill::error";
  } catch (const rill::error& e) {
    EXPECT_NE(std::string(e.what()).find("source topic(s) " + in + " do not exist"),
              std::string::npos)
        << e.what();
  }
}

namespace {
// Two topics merged into a node that needs co-partitioned input (as a join will), built on
// the graph directly.
rill::topology copartitioned(const std::string& a, const std::string& b) {
  rill::detail::graph g;
  auto source = [&](const std::string& topic) {
    rill::detail::node_spec spec;
    spec.kind = rill::detail::node_kind::source;
    spec.op = "source";
    spec.topics = {topic};
    spec.factory = [](const rill::detail::node_args& args) -> std::unique_ptr<rill::detail::node> {
      return std::make_unique<rill::detail::source_node_impl<std::string, std::string>>(
          args.name, rill::default_serde<std::string>(), rill::default_serde<std::string>());
    };
    return g.add(std::move(spec));
  };
  int left = source(a);
  int right = source(b);
  rill::detail::node_spec join;
  join.op = "join";
  join.parents = {left, right};
  join.needs_copartitioned_input = true;
  join.repartition = rill::detail::make_repartition_parts<std::string, std::string>({}, "");
  join.factory = rill::detail::fn_node_factory<std::string, std::string, std::string, std::string>(
      [](rill::record<std::string, std::string>&&, auto&) {});
  g.add(std::move(join));
  return g.compile();
}
}  // namespace

TEST(app, co_partitioned_topics_with_different_partition_counts_fail_start) {
  cluster c;
  const std::string a = unique("copart-a");
  const std::string b = unique("copart-b");
  c.create_topic(a, 2);
  c.create_topic(b, 3);
  rill::streams_app app(copartitioned(a, b), c.app_config(unique("copart")));
  try {
    app.start();
    FAIL() << "expected rill::error";
  } catch (const rill::error& e) {
    EXPECT_NE(
        std::string(e.what()).find("co-partitioned topics '" + a + "' (2 partitions) and '" + b +
                                   "' (3 partitions) must have the same number of partitions"),
        std::string::npos)
        << e.what();
  }
  // The test driver checks the same.
  EXPECT_THROW(
      rill::testing::test_driver(copartitioned("x", "y"), {.partitions = {{"x", 2}, {"y", 3}}}),
      rill::error);
  EXPECT_NO_THROW(
      rill::testing::test_driver(copartitioned("x", "y"), {.partitions = {{"x", 3}, {"y", 3}}}));
}

namespace {
// Fails on the first record it sees in the whole process, once.
std::atomic<bool> already_failed{false};
struct fails_once : rill::processor<std::string, std::string, std::string, std::string> {
  context_type* ctx = nullptr;
  void init(context_type& c) override { ctx = &c; }
  void process(rill::record<std::string, std::string> r) override {
    if (!already_failed.exchange(true)) throw std::runtime_error("boom");
    ctx->forward(std::move(r));
  }
};
}  // namespace

TEST(app, uncaught_exception_handler_can_replace_the_thread) {
  cluster c;
  const std::string in = unique("replace-in");
  const std::string out = unique("replace-out");
  c.create_topic(in, 2);
  c.create_topic(out, 2);
  rill::topic_writer<std::string, std::string> w(c.bootstrap(), c.props());
  for (int i = 0; i < 100; ++i) w.send(in, "k" + std::to_string(i), "v" + std::to_string(i));
  w.flush();
  rill::streams_builder b;
  b.stream<std::string, std::string>(in)
      .process([] { return std::make_unique<fails_once>(); })
      .to(out);
  already_failed = false;
  rill::streams_app app(b.build(), c.app_config(unique("replace")));
  std::atomic<int> handled{0};
  app.set_uncaught_exception_handler([&](const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("boom"), std::string::npos);
    ++handled;
    return rill::uncaught_response::replace_thread;
  });
  app.start();
  auto got =
      rill::topic_reader<std::string, std::string>(c.bootstrap(), out, c.props()).read(100, 90s);
  std::set<std::string> values;
  for (const auto& r : got) values.insert(r.value);
  EXPECT_EQ(values.size(), 100u) << "the replacement thread reprocessed from the last commit";
  EXPECT_EQ(handled.load(), 1);
  EXPECT_EQ(app.counters().replaced_threads, 1u);
  EXPECT_EQ(app.state(), rill::app_state::running);
  EXPECT_TRUE(app.close());
}

TEST(app, uncaught_exception_handler_can_shut_the_instance_down) {
  cluster c;
  const std::string in = unique("down-in");
  c.create_topic(in, 1);
  rill::topic_writer<std::string, std::string> w(c.bootstrap(), c.props());
  w.send(in, "k", "v");
  w.flush();
  rill::streams_builder b;
  b.stream<std::string, std::string>(in)
      .process([] { return std::make_unique<fails_once>(); })
      .to(unique("down-out"));
  already_failed = false;
  rill::streams_app app(b.build(), c.app_config(unique("down")));
  app.start();  // default handler: shutdown_client
  EXPECT_TRUE(wait_for([&] { return app.state() == rill::app_state::error; }, 60s));
  EXPECT_TRUE(app.close());
  EXPECT_EQ(app.state(), rill::app_state::error);
}

namespace {
struct slow : rill::fixed_key_processor<std::string, std::string, std::string> {
  context_type* ctx = nullptr;
  void init(context_type& c) override { ctx = &c; }
  void process(rill::fixed_key_record<std::string, std::string> r) override {
    std::this_thread::sleep_for(std::chrono::microseconds(300));  // a slow downstream call
    ctx->forward(std::move(r));
  }
};
}  // namespace

TEST(app, a_slow_task_pauses_its_partitions_instead_of_buffering_without_limit) {
  cluster c;
  const std::string in = unique("slow-in");
  const std::string out = unique("slow-out");
  c.create_topic(in, 1);
  c.create_topic(out, 1);
  rill::topic_writer<std::string, std::string> w(c.bootstrap(), c.props());
  for (int i = 0; i < 20000; ++i) w.send(in, "k" + std::to_string(i), "v" + std::to_string(i));
  w.flush();
  rill::streams_builder b;
  b.stream<std::string, std::string>(in)
      .process_values([] { return std::make_unique<slow>(); })
      .to(out);
  rill::config cfg = c.app_config(unique("slow"));
  cfg.set("buffered.records.per.partition", "200");
  rill::streams_app app(b.build(), cfg);
  app.start();
  std::uint64_t most = 0;
  ASSERT_TRUE(wait_for(
      [&] {
        most = std::max(most, app.counters().buffered);
        return app.counters().processed >= 5000;
      },
      120s, 10ms));
  // One poll fetches at most 1000 records past the limit before the pause takes effect.
  EXPECT_LE(most, 200u + 1000u) << "20 000 records were available";
  EXPECT_GT(app.counters().pauses, 0u);
  EXPECT_TRUE(app.close());
}

TEST(app, records_of_a_task_are_processed_in_timestamp_order_across_its_partitions) {
  cluster c;
  const std::string left = unique("ts-left");
  const std::string right = unique("ts-right");
  const std::string out = unique("ts-out");
  for (const auto& t : {left, right, out}) c.create_topic(t, 1);
  rill::topic_writer<std::string, std::string> w(c.bootstrap(), c.props());
  for (int i = 0; i < 200; ++i) {
    w.send(left, "k", "l" + std::to_string(i), 1000 + 2 * i);       // even timestamps
    w.send(right, "k", "r" + std::to_string(i), 1000 + 2 * i + 1);  // odd timestamps
  }
  w.flush();
  rill::streams_builder b;
  b.stream<std::string, std::string>(left).merge(b.stream<std::string, std::string>(right)).to(out);
  rill::config cfg = c.app_config(unique("ts"));
  cfg.set("max.task.idle.ms", "2000");  // wait for the other partition rather than run ahead
  rill::streams_app app(b.build(), cfg);
  app.start();
  auto got =
      rill::topic_reader<std::string, std::string>(c.bootstrap(), out, c.props()).read(400, 60s);
  ASSERT_EQ(got.size(), 400u);
  for (std::size_t i = 1; i < got.size(); ++i) {
    ASSERT_LT(got[i - 1].timestamp, got[i].timestamp)
        << "at " << i << ": " << got[i - 1].value << " then " << got[i].value;
  }
  EXPECT_TRUE(app.close());
}

TEST(app, creates_its_repartition_topic_and_runs_both_subtopologies) {
  cluster c;
  const std::string in = unique("rep-in");
  const std::string out = unique("rep-out");
  const std::string app_id = unique("rep");
  c.create_topic(in, 2);
  c.create_topic(out, 3);
  rill::topic_writer<std::string, std::string> w(c.bootstrap(), c.props());
  for (int i = 0; i < 300; ++i) w.send(in, "k" + std::to_string(i), "g" + std::to_string(i % 7));
  w.flush();
  rill::streams_builder b;
  b.stream<std::string, std::string>(in)
      .select_key([](const std::string&, const std::string& v) { return v; })
      .repartition({.name = "by-group", .partitions = 3})
      .to(out);
  rill::streams_app app(b.build(), c.app_config(app_id));
  app.start();
  auto got =
      rill::topic_reader<std::string, std::string>(c.bootstrap(), out, c.props()).read(300, 60s);
  ASSERT_EQ(got.size(), 300u);
  for (const auto& r : got) {
    EXPECT_EQ(r.key, r.value);
    EXPECT_EQ(r.partition, rill::runtime::default_partition(rill::as_bytes(r.key), 3));
  }
  // The internal topic exists with the partitions it was given and carried every record.
  auto internal = rill::topic_reader<std::string, std::string>(
                      c.bootstrap(), app_id + "-by-group-repartition", c.props())
                      .read(300, 30s);
  EXPECT_EQ(internal.size(), 300u);
  std::set<std::int32_t> partitions;
  for (const auto& r : internal) partitions.insert(r.partition);
  EXPECT_EQ(partitions, (std::set<std::int32_t>{0, 1, 2}));
  EXPECT_TRUE(app.close());
}

TEST(app, several_stream_threads_share_the_partitions) {
  cluster c;
  const std::string in = unique("threads-in");
  const std::string out = unique("threads-out");
  c.create_topic(in, 4);
  c.create_topic(out, 4);
  rill::topic_writer<std::string, std::string> w(c.bootstrap(), c.props());
  for (int i = 0; i < 1000; ++i) w.send(in, "k" + std::to_string(i), "v" + std::to_string(i));
  w.flush();
  // Records the thread that processed them.
  rill::streams_builder b;
  b.stream<std::string, std::string>(in)
      .map_values([](std::string v) {
        std::ostringstream id;
        id << std::this_thread::get_id();
        return v + "@" + id.str();
      })
      .to(out);
  rill::config cfg = c.app_config(unique("threads"));
  cfg.set("num.stream.threads", "2");
  rill::streams_app app(b.build(), cfg);
  app.start();
  auto got =
      rill::topic_reader<std::string, std::string>(c.bootstrap(), out, c.props()).read(1000, 60s);
  ASSERT_EQ(got.size(), 1000u);
  std::set<std::string> threads;
  for (const auto& r : got) threads.insert(r.value.substr(r.value.find('@') + 1));
  EXPECT_EQ(threads.size(), 2u) << "both threads got partitions";
  EXPECT_TRUE(app.close());
}

// The other instance leaves, and this one is closed while the group hands out the partitions
// again: the grant that arrives during the close must be answered, or the close never ends.
TEST(app, an_instance_closed_while_its_group_rebalances_stops) {
  cluster c;
  const std::string in = unique("leave-in");
  c.create_topic(in, 4);
  const std::string app_id = unique("leave");
  for (int round = 0; round < 2; ++round) {
    rill::streams_app a(pass_through(in, unique("leave-out")), c.app_config(app_id));
    rill::streams_app b(pass_through(in, unique("leave-out")), c.app_config(app_id));
    a.start();
    b.start();
    ASSERT_TRUE(wait_for(
        [&] {
          return a.state() == rill::app_state::running && b.state() == rill::app_state::running;
        },
        60s));
    ASSERT_TRUE(a.close());
    // Odd rounds: b is closed at once, and hears of the rebalance while it closes. Even rounds:
    // b has heard of it (its partitions are revoked) and is closed in the middle of it.
    if (round % 2 == 0) {
      ASSERT_TRUE(wait_for([&] { return b.state() == rill::app_state::rebalancing; }, 60s));
    }
    const auto started = std::chrono::steady_clock::now();
    EXPECT_TRUE(b.close(90s)) << "round " << round;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 60s) << "round " << round;
  }
}
