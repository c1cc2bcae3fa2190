// A stream thread's commits, for both guarantees, and its recovery from failed ones.
//
// At-least-once: flush the caches, flush the producer (everything sent is delivered), write
// the stores with their changelog offsets, commit the consumed offsets.
//
// Exactly-once v2: flush the caches, send the consumed offsets into the thread's open
// transaction with the consumer's group metadata, commit the transaction; only then write
// the stores with their changelog offsets. Local state is thus never ahead of the last
// committed transaction: after any failure, restoring the changelog's committed tail from
// the checkpoint catches it up.
#include <thread>

#include <fmt/format.h>

#include <rill/errors.hpp>

#include "src/runtime/logging.hpp"

#include "src/runtime/stream_thread.hpp"

namespace rill::runtime {

std::int64_t stream_thread::now_ms() const {
  if (_app.monotonic_ms) return _app.monotonic_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void stream_thread::backoff(std::chrono::milliseconds how_long) const {
  if (_app.real_backoff) std::this_thread::sleep_for(how_long);
}

void stream_thread::make_producer() {
  auto props = _app.producer_props;
  props["client.id"] = _name + "-producer";
  props["statistics.interval.ms"] = _app.producer_statistics_interval;
  if (_app.exactly_once)
    props["transactional.id"] = fmt::format("{}-{}", _app.transactional_id_prefix, _index);
  _producer = _app.clients->make_producer(props);
  std::vector<std::string> topics;  // the internal ones (sinks are looked up at their first send)
  for (const auto& [topic, n] : _app.partition_counts) topics.push_back(topic);
  _producer->learn_topics(topics, std::chrono::seconds(1));
  if (_app.exactly_once) init_transactions();
  if (_collector) {
    _collector->set_producer(*_producer);
  } else {
    _collector = std::make_unique<record_collector>(*_producer);
    for (const auto& [topic, n] : _app.partition_counts) _collector->set_partition_count(topic, n);
  }
  _collector->set_transactional(_app.exactly_once);
}

// Fences any earlier producer with this transactional.id and aborts what it left open. A
// retriable error (the coordinator moving, a timeout) is tried again until task.timeout.ms,
// as Kafka Streams does; counted as well as timed, since a simulated clock may not move.
void stream_thread::init_transactions() {
  const std::int64_t started = now_ms();
  const std::int64_t limit = _app.task_timeout.count();
  for (std::int64_t tries = 1;; ++tries) {
    kafka::error e = _producer->init_transactions(_app.task_timeout);
    if (!e) return;
    if (!e.retriable() || now_ms() - started > limit || tries * 100 > limit) {
      throw streams_error(
          fmt::format("{}: cannot initialize transactions: {}", _name, e.message()));
    }
    _log.warn("initializing transactions failed, retrying", kv("error", e.message()));
    backoff(std::chrono::milliseconds(100));
  }
}

void stream_thread::maybe_commit(bool force) {
  if (!force && !_tasks->commit_requested() &&
      now_ms() - _last_commit < _app.commit_interval.count())
    return;
  const auto started = std::chrono::steady_clock::now();
  if (kafka::error e = commit()) return on_transaction_error(e, "commit");
  if (!_app.record_metrics) return;
  const auto ns = static_cast<std::uint64_t>((std::chrono::steady_clock::now() - started).count());
  _counters.commit_ns.fetch_add(ns, std::memory_order_relaxed);
  if (ns > _counters.commit_max_ns.load(std::memory_order_relaxed))
    _counters.commit_max_ns.store(ns, std::memory_order_relaxed);
}

kafka::error stream_thread::commit() {
  _last_commit = now_ms();
  // Cached store entries go down first: they may send changelog and sink records.
  _tasks->flush_caches();
  auto offsets = _tasks->committable();
  auto delivered = [this](const kafka::topic_partition& tp) {
    return _producer->delivered_offset(tp);
  };

  if (_app.exactly_once) {
    if (offsets.empty() && !_collector->in_transaction()) {
      _uncommitted = false;  // nothing is pending
      return {};
    }
    if (kafka::error e = commit_transaction(offsets)) return e;
    hook("before_state_commit");
    _tasks->commit_state(delivered, [this] { hook("between_state_commits"); });
    hook("after_state_commit");
    _tasks->mark_committed();
    _uncommitted = false;
    ++_counters.commits;
    return {};
  }

  if (_collector->sent() != _sent_at_last_commit) {
    if (kafka::error e = _producer->flush(_app.task_timeout)) throw send_failed(e);
    _sent_at_last_commit = _collector->sent();
  }
  // Only now, with the changelog delivered, do the stores' writes and offsets become durable.
  hook("before_state_commit");
  _tasks->commit_state(delivered, [this] { hook("between_state_commits"); });
  hook("after_state_commit");
  if (offsets.empty()) return {};
  if (kafka::error e = _consumer->commit(offsets)) {
    if (e.type() == kafka::error::kind::task_migrated) {
      _log.warn(
          "commit failed, the group is rebalancing; the partitions' new owners reprocess from the "
          "last commit",
          kv("error", e.message()));
      return {};
    }
    if (e.type() == kafka::error::kind::fatal)
      throw streams_error(fmt::format("{}: {}", _name, e.message()));
    const std::int64_t now = now_ms();
    if (_commit_failing_since < 0) _commit_failing_since = now;
    if (now - _commit_failing_since > _app.task_timeout.count()) {
      throw streams_error(
          fmt::format("{}: offsets could not be committed for longer than task.timeout.ms: {}",
                      _name, e.message()));
    }
    _log.warn("commit failed, retrying at the next interval", kv("error", e.message()));
    return {};
  }
  _commit_failing_since = -1;
  _tasks->mark_committed();
  ++_counters.commits;
  _log.debug("committed", kv("offsets", offsets.size()));
  return {};
}

kafka::error stream_thread::commit_transaction(
    const std::vector<kafka::partition_offset>& offsets) {
  _collector->begin_transaction_if_needed();  // a commit that only moves offsets needs one too
  if (!offsets.empty()) {
    auto group = _consumer->metadata();
    if (kafka::error e = _producer->send_offsets_to_transaction(offsets, *group, _app.task_timeout))
      return e;
  }
  // A retriable failure (a timeout: the commit's outcome unknown) is retried; librdkafka's
  // commit_transaction is idempotent, so a commit that went through answers the retry with
  // success. Until task.timeout.ms, counted as well as timed, since a simulated clock may not
  // move; then the error goes to on_transaction_error (as abortable).
  const std::int64_t started = now_ms();
  const std::int64_t limit = _app.task_timeout.count();
  for (std::int64_t tries = 1;; ++tries) {
    kafka::error e = _producer->commit_transaction(_app.task_timeout);
    if (!e) break;
    if (!e.retriable() || now_ms() - started > limit || tries * 50 > limit) return e;
    if (tries == 1)
      _log.warn("committing the transaction failed, retrying", kv("error", e.message()));
    backoff(std::chrono::milliseconds(50));
  }
  _collector->transaction_ended();
  return {};
}

// The one place transaction errors are sorted (Kafka Streams' StreamsProducer does the same):
//   producer fenced (a newer producer took this thread's transactional.id): another instance
//     shares this one's process id; the thread stops (stop_if_replaced);
//   task migrated (invalid epoch, a rebalance refused the offsets): this thread no longer
//     owns its tasks as it thought; abort, close them dirty, start over from the committed
//     offsets with a new producer (a rebalance then moves the tasks if needed);
//   abortable: abort and reprocess from the last commit;
//   retriable (still failing after task.timeout.ms of retries): as abortable;
//   fatal: the thread dies; the uncaught-exception handler decides.
void stream_thread::on_transaction_error(const kafka::error& e, std::string_view during) {
  switch (e.type()) {
    case kafka::error::kind::fatal:
    case kafka::error::kind::unsupported:  // a transaction the broker cannot do is fatal too
      throw streams_error(fmt::format("{}: fatal error during {}: {}", _name, during, e.message()));
    case kafka::error::kind::producer_fenced:
      stop_if_replaced(e);  // returns if the transaction may have timed out instead
      [[fallthrough]];
    case kafka::error::kind::task_migrated:
      _log.warn("task migrated: aborting the transaction, closing the tasks dirty and rejoining",
                kv("error", e.message()));
      break;
    case kafka::error::kind::abortable:
    case kafka::error::kind::retriable:
    case kafka::error::kind::none:
      _log.warn("transaction aborted; reprocessing from the last commit", kv("during", during),
                kv("error", e.message()));
      break;
  }
  if (_collector->in_transaction()) {
    if (kafka::error abort = _producer->abort_transaction(_app.task_timeout)) {
      // A leader refuses a fenced producer's records for their epoch alone; its abort, asking
      // the coordinator, learns that a newer producer took the transactional.id.
      if (abort.type() == kafka::error::kind::producer_fenced) stop_if_replaced(abort);
      _log.warn("abort failed; the new producer fences the transaction instead",
                kv("error", abort.message()));
    }
    _collector->transaction_ended();
  }
  rewind(e);
}

// Ends the open transaction without committing it (a rebalance took its tasks). A failed
// abort leaves the producer inside the transaction, where its next begin_transaction would be
// refused (librdkafka's __STATE): a new producer takes over, whose init_transactions aborts
// the transaction and fences the old one.
void stream_thread::abort_open_transaction(std::chrono::milliseconds timeout) {
  if (!_app.exactly_once || !_collector->in_transaction()) return;
  kafka::error e = _producer->abort_transaction(timeout);
  if (e.type() == kafka::error::kind::producer_fenced) stop_if_replaced(e);
  _collector->transaction_ended();
  if (!e) return;
  _log.warn("abort failed; a new producer fences the transaction instead",
            kv("error", e.message()));
  make_producer();
}

// Tasks never move by transactional id (it names a process and a thread, not a task), and a
// thread's new producer replaces its old one before anything uses it. So a producer fenced by
// a newer one with its own transactional.id was fenced by another process with the same
// process id: a second instance given the same process.id, or the replacement of this one,
// started while this one hung. That one keeps the id; this thread stops, since a new producer
// of its own would fence the other in turn, and the two would take the id from each other
// forever. One exception: a coordinator that timed a transaction out may answer its producer
// PRODUCER_FENCED too (librdkafka folds INVALID_PRODUCER_EPOCH into it), so a fence that comes
// while a transaction may have been open longer than transaction.timeout.ms is taken as task
// migrated: this returns, and the thread starts over with a new producer.
void stream_thread::stop_if_replaced(const kafka::error& e) {
  const std::int64_t open_at_most = now_ms() - _last_commit;  // a transaction begins after it
  if (_collector->in_transaction() && open_at_most >= transaction_timeout_ms()) {
    _log.warn(
        "producer fenced while its transaction may have timed out; taking it as task migrated",
        kv("error", e.message()));
    return;
  }
  throw streams_error(fmt::format(
      "{}: fenced by a newer producer with its transactional.id '{}-{}': another instance runs "
      "with process.id '{}'. Two instances share that process.id; this one stops and leaves "
      "the id to the other. Give each instance its own process.id, or leave it unset ({})",
      _name, _app.transactional_id_prefix, _index, _app.process_id, e.message()));
}

std::int64_t stream_thread::transaction_timeout_ms() const {
  auto it = _app.producer_props.find("transaction.timeout.ms");
  return it == _app.producer_props.end() ? 60000 : std::stoll(it->second);  // Kafka's default
}

void stream_thread::rewind(const kafka::error& why) {
  const std::int64_t now = now_ms();
  if (_failing_since < 0) _failing_since = now;
  if (now - _failing_since > _app.task_timeout.count()) {
    throw streams_error(
        fmt::format("{}: kept failing for longer than task.timeout.ms: {}", _name, why.message()));
  }
  ++_counters.rewinds;
  if (!_app.exactly_once) {
    _log.warn("producer failed; rewinding the thread's tasks to the last commit",
              kv("error", why.message()));
  }
  auto partitions = _tasks->assigned();
  _tasks->close_all(false);
  _uncommitted = false;  // dropped with the tasks' pending writes
  make_producer();       // the old one may hold records it can no longer deliver, or be fenced
  _rewinding = std::move(partitions);
  _rewind_asked = now_ms();
  _rewind_tries = 0;
  // Nothing is fetched for them until they are sought back.
  warn_on_failure(_log, _consumer->pause(_rewinding), "pausing while rewinding");
  finish_rewind();
}

void stream_thread::finish_rewind() {
  // Partitions revoked meanwhile are no longer ours to rewind.
  const auto owned = assignment();
  std::erase_if(_rewinding, [&](const kafka::topic_partition& tp) { return !owned.contains(tp); });
  if (_rewinding.empty()) return;
  std::vector<kafka::partition_offset> positions;
  for (const auto& tp : _rewinding) positions.push_back({tp, -1});
  if (kafka::error e = _consumer->committed(positions, std::chrono::seconds(10))) {
    // Under exactly-once a zombie's open transaction may hold the offsets unstable for up to
    // transaction.timeout.ms; wait for them as long as task.timeout.ms allows. Counted as well
    // as timed: a simulated clock may move slowly.
    const std::int64_t limit = _app.task_timeout.count();
    if (!e.retriable() || now_ms() - _rewind_asked > limit || ++_rewind_tries * 100 > limit) {
      throw streams_error(
          fmt::format("{}: cannot read committed offsets to rewind: {}", _name, e.message()));
    }
    _log.debug("committed offsets not readable yet; rewinding later", kv("error", e.message()));
    backoff(std::chrono::milliseconds(100));
    return;
  }
  warn_on_failure(_log, _consumer->seek(positions), "seeking back while rewinding");
  // Buffers were dropped, so nothing stays paused.
  warn_on_failure(_log, _consumer->resume(_rewinding), "resuming while rewinding");
  _tasks->assign(_rewinding);
  _rewinding.clear();
  _starting_tasks = true;
  backoff(std::chrono::milliseconds(100));
}

}  // namespace rill::runtime
