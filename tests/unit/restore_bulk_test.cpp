// Restoring a RocksDB store from a changelog with overwrites and tombstones, on the simulated
// cluster: in bulk (sorted table files ingested) and record by record, the store ends up
// holding exactly the changelog's compacted content; and a crash in the middle of a bulk
// restoration restarts it without losing or resurrecting anything.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include <rill/rill.hpp>

#include "../crash/crash_harness.hpp"

namespace {

rill::topology latest_per_key() {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in").group_by_key().reduce(
      [](std::string, const std::string& latest) { return latest; }, rill::named("kv"));
  return b.build();
}

rill::crash::settings one_instance() {
  rill::crash::settings s;
  s.instances = 1;
  return s;
}

// Writes `records` changelog records over `keys` keys, about one in six a tombstone, with
// values of 1 200 bytes (so a bulk restoration ingests a chunk of 16 MiB every 20 000 records
// or so, and the restore consumer reads 10 000 a poll);
// returns what compaction would keep.
std::map<std::string, std::string> write_changelog(rill::crash::run& r, const std::string& topic,
                                                   int records, int keys) {
  std::mt19937 rng(7);
  std::map<std::string, std::string> compacted;
  for (int i = 0; i < records; ++i) {
    const std::string key = "key-" + std::to_string(rng() % static_cast<unsigned>(keys));
    if (rng() % 6 == 0) {
      r.cluster().produce(topic, 0, rill::to_bytes(key), std::nullopt, 0);
      compacted.erase(key);
      continue;
    }
    std::string value = "v" + std::to_string(i) + "-";
    value.resize(1200, static_cast<char>('a' + i % 26));
    r.cluster().produce(topic, 0, rill::to_bytes(key), rill::to_bytes(value), 0);
    compacted[key] = value;
  }
  return compacted;
}

std::map<std::string, std::string> store_content(rill::crash::run& r) {
  std::map<std::string, std::string> out;
  r.for_each_entry<std::string, std::string>(
      "kv", [&](auto&, const std::string& k, const std::string& v) { out.emplace(k, v); });
  return out;
}

struct restore_case {
  const char* name;
  const char* bulk_min_records;  // restore.bulk.min.records
};

}  // namespace

TEST(restore_bulk, a_store_restored_in_bulk_or_record_by_record_holds_the_compacted_changelog) {
  rill::set_log_level(rill::log_level::warn);
  for (const restore_case c : {restore_case{"bulk", "0"}, restore_case{"records", "1000000000"}}) {
    SCOPED_TRACE(c.name);
    const std::string app = std::string("restore-") + c.name;
    rill::crash::run r(
        latest_per_key(),
        rill::config{{"application.id", app}, {"restore.bulk.min.records", c.bulk_min_records}}, 1,
        one_instance(), /*faults=*/false);
    r.create_topics({{"in", 1}});
    constexpr int records = 40000;
    const auto compacted = write_changelog(r, app + "-kv-changelog", records, 3000);
    r.start_instances();
    ASSERT_TRUE(r.drain()) << r.report();
    EXPECT_EQ(r.restored(), static_cast<std::uint64_t>(records));
    const auto restored = store_content(r);
    EXPECT_EQ(restored.size(), compacted.size());
    EXPECT_TRUE(restored == compacted) << "the store differs from the compacted changelog";
    r.stop();
  }
}

// Killed after the first chunk was ingested and before the restoration ended (the records
// staged for the next chunk are lost with the process): the checkpoint never passed what was
// ingested, so the restart restores from at most there, and the store ends equal to the
// compacted changelog.
TEST(restore_bulk, a_crash_during_a_bulk_restoration_resumes_from_what_was_ingested) {
  rill::set_log_level(rill::log_level::warn);
  const std::string app = "restore-crash";
  rill::crash::settings s = one_instance();
  s.session_timeout_ms = 10000;  // steps of a second below
  rill::crash::run r(latest_per_key(),
                     rill::config{{"application.id", app}, {"restore.bulk.min.records", "0"}}, 1, s,
                     /*faults=*/false);
  r.create_topics({{"in", 1}});
  constexpr int records = 60000;
  const auto compacted = write_changelog(r, app + "-kv-changelog", records, 5000);
  r.start_instances();
  // A step polls up to 10 000 records; a chunk is ingested once it holds 16 MiB (about
  // 20 000 of these records). Killed once 30 000 have been read, before the end.
  // The metric is sampled once a second of the logical clock: a second per step.
  double remaining = records;
  for (int k = 0; k < 600 && remaining > records / 2; ++k) {
    r.cluster().advance(1000);
    r.steps(1);
    remaining = r.task_metric(0, "0_0", "restore-remaining-records-total").value_or(remaining);
  }
  ASSERT_LE(remaining, records / 2) << r.report();
  ASSERT_GT(remaining, 0) << "killed mid-restore";
  ASSERT_EQ(r.restored(), 0u) << "no restoration ended";
  r.kill_now(0, "killed by the test");
  const std::size_t starts_before = r.restore_starts().size();
  r.restart(0);
  ASSERT_TRUE(r.drain()) << r.report();
  ASSERT_GT(r.restore_starts().size(), starts_before) << "the restarted task restored again";
  for (std::size_t i = starts_before; i < r.restore_starts().size(); ++i)
    EXPECT_LT(r.restore_starts()[i], records) << "not past what the crash left unrestored";
  const auto restored = store_content(r);
  EXPECT_EQ(restored.size(), compacted.size());
  EXPECT_TRUE(restored == compacted) << "the store differs from the compacted changelog";
  r.stop();
}
