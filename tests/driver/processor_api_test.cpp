// The processor API on the test driver: forwarding to all or one child, metadata,
// punctuators on stream time and wall-clock time, fixed-key processors.
#include <gtest/gtest.h>

#include <rill/streams_builder.hpp>
#include <rill/testing/test_driver.hpp>

using namespace std::chrono_literals;
using rill::testing::test_driver;
using rill::testing::test_record;

namespace {

// Routes "a..." values to child "alpha" only and everything else to every child; counts
// records and emits the count on stream-time and wall-clock punctuation.
class router : public rill::processor<std::string, std::string, std::string, std::string> {
 public:
  void init(context_type& ctx) override {
    _ctx = &ctx;
    ctx.schedule(100ms, rill::punctuation_type::stream_time, [this](rill::timestamp_ms t) {
      _ctx->forward({"stream-tick", std::to_string(_count), t, {}}, "ticks");
    });
    _wall = ctx.schedule(1s, rill::punctuation_type::wall_clock_time, [this](rill::timestamp_ms t) {
      _ctx->forward({"wall-tick", std::to_string(_count), t, {}}, "ticks");
    });
  }
  void process(rill::record<std::string, std::string> r) override {
    ++_count;
    if (r.value == "stop-wall") _wall.cancel();
    auto meta = _ctx->record_metadata();
    r.headers.add("from", meta->topic + "/" + std::to_string(meta->partition) + "@" +
                              std::to_string(meta->offset));
    r.headers.add("stream-time", std::to_string(_ctx->current_stream_time()));
    if (r.value.starts_with("a")) {
      _ctx->forward(std::move(r), "alpha");
    } else {
      r.key = r.key + "/" + r.value;  // a processor may change the key
      _ctx->forward(std::move(r));
    }
  }

 private:
  context_type* _ctx = nullptr;
  rill::cancellable _wall;
  int _count = 0;
};

rill::topology router_topology() {
  rill::streams_builder b;
  auto routed =
      b.stream<std::string, std::string>("in").process([] { return std::make_unique<router>(); });
  routed.to("alpha-out", rill::produced<std::string, std::string>{.name = "alpha"});
  routed.to("ticks-out", rill::produced<std::string, std::string>{.name = "ticks"});
  return b.build();
}

}  // namespace

TEST(processor_api, forwards_to_all_children_or_one_by_name_with_metadata) {
  test_driver d(router_topology());
  auto in = d.input_topic<std::string, std::string>("in");
  in.pipe("k", "apple", 10);
  in.pipe("k", "banana", 20);
  auto alpha = d.output_topic<std::string, std::string>("alpha-out").read_records_to_list();
  auto ticks = d.output_topic<std::string, std::string>("ticks-out").read_records_to_list();
  ASSERT_EQ(alpha.size(), 2u) << "apple to alpha only; banana to every child";
  EXPECT_EQ(alpha[0].key, "k");
  EXPECT_EQ(alpha[0].headers.get("from"), "in/0@0");
  EXPECT_EQ(alpha[0].headers.get("stream-time"), "10");
  EXPECT_EQ(alpha[1].key, "k/banana");
  EXPECT_EQ(alpha[1].headers.get("from"), "in/0@1");
  // ticks-out: the first stream-time punctuation (at 10), then banana.
  ASSERT_EQ(ticks.size(), 2u);
  EXPECT_EQ(ticks[0].key, "stream-tick");
  EXPECT_EQ(ticks[0].value, "1");
  EXPECT_EQ(ticks[0].timestamp, 10);
  EXPECT_EQ(ticks[1].key, "k/banana");
}

TEST(processor_api, stream_time_punctuation_follows_record_timestamps) {
  test_driver d(router_topology());
  auto in = d.input_topic<std::string, std::string>("in");
  auto ticks = d.output_topic<std::string, std::string>("ticks-out");
  in.pipe("k", "a1", 0);  // fires at 0 (aligned to 0), next due 100
  in.pipe("k", "a2", 99);
  in.pipe("k", "a3", 50);  // out of order: stream time stays 99
  EXPECT_EQ(d.stream_time(), 99);
  in.pipe("k", "a4", 100);  // fires at 100
  in.pipe("k", "a5", 450);  // missed 200..400: fires once, at 450
  std::vector<std::pair<std::string, rill::timestamp_ms>> fired;
  for (auto& r : ticks.read_records_to_list()) fired.emplace_back(r.value, r.timestamp);
  EXPECT_EQ(fired, (std::vector<std::pair<std::string, rill::timestamp_ms>>{
                       {"1", 0}, {"4", 100}, {"5", 450}}));
}

TEST(processor_api, wall_clock_punctuation_follows_the_mock_clock_and_can_be_cancelled) {
  test_driver d(router_topology(), {.initial_wall_clock = 5000});
  auto in = d.input_topic<std::string, std::string>("in");
  auto ticks = d.output_topic<std::string, std::string>("ticks-out");
  in.pipe("k", "a", 1);
  ticks.read_records_to_list();  // drop the stream-time tick
  d.advance_wall_clock(999ms);
  EXPECT_TRUE(ticks.is_empty());
  d.advance_wall_clock(1ms);
  auto r = ticks.read_record();
  EXPECT_EQ(r.key, "wall-tick");
  EXPECT_EQ(r.timestamp, 6000);
  d.advance_wall_clock(3500ms);  // fires once for the missed intervals
  EXPECT_EQ(ticks.read_record().timestamp, 9500);
  in.pipe("k", "stop-wall", 2);
  ticks.read_records_to_list();
  d.advance_wall_clock(10s);
  EXPECT_TRUE(ticks.is_empty());
  EXPECT_EQ(d.wall_clock(), 19500);
}

namespace {
struct upper_with_length : rill::fixed_key_processor<std::string, std::string, std::int64_t> {
  context_type* ctx = nullptr;
  void init(context_type& c) override { ctx = &c; }
  void process(rill::fixed_key_record<std::string, std::string> r) override {
    std::int64_t n = static_cast<std::int64_t>(r.value.size());
    r.headers.add("len", std::to_string(n));
    r.timestamp *= 2;
    ctx->forward(r.with_value(n));              // a copy
    ctx->forward(std::move(r).with_value(-n));  // then moved
  }
};
}  // namespace

TEST(processor_api, process_values_keeps_keys_and_may_forward_many) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in")
      .process_values([] { return std::make_unique<upper_with_length>(); }, rill::named("lengths"))
      .to("out");
  auto t = b.build();
  EXPECT_NE(t.describe().find("Processor: lengths"), std::string::npos);
  test_driver d(t);
  d.input_topic<std::string, std::string>("in").pipe("key", "four", 21);
  auto out = d.output_topic<std::string, std::int64_t>("out").read_records_to_list();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].key, "key");
  EXPECT_EQ(out[0].value, 4);
  EXPECT_EQ(out[1].value, -4);
  EXPECT_EQ(out[1].timestamp, 42);
  EXPECT_EQ(out[1].headers.get("len"), "4");
}

namespace {
struct counts_on_close : rill::processor<std::string, std::string, void, void> {
  static inline int closed = 0;
  static inline int created = 0;
  counts_on_close() { ++created; }
  void process(rill::record<std::string, std::string>) override {}
  void close() override { ++closed; }
};
}  // namespace

TEST(processor_api, one_instance_per_task_closed_with_the_driver) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in").process(
      [] { return std::make_unique<counts_on_close>(); });
  counts_on_close::closed = counts_on_close::created = 0;
  {
    test_driver d(b.build(), {.partitions = {{"in", 3}}});
    EXPECT_EQ(counts_on_close::created, 3);
    EXPECT_EQ(counts_on_close::closed, 0);
  }
  EXPECT_EQ(counts_on_close::closed, 3);
}

TEST(processor_api, forwarding_to_an_unknown_child_fails_with_the_names) {
  struct bad : rill::processor<std::string, std::string, std::string, std::string> {
    context_type* ctx = nullptr;
    void init(context_type& c) override { ctx = &c; }
    void process(rill::record<std::string, std::string> r) override {
      ctx->forward(std::move(r), "nope");
    }
  };
  rill::streams_builder b;
  b.stream<std::string, std::string>("in")
      .process([] { return std::make_unique<bad>(); }, rill::named("bad"))
      .to("out");
  test_driver d(b.build());
  try {
    d.input_topic<std::string, std::string>("in").pipe("k", "v");
    FAIL();
  } catch (const rill::streams_error& e) {
    EXPECT_NE(std::string(e.what()).find("processor 'bad' has no child named 'nope'"),
              std::string::npos)
        << e.what();
  }
}
