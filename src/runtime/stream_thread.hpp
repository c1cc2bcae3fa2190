// One stream thread: its own consumer (a group member) and producer, and the tasks of the
// partitions the group gives it. Runs poll -> process -> punctuate -> commit until asked
// to stop. Everything but request_stop() and the counters runs on the thread itself; with
// restore.thread.enabled, restoration runs on a restore thread it owns (restore_thread.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "src/kafka/client.hpp"
#include "src/runtime/app_shared.hpp"
#include "src/runtime/record_collector.hpp"
#include "src/runtime/restore_thread.hpp"
#include "src/runtime/task_manager.hpp"
#include "state/record_cache.hpp"

namespace rill::runtime {

enum class thread_state { starting, rebalancing, running, stopping, dead };

struct thread_counters {
  std::atomic<std::uint64_t> processed{0};
  std::atomic<std::uint64_t> skipped{0};
  std::atomic<std::uint64_t> dead_lettered{0};
  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> rebalances{0};
  std::atomic<std::uint64_t> rewinds{0};
  std::atomic<std::uint64_t> buffered{0};
  std::atomic<std::uint64_t> pauses{0};
  std::atomic<std::uint64_t> restored{0};
  std::atomic<std::uint64_t> late{0};
  // For the metrics (include/rill/metrics.hpp), unless metrics.recording.level is off.
  std::atomic<std::uint64_t> polls{0};
  std::atomic<std::uint64_t> polled_records{0};
  std::atomic<std::uint64_t> blocked_ns{0};      // waiting in the consumer's poll
  std::atomic<std::uint64_t> process_ns{0};      // in processing passes
  std::atomic<std::uint64_t> process_max_ns{0};  // the highest per-record time of one pass
  std::atomic<std::uint64_t> commit_ns{0};
  std::atomic<std::uint64_t> commit_max_ns{0};
  std::atomic<std::uint64_t> punctuations{0};
  std::atomic<std::uint64_t> enforced{0};
  std::atomic<std::int64_t> start_ms{0};  // wall clock
};

// What the metrics read of a thread beside its counters: totals some seconds ago (for
// rates) and each task's counters, refreshed by the thread about once a second.
struct thread_samples {
  struct totals {
    std::int64_t at_ms = -1;  // steady clock; -1: none yet
    std::uint64_t processed = 0, polls = 0, polled_records = 0, commits = 0, punctuations = 0;
    std::vector<task_manager::task_snapshot> tasks;
  };
  std::deque<totals> history;  // a second apart, the last ~10 s: rates are over it
  // The latest statistics of the thread's consumer (its partitions cut to the assignment)
  // and producer, as the last sample found them; none where the clients have none.
  std::optional<kafka::client_statistics> consumer;
  std::optional<kafka::client_statistics> producer;
};

class stream_thread final : private kafka::rebalance_listener {
 public:
  using state_callback = std::function<void(int index, thread_state)>;
  using error_callback = std::function<void(int index, std::exception_ptr)>;

  stream_thread(int index, const app_shared& app, state_callback on_state, error_callback on_error);
  ~stream_thread();

  void start();
  // Asks the loop to finish: it commits, closes its tasks and leaves the group.
  void request_stop() { _stop.store(true); }
  void join();

  // Driving the thread without an OS thread (the crash tests step instances themselves):
  // set_up() makes the clients and subscribes, step() runs one loop iteration, tear_down()
  // finishes cleanly, crash() drops everything as a killed process would (no commit, no
  // leaving the group, RocksDB memtables lost). Exceptions leave step() to the caller.
  void set_up();
  void step() { run_once(); }
  void tear_down() { shutdown(true); }
  void crash();
  // For tests: the thread's tasks.
  task_manager* tasks() noexcept { return _tasks.get(); }
  bool finished() const { return _finished.load(); }
  int index() const noexcept { return _index; }
  const thread_counters& counters() const noexcept { return _counters; }
  thread_samples samples() const {
    std::lock_guard lock(_samples_mutex);
    return _samples;
  }
  const std::string& name() const noexcept { return _name; }

  // Interactive queries: runs f with this thread's tasks, from another thread, between two
  // steps of this one — under exactly-once only while nothing it processed is uncommitted, so
  // a query never sees what an aborted transaction wrote. Returns false if that did not come
  // within `timeout`.
  bool query(const std::function<void(task_manager&)>& f, std::chrono::milliseconds timeout);
  // The partitions the group gave this thread now (discovery reads them from other threads).
  std::set<kafka::topic_partition> assignment() const;

 private:
  void run();
  void run_once();
  void maybe_commit(bool force);
  // Commits: at-least-once (flush, state, offsets) or exactly-once (offsets and output in one
  // transaction, then state). stream_thread_commit.cpp.
  // Returns what made a commit fail (at-least-once handles its own and returns nothing).
  kafka::error commit();
  kafka::error commit_transaction(const std::vector<kafka::partition_offset>& offsets);
  void backoff(std::chrono::milliseconds how_long) const;
  // The one place transaction errors are sorted: task migrated, abortable, retriable, fatal.
  void on_transaction_error(const kafka::error& e, std::string_view during);
  // A producer fenced by a newer one with its transactional.id: throws, naming the process id
  // another instance shares, unless the transaction may have timed out instead (then returns).
  void stop_if_replaced(const kafka::error& e);
  // Aborts the open transaction, if any; if the abort fails, replaces the producer.
  void abort_open_transaction(std::chrono::milliseconds timeout);
  std::int64_t transaction_timeout_ms() const;
  // After a failed delivery or an aborted transaction: drop everything since the last
  // commit, make a new producer, and read from the committed offsets again.
  void rewind(const kafka::error& why);
  // The second half of a rewind: reads the committed offsets of the partitions being rewound
  // and seeks there. While they are unstable (a zombie's transaction still open) it returns
  // and is tried again next loop, so the thread keeps polling (its membership) and time moves
  // for the transaction to end; past task.timeout.ms it throws.
  void finish_rewind();
  void make_producer();
  void init_transactions();
  std::int64_t now_ms() const;
  void hook(const char* point) const {
    if (_app.fault_hook) _app.fault_hook(point);
  }
  void shutdown(bool clean);
  void set_state(thread_state s);
  void publish_counters();
  void maybe_clean_state_directory();

  // Throws when a partition is beyond the count its topic had when the app started (the
  // topic grew): a task for it would split per-key state and find no changelog partition.
  void refuse_grown_topics(const std::vector<kafka::topic_partition>& partitions);
  void on_assigned(const std::vector<kafka::topic_partition>& partitions) override;
  void on_revoked(const std::vector<kafka::topic_partition>& partitions) override;
  void on_lost(const std::vector<kafka::topic_partition>& partitions) override;

  const int _index;
  const app_shared& _app;
  const std::string _name;
  const log::logger _log;  // app= and thread=<index>
  state_callback _on_state;
  error_callback _on_error;
  std::thread _thread;
  std::atomic<bool> _stop{false};
  std::atomic<bool> _finished{false};

  std::unique_ptr<kafka::consumer> _consumer;
  std::unique_ptr<kafka::producer> _producer;
  std::unique_ptr<record_collector> _collector;
  std::unique_ptr<state::record_cache> _cache;
  std::unique_ptr<restore_thread> _restorer;  // destroyed after _tasks, which uses it
  std::unique_ptr<task_manager> _tasks;
  bool _starting_tasks = false;  // assigned tasks not all running yet
  std::uint64_t _sent_at_last_commit = 0;
  std::vector<kafka::consumed_record> _batch;
  std::int64_t _last_commit = 0;
  std::int64_t _failing_since = -1;                // producer failures
  std::vector<kafka::topic_partition> _rewinding;  // paused, waiting for their committed offsets
  std::int64_t _rewind_asked = -1;
  std::int64_t _rewind_tries = 0;
  std::int64_t _commit_failing_since = -1;  // commit failures
  thread_counters _counters;
  mutable std::mutex _samples_mutex;
  thread_samples _samples;
  std::int64_t _next_sample_ms = 0;
  void sample(std::int64_t now);
  // Queries: the thread holds _query_mutex while it steps; a waiting query gets it between
  // steps. _uncommitted: records processed since the last commit (exactly-once).
  std::mutex _query_mutex;
  std::condition_variable _query_cv;
  std::atomic<int> _queries_waiting{0};
  bool _uncommitted = false;
  void forget_assignment(const std::vector<kafka::topic_partition>& partitions);
  mutable std::mutex _assignment_mutex;
  std::set<kafka::topic_partition> _assignment;
};

}  // namespace rill::runtime
