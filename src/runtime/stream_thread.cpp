#include "src/runtime/stream_thread.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <rill/errors.hpp>

namespace rill::runtime {

namespace {
using clock = std::chrono::steady_clock;
constexpr std::size_t max_poll_records = 1000;
constexpr std::size_t max_records_per_task_pass = 1000;

timestamp_ms system_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

stream_thread::stream_thread(int index, const app_shared& app, state_callback on_state,
                             error_callback on_error)
    : _index(index),
      _app(app),
      _name(fmt::format("{}-StreamThread-{}", app.client_id, index)),
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

void stream_thread::run() {
  try {
    auto consumer_props = _app.consumer_props;
    consumer_props["client.id"] = _name + "-consumer";
    auto producer_props = _app.producer_props;
    producer_props["client.id"] = _name + "-producer";
    _consumer = _app.clients->make_consumer(consumer_props);
    _producer = _app.clients->make_producer(producer_props);
    _collector = std::make_unique<record_collector>(*_producer);
    for (const auto& [topic, n] : _app.partition_counts) _collector->set_partition_count(topic, n);
    _cache = std::make_unique<state::record_cache>(_app.cache_bytes_per_thread);
    _restorer =
        std::make_unique<restorer>(*_app.clients, _app.consumer_props, _app.restore_events, _name);
    state_services services{_app.application_id, _app.state_directory, _app.rocksdb, _cache.get()};
    _tasks = std::make_unique<task_manager>(*_app.topology, _app.tasks, *_collector,
                                            _app.buffered_per_partition, services, _restorer.get());
    set_state(thread_state::rebalancing);
    if (kafka::error e = _consumer->subscribe(_app.source_topics, *this))
      throw streams_error(e.message());
    spdlog::info("{}: started, subscribed to {}", _name, fmt::join(_app.source_topics, ", "));
    _last_commit = clock::now();
    while (!_stop.load()) run_once();
    shutdown(true);
  } catch (...) {
    auto failure = std::current_exception();
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      spdlog::error("{}: died: {}", _name, e.what());
    }
    try {
      shutdown(false);
    } catch (const std::exception& e) {
      spdlog::error("{}: while shutting down after a failure: {}", _name, e.what());
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

void stream_thread::run_once() {
  const bool busy = _tasks->has_buffered() || _restorer->active();
  const auto timeout = busy ? std::chrono::milliseconds(0) : _app.poll_timeout;
  _batch.clear();
  if (kafka::error e = _consumer->poll(timeout, max_poll_records, _batch);
      e && e.type() == kafka::error::kind::fatal) {
    throw streams_error(fmt::format("{}: {}", _name, e.message()));
  }
  if (auto pause = _tasks->add(_batch); !pause.empty()) {
    _consumer->pause(pause);
    _counters.pauses += pause.size();
  }
  if (_starting_tasks) {
    _tasks->start_tasks();
    if (_restorer->active())
      _tasks->restored(_restorer->restore_some(std::chrono::milliseconds(10)));
    if (_tasks->all_running()) {
      _starting_tasks = false;
      set_state(thread_state::running);
    }
  }
  maybe_clean_state_directory();
  try {
    _tasks->process(system_now(), max_records_per_task_pass,
                    [this](const kafka::topic_partition& tp) { return _consumer->caught_up(tp); });
    _tasks->punctuate_wall_clock(system_now());
    if (auto resume = _tasks->take_resumable(); !resume.empty()) _consumer->resume(resume);
    maybe_commit(false);
    _failing_since = {};
  } catch (const send_failed& e) {
    rewind(e.error());
  }
  _producer->poll();
  publish_counters();
}

void stream_thread::maybe_commit(bool force) {
  if (force || _tasks->commit_requested() || clock::now() - _last_commit >= _app.commit_interval)
    commit();
}

void stream_thread::commit() {
  _last_commit = clock::now();
  // Cached store entries go down first: they may send changelog and sink records.
  _tasks->flush_caches();
  auto offsets = _tasks->committable();
  if (_collector->sent() != _sent_at_last_commit) {
    if (kafka::error e = _producer->flush(_app.task_timeout)) throw send_failed(e);
    _sent_at_last_commit = _collector->sent();
  }
  // Only now, with the changelog delivered, do the stores' writes and offsets become durable.
  _tasks->commit_state(
      [this](const kafka::topic_partition& tp) { return _producer->delivered_offset(tp); });
  if (offsets.empty()) return;
  if (kafka::error e = _consumer->commit(offsets)) {
    if (e.type() == kafka::error::kind::task_migrated) {
      spdlog::warn(
          "{}: commit failed, the group is rebalancing ({}); the partitions' new owners reprocess "
          "from the last commit",
          _name, e.message());
      return;
    }
    if (e.type() == kafka::error::kind::fatal)
      throw streams_error(fmt::format("{}: {}", _name, e.message()));
    const auto now = clock::now();
    if (_commit_failing_since == clock::time_point{}) _commit_failing_since = now;
    if (now - _commit_failing_since > _app.task_timeout) {
      throw streams_error(
          fmt::format("{}: offsets could not be committed for longer than task.timeout.ms: {}",
                      _name, e.message()));
    }
    spdlog::warn("{}: commit failed, retrying at the next interval: {}", _name, e.message());
    return;
  }
  _commit_failing_since = {};
  _tasks->mark_committed();
  ++_counters.commits;
  spdlog::debug("{}: committed {} offsets", _name, offsets.size());
}

void stream_thread::rewind(const kafka::error& why) {
  const auto now = clock::now();
  if (_failing_since == clock::time_point{}) _failing_since = now;
  if (now - _failing_since > _app.task_timeout) {
    throw streams_error(fmt::format(
        "{}: the producer kept failing for longer than task.timeout.ms: {}", _name, why.message()));
  }
  ++_counters.rewinds;
  spdlog::warn("{}: producer failed ({}); rewinding its tasks to the last commit", _name,
               why.message());
  auto partitions = _tasks->assigned();
  _tasks->close_all(false);
  // A fresh producer: the old one may hold records it can no longer deliver.
  auto producer_props = _app.producer_props;
  producer_props["client.id"] = _name + "-producer";
  _producer = _app.clients->make_producer(producer_props);
  _collector->set_producer(*_producer);
  std::vector<kafka::partition_offset> positions;
  for (const auto& tp : partitions) positions.push_back({tp, -1});
  if (kafka::error e = _consumer->committed(positions, std::chrono::seconds(10))) {
    throw streams_error(
        fmt::format("{}: cannot read committed offsets to rewind: {}", _name, e.message()));
  }
  if (kafka::error e = _consumer->seek(positions)) {
    spdlog::warn("{}: seek while rewinding: {}", _name, e.message());
  }
  _consumer->resume(partitions);  // buffers were dropped, so nothing stays paused
  _tasks->assign(partitions);
  _starting_tasks = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // back off before producing again
}

void stream_thread::shutdown(bool clean) {
  set_state(thread_state::stopping);
  if (_tasks && clean) {
    try {
      commit();
    } catch (const std::exception& e) {
      spdlog::error("{}: final commit failed: {}", _name, e.what());
    }
  }
  if (_tasks) _tasks->close_all(clean);
  if (_consumer) _consumer->close();  // leaves the group
  if (_producer && clean) {
    if (kafka::error e = _producer->flush(std::chrono::seconds(30)))
      spdlog::error("{}: final flush: {}", _name, e.message());
  }
  spdlog::info("{}: stopped{}", _name, clean ? "" : " after a failure");
}

void stream_thread::publish_counters() {
  if (!_tasks) return;
  task_counters c = _tasks->counters();
  _counters.processed.store(c.processed);
  _counters.skipped.store(c.skipped);
  _counters.dead_lettered.store(c.dead_lettered);
  _counters.buffered.store(_tasks->buffered());
  if (_restorer) _counters.restored.store(_restorer->restored());
}

void stream_thread::maybe_clean_state_directory() {
  if (_app.state_directory == nullptr || !_app.next_state_cleanup) return;
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock::now().time_since_epoch())
          .count();
  std::int64_t due = _app.next_state_cleanup->load();
  if (now < due) return;
  const std::int64_t every = std::min<std::int64_t>(_app.state_cleanup_delay.count(), 60000);
  if (!_app.next_state_cleanup->compare_exchange_strong(due, now + every))
    return;  // another thread does it
  for (const auto& dir : _app.state_directory->clean(_app.state_cleanup_delay)) {
    spdlog::info("{}: deleted the state directory of unassigned task {}", _name, dir);
  }
}

void stream_thread::on_assigned(const std::vector<kafka::topic_partition>& partitions) {
  ++_counters.rebalances;
  std::vector<std::string> names;
  for (const auto& tp : partitions) names.push_back(tp.to_string());
  spdlog::info("{}: assigned [{}]", _name, fmt::join(names, ", "));
  _tasks->assign(partitions);
  _starting_tasks = true;  // running once every task has its state restored
}

void stream_thread::on_revoked(const std::vector<kafka::topic_partition>& partitions) {
  set_state(thread_state::rebalancing);
  spdlog::info("{}: {} partition(s) revoked; committing and closing their tasks", _name,
               partitions.size());
  try {
    commit();
  } catch (const std::exception& e) {
    spdlog::warn(
        "{}: commit on revocation failed ({}); the new owners reprocess from the last commit",
        _name, e.what());
  }
  _tasks->close_tasks_of(partitions, true);
}

void stream_thread::on_lost(const std::vector<kafka::topic_partition>& partitions) {
  set_state(thread_state::rebalancing);
  spdlog::warn("{}: {} partition(s) lost; closing their tasks without committing", _name,
               partitions.size());
  _tasks->close_tasks_of(partitions, false);
}

}  // namespace rill::runtime
