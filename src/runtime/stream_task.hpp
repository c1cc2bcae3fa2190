// A stream task: one subtopology's nodes for one partition number. The same class runs
// under a stream thread (src/runtime) and under the test driver (src/testing).
//
// Lifecycle: construct (instantiates and wires the nodes), initialize(), then any number
// of add_record / process / punctuate / commit calls, then close(). Single-threaded: every
// call on one thread. Records of its input partitions wait in per-partition queues; the
// next record processed is the queued head with the smallest timestamp (stream time order).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rill/detail/node.hpp>
#include <rill/handlers.hpp>
#include <rill/tracing.hpp>

#include "src/kafka/types.hpp"
#include "src/log/log.hpp"
#include "src/runtime/punctuation.hpp"
#include "src/runtime/ring_buffer.hpp"
#include "src/runtime/store_metrics.hpp"
#include "src/runtime/task_stores.hpp"
#include "topology/compiled.hpp"

namespace rill {
class config;
}

namespace rill::runtime {

using kafka::consumed_record;
using kafka::partition_offset;
using kafka::topic_partition;

// How a task treats failed records, built from the config (and custom handlers).
struct error_policy {
  handler_response on_deserialization = handler_response::fail;
  handler_response on_processing = handler_response::fail;
  std::string dead_letter_topic;
  exception_handler custom_deserialization;  // overrides on_deserialization when set
  exception_handler custom_processing;

  // Reads default.deserialization.exception.handler, processing.exception.handler and
  // errors.dead.letter.queue.topic.name; throws config_error if dead_letter has no topic.
  static error_policy from_config(const rill::config& cfg);
};

// How a task's windows close and where late records go, from the config.
struct window_policy {
  // window.close.idle.ms: after this long without input (wall clock), windows close as if
  // stream time had moved on with the wall clock. -1: only stream time closes windows.
  std::int64_t close_idle_ms = -1;
  std::string late_records_topic;  // late.records.topic: empty, late records are only counted
  static window_policy from_config(const rill::config& cfg);
};

struct task_settings {
  std::string application_id;
  std::int64_t max_task_idle_ms = 0;  // -1: never wait for empty partitions
  error_policy errors;
  window_policy windows;
  std::function<timestamp_ms()> wall_clock;
  trace_hook trace;  // empty: none
  log::logger log;   // the task's lines add task=<id> to its fields (app=, thread=)
  recording metrics = recording::off;  // info and up: end-to-end latency at sinks and stores
};

struct task_counters {
  std::uint64_t processed = 0;
  std::uint64_t skipped = 0;  // by skip or dead_letter
  std::uint64_t dead_lettered = 0;
  std::uint64_t punctuations = 0;
  std::uint64_t late = 0;      // record-window pairs dropped because the window had closed
  std::uint64_t enforced = 0;  // records processed while an input was empty, past max.task.idle.ms
  std::int64_t lateness_sum = 0;  // stream time minus the record's timestamp, when behind
  std::int64_t lateness_max = 0;
};

class stream_task final : public detail::task_context {
 public:
  stream_task(task_id id, const detail::compiled_topology& topology, task_settings settings,
              detail::record_sender& sender);
  ~stream_task() override;

  // Opens the task's stores. Returns false while another instance or thread holds its
  // state directory (try again later).
  bool open_state(const state_services& services);
  // The stores (nullptr before open_state or without stores).
  task_stores* stores() noexcept { return _stores.get(); }
  // Calls every node's init, children before parents; the task can then process.
  void initialize();
  bool initialized() const noexcept { return _initialized; }
  // Writes cached store entries down, forwarding aggregation results (before a commit).
  void flush_caches();
  // Applies the stores' pending writes with their changelog offsets (after the producer
  // delivered everything; see task_stores::commit).
  void commit_state(const delivered_offsets& delivered);
  // Closes the nodes, then the stores: clean keeps what was committed durable, dirty drops
  // what was not. Safe to call twice.
  void close(bool clean = true);

  // The input partitions (resolved topic names), in a fixed order; indexes below refer to it.
  const std::vector<topic_partition>& inputs() const noexcept { return _inputs; }
  // Index of (topic, partition) in inputs(), or -1.
  int input_index(std::string_view topic, std::int32_t partition) const;

  void add_record(std::size_t input, consumed_record&& r);
  std::size_t buffered(std::size_t input) const { return _queues[input].records.size(); }
  std::size_t buffered() const;

  // True when the next record may be processed now: every input has records, or the empty
  // ones may wait no longer (max.task.idle.ms; an empty input that `caught_up` says has
  // nothing on the broker never makes the task wait). `enforce` processes what is queued.
  bool ready(timestamp_ms now, bool enforce = false,
             const std::function<bool(std::size_t input)>& caught_up = {});
  // Processes the next record. Returns false if nothing is queued.
  // Throws streams_error when a handler says fail.
  bool process_next();
  // Runs due punctuations; returns whether any ran. Checked after every record: inline.
  bool punctuate_stream_time() {
    if (_stream_time < 0 || _stream_time_punctuations.next_due() > _stream_time) return false;
    return run_stream_time_punctuations();
  }
  bool punctuate_wall_clock(timestamp_ms now);

  // Where the inputs start: the group's committed offsets (-1: none), as consumed and
  // committed so far.
  void start_from(const std::vector<partition_offset>& committed);
  // Next offsets to commit: for inputs that advanced since mark_committed(), or, with
  // `every`, for every input whose position is known (exactly-once sends them all, so a
  // transaction that is open holds every one of its tasks' offsets unstable).
  std::vector<partition_offset> committable_offsets(bool every = false) const;
  void mark_committed();
  bool commit_requested() const noexcept { return _commit_requested; }

  const task_counters& counters() const noexcept { return _counters; }
  // End-to-end latency per sink topic (with metrics recorded), and its stores' figures.
  const std::vector<sink_stats>& sink_latency() const noexcept { return _sinks.stats; }
  std::vector<store_stats> store_figures() const;
  // Starts a new period for the "recent" maximums (the thread samples once a second).
  void restart_recent_max();

  // task_context
  const task_id& id() const override { return _id; }
  std::string_view application_id() const override { return _settings.application_id; }
  timestamp_ms stream_time() const override { return _stream_time; }
  timestamp_ms wall_clock_time() const override { return _settings.wall_clock(); }
  const record_context& current_record() const override { return _current; }
  cancellable schedule(std::chrono::milliseconds interval, punctuation_type type,
                       std::function<void(timestamp_ms)> callback, detail::node& owner) override;
  detail::record_sender& sender() override {
    return _settings.metrics != recording::off ? _sinks : _sender;
  }
  bool on_deserialization_error(const detail::raw_record& r, const std::exception& e) override;
  void request_commit() override { _commit_requested = true; }
  state_store& get_store(std::string_view name, const detail::node& asker) override;
  // This task's facade of a global table's store, made on first use; null if none.
  state_store* global_facade(std::string_view name);
  void on_late_record(const detail::node& n, timestamp_ms window_start, timestamp_ms window_end,
                      timestamp_ms lateness) override;
  std::int64_t window_close_idle_ms() const override { return _settings.windows.close_idle_ms; }

 private:
  struct input_queue {
    detail::source_node* source = nullptr;
    ring_buffer<consumed_record> records;
    std::int64_t consumed_offset = -1;  // next offset to commit
    std::int64_t committed_offset = -1;
  };

  handler_response decide(const exception_handler& custom, handler_response builtin,
                          const error_context& ctx, const std::exception& e) const;
  // Runs the trace hook on the record about to be processed, keeping its headers as they
  // came for the error paths; what the hook throws leaves as a user_code_error of `source`.
  void trace(detail::raw_record& raw, const detail::node& source);
  bool run_stream_time_punctuations();
  // A record's headers as consumed (before the trace hook changed them).
  const rill::headers& consumed_headers(const detail::raw_record& r) const {
    return _traced ? _consumed_headers : r.headers;
  }
  // What the exception handlers see of a failed record (node: where it failed, if known).
  error_context context_of(const detail::raw_record& r, std::string_view node) const;
  void dead_letter(const detail::raw_record& r, std::string_view node, const std::exception& e);
  void on_processing_error(const detail::raw_record* r, const detail::user_code_error& e);
  void invoke_punctuator(detail::node& owner, const std::function<void(timestamp_ms)>& fn,
                         timestamp_ms now);

  // Sends for the sink nodes, recording each record's end-to-end latency per topic.
  struct sink_meter final : detail::record_sender {
    stream_task& task;
    std::vector<sink_stats> stats;
    sink_stats* last = nullptr;  // the entry of the last send's topic
    explicit sink_meter(stream_task& t) : task(t) {}
    void send(std::string_view topic, std::int32_t partition, std::optional<bytes_view> key,
              std::optional<bytes_view> value, const rill::headers& headers,
              timestamp_ms timestamp) override;
    std::int32_t partition_count(std::string_view topic) override {
      return task._sender.partition_count(topic);
    }
  };

  task_id _id;
  task_settings _settings;
  log::logger _log;
  detail::record_sender& _sender;
  std::vector<std::unique_ptr<detail::node>> _nodes;   // parents before children
  std::vector<std::vector<std::string>> _node_stores;  // stores connected to each node
  const detail::compiled_topology& _topology;
  std::unique_ptr<task_stores> _stores;
  const global_stores* _globals = nullptr;
  std::map<std::string, std::unique_ptr<state_store>, std::less<>> _global_facades;
  std::vector<topic_partition> _inputs;
  std::deque<input_queue> _queues;  // deque: queues never move once made
  punctuation_queue _stream_time_punctuations;
  punctuation_queue _wall_clock_punctuations;
  timestamp_ms _stream_time = -1;
  timestamp_ms _now = 0;  // the wall clock as the thread last asked whether the task is ready
  timestamp_ms _idle_since = -1;
  record_context _current;
  const detail::raw_record* _current_raw = nullptr;  // while a record is processed
  bool _late_routed = false;        // the current record went to late.records.topic already
  bool _traced = false;             // the trace hook changed the current record's headers
  rill::headers _consumed_headers;  // and these are the ones it came with
  bool _initialized = false;
  bool _closed = false;
  bool _commit_requested = false;
  task_counters _counters;
  sink_meter _sinks{*this};
};

}  // namespace rill::runtime
