#include "src/runtime/restorer.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <rill/errors.hpp>

#include "src/runtime/logging.hpp"

namespace rill::runtime {

namespace {
using clock = std::chrono::steady_clock;
constexpr std::size_t restore_batch_records = 10000;
// Bulk restoration ingests a store's chunk once it holds this much, or once the chunks of
// every store restoring hold the second figure together (what bounds their memory).
constexpr std::size_t chunk_bytes = 16 << 20;
constexpr std::size_t all_chunks_bytes = 64 << 20;
}  // namespace

struct restorer::partition {
  stream_task* task;
  task_stores::changelog log;
  std::int64_t end = 0;
  std::int64_t position = 0;  // next offset to apply
  std::uint64_t restored = 0;
  clock::time_point started;
  clock::time_point last_report;
  state::task_db::restore_batch pending;
  bool bulk = false;
  std::uint64_t staged = 0;  // bulk: records in the store's chunk, not yet ingested
  std::size_t staged_bytes = 0;
};

restorer::restorer(kafka::client_factory& clients, std::map<std::string, std::string> props,
                   std::shared_ptr<restore_listener> listener, std::string thread_name,
                   log::logger log, std::int64_t bulk_min_records)
    : _clients(clients),
      _props(std::move(props)),
      _listener(std::move(listener)),
      _name(std::move(thread_name)),
      _log(std::move(log)),
      _bulk_min_records(bulk_min_records) {}

restorer::~restorer() {
  if (_consumer) _consumer->close();
  if (_ends) _ends->close();
}

void restorer::open_consumers() {
  if (_consumer) return;
  auto props = _props;
  props["group.id"] = _name + "-restore";  // required by librdkafka; no group is joined
  props["client.id"] = _name + "-restore-consumer";
  props["enable.auto.commit"] = "false";
  props["enable.partition.eof"] = "false";
  props["auto.offset.reset"] = "earliest";
  _consumer = _clients.make_consumer(props);
  // The end is the high watermark, which a read_committed consumer does not report (it
  // says the last stable offset, which a zombie's open transaction can hold back while
  // committed ones follow it). Reading read_committed up to it waits for every open
  // transaction there to end: at most transaction.timeout.ms.
  if (auto it = props.find("isolation.level");
      it != props.end() && it->second == "read_committed") {
    props["client.id"] = _name + "-restore-end";
    props["isolation.level"] = "read_uncommitted";
    _ends = _clients.make_consumer(props);
  }
}

std::vector<restorer::start> restorer::add(const std::vector<stream_task*>& tasks) {
  std::vector<start> out(tasks.size(), start::run);
  std::vector<std::vector<task_stores::changelog>> logs(tasks.size());
  std::vector<kafka::partition_offset> ends;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i]->stores() != nullptr) logs[i] = tasks[i]->stores()->changelogs();
    for (const auto& l : logs[i]) ends.push_back({l.partition, -1});
  }
  if (ends.empty()) return out;
  open_consumers();
  // One request for the ends of every changelog partition of these tasks.
  if (kafka::error e = (_ends ? _ends : _consumer)->end_offsets(ends, std::chrono::seconds(30))) {
    std::string names;
    for (const stream_task* t : tasks) names += (names.empty() ? "" : ", ") + t->id().to_string();
    if (e.retriable()) {
      _log.warn("cannot read the end of the tasks' changelogs yet; trying again",
                kv("tasks", names), kv("error", e.message()));
      std::fill(out.begin(), out.end(), start::later);
      return out;
    }
    throw streams_error(
        fmt::format("tasks {}: cannot read the end of their changelogs: {}", names, e.message()));
  }
  std::size_t at = 0;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (logs[i].empty()) continue;
    out[i] = begin(*tasks[i], logs[i], ends.data() + at);
    at += logs[i].size();
  }
  return out;
}

restorer::start restorer::begin(stream_task& task, const std::vector<task_stores::changelog>& logs,
                                const kafka::partition_offset* ends) {
  bool nothing = true;
  for (std::size_t i = 0; i < logs.size(); ++i) {
    auto p = std::make_unique<partition>();
    p->task = &task;
    p->log = logs[i];
    p->end = ends[i].offset;
    if (p->log.start > p->end) {
      _log.warn("store is ahead of its changelog; wiping it and restoring from the start",
                kv("task", task.id()), kv("store", p->log.store), kv("store_offset", p->log.start),
                kv("changelog_end", p->end));
      task.stores()->wipe(p->log.store);
      p->log.start = 0;
    }
    p->position = p->log.start;
    if (p->position >= p->end) continue;
    nothing = false;
    p->bulk = p->log.persistent && p->end - p->position >= _bulk_min_records;
    p->started = p->last_report = clock::now();
    _log.info("restore started", kv("task", task.id()), kv("store", p->log.store),
              kv("changelog", p->log.partition), kv("from_offset", p->position),
              kv("to_offset", p->end), kv("records", p->end - p->position), kv("bulk", p->bulk));
    if (_listener) _listener->on_restore_start(task.id(), p->log.store, p->position, p->end);
    _partitions.push_back(std::move(p));
  }
  if (!nothing) _reassign = true;
  return nothing ? start::run : start::restore;
}

void restorer::remove(const stream_task& task) {
  const auto before = _partitions.size();
  for (const auto& p : _partitions)
    if (p->task == &task) _staged_bytes -= p->staged_bytes;  // dropped with the task's stores
  std::erase_if(_partitions, [&](const auto& p) { return p->task == &task; });
  if (_partitions.size() == before) return;
  _reassign = !_partitions.empty();
  if (_partitions.empty()) assign();  // unassigns: nothing left to fetch for
}

void restorer::assign() {
  std::vector<kafka::partition_offset> positions;
  for (const auto& p : _partitions) positions.push_back({p->log.partition, p->position});
  if (kafka::error e = _consumer->assign(positions))
    throw streams_error(fmt::format("{}: restore: {}", _name, e.message()));
  // A partition paused when it finished may be back (its task restores again).
  std::vector<kafka::topic_partition> all;
  for (const auto& p : _partitions) all.push_back(p->log.partition);
  warn_on_failure(_log, _consumer->resume(all), "resuming restored partitions");
}

// Writes what the polls brought for a partition. Returns the records that reached the store:
// in bulk, staged ones reach it when their chunk is ingested (at the end, or when it is big).
std::uint64_t restorer::apply(partition& p) {
  task_stores& stores = *p.task->stores();
  std::uint64_t n = p.pending.records.size();
  if (!p.bulk) {
    if (n > 0) stores.restore(p.log.store, p.pending, detail::next_offset{p.position});
    p.pending.records.clear();
    return n;
  }
  if (n > 0) {
    const std::size_t bytes = stores.stage(p.log.store, p.pending);  // copies: views end here
    _staged_bytes += bytes - p.staged_bytes;
    p.staged_bytes = bytes;
    p.staged += n;
    p.pending.records.clear();
  }
  const bool done = p.position >= p.end;
  if (!done && p.staged_bytes < chunk_bytes && _staged_bytes < all_chunks_bytes) return 0;
  stores.ingest(p.log.store, detail::next_offset{p.position});
  _staged_bytes -= p.staged_bytes;
  n = p.staged;
  p.staged = 0;
  p.staged_bytes = 0;
  return n;
}

std::vector<stream_task*> restorer::restore_some(std::chrono::milliseconds timeout) {
  std::vector<stream_task*> ready;
  if (_partitions.empty()) return ready;
  if (_reassign) {
    assign();
    _reassign = false;
  }
  _batch.clear();
  // While records flow, take what has arrived and apply it rather than wait for a full batch.
  if (kafka::error e = _consumer->poll(_flowing ? std::chrono::milliseconds(0) : timeout,
                                       restore_batch_records, _batch);
      e && e.type() == kafka::error::kind::fatal) {
    throw streams_error(fmt::format("{}: restore: {}", _name, e.message()));
  }
  _flowing = !_batch.empty();
  partition* last = nullptr;
  for (auto& rec : _batch) {
    if (last == nullptr || last->log.partition.partition != rec.raw.partition ||
        last->log.partition.topic != rec.raw.topic) {
      last = nullptr;
      for (auto& p : _partitions) {
        if (p->log.partition.partition == rec.raw.partition &&
            p->log.partition.topic == rec.raw.topic)
          last = p.get();
      }
      if (last == nullptr) continue;
    }
    if (rec.raw.offset < last->position || last->position >= last->end) continue;
    if (!rec.raw.key || rec.raw.key->size() < last->log.min_key_bytes) refuse_corrupt(*last, rec);
    // Views into _batch, which lives until every pending record is applied below.
    last->pending.records.emplace_back(rec.raw.key.value_or(bytes_view{}), rec.raw.value);
    last->position = rec.raw.offset + 1;
    ++last->restored;
    ++_restored;
  }
  // A partition may end in offsets with nothing to read (transaction markers, compacted
  // records): the consumer's position says when it got past them.
  if (_batch.empty()) {
    for (auto& p : _partitions) {
      std::int64_t pos = _consumer->position(p->log.partition);
      if (pos >= p->end) p->position = std::max(p->position, p->end);
    }
  }
  const auto now = clock::now();
  bool changed = false;
  for (auto& p : _partitions) {
    if (p->pending.records.empty() && p->position < p->end) continue;
    report(*p, apply(*p), now, changed);
  }
  if (changed) {
    std::vector<stream_task*> finished_tasks;
    std::vector<kafka::topic_partition> finished;
    for (const auto& p : _partitions) {
      if (p->position >= p->end) {
        finished_tasks.push_back(p->task);
        finished.push_back(p->log.partition);
      }
    }
    std::erase_if(_partitions, [](const auto& p) { return p->position >= p->end; });
    for (stream_task* t : finished_tasks) {
      bool still = std::any_of(_partitions.begin(), _partitions.end(),
                               [&](const auto& p) { return p->task == t; });
      if (!still && std::find(ready.begin(), ready.end(), t) == ready.end()) ready.push_back(t);
    }
    // Paused, not reassigned: the other partitions keep what they have fetched.
    warn_on_failure(_log, _consumer->pause(finished), "pausing restored partitions");
  }
  return ready;
}

void restorer::report(partition& p, std::uint64_t applied, clock::time_point now, bool& changed) {
  if (applied > 0 && _listener)
    _listener->on_batch_restored(p.task->id(), p.log.store, p.position, applied);
  const double seconds = std::chrono::duration<double>(now - p.started).count();
  const auto rate =
      static_cast<std::int64_t>(seconds > 0 ? static_cast<double>(p.restored) / seconds : 0.0);
  if (p.position >= p.end) {
    _log.info("restore finished", kv("task", p.task->id()), kv("store", p.log.store),
              kv("records", p.restored),
              kv("duration_ms", static_cast<std::int64_t>(seconds * 1000)),
              kv("records_per_second", rate));
    if (_listener) _listener->on_restore_end(p.task->id(), p.log.store, p.restored);
    changed = true;
  } else if (now - p.last_report >= std::chrono::seconds(1)) {
    p.last_report = now;
    _log.info("restore progress", kv("task", p.task->id()), kv("store", p.log.store),
              kv("records", p.restored), kv("remaining", p.end - p.position),
              kv("records_per_second", rate));
  }
}

// Skipping the record would lose state silently, and applying it would fail later (or be
// read back as garbage): the task stops here, saying where the record is.
void restorer::refuse_corrupt(const partition& p, const kafka::consumed_record& rec) const {
  const std::string what = rec.raw.key
                               ? fmt::format(
                                     "its key has {} bytes, and keys of store '{}' end in their "
                                     "window's time ({} bytes at least)",
                                     rec.raw.key->size(), p.log.store, p.log.min_key_bytes)
                               : fmt::format("it has no key (store '{}')", p.log.store);
  throw streams_error(fmt::format(
      "task {}: cannot restore: the changelog record at offset {} of topic '{}' partition {} is "
      "corrupt: {}. The changelog is not one this topology wrote; reset the application (rill "
      "reset) or delete the topic",
      p.task->id().to_string(), rec.raw.offset, p.log.partition.topic, p.log.partition.partition,
      what));
}

std::map<task_id, std::int64_t> restorer::remaining_by_task() const {
  std::map<task_id, std::int64_t> out;
  for (const auto& p : _partitions)
    out[p->task->id()] += std::max<std::int64_t>(p->end - p->position, 0);
  return out;
}

}  // namespace rill::runtime
