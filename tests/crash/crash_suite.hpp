// What the crash suite's topologies share (crash_test.cpp, at_least_once_test.cpp): the seeds
// and how each runs, the fault mix, the oracle every seed must pass, and the tally of where
// faults struck.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "crash_harness.hpp"

namespace rill::crash::suite {

// The seeds are dealt to `shards` tests, so ctest runs them side by side.
inline constexpr int shards = 4;

// `n`: seeds per run of this topology unless RILL_CRASH_SEEDS says (joins, the slowest to
// run, take fewer; the sum over the topologies stays above 500).
inline std::vector<std::uint64_t> seeds(int shard, int n = 200) {
  if (const char* one = std::getenv("RILL_CRASH_SEED")) {  // replayed with the runtime's log
    return shard == 0 ? std::vector<std::uint64_t>{std::stoull(one)} : std::vector<std::uint64_t>{};
  }
  rill::set_log_level(rill::log_level::off);
  if (const char* many = std::getenv("RILL_CRASH_SEEDS")) n = std::stoi(many);
  std::vector<std::uint64_t> out;
  for (int i = 1; i <= n; ++i) {
    if (i % shards == shard) out.push_back(static_cast<std::uint64_t>(i));
  }
  return out;
}

// How a seed runs its instances: two stream threads each in a third of the seeds, the record
// cache on in half of them (then outputs are compared by their final values, since a cache
// emits fewer, coalesced updates; without it every update is visible: exact sequences), and
// the cooperative rebalance protocol in every other seed of a shard (a shard holds the seeds
// of one residue modulo `shards`, so each protocol meets the cache on and off).
struct variant {
  int threads = 1;
  bool cache = false;
  bool cooperative = false;
};
inline variant variant_of(std::uint64_t seed) {
  return {seed % 3 == 0 ? 2 : 1, seed % 2 == 1, (seed / shards) % 2 == 1};
}

// A topology's config with the variant's settings.
inline rill::config with_variant(rill::config c, variant v) {
  c.set("num.stream.threads", std::to_string(v.threads));
  if (!v.cache) c.set("statestore.cache.max.bytes", "0");
  if (v.cooperative) c.set("consumer.partition.assignment.strategy", "cooperative-sticky");
  return c;
}

// The fault mix; RILL_CRASH_MIX="crash,fail,pause" probabilities override it (to isolate one).
inline settings mix(variant v = {}) {
  settings s;
  s.threads = v.threads;
  if (const char* m = std::getenv("RILL_CRASH_MIX")) {
    std::sscanf(m, "%lf,%lf,%lf", &s.crash, &s.fail, &s.pause);
  }
  return s;
}

// Word count's input: 240 lines of three words each, eight words in all.
inline std::vector<std::string> lines() {
  static const char* words[] = {"kafka", "rill",  "state",  "store",
                                "task",  "topic", "offset", "commit"};
  std::vector<std::string> out;
  for (int i = 0; i < 240; ++i) {
    out.push_back(std::string(words[i % 8]) + " " + words[(i * 3 + 1) % 8] + " " +
                  words[(i * 5 + 2) % 8]);
  }
  return out;
}

// What every seed must show besides its outcome: no thread died of an exception that no
// fault injected, and, with faults, at least one crash. Prints the seed's statistics (and
// `more` after them). Empty when all is well.
inline std::string oracle_problem(run& r, bool faults, const std::string& more = "") {
  if (faults) std::cout << "  " << r.stats_line() << more << "\n";
  if (!r.unexpected().empty())
    return "a thread died of an exception no fault injected (" + r.unexpected().front() + ")";
  if (faults && r.crashes() == 0) return "the seed never crashed";
  return "";
}

// The injector's verdicts per point, summed over a topology's seeds.
class point_tallies {
 public:
  void add(const sim::fault_injector& f) {
    for (std::size_t i = 0; i < sim::point_count; ++i) add(i, f.fired(static_cast<sim::point>(i)));
  }
  void add(const point_tallies& o) {
    for (std::size_t i = 0; i < sim::point_count; ++i) add(i, o._t[i]);
  }
  const sim::fault_injector::tally& at(sim::point p) const {
    return _t[static_cast<std::size_t>(p)];
  }
  // "produce 12/30 (lost 9, late 10) of 9000, ...": crashes/failures of calls per point, and
  // of the failures those that were ambiguous outcomes.
  std::string line() const {
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < sim::point_count; ++i) {
      const auto& t = _t[i];
      std::string ambiguous;
      if (t.lost_answers + t.stalls + t.late > 0)
        ambiguous =
            fmt::format(" (lost {}, stalled {}, late {})", t.lost_answers, t.stalls, t.late);
      parts.push_back(fmt::format("{} {}/{}{} of {}", sim::to_string(static_cast<sim::point>(i)),
                                  t.crashes, t.failures, ambiguous, t.calls));
    }
    return fmt::format("{}", fmt::join(parts, ", "));
  }
  // The points of `expected` where nothing crashed, comma-separated ("" when all did).
  std::string never_crashed(const std::vector<sim::point>& expected) const {
    std::vector<std::string> out;
    for (sim::point p : expected)
      if (at(p).crashes == 0) out.push_back(sim::to_string(p));
    return fmt::format("{}", fmt::join(out, ", "));
  }
  // Prints the line as "<topology> faults (crashes/failures per point): ...".
  void print(const std::string& topology) const {
    std::cout << topology << " faults (crashes/failures of calls per point): " << line()
              << std::endl;
  }

 private:
  void add(std::size_t i, const sim::fault_injector::tally& t) {
    _t[i].crashes += t.crashes;
    _t[i].failures += t.failures;
    _t[i].calls += t.calls;
    _t[i].lost_answers += t.lost_answers;
    _t[i].stalls += t.stalls;
    _t[i].late += t.late;
  }
  std::array<sim::fault_injector::tally, sim::point_count> _t{};
};

// The ambiguous outcomes a topology's seeds ran into (sim::fault_injector::verdict), and what
// the cluster made of them, summed over the seeds.
class ambiguous_outcomes {
 public:
  void add(const ambiguous_outcomes& o) { add(o._c); }
  void add(const sim::cluster::counters& c) {
    _c.commits_found_done += c.commits_found_done;
    _c.stalls_aborted += c.stalls_aborted;
    _c.duplicates_refused += c.duplicates_refused;
    _c.timed_out_deliveries += c.timed_out_deliveries;
    _c.late_appended += c.late_appended;
    _c.late_refused += c.late_refused;
    _c.failed_deliveries += c.failed_deliveries;
  }
  void print(const std::string& topology) const {
    std::cout << fmt::format(
                     "{} ambiguous outcomes: {} commits found done on retry after a lost answer, "
                     "{} stalled commits retried to task.timeout.ms and aborted, {} idempotent "
                     "produce retries refused as duplicates, {} deliveries timed out although "
                     "appended, {} late produces appended and {} refused for their epoch, {} "
                     "deliveries failed after their send succeeded",
                     topology, _c.commits_found_done, _c.stalls_aborted, _c.duplicates_refused,
                     _c.timed_out_deliveries, _c.late_appended, _c.late_refused,
                     _c.failed_deliveries)
              << std::endl;
  }
  // The outcomes that never happened, comma-separated ("" when all did): under a transaction
  // all of them, else the produce ones (no commits to lose or stall, no deliveries to abort);
  // a delivery failed late (its batch refused at the leader) under both.
  std::string never(bool transactional) const {
    std::vector<std::string> out;
    auto check = [&](std::uint64_t n, const char* what) {
      if (n == 0) out.push_back(what);
    };
    check(_c.duplicates_refused, "idempotent retry refused");
    check(_c.late_appended, "late produce appended");
    check(_c.failed_deliveries, "delivery failed after its send succeeded");
    if (transactional) {
      check(_c.commits_found_done, "commit found done on retry");
      check(_c.stalls_aborted, "stalled commit aborted");
      check(_c.timed_out_deliveries, "delivery timed out although appended");
    }
    return fmt::format("{}", fmt::join(out, ", "));
  }

 private:
  sim::cluster::counters _c{};
};

// What the cooperative protocol did over a topology's seeds (the cooperative variant's).
class cooperative_tally {
 public:
  void add(const cooperative_tally& o) { add(o._c); }
  void add(const sim::cluster::counters& c) {
    _c.cooperative_rebalances += c.cooperative_rebalances;
    _c.kept_through_rebalance += c.kept_through_rebalance;
    _c.revoked_incrementally += c.revoked_incrementally;
  }
  void print(const std::string& topology) const {
    std::cout << fmt::format(
                     "{} cooperative rebalancing: {} rebalances, {} partitions kept through one, "
                     "{} revoked while their members kept the rest",
                     topology, _c.cooperative_rebalances, _c.kept_through_rebalance,
                     _c.revoked_incrementally)
              << std::endl;
  }
  // Empty when cooperative rebalances happened and members kept partitions through them.
  // (With two partitions a topic and three to six members, a member seldom holds more than
  // its share, so revoking only some is left to a test with more partitions than members.)
  std::string problem() const {
    if (_c.cooperative_rebalances == 0) return "no cooperative rebalance happened";
    if (_c.kept_through_rebalance == 0) return "no partition was kept through a rebalance";
    return "";
  }
  std::uint64_t revoked_incrementally() const { return _c.revoked_incrementally; }

 private:
  sim::cluster::counters _c{};
};

// `points` without cache_flush when no seed of `seeds` runs with the record cache on (the
// even seeds run without: variant_of), since then no cache is ever flushed.
inline std::vector<sim::point> reachable(std::vector<sim::point> points,
                                         const std::vector<std::uint64_t>& seeds) {
  if (std::none_of(seeds.begin(), seeds.end(), [](auto s) { return variant_of(s).cache; }))
    std::erase(points, sim::point::cache_flush);
  return points;
}

// Where faults strike under exactly-once (every point but the plain offset commit, which
// only at-least-once makes) and under at-least-once (no transactions).
inline std::vector<sim::point> exactly_once_points() {
  using enum sim::point;
  return {produce,     send_offsets,      commit_transaction,    abort_transaction,
          poll,        init_transactions, begin_transaction,     committed_offsets,
          end_offsets, state_commit,      between_state_commits, cache_flush};
}
inline std::vector<sim::point> at_least_once_points() {
  using enum sim::point;
  return {produce,      commit_offsets,        poll,       committed_offsets, end_offsets,
          state_commit, between_state_commits, cache_flush};
}

}  // namespace rill::crash::suite
