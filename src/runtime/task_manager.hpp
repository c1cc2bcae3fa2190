// The tasks of one stream thread: made from the partitions the group assigns (one per
// subtopology and partition number), started once their state is open and restored, fed
// with polled records, committed and closed.
// Single-threaded: used by its stream thread only (rebalance callbacks run on it too).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "src/kafka/client.hpp"
#include "src/runtime/restore_thread.hpp"
#include "src/runtime/stream_task.hpp"

namespace rill::runtime {

class task_manager {
 public:
  task_manager(const detail::compiled_topology& topology, task_settings settings,
               detail::record_sender& sender, std::size_t max_buffered_per_partition,
               state_services state, restore_thread* restore = nullptr);
  ~task_manager();

  // Creates the tasks for newly assigned partitions; they start in start_tasks().
  void assign(const std::vector<topic_partition>& partitions);
  // Exactly-once: before a task restores, the committed offsets of its inputs are read
  // and must be stable (no open transaction holds offsets for them; `read` returns false
  // until then). A transaction a zombie opened before it lost the task either commits
  // first, so the changelog end the task restores to includes it, or aborts. Every
  // commit then sends every task's offsets (see stream_task::committable_offsets).
  // `every`: each commit sends the offsets of every task (exactly-once).
  void read_committed_offsets_with(std::function<bool(std::vector<partition_offset>&)> read,
                                   bool every) {
    _read_committed_offsets = std::move(read);
    _commit_every_task = every;
  }
  // Opens the state of created tasks (while another holder has a task's directory or
  // their offsets are unstable, they wait), hands them to the restorer (restore_thread.hpp), and
  // initializes those with nothing to restore. A restoring task is not processed or punctuated
  // and its stores are not flushed or committed: the restorer is their one user until then.
  void start_tasks();
  // Initializes tasks whose restoration finished.
  void restored(const std::vector<stream_task*>& tasks);
  // True when every task is running (none waiting for its directory or restoring).
  bool all_running() const;

  // Closes the tasks reading any of these partitions (clean: node close() runs and
  // committed state is made durable; dirty: writes since the last commit are dropped).
  void close_tasks_of(const std::vector<topic_partition>& partitions, bool clean);
  void close_all(bool clean);
  // Every partition the current tasks read.
  std::vector<topic_partition> assigned() const;

  // Files polled records into their tasks' queues. Returns partitions to pause (their
  // queue is over the limit).
  std::vector<topic_partition> add(std::vector<consumed_record>& batch);
  // Paused partitions whose queue has drained below the limit; they are un-paused.
  std::vector<topic_partition> take_resumable();

  // Processes up to `max_per_task` records per ready task, punctuating stream time after
  // each. Returns how many records were processed.
  std::size_t process(timestamp_ms now, std::size_t max_per_task,
                      const std::function<bool(const topic_partition&)>& caught_up);
  void punctuate_wall_clock(timestamp_ms now);

  // Commit, in this order: flush_caches(), (the producer delivers), commit_state(), then the
  // consumer commits committable().
  void flush_caches();
  // `between`, if given, is called after one task's stores are written and before the next's.
  void commit_state(const delivered_offsets& delivered, const std::function<void()>& between = {});
  std::vector<partition_offset> committable() const;
  void mark_committed();
  bool commit_requested() const;
  bool has_buffered() const;
  std::size_t buffered() const;
  std::size_t size() const noexcept { return _tasks.size(); }
  task_counters counters() const;
  // Each task's counters and queue, for the metrics.
  struct task_snapshot {
    task_id id;
    task_counters counters;
    std::size_t buffered = 0;
    std::int64_t restore_remaining = 0;
    std::vector<sink_stats> sinks;
    std::vector<store_stats> stores;
  };
  // The tasks' figures; the "recent" maximums start again from here.
  std::vector<task_snapshot> snapshot() {
    std::vector<task_snapshot> out;
    out.reserve(_tasks.size());
    for (const auto& [id, e] : _tasks) {
      out.push_back({id, e.task->counters(), e.task->buffered(),
                     _restorer != nullptr ? _restorer->remaining(id) : 0, e.task->sink_latency(),
                     e.task->store_figures()});
      e.task->restart_recent_max();
    }
    return out;
  }
  // For tests: every running task.
  void for_each_running(const std::function<void(stream_task&)>& f) {
    for (auto& [id, e] : _tasks) {
      if (e.state == phase::running) f(*e.task);
    }
  }

 private:
  struct route {
    stream_task* task;
    std::size_t input;
  };
  enum class phase { created, restoring, running };
  struct entry {
    std::unique_ptr<stream_task> task;
    phase state = phase::created;
  };

  const detail::compiled_topology& _topology;
  task_settings _settings;
  detail::record_sender& _sender;
  std::size_t _max_buffered;
  state_services _state;
  restore_thread* _restorer;
  std::map<std::string, int, std::less<>> _subtopology_of;  // resolved source topic
  std::map<task_id, entry> _tasks;
  std::map<topic_partition, route> _routes;
  std::vector<topic_partition> _paused;
  std::function<bool(std::vector<partition_offset>&)> _read_committed_offsets;
  bool _commit_every_task = false;

  task_counters _closed_counters;  // of tasks already closed
};

}  // namespace rill::runtime
