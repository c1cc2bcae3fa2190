#include "src/runtime/task_stores.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include <rill/errors.hpp>

#include "state/logged_store.hpp"
#include "state/memory_store.hpp"
#include "state/segmented_store.hpp"

namespace rill::runtime {

namespace {

// Changelog records go out through the task's record sender, like any sink's.
class sender_changelog final : public state::changelog_writer {
 public:
  sender_changelog(detail::record_sender& sender, task_time time) : _sender(sender), _time(time) {}
  void write(const std::string& topic, std::int32_t partition, bytes_view key,
             std::optional<bytes_view> value) override {
    _sender.send(topic, partition, key, value, _no_headers, _time.record_time());
  }

 private:
  detail::record_sender& _sender;
  task_time _time;
  const rill::headers _no_headers;
};

// Window and session stores are segmented by the time their keys carry.
std::optional<state::segmentation> segmentation_of(const detail::store_spec& spec) {
  state::segmentation s;
  switch (spec.kind) {
    case detail::store_kind::key_value:
      return std::nullopt;
    case detail::store_kind::window_by_key:
      s.where = state::time_at::end;
      break;
    case detail::store_kind::window_by_time:
      s.where = state::time_at::start;
      break;
    case detail::store_kind::window_by_key_dup:  // [key][start][sequence]
      s.where = state::time_at::before_end;
      break;
    case detail::store_kind::session:
      s.where = state::time_at::before_end;
      break;
  }
  s.retention_ms = spec.retention_ms;
  s.segment_ms = state::default_segment_ms(spec.retention_ms);
  return s;
}

}  // namespace

struct task_stores::slot final : detail::store_access {
  const detail::compiled_store* def = nullptr;
  std::string changelog_name;  // resolved
  std::unique_ptr<state::memory_store> memory;
  detail::kv_store* inner = nullptr;                  // RocksDB column family or memory
  std::unique_ptr<state::segmented_store> segmented;  // window and session stores
  std::unique_ptr<sender_changelog> writer;
  std::unique_ptr<state::logged_store> logged;
  std::unique_ptr<state::record_cache::store> cache;
  std::unique_ptr<metered_store> meter;  // when metrics are recorded
  store_stats stats;
  detail::kv_store* top = nullptr;
  std::unique_ptr<state_store> facade;
  state::task_db* db = nullptr;    // persistent stores
  std::int64_t restored_next = 0;  // the changelog offset restoration reached
  state::restore_chunk staged;     // bulk restoration's records not yet ingested

  detail::kv_store& bytes_store() override { return *top; }
  bool cached() const override { return cache != nullptr; }
  void set_flush_listener(detail::cache_flush_listener* listener) override {
    if (cache) cache->set_listener(listener);
  }
  void write(bytes_view key, std::optional<bytes_view> value, const rill::headers& h) override {
    if (!cache) return store_access::write(key, value, h);  // through `top`, metered or not
    if (meter)
      meter->metered_write([&] { cache->write(key, value, h); });
    else
      cache->write(key, value, h);
  }
  const std::string& changelog_topic() const override { return changelog_name; }
  std::uint64_t sequence_start() override {
    if (!def->spec.logging) return db != nullptr ? db->latest_sequence() + 1 : 0;
    std::int64_t next = restored_next;
    if (db != nullptr)
      next = std::max(next, db->checkpoint(def->spec.name).value_or(detail::next_offset{}).value);
    return static_cast<std::uint64_t>(next);
  }
};

task_stores::task_stores(task_id id, const detail::compiled_topology& topology,
                         const state_services& services, detail::record_sender& sender,
                         task_time time, bool metered)
    : _id(id) {
  std::vector<std::string> persistent;
  std::vector<const detail::compiled_store*> mine;
  for (const auto& st : topology.stores) {
    if (st.subtopology != id.subtopology) continue;
    mine.push_back(&st);
    if (st.spec.type == store_type::rocksdb) persistent.push_back(st.spec.name);
  }
  if (mine.empty()) return;
  if (!persistent.empty()) {
    if (services.directory == nullptr || services.rocksdb == nullptr) {
      throw error(fmt::format("task {}: RocksDB stores need a state directory", id.to_string()));
    }
    _lock = services.directory->try_lock(id.to_string());
    if (!_lock) {
      throw task_locked(
          fmt::format("task {}: state directory {}/{} is held by another instance or thread",
                      id.to_string(), services.directory->root(), id.to_string()));
    }
    _db =
        std::make_unique<state::task_db>(*services.rocksdb, _lock->dir() + "/rocksdb", persistent);
  }
  _timed = services.metrics >= recording::debug && metered;
  for (const detail::compiled_store* st : mine) {
    auto s = std::make_unique<slot>();
    s->def = st;
    s->changelog_name = detail::resolve_topic(services.application_id, st->changelog);
    if (st->spec.type == store_type::rocksdb) {
      s->db = _db.get();
      s->inner = &_db->store(st->spec.name);
    } else {
      s->memory = std::make_unique<state::memory_store>(st->spec.name);
      s->inner = s->memory.get();
    }
    s->top = s->inner;
    if (auto seg = segmentation_of(st->spec)) {
      s->segmented = std::make_unique<state::segmented_store>(*s->top, *seg);
      s->top = s->segmented.get();
    }
    if (st->spec.logging) {
      s->writer = std::make_unique<sender_changelog>(sender, time);
      s->logged = std::make_unique<state::logged_store>(*s->top, s->changelog_name, id.partition,
                                                        *s->writer);
      s->top = s->logged.get();
    }
    // A cache of no bytes would flush every write the moment it is made, reading the old
    // value once more to do it: with statestore.cache.max.bytes=0 the store has no cache
    // layer, and every update goes downstream as it happens (as in Kafka Streams).
    if (st->spec.caching && services.cache != nullptr && services.cache->max_bytes() > 0) {
      s->cache = services.cache->wrap(*s->top, [time] { return time.record_time(); });
      s->top = s->cache.get();
    }
    if (services.metrics != recording::off && metered) {
      s->stats.store = st->spec.name;
      s->stats.timed = _timed;
      s->meter = std::make_unique<metered_store>(*s->top, s->stats, _timed, time);
      s->top = s->meter.get();
    }
    s->facade = st->spec.make_facade(*s);
    _slots.push_back(std::move(s));
  }
}

task_stores::~task_stores() {
  close(false);
}

state_store* task_stores::facade(std::string_view name) {
  for (auto& s : _slots) {
    if (s->def->spec.name == name) return s->facade.get();
  }
  return nullptr;
}

std::vector<task_stores::changelog> task_stores::changelogs() const {
  std::vector<changelog> out;
  for (const auto& s : _slots) {
    if (!s->def->spec.logging) continue;
    changelog c;
    c.store = s->def->spec.name;
    c.partition = {s->changelog_name, _id.partition};
    c.persistent = s->def->spec.type == store_type::rocksdb;
    if (c.persistent) c.start = _db->checkpoint(c.store).value_or(detail::next_offset{}).value;
    if (auto seg = segmentation_of(s->def->spec))
      c.min_key_bytes = seg->where == state::time_at::before_end ? 16 : 8;
    out.push_back(std::move(c));
  }
  return out;
}

void task_stores::restore(const std::string& store, const state::task_db::restore_batch& batch,
                          detail::next_offset next) {
  for (auto& s : _slots) {
    if (s->def->spec.name != store) continue;
    s->restored_next = std::max(s->restored_next, next.value);
    if (s->memory) {
      detail::kv_store& target =
          s->segmented ? static_cast<detail::kv_store&>(*s->segmented) : *s->memory;
      for (const auto& [key, value] : batch.records) {
        if (value)
          target.put(key, *value);
        else
          target.remove(key);
      }
    } else if (s->segmented) {
      // Changelog keys are logical; the database keeps them under their segment, and records
      // already past retention are not restored.
      std::vector<bytes> keys;
      keys.reserve(batch.records.size());
      state::task_db::restore_batch physical;
      physical.records.reserve(batch.records.size());
      for (const auto& [key, value] : batch.records) {
        keys.push_back(s->segmented->physical(key));
        if (s->segmented->time_of(key) < s->segmented->live_from()) continue;
        physical.records.emplace_back(bytes_view(keys.back()), value);
      }
      _db->restore(store, physical, next);
    } else {
      _db->restore(store, batch, next);
    }
    return;
  }
}

std::size_t task_stores::stage(const std::string& store,
                               const state::task_db::restore_batch& batch) {
  for (auto& s : _slots) {
    if (s->def->spec.name != store || s->db == nullptr) continue;
    for (const auto& [key, value] : batch.records) {
      if (!s->segmented) {
        s->staged.add(key, value);
        continue;
      }
      // As restore() does: physical keys, and nothing already past retention.
      const bytes physical = s->segmented->physical(key);
      if (s->segmented->time_of(key) < s->segmented->live_from()) continue;
      s->staged.add(physical, value);
    }
    return s->staged.bytes();
  }
  throw error(fmt::format("task {}: no RocksDB store '{}' to restore", _id.to_string(), store));
}

void task_stores::ingest(const std::string& store, detail::next_offset next) {
  for (auto& s : _slots) {
    if (s->def->spec.name != store || s->db == nullptr) continue;
    s->restored_next = std::max(s->restored_next, next.value);
    _db->ingest(store, s->staged, next);
    return;
  }
}

void task_stores::wipe(const std::string& store) {
  for (auto& s : _slots) {
    if (s->def->spec.name != store) continue;
    if (s->memory)
      s->memory->clear();
    else
      _db->wipe(store);
  }
}

void task_stores::flush_caches() {
  for (auto& s : _slots) {
    if (!s->cache) continue;
    if (s->meter)
      s->meter->timed_flush([&] { s->cache->flush(); });
    else
      s->cache->flush();
  }
}

void task_stores::commit(const delivered_offsets& delivered) {
  if (!_db) return;
  std::map<std::string, detail::next_offset> offsets;
  for (const auto& s : _slots) {
    if (!s->def->spec.logging || s->memory) continue;
    if (auto last = delivered({s->changelog_name, _id.partition}))
      offsets[s->def->spec.name] = last->next();
  }
  if (!_timed) return _db->commit(offsets);
  // The task's RocksDB stores write in one batch: each one's flush includes it.
  const auto started = std::chrono::steady_clock::now();
  _db->commit(offsets);
  const std::int64_t took = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now() - started)
                                .count();
  for (auto& s : _slots)
    if (s->meter && s->db != nullptr) s->stats.flush.add(took);
}

std::vector<store_stats> task_stores::stats() const {
  std::vector<store_stats> out;
  for (const auto& s : _slots)
    if (s->meter) out.push_back(s->stats);
  return out;
}

void task_stores::restart_recent_max() {
  for (auto& s : _slots) {
    for (latency_stat* l :
         {&s->stats.put, &s->stats.get, &s->stats.range, &s->stats.flush, &s->stats.e2e})
      l->recent_max = 0;
  }
}

void task_stores::close(bool clean) {
  if (_closed) return;
  _closed = true;
  for (auto& s : _slots) {
    if (s->cache) s->cache->clear();
  }
  if (_db) {
    if (clean) {
      _db->flush();
    } else {
      _db->discard_pending();
    }
  }
  _slots.clear();
  _db.reset();
  _lock.reset();
}

}  // namespace rill::runtime
