#include "src/runtime/task_manager.hpp"

#include <algorithm>
#include <set>

#include "src/runtime/logging.hpp"

namespace rill::runtime {

task_manager::task_manager(const detail::compiled_topology& topology, task_settings settings,
                           detail::record_sender& sender, std::size_t max_buffered_per_partition,
                           state_services state, restore_thread* restore)
    : _topology(topology),
      _settings(std::move(settings)),
      _sender(sender),
      _max_buffered(max_buffered_per_partition),
      _state(std::move(state)),
      _restorer(restore) {
  for (const auto& sub : _topology.subtopologies) {
    for (const auto& t : sub.source_topics)
      _subtopology_of[detail::resolve_topic(_settings.application_id, t)] = sub.id;
  }
}

task_manager::~task_manager() {
  close_all(false);
}

void task_manager::assign(const std::vector<topic_partition>& partitions) {
  for (const auto& tp : partitions) {
    auto it = _subtopology_of.find(tp.topic);
    if (it == _subtopology_of.end()) {
      _settings.log.warn("ignoring an assigned partition the topology does not read",
                         kv("partition", tp));
      continue;
    }
    task_id id{it->second, tp.partition};
    auto [pos, fresh] = _tasks.try_emplace(id);
    if (fresh) {
      pos->second.task = std::make_unique<stream_task>(id, _topology, _settings, _sender);
      _settings.log.info("task created", kv("task", id));
    }
    stream_task& task = *pos->second.task;
    int input = task.input_index(tp.topic, tp.partition);
    _routes[tp] = route{&task, static_cast<std::size_t>(input)};
  }
}

void task_manager::start_tasks() {
  std::vector<entry*> opened;
  for (auto& [id, e] : _tasks) {
    if (e.state != phase::created) continue;
    if (_read_committed_offsets) {
      std::vector<partition_offset> offsets;
      for (const auto& tp : e.task->inputs()) offsets.push_back({tp, -1});
      if (!_read_committed_offsets(offsets)) continue;  // unstable; next time
      e.task->start_from(offsets);
    }
    if (!e.task->open_state(_state)) continue;  // its directory is still held; next time
    opened.push_back(&e);
  }
  if (opened.empty()) return;
  // The restorer reads the ends of every opened task's changelogs in one request.
  std::vector<stream_task*> tasks;
  for (entry* e : opened) tasks.push_back(e->task.get());
  const auto starts = _restorer ? _restorer->add(tasks)
                                : std::vector<restorer::start>(tasks.size(), restorer::start::run);
  for (std::size_t i = 0; i < opened.size(); ++i) {
    entry& e = *opened[i];
    if (starts[i] == restorer::start::later) continue;  // created still: tried again next time
    if (starts[i] == restorer::start::run) {
      e.task->initialize();
      e.state = phase::running;
    } else {
      e.state = phase::restoring;
    }
  }
}

void task_manager::restored(const std::vector<stream_task*>& tasks) {
  for (stream_task* t : tasks) {
    auto it = _tasks.find(t->id());
    if (it == _tasks.end() || it->second.state != phase::restoring) continue;
    t->initialize();
    it->second.state = phase::running;
    _settings.log.info("task restored and running", kv("task", t->id()));
  }
}

bool task_manager::all_running() const {
  return std::all_of(_tasks.begin(), _tasks.end(),
                     [](const auto& t) { return t.second.state == phase::running; });
}

void task_manager::close_tasks_of(const std::vector<topic_partition>& partitions, bool clean) {
  std::set<task_id> doomed;
  for (const auto& tp : partitions) {
    if (auto it = _routes.find(tp); it != _routes.end()) doomed.insert(it->second.task->id());
  }
  for (const auto& id : doomed) {
    auto it = _tasks.find(id);
    stream_task* task = it->second.task.get();
    if (_restorer != nullptr && it->second.state == phase::restoring) _restorer->remove(*task);
    task->close(clean);
    const auto& c = task->counters();
    _closed_counters.processed += c.processed;
    _closed_counters.skipped += c.skipped;
    _closed_counters.dead_lettered += c.dead_lettered;
    _closed_counters.punctuations += c.punctuations;
    _closed_counters.late += c.late;
    std::erase_if(_routes, [&](const auto& r) { return r.second.task == task; });
    std::erase_if(_paused, [&](const auto& tp) { return !_routes.contains(tp); });
    _settings.log.info("task closed", kv("task", id), kv("clean", clean));
    _tasks.erase(it);
  }
}

void task_manager::close_all(bool clean) {
  close_tasks_of(assigned(), clean);
}

std::vector<topic_partition> task_manager::assigned() const {
  std::vector<topic_partition> out;
  for (const auto& [tp, r] : _routes) out.push_back(tp);
  return out;
}

std::vector<topic_partition> task_manager::add(std::vector<consumed_record>& batch) {
  std::vector<topic_partition> to_pause;
  const route* last = nullptr;
  topic_partition last_tp;
  const char* last_topic = nullptr;  // the client's name of last_tp's topic, usually shared
  for (auto& rec : batch) {
    if (last == nullptr || rec.raw.partition != last_tp.partition ||
        ((rec.raw.topic.data() != last_topic || rec.raw.topic.size() != last_tp.topic.size()) &&
         rec.raw.topic != last_tp.topic)) {
      last_tp = {std::string(rec.raw.topic), rec.raw.partition};
      last_topic = rec.raw.topic.data();
      auto it = _routes.find(last_tp);
      if (it == _routes.end()) {
        last = nullptr;
        continue;  // a partition no longer ours (revoked while fetched)
      }
      last = &it->second;
    }
    last->task->add_record(last->input, std::move(rec));
    if (last->task->buffered(last->input) == _max_buffered + 1) to_pause.push_back(last_tp);
  }
  for (const auto& tp : to_pause) {
    if (std::find(_paused.begin(), _paused.end(), tp) == _paused.end()) _paused.push_back(tp);
  }
  return to_pause;
}

std::vector<topic_partition> task_manager::take_resumable() {
  std::vector<topic_partition> out;
  std::erase_if(_paused, [&](const topic_partition& tp) {
    const route& r = _routes.at(tp);
    if (r.task->buffered(r.input) > _max_buffered / 2) return false;
    out.push_back(tp);
    return true;
  });
  return out;
}

std::size_t task_manager::process(timestamp_ms now, std::size_t max_per_task,
                                  const std::function<bool(const topic_partition&)>& caught_up) {
  std::size_t total = 0;
  for (auto& [id, e] : _tasks) {
    if (e.state != phase::running) continue;
    stream_task* t = e.task.get();
    // Made once per task, not once per record.
    const std::function<bool(std::size_t)> input_caught_up = [&](std::size_t input) {
      return caught_up && caught_up(t->inputs()[input]);
    };
    const bool one_input = t->inputs().size() == 1;
    for (std::size_t n = 0; n < max_per_task && t->ready(now, false, input_caught_up);) {
      // A task with one input is ready while its queue holds records: take them without
      // asking again for each (no other input's records to wait for or to order against).
      const std::size_t run = one_input ? std::min(max_per_task - n, t->buffered()) : 1;
      for (std::size_t i = 0; i < run; ++i) {
        t->process_next();
        t->punctuate_stream_time();
      }
      n += run;
      total += run;
    }
  }
  return total;
}

void task_manager::punctuate_wall_clock(timestamp_ms now) {
  for (auto& [id, e] : _tasks) {
    if (e.state == phase::running) e.task->punctuate_wall_clock(now);
  }
}

void task_manager::flush_caches() {
  for (auto& [id, e] : _tasks) {
    if (e.state == phase::running) e.task->flush_caches();
  }
}

void task_manager::commit_state(const delivered_offsets& delivered,
                                const std::function<void()>& between) {
  bool wrote = false;
  for (auto& [id, e] : _tasks) {
    if (e.state != phase::running || e.task->stores() == nullptr) continue;
    if (wrote && between) between();
    e.task->commit_state(delivered);
    wrote = true;
  }
}

std::vector<partition_offset> task_manager::committable() const {
  std::vector<partition_offset> out;
  for (const auto& [id, e] : _tasks) {
    auto offsets = e.task->committable_offsets(_commit_every_task);
    out.insert(out.end(), offsets.begin(), offsets.end());
  }
  return out;
}

void task_manager::mark_committed() {
  for (auto& [id, e] : _tasks) e.task->mark_committed();
}

bool task_manager::commit_requested() const {
  return std::any_of(_tasks.begin(), _tasks.end(),
                     [](const auto& t) { return t.second.task->commit_requested(); });
}

bool task_manager::has_buffered() const {
  return std::any_of(_tasks.begin(), _tasks.end(), [](const auto& t) {
    return t.second.state == phase::running && t.second.task->buffered() > 0;
  });
}

std::size_t task_manager::buffered() const {
  std::size_t n = 0;
  for (const auto& [id, e] : _tasks) n += e.task->buffered();
  return n;
}

task_counters task_manager::counters() const {
  task_counters c = _closed_counters;
  for (const auto& [id, e] : _tasks) {
    c.processed += e.task->counters().processed;
    c.skipped += e.task->counters().skipped;
    c.dead_lettered += e.task->counters().dead_lettered;
    c.punctuations += e.task->counters().punctuations;
    c.late += e.task->counters().late;
    c.enforced += e.task->counters().enforced;
  }
  return c;
}

}  // namespace rill::runtime
