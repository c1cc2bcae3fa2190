// streams_app: runs a topology as a Kafka application (Kafka Streams' KafkaStreams).
//
//   rill::streams_app app(topology, rill::config{{"application.id", "orders"},
//                                                {"bootstrap.servers", "embedded"}});
//   app.start();
//   rill::wait_for_shutdown_signal();
//   app.close();
//
// `num.stream.threads` threads each join the consumer group `application.id` with their own
// consumer and producer; the partitions the group assigns become tasks, one per
// (subtopology, partition). Scale out by running more instances with the same
// application.id. Thread-safe: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rill/config.hpp>
#include <rill/handlers.hpp>
#include <rill/metrics.hpp>
#include <rill/queries.hpp>
#include <rill/restore_listener.hpp>
#include <rill/serde.hpp>
#include <rill/task_id.hpp>
#include <rill/topology.hpp>
#include <rill/tracing.hpp>

namespace rocksdb {
struct Options;
}

namespace rill {

enum class app_state {
  created,           // constructed, not started
  rebalancing,       // some thread is joining the group or restoring
  running,           // every thread has its tasks and is processing
  pending_shutdown,  // close() was called
  not_running,       // closed
  error,             // a thread failed and the handler said shut down; close() to clean up
};
std::string_view to_string(app_state s);

// What to do when a stream thread dies of an exception.
enum class uncaught_response {
  replace_thread,   // start a new thread in its place (its partitions go back to the group)
  shutdown_client,  // stop every thread of this instance; the app goes to error
};

struct app_counters {
  std::uint64_t processed = 0;
  std::uint64_t skipped = 0;  // skipped or dead-lettered by a handler
  std::uint64_t dead_lettered = 0;
  std::uint64_t commits = 0;
  std::uint64_t rebalances = 0;
  std::uint64_t rewinds = 0;  // recoveries from the last commit after a producer failure
  std::uint64_t replaced_threads = 0;
  std::uint64_t buffered = 0;  // records waiting in task queues now
  std::uint64_t pauses = 0;    // times a partition was paused because its queue was full
  std::uint64_t restored = 0;  // changelog records restored into stores
  std::uint64_t late = 0;      // (record, window) pairs dropped: the window had closed
};

class streams_app : public detail::store_queries<streams_app> {
 public:
  // Checks the config (unknown settings, librdkafka properties, handler settings) and the
  // topology; throws config_error naming the problem.
  streams_app(topology t, config c);
  ~streams_app();  // close()
  streams_app(const streams_app&) = delete;
  streams_app& operator=(const streams_app&) = delete;

  // Starts the threads. Throws rill::error if a source topic is missing, co-partitioned
  // topics differ in partition count, or internal topics cannot be created.
  void start();
  // Commits, closes the tasks, leaves the group. Returns false if the threads did not stop
  // within `timeout` (they are left to finish on their own).
  bool close(std::chrono::milliseconds timeout = std::chrono::minutes(5));

  // Deletes this instance's local state: `<state.dir>/<application.id>` and everything in it
  // (Kafka Streams' cleanUp()). The next start restores every store from its changelog. Only
  // before start() or after close(); throws rill::error otherwise, or while another
  // instance on this host uses the directory. `rill reset` does this and more.
  void cleanup();

  app_state state() const;
  // Waits until the app is running (true) or has stopped/failed or the timeout passed (false).
  bool wait_until_running(std::chrono::milliseconds timeout) const;
  // Called on every state change, from the thread that caused it.
  void set_state_listener(std::function<void(app_state now, app_state before)> listener);
  // Decides what happens when a stream thread dies. Default: shutdown_client.
  void set_uncaught_exception_handler(
      std::function<uncaught_response(const std::exception&)> handler);
  // Custom handlers for bad records, instead of the config's built-in choices.
  void set_deserialization_handler(exception_handler handler);
  void set_processing_handler(exception_handler handler);
  // Called per input record each task processes, to give each processing step a span of its
  // own (before start(); <rill/tracing.hpp>, e.g. rill::child_span_per_step()).
  void set_trace_hook(trace_hook hook);
  // Who hears about state restoration (before start()).
  void set_restore_listener(std::shared_ptr<restore_listener> listener);
  // Adjusts the RocksDB options of each store (before start()); needs <rocksdb/options.h>.
  void set_rocksdb_config_setter(
      std::function<void(const std::string& store, rocksdb::Options& options)> setter);

  // The brokers this app talks to ("embedded" resolved to the in-process broker's address).
  std::string bootstrap_servers() const;
  app_counters counters() const;
  // A snapshot of the metrics (<rill/metrics.hpp>): Kafka Streams' names, groups and tags.
  std::vector<metric> metrics() const;

  // Interactive queries of this instance's stores (<rill/queries.hpp>): every local task's
  // store of that name, and global tables. At-least-once: what has been processed;
  // exactly-once: what has been committed (a query waits for the thread's next commit, at
  // most commit.interval.ms). Safe from any thread. While the app is not running (not started,
  // rebalancing, closing) a query throws store_unavailable_error: try again.
  // key_value_store<K, V>(name), window_store<K, V>(name), session_store<K, V>(name) come
  // from detail::store_queries; they read through this source.
  std::shared_ptr<detail::store_source> store_source();

  // Discovery (needs application.server): the instance whose active task holds `key` of
  // `store` — serialized with `serde`, which must be the store's key serde — as the
  // instances have announced themselves (docs/queries.md). Throws invalid_store_error for an
  // unknown store, store_unavailable_error while no instance holds that partition (during a
  // rebalance), config_error without application.server. A global table's keys are on every
  // instance: the answer is this one.
  template <class K>
  key_metadata metadata_for_key(const std::string& store, const K& key,
                                const any_serde<K>& serde = default_serde<K>()) const {
    bytes b;
    serde.encode(key, b, serde_context{store, true, nullptr});
    return metadata_for_key_bytes(store, b);
  }
  key_metadata metadata_for_key_bytes(const std::string& store, bytes_view key) const;
  // Every instance that has announced itself, this one included, by application.server.
  std::vector<instance_metadata> all_metadata() const;
  // Serves `page` for GET `path` on the HTTP endpoint (application.server set), beside the
  // store, health and topology routes (docs/queries.md), e.g. a read model's HTML page at
  // "/". Before start(). `path` starts with '/' and is not one of Rill's own routes
  // (/stores..., /health, /topology..., /metrics): rill::error otherwise. A page that throws
  // answers 500 with the reason.
  void add_http_page(const std::string& path, http_page_fn page);
  // This instance's host:port as the others know it (application.server, with the port
  // the HTTP endpoint bound when that was 0); empty until start() or without the setting.
  std::string advertised_server() const;

 private:
  struct impl;
  std::unique_ptr<impl> _impl;
};

// Blocks until SIGINT or SIGTERM arrives; returns the signal number.
int wait_for_shutdown_signal();

}  // namespace rill
