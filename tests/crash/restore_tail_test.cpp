// Under exactly-once a crashed instance keeps its RocksDB state and restores only the
// changelog's committed tail, not the whole store (Kafka Streams would wipe it and rebuild).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <set>

#include "crash_harness.hpp"
#include "examples/word_count/word_count.hpp"

namespace {

TEST(restore_tail, a_crashed_instance_restores_only_the_changelog_tail_under_exactly_once) {
  rill::set_log_level(rill::log_level::warn);
  rill::crash::settings s;
  s.instances = 1;
  const std::string app = "tail";
  rill::crash::run r(
      word_count::topology(),
      rill::config{{"application.id", app}, {"processing.guarantee", "exactly_once_v2"}},
      /*seed=*/1, s, /*faults=*/false);
  r.create_topics({{"text-input", 1}});
  r.create_output_topic("word-count-output", 1);

  // Every line is a new word, so the store grows by one entry per line.
  int lines = 0;
  auto add = [&](int n) {
    for (int k = 0; k < n; ++k, ++lines) {
      r.add_input("text-input", rill::to_bytes("line-" + std::to_string(lines)),
                  rill::to_bytes("w" + std::to_string(lines)));
    }
  };
  constexpr int store_size = 30000;
  add(store_size);
  r.start_instances();
  r.feed_pending();
  ASSERT_TRUE(r.drain()) << r.report();

  // Committed after the store's last flush, so only in the changelog and the memtable.
  constexpr int tail = 3000;
  add(tail);
  r.feed_pending();
  ASSERT_TRUE(r.drain()) << r.report();
  // And a transaction left open by the crash: its records must not be restored.
  add(2000);
  r.feed_pending();
  r.steps(3);
  r.kill_now(0, "killed by the test");

  const std::size_t starts_before = r.restore_starts().size();
  const std::uint64_t restored_before = r.restored();
  r.restart(0);
  ASSERT_TRUE(r.drain()) << r.report();

  const std::uint64_t restored = r.restored() - restored_before;
  const auto changelog = r.cluster().read_committed(app + "-word-counts-changelog");
  std::cout << "restored " << restored << " of " << changelog.size()
            << " committed changelog records after the crash" << std::endl;
  ASSERT_GT(r.restore_starts().size(), starts_before) << "the restarted task restored its store";
  for (std::size_t i = starts_before; i < r.restore_starts().size(); ++i)
    EXPECT_GT(r.restore_starts()[i], 0) << "restoration started from the checkpoint, not 0";
  EXPECT_GE(restored, static_cast<std::uint64_t>(tail))
      << "the batches committed after the last flush are replayed";
  // Exactly the committed records between each restoration's start (the checkpoint) and the
  // changelog's end when it began: no aborted record, none twice.
  std::uint64_t committed_tail = 0;
  for (std::size_t i = starts_before; i < r.restore_starts().size(); ++i) {
    for (const auto& rec : changelog)
      if (rec.offset >= r.restore_starts()[i] && rec.offset < r.restore_ends()[i]) ++committed_tail;
  }
  EXPECT_EQ(restored, committed_tail);
  EXPECT_LT(restored, changelog.size() / 2)
      << "a rebuild of the whole store would restore " << changelog.size();

  // And nothing was counted twice or lost: every word once, with count 1, in the output, the
  // changelog, and the local store.
  std::map<std::string, std::vector<std::int64_t>> output;
  for (const auto& rec : r.cluster().read_committed("word-count-output"))
    output[std::string(rill::as_chars(*rec.key))].push_back(rill::crash::decode_int64(rec.value));
  EXPECT_EQ(output.size(), static_cast<std::size_t>(lines));
  for (const auto& [word, counts] : output) {
    ASSERT_EQ(counts, std::vector<std::int64_t>{1}) << word;
  }
  std::size_t in_store = 0;
  r.for_each_entry<std::string, std::int64_t>("word-counts",
                                              [&](auto&, const std::string& word, std::int64_t n) {
                                                ++in_store;
                                                EXPECT_EQ(n, 1) << word;
                                              });
  EXPECT_EQ(in_store, static_cast<std::size_t>(lines));
  r.stop();
}

// restore-remaining-records-total while a task restores a store from scratch: sampled every
// step (each a second apart on the logical clock), it starts at most at the changelog's size,
// only goes down, and is 0 once the task runs.
TEST(restore_tail, a_task_restoring_from_scratch_reports_the_records_it_has_left) {
  rill::set_log_level(rill::log_level::warn);
  rill::crash::settings s;
  s.instances = 1;
  s.session_timeout_ms = 10000;  // steps of a second below
  rill::crash::run r(word_count::topology(), rill::config{{"application.id", "fresh"}}, 1, s,
                     /*faults=*/false);
  r.create_topics({{"text-input", 1}});
  r.create_output_topic("word-count-output", 1);
  constexpr int words = 35000;  // more than three restore batches (10 000 records each)
  for (int k = 0; k < words; ++k)
    r.add_input("text-input", rill::to_bytes("line-" + std::to_string(k)),
                rill::to_bytes("w" + std::to_string(k)));
  r.start_instances();
  r.feed_pending();
  ASSERT_TRUE(r.drain()) << r.report();
  r.kill_now(0, "killed by the test");
  r.wipe_state(0);

  const std::uint64_t restored_before = r.restored();
  r.restart(0);
  std::vector<double> remaining;
  r.after_each_step = [&] {
    if (auto v = r.task_metric(0, "1_0", "restore-remaining-records-total"))
      remaining.push_back(*v);
  };
  for (int k = 0; k < 600 && r.restored() == restored_before; ++k) {
    r.cluster().advance(1000);
    r.steps(1);
  }
  r.cluster().advance(1000);
  r.steps(1);
  r.after_each_step = nullptr;
  ASSERT_TRUE(r.drain()) << r.report();

  const auto changelog = r.cluster().read_committed("fresh-word-counts-changelog");
  ASSERT_EQ(r.restored() - restored_before, changelog.size()) << "a rebuild restores everything";
  std::cout << "restore-remaining-records-total per step:";
  for (double v : remaining) std::cout << " " << v;
  std::cout << std::endl;
  ASSERT_FALSE(remaining.empty()) << "the task's metric was sampled";
  const auto most = std::max_element(remaining.begin(), remaining.end());
  EXPECT_GT(*most, 0) << "a restoration was seen under way";
  EXPECT_LE(*most, static_cast<double>(changelog.size()));
  EXPECT_TRUE(std::is_sorted(most, remaining.end(), std::greater<>()))
      << "it only goes down once restoration has begun";
  EXPECT_EQ(remaining.back(), 0) << "nothing left once the task runs";
  r.stop();
}

}  // namespace
