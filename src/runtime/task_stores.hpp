// The state stores of one task: RocksDB stores in the task's locked state directory and
// in-memory ones, each under its changelogging and caching layers with a typed facade on
// top. Restored from the changelogs before the task runs; committed together with the
// changelog offsets they have reached.
//
// Lifecycle: construct (throws task_locked while another holder has the directory),
// restore, then flush_caches/commit per commit, close(clean) at the end. One task's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rill/detail/node.hpp>
#include <rill/detail/offsets.hpp>
#include <rill/state_store.hpp>

#include "src/kafka/types.hpp"
#include "src/runtime/store_metrics.hpp"
#include "state/record_cache.hpp"
#include "state/state_directory.hpp"
#include "state/task_db.hpp"
#include "topology/compiled.hpp"

namespace rill::runtime {

class global_stores;

// Shared by the tasks of one thread (or the test driver).
struct state_services {
  std::string application_id;
  const state::state_directory* directory = nullptr;
  const state::rocksdb_env* rocksdb = nullptr;
  state::record_cache* cache = nullptr;
  const global_stores* globals = nullptr;  // the app's global tables, if it has any
  // info: stores record the end-to-end latency of their puts; debug: they time every call.
  recording metrics = recording::off;
};

// The task's state directory is held by another instance or thread; try again later.
class task_locked : public detail::runtime_abort {
 public:
  using runtime_abort::runtime_abort;
};

// The last offset the producer delivered to a (changelog) partition, if any.
using delivered_offsets =
    std::function<std::optional<detail::record_offset>(const kafka::topic_partition&)>;

class task_stores {
 public:
  // Changelog partition of a logged store, and where its restoration starts.
  struct changelog {
    std::string store;
    kafka::topic_partition partition;
    std::int64_t start = 0;  // the checkpoint; 0 with none
    bool persistent = false;
    // Window and session stores' changelog keys end in their window's times: a record with a
    // shorter key (or none) is not one this topology wrote.
    std::size_t min_key_bytes = 0;
  };

  task_stores(task_id id, const detail::compiled_topology& topology, const state_services& services,
              detail::record_sender& sender, task_time time, bool metered = false);
  ~task_stores();

  bool empty() const noexcept { return _slots.empty(); }
  // The typed facade of a store of this task; nullptr if it has no such store.
  state_store* facade(std::string_view name);
  std::vector<changelog> changelogs() const;

  // Restoration: writes straight to the store (no changelog, no cache).
  void restore(const std::string& store, const state::task_db::restore_batch& batch,
               detail::next_offset next);
  // Bulk restoration of a RocksDB store far behind its changelog: stage() copies the records
  // into the store's chunk (as the database keys them) and returns the chunk's size in bytes;
  // ingest() writes the chunk as one sorted table file into the store, then `next` as its
  // checkpoint. Staged records not yet ingested are lost with the task, checkpoint unmoved.
  std::size_t stage(const std::string& store, const state::task_db::restore_batch& batch);
  void ingest(const std::string& store, detail::next_offset next);
  // Empties a store whose checkpoint is ahead of its changelog (the topic was recreated).
  void wipe(const std::string& store);

  // Writes cached entries below (forwarding aggregation results), upstream stores first.
  void flush_caches();
  // Applies pending writes with the changelog offsets the producer has delivered
  // (`delivered(tp)`: the last offset written to that partition, if any).
  void commit(const delivered_offsets& delivered);
  // clean: checkpoints made durable; dirty: writes since the last commit dropped.
  void close(bool clean);

  // The stores' figures (none unless metrics are recorded), and a new "recent" period for
  // their maximums.
  std::vector<store_stats> stats() const;
  void restart_recent_max();

 private:
  struct slot;
  task_id _id;
  std::unique_ptr<state::task_lock> _lock;
  std::unique_ptr<state::task_db> _db;
  std::vector<std::unique_ptr<slot>> _slots;  // in topology order
  bool _closed = false;
  bool _timed = false;  // metrics at debug: store calls are timed
};

}  // namespace rill::runtime
