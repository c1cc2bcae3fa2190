// The crash harness: runs a topology on the simulated cluster as several instances, each
// one stream thread stepped by the harness (no OS threads), in an order drawn from a seed,
// on a logical clock. During the fault phase it crashes instances at injected points (any
// produce, offset send, transaction commit or abort, offset commit, poll, or the runtime's
// state write), fails calls, pauses instances past their session timeout so they come back
// as zombies, and restarts crashed ones with the same process identity (so their
// transactional id fences what they left open). Then a calm phase without faults runs until
// every input is processed and committed. Everything is deterministic for a seed.
//
// The oracle's rules: only injected crashes (sim::crash, or the harness killing an instance)
// restart an instance; any other exception out of a stream thread is a failure of the seed
// (unexpected()), as in production the default handler would shut the instance down. Every
// seed with faults crashes at least once: if no injected crash came by a step drawn from the
// seed, the harness kills a live instance there. stats_line() is the seed's statistics.
#pragma once

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <rill/rill.hpp>

#include "src/runtime/app_metrics.hpp"
#include "src/runtime/app_settings.hpp"
#include "src/runtime/internal_topics.hpp"
#include "src/runtime/partitioner.hpp"
#include "src/runtime/stream_thread.hpp"
#include "src/sim/cluster.hpp"
#include "state/state_directory.hpp"
#include "state/task_db.hpp"
#include "topology/compiled.hpp"

namespace rill::crash {

struct settings {
  int instances = 3;
  double crash = 0.004;  // per instrumented call
  double fail = 0.004;
  double pause = 0.004;  // per step: pause an instance long enough to be evicted
  int fault_steps = 600;
  int calm_steps = 20000;
  std::int64_t step_ms = 5;
  std::int64_t session_timeout_ms = 300;
  std::int64_t transaction_timeout_ms = 500;
  int threads = 1;               // stream threads per instance (num.stream.threads)
  std::vector<sim::point> only;  // if not empty: the only points faults strike
  // Hears every instance's restorations too (from restore threads, with
  // restore.thread.enabled=true, which these runs are not deterministic with).
  std::shared_ptr<rill::restore_listener> restore_listener;
};

// A big-endian int64 value as Rill's number serde writes it; -1 for null or a wrong size.
inline std::int64_t decode_int64(const std::optional<bytes>& b) {
  if (!b || b->size() != 8) return -1;
  bytes_view v(*b);
  return serdes::number_serde<std::int64_t>{}.deserialize(v, {});
}

class run {
 public:
  run(rill::topology t, rill::config cfg, std::uint64_t seed, settings s, bool faults)
      : _topology(std::move(t)),
        _cfg(std::move(cfg)),
        _seed(seed),
        _settings(s),
        _rng(seed * 7919 + 13) {
    _injector = std::make_shared<sim::fault_injector>(
        seed, sim::fault_injector::settings{faults ? s.crash : 0, faults ? s.fail : 0, s.only});
    _cluster = std::make_unique<sim::cluster>(_injector);
    _faults_on = faults;
    _root = (std::filesystem::temp_directory_path() /
             fmt::format("rill-crash-{}-{}-{}", ::getpid(), seed, counter()++))
                .string();
    std::filesystem::remove_all(_root);
    _app_id = _cfg.get_string(cfg::application_id);
    std::mt19937_64 own(seed * 31 + 7);  // its own stream: the fault schedule stays as it was
    _forced_crash_step =
        static_cast<int>(own() % static_cast<std::uint64_t>(s.fault_steps / 2)) + s.fault_steps / 4;
  }
  ~run() {
    _instances.clear();
    std::error_code ec;
    std::filesystem::remove_all(_root, ec);
  }

  sim::cluster& cluster() { return *_cluster; }

  // Creates the source topics (with `partitions` each) and the internal ones.
  void create_topics(const std::map<std::string, std::int32_t>& sources) {
    for (const auto& [t, n] : sources) _cluster->create_topic(t, n);
    const auto& compiled = _topology.compiled();
    _partitions = runtime::internal_partition_counts(compiled, _app_id, [&](const std::string& t) {
      auto it = sources.find(t);
      return it == sources.end() ? std::nullopt : std::optional(it->second);
    });
    for (const auto& [t, n] : _partitions) _cluster->create_topic(t, n);
    _partitions.insert(sources.begin(), sources.end());
    for (const auto& sub : compiled.subtopologies) {
      for (const auto& t : sub.source_topics)
        _source_topics.push_back(detail::resolve_topic(_app_id, t));
    }
  }
  void create_output_topic(const std::string& t, std::int32_t n) {
    _cluster->create_topic(t, n);
    _partitions[t] = n;
  }

  // Input, fed to the cluster as the run goes (a chunk per step during the fault phase).
  // `timestamp`: the record's event time; without one, the logical clock when it is fed.
  void add_input(const std::string& topic, bytes key, bytes value,
                 std::optional<timestamp_ms> timestamp = std::nullopt) {
    _input.push_back({topic, std::move(key), std::move(value), timestamp});
  }

  // Runs the fault phase and the calm phase. Returns false (see report()) if the run did
  // not drain.
  bool execute() {
    start_instances();
    std::uniform_real_distribution<double> u(0, 1);
    std::size_t fed = 0;
    const std::size_t per_step = std::max<std::size_t>(
        1, _input.size() / static_cast<std::size_t>(_settings.fault_steps / 2));
    for (_step = 0; _step < _settings.fault_steps; ++_step) {
      for (std::size_t k = 0; k < per_step && fed < _input.size(); ++k) feed(_input[fed++]);
      if (_faults_on) schedule_events(u);
      if (_faults_on && _step == _forced_crash_step && _crashes == 0) force_crash();
      step_some();
      _cluster->advance(_settings.step_ms);
    }
    while (fed < _input.size()) feed(_input[fed++]);
    _fed = _input.size();
    // Calm: no faults; everyone back; run until all is processed and committed.
    _injector->enable(false);
    for (int i = 0; i < _settings.instances; ++i) {
      _instances[static_cast<std::size_t>(i)]->paused_until = -1;
      if (!_instances[static_cast<std::size_t>(i)]->up()) start(i);
    }
    return drain();
  }

  // Scripted runs (faults off): start the instances, feed what add_input gave, step, kill and
  // restart at chosen moments. `only`: start the first instances only (restart(i) starts the
  // others later).
  void start_instances(int only = -1) {
    for (int i = 0; i < _settings.instances; ++i)
      _instances.push_back(std::make_unique<instance>());
    for (int i = 0; i < (only < 0 ? _settings.instances : only); ++i) start(i);
  }
  void feed_pending() {
    while (_fed < _input.size()) feed(_input[_fed++]);
  }
  void steps(int n) {
    for (int k = 0; k < n; ++k, ++_step) {
      step_some();
      _cluster->advance(_settings.step_ms);
    }
  }
  void kill_now(int i, const std::string& why) {
    kill(i, why);
    _instances[static_cast<std::size_t>(i)]->restart_at = -1;
  }
  void restart(int i) { start(i); }
  // Deletes a stopped instance's state (its next start restores everything from scratch).
  void wipe_state(int i) {
    const auto& inst = *_instances[static_cast<std::size_t>(i)];
    if (inst.dir) std::filesystem::remove_all(inst.dir->root());
  }

  // Steps until every input is processed and committed and every task runs on a live
  // instance (false, with a report, if that never happens). Committed alone is not settled:
  // an instance restarted late leaves the group rebalancing until its old member's session
  // times out, and meanwhile no instance runs the revoked tasks, so checks of the local
  // stores would see none of them.
  bool drain() {
    int quiet = 0;
    for (int k = 0; k < _settings.calm_steps; ++k, ++_step) {
      step_some();
      _cluster->advance(_settings.step_ms);
      if (_cluster->drained(_app_id, _source_topics) && every_task_running()) {
        if (++quiet > 50) return true;  // a while longer, so every commit and state write settles
      } else {
        quiet = 0;
      }
    }
    _events.push_back("did not drain in the calm phase");
    return false;
  }

  // The tasks each live instance runs now.
  template <class F>
  void for_each_task(F f) {
    for (auto& inst : _instances) {
      for (auto& t : inst->threads)
        if (t->tasks() != nullptr) t->tasks()->for_each_running(f);
    }
  }

  // True when every task of the topology (one per subtopology and partition of its source
  // topics) runs on some live instance.
  bool every_task_running() {
    std::set<task_id> running;
    for_each_task([&](runtime::stream_task& task) { running.insert(task.id()); });
    for (const auto& sub : _topology.compiled().subtopologies) {
      std::int32_t partitions = 0;
      for (const auto& t : sub.source_topics)
        partitions = std::max(partitions, _cluster->partitions(detail::resolve_topic(_app_id, t)));
      for (std::int32_t p = 0; p < partitions; ++p) {
        if (!running.contains(task_id{sub.id, p})) return false;
      }
    }
    return true;
  }

  // A store of any kind (Store: its facade type) in every task the live instances run now.
  template <class Store, class F>
  void for_each_store(const std::string& store_name, F f) {
    for_each_task([&](runtime::stream_task& task) {
      if (task.stores() == nullptr) return;
      if (auto* store = dynamic_cast<Store*>(task.stores()->facade(store_name))) f(task, *store);
    });
  }

  // Called after every step of the run (for checks that look at the instances mid-run).
  std::function<void()> after_each_step;

  // A metric of instance i's threads for one task, as app.metrics() reports it; nullopt while
  // the instance is down or no thread of it has sampled the task.
  std::optional<double> task_metric(int i, const std::string& task, const std::string& name) {
    const auto& inst = *_instances[static_cast<std::size_t>(i)];
    runtime::metric_sources sources;
    for (const auto& t : inst.threads) sources.live.push_back(t.get());
    for (const auto& m : runtime::collect_metrics(sources)) {
      if (m.group == "stream-task-metrics" && m.name == name && m.tags.at("task-id") == task)
        return m.value;
    }
    return std::nullopt;
  }

  // Every entry of a key-value store, as an interactive query of each live instance reads it
  // (stream_thread::query without waiting); counts the instances that served and refused.
  template <class K, class V, class F>
  void query_entries(const std::string& store_name, F f, int& served, int& refused) {
    for (auto& inst : _instances) {
      for (auto& thread : inst->threads) {
        const bool ok = thread->query(
            [&](runtime::task_manager& tasks) {
              tasks.for_each_running([&](runtime::stream_task& task) {
                if (task.stores() == nullptr) return;
                auto* store =
                    dynamic_cast<key_value_store<K, V>*>(task.stores()->facade(store_name));
                if (store == nullptr) return;
                for (const auto& kv : store->all()) f(kv.key, kv.value);
              });
            },
            std::chrono::milliseconds(0));
        ++(ok ? served : refused);
      }
    }
  }

  // Every entry of a key-value store, across the tasks the live instances run now.
  template <class K, class V, class F>
  void for_each_entry(const std::string& store_name, F f) {
    for_each_task([&](runtime::stream_task& task) {
      if (task.stores() == nullptr) return;
      auto* store = dynamic_cast<key_value_store<K, V>*>(task.stores()->facade(store_name));
      if (store == nullptr) return;
      for (const auto& kv : store->all()) f(task, kv.key, kv.value);
    });
  }

  // Stops every instance cleanly.
  void stop() {
    for (auto& inst : _instances) {
      for (auto& t : inst->threads) t->tear_down();
      inst->threads.clear();
    }
  }

  std::string report() const {
    std::string out = fmt::format("seed {} ({} crashes, {} pauses, {} restarts)\n", _seed, _crashes,
                                  _pauses, _restarts);
    for (const auto& e : _unexpected) out += "  UNEXPECTED: " + e + "\n";
    for (const auto& e : _events) out += "  " + e + "\n";
    for (const auto& e : _injector->schedule()) out += "  injected: " + e + "\n";
    return out;
  }
  int crashes() const { return _crashes; }
  // Exceptions no fault injected (each a failure of the seed), as "step N: iK ...".
  const std::vector<std::string>& unexpected() const { return _unexpected; }
  // The seed's statistics: crashes (and how many the schedule forced), zombie fencings by
  // kind, transactions aborted (by a successor or the coordinator), rebalances, evictions
  // and restored records.
  std::string stats_line() {
    const auto c = _cluster->stats();
    return fmt::format(
        "seed {} ({} thread{} per instance, cache {}, {} rebalancing): {} crashes ({} forced), "
        "{} pauses, fenced by generation {} by epoch {}, {} aborted and {} timed-out "
        "transactions, {} rebalances, {} evictions, {} restored, {} fetched again; ambiguous "
        "outcomes: {} "
        "commits found done on retry, {} stalled commits aborted, {} idempotent retries "
        "refused, {} timed-out deliveries, {} late produces appended and {} refused, {} "
        "deliveries failed after their send succeeded",
        _seed, _settings.threads, _settings.threads > 1 ? "s" : "",
        _cfg.get("statestore.cache.max.bytes").value_or("") == "0" ? "off" : "on",
        _cfg.get("consumer.partition.assignment.strategy").value_or("range") == "range"
            ? "eager"
            : "cooperative",
        _crashes, _forced, _pauses, c.fenced_offset_commits, c.fenced_produces,
        c.aborted_transactions, c.timed_out_transactions, c.rebalances, c.evicted_members,
        _restored.records.load(), c.redelivered, c.commits_found_done, c.stalls_aborted,
        c.duplicates_refused, c.timed_out_deliveries, c.late_appended, c.late_refused,
        c.failed_deliveries);
  }
  int pauses() const { return _pauses; }
  const sim::fault_injector& injector() const { return *_injector; }
  std::uint64_t restored() const { return _restored.records.load(); }
  // The offsets restorations started from (0: from the changelog's start).
  std::vector<std::int64_t> restore_starts() const {
    std::lock_guard lock(_restored.mutex);
    return _restored.starts;
  }
  std::vector<std::int64_t> restore_ends() const {
    std::lock_guard lock(_restored.mutex);
    return _restored.ends;
  }
  // Stream thread t of instance i; nullptr while the instance is down.
  runtime::stream_thread* thread(int i, std::size_t t = 0) {
    auto& threads = _instances.at(static_cast<std::size_t>(i))->threads;
    return t < threads.size() ? threads[t].get() : nullptr;
  }

 private:
  struct instance {
    std::unique_ptr<state::state_directory> dir;
    std::unique_ptr<state::rocksdb_env> rocksdb;
    std::unique_ptr<kafka::client_factory> clients;
    std::unique_ptr<runtime::app_shared> shared;
    std::vector<std::unique_ptr<runtime::stream_thread>> threads;  // empty: down
    bool up() const { return !threads.empty(); }
    std::int64_t paused_until = -1;  // step
    std::int64_t restart_at = -1;    // step
  };
  struct input_record {
    std::string topic;
    bytes key;
    bytes value;
    std::optional<timestamp_ms> timestamp;
  };

  // The injection point of a runtime hook's name (app_shared::fault_hook).
  static sim::point hook_point(std::string_view name) {
    if (name == "between_state_commits") return sim::point::between_state_commits;
    if (name == "cache_flush") return sim::point::cache_flush;
    return sim::point::state_commit;  // before_ and after_state_commit
  }

  static int& counter() {
    static int n = 0;
    return n;
  }

  void feed(const input_record& r) {
    const std::int32_t n = _partitions.at(r.topic);
    _cluster->produce(r.topic, runtime::default_partition(r.key, n), r.key, r.value,
                      r.timestamp.value_or(_cluster->now()));
  }

  void start(int i) {
    instance& inst = *_instances[static_cast<std::size_t>(i)];
    const std::string name = fmt::format("i{}", i);
    if (!inst.dir) {
      inst.dir =
          std::make_unique<state::state_directory>(fmt::format("{}/{}/{}", _root, name, _app_id));
      inst.rocksdb = std::make_unique<state::rocksdb_env>(64 << 20);
      inst.clients = _cluster->clients(name);
      inst.shared =
          std::make_unique<runtime::app_shared>(runtime::settings_from(_topology.compiled(), _cfg));
      auto& s = *inst.shared;
      s.clients = inst.clients.get();
      s.state_directory = inst.dir.get();
      s.rocksdb = inst.rocksdb.get();
      s.partition_counts = _partitions;
      s.consumer_props["session.timeout.ms"] = std::to_string(_settings.session_timeout_ms);
      // Shorter than a pause, so some zombies find their transaction aborted by the coordinator.
      s.producer_props["transaction.timeout.ms"] = std::to_string(_settings.transaction_timeout_ms);

      s.transactional_id_prefix = _app_id + "-" + name;  // the instance's stable process id
      s.process_id = name;
      s.client_id = name;
      s.real_backoff = false;
      sim::cluster* c = _cluster.get();
      s.monotonic_ms = [c] { return c->now(); };
      s.tasks.wall_clock = [c] { return c->now(); };
      s.fault_hook = [this, name](const char* point) {
        auto v = _injector->decide(hook_point(point), name + "/" + point);
        if (v != sim::fault_injector::verdict::none)
          throw sim::crash(fmt::format("{}: crash at {}", name, point));
      };
      s.restore_events = std::make_shared<counting_listener>(_restored, _settings.restore_listener);
    }
    for (int t = 1; t <= _settings.threads; ++t)
      inst.threads.push_back(
          std::make_unique<runtime::stream_thread>(t, *inst.shared, nullptr, nullptr));
    inst.restart_at = -1;
    try {
      for (auto& t : inst.threads) t->set_up();
    } catch (const sim::crash& e) {
      kill(i, fmt::format("crashed starting: {}", e.what()));
    } catch (const std::exception& e) {
      died(i, fmt::format("died starting: {}", e.what()));
    }
  }

  void kill(int i, const std::string& why) {
    instance& inst = *_instances[static_cast<std::size_t>(i)];
    _events.push_back(fmt::format("step {}: i{} {}", _step, i, why));
    for (auto& t : inst.threads) t->crash();
    inst.threads.clear();
    ++_crashes;
    std::uniform_int_distribution<int> after(10, 80);
    inst.restart_at = _step + after(_rng);
  }

  // A thread died of an exception no fault injected: the seed fails. The instance stays down
  // until the calm phase (in an app, the default handler would have shut it down).
  void died(int i, const std::string& why) {
    instance& inst = *_instances[static_cast<std::size_t>(i)];
    _events.push_back(fmt::format("step {}: i{} {}", _step, i, why));
    _unexpected.push_back(fmt::format("step {}: i{} {}", _step, i, why));
    for (auto& t : inst.threads) t->crash();
    inst.threads.clear();
    inst.restart_at = -1;
  }

  void force_crash() {
    std::vector<int> live;
    for (int i = 0; i < _settings.instances; ++i)
      if (_instances[static_cast<std::size_t>(i)]->up()) live.push_back(i);
    if (live.empty()) return;
    ++_forced;
    kill(live[static_cast<std::size_t>(_forced_crash_step) % live.size()],
         "crashed by the schedule (no injected crash yet)");
  }

  void schedule_events(std::uniform_real_distribution<double>& u) {
    for (int i = 0; i < _settings.instances; ++i) {
      instance& inst = *_instances[static_cast<std::size_t>(i)];
      if (!inst.up() && inst.restart_at >= 0 && _step >= inst.restart_at) {
        _events.push_back(fmt::format("step {}: i{} restarts", _step, i));
        ++_restarts;
        start(i);
      }
      if (inst.up() && inst.paused_until < 0 && u(_rng) < _settings.pause) {
        // Long enough to be evicted from the group; it then resumes as a zombie.
        const std::int64_t steps = 2 * _settings.session_timeout_ms / _settings.step_ms;
        inst.paused_until = _step + steps;
        ++_pauses;
        _events.push_back(fmt::format("step {}: i{} pauses for {} steps", _step, i, steps));
      }
    }
  }

  void step_some() {
    std::vector<std::pair<int, std::size_t>> ready;  // instance, thread
    for (int i = 0; i < _settings.instances; ++i) {
      instance& inst = *_instances[static_cast<std::size_t>(i)];
      if (!inst.up()) continue;
      if (inst.paused_until >= 0) {
        if (_step < inst.paused_until) continue;
        inst.paused_until = -1;
      }
      for (std::size_t t = 0; t < inst.threads.size(); ++t) ready.emplace_back(i, t);
    }
    std::shuffle(ready.begin(), ready.end(), _rng);
    for (auto [i, t] : ready) {
      instance& inst = *_instances[static_cast<std::size_t>(i)];
      if (t >= inst.threads.size()) continue;  // the instance went down this step
      try {
        inst.threads[t]->step();
      } catch (const sim::crash& e) {
        kill(i, e.what());
      } catch (const std::exception& e) {
        died(i, fmt::format("died: {}", e.what()));
      }
    }
    if (after_each_step) after_each_step();
  }

  struct restorations {
    std::atomic<std::uint64_t> records{0};
    mutable std::mutex mutex;  // restore threads report too
    std::vector<std::int64_t> starts;
    std::vector<std::int64_t> ends;  // the changelog's end each restoration went to
  };
  struct counting_listener final : rill::restore_listener {
    counting_listener(restorations& r, std::shared_ptr<rill::restore_listener> also)
        : seen(r), also(std::move(also)) {}
    void on_restore_start(const task_id& task, std::string_view store, std::int64_t start,
                          std::int64_t end) override {
      {
        std::lock_guard lock(seen.mutex);
        seen.starts.push_back(start);
        seen.ends.push_back(end);
      }
      if (also) also->on_restore_start(task, store, start, end);
    }
    void on_batch_restored(const task_id& task, std::string_view store, std::int64_t next,
                           std::uint64_t records) override {
      if (also) also->on_batch_restored(task, store, next, records);
    }
    void on_restore_end(const task_id& task, std::string_view store,
                        std::uint64_t records) override {
      seen.records += records;
      if (also) also->on_restore_end(task, store, records);
    }
    restorations& seen;
    std::shared_ptr<rill::restore_listener> also;
  };

  rill::topology _topology;
  rill::config _cfg;
  std::uint64_t _seed;
  settings _settings;
  std::mt19937_64 _rng;
  std::shared_ptr<sim::fault_injector> _injector;
  std::unique_ptr<sim::cluster> _cluster;
  bool _faults_on;
  std::string _root;
  std::string _app_id;
  std::map<std::string, std::int32_t> _partitions;
  std::vector<std::string> _source_topics;
  std::vector<input_record> _input;
  std::vector<std::unique_ptr<instance>> _instances;
  std::vector<std::string> _events;
  std::int64_t _step = 0;
  int _crashes = 0;
  int _forced = 0;
  int _forced_crash_step = 0;
  std::vector<std::string> _unexpected;
  int _pauses = 0;
  int _restarts = 0;
  restorations _restored;
  std::size_t _fed = 0;
};

}  // namespace rill::crash
