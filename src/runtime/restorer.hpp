// Restoration: replays the changelogs of a thread's new tasks into their stores before the
// tasks run, from each store's checkpoint to the changelog's end (its high watermark) as it
// was when the task was assigned, in large batches. A RocksDB store at least
// `bulk_min_records` behind its changelog restores in bulk: records are staged in chunks
// that are written as sorted table files and ingested (no memtable insert per record); a
// store nearer its end writes batches. The ends of all changelogs of the tasks added
// together are read in one request. Under exactly-once the records are read
// read_committed, so restoration ends once every transaction open before that end has
// committed or aborted. One restore consumer per thread, outside the group. Not thread-safe:
// restore_thread.hpp runs it on a restore thread of its own, or on the stream thread between
// polls of its main consumer, so the member keeps heartbeating and other tasks keep running
// while big stores restore.
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
           std::shared_ptr<restore_listener> listener, std::string thread_name, log::logger log,
           std::int64_t bulk_min_records = default_bulk_min_records);
  static constexpr std::int64_t default_bulk_min_records = 10000;
  ~restorer();

  // Starts restoring tasks whose state is open, one answer per task: `run` when it has
  // nothing to restore (it may run at once), `restore` when it restores, `later` when the
  // changelogs' ends could not be read for now (a retriable error; add it again later).
  enum class start { run, restore, later };
  std::vector<start> add(const std::vector<stream_task*>& tasks);
  start add(stream_task& task) { return add(std::vector<stream_task*>{&task}).front(); }
  // Forgets a task (it closed while restoring).
  void remove(const stream_task& task);
  // Applies what arrives within `timeout`; returns the tasks whose stores are all restored.
  std::vector<stream_task*> restore_some(std::chrono::milliseconds timeout);
  bool active() const { return !_partitions.empty(); }
  std::uint64_t restored() const noexcept { return _restored; }
  // Changelog records each restoring task still has to restore.
  std::map<task_id, std::int64_t> remaining_by_task() const;

 private:
  struct partition;
  void open_consumers();
  start begin(stream_task& task, const std::vector<task_stores::changelog>& logs,
              const kafka::partition_offset* ends);
  void assign();
  std::uint64_t apply(partition& p);
  void report(partition& p, std::uint64_t applied, std::chrono::steady_clock::time_point now,
              bool& changed);
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
  std::int64_t _bulk_min_records;
  std::size_t _staged_bytes = 0;  // bulk restoration's chunks, all partitions
};

}  // namespace rill::runtime
