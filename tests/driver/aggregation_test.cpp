// Aggregations and tables on the test driver: count, reduce, aggregate, tables from topics
// with tombstones, table filter/map_values/to_stream, re-aggregation with subtractors, the
// record cache, and stores in the processor API.
#include <gtest/gtest.h>

#include <rill/rill.hpp>
#include <rill/testing/test_driver.hpp>

#include "examples/word_count/word_count.hpp"

using rill::testing::test_driver;
using counts = std::map<std::string, std::int64_t>;

namespace {
rill::testing::driver_options no_cache() {
  return {.config = {{"statestore.cache.max.bytes", "0"}}};
}
}  // namespace

TEST(aggregation, word_count_as_the_design_writes_it) {
  test_driver driver(word_count::topology());
  auto in = driver.input_topic<std::string, std::string>("text-input");
  auto out = driver.output_topic<std::string, std::int64_t>("word-count-output");
  in.pipe("k1", "the cat and the hat");
  EXPECT_EQ(out.read_key_values_to_map().at("the"), 2);
  in.pipe("k2", "The end.");
  EXPECT_EQ(out.read_key_values_to_map(), (counts{{"end", 1}, {"the", 3}}));
}

TEST(aggregation, count_emits_every_update_without_cache_and_once_per_commit_with_it) {
  for (bool cached : {false, true}) {
    rill::streams_builder b;
    b.stream<std::string, std::string>("in")
        .group_by_key()
        .count(rill::materialized<std::string, std::int64_t>{.name = "c", .caching = cached})
        .to_stream()
        .to("out");
    test_driver driver(b.build());
    auto in = driver.input_topic<std::string, std::string>("in");
    auto out = driver.output_topic<std::string, std::int64_t>("out");
    // The driver commits after each piped record, so the cache shows its merging within
    // one record's work: here a flat_map-free stream gives one update per record.
    in.pipe("a", "x");
    in.pipe("a", "y");
    in.pipe("b", "z");
    auto got = out.read_key_values_to_list();
    ASSERT_EQ(got.size(), 3u) << "cached=" << cached;
    EXPECT_EQ(got[1].value, 2);
    auto changelog =
        driver.output_topic<std::string, std::int64_t>(driver.internal_topic_name("c-changelog"));
    EXPECT_EQ(changelog.read_key_values_to_map(), (counts{{"a", 2}, {"b", 1}}));
  }
}

TEST(aggregation, the_cache_merges_updates_to_a_key_within_a_commit) {
  auto topology = [](bool cached) {
    rill::streams_builder b;
    b.stream<std::string, std::string>("in")
        .flat_map_values([](const std::string& s) { return word_count::words(s); })
        .group_by([](const std::string&, const std::string& w) { return w; })
        .count(rill::materialized<std::string, std::int64_t>{.name = "c", .caching = cached})
        .to_stream()
        .to("out");
    return b.build();
  };
  test_driver uncached(topology(false));
  uncached.input_topic<std::string, std::string>("in").pipe("k", "a a a a b");
  EXPECT_EQ((uncached.output_topic<std::string, std::int64_t>("out").queue_size()), 5u);
  EXPECT_EQ(
      (uncached.output_topic<std::string, std::int64_t>(uncached.internal_topic_name("c-changelog"))
           .queue_size()),
      5u);

  test_driver cached(topology(true));
  cached.input_topic<std::string, std::string>("in").pipe("k", "a a a a b");
  auto out = cached.output_topic<std::string, std::int64_t>("out").read_key_values_to_list();
  ASSERT_EQ(out.size(), 2u) << "one update per key per commit";
  EXPECT_EQ(out[0].key, "a");
  EXPECT_EQ(out[0].value, 4);
  EXPECT_EQ(
      (cached.output_topic<std::string, std::int64_t>(cached.internal_topic_name("c-changelog"))
           .queue_size()),
      2u);
}

TEST(aggregation, reduce_and_aggregate_with_their_own_types) {
  rill::streams_builder b;
  auto grouped = b.stream<std::string, std::int32_t>("amounts").group_by_key();
  grouped
      .reduce([](std::int32_t agg, std::int32_t v) { return std::max(agg, v); }, rill::named("max"))
      .to_stream()
      .to("max-out");
  grouped
      .aggregate([] { return std::string(); },
                 [](const std::string&, std::int32_t v, std::string agg) {
                   return agg + std::to_string(v) + ";";
                 },
                 rill::materialized<std::string, std::string>{.name = "history",
                                                              .type = rill::store_type::in_memory})
      .to_stream()
      .to("history-out");
  test_driver driver(b.build(), no_cache());
  auto in = driver.input_topic<std::string, std::int32_t>("amounts");
  in.pipe("a", 5);
  in.pipe("a", 3);
  in.pipe("a", 9);
  in.pipe("b", -1);
  auto max = driver.output_topic<std::string, std::optional<std::int32_t>>("max-out")
                 .read_values_to_list();
  EXPECT_EQ(max, (std::vector<std::optional<std::int32_t>>{5, 5, 9, -1}));
  auto history =
      driver.output_topic<std::string, std::string>("history-out").read_key_values_to_map();
  EXPECT_EQ(history.at("a"), "5;3;9;");
  EXPECT_EQ(history.at("b"), "-1;");
}

TEST(aggregation, group_by_key_after_a_key_change_repartitions) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in")
      .map([](const std::string&, const std::string& v) {
        return std::pair{v.substr(0, 1), v};
      })
      .group_by_key(rill::grouped<std::string, std::string>{.name = "by-initial"})
      .count()
      .to_stream()
      .to("out");
  auto t = b.build();
  EXPECT_NE(t.describe().find("Sink: by-initial-repartition-sink (topic: by-initial-repartition)"),
            std::string::npos)
      << t.describe();
  test_driver driver(t, {.partitions = {{"in", 3}}});
  auto in = driver.input_topic<std::string, std::string>("in");
  for (std::string w : {"apple", "avocado", "banana", "apricot", "blueberry"}) in.pipe(w, w);
  EXPECT_EQ((driver.output_topic<std::string, std::int64_t>("out").read_key_values_to_map()),
            (counts{{"a", 3}, {"b", 2}}));
}

TEST(table, from_a_topic_with_updates_and_tombstones) {
  rill::streams_builder b;
  b.table<std::string, std::string>("users", {.name = "users-store", .caching = false})
      .to_stream()
      .to("users-out");
  test_driver driver(b.build());
  auto in = driver.input_topic<std::string, std::optional<std::string>>("users");
  auto out = driver.output_topic<std::string, std::optional<std::string>>("users-out");
  in.pipe("u1", "ada");
  in.pipe("u2", "bob");
  in.pipe("u1", "ada lovelace");
  in.pipe("u2", std::nullopt);  // tombstone: deletes u2
  in.pipe("u3", std::nullopt);  // deleting what is not there: no update
  auto got = out.read_key_values_to_list();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[2].value, "ada lovelace");
  EXPECT_EQ(got[3].key, "u2");
  EXPECT_EQ(got[3].value, std::nullopt) << "a delete goes downstream as a null value";
}

TEST(table, filter_map_values_and_deletes_downstream) {
  rill::streams_builder b;
  b.table<std::string, std::int64_t>("scores", {.caching = false})
      .filter([](const std::string&, std::int64_t v) { return v >= 10; })
      .map_values([](std::int64_t v) { return "score " + std::to_string(v); })
      .to_stream()
      .to("high");
  test_driver driver(b.build());
  auto in = driver.input_topic<std::string, std::optional<std::int64_t>>("scores");
  auto out = driver.output_topic<std::string, std::optional<std::string>>("high");
  in.pipe("a", 5);   // filtered out: nothing
  in.pipe("a", 12);  // enters
  in.pipe("a", 3);   // leaves: a delete downstream
  in.pipe("b", 20);
  auto got = out.read_key_values_to_list();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].value, "score 12");
  EXPECT_EQ(got[1].key, "a");
  EXPECT_EQ(got[1].value, std::nullopt);
  EXPECT_EQ(got[2].value, "score 20");
}

TEST(table, re_aggregation_retracts_old_values_with_the_subtractor) {
  // Users with a city; count users per city, and sum their ages per city.
  rill::streams_builder b;
  auto users = b.table<std::string, std::string>("user-cities", {.caching = false});
  users
      .group_by([](const std::string& user, const std::string& city) {
        return std::pair{city, user};
      })
      .count(rill::materialized<std::string, std::int64_t>{.name = "per-city", .caching = false})
      .to_stream()
      .to("city-counts");
  test_driver driver(b.build());
  auto in = driver.input_topic<std::string, std::optional<std::string>>("user-cities");
  auto out = driver.output_topic<std::string, std::optional<std::int64_t>>("city-counts");
  in.pipe("ada", "london");
  in.pipe("bob", "london");
  in.pipe("cy", "paris");
  EXPECT_EQ(out.read_key_values_to_map(),
            (std::map<std::string, std::optional<std::int64_t>>{{"london", 2}, {"paris", 1}}));
  in.pipe("bob", "paris");  // moves: london -1, paris +1
  auto moves = out.read_key_values_to_list();
  ASSERT_EQ(moves.size(), 2u);
  EXPECT_EQ(moves[0].key, "london");
  EXPECT_EQ(moves[0].value, 1) << "retracted from the old group first";
  EXPECT_EQ(moves[1].key, "paris");
  EXPECT_EQ(moves[1].value, 2);
  in.pipe("ada", std::nullopt);  // deleted: london -1
  EXPECT_EQ(out.read_key_values_to_map(),
            (std::map<std::string, std::optional<std::int64_t>>{{"london", 0}}));
}

TEST(table, grouped_reduce_and_aggregate_with_adder_and_subtractor) {
  rill::streams_builder b;
  auto balances = b.table<std::string, std::int64_t>("balances", {.caching = false});
  auto by_branch = balances.group_by([](const std::string& account, std::int64_t v) {
    return std::pair{account.substr(0, 2), v};
  });
  by_branch
      .reduce(
          [](std::int64_t agg, std::int64_t v) { return agg + v; },
          [](std::int64_t agg, std::int64_t v) { return agg - v; },
          rill::materialized<std::string, std::int64_t>{.name = "branch-total", .caching = false})
      .to_stream()
      .to("totals");
  by_branch
      .aggregate(
          [] { return std::int64_t{0}; },
          [](const std::string&, std::int64_t v, std::int64_t agg) { return std::max(agg, v); },
          [](const std::string&, std::int64_t, std::int64_t agg) { return agg; },
          rill::materialized<std::string, std::int64_t>{.name = "branch-max", .caching = false})
      .to_stream()
      .to("maxes");
  test_driver driver(b.build());
  auto in = driver.input_topic<std::string, std::optional<std::int64_t>>("balances");
  in.pipe("l1-ada", 100);
  in.pipe("l1-bob", 50);
  in.pipe("l1-ada", 70);  // -100 +70
  in.pipe("p1-cy", 10);
  in.pipe("l1-bob", std::nullopt);  // -50
  auto totals = driver.output_topic<std::string, std::optional<std::int64_t>>("totals")
                    .read_key_values_to_map();
  EXPECT_EQ(totals.at("l1"), 70);
  EXPECT_EQ(totals.at("p1"), 10);
  auto maxes = driver.output_topic<std::string, std::optional<std::int64_t>>("maxes")
                   .read_key_values_to_map();
  EXPECT_EQ(maxes.at("l1"), 100);
}

namespace {
// Keeps a running total per key in a store; a stream-time punctuator writes a snapshot of
// every total and clears them.
struct totals : rill::processor<std::string, std::int64_t, std::string, std::int64_t> {
  context_type* ctx = nullptr;
  rill::key_value_store<std::string, std::int64_t>* store = nullptr;
  void init(context_type& c) override {
    ctx = &c;
    store = &c.get_state_store<rill::key_value_store<std::string, std::int64_t>>("totals");
    c.schedule(std::chrono::milliseconds(100), rill::punctuation_type::stream_time,
               [this](rill::timestamp_ms t) {
                 std::vector<std::string> keys;
                 for (const auto& kv : store->all()) {
                   ctx->forward({"snapshot:" + kv.key, kv.value, t, {}});
                   keys.push_back(kv.key);
                 }
                 for (const auto& k : keys) store->remove(k);
               });
  }
  void process(rill::record<std::string, std::int64_t> r) override {
    std::int64_t sum = store->get(r.key).value_or(0) + r.value;
    store->put(r.key, sum);
  }
};
}  // namespace

TEST(processor_stores, processors_and_punctuators_read_and_write_their_store) {
  rill::streams_builder b;
  b.add_state_store(rill::materialized<std::string, std::int64_t>{.name = "totals"});
  b.stream<std::string, std::int64_t>("in")
      .process([] { return std::make_unique<totals>(); }, {}, {"totals"})
      .to("out");
  test_driver driver(b.build());
  auto in = driver.input_topic<std::string, std::int64_t>("in");
  auto out = driver.output_topic<std::string, std::int64_t>("out");
  in.pipe("a", 1, 0);  // processed, then the punctuation due at 0 fires (as in Kafka Streams)
  EXPECT_EQ(out.read_key_values_to_map(), (counts{{"snapshot:a", 1}}));
  in.pipe("a", 2, 50);
  in.pipe("b", 5, 60);
  in.pipe("b", 1, 100);  // fires: snapshots, then clears
  EXPECT_EQ(out.read_key_values_to_map(), (counts{{"snapshot:a", 2}, {"snapshot:b", 6}}));
  in.pipe("a", 7, 150);
  in.pipe("c", 1, 200);  // fires again: a was cleared before 7 came
  EXPECT_EQ(out.read_key_values_to_map(), (counts{{"snapshot:a", 7}, {"snapshot:c", 1}}));
}

TEST(processor_stores, range_and_prefix_scans_through_the_typed_store) {
  struct scanner : rill::processor<std::string, std::string, std::string, std::string> {
    context_type* ctx = nullptr;
    rill::key_value_store<std::string, std::string>* store = nullptr;
    void init(context_type& c) override {
      ctx = &c;
      store = &c.get_state_store<rill::key_value_store<std::string, std::string>>("kv");
    }
    void process(rill::record<std::string, std::string> r) override {
      if (r.value != "scan") {
        store->put(r.key, r.value);
        return;
      }
      std::string found;
      for (const auto& kv : store->prefix_scan(r.key)) found += kv.key + "=" + kv.value + ",";
      found += "|";
      for (const auto& kv : store->range("b", "c")) found += kv.key + ",";
      ctx->forward({r.key, found, r.timestamp, {}});
    }
  };
  rill::streams_builder b;
  b.add_state_store(rill::materialized<std::string, std::string>{.name = "kv"});
  b.stream<std::string, std::string>("in")
      .process([] { return std::make_unique<scanner>(); }, {}, {"kv"})
      .to("out");
  test_driver driver(b.build());
  auto in = driver.input_topic<std::string, std::string>("in");
  for (std::string k : {"apple", "apricot", "banana", "blue", "c", "cherry"}) in.pipe(k, k + "!");
  in.pipe("ap", "scan");
  EXPECT_EQ((driver.output_topic<std::string, std::string>("out").read_value()),
            "apple=apple!,apricot=apricot!,|banana,blue,c,");
}

TEST(processor_stores, a_store_that_is_not_connected_is_refused_with_its_name) {
  struct sneaky : rill::processor<std::string, std::string, void, void> {
    void init(context_type& c) override {
      c.get_state_store<rill::key_value_store<std::string, std::string>>("kv");
    }
    void process(rill::record<std::string, std::string>) override {}
  };
  rill::streams_builder b;
  b.add_state_store(rill::materialized<std::string, std::string>{.name = "kv"});
  b.stream<std::string, std::string>("in").process([] { return std::make_unique<sneaky>(); },
                                                   rill::named("sneaky"));
  b.stream<std::string, std::string>("other").process([] { return std::make_unique<sneaky>(); },
                                                      rill::named("owner"), {"kv"});
  try {
    test_driver driver(b.build());
    FAIL() << "expected streams_error";
  } catch (const rill::streams_error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "node 'sneaky' asked for store 'kv', which is not connected to it"),
              std::string::npos)
        << e.what();
  }
}

TEST(processor_stores, undeclared_stores_and_missing_serdes_are_topology_errors) {
  struct noop : rill::processor<std::string, std::string, void, void> {
    void process(rill::record<std::string, std::string>) override {}
  };
  rill::streams_builder b;
  b.stream<std::string, std::string>("in").process([] { return std::make_unique<noop>(); },
                                                   rill::named("p"), {"nope"});
  try {
    b.build();
    FAIL();
  } catch (const rill::topology_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "process 'p' uses store 'nope', which is not declared; declare it with "
              "streams_builder::add_state_store(rill::materialized<K, V>{.name = \"nope\"})");
  }
}
