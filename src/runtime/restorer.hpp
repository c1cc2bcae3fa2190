// Restoration: replays the changelogs of a thread's new tasks into their stores before the
// tasks run, from each store's checkpoint to the changelog's end (its high watermark) as it
// was when the task was assigned, in large batches. Under exactly-once the records are read
// read_committed, so restoration ends once every transaction open before that end has
// committed or aborted. One restore consumer per thread, outside the group;
// the thread calls restore_some() between polls of its main consumer, so the member keeps
// heartbeating and other tasks keep running while big stores restore.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include <rill/restore_listener.hpp>

#include "src/kafka/client.hpp"
#include "src/runtime/stream_task.hpp"

namespace rill::runtime {

class restorer {
 public:
  restorer(kafka::client_factory& clients, std::map<std::string, std::string> props,
           std::shared_ptr<restore_listener> listener, std::string thread_name, log::logger log);
  ~restorer();

  // Starts restoring a task whose state is open: `run` when it has nothing to restore (it
  // may run at once), `restore` when it restores, `later` when its changelogs' ends could not
  // be read for now (a retriable error; add it again later).
  enum class start { run, restore, later };
  start add(stream_task& task);
  // Forgets a task (it closed while restoring).
  void remove(const stream_task& task);
  // Applies what arrives within `timeout`; returns the tasks whose stores are all restored.
  std::vector<stream_task*> restore_some(std::chrono::milliseconds timeout);
  bool active() const { return !_partitions.empty(); }
  std::uint64_t restored() const noexcept { return _restored; }
  // Changelog records a task still has to restore (0 for a task not restoring).
  std::int64_t remaining(const task_id& task) const;

 private:
  struct partition;
  void assign();
  void finish(partition& p);
  [[noreturn]] void refuse_corrupt(const partition& p, const kafka::consumed_record& rec) const;

  kafka::client_factory& _clients;
  std::map<std::string, std::string> _props;
  std::shared_ptr<restore_listener> _listener;
  std::string _name;
  log::logger _log;
  std::unique_ptr<kafka::consumer> _consumer;
  std::unique_ptr<kafka::consumer>
      _ends;  // under read_committed: a read_uncommitted one, for high watermarks

  std::vector<std::unique_ptr<partition>> _partitions;
  // The consumer's assignment no longer matches _partitions; reassigned once before the next
  // poll, however many tasks came or went since (a reassignment restarts every fetch).
  bool _reassign = false;
  bool _flowing = false;  // the last poll returned records
  std::vector<kafka::consumed_record> _batch;
  std::uint64_t _restored = 0;
};

}  // namespace rill::runtime
