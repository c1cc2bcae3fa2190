// Calls that fail with a retriable error are tried again, not fatal to the stream thread:
// initializing transactions (each new producer) and reading where the changelogs end (each
// task that restores). Kafka Streams retries both until task.timeout.ms.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <string>
#include <vector>

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

namespace {

// Ambiguous outcomes of a transaction's commit and of produce (docs/exactly-once.md, "The
// fault model"): a commit that went through but whose answer was lost is retried and found
// done, not applied twice; a commit that stalls is retried until task.timeout.ms, then
// aborted and its input reprocessed; a produce whose answer was lost is retried and refused
// by its sequence, or times out inside the transaction, which is aborted; a produce held back
// reaches its leader at the next commit or after a rebalance; a produce refused at its leader
// fails the transaction's commit, which is aborted. Every word still counts once.
TEST(retriable_faults, ambiguous_commit_and_produce_outcomes_leave_every_count_exact) {
  rill::set_log_level(rill::log_level::off);
  rill::crash::settings s;
  s.crash = 0;    // only the crash the schedule forces
  s.fail = 0.03;  // 0.3 a commit (called about once per commit interval), 0.03 a produce
  s.pause = 0;
  s.only = {point::commit_transaction, point::produce};
  rill::crash::run r(word_count::topology(),
                     rill::config{{"application.id", "ambiguous"},
                                  {"processing.guarantee", "exactly_once_v2"},
                                  {"statestore.cache.max.bytes", "0"}},
                     /*seed=*/11, s, /*faults=*/true);
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
  const auto& commits = r.injector().fired(point::commit_transaction);
  const auto& produces = r.injector().fired(point::produce);
  EXPECT_GT(commits.lost_answers, 0u);
  EXPECT_GT(commits.stalls, 0u);
  EXPECT_GT(produces.lost_answers, 0u);
  EXPECT_GT(produces.late, 0u);
  const auto c = r.cluster().stats();
  EXPECT_GT(c.commits_found_done, 0u) << "a commit retried after its answer was lost was done";
  EXPECT_GT(c.stalls_aborted, 0u) << "a stalled commit was retried to its end and aborted";
  EXPECT_GT(c.duplicates_refused, 0u) << "an idempotent retry was refused by its sequence";
  EXPECT_GT(c.timed_out_deliveries, 0u) << "a delivery timed out although appended";
  EXPECT_GT(c.late_appended, 0u) << "a produce held back reached its leader later";
  EXPECT_GT(c.failed_deliveries, 0u) << "a record refused at its leader after its send succeeded";
  std::cout << r.stats_line() << std::endl;
  std::map<std::string, std::vector<std::int64_t>> got;
  for (const auto& rec : r.cluster().read_committed("word-count-output"))
    got[std::string(rill::as_chars(*rec.key))].push_back(decode_int64(rec.value));
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [word, count] : want) {
    std::vector<std::int64_t> once;
    for (std::int64_t k = 1; k <= count; ++k) once.push_back(k);
    EXPECT_EQ(got.at(word), once) << word << ": every update once, in order";
  }
  r.stop();
}

}  // namespace
