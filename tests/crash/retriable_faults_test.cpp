// Calls that fail with a retriable error are tried again, not fatal to the stream thread:
// initializing transactions (each new producer) and reading where the changelogs end (each
// task that restores). Kafka Streams retries both until task.timeout.ms.
#include <gtest/gtest.h>

#include <map>

#include "crash_suite.hpp"
#include "examples/word_count/word_count.hpp"

namespace {

using rill::crash::decode_int64;
using rill::sim::point;

TEST(retriable_faults, failed_init_transactions_and_end_offsets_are_retried_not_fatal) {
  rill::set_log_level(rill::log_level::off);
  rill::crash::settings s;
  s.crash = 0;    // only the crash the schedule forces, so that instance starts again
  s.fail = 0.05;  // 0.5 at these points, called about once per producer or task start
  s.pause = 0;
  s.only = {point::init_transactions, point::end_offsets, point::committed_offsets};
  rill::crash::run r(word_count::topology(),
                     rill::config{{"application.id", "retry"},
                                  {"processing.guarantee", "exactly_once_v2"},
                                  {"statestore.cache.max.bytes", "0"}},
                     /*seed=*/5, s, /*faults=*/true);
  r.create_topics({{"text-input", 2}});
  r.create_output_topic("word-count-output", 2);
  std::map<std::string, std::int64_t> want;
  int n = 0;
  for (const auto& line : rill::crash::suite::lines()) {
    r.add_input("text-input", rill::to_bytes("line-" + std::to_string(n++)), rill::to_bytes(line));
    for (const auto& w : word_count::words(line)) ++want[w];
  }
  ASSERT_TRUE(r.execute()) << r.report();
  EXPECT_EQ(r.unexpected(), std::vector<std::string>{}) << r.report();
  EXPECT_GT(r.injector().fired(point::init_transactions).failures, 0u);
  EXPECT_GT(r.injector().fired(point::end_offsets).failures, 0u);
  EXPECT_GT(r.injector().fired(point::committed_offsets).failures, 0u);
  std::map<std::string, std::int64_t> got;
  for (const auto& rec : r.cluster().read_committed("word-count-output"))
    got[std::string(rill::as_chars(*rec.key))] = decode_int64(rec.value);
  EXPECT_EQ(got, want) << "every word counted once, exactly";
  r.stop();
}

}  // namespace
