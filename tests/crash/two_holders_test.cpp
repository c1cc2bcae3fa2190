// Two live holders of one transactional.id: an orchestrator starts a replacement instance (B)
// with the same explicit process.id on another machine while the old one (A) hangs, alive,
// with a transaction open. B's init_transactions must fence A: A's open transaction is
// aborted, so none of its records ever reaches a read_committed reader of the output or the
// changelog. When A comes back, the cluster refuses its next call (PRODUCER_FENCED from the
// coordinator), and A's thread stops with an error naming the process.id the two share,
// rather than re-initialising the id and fencing B in turn. B then processes everything, and
// every input is counted once.
//
// The crash harness gives each instance its own process id, so this test drives two stream
// threads on the simulated cluster itself, stepped one loop iteration at a time.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include <rill/rill.hpp>

#include "src/runtime/app_settings.hpp"
#include "src/runtime/internal_topics.hpp"
#include "src/runtime/partitioner.hpp"
#include "src/runtime/stream_thread.hpp"
#include "src/sim/cluster.hpp"
#include "state/state_directory.hpp"
#include "state/task_db.hpp"
#include "topology/compiled.hpp"

namespace {

using namespace rill;

constexpr const char* app_id = "holders";
constexpr const char* process_id = "orders-7";  // what a StatefulSet would give both pods
const std::string input = "words";
const std::string output = "word-totals";
const std::string changelog = std::string(app_id) + "-totals-changelog";
constexpr std::int32_t partitions = 2;
constexpr int words = 6;
constexpr std::int64_t step_ms = 5;

rill::topology counting() {
  rill::streams_builder b;
  b.stream<std::string, std::string>(input)
      .group_by_key()
      .count(rill::named("totals"))
      .to_stream()
      .to(output);
  return b.build();
}

std::int64_t decode_count(const std::optional<bytes>& b) {
  if (!b || b->size() != 8) return -1;
  bytes_view v(*b);
  return serdes::number_serde<std::int64_t>{}.deserialize(v, {});
}

// One instance of the app: its own state directory and clients, one stream thread.
struct holder {
  std::string name;
  std::unique_ptr<state::state_directory> dir;
  std::unique_ptr<state::rocksdb_env> rocksdb;
  std::unique_ptr<kafka::client_factory> clients;
  std::unique_ptr<runtime::app_shared> shared;
  std::unique_ptr<runtime::stream_thread> thread;
  std::vector<std::string> escaped;   // exceptions out of set_up() or step(): none expected
  std::vector<std::string> warnings;  // the log lines of its steps at warn and above
  int count(std::string_view text) const {
    int n = 0;
    for (const auto& w : warnings) n += w.find(text) != std::string::npos ? 1 : 0;
    return n;
  }
};

holder* stepping = nullptr;  // whose step the log lines come from (everything is stepped)

class two_holders {
 public:
  two_holders()
      : _topology(counting()),
        _root((std::filesystem::temp_directory_path() /
               fmt::format("rill-two-holders-{}", ::getpid()))
                  .string()) {
    std::filesystem::remove_all(_root);
    _cluster.create_topic(input, partitions);
    _partition_counts = runtime::internal_partition_counts(
        _topology.compiled(), app_id,
        [](const std::string& t) { return t == input ? std::optional(partitions) : std::nullopt; });
    for (const auto& [t, n] : _partition_counts) _cluster.create_topic(t, n);
    _cluster.create_topic(output, partitions);
    _partition_counts[input] = partitions;
    _partition_counts[output] = partitions;
    rill::set_log_sink([](log_level level, std::string_view line) {
      if (stepping != nullptr && level >= log_level::warn) stepping->warnings.emplace_back(line);
    });
  }
  ~two_holders() {
    for (holder* h : {&a, &b})
      if (h->thread) h->thread->crash();
    rill::set_log_sink({});
    std::error_code ec;
    std::filesystem::remove_all(_root, ec);
  }

  sim::cluster& cluster() { return _cluster; }

  // Starts an instance with the shared process id: its producer's init_transactions runs here.
  void start(holder& h) {
    const rill::config cfg{{"application.id", app_id},
                           {"processing.guarantee", "exactly_once_v2"},
                           {"process.id", process_id},
                           {"statestore.cache.max.bytes", "0"},  // every count goes out
                           {"commit.interval.ms", "1000"}};
    h.dir =
        std::make_unique<state::state_directory>(fmt::format("{}/{}/{}", _root, h.name, app_id));
    h.rocksdb = std::make_unique<state::rocksdb_env>(16 << 20);
    h.clients = _cluster.clients(h.name);
    h.shared =
        std::make_unique<runtime::app_shared>(runtime::settings_from(_topology.compiled(), cfg));
    auto& s = *h.shared;
    s.clients = h.clients.get();
    s.state_directory = h.dir.get();
    s.rocksdb = h.rocksdb.get();
    s.partition_counts = _partition_counts;
    s.consumer_props["session.timeout.ms"] = "3000";
    s.producer_props["transaction.timeout.ms"] = "60000";  // only the successor ends A's
    // As streams_app does with an explicit process.id: both get the same transactional ids.
    s.transactional_id_prefix = std::string(app_id) + "-" + process_id;
    s.process_id = process_id;
    s.client_id = h.name;
    s.real_backoff = false;
    sim::cluster* c = &_cluster;
    s.monotonic_ms = [c] { return c->now(); };
    s.tasks.wall_clock = [c] { return c->now(); };
    h.thread = std::make_unique<runtime::stream_thread>(1, s, nullptr, nullptr);
    guarded(h, [&] { h.thread->set_up(); });
  }

  // One loop iteration of h's thread, then the clock moves a step.
  void step(holder& h) {
    if (h.thread) guarded(h, [&] { h.thread->step(); });
  }
  void steps(const std::vector<holder*>& who, int rounds) {
    for (int k = 0; k < rounds; ++k) {
      for (holder* h : who) step(*h);
      _cluster.advance(step_ms);
    }
  }
  // Steps the live ones in turn until done() holds; false after `limit` rounds.
  bool step_until(std::vector<holder*> who, const std::function<bool()>& done, int limit) {
    for (int k = 0; k < limit; ++k) {
      if (done()) return true;
      for (holder* h : who) step(*h);
      _cluster.advance(step_ms);
    }
    return done();
  }

  // Input lines keyed by word, round robin over the words; counted in expected.
  void feed(int n) {
    for (int k = 0; k < n; ++k, ++_fed) {
      const std::string word = fmt::format("w{}", _fed % words);
      bytes key = rill::to_bytes(word);
      _cluster.produce(input, runtime::default_partition(key, partitions), key,
                       rill::to_bytes(fmt::format("line-{}", _fed)), _cluster.now());
      ++expected[word];
    }
  }
  bool drained() const { return _cluster.drained(app_id, {input}); }

  // Every record a read_uncommitted reader sees (open and aborted transactions' too), by
  // partition and offset.
  std::set<std::pair<std::int32_t, std::int64_t>> everything(const std::string& topic) {
    auto reader = _cluster.clients("reader")->make_consumer({{"group.id", "reader"}});
    std::vector<kafka::partition_offset> from;
    for (std::int32_t p = 0; p < _cluster.partitions(topic); ++p) from.push_back({{topic, p}, 0});
    EXPECT_FALSE(reader->assign(from));
    std::set<std::pair<std::int32_t, std::int64_t>> seen;
    std::vector<kafka::consumed_record> batch;
    for (int k = 0; k < 1000; ++k) {
      batch.clear();
      EXPECT_FALSE(reader->poll(std::chrono::milliseconds(0), 500, batch));
      if (batch.empty()) return seen;
      for (const auto& r : batch) seen.insert({r.raw.partition, r.raw.offset});
    }
    ADD_FAILURE() << "the reader of " << topic << " never caught up";
    return seen;
  }
  std::set<std::pair<std::int32_t, std::int64_t>> committed(const std::string& topic) {
    std::set<std::pair<std::int32_t, std::int64_t>> seen;
    for (std::int32_t p = 0; p < _cluster.partitions(topic); ++p)
      for (const auto& r : _cluster.read_committed(topic, p)) seen.insert({p, r.offset});
    return seen;
  }
  // The counts a read_committed reader sees per word, in order.
  std::map<std::string, std::vector<std::int64_t>> counts(const std::string& topic) {
    std::map<std::string, std::vector<std::int64_t>> out;
    for (const auto& r : _cluster.read_committed(topic))
      out[std::string(rill::as_chars(*r.key))].push_back(decode_count(r.value));
    return out;
  }

 private:
  void guarded(holder& h, const std::function<void()>& f) {
    stepping = &h;
    try {
      f();
    } catch (const std::exception& e) {
      h.escaped.push_back(e.what());
      h.thread->crash();
      h.thread.reset();
    }
    stepping = nullptr;
  }

  rill::topology _topology;
  std::string _root;
  sim::cluster _cluster;
  std::map<std::string, std::int32_t> _partition_counts;
  int _fed = 0;

 public:
  holder a{"A"};
  holder b{"B"};
  std::map<std::string, std::int64_t> expected;  // lines fed per word
};

using record_set = std::set<std::pair<std::int32_t, std::int64_t>>;

record_set minus(const record_set& all, const record_set& some) {
  record_set out;
  for (const auto& o : all)
    if (!some.contains(o)) out.insert(o);
  return out;
}

// 1, 2, ..., n: a word's running counts when each of its n lines is counted exactly once.
std::vector<std::int64_t> once(std::int64_t n) {
  std::vector<std::int64_t> v;
  for (std::int64_t k = 1; k <= n; ++k) v.push_back(k);
  return v;
}

TEST(two_holders, a_holder_fenced_by_a_replacement_with_its_process_id_stops_and_the_other_drains) {
  rill::set_log_level(rill::log_level::warn);
  two_holders t;
  auto& c = t.cluster();

  // A alone: a first batch processed and committed.
  t.start(t.a);
  t.feed(60);
  ASSERT_TRUE(t.step_until(
      {&t.a}, [&] { return t.drained(); }, 4000))
      << "A drained batch 1";

  // A processes a second batch inside a transaction it has not committed yet.
  t.feed(60);
  const auto commits = c.stats().committed_transactions;
  ASSERT_TRUE(t.step_until(
      {&t.a},
      [&] {
        return t.everything(output).size() > t.committed(output).size() &&
               t.everything(changelog).size() > t.committed(changelog).size();
      },
      100))
      << "A sent counts to the output and the changelog";
  ASSERT_EQ(c.stats().committed_transactions, commits) << "and has not committed them";
  const record_set open_output = minus(t.everything(output), t.committed(output));
  const record_set open_changelog = minus(t.everything(changelog), t.committed(changelog));

  // B starts with the same process.id on its own state directory: its init_transactions bumps
  // the epoch and aborts A's open transaction, while A is still alive.
  const auto before = c.stats();
  t.start(t.b);
  ASSERT_TRUE(t.b.escaped.empty()) << t.b.escaped.front();
  EXPECT_EQ(c.stats().aborted_transactions, before.aborted_transactions + 1)
      << "B's init_transactions aborted what A left open";
  EXPECT_EQ(c.stats().fenced_produces, before.fenced_produces) << "A has not called yet";

  // Both go on, with more input. A's next call is refused for its old epoch; the coordinator
  // says a newer producer holds its transactional.id (PRODUCER_FENCED). Its thread stops with
  // an error naming the shared process.id, instead of taking the id back (which would fence B,
  // and B would do the same: neither would ever commit).
  t.feed(30);
  ASSERT_TRUE(t.step_until(
      {&t.a, &t.b}, [&] { return !t.a.thread; }, 400))
      << "A's thread stopped";
  EXPECT_GT(c.stats().fenced_by_newer_producer, before.fenced_by_newer_producer)
      << "the coordinator told A a newer producer holds its id";
  ASSERT_EQ(t.a.escaped.size(), 1u);
  const std::string& why = t.a.escaped.front();
  EXPECT_NE(why.find("process.id 'orders-7'"), std::string::npos) << why;
  EXPECT_NE(why.find("Two instances share that process.id"), std::string::npos) << why;
  EXPECT_NE(why.find("transactional.id 'holders-orders-7-1'"), std::string::npos) << why;
  EXPECT_TRUE(t.b.escaped.empty()) << t.b.escaped.front();
  EXPECT_EQ(t.b.count("producer fenced"), 0) << "B was never fenced";

  // B alone processes everything once A's membership lapses.
  ASSERT_TRUE(t.step_until(
      {&t.b}, [&] { return t.drained(); }, 20000))
      << "B drained";
  EXPECT_TRUE(t.b.escaped.empty()) << t.b.escaped.front();
  ASSERT_TRUE(t.b.thread) << "B's thread lives on";
  std::cout << fmt::format(
                   "A's open transaction: {} output and {} changelog records, aborted by B's "
                   "init_transactions; A stopped with: {}",
                   open_output.size(), open_changelog.size(), why)
            << std::endl;

  // Nothing of A's aborted transaction ever became visible, and every line counts once.
  const record_set out = t.committed(output);
  const record_set log = t.committed(changelog);
  for (const auto& o : open_output) EXPECT_FALSE(out.contains(o)) << o.first << "@" << o.second;
  for (const auto& o : open_changelog) EXPECT_FALSE(log.contains(o)) << o.first << "@" << o.second;
  const auto out_counts = t.counts(output);
  const auto log_counts = t.counts(changelog);
  ASSERT_EQ(out_counts.size(), t.expected.size());
  ASSERT_EQ(log_counts.size(), t.expected.size());
  for (const auto& [word, n] : t.expected) {
    EXPECT_EQ(out_counts.at(word), once(n)) << word << " in the output";
    EXPECT_EQ(log_counts.at(word), once(n)) << word << " in the changelog";
  }
}

}  // namespace
