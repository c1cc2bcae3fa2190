// The exactly-once proof: word count, the bank, windowed aggregations and joins on the
// simulated cluster, with random crashes, call failures, zombies and restarts across three
// instances, for many seeds.
//
//   --long               5000 seeds per topology instead of 200 (100 for joins)
//   RILL_CRASH_SEEDS=N   seeds per topology (default: 700 a run over the four)
//   RILL_CRASH_SEED=S    replay one seed, printing its whole fault schedule
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <random>
#include <set>

#include "crash_suite.hpp"
#include "examples/bank/bank.hpp"
#include "examples/bank/replay.hpp"
#include "examples/bank/scenario.hpp"
#include "examples/word_count/word_count.hpp"

namespace {

using namespace std::chrono_literals;
using namespace rill::crash::suite;

rill::config eos_config(const std::string& app, variant v = {}) {
  return with_variant({{"application.id", app}, {"processing.guarantee", "exactly_once_v2"}}, v);
}

// Outputs as a reader keeping the latest value per key (and window) sees them at the end:
// entries "window=value" (or just "value") in order, "-1" and "null" deleting.
std::map<std::string, std::string> final_view(
    const std::map<std::string, std::vector<std::string>>& output) {
  std::map<std::string, std::string> out;
  for (const auto& [key, entries] : output) {
    for (const auto& e : entries) {
      const auto eq = e.rfind('=');
      const std::string k = eq == std::string::npos ? key : key + " " + e.substr(0, eq);
      const std::string v = eq == std::string::npos ? e : e.substr(eq + 1);
      if (v == "-1" || v == "null")
        out.erase(k);
      else
        out[k] = v;
    }
  }
  return out;
}

// The first entries where two final views differ, for a failure message.
std::string view_diff(const std::map<std::string, std::string>& want,
                      const std::map<std::string, std::string>& got) {
  std::string out;
  int n = 0;
  for (const auto& [k, v] : want) {
    auto it = got.find(k);
    if ((it == got.end() || it->second != v) && n++ < 5)
      out += fmt::format(" [{}: want {}, got {}]", k, v, it == got.end() ? "none" : it->second);
  }
  for (const auto& [k, v] : got)
    if (!want.contains(k) && n++ < 5) out += fmt::format(" [{}: want none, got {}]", k, v);
  return out;
}

// With the cache on, a key's emitted counts are a strictly increasing part of the fault-free
// run's sequence ending at its final count; without, the same sequence.
bool counts_agree(const std::map<std::string, std::vector<std::int64_t>>& want,
                  const std::map<std::string, std::vector<std::int64_t>>& got, bool cached) {
  if (!cached) return want == got;
  if (want.size() != got.size()) return false;
  for (const auto& [word, counts] : want) {
    auto it = got.find(word);
    if (it == got.end() || it->second.empty() || it->second.back() != counts.back()) return false;
    if (!std::is_sorted(it->second.begin(), it->second.end(), std::less_equal<>()))
      return false;  // strictly increasing: no update twice, none going back
  }
  return true;
}

using rill::crash::decode_int64;
// --- word count --------------------------------------------------------------------------

struct word_count_outcome {
  std::map<std::string, std::vector<std::int64_t>> output;  // per word, the counts emitted
  std::map<std::string, std::int64_t> changelog;            // the store as its changelog says
  std::vector<std::string> store_mismatches;                // local stores vs changelog
  bool drained = false;
  std::string oracle;  // oracle_problem
  std::string report;
  rill::sim::cluster::counters stats;
  int crashes = 0;
  std::uint64_t restored = 0;
  point_tallies points;  // where faults struck
};

word_count_outcome run_word_count(std::uint64_t seed, bool faults, variant v = {},
                                  std::int32_t partitions = 2) {
  const std::string app = "wc";
  rill::crash::run r(word_count::topology(), eos_config(app, v), seed, mix(v), faults);
  r.create_topics({{"text-input", partitions}});
  r.create_output_topic("word-count-output", 2);
  int n = 0;
  for (const auto& line : lines())
    r.add_input("text-input", rill::to_bytes("line-" + std::to_string(n++)), rill::to_bytes(line));
  word_count_outcome out;
  out.drained = r.execute();
  for (const auto& rec : r.cluster().read_committed("word-count-output")) {
    out.output[std::string(rill::as_chars(*rec.key))].push_back(decode_int64(rec.value));
  }
  for (const auto& rec : r.cluster().read_committed(app + "-word-counts-changelog")) {
    out.changelog[std::string(rill::as_chars(*rec.key))] = decode_int64(rec.value);
  }
  // Local state is never ahead of (or behind) the committed changelog once all is committed:
  // every local entry is in the changelog, and every changelog entry in a local store.
  std::set<std::string> local;
  r.for_each_entry<std::string, std::int64_t>(
      "word-counts",
      [&](rill::runtime::stream_task& task, const std::string& word, std::int64_t n) {
        local.insert(word);
        auto it = out.changelog.find(word);
        if (it == out.changelog.end() || it->second != n) {
          out.store_mismatches.push_back(fmt::format("task {}: {}={} but the changelog says {}",
                                                     task.id().to_string(), word, n,
                                                     it == out.changelog.end() ? -1 : it->second));
        }
      });
  for (const auto& [word, n] : out.changelog) {
    if (!local.contains(word))
      out.store_mismatches.push_back(
          fmt::format("{}={} is in the changelog but in no local store", word, n));
  }
  out.oracle = oracle_problem(r, faults);
  out.points.add(r.injector());
  out.stats = r.cluster().stats();
  out.crashes = r.crashes();
  out.restored = r.restored();
  out.report = r.report();
  r.stop();
  return out;
}

// The first word whose emitted counts differ.
std::string diff(const std::map<std::string, std::vector<std::int64_t>>& want,
                 const std::map<std::string, std::vector<std::int64_t>>& got) {
  for (const auto& [word, counts] : want) {
    auto it = got.find(word);
    std::vector<std::int64_t> g = it == got.end() ? std::vector<std::int64_t>{} : it->second;
    if (g != counts)
      return fmt::format(" ('{}': want [{}], got [{}])", word, fmt::join(counts, ","),
                         fmt::join(g, ","));
  }
  return "";
}

}  // namespace

class crash : public ::testing::TestWithParam<int> {};

TEST_P(crash, word_count_is_exactly_once_through_crashes_zombies_and_rebalances) {
  const auto all = seeds(GetParam());
  if (all.empty()) GTEST_SKIP() << "no seed in this shard";
  const auto expected = run_word_count(0, false);
  ASSERT_TRUE(expected.drained) << expected.report;
  ASSERT_FALSE(expected.output.empty());
  for (const auto& [word, counts] : expected.output) {
    for (std::size_t i = 0; i < counts.size(); ++i)
      ASSERT_EQ(counts[i], static_cast<std::int64_t>(i + 1)) << word;
  }
  std::uint64_t crashes = 0, fenced = 0, aborted = 0, rebalances = 0, restored = 0, failed = 0;
  point_tallies points;
  ambiguous_outcomes outcomes;
  cooperative_tally cooperative;
  for (std::uint64_t seed : all) {
    const variant v = variant_of(seed);
    auto got = run_word_count(seed, true, v);
    points.add(got.points);
    outcomes.add(got.stats);
    cooperative.add(got.stats);
    crashes += static_cast<std::uint64_t>(got.crashes);
    fenced += got.stats.fenced_offset_commits + got.stats.fenced_produces;
    aborted += got.stats.aborted_transactions;
    rebalances += got.stats.rebalances;
    restored += got.restored;
    const bool same_output = counts_agree(expected.output, got.output, v.cache);
    const bool ok = got.drained && got.oracle.empty() && same_output &&
                    got.changelog == expected.changelog && got.store_mismatches.empty();
    if (!ok) {
      ++failed;
      std::string why =
          !got.drained          ? "did not drain"
          : !got.oracle.empty() ? got.oracle
          : !same_output        ? "output differs from the fault-free run"
          : got.changelog != expected.changelog
              ? "store contents differ from the fault-free run"
              : "a local store disagrees with its changelog: " + got.store_mismatches.front();
      ADD_FAILURE() << "word count, " << why << diff(expected.output, got.output)
                    << "; replay with RILL_CRASH_SEED=" << seed << "\n"
                    << got.report;
      if (failed >= 3) break;
    }
  }
  std::cout << "word count: " << all.size() << " seeds, " << crashes << " crashes, " << rebalances
            << " rebalances, " << aborted << " aborted transactions, " << fenced
            << " fenced calls (zombies and old epochs), " << restored << " records restored"
            << std::endl;
  points.print("word count");
  outcomes.print("word count");
  cooperative.print("word count");
  if (all.size() >= 50) {  // enough seeds that each kind of fault happened
    EXPECT_EQ(cooperative.problem(), "");
    EXPECT_GT(crashes, 0u);
    EXPECT_EQ(points.never_crashed(reachable(exactly_once_points(), all)), "")
        << "points that never crashed";
    EXPECT_GT(fenced, 0u) << "zombies came back and were fenced";
    EXPECT_EQ(outcomes.never(true), "") << "ambiguous outcomes that never happened";
  }
}

// With six partitions over three instances, a member holds more than its share whenever
// another is down, so the cooperative protocol takes partitions from it while it keeps the
// rest: the case where a revocation commits all of a thread's tasks but closes only some.
TEST(crash_cooperative, word_count_stays_exactly_once_when_members_revoke_only_some_partitions) {
  const auto expected = run_word_count(0, false);
  ASSERT_TRUE(expected.drained) << expected.report;
  cooperative_tally cooperative;
  for (std::uint64_t seed = 1; seed <= 16; ++seed) {
    variant v = variant_of(seed);
    v.cooperative = true;
    auto got = run_word_count(seed, true, v, 6);
    cooperative.add(got.stats);
    EXPECT_TRUE(got.drained && got.oracle.empty()) << got.oracle << "\n" << got.report;
    EXPECT_TRUE(counts_agree(expected.output, got.output, v.cache))
        << "seed " << seed << diff(expected.output, got.output);
    EXPECT_EQ(got.changelog, expected.changelog) << "seed " << seed;
    EXPECT_EQ(got.store_mismatches, std::vector<std::string>{}) << "seed " << seed;
  }
  cooperative.print("word count, six partitions");
  EXPECT_EQ(cooperative.problem(), "");
  EXPECT_GT(cooperative.revoked_incrementally(), 0u)
      << "members revoked some partitions while keeping others";
}

// --- windows -------------------------------------------------------------------------------

// The points a windows run reaches: a thread never commits two tasks' stores in one commit
// here (measured: between_state_commits is not reached in 200 seeds), so not that one.
std::vector<rill::sim::point> windows_points() {
  auto points = exactly_once_points();
  std::erase(points, rill::sim::point::between_state_commits);
  return points;
}

// Clicks per user: a hopping count with emit final, and sessions counted eagerly.
rill::topology click_windows() {
  using namespace std::chrono_literals;
  rill::streams_builder b;
  auto grouped = b.stream<std::string, std::string>("clicks").group_by_key();
  grouped.windowed_by(rill::hopping_window(100ms, 50ms).grace(20ms))
      .emit_final()
      .count(rill::named("hops"))
      .to_stream()
      .to("hop-out");
  grouped.windowed_by(rill::session_window(30ms).grace(10ms))
      .aggregate([] { return std::int64_t{0}; },
                 [](const std::string&, const std::string&, std::int64_t n) { return n + 1; },
                 [](const std::string&, std::int64_t a, std::int64_t b) { return a + b; },
                 rill::named("sessions"))
      .to_stream()
      .to("session-out");
  return b.build();
}

struct windows_outcome {
  // Per output topic and key bytes: what was emitted, in order ("start/end=value").
  std::map<std::string, std::vector<std::string>> output;
  std::map<std::string, std::int64_t> hops;      // the window store, across tasks
  std::map<std::string, std::int64_t> sessions;  // the session store, across tasks
  bool drained = false;
  std::string oracle;
  std::string report;
  int crashes = 0;
  rill::sim::cluster::counters stats;
  point_tallies points;  // where faults struck
};

windows_outcome run_windows(std::uint64_t seed, bool faults, variant v = {}) {
  rill::crash::run r(click_windows(), eos_config("clicks", v), seed, mix(v), faults);
  r.create_topics({{"clicks", 2}});
  r.create_output_topic("hop-out", 2);
  r.create_output_topic("session-out", 2);
  // Event times that move on with some disorder; every 25th click arrives very late.
  std::mt19937 rng(7);
  for (int i = 0; i < 400; ++i) {
    const std::string user = "u" + std::to_string(rng() % 6);
    rill::timestamp_ms t = i * 3 - static_cast<rill::timestamp_ms>(rng() % 15);
    if (i % 25 == 24) t -= 200;
    r.add_input("clicks", rill::to_bytes(user), rill::to_bytes("page"),
                std::max<rill::timestamp_ms>(t, 0));
  }
  windows_outcome out;
  out.drained = r.execute();
  for (const char* topic : {"hop-out", "session-out"}) {
    const bool session = std::string(topic) == "session-out";
    for (const auto& rec : r.cluster().read_committed(topic)) {
      rill::bytes_view k(*rec.key);
      auto key = session ? rill::session_windowed_serde<std::string>().deserialize(k, {})
                         : rill::time_windowed_serde<std::string>(100ms).deserialize(k, {});
      out.output[std::string(topic) + " " + key.key].push_back(fmt::format(
          "{}/{}={}", key.window.start, key.window.end, rec.value ? decode_int64(rec.value) : -1));
    }
  }
  r.for_each_store<rill::window_store<std::string, std::int64_t>>("hops", [&](auto&, auto& store) {
    for (const auto& e : store.all())
      out.hops[fmt::format("{}@{}", e.key.key, e.key.window.start)] = e.value;
  });
  r.for_each_store<rill::session_store<std::string, std::int64_t>>(
      "sessions", [&](auto&, auto& store) {
        for (const auto& e : store.all())
          out.sessions[fmt::format("{}@{}/{}", e.key.key, e.key.window.start, e.key.window.end)] =
              e.value;
      });
  out.oracle = oracle_problem(r, faults);
  out.points.add(r.injector());
  out.stats = r.cluster().stats();
  out.crashes = r.crashes();
  out.report = r.report();
  r.stop();
  return out;
}

// --- joins ---------------------------------------------------------------------------------

// Orders left-joined with their payments within a window, then, as a table, joined by their
// customer (a foreign key) with the customers table.
rill::topology paid_orders() {
  using namespace std::chrono_literals;
  rill::streams_builder b;
  auto orders = b.stream<std::string, std::string>("orders");       // id -> "customer:amount"
  auto payments = b.stream<std::string, std::string>("payments");   // id -> paid amount
  auto customers = b.table<std::string, std::string>("customers");  // id -> name
  auto paid = orders.left_join(payments,
                               [](const std::string& o, const std::optional<std::string>& p) {
                                 return o + ":" + p.value_or("unpaid");
                               },
                               rill::join_window(30ms).grace(300ms), {.name = "pay"});
  paid.to("paid-out");
  paid.group_by_key()
      .reduce([](std::string, const std::string& latest) { return latest; }, rill::named("paid"))
      .join(
          customers, [](const std::string& o) { return o.substr(0, o.find(':')); },
          [](const std::string& o, const std::string& c) { return c + "/" + o; }, rill::named("fk"))
      .to_stream()
      .to("join-out");
  return b.build();
}

struct joins_outcome {
  std::map<std::string, std::vector<std::string>> output;  // per topic and key, in order
  std::map<std::string, std::string>
      results;                                // the foreign-key join's store, as its changelog says
  std::vector<std::string> store_mismatches;  // local stores vs that changelog
  bool drained = false;
  std::string oracle;
  std::string report;
  int crashes = 0;
  rill::sim::cluster::counters stats;
  point_tallies points;  // where faults struck
};

joins_outcome run_joins(std::uint64_t seed, bool faults, variant v = {}) {
  rill::crash::run r(paid_orders(), eos_config("joins", v), seed, mix(v), faults);
  r.create_topics({{"orders", 2}, {"payments", 2}, {"customers", 2}});
  r.create_output_topic("paid-out", 2);
  r.create_output_topic("join-out", 2);
  for (int c = 0; c < 6; ++c)
    r.add_input("customers", rill::to_bytes("c" + std::to_string(c)),
                rill::to_bytes("name" + std::to_string(c)), 0);
  // Each order is paid (within the window, either side first) or not; no record is late, so
  // each order has one left-join result whatever the order of processing.
  std::mt19937 rng(11);
  for (int i = 0; i < 160; ++i) {
    const std::string id = "o" + std::to_string(i);
    const rill::timestamp_ms t = 10 + i * 10;
    const std::string order = "c" + std::to_string(rng() % 6) + ":" + std::to_string(rng() % 90);
    const bool pays = i % 3 != 0;
    const rill::timestamp_ms pt = t + static_cast<rill::timestamp_ms>(rng() % 50) - 20;
    if (pays && pt < t)
      r.add_input("payments", rill::to_bytes(id), rill::to_bytes("p" + std::to_string(i)), pt);
    r.add_input("orders", rill::to_bytes(id), rill::to_bytes(order), t);
    if (pays && pt >= t)
      r.add_input("payments", rill::to_bytes(id), rill::to_bytes("p" + std::to_string(i)), pt);
  }
  joins_outcome out;
  out.drained = r.execute();
  for (const char* topic : {"paid-out", "join-out"}) {
    for (const auto& rec : r.cluster().read_committed(topic)) {
      out.output[std::string(topic) + " " + std::string(rill::as_chars(*rec.key))].push_back(
          rec.value ? std::string(rill::as_chars(*rec.value)) : "null");
    }
  }
  for (const auto& rec : r.cluster().read_committed("joins-fk-result-store-changelog")) {
    const std::string k(rill::as_chars(*rec.key));
    if (rec.value)
      out.results[k] = std::string(rill::as_chars(*rec.value));
    else
      out.results.erase(k);
  }
  // The local stores of the tasks running at the end agree with the committed changelog, in
  // both directions.
  std::set<std::string> local;
  r.for_each_entry<std::string, std::string>(
      "fk-result-store", [&](auto& task, const std::string& k, const std::string& v) {
        local.insert(k);
        auto it = out.results.find(k);
        if (it == out.results.end() || it->second != v)
          out.store_mismatches.push_back(
              fmt::format("task {}: {}='{}' but the changelog says '{}'", task.id().to_string(), k,
                          v, it == out.results.end() ? "none" : it->second));
      });
  for (const auto& [k, v] : out.results) {
    if (!local.contains(k))
      out.store_mismatches.push_back(
          fmt::format("{}='{}' is in the changelog but in no local store", k, v));
  }
  out.oracle = oracle_problem(r, faults);
  out.points.add(r.injector());
  out.stats = r.cluster().stats();
  out.crashes = r.crashes();
  out.report = r.report();
  r.stop();
  return out;
}

// --- the bank ----------------------------------------------------------------------------

// The committed events and balances a bank run ends with.
bank::outputs bank_outputs(rill::crash::run& r) {
  bank::outputs o;
  for (const auto& rec : r.cluster().read_committed("bank-events")) {
    rill::bytes_view v(*rec.value);
    o.events.push_back({std::string(rill::as_chars(*rec.key)),
                        rill::json_serde<bank::event>{}.deserialize(v, {}),
                        rec.timestamp,
                        {},
                        0,
                        rec.offset});
  }
  for (const auto& rec : r.cluster().read_committed("bank-balances")) {
    std::optional<std::int64_t> v;
    if (rec.value) v = decode_int64(rec.value);
    o.balances.push_back(
        {std::string(rill::as_chars(*rec.key)), v, rec.timestamp, {}, 0, rec.offset});
  }
  return o;
}

// Each command's answers ("type|reason", in order of type), for a comparison by command.
std::map<std::string, std::string> answers_by_command(const bank::outputs& o) {
  std::map<std::string, std::set<std::string>> sets;
  for (const auto& rec : o.events)
    sets[rec.value.command_id].insert(rec.value.type + "|" + rec.value.reason);
  std::map<std::string, std::string> out;
  for (const auto& [id, set] : sets) out[id] = fmt::format("{}", fmt::join(set, " "));
  return out;
}

// The commands whose answer in the fault-free run cannot depend on when transfers' credit
// legs arrive (nothing that reads a balance), with that answer: every run must give them
// the same one.
std::map<std::string, std::string> order_free_answers(const std::vector<bank::command>& commands,
                                                      const bank::outputs& fault_free) {
  const auto all = answers_by_command(fault_free);
  std::map<std::string, std::string> out;
  for (const auto& c : commands) {
    auto it = all.find(c.id);
    if (it == all.end()) continue;
    const bool reads_no_balance =
        c.type == "open" || c.type == "deposit" ||
        (it->second.starts_with("rejected|") && it->second != "rejected|insufficient funds");
    if (reads_no_balance) out[c.id] = it->second;
  }
  return out;
}

// Where the stores disagree with the balances the committed events give: the `accounts`
// and `balances` stores hold every account the events opened, with its balance.
std::vector<std::string> bank_store_mismatches(rill::crash::run& r, const bank::outputs& o) {
  std::map<std::string, std::int64_t> from_events;
  for (const auto& e : o.events) from_events[e.key] += bank::balance_change(e.value);
  std::vector<std::string> mismatches;
  auto agrees = [&](const char* store, const std::string& account, std::int64_t balance) {
    if (balance != from_events[account]) {
      mismatches.push_back(fmt::format("{} store: {} holds {}, its events say {}", store, account,
                                       balance, from_events[account]));
    }
  };
  std::set<std::string> in_accounts, in_balances;
  r.for_each_entry<std::string, bank::account>(
      "accounts", [&](auto&, const std::string& k, const bank::account& a) {
        in_accounts.insert(k);
        agrees("accounts", k, a.balance);
      });
  r.for_each_entry<std::string, std::int64_t>("balances",
                                              [&](auto&, const std::string& k, std::int64_t b) {
                                                in_balances.insert(k);
                                                agrees("balances", k, b);
                                              });
  std::set<std::string> opened;
  for (const auto& e : o.events)
    if (e.value.type == "opened") opened.insert(e.key);
  for (const auto& [account, balance] : from_events) {
    if (!opened.contains(account)) continue;
    for (const auto* in : {&in_accounts, &in_balances}) {
      if (!in->contains(account))
        mismatches.push_back(fmt::format("{} ({} by its events) is missing from the {} store",
                                         account, balance,
                                         in == &in_accounts ? "accounts" : "balances"));
    }
  }
  return mismatches;
}

struct bank_outcome {
  bool drained = false;
  bank::outputs outputs;
  std::vector<std::string> store_mismatches;
  std::string oracle;
  std::string report;
  rill::sim::cluster::counters stats;
  int crashes = 0;
  point_tallies points;
};

bank_outcome run_bank(const std::vector<bank::command>& commands, std::uint64_t seed, bool faults,
                      variant v = {}) {
  rill::crash::run r(bank::topology(), eos_config("bank", v), seed, mix(v), faults);
  r.create_topics({{"bank-commands", 2}, {"bank-events", 2}});
  r.create_output_topic("bank-balances", 2);
  for (const auto& c : commands) {
    rill::bytes value;
    rill::json_serde<bank::command>{}.serialize(c, value, {});
    r.add_input("bank-commands", rill::to_bytes(c.account), std::move(value));
  }
  bank_outcome out;
  out.drained = r.execute();
  out.outputs = bank_outputs(r);
  out.store_mismatches = bank_store_mismatches(r, out.outputs);
  out.oracle = oracle_problem(r, faults);
  out.points.add(r.injector());
  out.stats = r.cluster().stats();
  out.crashes = r.crashes();
  out.report = r.report();
  r.stop();
  return out;
}

// The first command whose answer differs from the fault-free run's ("" when none does).
std::string answer_difference(const std::map<std::string, std::string>& want,
                              const bank::outputs& got) {
  const auto answers = answers_by_command(got);
  for (const auto& [id, answer] : want) {
    auto it = answers.find(id);
    if (it == answers.end() || it->second != answer)
      return fmt::format("command {} was answered [{}], the fault-free run answered [{}]", id,
                         it == answers.end() ? "" : it->second, answer);
  }
  return "";
}

// Per command: each answer is the one a correct bank gives at its place in its account's
// log (bank::replay), and the commands whose answer no transfer can change are answered as
// in the fault-free run; then the invariants, and the stores against the committed events.
TEST_P(crash, the_bank_keeps_its_invariants_exactly_once_through_crashes) {
  const auto all = seeds(GetParam());
  if (all.empty()) GTEST_SKIP() << "no seed in this shard";
  const auto commands = bank::generate(300, 16);
  const auto fault_free = run_bank(commands, 0, false);
  ASSERT_TRUE(fault_free.drained) << fault_free.report;
  const auto expected_replay = bank::replay(commands, fault_free.outputs);
  ASSERT_TRUE(expected_replay.exact())
      << expected_replay.summary() << "\n"
      << fmt::format("{}", fmt::join(expected_replay.problems, "\n"));
  const auto order_free = order_free_answers(commands, fault_free.outputs);
  ASSERT_GT(order_free.size(), commands.size() / 2) << "most answers depend on no transfer";
  std::uint64_t crashes = 0, fenced = 0, failed = 0;
  std::size_t compared = 0;
  point_tallies points;
  cooperative_tally cooperative;
  for (std::uint64_t seed : all) {
    const variant v = variant_of(seed);
    const auto got = run_bank(commands, seed, true, v);
    cooperative.add(got.stats);
    const auto result = bank::check(commands, got.outputs);
    const auto replayed = bank::replay(commands, got.outputs);
    const std::string differs = answer_difference(order_free, got.outputs);
    compared += replayed.events;
    points.add(got.points);
    crashes += static_cast<std::uint64_t>(got.crashes);
    fenced += got.stats.fenced_offset_commits + got.stats.fenced_produces;
    const bool ok = got.drained && got.oracle.empty() && result.ok() &&
                    result.duplicate_events == 0 && replayed.exact() && differs.empty() &&
                    got.store_mismatches.empty();
    if (!ok) {
      ++failed;
      std::string why = !got.drained          ? "did not drain"
                        : !got.oracle.empty() ? got.oracle
                        : !result.ok()        ? result.summary()
                        : result.duplicate_events > 0
                            ? fmt::format("{} duplicate events", result.duplicate_events)
                        : !replayed.exact() ? replayed.summary()
                        : !differs.empty()  ? differs
                                            : got.store_mismatches.front();
      std::string first = !result.problems.empty()     ? result.problems.front()
                          : !replayed.problems.empty() ? replayed.problems.front()
                                                       : "";
      ADD_FAILURE() << "bank: " << why << "; replay with RILL_CRASH_SEED=" << seed << "\n"
                    << first << "\n"
                    << got.report;
      if (failed >= 3) break;
    }
  }
  std::cout << "bank: " << all.size() << " seeds, " << crashes << " crashes, " << fenced
            << " fenced calls, " << compared << " answers replayed, " << order_free.size()
            << " commands compared with the fault-free run" << std::endl;
  points.print("bank");
  cooperative.print("bank");
  if (all.size() >= 50) {
    EXPECT_EQ(cooperative.problem(), "");
    EXPECT_GT(crashes, 0u);
    EXPECT_EQ(points.never_crashed(reachable(exactly_once_points(), all)), "")
        << "points that never crashed";
    EXPECT_GT(fenced, 0u) << "zombies came back and were fenced";
  }
}

TEST_P(crash, windowed_aggregations_are_exactly_once_through_crashes_zombies_and_rebalances) {
  const auto all = seeds(GetParam());
  if (all.empty()) GTEST_SKIP() << "no seed in this shard";
  const auto expected = run_windows(0, false);
  ASSERT_TRUE(expected.drained) << expected.report;
  const auto cached = run_windows(0, false, {1, true});
  ASSERT_TRUE(cached.drained) << cached.report;
  EXPECT_TRUE(final_view(cached.output) == final_view(expected.output))
      << "with the cache on, a reader keeping the latest value per key and window sees the same:"
      << view_diff(final_view(expected.output), final_view(cached.output));
  ASSERT_GT(expected.output.size(), 6u) << "both outputs have every user";
  ASSERT_FALSE(expected.hops.empty());
  ASSERT_FALSE(expected.sessions.empty());
  std::uint64_t crashes = 0, fenced = 0, failed = 0;
  point_tallies points;
  cooperative_tally cooperative;
  for (std::uint64_t seed : all) {
    const variant v = variant_of(seed);
    auto got = run_windows(seed, true, v);
    points.add(got.points);
    cooperative.add(got.stats);
    crashes += static_cast<std::uint64_t>(got.crashes);
    fenced += got.stats.fenced_offset_commits + got.stats.fenced_produces;
    const bool same_output = v.cache ? final_view(got.output) == final_view(cached.output)
                                     : got.output == expected.output;
    const bool ok = got.drained && got.oracle.empty() && same_output && got.hops == expected.hops &&
                    got.sessions == expected.sessions;
    if (!ok) {
      ++failed;
      std::string why = !got.drained                ? "did not drain"
                        : !got.oracle.empty()       ? got.oracle
                        : !same_output              ? "output differs from the fault-free run"
                        : got.hops != expected.hops ? "the window store differs"
                                                    : "the session store differs";
      std::string first;
      for (const auto& [k, v] : expected.output) {
        auto it = got.output.find(k);
        if (it == got.output.end() || it->second != v) {
          first = fmt::format(
              " ('{}': want [{}], got [{}])", k, fmt::join(v, ", "),
              it == got.output.end() ? "" : fmt::format("{}", fmt::join(it->second, ", ")));
          break;
        }
      }
      ADD_FAILURE() << "windows, " << why << first << "; replay with RILL_CRASH_SEED=" << seed
                    << "\n"
                    << got.report;
      if (failed >= 3) break;
    }
  }
  std::cout << "windows: " << all.size() << " seeds, " << crashes << " crashes, " << fenced
            << " fenced calls" << std::endl;
  points.print("windows");
  cooperative.print("windows");
  if (all.size() >= 50) {
    EXPECT_EQ(cooperative.problem(), "");
    EXPECT_GT(crashes, 0u);
    EXPECT_EQ(points.never_crashed(reachable(windows_points(), all)), "")
        << "points that never crashed";
    EXPECT_GT(fenced, 0u) << "zombies came back and were fenced";
  }
}

TEST_P(crash, joins_are_exactly_once_through_crashes_zombies_and_rebalances) {
  const auto all = seeds(GetParam(), 100);
  if (all.empty()) GTEST_SKIP() << "no seed in this shard";
  const auto expected = run_joins(0, false);
  ASSERT_TRUE(expected.drained) << expected.report;
  const auto cached = run_joins(0, false, {1, true});
  ASSERT_TRUE(cached.drained) << cached.report;
  EXPECT_TRUE(final_view(cached.output) == final_view(expected.output))
      << "with the cache on, a reader keeping the latest value per key sees the same:"
      << view_diff(final_view(expected.output), final_view(cached.output));
  std::size_t unpaid = 0, paid = 0;
  for (const auto& [k, v] : expected.output) {
    ASSERT_EQ(v.size(), 1U) << k << ": one result per order";
    if (k.starts_with("paid-out")) (v[0].ends_with("unpaid") ? unpaid : paid) += 1;
  }
  ASSERT_GT(unpaid, 20U) << "unmatched orders came out once their window closed";
  ASSERT_GT(paid, 60U);
  ASSERT_GT(expected.results.size(), 60U);
  std::uint64_t crashes = 0, fenced = 0, failed = 0;
  point_tallies points;
  cooperative_tally cooperative;
  for (std::uint64_t seed : all) {
    const variant v = variant_of(seed);
    auto got = run_joins(seed, true, v);
    points.add(got.points);
    cooperative.add(got.stats);
    crashes += static_cast<std::uint64_t>(got.crashes);
    fenced += got.stats.fenced_offset_commits + got.stats.fenced_produces;
    const bool same_output = v.cache ? final_view(got.output) == final_view(cached.output)
                                     : got.output == expected.output;
    const bool ok = got.drained && got.oracle.empty() && same_output &&
                    got.results == expected.results && got.store_mismatches.empty();
    if (!ok) {
      ++failed;
      std::string why = !got.drained                      ? "did not drain"
                        : !got.oracle.empty()             ? got.oracle
                        : !same_output                    ? "output differs from the fault-free run"
                        : got.results != expected.results ? "the result store's changelog differs"
                                                          : got.store_mismatches.front();
      std::string first;
      for (const auto& [k, v] : expected.output) {
        auto it = got.output.find(k);
        if (it == got.output.end() || it->second != v) {
          first = fmt::format(
              " ('{}': want [{}], got [{}])", k, fmt::join(v, ", "),
              it == got.output.end() ? "" : fmt::format("{}", fmt::join(it->second, ", ")));
          break;
        }
      }
      if (first.empty() && got.output.size() != expected.output.size())
        first = fmt::format(" ({} keys, want {})", got.output.size(), expected.output.size());
      for (const auto& [k, v] : expected.results) {
        auto it = got.results.find(k);
        if (first.empty() && (it == got.results.end() || it->second != v))
          first = fmt::format(" (result of '{}': want '{}', got '{}'; {} results, want {})", k, v,
                              it == got.results.end() ? "none" : it->second, got.results.size(),
                              expected.results.size());
      }
      if (first.empty() && got.results.size() != expected.results.size())
        first = fmt::format(" ({} results, want {})", got.results.size(), expected.results.size());
      ADD_FAILURE() << "joins, " << why << first << "; replay with RILL_CRASH_SEED=" << seed << "\n"
                    << got.report;
      if (failed >= 3) break;
    }
  }
  std::cout << "joins: " << all.size() << " seeds, " << crashes << " crashes, " << fenced
            << " fenced calls" << std::endl;
  points.print("joins");
  cooperative.print("joins");
  if (all.size() >= 50) {
    EXPECT_EQ(cooperative.problem(), "");
    EXPECT_GT(crashes, 0u);
    EXPECT_EQ(points.never_crashed(reachable(exactly_once_points(), all)), "")
        << "points that never crashed";
    EXPECT_GT(fenced, 0u) << "zombies came back and were fenced";
  }
}

// Interactive queries under exactly-once: between steps, through crashes, aborted
// transactions and zombies, a query either waits (the thread has uncommitted work) or reads
// only values the committed changelog holds at some point: never one an aborted transaction
// wrote.
TEST_P(crash, exactly_once_queries_never_read_an_uncommitted_count) {
  const auto all = seeds(GetParam(), 40);
  if (all.empty()) GTEST_SKIP() << "no seed in this shard";
  int served = 0, refused = 0, failed = 0;
  std::size_t reads = 0;
  for (std::uint64_t seed : all) {
    const variant v = variant_of(seed);
    rill::crash::run r(word_count::topology(), eos_config("wcq", v), seed, mix(v), true);
    r.create_topics({{"text-input", 2}});
    r.create_output_topic("word-count-output", 2);
    int n = 0;
    for (const auto& line : lines())
      r.add_input("text-input", rill::to_bytes("line-" + std::to_string(n++)),
                  rill::to_bytes(line));
    std::vector<std::pair<std::string, std::int64_t>> seen;
    r.after_each_step = [&] {
      r.query_entries<std::string, std::int64_t>(
          "word-counts", [&](const std::string& w, std::int64_t c) { seen.emplace_back(w, c); },
          served, refused);
    };
    const bool drained = r.execute();
    r.after_each_step = nullptr;
    std::map<std::string, std::set<std::int64_t>> committed;
    for (const auto& rec : r.cluster().read_committed("wcq-word-counts-changelog"))
      committed[std::string(rill::as_chars(*rec.key))].insert(decode_int64(rec.value));
    reads += seen.size();
    for (const auto& [w, c] : seen) {
      if (!committed[w].contains(c)) {
        ADD_FAILURE() << "a query read " << w << "=" << c
                      << ", which no committed transaction wrote; replay with RILL_CRASH_SEED="
                      << seed << "\n"
                      << r.report();
        ++failed;
        break;
      }
    }
    EXPECT_TRUE(drained) << r.report();
    const std::string oracle = oracle_problem(r, true);
    EXPECT_EQ(oracle, "") << "replay with RILL_CRASH_SEED=" << seed << "\n" << r.report();
    r.stop();
    if (failed >= 3) break;
  }
  std::cout << "queries: " << all.size() << " seeds, " << reads << " values read, " << served
            << " served, " << refused << " refused (uncommitted work)" << std::endl;
  EXPECT_GT(reads, 0U);
  EXPECT_GT(refused, 0) << "some queries met uncommitted work and were refused";
}

INSTANTIATE_TEST_SUITE_P(shard, crash, ::testing::Range(0, shards));

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--long") ::setenv("RILL_CRASH_SEEDS", "5000", 0);
  }
  return RUN_ALL_TESTS();
}
