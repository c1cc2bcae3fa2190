// At-least-once on the simulated cluster: word count with processing.guarantee=at_least_once
// through the same crashes, failed calls, zombies and rebalances as the exactly-once suite,
// so the plain offset commit (sim::point::commit_offsets) is a fault point too.
//
// The oracle: nothing is lost (each word's final count in the local stores, and the highest
// count emitted for it, is at least the number of times it occurs in the input) and the
// duplicates (the counts above that, summed over the words) stay within what could be replayed
// since the last offset commit (see duplicate_bound).
#include <gtest/gtest.h>

#include <map>

#include "crash_suite.hpp"
#include "examples/word_count/word_count.hpp"

namespace {

using namespace rill::crash::suite;
using rill::crash::decode_int64;

// As many as word count's: a seed runs in about 0.5 s, half of an exactly-once one.
constexpr int default_seeds = 200;

rill::config alo_config(const std::string& app, variant v) {
  rill::config c{{"application.id", app},
                 {"processing.guarantee", "at_least_once"},
                 // The default (30 s) is beyond the fault phase's logical time (3 s): commit as
                 // often as exactly-once does, so offset commits happen, and crash, mid-run.
                 {"commit.interval.ms", "100"}};
  return with_variant(c, v);
}

// How often each word occurs in the input: every count a fault-free run ends with.
std::map<std::string, std::int64_t> occurrences() {
  std::map<std::string, std::int64_t> out;
  for (const auto& line : lines())
    for (const auto& w : word_count::words(line)) ++out[w];
  return out;
}

struct alo_outcome {
  std::map<std::string, std::int64_t> store;    // the final counts, across the local stores
  std::map<std::string, std::int64_t> emitted;  // the highest count emitted per word
  std::int64_t duplicates = 0;                  // counts above the occurrences, summed
  std::int64_t bound = 0;                       // duplicate_bound
  std::vector<std::string> lost;                // words counted short
  bool drained = false;
  std::string oracle;
  std::string report;
  int crashes = 0;
  point_tallies points;
  ambiguous_outcomes outcomes;
  cooperative_tally cooperative;
};

// The most duplicates a run can show. Under at-least-once a record is counted again only when
// it is processed again, and that only after its partition was fetched again below where the
// group had fetched before: from the last committed offset, after a crash, a rewind or a
// migration (a zombie's work redone by the new owner). The simulated cluster counts such
// records (counters::redelivered); a line fetched again adds at most its three words once
// more, a repartitioned word fetched again one.
std::int64_t duplicate_bound(const rill::sim::cluster::counters& c) {
  return 3 * static_cast<std::int64_t>(c.redelivered);
}

alo_outcome run_alo_word_count(std::uint64_t seed, variant v,
                               const std::map<std::string, std::int64_t>& want) {
  rill::crash::run r(word_count::topology(), alo_config("wca", v), seed, mix(v), true);
  r.create_topics({{"text-input", 2}});
  r.create_output_topic("word-count-output", 2);
  int n = 0;
  for (const auto& line : lines())
    r.add_input("text-input", rill::to_bytes("line-" + std::to_string(n++)), rill::to_bytes(line));
  alo_outcome out;
  out.drained = r.execute();
  for (const auto& rec : r.cluster().read_committed("word-count-output")) {
    auto& top = out.emitted[std::string(rill::as_chars(*rec.key))];
    top = std::max(top, decode_int64(rec.value));
  }
  r.for_each_entry<std::string, std::int64_t>(
      "word-counts",
      [&](rill::runtime::stream_task&, const std::string& w, std::int64_t c) { out.store[w] = c; });
  for (const auto& [w, count] : want) {
    const std::int64_t got = out.store.contains(w) ? out.store.at(w) : 0;
    const std::int64_t top = out.emitted.contains(w) ? out.emitted.at(w) : 0;
    if (got < count || top < count)
      out.lost.push_back(
          fmt::format("{}: {} occurrences, stored {}, emitted up to {}", w, count, got, top));
    out.duplicates += std::max<std::int64_t>(got - count, 0);
  }
  out.bound = duplicate_bound(r.cluster().stats());
  out.oracle =
      oracle_problem(r, true, fmt::format(", {} duplicates (bound {})", out.duplicates, out.bound));
  out.points.add(r.injector());
  out.outcomes.add(r.cluster().stats());
  out.cooperative.add(r.cluster().stats());
  out.crashes = r.crashes();
  out.report = r.report();
  r.stop();
  return out;
}

}  // namespace

class crash_at_least_once : public ::testing::TestWithParam<int> {};

TEST_P(crash_at_least_once, word_count_loses_nothing_and_duplicates_only_what_it_replays) {
  const auto all = seeds(GetParam(), default_seeds);
  if (all.empty()) GTEST_SKIP() << "no seed in this shard";
  const auto want = occurrences();
  std::uint64_t crashes = 0, failed = 0;
  std::int64_t duplicates = 0, most = 0;
  point_tallies points;
  ambiguous_outcomes outcomes;
  cooperative_tally cooperative;
  for (std::uint64_t seed : all) {
    auto got = run_alo_word_count(seed, variant_of(seed), want);
    points.add(got.points);
    outcomes.add(got.outcomes);
    cooperative.add(got.cooperative);
    crashes += static_cast<std::uint64_t>(got.crashes);
    duplicates += got.duplicates;
    most = std::max(most, got.duplicates);
    const bool ok = got.drained && got.oracle.empty() && got.lost.empty() &&
                    got.store.size() == want.size() && got.duplicates <= got.bound;
    if (!ok) {
      ++failed;
      std::string why =
          fmt::format("{} duplicates, more than the bound {}", got.duplicates, got.bound);
      if (!got.drained)
        why = "did not drain";
      else if (!got.oracle.empty())
        why = got.oracle;
      else if (!got.lost.empty())
        why = "a word lost counts: " + got.lost.front();
      else if (got.store.size() != want.size())
        why = "words missing from the stores";
      ADD_FAILURE() << "at-least-once word count, " << why
                    << "; replay with RILL_CRASH_SEED=" << seed << "\n"
                    << got.report;
      if (failed >= 3) break;
    }
  }
  std::cout << "at-least-once word count: " << all.size() << " seeds, " << crashes << " crashes, "
            << duplicates << " duplicate counts (at most " << most << " in a seed)" << std::endl;
  points.print("at-least-once word count");
  outcomes.print("at-least-once word count");
  cooperative.print("at-least-once word count");
  if (all.size() >= 50) {  // a shard of the default seeds: enough for every point to crash
    EXPECT_EQ(cooperative.problem(), "");
    EXPECT_GT(crashes, 0u);
    EXPECT_GT(points.at(rill::sim::point::commit_offsets).crashes, 0u);
    EXPECT_GT(points.at(rill::sim::point::commit_offsets).failures, 0u);
    EXPECT_EQ(points.never_crashed(reachable(at_least_once_points(), all)), "")
        << "points that never crashed";
    EXPECT_EQ(outcomes.never(false), "") << "ambiguous outcomes that never happened";
  }
}

INSTANTIATE_TEST_SUITE_P(shard, crash_at_least_once, ::testing::Range(0, shards));
