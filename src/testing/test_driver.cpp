// The test driver: the runtime's stream tasks, fed and drained synchronously.
#include <rill/testing/test_driver.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "src/log/log.hpp"
#include "src/runtime/global_state.hpp"
#include "src/runtime/internal_topics.hpp"
#include "src/runtime/partitioner.hpp"
#include "src/runtime/stream_task.hpp"
#include "state/record_cache.hpp"
#include "state/state_directory.hpp"
#include "state/task_db.hpp"
#include "topology/compiled.hpp"

namespace rill::testing {

namespace {

struct owned_bytes {
  std::optional<bytes> key;
  std::optional<bytes> value;
};

}  // namespace

struct test_driver::impl final : detail::record_sender {
  const detail::compiled_topology& topo;
  topology keep_alive;
  std::string application_id;
  std::map<std::string, std::int32_t, std::less<>> partitions;  // resolved topic -> count
  std::map<std::string, std::vector<std::int64_t>, std::less<>> next_offset;
  std::map<std::string, std::uint64_t, std::less<>> round_robin;
  std::map<std::string, std::deque<captured_record>, std::less<>> outputs;
  // resolved source topic -> subtopology
  std::map<std::string, int, std::less<>> readers;
  std::set<std::string, std::less<>> internal_names;         // resolved
  std::vector<std::unique_ptr<runtime::stream_task>> tasks;  // by (subtopology, partition)
  timestamp_ms now;
  // State, when the topology has stores: a private directory unless state.dir is set.
  bool owned_state_dir = false;
  std::unique_ptr<state::state_directory> directory;
  std::unique_ptr<state::rocksdb_env> rocksdb;
  std::unique_ptr<state::record_cache> cache;
  // Global tables: a record piped into a global topic goes straight into its store, as the
  // global thread of a running app would put it there.
  runtime::global_stores globals;
  static inline std::atomic<int> driver_counter{0};

  impl(const topology& t, driver_options& o)
      : topo(t.compiled()),
        keep_alive(t),
        application_id(o.config.get(cfg::application_id).value_or("test-driver")),
        now(o.initial_wall_clock),
        globals(topo) {
    for (const auto& [topic, n] : o.partitions) {
      if (n < 1)
        throw error(fmt::format("test driver: topic '{}' needs at least 1 partition", topic));
      partitions[topic] = n;
    }
    auto internal = runtime::internal_partition_counts(
        topo, application_id,
        [this](const std::string& t) { return std::optional<std::int32_t>(count(t)); });
    partitions.insert(internal.begin(), internal.end());
    runtime::check_copartitioning(topo, application_id,
                                  [this](const std::string& t) { return count(t); });
    for (const auto& t : topo.internal_topics) {
      internal_names.insert(detail::resolve_topic(application_id, {t.name, true}));
    }
    for (const auto& sub : topo.subtopologies) {
      for (const auto& t : sub.source_topics)
        readers[detail::resolve_topic(application_id, t)] = sub.id;
    }

    runtime::task_settings settings;
    settings.application_id = application_id;
    settings.max_task_idle_ms = -1;
    settings.errors = runtime::error_policy::from_config(o.config);
    settings.windows = runtime::window_policy::from_config(o.config);
    settings.errors.custom_deserialization = o.deserialization_handler;
    settings.errors.custom_processing = o.processing_handler;
    settings.trace = o.trace;
    settings.wall_clock = [this] { return now; };
    settings.log = log::logger().with("app", application_id);

    for (const auto& sub : topo.subtopologies) {
      const std::int32_t n = runtime::task_count(sub, application_id,
                                                 [this](const std::string& t) { return count(t); });
      for (std::int32_t p = 0; p < n; ++p) {
        tasks.push_back(
            std::make_unique<runtime::stream_task>(task_id{sub.id, p}, topo, settings, *this));
      }
    }
    if (!topo.stores.empty()) {
      owned_state_dir = !o.config.contains(cfg::state_dir);
      const std::string root =
          owned_state_dir
              ? (std::filesystem::temp_directory_path() /
                 fmt::format("rill-test-driver-{}-{}", ::getpid(), driver_counter.fetch_add(1)))
                    .string()
              : o.config.get_string(cfg::state_dir) + "/" + application_id;
      if (owned_state_dir) std::filesystem::remove_all(root);
      directory = std::make_unique<state::state_directory>(root);
      rocksdb = std::make_unique<state::rocksdb_env>(
          static_cast<std::size_t>(o.config.get_int(cfg::rocksdb_memory_bytes)));
      cache = std::make_unique<state::record_cache>(
          static_cast<std::size_t>(o.config.get_int(cfg::cache_max_bytes)));
    }
    runtime::state_services services{application_id, directory.get(), rocksdb.get(), cache.get(),
                                     &globals};
    for (auto& task : tasks) {
      if (!task->open_state(services)) {
        throw error(
            fmt::format("test driver: the state directory of task {} is held by someone else",
                        task->id().to_string()));
      }
      task->initialize();
    }
  }

  ~impl() override {
    for (auto& task : tasks) task->close(true);
    tasks.clear();
    if (owned_state_dir && directory) {
      std::error_code ec;
      std::filesystem::remove_all(directory->root(), ec);
    }
  }

  std::int32_t count(std::string_view topic) const {
    auto it = partitions.find(topic);
    return it == partitions.end() ? 1 : it->second;
  }

  std::int32_t partition_count(std::string_view topic) override { return count(topic); }

  void send(std::string_view topic, std::int32_t partition, std::optional<bytes_view> key,
            std::optional<bytes_view> value, const rill::headers& headers,
            timestamp_ms timestamp) override {
    std::optional<bytes> k;
    std::optional<bytes> v;
    if (key) k.emplace(key->begin(), key->end());
    if (value) v.emplace(value->begin(), value->end());
    write(topic, partition, std::move(k), std::move(v), headers, timestamp);
  }

  void write(std::string_view topic, std::int32_t partition, std::optional<bytes> key,
             std::optional<bytes> value, rill::headers headers, timestamp_ms timestamp) {
    const std::int32_t n = count(topic);
    if (partition >= n) {
      throw error(fmt::format("topic '{}' has {} partition(s); partition {} does not exist", topic,
                              n, partition));
    }
    if (partition < 0) {
      if (key) {
        partition = runtime::default_partition(*key, n);
      } else {
        auto& rr = entry(round_robin, topic);
        partition = static_cast<std::int32_t>(rr++ % static_cast<std::uint64_t>(n));
      }
    }
    auto& offsets = entry(next_offset, topic);
    offsets.resize(static_cast<std::size_t>(n), 0);
    const std::int64_t offset = offsets[static_cast<std::size_t>(partition)]++;

    if (globals.reads(topic)) {
      globals.apply(topic, key ? std::optional<bytes_view>(*key) : std::nullopt,
                    value ? std::optional<bytes_view>(*value) : std::nullopt);
      return;
    }
    // Everything but the repartition topics the driver reads back is output (changelogs too).
    const bool captured = !(is_internal(topic) && readers.contains(topic));
    if (auto r = readers.find(topic); r != readers.end()) {
      runtime::stream_task* task = find_task({r->second, partition});
      if (task != nullptr) {
        auto* owned = captured ? new owned_bytes{key, value}
                               : new owned_bytes{std::move(key), std::move(value)};
        kafka::consumed_record rec;
        rec.owner = kafka::consumed_record::owner_ptr(
            owned, [](void* p) { delete static_cast<owned_bytes*>(p); });
        rec.raw.offset = offset;
        rec.raw.timestamp = timestamp;
        if (owned->key) rec.raw.key = bytes_view(*owned->key);
        if (owned->value) rec.raw.value = bytes_view(*owned->value);
        rec.raw.headers = headers;
        int input = task->input_index(topic, partition);
        task->add_record(static_cast<std::size_t>(input), std::move(rec));
      }
    }
    if (captured) {
      entry(outputs, topic)
          .push_back(
              {std::move(key), std::move(value), std::move(headers), timestamp, partition, offset});
    }
  }

  bool is_internal(std::string_view topic) const { return internal_names.contains(topic); }

  // map[topic] without making a std::string when the entry exists.
  template <class Map>
  static typename Map::mapped_type& entry(Map& m, std::string_view topic) {
    auto it = m.find(topic);
    if (it == m.end()) it = m.emplace(std::string(topic), typename Map::mapped_type{}).first;
    return it->second;
  }

  runtime::stream_task* find_task(task_id id) const {
    for (const auto& t : tasks) {
      if (t->id() == id) return t.get();
    }
    return nullptr;
  }

  // Processes everything queued, including what processing writes to repartition topics,
  // then commits as a stream thread would: caches flush (forwarding what they held, which
  // may queue more records), then the stores write their batches with changelog offsets.
  void drain_and_commit() {
    for (bool progress = true; progress;) {
      progress = false;
      for (auto& task : tasks) {
        while (task->ready(now, true)) {
          task->process_next();
          task->punctuate_stream_time();
          progress = true;
        }
      }
      if (progress) continue;
      const std::size_t before = total_buffered();
      for (auto& task : tasks) task->flush_caches();
      progress = total_buffered() != before;
    }
    for (auto& task : tasks) {
      task->commit_state(
          [this](const kafka::topic_partition& tp) -> std::optional<detail::record_offset> {
            auto it = next_offset.find(tp.topic);
            if (it == next_offset.end() ||
                static_cast<std::size_t>(tp.partition) >= it->second.size() ||
                it->second[static_cast<std::size_t>(tp.partition)] == 0) {
              return std::nullopt;
            }
            return detail::record_offset{it->second[static_cast<std::size_t>(tp.partition)] - 1};
          });
      task->mark_committed();
    }
  }

  std::size_t total_buffered() const {
    std::size_t n = 0;
    for (const auto& task : tasks) n += task->buffered();
    return n;
  }
};

test_driver::test_driver(const topology& t, driver_options options)
    : _impl(std::make_unique<impl>(t, options)) {}

test_driver::~test_driver() = default;

void test_driver::check_input(std::string_view topic) const {
  if (_impl->readers.find(topic) != _impl->readers.end() || _impl->globals.reads(topic)) return;
  std::vector<std::string> names;
  for (const auto& [name, sub] : _impl->readers) names.push_back(name);
  for (const auto& name : _impl->globals.topics()) names.push_back(name);
  throw error(fmt::format("topic '{}' is not read by this topology; it reads [{}]", topic,
                          fmt::join(names, ", ")));
}

void test_driver::pipe_raw(std::string_view topic, std::int32_t partition, std::optional<bytes> key,
                           std::optional<bytes> value, rill::headers headers,
                           timestamp_ms timestamp) {
  check_input(topic);
  _impl->write(topic, partition, std::move(key), std::move(value), std::move(headers), timestamp);
  _impl->drain_and_commit();
}

std::deque<captured_record>& test_driver::captured(std::string_view topic) {
  return impl::entry(_impl->outputs, topic);
}

void test_driver::advance_wall_clock(std::chrono::milliseconds by) {
  if (by.count() < 0) throw error("advance_wall_clock: time cannot go backwards");
  _impl->now += by.count();
  for (auto& task : _impl->tasks) task->punctuate_wall_clock(_impl->now);
  _impl->drain_and_commit();
}

timestamp_ms test_driver::wall_clock() const {
  return _impl->now;
}

timestamp_ms test_driver::stream_time(task_id task) const {
  runtime::stream_task* t = _impl->find_task(task);
  if (t == nullptr) throw error(fmt::format("test driver has no task {}", task.to_string()));
  return t->stream_time();
}

timestamp_ms test_driver::stream_time() const {
  timestamp_ms out = -1;
  for (const auto& t : _impl->tasks) out = std::max(out, t->stream_time());
  return out;
}

std::vector<task_id> test_driver::tasks() const {
  std::vector<task_id> out;
  for (const auto& t : _impl->tasks) out.push_back(t->id());
  return out;
}

driver_counters test_driver::counters() const {
  driver_counters c;
  for (const auto& t : _impl->tasks) {
    c.processed += t->counters().processed;
    c.skipped += t->counters().skipped;
    c.dead_lettered += t->counters().dead_lettered;
    c.punctuations += t->counters().punctuations;
    c.late += t->counters().late;
  }
  return c;
}

std::int32_t test_driver::partition_count(std::string_view topic) const {
  return _impl->count(topic);
}

namespace {

// The driver's tasks' stores, for queries. Single-threaded, as the driver is.
class driver_stores final : public detail::store_source {
 public:
  using tasks_fn = std::function<const std::vector<std::unique_ptr<runtime::stream_task>>&()>;
  driver_stores(const detail::compiled_topology& topo, const runtime::global_stores& globals,
                tasks_fn tasks)
      : _topo(topo), _globals(globals), _tasks(std::move(tasks)) {}

  void for_each(const std::string& store, const std::function<void(state_store&)>& f) override {
    if (_topo.global(store) != nullptr) {
      auto facade = _globals.facade(store);
      f(*facade);
      return;
    }
    if (_topo.store(store) == nullptr) {
      std::vector<std::string> names;
      for (const auto& s : _topo.stores) names.push_back(s.spec.name);
      for (const auto& g : _topo.globals) names.push_back(g.store.name);
      throw invalid_store_error(
          fmt::format("no store named '{}'; the topology has [{}]", store, fmt::join(names, ", ")));
    }
    for (const auto& task : _tasks()) {
      if (task->stores() == nullptr) continue;
      if (state_store* s = task->stores()->facade(store)) f(*s);
    }
  }

 private:
  const detail::compiled_topology& _topo;
  const runtime::global_stores& _globals;
  tasks_fn _tasks;
};

}  // namespace

std::shared_ptr<detail::store_source> test_driver::store_source() {
  impl* i = _impl.get();
  return std::make_shared<driver_stores>(
      i->topo, i->globals, [i]() -> const auto& { return i->tasks; });
}

std::string test_driver::internal_topic_name(std::string_view name) const {
  return detail::resolve_topic(_impl->application_id, {std::string(name), true});
}

}  // namespace rill::testing
