// Every stateless DSL operation, run on the test driver: records out (keys, values,
// timestamps, headers), as a user of the operation would check them.
#include <gtest/gtest.h>

#include <ranges>
#include <set>
#include <sstream>

#include <rill/streams_builder.hpp>
#include <rill/testing/test_driver.hpp>

#include "src/runtime/partitioner.hpp"

using rill::testing::test_driver;
using rill::testing::test_record;
using kv = rill::key_value<std::string, std::string>;

namespace {

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Builds a topology from `make` applied to a string->string stream of topic "in".
template <class F>
rill::topology one_input(F make) {
  rill::streams_builder b;
  make(b.stream<std::string, std::string>("in"));
  return b.build();
}

}  // namespace

TEST(stateless, filter_and_filter_not_keep_and_drop) {
  auto t = one_input([](auto s) {
    s.filter([](const std::string& k, const std::string&) {
       return k.starts_with("a");
     }).to("kept");
    s.filter_not([](const std::string& k, const std::string&) {
       return k.starts_with("a");
     }).to("dropped");
  });
  test_driver d(t);
  auto in = d.input_topic<std::string, std::string>("in");
  in.pipe("apple", "1");
  in.pipe("banana", "2");
  in.pipe("avocado", "3");
  EXPECT_EQ((d.output_topic<std::string, std::string>("kept").read_key_values_to_list()),
            (std::vector<kv>{{"apple", "1"}, {"avocado", "3"}}));
  EXPECT_EQ((d.output_topic<std::string, std::string>("dropped").read_key_values_to_list()),
            (std::vector<kv>{{"banana", "2"}}));
}

TEST(stateless, map_values_changes_type_and_keeps_key_timestamp_headers) {
  auto t = one_input([](auto s) {
    s.map_values([](const std::string& v) { return static_cast<std::int64_t>(v.size()); })
        .map_values(
            [](const std::string& k, std::int64_t n) { return k + ":" + std::to_string(n * 2); })
        .to("out");
  });
  test_driver d(t);
  auto in = d.input_topic<std::string, std::string>("in");
  in.pipe(test_record<std::string, std::string>{"k", "hello", 42, rill::headers{{"trace", "t-1"}}});
  auto r = d.output_topic<std::string, std::string>("out").read_record();
  EXPECT_EQ(r.key, "k");
  EXPECT_EQ(r.value, "k:10");
  EXPECT_EQ(r.timestamp, 42);
  EXPECT_EQ(r.headers.get("trace"), "t-1");
}

TEST(stateless, map_and_select_key_change_keys_and_types) {
  auto t = one_input([](auto s) {
    s.map([](const std::string& k, std::string v) {
       return std::pair{std::int32_t(v.size()), k + v};
     }).to("pairs");
    s.map([](const std::string& k, const std::string& v) {
       return rill::key_value{v, k};
     }).to("swapped");
    s.select_key([](const std::string&, const std::string& v) {
       return v.substr(0, 1);
     }).to("first-letter");
  });
  test_driver d(t);
  d.input_topic<std::string, std::string>("in").pipe("k", "xyz", 5);
  auto p = d.output_topic<std::int32_t, std::string>("pairs").read_record();
  EXPECT_EQ(p.key, 3);
  EXPECT_EQ(p.value, "kxyz");
  EXPECT_EQ(p.timestamp, 5);
  EXPECT_EQ((d.output_topic<std::string, std::string>("swapped").read_key_value()),
            (kv{"xyz", "k"}));
  EXPECT_EQ((d.output_topic<std::string, std::string>("first-letter").read_key_value()),
            (kv{"x", "xyz"}));
}

TEST(stateless, flat_map_values_takes_any_range) {
  auto t = one_input([](auto s) {
    s.flat_map_values([](const std::string& line) { return words(line); }).to("words");
    // A lazy view, not a container; with the key.
    s.flat_map_values([](const std::string& k, const std::string& line) {
       return std::views::iota(0, static_cast<int>(line.size())) |
              std::views::transform([k](int i) { return k + std::to_string(i); });
     }).to("indexes");
  });
  test_driver d(t);
  auto in = d.input_topic<std::string, std::string>("in");
  in.pipe("k1", "the cat sat", 7);
  in.pipe("k2", "", 8);
  auto w = d.output_topic<std::string, std::string>("words").read_records_to_list();
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].value, "the");
  EXPECT_EQ(w[2].value, "sat");
  for (const auto& r : w) {
    EXPECT_EQ(r.key, "k1");
    EXPECT_EQ(r.timestamp, 7);
  }
  EXPECT_EQ((d.output_topic<std::string, std::string>("indexes").read_values_to_list().size()),
            11u);
}

TEST(stateless, flat_map_emits_new_keys) {
  auto t = one_input([](auto s) {
    s.flat_map([](const std::string&, const std::string& line) {
       std::vector<std::pair<std::string, std::int64_t>> out;
       for (auto& w : words(line)) out.emplace_back(w, 1);
       return out;
     }).to("out");
  });
  test_driver d(t);
  d.input_topic<std::string, std::string>("in").pipe("ignored", "a b a");
  auto out = d.output_topic<std::string, std::int64_t>("out").read_key_values_to_list();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].key, "a");
  EXPECT_EQ(out[1].key, "b");
  EXPECT_EQ(out[2].value, 1);
}

TEST(stateless, peek_and_foreach_see_every_record) {
  std::vector<std::string> peeked;
  std::vector<std::string> seen;
  auto t = one_input([&](auto s) {
    s.peek([&](const std::string& k, const std::string&) {
       peeked.push_back(k);
     }).foreach ([&](const std::string& k, const std::string& v) { seen.push_back(k + "=" + v); });
  });
  test_driver d(t);
  auto in = d.input_topic<std::string, std::string>("in");
  in.pipe("a", "1");
  in.pipe("b", "2");
  EXPECT_EQ(peeked, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(seen, (std::vector<std::string>{"a=1", "b=2"}));
}

TEST(stateless, map_record_reads_and_writes_timestamps_and_headers) {
  auto t = one_input([](auto s) {
    s.map_record([](rill::record<std::string, std::string> r) {
       std::string seen = std::string(r.headers.get("source").value_or("none"));
       r.headers.remove("source").add("hops", "1");
       r.timestamp += 1000;
       return std::move(r).with(r.key + "!", seen);
     }).to("out");
  });
  test_driver d(t);
  d.input_topic<std::string, std::string>("in").pipe(
      test_record<std::string, std::string>{"k", "v", 5, rill::headers{{"source", "web"}}});
  auto r = d.output_topic<std::string, std::string>("out").read_record();
  EXPECT_EQ(r.key, "k!");
  EXPECT_EQ(r.value, "web");
  EXPECT_EQ(r.timestamp, 1005);
  EXPECT_FALSE(r.headers.get("source"));
  EXPECT_EQ(r.headers.get("hops"), "1");
}

TEST(stateless, split_routes_to_the_first_matching_branch) {
  std::map<std::string, rill::stream<std::string, std::int32_t>> branches;
  std::vector<std::int32_t> via_consumer;
  rill::streams_builder b;
  auto numbers = b.stream<std::string, std::int32_t>("in");
  branches = numbers.split(rill::named("route-"))
                 .branch([](const std::string&, std::int32_t v) { return v < 0; }, {"negative"})
                 .branch([](const std::string&, std::int32_t v) { return v == 0; },
                         {"zero",
                          [&](rill::stream<std::string, std::int32_t> s) {
                            s.foreach ([&](const std::string&, std::int32_t v) {
                              via_consumer.push_back(v);
                            });
                          }})
                 .branch([](const std::string&, std::int32_t v) { return v > 100; })
                 .default_branch();
  ASSERT_EQ(branches.size(), 3u);
  ASSERT_TRUE(branches.contains("route-negative"));
  ASSERT_TRUE(branches.contains("route-3")) << "unnamed branch: prefix + 1-based position";
  ASSERT_TRUE(branches.contains("route-0")) << "default branch";
  branches.at("route-negative").to("negative");
  branches.at("route-3").to("big");
  branches.at("route-0").to("rest");
  test_driver d(b.build());
  auto in = d.input_topic<std::string, std::int32_t>("in");
  for (std::int32_t v : {-5, 0, 500, 7, -1, 101, 0}) in.pipe("k", v);
  EXPECT_EQ((d.output_topic<std::string, std::int32_t>("negative").read_values_to_list()),
            (std::vector<std::int32_t>{-5, -1}));
  EXPECT_EQ((d.output_topic<std::string, std::int32_t>("big").read_values_to_list()),
            (std::vector<std::int32_t>{500, 101}));
  EXPECT_EQ((d.output_topic<std::string, std::int32_t>("rest").read_values_to_list()),
            (std::vector<std::int32_t>{7}));
  EXPECT_EQ(via_consumer, (std::vector<std::int32_t>{0, 0}));
}

TEST(stateless, split_without_default_drops_unmatched_records) {
  rill::streams_builder b;
  auto branches = b.stream<std::string, std::int32_t>("in")
                      .split()
                      .branch([](const std::string&, std::int32_t v) { return v % 2 == 0; })
                      .no_default_branch();
  ASSERT_EQ(branches.size(), 1u);
  branches.begin()->second.to("even");
  EXPECT_EQ(branches.begin()->first, "split-0001-1");
  test_driver d(b.build());
  auto in = d.input_topic<std::string, std::int32_t>("in");
  for (std::int32_t v : {1, 2, 3, 4}) in.pipe("k", v);
  EXPECT_EQ((d.output_topic<std::string, std::int32_t>("even").read_values_to_list()),
            (std::vector<std::int32_t>{2, 4}));
  EXPECT_EQ(d.counters().processed, 4u);
}

TEST(stateless, merge_interleaves_by_timestamp) {
  rill::streams_builder b;
  auto left = b.stream<std::string, std::string>("left");
  auto right =
      b.stream<std::string, std::string>("right").map_values([](std::string v) { return v + "'"; });
  left.merge(right).to("merged");
  test_driver d(b.build());
  auto l = d.input_topic<std::string, std::string>("left");
  auto r = d.input_topic<std::string, std::string>("right");
  l.pipe("k", "l1", 1);
  r.pipe("k", "r1", 2);
  l.pipe("k", "l2", 3);
  EXPECT_EQ((d.output_topic<std::string, std::string>("merged").read_values_to_list()),
            (std::vector<std::string>{"l1", "r1'", "l2"}));
}

// Tags each value with the id of the task that processed it.
struct tag_task : rill::fixed_key_processor<std::string, std::string, std::string> {
  context_type* ctx = nullptr;
  void init(context_type& c) override { ctx = &c; }
  void process(rill::fixed_key_record<std::string, std::string> r) override {
    std::string v = r.value + "@" + ctx->task_id().to_string();
    ctx->forward(std::move(r).with_value(std::move(v)));
  }
};

TEST(stateless, repartition_runs_downstream_in_a_new_subtopology_by_the_new_key) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in")
      .select_key([](const std::string&, const std::string& v) { return v; })
      .repartition({.name = "by-value", .partitions = 4})
      .process_values([] { return std::make_unique<tag_task>(); })
      .to("out");
  test_driver d(b.build(), {.partitions = {{"in", 2}}});
  EXPECT_EQ(d.partition_count(d.internal_topic_name("by-value-repartition")), 4);
  EXPECT_EQ(d.internal_topic_name("by-value-repartition"), "test-driver-by-value-repartition");
  EXPECT_EQ(d.tasks().size(), 6u) << "2 tasks read 'in', 4 read the repartition topic";
  auto in = d.input_topic<std::string, std::string>("in");
  for (int i = 0; i < 20; ++i) in.pipe("k" + std::to_string(i), "v" + std::to_string(i % 5), i);
  auto out = d.output_topic<std::string, std::string>("out").read_records_to_list();
  ASSERT_EQ(out.size(), 20u);
  std::set<std::string> keys;
  for (const auto& r : out) {
    keys.insert(r.key);
    // The record went through the repartition topic partition its new key hashes to, and
    // the task of subtopology 1 for that partition processed it.
    const auto p = rill::runtime::default_partition(rill::as_bytes(r.key), 4);
    EXPECT_EQ(r.value, r.key + "@1_" + std::to_string(p));
  }
  EXPECT_EQ(keys.size(), 5u);
}

TEST(stateless, to_with_topic_chooser_and_partitioner) {
  auto t = one_input([](auto s) {
    s.to([](const std::string& k, const std::string&, const rill::record_context& rc) {
      return k + "-events-from-" + std::string(rc.topic);
    });
    rill::produced<std::string, std::string> p;
    p.partitioner = [](std::string_view topic, const std::string& k, const std::string&,
                       std::int32_t n) -> std::optional<std::int32_t> {
      if (topic != "partitioned") throw std::logic_error("wrong topic");
      if (k == "default") return std::nullopt;
      return static_cast<std::int32_t>(k.size()) % n;
    };
    s.to("partitioned", p);
  });
  test_driver d(t, {.partitions = {{"partitioned", 3}}});
  auto in = d.input_topic<std::string, std::string>("in");
  in.pipe("click", "1");
  in.pipe("view", "2");
  in.pipe("default", "3");
  EXPECT_EQ((d.output_topic<std::string, std::string>("click-events-from-in").read_value()), "1");
  EXPECT_EQ((d.output_topic<std::string, std::string>("view-events-from-in").read_value()), "2");
  auto parts = d.output_topic<std::string, std::string>("partitioned").read_records_to_list();
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].partition, 5 % 3);
  EXPECT_EQ(parts[1].partition, 4 % 3);
  EXPECT_EQ(parts[2].partition, rill::runtime::default_partition(rill::as_bytes("default"), 3))
      << "nullopt from the partitioner means Kafka's default (murmur2 of the key)";
}

TEST(stateless, a_partitioner_choosing_a_missing_partition_fails_the_task) {
  auto t = one_input([](auto s) {
    s.to("out", rill::produced<std::string, std::string>{
                    .partitioner = [](std::string_view, const std::string&, const std::string&,
                                      std::int32_t) -> std::optional<std::int32_t> { return 9; }});
  });
  test_driver d(t, {.partitions = {{"out", 2}}});
  try {
    d.input_topic<std::string, std::string>("in").pipe("k", "v");
    FAIL() << "expected streams_error";
  } catch (const rill::streams_error& e) {
    EXPECT_NE(
        std::string(e.what()).find("partitioner chose partition 9 of topic 'out', which has 2"),
        std::string::npos)
        << e.what();
  }
}

TEST(stateless, keyless_streams_read_and_write_null_keys) {
  rill::streams_builder b;
  b.stream<void, std::string>("in").map_values([](std::string v) { return v + v; }).to("out");
  test_driver d(b.build(), {.partitions = {{"out", 2}}});
  auto in = d.input_topic<void, std::string>("in");
  in.pipe_value_list({"a", "b", "c"});
  auto out = d.output_topic<void, std::string>("out").read_records_to_list();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].value, "aa");
  // Null keys are spread round robin, as a producer without a key would.
  EXPECT_NE(out[0].partition, out[1].partition);
}

TEST(stateless, same_input_same_output_every_run) {
  auto run = [] {
    rill::streams_builder b;
    b.stream<std::string, std::string>("in")
        .flat_map_values([](const std::string& l) { return words(l); })
        .select_key([](const std::string&, const std::string& w) { return w; })
        .repartition({.partitions = 3})
        .to("out");
    test_driver d(b.build(), {.partitions = {{"in", 2}, {"out", 3}}});
    auto in = d.input_topic<std::string, std::string>("in", rill::default_serde<std::string>(),
                                                      rill::default_serde<std::string>(), 1000,
                                                      std::chrono::milliseconds(10));
    for (int i = 0; i < 50; ++i)
      in.pipe("line" + std::to_string(i % 7), "a b c d e f " + std::to_string(i));
    std::vector<std::tuple<std::string, std::int32_t, rill::timestamp_ms>> out;
    for (auto& r : d.output_topic<std::string, std::string>("out").read_records_to_list()) {
      out.emplace_back(r.key, r.partition, r.timestamp);
    }
    return out;
  };
  auto first = run();
  EXPECT_EQ(first.size(), 350u);
  EXPECT_EQ(first, run());
}
