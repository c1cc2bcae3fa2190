#include "src/runtime/stream_thread.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <rill/errors.hpp>

#include "src/runtime/logging.hpp"

namespace rill::runtime {

namespace {
constexpr std::size_t max_poll_records = 1000;
constexpr std::size_t max_records_per_task_pass = 1000;
}  // namespace

stream_thread::stream_thread(int index, const app_shared& app, state_callback on_state,
                             error_callback on_error)
    : _index(index),
      _app(app),
      _name(fmt::format("{}-StreamThread-{}", app.client_id, index)),
      _log(app.log.with("thread", std::to_string(index))),  // a string, as `global` is
      _on_state(std::move(on_state)),
      _on_error(std::move(on_error)) {}

stream_thread::~stream_thread() {
  request_stop();
  join();
}

void stream_thread::start() {
  _thread = std::thread([this] { run(); });
}

void stream_thread::join() {
  if (_thread.joinable()) _thread.join();
}

void stream_thread::set_state(thread_state s) {
  if (_on_state) _on_state(_index, s);
}

void stream_thread::set_up() {
  auto consumer_props = _app.consumer_props;
  consumer_props["client.id"] = _name + "-consumer";
  consumer_props["statistics.interval.ms"] = _app.consumer_statistics_interval;
  _consumer = _app.clients->make_consumer(consumer_props);
  _cache = std::make_unique<state::record_cache>(_app.cache_bytes_per_thread);
  if (_app.fault_hook) _cache->set_flush_hook([this] { hook("cache_flush"); });
  _restorer = std::make_unique<restore_thread>(
      std::make_unique<restorer>(*_app.clients, _app.consumer_props, _app.restore_events, _name,
                                 _log, _app.restore_bulk_min_records),
      _app.restore_thread, _log);
  make_producer();
  state_services services{_app.application_id, _app.state_directory, _app.rocksdb,
                          _cache.get(),        _app.globals,         _app.tasks.metrics};
  task_settings tasks = _app.tasks;
  tasks.log = _log;
  _tasks = std::make_unique<task_manager>(*_app.topology, std::move(tasks), *_collector,
                                          _app.buffered_per_partition, services, _restorer.get());
  // A task starts from its committed offsets and the stream time committed with them.
  // Exactly-once must have them (stable); at-least-once makes do without the stream time.
  _tasks->read_committed_offsets_with(
      [this](std::vector<kafka::partition_offset>& offsets) {
        kafka::error e = _consumer->committed(offsets, std::chrono::seconds(1));
        if (!e) return true;
        if (!_app.exactly_once) {
          _log.debug("no committed stream time for a new task", kv("error", e.message()));
          for (auto& po : offsets) po = {po.tp, -1, {}};
          return true;
        }
        if (e.retriable()) {
          _log.debug("committed offsets not stable yet", kv("error", e.message()));
          return false;
        }
        throw streams_error(
            fmt::format("{}: cannot read committed offsets: {}", _name, e.message()));
      },
      _app.exactly_once);

  set_state(thread_state::rebalancing);
  if (kafka::error e = _consumer->subscribe(_app.source_topics, *this))
    throw streams_error(e.message());
  _log.info("stream thread started", kv("client", _name), kv("exactly_once", _app.exactly_once),
            kv("topics", fmt::format("{}", fmt::join(_app.source_topics, ","))));
  _last_commit = now_ms();
}

void stream_thread::run() {
  _counters.start_ms.store(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
  try {
    {
      std::lock_guard lock(_query_mutex);
      set_up();
    }
    while (!_stop.load()) {
      {
        std::lock_guard lock(_query_mutex);
        run_once();
      }
      _query_cv.notify_all();
      if (_queries_waiting.load() > 0) {  // let waiting queries in before the next step
        std::unique_lock lock(_query_mutex);
        _query_cv.wait_for(lock, std::chrono::milliseconds(5),
                           [&] { return _queries_waiting.load() == 0; });
      }
    }
    std::lock_guard lock(_query_mutex);
    shutdown(true);
  } catch (...) {
    auto failure = std::current_exception();
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      _log.error("stream thread died", kv("error", e.what()));
    }
    try {
      shutdown(false);
    } catch (const std::exception& e) {
      _log.error("shutting down after a failure failed too", kv("error", e.what()));
    }
    publish_counters();
    _finished.store(true);
    set_state(thread_state::dead);
    if (_on_error) _on_error(_index, failure);
    return;
  }
  publish_counters();
  _finished.store(true);
  set_state(thread_state::dead);
}

bool stream_thread::query(const std::function<void(task_manager&)>& f,
                          std::chrono::milliseconds timeout) {
  ++_queries_waiting;
  std::unique_lock lock(_query_mutex);
  const bool ready = _query_cv.wait_for(
      lock, timeout, [&] { return _tasks != nullptr && !(_app.exactly_once && _uncommitted); });
  struct done {
    stream_thread& t;
    ~done() {
      --t._queries_waiting;
      t._query_cv.notify_all();
    }
  } leave{*this};
  if (!ready) return false;
  f(*_tasks);
  return true;
}

void stream_thread::crash() {
  // A killed process: nothing is committed, flushed or left. Tasks drop their pending
  // writes, RocksDB closes without flushing memtables, the consumer's membership lapses with
  // its session, an open transaction stays open until its successor fences it.
  if (_restorer) _restorer->stop();
  if (_tasks) _tasks->close_all(false);
  _tasks.reset();
  _restorer.reset();
  _collector.reset();
  _producer.reset();
  _consumer.reset();
  _cache.reset();
  _finished.store(true);
}

void stream_thread::run_once() {
  if (!_rewinding.empty()) finish_rewind();
  // Restoring inline, the thread polls without waiting; restoring on the restore thread, it
  // waits 10 ms at most, so it takes the restored tasks soon after.
  std::chrono::milliseconds timeout = _app.poll_timeout;
  if (_tasks->has_buffered() || (_restorer->active() && !_restorer->threaded()))
    timeout = std::chrono::milliseconds(0);
  else if (_restorer->active())
    timeout = std::min(timeout, std::chrono::milliseconds(10));
  _batch.clear();
  using clock = std::chrono::steady_clock;
  const bool metered = _app.record_metrics;
  const auto polled_at = metered ? clock::now() : clock::time_point{};
  if (kafka::error e = _consumer->poll(timeout, max_poll_records, _batch);
      e && e.type() == kafka::error::kind::fatal) {
    throw streams_error(fmt::format("{}: {}", _name, e.message()));
  }
  const auto processing_at = metered ? clock::now() : clock::time_point{};
  if (metered) {
    _counters.polls.fetch_add(1, std::memory_order_relaxed);
    _counters.polled_records.fetch_add(_batch.size(), std::memory_order_relaxed);
    _counters.blocked_ns.fetch_add((processing_at - polled_at).count(), std::memory_order_relaxed);
  }
  if (auto pause = _tasks->add(_batch); !pause.empty()) {
    warn_on_failure(_log, _consumer->pause(pause), "pausing full partitions");
    _counters.pauses += pause.size();
  }
  if (_starting_tasks) {
    _tasks->start_tasks();
    if (_restorer->active())
      _tasks->restored(_restorer->take_restored(std::chrono::milliseconds(10)));
    if (_tasks->all_running()) {
      _starting_tasks = false;
      publish_counters();  // whoever hears "running" sees what restoration did
      set_state(thread_state::running);
    }
  }
  maybe_clean_state_directory();
  try {
    const timestamp_ms wall = _app.tasks.wall_clock();
    const std::size_t n = _tasks->process(
        wall, max_records_per_task_pass,
        [this](const kafka::topic_partition& tp) { return _consumer->caught_up(tp); });
    if (n > 0) {
      _uncommitted = true;
      if (metered) {
        const auto ns = static_cast<std::uint64_t>((clock::now() - processing_at).count());
        _counters.process_ns.fetch_add(ns, std::memory_order_relaxed);
        if (ns / n > _counters.process_max_ns.load(std::memory_order_relaxed))
          _counters.process_max_ns.store(ns / n, std::memory_order_relaxed);
      }
    }
    _tasks->punctuate_wall_clock(wall);
    if (auto resume = _tasks->take_resumable(); !resume.empty())
      warn_on_failure(_log, _consumer->resume(resume), "resuming drained partitions");
    maybe_commit(false);
    _failing_since = -1;
  } catch (const send_failed& e) {
    // A record could not be sent (or a transaction begun): what was processed since the last
    // commit cannot be trusted, so it is done again. What doing it again cannot fix (a topic
    // that does not exist) ends the thread; a delivery that failed for good (a record too
    // large, say, which may be a broker's passing refusal) is done again.
    if (e.error().type() == kafka::error::kind::fatal &&
        e.error().code() == kafka::error::unknown_topic)
      throw streams_error(fmt::format("{}: {}", _name, e.error().message()));
    if (_app.exactly_once)
      on_transaction_error(e.error(), "send");
    else
      rewind(e.error());
  }
  _producer->poll();
  publish_counters();
}

void stream_thread::shutdown(bool clean) {
  set_state(thread_state::stopping);
  if (_restorer) _restorer->stop();  // restoring tasks close as they are
  if (_tasks && clean) {
    try {
      if (kafka::error e = commit()) {
        _log.error("final commit failed", kv("error", e.message()));
        clean = false;
      }
    } catch (const std::exception& e) {
      _log.error("final commit failed", kv("error", e.what()));
      clean = false;
    }
  }
  if (_app.exactly_once && _collector && _collector->in_transaction() && _producer) {
    (void)_producer->abort_transaction(std::chrono::seconds(10));  // nothing of it is kept anyway
    _collector->transaction_ended();
  }
  if (_tasks) _tasks->close_all(clean);
  if (_consumer) _consumer->close();  // leaves the group
  if (_producer && clean && !_app.exactly_once) {
    if (kafka::error e = _producer->flush(std::chrono::seconds(30)))
      _log.error("final flush failed", kv("error", e.message()));
  }
  _log.info("stream thread stopped", kv("clean", clean));
}

void stream_thread::publish_counters() {
  if (!_tasks) return;
  task_counters c = _tasks->counters();
  _counters.processed.store(c.processed);
  _counters.skipped.store(c.skipped);
  _counters.dead_lettered.store(c.dead_lettered);
  _counters.late.store(c.late);
  _counters.buffered.store(_tasks->buffered());
  _counters.punctuations.store(c.punctuations);
  _counters.enforced.store(c.enforced);
  if (_restorer) _counters.restored.store(_restorer->restored());
  if (_app.record_metrics) {
    const std::int64_t now = now_ms();
    if (now >= _next_sample_ms) sample(now);
  }
}

void stream_thread::sample(std::int64_t now) {
  _next_sample_ms = now + 1000;
  thread_samples::totals t{now,
                           _counters.processed.load(),
                           _counters.polls.load(),
                           _counters.polled_records.load(),
                           _counters.commits.load(),
                           _counters.punctuations.load(),
                           _tasks->snapshot()};
  auto consumer = _consumer ? _consumer->statistics() : std::nullopt;
  if (consumer) {
    // librdkafka keeps figures of partitions it no longer fetches; the thread reports its own.
    const auto assigned = assignment();
    std::erase_if(consumer->partitions, [&](const kafka::client_statistics::partition& p) {
      return !assigned.contains(kafka::topic_partition{p.topic, p.partition});
    });
  }
  auto producer = _producer ? _producer->statistics() : std::nullopt;
  std::lock_guard lock(_samples_mutex);
  _samples.history.push_back(std::move(t));
  if (_samples.history.size() > 11) _samples.history.pop_front();
  _samples.consumer = std::move(consumer);
  _samples.producer = std::move(producer);
}

void stream_thread::maybe_clean_state_directory() {
  if (_app.state_directory == nullptr || !_app.next_state_cleanup) return;
  const std::int64_t now = now_ms();
  std::int64_t due = _app.next_state_cleanup->load();
  if (now < due) return;
  const std::int64_t every = std::min<std::int64_t>(_app.state_cleanup_delay.count(), 60000);
  if (!_app.next_state_cleanup->compare_exchange_strong(due, now + every))
    return;  // another thread does it
  for (const auto& dir : _app.state_directory->clean(_app.state_cleanup_delay)) {
    _log.info("deleted the state directory of an unassigned task", kv("dir", dir));
  }
}

void stream_thread::refuse_grown_topics(const std::vector<kafka::topic_partition>& partitions) {
  for (const auto& tp : partitions) {
    auto it = _app.partition_counts.find(tp.topic);
    if (it == _app.partition_counts.end() || tp.partition < it->second) continue;
    std::int32_t now = 0;
    const std::string grown_to = _producer->partition_count(tp.topic, now, std::chrono::seconds(10))
                                     ? fmt::format("at least {}", tp.partition + 1)
                                     : std::to_string(std::max(now, tp.partition + 1));
    throw streams_error(fmt::format(
        "{}: topic '{}' has grown from {} to {} partitions since the app started (it was "
        "assigned {}): its keys now map to other partitions, so the state and changelogs of the "
        "tasks reading it would split. Stop the app, then reset it (rill reset) to rebuild its "
        "state for the new count, or repartition the topic into a new one with {} partitions "
        "and read that",
        _name, tp.topic, it->second, grown_to, tp.to_string(), it->second));
  }
}

void stream_thread::on_assigned(const std::vector<kafka::topic_partition>& partitions) {
  ++_counters.rebalances;
  _log.info("partitions assigned", kv("partitions", partition_list(partitions)));
  refuse_grown_topics(partitions);
  _tasks->assign(partitions);
  _starting_tasks = true;  // running once every task has its state restored
  std::lock_guard lock(_assignment_mutex);
  _assignment.insert(partitions.begin(), partitions.end());
}

std::set<kafka::topic_partition> stream_thread::assignment() const {
  std::lock_guard lock(_assignment_mutex);
  return _assignment;
}

void stream_thread::forget_assignment(const std::vector<kafka::topic_partition>& partitions) {
  // Not ours to rewind any more (nor to leave paused, should they come back).
  std::vector<kafka::topic_partition> gone;
  for (const auto& tp : partitions) {
    if (std::erase(_rewinding, tp) > 0) gone.push_back(tp);
  }
  if (!gone.empty()) warn_on_failure(_log, _consumer->resume(gone), "resuming revoked partitions");
  std::lock_guard lock(_assignment_mutex);
  for (const auto& tp : partitions) _assignment.erase(tp);
}

void stream_thread::on_revoked(const std::vector<kafka::topic_partition>& partitions) {
  forget_assignment(partitions);
  set_state(thread_state::rebalancing);
  _log.info("partitions revoked; committing and closing their tasks",
            kv("partitions", partition_list(partitions)));
  // Closing keeps only committed state (pending writes are never applied), so a failed commit
  // costs the new owners some reprocessing, nothing more.
  std::string failure;
  kafka::error fenced;  // a newer producer took the transactional.id
  try {
    if (kafka::error e = commit()) {
      failure = e.message();
      if (e.type() == kafka::error::kind::producer_fenced) fenced = std::move(e);
    }
  } catch (const send_failed& e) {
    failure = e.what();
    if (e.error().type() == kafka::error::kind::producer_fenced) fenced = e.error();
  } catch (const detail::runtime_abort&) {
    throw;  // not a failed commit: the thread is being killed (a crash test's injected crash)
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (fenced) stop_if_replaced(fenced);
  if (!failure.empty()) {
    _log.warn("commit on revocation failed; the new owners reprocess from the last commit",
              kv("error", failure));
    abort_open_transaction(std::chrono::seconds(10));
  }
  _tasks->close_tasks_of(partitions, true);
  // A cooperative revocation leaves the thread its other tasks. Their work since the last
  // commit went with the failed commit (an aborted transaction, or records whose delivery
  // failed), so they start over from it too.
  if (!failure.empty() && !_tasks->assigned().empty())
    rewind(kafka::error(kafka::error::kind::abortable, 0, failure));
}

void stream_thread::on_lost(const std::vector<kafka::topic_partition>& partitions) {
  forget_assignment(partitions);
  set_state(thread_state::rebalancing);
  _log.warn("partitions lost; closing their tasks without committing",
            kv("partitions", partition_list(partitions)));
  if (_app.exactly_once && _collector->in_transaction()) {
    // The open transaction holds what the lost tasks produced: it must never commit. Abort it;
    // every task's work since the last commit went with it, so all of them start over.
    abort_open_transaction(_app.task_timeout);
    _tasks->close_all(false);
    return;
  }
  _tasks->close_tasks_of(partitions, false);
}

}  // namespace rill::runtime
