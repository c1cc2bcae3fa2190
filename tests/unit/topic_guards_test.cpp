// Topics that are not what the app expects, on the simulated cluster: a topic chosen per
// record that does not exist, a changelog holding a record this topology cannot have written,
// and a source topic that grows while the app runs. Each stops the stream thread at once with
// a message naming the topic and the fix; none is retried for task.timeout.ms, skipped or
// left to crash. (Missing sink topics and internal topics of the wrong size at start are in
// tests/integration/topic_guards_test.cpp.)
#include <gtest/gtest.h>

#include <string>

#include <rill/rill.hpp>

#include "../crash/crash_harness.hpp"

namespace {

using namespace std::chrono_literals;

rill::crash::settings one_instance() {
  rill::crash::settings s;
  s.instances = 1;
  return s;
}

// Steps the run until a stream thread dies of something no fault injected, at most `steps`
// steps (5 ms of the logical clock each); its message, or "" if none died.
std::string death_within(rill::crash::run& r, int steps) {
  for (int k = 0; k < steps && r.unexpected().empty(); ++k) r.steps(1);
  return r.unexpected().empty() ? "" : r.unexpected().front();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST(topic_guards, a_topic_chosen_per_record_that_does_not_exist_stops_the_thread_at_once) {
  rill::set_log_level(rill::log_level::error);
  rill::streams_builder b;
  b.stream<std::string, std::string>("in").to(
      [](const std::string& k, const std::string&, const rill::record_context&) {
        return "routed-" + k;
      });
  rill::crash::run r(b.build(), rill::config{{"application.id", "chooser"}}, 1, one_instance(),
                     /*faults=*/false);
  r.create_topics({{"in", 1}});
  r.create_output_topic("routed-there", 1);
  r.add_input("in", rill::to_bytes("there"), rill::to_bytes("v1"));
  r.add_input("in", rill::to_bytes("nowhere"), rill::to_bytes("v2"));
  r.start_instances();
  r.feed_pending();
  // task.timeout.ms (5 minutes) would be 60 000 steps: the thread must not retry.
  const std::string why = death_within(r, 400);
  ASSERT_FALSE(why.empty()) << "the thread kept going\n" << r.report();
  EXPECT_TRUE(contains(why, "cannot send to topic 'routed-nowhere': it does not exist; create it"))
      << why;
  EXPECT_FALSE(contains(why, "task.timeout.ms")) << "failed at once, not after retries: " << why;
}

namespace {

rill::topology windowed_count() {
  rill::streams_builder b;
  b.stream<std::string, std::string>("views")
      .group_by_key()
      .windowed_by(rill::tumbling_window(5min))
      .count(rill::named("per-5min"));
  return b.build();
}

rill::bytes window_key(const std::string& key, std::int64_t start) {
  rill::bytes out = rill::to_bytes(key);
  rill::detail::append_be64(out, start);
  return out;
}

}  // namespace

TEST(topic_guards, a_corrupt_changelog_record_fails_restoration_naming_where_it_is) {
  rill::set_log_level(rill::log_level::error);
  struct corrupt {
    std::optional<rill::bytes> key;
    std::string says;
  };
  for (const corrupt& c : {corrupt{rill::to_bytes("abc"),
                                   "its key has 3 bytes, and keys of store 'per-5min' end in "
                                   "their window's time (8 bytes at least)"},
                           corrupt{std::nullopt, "it has no key (store 'per-5min')"}}) {
    rill::crash::run r(windowed_count(), rill::config{{"application.id", "corrupt"}}, 1,
                       one_instance(), /*faults=*/false);
    r.create_topics({{"views", 1}});
    const std::string changelog = "corrupt-per-5min-changelog";
    // A record as the store writes it, then one it cannot have written.
    r.cluster().produce(changelog, 0, window_key("ann", 0), rill::to_bytes("12345678"), 0);
    r.cluster().produce(changelog, 0, c.key, rill::to_bytes("12345678"), 0);
    r.start_instances();
    const std::string why = death_within(r, 400);
    ASSERT_FALSE(why.empty()) << "restoration went on\n" << r.report();
    EXPECT_TRUE(contains(why,
                         "task 0_0: cannot restore: the changelog record at offset 1 of topic "
                         "'corrupt-per-5min-changelog' partition 0 is corrupt: " +
                             c.says))
        << why;
    EXPECT_TRUE(contains(why,
                         "The changelog is not one this topology wrote; reset the "
                         "application (rill reset) or delete the topic"))
        << why;
  }
}

TEST(topic_guards, a_source_topic_that_grows_while_the_app_runs_stops_the_thread) {
  rill::set_log_level(rill::log_level::error);
  rill::streams_builder b;
  b.stream<std::string, std::string>("clicks").group_by_key().count(rill::named("clicks-per-user"));
  rill::crash::run r(b.build(), rill::config{{"application.id", "grow"}}, 1, one_instance(),
                     /*faults=*/false);
  r.create_topics({{"clicks", 2}});
  for (int i = 0; i < 20; ++i)
    r.add_input("clicks", rill::to_bytes("user-" + std::to_string(i)), rill::to_bytes("c"));
  r.start_instances();
  r.feed_pending();
  ASSERT_TRUE(r.drain()) << r.report();
  ASSERT_TRUE(r.unexpected().empty()) << r.report();

  r.cluster().add_partitions("clicks", 4);
  const std::string why = death_within(r, 400);
  ASSERT_FALSE(why.empty()) << "the app took the new partitions\n" << r.report();
  EXPECT_TRUE(contains(why,
                       "topic 'clicks' has grown from 2 to 4 partitions since the app "
                       "started (it was assigned clicks-2)"))
      << why;
  EXPECT_TRUE(contains(why, "reset it (rill reset)")) << why;
  EXPECT_TRUE(contains(why, "repartition the topic into a new one with 2 partitions")) << why;
  // No task was made for a partition whose changelog partition does not exist.
  EXPECT_EQ(r.cluster().partitions("grow-clicks-per-user-changelog"), 2);
}
