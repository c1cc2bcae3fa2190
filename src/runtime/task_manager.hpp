// The tasks of one stream thread: made from the partitions the group assigns (one per
// subtopology and partition number), fed with polled records, committed and closed.
// Single-threaded: used by its stream thread only (rebalance callbacks run on it too).
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "src/kafka/client.hpp"
#include "src/runtime/stream_task.hpp"

namespace rill::runtime {

class task_manager {
 public:
  task_manager(const detail::compiled_topology& topology, task_settings settings,
               detail::record_sender& sender, std::size_t max_buffered_per_partition);
  ~task_manager();

  // Creates the tasks for newly assigned partitions and initializes them.
  void assign(const std::vector<topic_partition>& partitions);
  // Closes the tasks reading any of these partitions (clean: node close() runs).
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

  std::vector<partition_offset> committable() const;
  void mark_committed();
  bool commit_requested() const;
  bool has_buffered() const;
  std::size_t buffered() const;
  std::size_t size() const noexcept { return _tasks.size(); }
  task_counters counters() const;

 private:
  struct route {
    stream_task* task;
    std::size_t input;
  };
  const detail::compiled_topology& _topology;
  task_settings _settings;
  detail::record_sender& _sender;
  std::size_t _max_buffered;
  std::map<std::string, int, std::less<>> _subtopology_of;  // resolved source topic
  std::map<task_id, std::unique_ptr<stream_task>> _tasks;
  std::map<topic_partition, route> _routes;
  std::vector<topic_partition> _paused;
  task_counters _closed_counters;  // of tasks already closed
};

}  // namespace rill::runtime
