// app_shared: what every stream thread of one app shares, read-only once the threads run.
// Made from the config by settings_from (app_settings.hpp); the clients, the state directory
// and RocksDB are filled in by whoever runs the threads (streams_app, the crash tests).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <rill/restore_listener.hpp>

#include "src/kafka/client.hpp"
#include "src/log/log.hpp"
#include "src/runtime/stream_task.hpp"
#include "state/state_directory.hpp"
#include "state/task_db.hpp"

namespace rill::runtime {

class global_stores;

// What every thread of one app shares; read-only once the threads run.
struct app_shared {
  const detail::compiled_topology* topology = nullptr;
  std::string application_id;
  std::string client_id;
  log::logger log;  // its lines carry app=<application.id>
  task_settings tasks;
  kafka::client_factory* clients = nullptr;
  std::map<std::string, std::string> consumer_props;
  std::map<std::string, std::string> producer_props;
  std::vector<std::string> source_topics;                // resolved
  std::map<std::string, std::int32_t> partition_counts;  // resolved, sources and internal
  std::chrono::milliseconds commit_interval{30000};
  std::chrono::milliseconds poll_timeout{100};
  std::chrono::milliseconds task_timeout{300000};
  std::size_t buffered_per_partition = 1000;
  // State: shared by every thread of the app.
  const state::state_directory* state_directory = nullptr;
  const state::rocksdb_env* rocksdb = nullptr;
  const global_stores* globals = nullptr;  // global tables, filled by the global thread
  std::size_t cache_bytes_per_thread = 10 << 20;
  // A RocksDB store at least this many records behind its changelog restores in bulk.
  std::int64_t restore_bulk_min_records = 10000;
  // Each stream thread restores on a restore thread of its own (restore_thread.hpp).
  bool restore_thread = false;
  std::shared_ptr<rill::restore_listener> restore_events;
  std::chrono::milliseconds state_cleanup_delay{600000};
  std::shared_ptr<std::atomic<std::int64_t>> next_state_cleanup;  // steady-clock ms
  // Exactly-once v2: one transactional producer per thread, transactional.id
  // "<transactional_id_prefix>-<thread index>" (prefix: "<application.id>-<process id>").
  bool exactly_once = false;
  bool record_metrics = true;  // metrics.recording.level is not off
  // statistics.interval.ms of each thread's own consumer and producer, which the client
  // metrics read ("0": none). Kept out of consumer_props and producer_props: the restore,
  // global and discovery clients share those and are seldom polled, so statistics nobody
  // serves would pile up in their queues.
  std::string consumer_statistics_interval = "0";
  std::string producer_statistics_interval = "0";
  std::string transactional_id_prefix;
  std::string process_id;  // process.id, or the one kept in the state directory
  // Time: a monotonic clock for intervals and timeouts, and the wall clock punctuations see.
  // Tests on the simulated cluster give both a logical clock.
  std::function<std::int64_t()> monotonic_ms;
  // Called at named points of a commit, so crash tests can kill a thread there:
  // "before_state_commit", "after_state_commit", "between_state_commits" (after one task's
  // stores are written, before the next's) and "cache_flush" (between two entries of a
  // record cache's flush). Empty in production.
  std::function<void(const char* point)> fault_hook;
  bool real_backoff = true;  // sleep between retries (off when a test steps threads itself)
};

}  // namespace rill::runtime
